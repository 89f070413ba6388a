//! A DLL's exports in the simulated link, against lld-link's real links
//! (`tests/fixtures/link/exports64`, also predicted exactly by `tests/link.rs`): dllexport
//! directives and `/export:` (an alias with an ordinal, `NONAME`, `PRIVATE`) are GC roots, and
//! the export table equals the one the image holds (lld-link and ld.lld's MinGW mode); what is
//! not laid out is a note. And the other side of a DLL's data: MinGW's automatic import
//! (`autoimport64`, `autoimport32`), whose runtime pseudo-relocation list equals the image's, and
//! delay-loaded imports (`delay64`, `delay32`), whose slots equal the image's delay import table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use linkscope::link::{self, Flavor, Report};

fn recorded(name: &str) -> Report {
    recorded_in("exports64", name)
}

/// A recorded link that succeeded, with the image the linker wrote.
fn recorded_with_image(case: &str, name: &str) -> (Report, linkscope::model::Binary) {
    let r = recorded_in(case, name);
    assert!(r.succeeds, "{case}/{name}: {:?}", r.diagnostics);
    let image = std::fs::read(common::fixture_path(&format!("link/{case}/{name}.exe"))).unwrap();
    (r, linkscope::formats::load(&image).unwrap())
}

/// The recorded link's export table equals the one its image holds (by ordinal; slot 0 and
/// unused ordinals, RVA 0, left out); the report.
fn export_table_is_images(case: &str, name: &str) -> Report {
    let (r, bin) = recorded_with_image(case, name);
    let mut real: Vec<(u32, Option<String>, u64)> =
        bin.exports.iter().filter(|e| e.rva != 0).map(|e| (e.ordinal, e.name.clone(), e.rva)).collect();
    real.sort();
    let predicted: Vec<(u32, Option<String>, u64)> =
        r.exports.iter().map(|e| (u32::from(e.ordinal), e.name.clone(), e.rva.unwrap())).collect();
    assert_eq!(predicted, real, "{case}/{name}");
    r
}

fn recorded_in(case: &str, name: &str) -> Report {
    let dir = common::fixture_path(&format!("link/{case}"));
    let text = std::fs::read_to_string(dir.join(format!("{name}.cmd"))).unwrap();
    let words: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
    let cmd = link::command::read(&words);
    let read = |p: &str| std::fs::read(dir.join(p));
    link::simulate(cmd.flavor.unwrap(), &cmd.args, &read).unwrap()
}

fn placed(r: &Report) -> Vec<&str> {
    r.placements.iter().filter(|p| p.name.starts_with(".text$")).map(|p| p.name.as_str()).collect()
}

#[test]
fn exported_functions_are_gc_roots() {
    let r = recorded("lld-dll");
    assert_eq!(placed(&r), [".text$f_a", ".text$f_b", ".text$f_c", ".text$f_hidden", ".text$f_priv"]);
    assert!(r.discarded.iter().any(|d| d.name == ".text$f_unused" && d.reason == "gc"));
    // Only the directives' exports: the command line's are collected.
    assert_eq!(placed(&recorded("lld-dll-directives")), [".text$f_a"]);
    assert_eq!(placed(&recorded("lld-dll-noref")).len(), 6);
}

#[test]
fn the_export_table_is_the_images() {
    for name in [
        "lld-dll",
        "lld-dll-noref",
        "lld-dll-directives",
        "lldmingw-dll",
        "lldmingw-dll-gc",
        "lld-dll-def",
        "lldmingw-dll-def",
    ] {
        let r = export_table_is_images("exports64", name);
        assert!(!r.diagnostics.iter().any(|d| d.severity == "note"), "{name}: {:?}", r.diagnostics);
    }
    let r = recorded("lld-dll");
    let alias = r.exports.iter().find(|e| e.name.as_deref() == Some("alias")).unwrap();
    assert_eq!((alias.ordinal, alias.symbol.as_str()), (5, "f_c"));
    assert!(r.exports.iter().any(|e| e.ordinal == 9 && e.name.is_none()));
    assert!(r.exports.iter().any(|e| e.symbol == "d_x" && e.data));
    assert!(r.synthetic.iter().any(|s| s.name == "export directory" && s.output_section == ".rdata"));
}

