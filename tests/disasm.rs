//! `disasm` lists the same bytes for any number of threads and any size of the pieces the code is
//! cut into (at function starts), lists every instruction the scan's index holds, and lists a
//! large image (and `refs --json` reports it) in bounded memory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod pe_support;

use std::path::Path;
use std::process::{Command, Stdio};

use linkscope::analysis::listing::{PieceSweep, PIECE_BYTES};
use linkscope::report::disasm::Listing;
use linkscope::session::{Analysis, Analyzed, Scan};

/// Fixtures with code: x64 and x86 PE (GNU, MSVC, lld), ELF, an object.
const FIXTURES: &[&str] = &[
    "mingw64/autoimport.exe",
    "mingw32/autoimport.exe",
    "lld64/autoimport-symtab.exe",
    "patch/x64-reloc-holder/driver.exe",
    "patch/x86-reloc-holder/refs.dll",
];

fn cli(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The listing of `a` (text or JSON) with pieces of `piece_bytes` on `threads` threads.
fn listing(a: &Analyzed, piece_bytes: usize, threads: usize, json: bool) -> Vec<u8> {
    let sweep = PieceSweep::new(&a.bin, &a.data, &a.index, Vec::new(), piece_bytes);
    let l = Listing { bin: &a.bin, index: &a.index, data: &a.data, sweep: &sweep, names: a.names().clone(), threads };
    let mut out = Vec::new();
    let all = |_: usize, _: u64| true;
    if json {
        l.write_json(&mut out, &all).unwrap();
    } else {
        l.write_text(&mut out, &all).unwrap();
    }
    out
}

fn fixtures() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = FIXTURES.iter().map(|f| common::fixture_path(f)).collect();
    // An ELF executable and an object, whichever the fixtures have.
    for dir in ["elf", "msvc64"] {
        let mut found: Vec<_> = std::fs::read_dir(common::fixture_path(dir))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().is_none_or(|e| matches!(e.to_str(), Some("obj" | "o" | "exe" | "so" | "dll")))
            })
            .collect();
        found.sort();
        v.extend(found.into_iter().take(3));
    }
    v
}

#[test]
fn pieces_and_threads_give_the_same_listing() {
    for path in fixtures() {
        let Ok(a) = Analyzed::open(&path, &Analysis::scan(Scan::Listing, 1)) else { continue };
        for json in [false, true] {
            let whole = listing(&a, usize::MAX / 2, 1, json);
            for (piece, threads) in [(PIECE_BYTES, 1), (16, 1), (16, 2), (64, 3), (16, 7), (256, 7)] {
                let l = listing(&a, piece, threads, json);
                assert!(l == whole, "{}: json {json}, pieces of {piece} bytes on {threads} threads", path.display());
            }
        }
        // Every row of the scan's instruction index is a line, at its address.
        let doc: serde_json::Value = serde_json::from_slice(&listing(&a, 16, 3, true)).unwrap();
        let rvas: Vec<u64> = doc["lines"].as_array().unwrap().iter().map(|l| l["rva"].as_u64().unwrap()).collect();
        let ix = &a.refs.insns;
        let want: Vec<u64> = (0..ix.len()).map(|r| ix.at(r).unwrap().1).collect();
        assert_eq!(rvas, want, "{}", path.display());
    }
}

#[test]
fn threads_give_identical_bytes_from_the_command_line() {
    let dir = tempdir("threads");
    let image = dir.join("funcs.exe");
    // 3,000 functions: 144 KiB of code, three pieces at least.
    std::fs::write(&image, pe_support::image(3000)).unwrap();
    let mut files = fixtures();
    files.push(image.clone());
    for path in &files {
        let p = path.to_str().unwrap();
        for json in [false, true] {
            let args = |t: &'static str| {
                let mut a = vec!["disasm", p, "--threads", t];
                if json {
                    a.push("--json");
                }
                a
            };
            let one = cli(&args("1"));
            for t in ["2", "3", "7"] {
                assert!(cli(&args(t)) == one, "{p}: json {json}, {t} threads");
            }
        }
    }
    // The synthetic image lists every instruction it was built with, one line each.
    let text = String::from_utf8(cli(&["disasm", image.to_str().unwrap(), "--threads", "2"])).unwrap();
    let lines = text.lines().filter(|l| l.trim_start().split(':').next().is_some_and(is_hex)).count();
    assert_eq!(lines, 3000 * pe_support::INSTRUCTIONS_PER_FUNCTION);
    std::fs::remove_dir_all(&dir).ok();
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("linkscope-disasm-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Peak resident memory of `linkscope ARGS` in KiB (GNU time's `%M`), its output discarded;
/// `None` without GNU time.
fn peak_rss_kib(args: &[&str]) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let out = Command::new(time)
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_linkscope"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    Some(err.lines().last()?.trim().parse().expect("GNU time's %M"))
}

/// A memory test, not a time test: an image of about two million instructions is listed (text
/// and JSON) in at most its size + 128 MiB, and `refs --json` and the `refs` table report its
/// sites (streamed from the scan, never kept) in the same bound.
#[test]
fn a_large_image_is_listed_in_bounded_memory() {
    let functions = 2_000_000 / pe_support::INSTRUCTIONS_PER_FUNCTION;
    let dir = tempdir("memory");
    let image = dir.join("large.exe");
    let bytes = pe_support::image(functions);
    std::fs::write(&image, &bytes).unwrap();
    let file_kib = bytes.len() as u64 / 1024;
    let p = image.to_str().unwrap();
    let runs: [(&[&str], u64); 4] =
        [(&["disasm", p], 128), (&["disasm", "--json", p], 128), (&["refs", "--json", p], 128), (&["refs", p], 128)];
    for (args, mib) in runs {
        let Some(peak) = peak_rss_kib(args) else {
            eprintln!("skipped: no GNU time at /usr/bin/time to read the peak resident memory");
            break;
        };
        let bound = file_kib + mib * 1024;
        eprintln!("{args:?}: peak {peak} KiB, bound {bound} KiB (file {file_kib} KiB + {mib} MiB)");
        assert!(peak <= bound, "{args:?}: peak {peak} KiB over {bound} KiB");
    }
    std::fs::remove_dir_all(&dir).ok();
}
