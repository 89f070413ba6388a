//! The link simulation against real linkers: every link recorded in `tests/fixtures/link`
//! (lld-link, ld.lld in MinGW mode, GNU ld; x64 and x86; llvm-mc objects for every COMDAT
//! selection, archives, C++ from clang and g++) is simulated from its command line, and the
//! prediction must equal what the linker did: the same exit status, the same messages byte for
//! byte, the image's section table, and every input section's RVA and size in the linker's map
//! (and GNU ld's discarded list). Then the rules one by one, and hostile inputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use linkscope::link::{self, compare, map, Flavor, Report};

/// A recorded link: its directory, name and the command line.
struct Case {
    dir: PathBuf,
    name: String,
    flavor: Flavor,
    args: Vec<String>,
}

fn case(rel: &str) -> Case {
    let path = common::fixture_path(&format!("link/{rel}.cmd"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let flavor = match lines.next().unwrap() {
        "lld-link" => Flavor::LldLink,
        "ld.lld" => Flavor::LldMingw,
        "x86_64-w64-mingw32-ld" | "i686-w64-mingw32-ld" => Flavor::GnuLd,
        other => panic!("{rel}: linker {other}"),
    };
    Case {
        dir: path.parent().unwrap().to_path_buf(),
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        flavor,
        args: lines.map(str::to_string).collect(),
    }
}

fn run_in(dir: &Path, flavor: Flavor, args: &[String]) -> Result<Report, link::Unreadable> {
    let read = |p: &str| std::fs::read(dir.join(p));
    link::simulate(flavor, args, &read)
}

fn run(c: &Case) -> Report {
    run_in(&c.dir, c.flavor, &c.args).unwrap_or_else(|e| panic!("{}: {e}", c.name))
}

fn all_cases() -> Vec<String> {
    let root = common::fixture_path("link");
    common::link_cmd_files()
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().with_extension("").to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_recorded_link_is_predicted_exactly() {
    let cases = all_cases();
    assert!(cases.len() >= 200, "{} links", cases.len());
    let (mut placements, mut sections, mut refused) = (0, 0, 0);
    let mut failures = Vec::new();
    for rel in &cases {
        let c = case(rel);
        let rep = run(&c);
        let base = c.dir.join(&c.name);
        let exit: i32 = std::fs::read_to_string(base.with_extension("exit")).unwrap().trim().parse().unwrap();
        if rep.exit_code() != exit.min(1) {
            failures.push(format!("{rel}: exit {} want {exit}", rep.exit_code()));
        }
        let stderr = std::fs::read_to_string(base.with_extension("stderr")).unwrap();
        if rep.linker_output().trim_end() != stderr.trim_end() {
            failures.push(format!("{rel}: messages\n{}\nwant\n{stderr}", rep.linker_output()));
        }
        if exit != 0 {
            refused += 1;
            continue;
        }
        let image = std::fs::read(base.with_extension("exe")).unwrap();
        let map_text = ["lldmap", "gnumap"].iter().find_map(|e| std::fs::read_to_string(base.with_extension(e)).ok());
        let m = map_text.map(|t| map::parse(&t).unwrap());
        let cmp = compare::compare(&rep, &image, m.as_ref()).unwrap();
        if !cmp.differences.is_empty() {
            failures.push(format!("{rel}: {:?}", &cmp.differences[..cmp.differences.len().min(5)]));
        }
        assert!(m
            .as_ref()
            .is_none_or(|m| cmp.placements_compared >= m.chunks.iter().filter(|c| c.file != "dll stuff").count()));
        placements += cmp.placements_compared;
        sections += cmp.sections_compared;
    }
    assert!(failures.is_empty(), "{} of {} links differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // What was compared: most links succeed, with maps (the README quotes these numbers).
    eprintln!("{} links: {refused} refused, {sections} sections, {placements} placements compared", cases.len());
    assert!(
        refused >= 60 && placements >= 4000 && sections >= 600,
        "{refused} refused, {placements} placements, {sections} sections"
    );
}

fn kept(rep: &Report, symbol: &str) -> String {
    let c = rep.comdats.iter().find(|c| c.symbol == symbol).unwrap_or_else(|| panic!("no COMDAT {symbol}"));
    c.kept.as_ref().map_or("none".into(), |k| k.file.clone())
}

#[test]
fn swapping_the_inputs_moves_the_winner_as_each_linker_does() {
    for (dir, sym) in [("asm64", "c_f"), ("asm32", "_c_f")] {
        assert_eq!(kept(&run(&case(&format!("{dir}/any/lld-ab"))), sym), "a.obj");
        assert_eq!(kept(&run(&case(&format!("{dir}/any/lld-ba"))), sym), "b.obj");
        assert_eq!(kept(&run(&case(&format!("{dir}/any/gnu-ba"))), sym), "b.obj");
        // LARGEST: the larger copy wins in lld whatever the order; GNU ld keeps the first.
        assert_eq!(kept(&run(&case(&format!("{dir}/largest/lld-ab"))), sym), "b.obj");
        assert_eq!(kept(&run(&case(&format!("{dir}/largest/lld-ba"))), sym), "b.obj");
        assert_eq!(kept(&run(&case(&format!("{dir}/largest/gnu-ab"))), sym), "a.obj");
    }
    // Archives: members load when first needed, in fetch order.
    let shared = |rel: &str| kept(&run(&case(rel)), "c_shared");
    assert_eq!(shared("asm64/archive/lld-main-lib"), "lib.lib(m1.obj)");
    assert_eq!(shared("asm64/archive/lld-lib-main"), "lib.lib(m3.obj)");
    assert_eq!(kept(&run(&case("asm64/archive/gnu-main-lib")), "c_shared"), "libm.a(m1.obj)");
    let r = run(&case("asm64/archive/lld-lib-main"));
    let loaded: Vec<&str> = r.members_loaded.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(loaded, ["lib.lib(m3.obj)", "lib.lib(m1.obj)", "lib.lib(m2.obj)"]);
    let r = run(&case("asm64/archive/gnu-lib-main"));
    assert!(!r.succeeds && r.diagnostics.iter().any(|d| d.message.contains("undefined reference to `c_fm'")));
}

#[test]
fn largest_without_gc_keeps_both_copies_and_associative_sections_follow_their_leader() {
    let r = run(&case("asm64/largest/lld-ab-noref"));
    let f: Vec<_> = r.placements.iter().filter(|p| p.name == ".text$c_f").map(|p| p.file.as_str()).collect();
    assert_eq!(f, ["a.obj", "b.obj"]);
    assert!(r.diagnostics.iter().any(|d| d.severity == "note" && d.message.contains("LARGEST")));
    let r = run(&case("asm64/largest/lld-ab"));
    assert!(r.discarded.iter().any(|d| d.file == "a.obj" && d.name == ".text$c_f" && d.reason == "gc"));
    // lld: b's children (and the one only b has) go with b's losing leader; a's chain stays.
    let r = run(&case("asm64/assoc/lld-ab"));
    let from_b: Vec<_> =
        r.discarded.iter().filter(|d| d.file == "b.obj").map(|d| (d.name.as_str(), d.reason)).collect();
    assert!(
        from_b.contains(&(".text$c_f", "comdat")) && from_b.contains(&(".rdata$c_f_b", "associative")),
        "{from_b:?}"
    );
    assert!(r.placements.iter().any(|p| p.file == "a.obj" && p.name == ".rdata$c_f_chain"));
    assert!(r.discarded.iter().any(|d| d.name == ".rdata$c_dead_meta" && d.reason == "gc"));
    // GNU ld ignores associativity: every child of both files stays.
    let r = run(&case("asm64/assoc/gnu-ab"));
    assert!(r.placements.iter().any(|p| p.file == "b.obj" && p.name == ".rdata$c_f_b"));
    assert_eq!(r.discarded.iter().filter(|d| d.file == "b.obj").count(), 1);
}

#[test]
fn cxx_links_show_folds_odr_violations_and_initialiser_order() {
    let r = run(&case("msvc64/lld-default"));
    let name_of = |s: &link::report::SectionRef| format!("{}:{}", s.file, s.section);
    assert!(r.folds.len() >= 4, "{:?}", r.folds.iter().map(|f| name_of(&f.folded)).collect::<Vec<_>>());
    assert!(r.folds.iter().all(|f| f.folded != f.into));
    let odr = r.comdats.iter().find(|c| c.symbol == "?odr_f@@YAHXZ").unwrap();
    assert!(odr.copies_differ && odr.kept.as_ref().unwrap().file == "odr1.obj");
    assert!(r.diagnostics.iter().any(|d| d.severity == "note" && d.message.contains("odr_f")));
    let crt: Vec<_> = r.crt.iter().map(|p| format!("{} {}", p.file, p.name)).collect();
    assert_eq!(crt.first().unwrap(), "crt0.obj .CRT$XCA");
    assert_eq!(crt.last().unwrap(), "crt0.obj .CRT$XCZ");
    let swapped = run(&case("msvc64/lld-swapped"));
    assert_eq!(
        swapped.comdats.iter().find(|c| c.symbol == "?odr_f@@YAHXZ").unwrap().kept.as_ref().unwrap().file,
        "odr2.obj"
    );
    // Without ICF nothing folds; the unused functions go only with /opt:ref.
    assert!(run(&case("msvc64/lld-ref-noicf")).folds.is_empty());
    let noref = run(&case("msvc64/lld-noref-noicf"));
    assert!(noref.discarded.iter().all(|d| d.reason != "gc"));
}

#[test]
fn import_libraries_give_thunks_and_tables_in_the_linkers_order() {
    let thunks = |r: &Report| r.synthetic.iter().filter(|s| s.name.starts_with("import thunk")).count();
    for dir in ["imports64", "imports32"] {
        // With GC only the functions called through their own name get a thunk; without, every
        // loaded function member does.
        let r = run(&case(&format!("{dir}/lld-imports")));
        assert_eq!(thunks(&r), 3, "{dir}");
        assert_eq!(thunks(&run(&case(&format!("{dir}/lld-imports-noref")))), 5, "{dir}");
        // DLLs in load order (k.lib first on the command line), names sorted inside each.
        let order: Vec<&str> = r.imports.iter().map(|i| i.import.as_str()).collect();
        assert_eq!(order, ["k.dll!kdata", "k.dll!kf1", "k.dll!kf2", "k.dll!kf3", "m.dll!mf1", "m.dll!#7"], "{dir}");
        let r = run(&case(&format!("{dir}/lld-imports-mk")));
        assert!(r.imports[0].import.starts_with("m.dll!"), "{dir}");
        assert_eq!(r.members_loaded.len(), 6);
    }
    // GNU ld i386 drops the thunk of a member only used through __imp_; x64 keeps it.
    let gc = |rel: &str| run(&case(rel)).discarded.iter().filter(|d| d.name == ".text").count();
    assert_eq!(gc("imports32/gnu-imports"), 2);
    assert_eq!(gc("imports64/gnu-imports"), 0);
}

#[test]
fn weak_common_and_absolute_symbols_resolve_as_the_linkers_do() {
    let sym = |r: &Report, n: &str| r.symbols.iter().find(|s| s.symbol == n).cloned().unwrap();
    for (dir, u) in [("asm64", ""), ("asm32", "_")] {
        let r = run(&case(&format!("{dir}/symbols/lld-ab")));
        // b's strong c_weak beats main's weak default; the larger common (b's 24 bytes) wins.
        let weak = sym(&r, &format!("{u}c_weak"));
        assert_eq!((weak.file.as_deref(), weak.weak_default), (Some("b.obj"), false), "{dir}");
        let comm = sym(&r, &format!("{u}c_comm"));
        assert_eq!((comm.kind, comm.file.as_deref()), ("common", Some("b.obj")));
        assert!(comm.value.is_some_and(|v| v % 32 == 0), "lld aligns a 24-byte common to 32");
        assert_eq!(sym(&r, &format!("{u}c_abs")).value, Some(0x1234));
        // Without b, the default stands in.
        let c = case(&format!("{dir}/symbols/lld-ab"));
        let args: Vec<String> = c.args.iter().filter(|a| *a != "b.obj").cloned().collect();
        let r = run_in(&c.dir, c.flavor, &args).unwrap();
        assert!(sym(&r, &format!("{u}c_weak")).weak_default);
    }
}

#[test]
fn directives_and_alternate_names() {
    // a.obj's .drectve holds /INCLUDE:"?count@?$Counter@H@@2HA"; rewritten (same length) to ask
    // for a library and to carry a directive nobody models.
    let mut a = obj("msvc64/a.obj");
    let from = b" /INCLUDE:\"?count@?$Counter@H@@2HA\"";
    let at = a.windows(from.len()).position(|w| w == from).unwrap();
    let to = format!("{:<1$}", " /DEFAULTLIB:libcmt /FOO:bar", from.len());
    a[at..at + from.len()].copy_from_slice(to.as_bytes());
    let files: Vec<(&str, Vec<u8>)> = ["crt0.obj", "b.obj", "odr1.obj", "odr2.obj"]
        .iter()
        .map(|f| (*f, obj(&format!("msvc64/{f}"))))
        .chain([("a.obj", a)])
        .collect();
    let says = |r: &Report, what: &str| r.diagnostics.iter().any(|d| d.severity == "note" && d.message.contains(what));
    // The library is searched as lld-link searches it; not found, the link stops in lld's words.
    let r = sim(Flavor::LldLink, &files, &["/entry:start"]).unwrap();
    assert!(says(&r, "directives not modelled: /FOO:bar") && !r.succeeds);
    assert_eq!(r.linker_output().trim_end(), "lld-link: error: could not open 'libcmt.lib': No such file or directory");
    let r = sim(Flavor::LldLink, &files, &["/entry:start", "/nodefaultlib"]).unwrap();
    assert!(r.succeeds, "{}", r.linker_output());
    let r = sim(Flavor::LldLink, &files, &["/entry:start", "/nodefaultlib:LIBCMT"]).unwrap();
    assert!(r.succeeds, "{}", r.linker_output());
    // /alternatename lets an undefined symbol resolve to another.
    let dir = common::fixture_path("link/asm64/any");
    let alone = |extra: &[&str]| {
        let mut args: Vec<String> = ["/entry:start", "main.obj"].iter().map(|s| s.to_string()).collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        run_in(&dir, Flavor::LldLink, &args).unwrap()
    };
    assert!(!alone(&[]).succeeds);
    assert!(alone(&["/alternatename:c_f=start", "/alternatename:c_d=start"]).succeeds);
    // /force:unresolved turns lld's undefined-symbol errors into warnings.
    let forced = alone(&["/force:unresolved"]);
    assert!(forced.succeeds);
    assert!(forced.linker_output().starts_with("lld-link: warning: undefined symbol: c_f"));
}

fn obj(rel: &str) -> Vec<u8> {
    common::fixture_bytes(&format!("link/{rel}"))
}

fn sim(flavor: Flavor, files: &[(&str, Vec<u8>)], extra: &[&str]) -> Result<Report, link::Unreadable> {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(files.iter().map(|(n, _)| n.to_string()));
    let read = |p: &str| {
        files.iter().find(|(n, _)| *n == p).map(|(_, d)| d.clone()).ok_or_else(|| std::io::ErrorKind::NotFound.into())
    };
    link::simulate(flavor, &args, &read)
}

#[test]
fn hostile_inputs_get_diagnostics() {
    let main = obj("asm64/assoc/main.obj");
    let a = obj("asm64/assoc/a.obj");
    // Truncated and garbage inputs cannot be read: exit 2, with the file named.
    for bad in [a[..a.len() / 3].to_vec(), vec![0xA5; 4096], Vec::new()] {
        let e = sim(Flavor::LldLink, &[("main.obj", main.clone()), ("bad.obj", bad)], &["/entry:start"]).unwrap_err();
        assert!(e.to_string().contains("bad.obj"), "{e}");
    }
    assert!(sim(Flavor::LldLink, &[], &["/entry:start"]).is_err());
    assert!(sim(Flavor::LldLink, &[("main.obj", main.clone())], &["/merge:.text"]).is_err());
    // A section associated with itself: lld's error, and the link goes on to report it.
    let bin = linkscope::load(&a).unwrap();
    let child = bin.comdats.iter().find(|c| c.associated_section.is_some()).unwrap().section;
    let sym = bin
        .symbols
        .iter()
        .find(|s| s.section == Some(child) && s.kind == linkscope::model::SymbolKind::Section)
        .unwrap();
    let at = (sym.span.offset + 18 + 12) as usize;
    let mut selfish = a.clone();
    selfish[at..at + 2].copy_from_slice(&(child as u16).to_le_bytes());
    let r = sim(Flavor::LldLink, &[("main.obj", main.clone()), ("a.obj", selfish)], &["/entry:start"]).unwrap();
    assert!(!r.succeeds);
    assert!(
        r.diagnostics.iter().any(|d| d.message.contains("has invalid reference to section")),
        "{:?}",
        r.diagnostics
    );
    // A cyclic /merge is reported, not followed forever.
    let r = sim(
        Flavor::LldLink,
        &[("main.obj", main.clone()), ("a.obj", a.clone())],
        &["/entry:start", "/merge:.x=.y", "/merge:.y=.x"],
    )
    .unwrap();
    assert!(r.diagnostics.iter().any(|d| d.message.contains("cycle")));
    // Many sections: a bigobj with 100,000 empty COMDATs, none with a symbol.
    let n: u32 = 100_000;
    let mut big = Vec::new();
    big.extend_from_slice(&0u16.to_le_bytes());
    big.extend_from_slice(&0xffffu16.to_le_bytes());
    big.extend_from_slice(&2u16.to_le_bytes());
    big.extend_from_slice(&0x8664u16.to_le_bytes());
    big.extend_from_slice(&0u32.to_le_bytes());
    big.extend_from_slice(&[
        0xc7, 0xa1, 0xba, 0xd1, 0xee, 0xba, 0xa9, 0x4b, 0xaf, 0x20, 0xfa, 0xf6, 0x6a, 0xa4, 0xdc, 0xb8,
    ]);
    big.extend_from_slice(&[0; 16]);
    big.extend_from_slice(&n.to_le_bytes());
    big.extend_from_slice(&(56 + 40 * n).to_le_bytes());
    big.extend_from_slice(&0u32.to_le_bytes());
    for _ in 0..n {
        big.extend_from_slice(b".text$x\0");
        big.extend_from_slice(&[0; 28]);
        big.extend_from_slice(&0x6050_1020u32.to_le_bytes());
    }
    big.extend_from_slice(&4u32.to_le_bytes());
    let t = std::time::Instant::now();
    let r = sim(Flavor::LldLink, &[("main.obj", main.clone()), ("big.obj", big)], &["/entry:start"]).unwrap();
    eprintln!("{n} COMDATs linked in {:?}", t.elapsed());
    assert_eq!(r.discarded.iter().filter(|d| d.file == "big.obj").count(), n as usize);
    // Bounded work: each input section is placed or discarded once, and nothing else grows with n.
    assert!(r.placements.len() + r.discarded.len() <= n as usize + 16, "{} placements", r.placements.len());
    assert!(r.comdats.len() + r.diagnostics.len() + r.output_sections.len() <= n as usize + 16);
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

#[test]
fn the_program_name_picks_the_linker_in_every_spelling() {
    use linkscope::link::command::{read, strip_program};
    let cases = [
        ("lld-link /out:x.exe a.obj", Some(Flavor::LldLink)),
        ("LLD-LINK.EXE /out:x.exe a.obj", Some(Flavor::LldLink)),
        (r"C:\llvm\bin\lld-link.exe /out:x.exe a.obj", Some(Flavor::LldLink)),
        ("link /out:x.exe a.obj", Some(Flavor::LldLink)),
        ("Link.exe /out:x.exe a.obj", Some(Flavor::LldLink)),
        ("ld.lld -m i386pep a.obj", Some(Flavor::LldMingw)),
        ("/usr/bin/ld.lld -m i386pep a.obj", Some(Flavor::LldMingw)),
        ("ld -o x.exe a.obj", Some(Flavor::GnuLd)),
        ("x86_64-w64-mingw32-ld -o x.exe a.obj", Some(Flavor::GnuLd)),
        ("/usr/bin/i686-w64-mingw32-ld -o x.exe a.obj", Some(Flavor::GnuLd)),
        ("collect2 -o x.exe a.obj", Some(Flavor::GnuLd)),
    ];
    for (line, flavor) in cases {
        let (f, args) = strip_program(&words(line));
        assert_eq!(f, flavor, "{line}");
        assert_eq!(args, words(line)[1..].to_vec(), "{line}");
    }
    // No program name: the line is the linker's arguments as they are.
    assert_eq!(strip_program(&words("/out:x.exe a.obj")), (None, words("/out:x.exe a.obj")));
    assert_eq!(strip_program(&words("a.obj b.obj")), (None, words("a.obj b.obj")));
    assert_eq!(strip_program(&[]), (None, Vec::new()));
    // Driver lines: the inputs and -Wl, options, the rest in a note.
    let c = read(&words("x86_64-w64-mingw32-gcc -O2 -o x.exe main.o a.o -Wl,--gc-sections,-e,start -nostdlib"));
    assert_eq!(c.flavor, Some(Flavor::GnuLd));
    assert_eq!(c.args, words("-o x.exe main.o a.o --gc-sections -e start"));
    assert!(c.notes.iter().any(|n| n.contains("-O2")), "{:?}", c.notes);
    let c = read(&words("clang -fuse-ld=lld -m64 main.o libx.a -Wl,--icf=all"));
    assert_eq!(c.flavor, Some(Flavor::LldMingw));
    assert_eq!(c.args, words("-m i386pep main.o libx.a --icf=all"));
    assert!(c.notes.iter().any(|n| n.contains("start-up objects")), "{:?}", c.notes);
    for (line, flavor) in [
        ("gcc a.o", Flavor::GnuLd),
        ("g++ a.o", Flavor::GnuLd),
        ("i686-w64-mingw32-g++ a.o", Flavor::GnuLd),
        ("gcc-13 a.o", Flavor::GnuLd),
        ("clang++ a.o", Flavor::LldMingw),
        ("clang -fuse-ld=bfd a.o", Flavor::GnuLd),
        ("gcc -fuse-ld=lld a.o", Flavor::LldMingw),
    ] {
        let c = read(&words(line));
        assert_eq!(c.flavor, Some(flavor), "{line}");
        assert_eq!(c.args, words("a.o"), "{line}");
    }
    // Each recorded link's command line, program name first, reads as the test reads it.
    for rel in all_cases() {
        let c = case(&rel);
        let text = std::fs::read_to_string(c.dir.join(format!("{}.cmd", c.name))).unwrap();
        let line: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
        assert_eq!(strip_program(&line), (Some(c.flavor), c.args.clone()), "{rel}");
    }
}

fn cli_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).current_dir(dir).args(args).output().unwrap()
}

#[test]
fn the_cli_takes_the_linker_from_the_program_name() {
    let c = case("asm64/assoc/lld-ab");
    let line = std::fs::read_to_string(c.dir.join("lld-ab.cmd")).unwrap();
    let line: Vec<&str> = line.lines().filter(|l| !l.is_empty()).collect();
    let mut args = vec!["link", "--json", "--"];
    args.extend(line.iter().copied());
    let out = cli_in(&c.dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["flavor"], "lld-link");
    // --flavor still works, and wins (with a note) when the program name says otherwise.
    let gnu = std::fs::read_to_string(c.dir.join("gnu-ab.cmd")).unwrap();
    let mut args = vec!["link", "--flavor", "lld-mingw", "--json", "--"];
    args.extend(gnu.lines().filter(|l| !l.is_empty()));
    let out = cli_in(&c.dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(json["flavor"], "lld-mingw");
    assert!(stderr.contains("--flavor lld-mingw wins over x86_64-w64-mingw32-ld"), "{stderr}");
    // Neither: exit 2, saying how to name the linker.
    let out = cli_in(&c.dir, &["link", "--", "main.obj", "a.obj"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--flavor"));
    // A map alone is compared: every input section, no difference.
    let mut args = vec!["link", "--map", "lld-ab.lldmap", "--json", "--"];
    args.extend(line.iter().copied());
    let out = cli_in(&c.dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["compare"]["placements_compared"].as_u64().unwrap() > 0, "{json}");
}

#[test]
fn noduplicates_is_explained_as_the_rule_it_is() {
    let r = run(&case("asm64/nodup/lld-ab"));
    assert!(!r.succeeds);
    assert!(r.linker_output().contains("duplicate symbol: c_f"), "{}", r.linker_output());
    let c = r.comdats.iter().find(|c| c.symbol == "c_f").unwrap();
    assert_eq!(c.selection, "NODUPLICATES");
    assert!(c.why.contains("only one definition may exist") && c.why.contains("duplicate symbol"), "{}", c.why);
    let rows = r.section_rows();
    let placed = rows.iter().find(|row| row.fate == "placed" && row.name == ".text$c_f").unwrap();
    assert!(placed.why.contains("NODUPLICATES: only one definition may exist"), "{}", placed.why);
}

#[test]
fn without_a_map_the_images_pdb_is_the_truth() {
    for arch in ["msvc64", "msvc32"] {
        let c = case(&format!("{arch}/lld-debug"));
        let image = c.dir.join("lld-debug.exe");
        let r = run(&c);
        // Against the PDB's section contributions: every input section, as against the map.
        let by_pdb = linkscope::session::link::compare_files(&r, Some(&image), None).unwrap();
        let by_map =
            linkscope::session::link::compare_files(&r, Some(&image), Some(&c.dir.join("lld-debug.lldmap"))).unwrap();
        assert!(by_pdb.differences.is_empty(), "{arch}: {:?}", by_pdb.differences);
        assert_eq!(by_pdb.placements_compared, by_map.placements_compared, "{arch}");
        assert!(by_pdb.placements_compared > 50, "{arch}");
        // The inputs swapped: other COMDAT copies win, and the contributions say where.
        let mut swapped = c.args.clone();
        let objs: Vec<usize> = (0..swapped.len()).filter(|&i| swapped[i].ends_with(".obj")).collect();
        let names: Vec<String> = objs.iter().rev().map(|&i| swapped[i].clone()).collect();
        for (&i, n) in objs.iter().zip(names) {
            swapped[i] = n;
        }
        let r = run_in(&c.dir, c.flavor, &swapped).unwrap();
        let d = linkscope::session::link::compare_files(&r, Some(&image), None).unwrap();
        assert!(d.differences.iter().any(|x| x.kind == "contribution"), "{arch}: {:?}", d.differences);
    }
}