#[test]
fn a_mingw_dll_without_dllexport_exports_every_global_but_lld_s_exclusions() {
    let names = |case: &str, name: &str| -> Vec<(String, bool)> {
        recorded_in(case, name).exports.iter().map(|e| (e.name.clone().unwrap_or_default(), e.data)).collect()
    };
    let want = |v: &[(&str, bool)]| v.iter().map(|(n, d)| (n.to_string(), *d)).collect::<Vec<_>>();
    // Statics, DllMain and _fmode stay out; data is DATA.
    let all = want(&[
        ("common_var", true),
        ("counter", true),
        ("f_one", false),
        ("f_two", false),
        ("start", false),
        ("table", true),
    ]);
    assert_eq!(names("exports64", "lldmingw-dll-all"), all);
    assert_eq!(names("exports64", "lldmingw-dll-all-gc"), all, "exported globals are GC roots");
    // i386: lld's list names the stdcall `_DllMain@12`; this cdecl `_DllMain` is exported.
    let mut all32 = want(&[("DllMain", false)]);
    all32.extend(all.iter().cloned());
    assert_eq!(names("exports32", "lldmingw-dll-all"), all32);
    assert!(names("exports64", "lldmingw-dll-none").is_empty());
}

#[test]
fn gnu_ld_exports_every_global_but_its_exclusions() {
    let names = |case: &str, name: &str| -> Vec<String> {
        export_table_is_images(case, name).exports.iter().filter_map(|e| e.name.clone()).collect()
    };
    // Not the statics, not _fmode; DllMain only on i386, whose list names `DllMain@12` only.
    let all64 = ["common_var", "counter", "f_one", "f_two", "start", "table"];
    assert_eq!(names("exports64", "gnu-dll-all"), all64);
    assert_eq!(names("exports64", "gnu-dll-all-gc"), all64);
    let mut all32 = vec!["DllMain"];
    all32.extend(all64);
    assert_eq!(names("exports32", "gnu-dll-all"), all32);
    let data: Vec<bool> = recorded("gnu-dll-all").exports.iter().map(|e| e.data).collect();
    assert_eq!(data, [true, true, false, false, false, true]);
}

#[test]
fn kill_at_exports_i386_names_without_their_at_n() {
    // f_std@4 and @f_fast@4 become f_std and f_fast, and sort as such (ld.lld and GNU ld).
    for name in ["lldmingw-dll-killat", "gnu-dll-killat"] {
        let r = export_table_is_images("exports32", name);
        let names: Vec<&str> = r.exports.iter().filter_map(|e| e.name.as_deref()).collect();
        assert_eq!(names, ["d_x", "f_a", "f_fast", "f_std"], "{name}");
        let symbols: Vec<&str> = r.exports.iter().map(|e| e.symbol.as_str()).collect();
        assert!(symbols.contains(&"@f_fast@4") && symbols.contains(&"_f_std@4"), "{name}: {symbols:?}");
    }
}

#[test]
fn gnu_ld_reads_a_def_file_and_numbers_around_the_written_ordinals() {
    // alias @5 and f_hidden @9 NONAME written: the table starts at 4 so the six fit below 9, the
    // others take 4, 6, 7, 8 in name order; the DLL name is the .def's LIBRARY.
    let r = export_table_is_images("exports64", "gnu-dll-def");
    let got: Vec<(u16, Option<&str>)> = r.exports.iter().map(|e| (e.ordinal, e.name.as_deref())).collect();
    assert_eq!(
        got,
        [(4, Some("d_x")), (5, Some("alias")), (6, Some("f_a")), (7, Some("f_b")), (8, Some("f_priv")), (9, None)]
    );
    let image = std::fs::read(common::fixture_path("link/exports64/gnu-dll-def.exe")).unwrap();
    let bin = linkscope::formats::load(&image).unwrap();
    let edata = bin.sections.iter().find(|s| s.name == ".edata").unwrap();
    let dll = r.synthetic.iter().find(|c| c.name == "export directory").unwrap();
    assert_eq!((dll.rva, dll.size), (edata.rva, edata.virtual_size), "the .edata block, DLL name defdll.dll included");
    let mut gnu = [linkscope::link::exports::Export::new("b", "b"), linkscope::link::exports::Export::new("a", "a")];
    linkscope::link::exports::gnu_ordinals(&mut gnu);
    assert_eq!(gnu.map(|e| e.ordinal), [1, 2], "none written: from 1");
}

