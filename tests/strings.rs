//! `strings` against GNU strings (binutils 2.40), captured beside the fixtures by
//! `tests/fixtures/capture-strings.sh`: every ASCII run (`-a -n 4`) and UTF-16LE run (`-el`) that
//! lies inside one section is found at the same file offset with the same text, and every string
//! found that does not touch its section's ends is one of GNU's. Then the references: the
//! auto-import sample's printf format is referenced by the instruction that loads it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture_bytes, fixture_path};
use linkscope::analysis::strings::{self, Encoding};

/// `(file offset, text)` of a capture.
fn capture(rel: &str) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(fixture_path(rel)).unwrap();
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (off, s) = l.split_once(' ')?;
            Some((off.parse().ok()?, s.to_string()))
        })
        .collect()
}

#[test]
fn strings_agree_with_gnu_strings() {
    for rel in
        ["mingw64/autoimport.exe", "mingw64/data.dll", "msvc64/data.dll", "msvc64/features.dll", "elf/libdata.so"]
    {
        let data = fixture_bytes(rel);
        let bin = linkscope::load(&data).unwrap();
        let found = strings::find(&bin, &data, 4);
        let sections: Vec<(u64, u64)> = bin
            .sections
            .iter()
            .filter(|s| s.file_size > 0)
            .map(|s| (s.file_offset, s.file_offset + s.file_size))
            .collect();
        for (enc, suffix, unit) in [(Encoding::Ascii, "strings", 1), (Encoding::Utf16Le, "strings-el", 2)] {
            let gnu = capture(&format!("{rel}.{suffix}"));
            let ours: Vec<(u64, String)> =
                found.iter().filter(|f| f.encoding() == enc).map(|f| (f.offset, f.text(&data))).collect();
            let mut compared = 0;
            for (off, text) in &gnu {
                let end = off + (text.len() * unit) as u64;
                if sections.iter().any(|&(s, e)| s <= *off && end <= e) {
                    assert!(ours.contains(&(*off, text.clone())), "{rel} {suffix}: GNU's {off} {text:?} not found");
                    compared += 1;
                }
            }
            for f in found.iter().filter(|f| f.encoding() == enc) {
                let sec = &bin.sections[f.section() as usize];
                let at = f.section_offset(&bin);
                if at > 0 && at + u64::from(f.len) < sec.file_size {
                    assert!(
                        gnu.contains(&(f.offset, f.text(&data))),
                        "{rel} {suffix}: {} {:?} is not GNU's",
                        f.offset,
                        f.text(&data)
                    );
                }
            }
            if enc == Encoding::Ascii {
                assert!(compared >= 5, "{rel}: only {compared} strings compared");
            }
        }
    }
}

#[test]
fn a_string_is_referenced_by_the_code_that_loads_it() {
    let rel = "mingw64/autoimport.exe";
    let data = fixture_bytes(rel);
    let bin = linkscope::load(&data).unwrap();
    let index = linkscope::model::index::Index::new(&bin);
    let found = strings::find(&bin, &data, 4);
    let k = found.iter().position(|f| f.text(&data).starts_with("arr[0]=%d arr[3]=%d")).expect("autoimport.c's format");
    let o = linkscope::analysis::RefOptions { collect: true, ..Default::default() };
    let refs = linkscope::analysis::scan_refs(&bin, &data, &index, &o);
    let hits = strings::referenced(&strings::by_rva(&bin, &found), &refs.sites);
    let sites: Vec<u64> = hits.iter().filter(|h| h.0 as usize == k).map(|h| h.1).collect();
    // One `lea rcx, [rip + …]` in main loads it.
    assert_eq!(sites.len(), 1, "{sites:x?}");
    let s = refs.sites.iter().find(|s| s.site_rva == sites[0]).unwrap();
    assert_eq!(s.target_rva, found[k].rva(&bin));
    assert_eq!(s.mode, linkscope::analysis::Mode::RipRelative);
}
