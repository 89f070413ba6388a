//! Golden text reports: `linkscope inspect` output for a few fixtures, reviewed when it changes.
//! Regenerate with `LINKSCOPE_BLESS=1 cargo test --test golden` and read the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

const CASES: &[(&str, &str)] = &[
    ("msvc64/comdat.obj", "msvc64-comdat.obj.txt"),
    ("mingw64/autoimport-small.exe", "mingw64-autoimport-small.exe.txt"),
    ("mingw32/autoimport-v1.exe", "mingw32-autoimport-v1.exe.txt"),
    ("lld64/autoimport.exe", "lld64-autoimport.exe.txt"),
    ("msvc64/data.lib", "msvc64-data.lib.txt"),
    ("elf/main-nopie", "elf-main-nopie.txt"),
];

#[test]
fn text_reports_match_golden_files() {
    let bless = std::env::var_os("LINKSCOPE_BLESS").is_some();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut failed = Vec::new();
    for (fixture, golden) in CASES {
        let bin = common::load(fixture);
        let mut out = Vec::new();
        linkscope::report::text::write_text(&mut out, &bin, None).unwrap();
        let out = String::from_utf8(out).unwrap();
        let path = dir.join(golden);
        if bless {
            std::fs::write(&path, &out).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != out {
            failed.push(golden.to_string());
        }
    }
    assert!(failed.is_empty(), "golden reports differ: {failed:?} (LINKSCOPE_BLESS=1 regenerates them)");
}