#[test]
fn every_export_table_is_laid_out_without_a_note() {
    let dir = common::fixture_path("link/exports64");
    let read = |p: &str| std::fs::read(dir.join(p));
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let says = |r: &Report| {
        r.diagnostics.iter().any(|d| d.severity == "note" && d.message.contains("export directory is not laid out"))
    };
    // GNU ld does not read MSVC's /EXPORT: directives: its export-everything default is laid out
    // (gnu-dll-all, below); its -export: directives too (gnu-dll, above).
    let r = link::simulate(Flavor::GnuLd, &args(&["--shared", "-e", "start", "dll.obj"]), &read).unwrap();
    assert!(!says(&r) && r.exports.iter().any(|e| e.name.as_deref() == Some("f_unused")));
    let r = link::simulate(Flavor::GnuLd, &args(&["--shared", "-e", "start", "dllm.obj"]), &read).unwrap();
    assert!(!says(&r) && r.exports.len() == 2);
    // With its directives, MinGW mode's table is laid out (lldmingw-dll, above).
    let r = link::simulate(Flavor::LldMingw, &args(&["--shared", "-e", "start", "dllm.obj"]), &read).unwrap();
    assert!(!says(&r) && r.exports.len() == 2);
    // A forwarder is laid out (lld-dll-forward, above): no note, its slot points at its string.
    let r =
        link::simulate(Flavor::LldLink, &args(&["/dll", "/entry:start", "/export:f_b=k32.Sleep", "dll.obj"]), &read)
            .unwrap();
    assert!(!says(&r));
    let fw = r.exports.iter().find(|e| e.name.as_deref() == Some("f_b")).unwrap();
    assert_eq!(fw.forwarder.as_deref(), Some("k32.Sleep"));
    // A .def file lld cannot open is its error.
    let r = link::simulate(Flavor::LldLink, &args(&["/dll", "/entry:start", "/def:x.def", "dll.obj"]), &read).unwrap();
    assert!(
        !r.succeeds && r.diagnostics.iter().any(|d| d.message.starts_with("lld-link: error: could not open x.def"))
    );
    // A bad /export: is the command line's error.
    assert!(link::simulate(Flavor::LldLink, &args(&["/dll", "/export:f_b,@x", "dll.obj"]), &read).is_err());
}

#[test]
fn automatic_imports_give_the_images_pseudo_relocation_list() {
    for case in ["autoimport64", "autoimport32"] {
        for name in ["lld-autoimport", "lld-autoimport-gc"] {
            let (r, bin) = recorded_with_image(case, name);
            let real: Vec<(u64, u64, u32)> = bin
                .pseudo_relocations
                .entries
                .iter()
                .map(|e| (e.sym_rva.unwrap_or(0), e.target_rva, e.width))
                .collect();
            let predicted: Vec<(u64, u64, u32)> =
                r.pseudo_relocs.iter().map(|p| (p.sym_rva, p.target_rva, u32::from(p.bits))).collect();
            assert_eq!(predicted, real, "{case}/{name}");
            // The 3 initialisers; the code goes through the .refptr slots.
            assert_eq!(real.len(), 3, "{case}/{name}");
            // The .refptr slots lld dropped, their users pointed at the IAT.
            let dropped = r.not_linked.iter().filter(|n| n.name.starts_with(".rdata$.refptr.")).count();
            assert_eq!(dropped, 3, "{case}/{name}: {:?}", r.not_linked);
            for import in ["data.dll!arr", "data.dll!counter", "data.dll!pt"] {
                assert!(r.imports.iter().any(|i| i.import == import), "{case}/{name}: {import}");
            }
        }
    }
    // Without automatic import, the data stays undefined.
    let dir = common::fixture_path("link/autoimport64");
    let read = |p: &str| std::fs::read(dir.join(p));
    let args: Vec<String> =
        ["-m", "i386pep", "--disable-auto-import", "-e", "start", "main.o", "libdata.a"].map(String::from).to_vec();
    let r = link::simulate(Flavor::LldMingw, &args, &read).unwrap();
    assert!(!r.succeeds && r.pseudo_relocs.is_empty());
}

