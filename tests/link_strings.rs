//! lld's tail merging of string literals, against lld-link 14 (`tests/fixtures/link/msvc*/strings`,
//! recorded by `build.sh strings`): with ICF on (or `/opt:lldtailmerge`) every live `??_C@`
//! literal lies in one merged chunk of `.rdata`, and the RVA the simulation gives it holds that
//! literal's bytes in the real image — sharing the tail of a longer one where lld shares it.
//! `link --compare` counts the merged chunk through the output section's size (the map lists it
//! under no object); without tail merging the literals are ordinary chunks again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use linkscope::link::{self, compare, map, Flavor, Report};

fn simulate(dir: &Path, name: &str) -> Report {
    let text = std::fs::read_to_string(dir.join(format!("{name}.cmd"))).unwrap();
    let args: Vec<String> = text.lines().skip(1).filter(|l| !l.is_empty()).map(str::to_string).collect();
    let read = |p: &str| std::fs::read(dir.join(p));
    link::simulate(Flavor::LldLink, &args, &read).unwrap()
}

/// The bytes of the image at `rva`.
fn image_bytes(image: &[u8], rva: u64, len: u64) -> Vec<u8> {
    let bin = linkscope::formats::load(image).unwrap();
    let s = bin.sections.iter().find(|s| s.rva <= rva && rva < s.rva + s.virtual_size).unwrap();
    let at = (s.file_offset + rva - s.rva) as usize;
    image[at..at + len as usize].to_vec()
}

#[test]
fn merged_literals_lie_where_lld_put_them_and_compare_without_differences() {
    for bits in ["64", "32"] {
        let dir = common::fixture_path(&format!("link/msvc{bits}/strings"));
        for name in ["strings-default", "strings-swapped", "strings-noref-icf", "strings-tail-noicf"] {
            let rep = simulate(&dir, name);
            let image = std::fs::read(dir.join(format!("{name}.exe"))).unwrap();
            let merged: Vec<_> = rep.placements.iter().filter(|p| p.merged).collect();
            assert!(merged.len() >= 8, "{bits}/{name}: {} merged literals", merged.len());
            assert!(merged.iter().all(|p| p.comdat.as_deref().is_some_and(|k| k.starts_with("??_C@"))));
            // Each literal's bytes are at its RVA in the image.
            for p in &merged {
                let obj = std::fs::read(dir.join(&p.file)).unwrap();
                let bin = linkscope::formats::load(&obj).unwrap();
                let want = bin.sections[p.section as usize - 1].bytes(&obj).to_vec();
                assert_eq!(image_bytes(&image, p.rva, p.size), want, "{bits}/{name}: {}", p.comdat.as_deref().unwrap());
            }
            // "beta" ends "alpha beta", "ta" ends both: lld shares their bytes.
            let shared =
                merged.iter().filter(|p| merged.iter().any(|q| q.rva < p.rva && p.rva < q.rva + q.size)).count();
            assert!(shared >= 2, "{bits}/{name}: {shared} literals share another's tail");
            // One merged chunk per alignment (1 for char, 2 for wchar_t), in .rdata.
            let chunks: Vec<_> =
                rep.synthetic.iter().filter(|s| s.name.starts_with("merged string literals")).collect();
            assert_eq!(chunks.len(), 2, "{bits}/{name}");
            assert!(chunks.iter().all(|c| c.output_section == ".rdata"));
            let m = map::parse(&std::fs::read_to_string(dir.join(format!("{name}.lldmap"))).unwrap()).unwrap();
            let cmp = compare::compare(&rep, &image, Some(&m)).unwrap();
            assert!(cmp.differences.is_empty(), "{bits}/{name}: {:?}", cmp.differences);
        }
        for name in ["strings-noicf", "strings-notail"] {
            let rep = simulate(&dir, name);
            assert!(rep.placements.iter().all(|p| !p.merged), "{bits}/{name}");
            assert!(rep.placements.iter().any(|p| p.comdat.as_deref().is_some_and(|k| k.starts_with("??_C@"))));
        }
    }
}
