//! GNU ld's automatic import against GNU ld's real links (`tests/fixtures/link/gnuauto64`,
//! `gnuauto32`, also predicted exactly by `tests/link.rs`): data a DLL exports, used without
//! dllimport through its long-form import library (GNU ld's `--out-implib`, binutils dlltool),
//! becomes one `.rdata_runtime_pseudo_reloc` input per reference and a reference to the runtime
//! relocator, and the predicted runtime pseudo-relocation list equals the one the image holds.
//! The gcc driver's own line links Debian's CRT (skipped, saying so, when it is absent).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use linkscope::link::{self, command, compare, map, search::Environment, Flavor, Report};

fn recorded(case: &str, name: &str) -> Report {
    let dir = common::fixture_path(&format!("link/{case}"));
    let text = std::fs::read_to_string(dir.join(format!("{name}.cmd"))).unwrap();
    let words: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
    let cmd = command::read(&words);
    let read = |p: &str| std::fs::read(dir.join(p));
    link::simulate(cmd.flavor.unwrap(), &cmd.args, &read).unwrap()
}

/// (sym_rva, target_rva, bits) of the image's list, as `inspect` reads it.
fn image_list(path: &Path) -> Vec<(u64, u64, u32)> {
    let bin = linkscope::formats::load(&std::fs::read(path).unwrap()).unwrap();
    bin.pseudo_relocations.entries.iter().map(|e| (e.sym_rva.unwrap_or(0), e.target_rva, e.width)).collect()
}

fn predicted_list(r: &Report) -> Vec<(u64, u64, u32)> {
    r.pseudo_relocs.iter().map(|p| (p.sym_rva, p.target_rva, u32::from(p.bits))).collect()
}

#[test]
fn gnu_ld_automatic_imports_give_the_images_pseudo_relocation_list() {
    let cases: [(&str, &[&str]); 2] = [
        ("gnuauto64", &["gnu-auto", "gnu-auto-gc", "gnu-auto-dlltool", "gnu-auto-small"]),
        ("gnuauto32", &["gnu-auto", "gnu-auto-gc", "gnu-auto-dlltool"]),
    ];
    for (case, names) in cases {
        for name in names {
            let r = recorded(case, name);
            assert!(r.succeeds, "{case}/{name}: {}", r.linker_output());
            let real = image_list(&common::fixture_path(&format!("link/{case}/{name}.exe")));
            assert_eq!(predicted_list(&r), real, "{case}/{name}");
            // Three initialisers, and the code's references (through the .refptr slots, or
            // directly): six or more entries.
            assert!(real.len() >= 6, "{case}/{name}: {real:?}");
            // One input per entry, the first with the header; their names as GNU ld's.
            let stem = name.replace('-', "_");
            let rtr: Vec<(String, u64)> = r
                .placements
                .iter()
                .filter(|p| p.name == ".rdata_runtime_pseudo_reloc")
                .map(|p| (p.file.clone(), p.size))
                .collect();
            assert_eq!(rtr.len(), real.len(), "{case}/{name}");
            assert_eq!(rtr[0], (format!("{stem}_exe_rtr000000.o"), 24), "{case}/{name}");
            assert!(rtr[1..].iter().all(|(_, size)| *size == 12), "{case}/{name}: {rtr:?}");
            // Nothing is left undefined or unexplained.
            assert!(!r.diagnostics.iter().any(|d| d.severity == "note" && d.message.contains("automatically")));
        }
    }
    // Widths: x64's pointer-sized references (.refptr slots, initialisers) are 64 bits; its
    // -mcmodel=small code's references, and all of i386's, 32.
    let bits =
        |case: &str, name: &str| -> Vec<u8> { recorded(case, name).pseudo_relocs.iter().map(|p| p.bits).collect() };
    assert!(bits("gnuauto64", "gnu-auto").iter().all(|&b| b == 64));
    let small = bits("gnuauto64", "gnu-auto-small");
    assert!(small.contains(&32) && small.contains(&64), "{small:?}");
    assert!(bits("gnuauto32", "gnu-auto").iter().all(|&b| b == 32));
}

#[test]
fn the_runtime_relocator_reference_is_collected_by_gc_and_needed_otherwise() {
    for case in ["gnuauto64", "gnuauto32"] {
        // --gc-sections: nothing refers to the relocator reference (it is not KEEP).
        let r = recorded(case, "gnu-auto-gc");
        assert!(
            r.discarded.iter().any(|d| d.file == "gnu_auto_gc_exe_ertr000001.o" && d.name == ".rdata"),
            "{case}: {:?}",
            r.discarded
        );
        let r = recorded(case, "gnu-auto");
        assert!(r.placements.iter().any(|p| p.file == "gnu_auto_exe_ertr000001.o" && p.name == ".rdata"));
        // Without a relocator, GNU ld's own words.
        let r = recorded(case, "gnu-auto-norel");
        assert!(!r.succeeds);
        assert!(
            r.linker_output().contains(
                "gnu_auto_norel_exe_ertr000001.o:(.rdata+0x0): undefined reference to `_pei386_runtime_relocator'"
            ),
            "{case}: {}",
            r.linker_output()
        );
        // --disable-auto-import: the data stays undefined, no list.
        let r = recorded(case, "gnu-auto-off");
        assert!(!r.succeeds && r.pseudo_relocs.is_empty());
        assert!(r.linker_output().contains("undefined reference to `arr'"), "{case}: {}", r.linker_output());
    }
}