#[test]
fn delay_loaded_imports_are_laid_out_as_the_images_delay_import_table() {
    for case in ["delay64", "delay32"] {
        for name in ["lld-delay", "lld-delay-both"] {
            let (r, bin) = recorded_with_image(case, name);
            let slots = |modules: &[linkscope::model::ImportModule]| -> Vec<(String, u64)> {
                let mut v: Vec<(String, u64)> = modules
                    .iter()
                    .flat_map(|m| {
                        m.entries.iter().map(move |e| {
                            let shown = e.name.clone().unwrap_or_else(|| format!("#{}", e.ordinal.unwrap_or(0)));
                            (format!("{}!{shown}", m.dll), e.iat_rva)
                        })
                    })
                    .collect();
                v.sort();
                v
            };
            let predicted = |list: &[link::report::ImportSlot]| -> Vec<(String, u64)> {
                let mut v: Vec<(String, u64)> = list.iter().map(|i| (i.import.clone(), i.iat_rva)).collect();
                v.sort();
                v
            };
            assert_eq!(predicted(&r.delay_imports), slots(&bin.delay_imports), "{case}/{name}");
            assert_eq!(predicted(&r.imports), slots(&bin.imports), "{case}/{name}");
            // dord is imported by ordinal only; both DLLs delay-loaded leave no import table.
            assert!(r.delay_imports.iter().any(|i| i.import == "d.dll!#7"), "{case}/{name}");
            assert_eq!(r.imports.is_empty(), name == "lld-delay-both", "{case}/{name}");
        }
        // Without the helper lld-link refuses, naming it.
        let r = recorded_in(case, "lld-delay-nohelper");
        assert!(!r.succeeds && r.diagnostics.iter().any(|d| d.message.contains("delayLoadHelper2")), "{case}");
    }
}

#[test]
fn i386_export_names_are_undecorated_as_lld_writes_them() {
    for name in ["lld-dll", "lldmingw-dll", "lldmingw-dll-def", "gnu-dll", "lldmingw-dll-all"] {
        export_table_is_images("exports32", name);
    }
    let names = |name: &str| -> Vec<String> {
        let mut v: Vec<String> = recorded_in("exports32", name).exports.iter().filter_map(|e| e.name.clone()).collect();
        v.sort();
        v
    };
    // MSVC keeps a stdcall name whole; MinGW drops only the `_`.
    assert_eq!(names("lld-dll"), ["@f_fast@4", "_f_b_std@8", "_f_std@4", "alias", "d_x", "f_a", "f_b"]);
    assert_eq!(names("lldmingw-dll"), ["@f_fast@4", "d_x", "f_a", "f_std@4"]);
    // In MSVC mode a .def name with `@` counts as decorated: no `_`, so lld-link cannot find it.
    let r = recorded_in("exports32", "lld-dll-def");
    assert!(!r.succeeds && r.diagnostics.iter().any(|d| d.message.contains("undefined symbol: f_b_std@8")));
}

/// The members of a real import library: (symbols, type, name type, import name, hint) of each,
/// from linkscope's reader, checked against llvm-readobj's reading beside it.
type Member = (Vec<String>, Option<String>, Option<String>, Option<String>, Option<u16>);

fn real_library(dir: &std::path::Path, lib: &str) -> (String, Vec<Member>) {
    let bin = linkscope::formats::load(&std::fs::read(dir.join(lib)).unwrap()).unwrap();
    let mut dll = String::new();
    let members: Vec<Member> = bin
        .members
        .iter()
        .map(|m| {
            dll = m.member_name.trim_end_matches('/').to_string();
            let b = m.binary.as_deref().unwrap();
            match &b.import_object {
                Some(io) => {
                    let mut symbols = vec![format!("__imp_{}", io.symbol)];
                    if io.kind.to_string() != "data" {
                        symbols.push(io.symbol.clone());
                    }
                    (
                        symbols,
                        Some(io.kind.to_string()),
                        Some(io.name_type.to_string()),
                        io.import_name.clone(),
                        Some(io.ordinal_or_hint),
                    )
                }
                // The special members: the symbol each defines (a section's, not its own name).
                None => {
                    let defined =
                        b.symbols.iter().filter(|s| s.section.is_some_and(|x| x > 0) && !s.name.starts_with('.'));
                    (defined.map(|s| s.name.clone()).collect(), None, None, None, None)
                }
            }
        })
        .collect();
    // llvm-readobj prints each short import's symbols: the same, in the same order.
    let readobj = std::fs::read_to_string(dir.join(format!("{lib}.readobj"))).unwrap();
    let theirs: Vec<Vec<String>> = readobj
        .split("\nFile: ")
        .filter(|b| b.contains("COFF-import-file"))
        .map(|b| b.lines().filter_map(|l| l.strip_prefix("Symbol: ")).map(str::to_string).collect())
        .collect();
    let ours: Vec<Vec<String>> = members.iter().filter(|m| m.1.is_some()).map(|m| m.0.clone()).collect();
    assert_eq!(ours, theirs, "{lib}: linkscope's reading against llvm-readobj's");
    (dll, members)
}

