//! Where the simulated linkers find their inputs: `-L` / `-l` as GNU ld and ld.lld's MinGW driver
//! search them, lld-link's `/libpath:`, `LIB` and `/defaultlib:` (from the command line and
//! from `.drectve`), each "not found" in the linker's words — checked on the links recorded in
//! `tests/fixtures/link/search64` (every one of them is also predicted exactly by
//! `tests/link.rs`) — and a compiler driver's own link line (`x86_64-w64-mingw32-gcc -v`'s
//! collect2 line, `driver64/`), which links Debian's CRT and libraries: that test skips, saying
//! so, where `gcc-mingw-w64-x86-64` is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use linkscope::link::search::Environment;
use linkscope::link::{self, command, compare, map, Flavor, Report};

fn dir() -> PathBuf {
    common::fixture_path("link/search64")
}

/// Simulate `args` (program name first) in `dir`, reading relative paths there.
fn run_line(dir: &Path, line: &[&str], env: &Environment) -> Report {
    let words: Vec<String> = line.iter().map(|s| s.to_string()).collect();
    let cmd = command::read(&words);
    let read = |p: &str| std::fs::read(dir.join(p));
    link::simulate_in(cmd.flavor.unwrap(), &cmd.args, env, &read, 2).unwrap()
}

/// The recorded link `name` of search64, simulated from its `.cmd`.
fn recorded(name: &str) -> Report {
    let text = std::fs::read_to_string(dir().join(format!("{name}.cmd"))).unwrap();
    let line: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    run_line(&dir(), &line, &Environment::default())
}

/// The archive members a link loaded (`libbar.lib(bar-d1-liblib.o)`), sorted.
fn members(r: &Report) -> Vec<String> {
    let mut m: Vec<String> = r.members_loaded.iter().map(|m| m.file.clone()).collect();
    m.sort();
    m
}

#[test]
fn each_linker_finds_the_library_its_own_order_finds() {
    // GNU ld: per directory, the PE names first (libbar.lib before d2's libbar.a).
    assert_eq!(
        members(&recorded("gnu-L12")),
        ["baz.lib(baz-d1-lib.o)", "libbar.lib(bar-d1-liblib.o)", "libfoo.a(foo-d1-a.o)"]
    );
    // lld's MinGW driver never tries lib<name>.lib: d2's libbar.a.
    assert_eq!(
        members(&recorded("lldmingw-L12")),
        ["baz.lib(baz-d1-lib.o)", "libbar.a(bar-d2-a.o)", "libfoo.a(foo-d1-a.o)"]
    );
    // The order of the directories decides: d2's import-library name wins there.
    assert_eq!(
        members(&recorded("gnu-L21")),
        ["libbar.a(bar-d2-a.o)", "libbaz.a(baz-d2-a.o)", "libfoo.dll.a(foo-d2-dlla.o)"]
    );
    // -Bstatic: lib<name>.a in every directory before <name>.lib (GNU ld only).
    assert_eq!(
        members(&recorded("gnu-static")),
        ["libbar.a(bar-d2-a.o)", "libbaz.a(baz-d2-a.o)", "libfoo.a(foo-d1-a.o)"]
    );
    // -l:file, --sysroot with -L=, separate -l / --library / --library-path.
    assert!(members(&recorded("gnu-colon")).contains(&"libbar.lib(bar-d1-liblib.o)".to_string()));
    assert_eq!(members(&recorded("gnu-sysroot")).len(), 3);
    assert!(recorded("gnu-l-separate").succeeds);
}

#[test]
fn what_is_not_found_is_said_in_the_linkers_words() {
    let out = |n: &str| {
        let r = recorded(n);
        assert!(!r.succeeds, "{n}");
        r.linker_output().trim_end().to_string()
    };
    assert_eq!(out("gnu-static-d1"), "x86_64-w64-mingw32-ld: cannot find -lbar: No such file or directory");
    assert_eq!(
        out("gnu-missing"),
        "x86_64-w64-mingw32-ld: cannot find nope.obj: No such file or directory\n\
         x86_64-w64-mingw32-ld: cannot find -lnope: No such file or directory"
    );
    // The MinGW driver stops at its -l's: the missing object is never looked at.
    assert_eq!(
        out("lldmingw-missing"),
        "lld: error: unable to find library -lnope\nlld: error: unable to find library -lnone"
    );
    assert_eq!(out("lldmingw-missing-file"), "ld.lld: error: could not open 'nope.obj': No such file or directory");
    assert_eq!(
        out("lld-missing"),
        "lld-link: error: could not open 'nope.lib': No such file or directory\n\
         lld-link: error: could not open 'nope': No such file or directory\n\
         lld-link: error: could not open 'none.lib': No such file or directory"
    );
    assert_eq!(out("lld-defaultlib-missing"), "lld-link: error: could not open 'nope.lib': No such file or directory");
}