#[test]
fn members_load_for_their_imp_symbol_as_gnu_ld_loads_them() {
    // The armap's `__imp_pt` satisfies main.o's undefined `pt`: members in armap order.
    for case in ["gnuauto64", "gnuauto32"] {
        let r = recorded(case, "gnu-auto");
        let loaded: Vec<String> = r.members_loaded.iter().map(|m| m.file.clone()).collect();
        let map_text = std::fs::read_to_string(common::fixture_path(&format!("link/{case}/gnu-auto.gnumap"))).unwrap();
        assert_eq!(loaded, common::gnu_map_members(&map_text), "{case}");
    }
}

#[test]
fn short_import_members_under_gnu_ld_are_a_note_not_a_silent_list() {
    for case in ["gnuauto64", "gnuauto32"] {
        let dir = common::fixture_path(&format!("link/{case}"));
        let read = |p: &str| std::fs::read(dir.join(p));
        let entry = if case == "gnuauto64" { "start" } else { "_start" };
        let args: Vec<String> = ["-e", entry, "-o", "short.exe", "main.o", "libdatas.a"].map(String::from).to_vec();
        let r = link::simulate(Flavor::GnuLd, &args, &read).unwrap();
        let notes: Vec<&str> =
            r.diagnostics.iter().filter(|d| d.severity == "note").map(|d| d.message.as_str()).collect();
        assert!(notes.iter().any(|n| n.contains("short import member") && n.contains("not listed")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("MSVC-style (short) import members")), "{notes:?}");
        assert!(r.pseudo_relocs.is_empty());
    }
}

#[test]
fn a_gcc_driver_line_auto_importing_a_dlls_data_is_predicted_exactly() {
    for (case, probe) in [
        ("gnuauto64", "/usr/x86_64-w64-mingw32/lib/libkernel32.a"),
        ("gnuauto32", "/usr/i686-w64-mingw32/lib/libkernel32.a"),
    ] {
        if !Path::new(probe).exists() {
            eprintln!("skipped {case}: {probe} is absent (apt-get install gcc-mingw-w64 to run this test)");
            continue;
        }
        let dir = common::fixture_path(&format!("link/{case}"));
        let line = std::fs::read_to_string(dir.join("gnu-gcc.line")).unwrap();
        let words = link::args::split_command_line(&line);
        let cmd = command::read(&words);
        assert_eq!(cmd.flavor, Some(Flavor::GnuLd));
        let read = |p: &str| std::fs::read(dir.join(p));
        let r = link::simulate_in(Flavor::GnuLd, &cmd.args, &Environment::default(), &read, 2).unwrap();
        assert!(r.succeeds, "{case}: {}", r.linker_output());
        let map_text = std::fs::read_to_string(dir.join("gnu-gcc.gnumap")).unwrap();
        let loaded: Vec<String> = r.members_loaded.iter().map(|m| m.file.clone()).collect();
        assert_eq!(loaded, common::gnu_map_members(&map_text), "{case}");
        let image = std::fs::read(dir.join("gnu-gcc.exe")).unwrap();
        let m = map::parse(&map_text).unwrap();
        let cmp = compare::compare(&r, &image, Some(&m)).unwrap();
        assert!(cmp.differences.is_empty(), "{case}: {:?}", &cmp.differences[..cmp.differences.len().min(10)]);
        assert!(cmp.placements_compared >= 400, "{case}: {cmp:?}");
        assert_eq!(predicted_list(&r), image_list(&dir.join("gnu-gcc.exe")), "{case}");
        assert!(r.pseudo_relocs.len() >= 6, "{case}");
        eprintln!(
            "{case}/gnu-gcc: {} pseudo-relocations, {} sections, {} placements compared",
            r.pseudo_relocs.len(),
            cmp.sections_compared,
            cmp.placements_compared
        );
    }
}

#[test]
fn version_one_pseudo_relocations_are_a_note() {
    let dir = common::fixture_path("link/gnuauto64");
    let read = |p: &str| std::fs::read(dir.join(p));
    for opt in ["--enable-runtime-pseudo-reloc-v1", "--disable-runtime-pseudo-reloc"] {
        let args: Vec<String> = [opt, "-e", "start", "main.o", "libdata.dll.a"].map(String::from).to_vec();
        let r = link::simulate(Flavor::GnuLd, &args, &read).unwrap();
        assert!(
            r.diagnostics.iter().any(|d| d.severity == "note" && d.message.starts_with(opt)),
            "{opt}: {:?}",
            r.diagnostics
        );
    }
    // Without such an option, no note.
    let args: Vec<String> = ["-e", "start", "main.o", "libdata.dll.a"].map(String::from).to_vec();
    let r = link::simulate(Flavor::GnuLd, &args, &read).unwrap();
    assert!(r.succeeds && !r.diagnostics.iter().any(|d| d.severity == "note"), "{:?}", r.diagnostics);
}

#[test]
fn a_dll_importing_data_automatically_exports_only_its_own_globals() {
    for case in ["gnuauto64", "gnuauto32"] {
        let r = recorded(case, "gnu-auto-dll");
        assert!(r.succeeds, "{case}: {}", r.linker_output());
        let path = common::fixture_path(&format!("link/{case}/gnu-auto-dll.exe"));
        let real = image_list(&path);
        assert_eq!(predicted_list(&r), real, "{case}");
        // The initialiser and the code's reference.
        assert_eq!(real.len(), 2, "{case}: {real:?}");
        let bin = linkscope::formats::load(&std::fs::read(&path).unwrap()).unwrap();
        let mut image: Vec<(Option<String>, u64)> = bin.exports.iter().map(|e| (e.name.clone(), e.rva)).collect();
        image.sort();
        let mut predicted: Vec<(Option<String>, u64)> =
            r.exports.iter().map(|e| (e.name.clone(), e.rva.unwrap())).collect();
        predicted.sort();
        assert_eq!(predicted, image, "{case}");
        assert!(!predicted.iter().any(|(n, _)| n.as_deref().is_some_and(|n| n.contains("__fu"))));
    }
}