#[test]
fn the_import_library_is_the_one_lld_link_writes() {
    let mut compared = 0;
    for case in ["exports64", "exports32"] {
        let dir = common::fixture_path(&format!("link/{case}"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".cmd").map(str::to_string))
            .collect();
        names.sort();
        for name in names.into_iter().filter(|n| !by_gnu_ld(&dir, n)) {
            let r = recorded_in(case, &name);
            let lib = format!("{name}.lib");
            let written = dir.join(&lib).exists();
            match &r.import_library {
                Some(l) if r.succeeds => {
                    assert!(written, "{case}/{name}: predicted {l:?}, lld-link wrote none");
                    assert_eq!(l.path, lib, "{case}/{name}");
                    let (dll, real) = real_library(&dir, &lib);
                    assert_eq!(l.dll, dll, "{case}/{name}");
                    let ours: Vec<Member> = l
                        .members
                        .iter()
                        .map(|m| {
                            let t = m.import_type.map(|t| t.to_string());
                            (
                                m.symbols.clone(),
                                t,
                                m.name_type.map(|n| n.to_string()),
                                m.import_name.clone(),
                                m.ordinal_or_hint,
                            )
                        })
                        .collect();
                    assert_eq!(ours, real, "{case}/{name}");
                    compared += 1;
                }
                _ => assert!(!written || !r.succeeds, "{case}/{name}: lld-link wrote {lib}, none predicted"),
            }
        }
    }
    assert!(compared >= 9, "{compared} libraries compared");
}

/// GNU ld's `--out-implib` library: every member in llvm-ar's order, named as GNU ld named it,
/// with the global symbols llvm-nm reads from it; a library wherever GNU ld wrote one. The
/// `gnuauto` DLL imports data automatically: its members are numbered after those objects.
#[test]
fn the_import_library_is_the_one_gnu_ld_writes() {
    let mut compared = 0;
    for case in ["exports64", "exports32", "gnuauto64", "gnuauto32"] {
        let dir = common::fixture_path(&format!("link/{case}"));
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = file.strip_suffix(".cmd").filter(|n| by_gnu_ld(&dir, n)) else { continue };
            let r = recorded_in(case, name);
            let listing = dir.join(format!("{name}.dll.a.members"));
            let Some(l) = &r.import_library else {
                assert!(!listing.exists(), "{case}/{name}: GNU ld wrote a library, none predicted");
                continue;
            };
            let text = std::fs::read_to_string(&listing)
                .unwrap_or_else(|e| panic!("{case}/{name}: predicted {}, no listing of a real one: {e}", l.path));
            let (order, symbols) = text.split_once("\n\n").unwrap();
            let order: Vec<&str> = order.lines().collect();
            let ours: Vec<&str> = l.members.iter().map(|m| m.member.as_deref().unwrap_or("?")).collect();
            assert_eq!(ours, order, "{case}/{name}: the members");
            for m in &l.members {
                let member = m.member.as_deref().unwrap_or_default();
                let mut theirs: Vec<&str> = symbols
                    .lines()
                    .filter_map(|line| {
                        let (path, rest) = line.split_once(": ")?;
                        let mut f = rest.split_whitespace();
                        let (_, kind, sym) = (f.next()?, f.next()?, f.next()?);
                        let global = kind.chars().all(|c| c.is_ascii_uppercase());
                        (path.ends_with(&format!(":{member}")) && global).then_some(sym)
                    })
                    .collect();
                let mut ours: Vec<&str> = m.symbols.iter().map(String::as_str).collect();
                theirs.sort_unstable();
                ours.sort_unstable();
                assert_eq!(ours, theirs, "{case}/{name}: the symbols of {member}");
            }
            assert!(l.path.ends_with(".dll.a"), "{case}/{name}: {}", l.path);
            compared += 1;
        }
    }
    assert!(compared >= 4, "{compared} libraries compared");
}

/// Whether the recorded link `name` in `dir` is GNU ld's.
fn by_gnu_ld(dir: &std::path::Path, name: &str) -> bool {
    let cmd = std::fs::read_to_string(dir.join(format!("{name}.cmd"))).unwrap_or_default();
    cmd.starts_with("x86_64-w64-mingw32-ld") || cmd.starts_with("i686-w64-mingw32-ld")
}
