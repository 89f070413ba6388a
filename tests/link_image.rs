//! The simulated image against the real linkers' images: every recorded link that wrote an
//! image is simulated with [`link::simulate_image`], and every output section the writer claims
//! to know in full must hold the bytes the linker wrote (up to its virtual size); the sections it
//! does not know are named with a cause. Then the auto-import links end to end: the written
//! image's pseudo-relocation list, imports and base relocations read back equal the real image's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use linkscope::link::{self, image::Image, Flavor};
use linkscope::model::Binary;

/// A recorded link: directory, name, linker, arguments.
fn case(cmd: &Path) -> (PathBuf, String, Flavor, Vec<String>) {
    let text = std::fs::read_to_string(cmd).unwrap();
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let flavor = match lines.next().unwrap() {
        "lld-link" => Flavor::LldLink,
        "ld.lld" => Flavor::LldMingw,
        _ => Flavor::GnuLd,
    };
    let name = cmd.file_stem().unwrap().to_string_lossy().into_owned();
    (cmd.parent().unwrap().to_path_buf(), name, flavor, lines.map(str::to_string).collect())
}

/// The gcc driver's recorded `collect2` lines (Debian's CRT and libraries, found by `-L` / `-l`),
/// when `gcc-mingw-w64` is installed (each skipped with a message otherwise).
fn driver_lines() -> Vec<(PathBuf, String, Flavor, Vec<String>)> {
    let mut out = Vec::new();
    for (case, probe) in [
        ("driver64", "/usr/x86_64-w64-mingw32/lib/libkernel32.a"),
        ("gnuauto64", "/usr/x86_64-w64-mingw32/lib/libkernel32.a"),
        ("gnuauto32", "/usr/i686-w64-mingw32/lib/libkernel32.a"),
    ] {
        if !Path::new(probe).exists() {
            eprintln!("skipped {case}/gnu-gcc: {probe} is absent (apt-get install gcc-mingw-w64)");
            continue;
        }
        let dir = common::fixture_path(&format!("link/{case}"));
        let line = std::fs::read_to_string(dir.join("gnu-gcc.line")).unwrap();
        let cmd = link::command::read(&link::args::split_command_line(&line));
        out.push((dir, "gnu-gcc".to_string(), Flavor::GnuLd, cmd.args));
    }
    out
}

/// The image a recorded link wrote, when it wrote one.
fn real_image(dir: &Path, name: &str) -> Option<PathBuf> {
    ["exe", "dll"].iter().map(|e| dir.join(format!("{name}.{e}"))).find(|p| p.exists())
}

fn simulate(dir: &Path, flavor: Flavor, args: &[String]) -> Image {
    let read = |p: &str| std::fs::read(dir.join(p));
    let env = link::search::Environment::default();
    let (_, image) = link::simulate_image(flavor, args, &env, &read, 2).unwrap();
    image.expect("the link runs to the end").unwrap()
}

fn section_bytes<'a>(bin: &Binary, data: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let s = bin.sections.iter().find(|s| s.name == name)?;
    let n = s.virtual_size.min(s.file_size) as usize;
    data.get(s.file_offset as usize..s.file_offset as usize + n)
}