#[test]
fn default_libraries_are_searched_in_libpath_and_lib() {
    let want = ["baz.lib(baz-d1-lib.o)", "libbar.a(bar-d2-a.o)", "libfoo.a(foo-d1-a.o)"];
    assert_eq!(members(&recorded("lld-defaultlib")), want);
    assert_eq!(members(&recorded("lld-defaultlib-cmd")), want);
    // MinGW mode: foo.lib exists nowhere, so libfoo.a.
    assert_eq!(members(&recorded("lldmingw-defaultlib")), want);
    // A library already on the command line is not read again; /nodefaultlib:baz drops it.
    assert!(recorded("lld-defaultlib-twice").succeeds);
    let r = recorded("lld-nodefaultlib");
    assert!(r.linker_output().starts_with("lld-link: error: undefined symbol: c_baz"));
    // LIB: searched after /libpath:, in its order; /lldignoreenv turns it off.
    let line = ["lld-link", "/entry:start", "/subsystem:console", "main.obj", "dl.obj"];
    let env = Environment { lib: Some("d2;d1".into()), cwd: None };
    let r = run_line(&dir(), &line, &env);
    assert_eq!(members(&r), ["baz.lib(baz-d1-lib.o)", "libbar.a(bar-d2-a.o)", "libfoo.a(foo-d1-a.o)"]);
    let mut ignore = line.to_vec();
    ignore.push("/lldignoreenv");
    let r = run_line(&dir(), &ignore, &env);
    assert!(r.linker_output().starts_with("lld-link: error: could not open 'baz.lib'"), "{}", r.linker_output());
    assert!(!run_line(&dir(), &line, &Environment::default()).succeeds);
}

#[test]
fn a_driver_line_names_its_plugin_without_it_being_read() {
    // collect2 as the program: GNU ld; the plugin and its options are not inputs.
    let line = [
        "/usr/lib/gcc/x86_64-w64-mingw32/12-win32/collect2",
        "-plugin",
        "/nonexistent/liblto_plugin.so",
        "-plugin-opt=/nonexistent/lto-wrapper",
        "-plugin-opt=-pass-through=-lnope",
        "-m",
        "i386pep",
        "-Bdynamic",
        "-e",
        "start",
        "-Ld1",
        "main.obj",
        "-L",
        "d2",
        "-lfoo",
        "-lbar",
        "-lbaz",
    ];
    let r = run_line(&dir(), &line, &Environment::default());
    assert!(r.succeeds, "{}", r.linker_output());
    assert_eq!(r.flavor, "gnu-ld");
    assert!(r.ignored_options.iter().any(|o| o == "-plugin /nonexistent/liblto_plugin.so"));
}

#[test]
fn a_gcc_driver_line_links_debians_crt_and_libraries_as_gnu_ld_did() {
    let probe = "/usr/x86_64-w64-mingw32/lib/libkernel32.a";
    if !Path::new(probe).exists() {
        eprintln!("skipped: {probe} is absent (apt-get install gcc-mingw-w64-x86-64 to run this test)");
        return;
    }
    let dir = common::fixture_path("link/driver64");
    let line = std::fs::read_to_string(dir.join("gnu-gcc.line")).unwrap();
    let words = link::args::split_command_line(&line);
    assert!(words[0].ends_with("/collect2") && words.iter().any(|w| w == "-plugin"));
    let cmd = command::read(&words);
    assert_eq!(cmd.flavor, Some(Flavor::GnuLd));
    let read = |p: &str| std::fs::read(dir.join(p));
    let r = link::simulate_in(Flavor::GnuLd, &cmd.args, &Environment::default(), &read, 2).unwrap();
    let exit: i32 = std::fs::read_to_string(dir.join("gnu-gcc.exit")).unwrap().trim().parse().unwrap();
    assert_eq!((r.exit_code(), r.succeeds), (exit, true), "{}", r.linker_output());
    // Every archive member GNU ld loaded, in its order (the map's first list).
    let map_text = std::fs::read_to_string(dir.join("gnu-gcc.gnumap")).unwrap();
    let loaded: Vec<String> = r.members_loaded.iter().map(|m| m.file.clone()).collect();
    assert_eq!(loaded, common::gnu_map_members(&map_text));
    // The section table and every input section where the map puts it; the discarded list.
    let image = std::fs::read(dir.join("gnu-gcc.exe")).unwrap();
    let m = map::parse(&map_text).unwrap();
    let cmp = compare::compare(&r, &image, Some(&m)).unwrap();
    assert!(cmp.differences.is_empty(), "{:?}", &cmp.differences[..cmp.differences.len().min(10)]);
    assert!(cmp.sections_compared >= 10 && cmp.placements_compared >= 500, "{cmp:?}");
}