#[test]
fn every_section_the_writer_knows_equals_the_linkers() {
    let (mut same, mut unknown, mut directories, mut differ) = (0, 0, 0, Vec::new());
    let mut causes = std::collections::BTreeMap::<String, usize>::new();
    let mut cases: Vec<_> = common::link_cmd_files().iter().map(|c| case(c)).collect();
    cases.extend(driver_lines());
    for (dir, name, flavor, args) in cases {
        let Some(real_path) = real_image(&dir, &name) else { continue };
        let real = std::fs::read(&real_path).unwrap();
        let Ok(real_bin) = linkscope::formats::load(&real) else { continue };
        let read = |p: &str| std::fs::read(dir.join(p));
        let env = link::search::Environment::default();
        let Ok((rep, Some(Ok(img)))) = link::simulate_image(flavor, &args, &env, &read, 2) else { continue };
        if rep.exit_code() != 0 {
            continue;
        }
        let sim = linkscope::formats::load(&img.bytes).unwrap_or_else(|e| panic!("{name}: {e} {:?}", img.unknown));
        // The directories the loader and the patch engine read: exports, imports, exceptions,
        // base relocations, debug, TLS, IAT, delay imports.
        let dirs = |b: &Binary| {
            let pe = b.pe.as_ref().unwrap();
            let d = pe.data_directories.iter().filter(|d| [0, 1, 3, 5, 6, 9, 12, 13].contains(&d.index));
            d.map(|d| (d.index, d.rva, d.size)).collect::<Vec<_>>()
        };
        // The section table (names cut to the 8 bytes written) and the entry point too.
        let table = |b: &Binary| {
            let t = b.sections.iter().map(|s| {
                let name: String = s.name.chars().take(8).collect();
                (name, s.rva, s.virtual_size, s.file_offset, s.file_size, s.flags)
            });
            (t.collect::<Vec<_>>(), b.entry_rva, b.image_base)
        };
        assert_eq!(table(&sim), table(&real_bin), "{name}");
        if dirs(&sim) == dirs(&real_bin) {
            directories += 1;
        } else {
            differ.push(format!("{name}: data directories {:x?} / {:x?}", dirs(&real_bin), dirs(&sim)));
        }
        for s in &real_bin.sections {
            let rel = format!("{}/{name} {}", dir.file_name().unwrap().to_string_lossy(), s.name);
            let holes: Vec<_> = img.unknown.iter().filter(|u| u.section == s.name).collect();
            if holes.iter().any(|u| u.why.contains("not written") || u.why.contains("not modelled")) {
                unknown += 1;
            }
            for u in &holes {
                *causes.entry(u.why.split(": ").last().unwrap_or(&u.why).to_string()).or_default() += 1;
            }
            let a = section_bytes(&real_bin, &real, &s.name);
            let b = section_bytes(&sim, &img.bytes, &s.name.chars().take(8).collect::<String>());
            let (Some(a), Some(b)) = (a, b) else {
                differ.push(format!("{rel}: missing"));
                continue;
            };
            // The unknown bytes are not compared.
            let (mut a, mut b) = (a.to_vec(), b.to_vec());
            for u in &holes {
                let lo = (u.rva - s.rva) as usize;
                let hi = (lo + u.size as usize).min(a.len()).min(b.len());
                for v in [&mut a, &mut b] {
                    if let Some(x) = v.get_mut(lo..hi) {
                        x.fill(0);
                    }
                }
            }
            if a == b {
                same += 1;
            } else {
                let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
                differ.push(format!("{rel}: first difference at +0x{at:x} (sizes {:#x}/{:#x})", a.len(), b.len()));
            }
        }
    }
    println!(
        "{same} sections equal, {unknown} not known in full, {directories} images' data directories equal, {} differ",
        differ.len()
    );
    for (c, n) in &causes {
        println!("  {n:4} {c}");
    }
    for d in &differ {
        println!("  {d}");
    }
    assert!(differ.is_empty(), "{} sections differ", differ.len());
    // Not vacuous: the recorded links' sections are compared (1,134 when this was written).
    assert!(same > 1000, "only {same} sections compared");
}

/// A fresh directory for this test's files.
fn scratch(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linkscope-link-image-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Objects → link → load → patch without a linker: the written image of each automatic-import
/// link (ld.lld and GNU ld, x64 and i386) has the real image's pseudo-relocation list, imports
/// and base relocations, and `patch` (with data.dll beside it, on x64) plans every step as for
/// the image the linker wrote.
#[test]
fn auto_import_links_load_and_patch_as_the_real_images() {
    let dll = common::fixture_path("../../assets/samples/data.dll");
    for rel in [
        "autoimport64/lld-autoimport",
        "autoimport64/lld-autoimport-gc",
        "autoimport32/lld-autoimport",
        "gnuauto64/gnu-auto",
        "gnuauto64/gnu-auto-small",
        "gnuauto64/gnu-auto-dlltool",
        "gnuauto32/gnu-auto",
    ] {
        let (dir, name, flavor, args) = case(&common::fixture_path(&format!("link/{rel}.cmd")));
        let real_path = real_image(&dir, &name).unwrap();
        let img = simulate(&dir, flavor, &args);
        let real = linkscope::formats::load(&std::fs::read(&real_path).unwrap()).unwrap();
        let sim = linkscope::formats::load(&img.bytes).unwrap();
        assert!(!real.pseudo_relocations.entries.is_empty(), "{rel}");
        assert_eq!(
            format!("{:?}", sim.pseudo_relocations.entries),
            format!("{:?}", real.pseudo_relocations.entries),
            "{rel}"
        );
        let imports = |b: &Binary| {
            b.imports
                .iter()
                .flat_map(|m| m.entries.iter().map(move |e| (m.dll.clone(), e.name.clone(), e.iat_rva, e.hint)))
                .collect::<Vec<_>>()
        };
        assert_eq!(imports(&sim), imports(&real), "{rel}");
        let relocs = |b: &Binary| b.base_relocations.iter().map(|r| (r.rva, r.kind)).collect::<Vec<_>>();
        assert_eq!(relocs(&sim), relocs(&real), "{rel}");
        // The same file name in another directory: the plans name the image alike.
        let out = scratch(&rel.replace('/', "-")).join(real_path.file_name().unwrap());
        std::fs::write(&out, &img.bytes).unwrap();
        let plan = |image: &Path| {
            let mut a = vec!["patch", "--json", image.to_str().unwrap()];
            if rel.contains("64") {
                a.extend(["--dll", dll.to_str().unwrap()]);
            }
            let o = common::run(&a);
            let text = String::from_utf8_lossy(&o.stdout).replace(image.parent().unwrap().to_str().unwrap(), "DIR");
            (o.status.code(), text)
        };
        let (want, got) = (plan(&real_path), plan(&out));
        assert_eq!(got, want, "{rel}");
        assert!(want.1.contains("\"steps\""), "{rel}: {}", want.1);
        let _ = std::fs::remove_dir_all(out.parent().unwrap());
    }
}

/// A section claiming more data than its file holds: no image (a typed error naming the object
/// and the section), not a 1.8 GB file of zeros; the report is still given. And every public
/// malformed COFF object of the corpus, linked alone: a report, an image or a refusal, never a
/// panic.
#[test]
fn hostile_objects_get_no_image_and_no_panic() {
    let mut obj = vec![0u8; 0x400];
    obj[0..20].copy_from_slice(&[0x64, 0x86, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    obj[20..28].copy_from_slice(b".data\0\0\0");
    for (at, v) in [(36, 0x7000_0000u32), (40, 0x100), (56, 0xC000_0040)] {
        obj[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    // The symbol `start` in section 1, external; then an empty string table.
    obj[0x300..0x305].copy_from_slice(b"start");
    obj[0x30c..0x30e].copy_from_slice(&1u16.to_le_bytes());
    obj[0x310] = 2;
    obj[0x312..0x316].copy_from_slice(&4u32.to_le_bytes());
    let read = |p: &str| if p == "huge.obj" { Ok(obj.clone()) } else { Err(std::io::ErrorKind::NotFound.into()) };
    let args: Vec<String> = ["/entry:start", "huge.obj"].map(String::from).to_vec();
    let env = link::search::Environment::default();
    let (rep, image) = link::simulate_image(Flavor::LldLink, &args, &env, &read, 1).unwrap();
    assert!(!rep.output_sections.is_empty());
    match image {
        Some(Err(e @ link::image::ImageError::Truncated { .. })) => {
            assert!(e.to_string().contains("huge.obj: section 1 (.data) claims 0x70000000 bytes"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/coff");
    if !corpus.is_dir() {
        eprintln!("skipped the corpus: {} is absent", corpus.display());
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![corpus];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let (mut tried, mut written, mut refused) = (0, Vec::new(), Vec::new());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let read = |_: &str| Ok(bytes.clone());
        let args: Vec<String> = ["/force", "x.obj"].map(String::from).to_vec();
        match link::simulate_image(Flavor::LldLink, &args, &env, &read, 1) {
            Ok((_, Some(Ok(img)))) => written.push(img.bytes.len()),
            Ok((_, Some(Err(e)))) => refused.push(e.to_string()),
            _ => {}
        }
        tried += 1;
    }
    println!("corpus: {tried} objects, {} images written, refused: {refused:?}", written.len());
    assert!(tried > 0);
}
