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
    let (names, labels) = (a.names().clone(), a.labels().clone());
    let l = Listing { bin: &a.bin, index: &a.index, data: &a.data, sweep: &sweep, names, labels, threads };
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

/// Fixtures with `llvm-objdump -d` label and call lines captured beside them
/// (`tests/fixtures/capture-disasm.sh`).
const LABELLED: &[&str] = &[
    "mingw64/autoimport.exe",
    "mingw64/autoimport-stripped.exe",
    "mingw64/data.dll",
    "mingw32/autoimport.exe",
    "mingw32/data.dll",
    "lld64/autoimport-symtab.exe",
    "lld64/autoimport.exe",
    "msvc64/features.dll",
    "elf/main-nopie",
    "elf/main-pie",
    "elf/libdata.so",
];

/// `ADDR <name>:` of a listing.
fn label_line(l: &str) -> Option<(u64, &str)> {
    let (addr, rest) = l.split_once(" <")?;
    let name = rest.strip_suffix(">:")?;
    Some((u64::from_str_radix(addr, 16).ok()?, name))
}

/// objdump's direct `call` / `jmp` lines: site → (mnemonic, target, `<name>`).
fn objdump_branches(text: &str) -> Vec<(u64, String, u64, String)> {
    let mut out = Vec::new();
    for l in text.lines().filter(|l| label_line(l).is_none()) {
        let (site, rest) = l.trim_start().split_once(':').unwrap();
        let mut w = rest.split_whitespace();
        let mnemonic = w.next().unwrap().trim_end_matches('q').to_string();
        let target = w.next().unwrap().trim_start_matches("0x");
        let name = rest.split_once('<').unwrap().1.trim_end().trim_end_matches('>').to_string();
        out.push((u64::from_str_radix(site, 16).unwrap(), mnemonic, u64::from_str_radix(target, 16).unwrap(), name));
    }
    out
}

#[test]
fn labels_and_call_names_agree_with_llvm_objdump() {
    for f in LABELLED {
        let path = common::fixture_path(f);
        let reference = std::fs::read_to_string(
            path.with_file_name(format!("{}.objdump-labels", path.file_name().unwrap().to_str().unwrap())),
        )
        .unwrap();
        let a = Analyzed::open(&path, &Analysis::scan(Scan::None, 1)).unwrap();
        let text = String::from_utf8(listing(&a, PIECE_BYTES, 1, false)).unwrap();
        // Ours: label lines, instruction starts, and each row's instruction text.
        let mut labels = std::collections::HashMap::new();
        let mut rows = std::collections::HashMap::new();
        for l in text.lines() {
            if let Some((va, name)) = label_line(l) {
                labels.insert(va, name.to_string());
            } else if let Some((va, rest)) = l.trim_start().split_once(":  ") {
                if let Ok(va) = u64::from_str_radix(va, 16) {
                    let insn = rest.get(31..).unwrap_or("").split("  ;").next().unwrap().trim().to_string();
                    rows.insert(va, insn);
                }
            }
        }
        for (va, name) in &labels {
            if let Some(hex) = name.strip_prefix("sub_") {
                assert_eq!(u64::from_str_radix(hex, 16).ok(), Some(*va), "{f}: label {name} at {va:#x}");
            }
        }
        // Every name a label or a symbol gives an address, to resolve our operands.
        let base = a.bin.image_base.unwrap_or(0);
        let mut address_of: std::collections::HashMap<String, Vec<u64>> = std::collections::HashMap::new();
        for (va, name) in &labels {
            address_of.entry(name.clone()).or_default().push(*va);
        }
        for &(rva, p) in &a.index.symbols_sorted {
            let s = &a.bin.symbols[p as usize];
            address_of.entry(s.name.clone()).or_default().push(base + rva);
        }
        let alias = |va: u64, name: &str| address_of.get(name).is_some_and(|v| v.contains(&va));
        // Labels: objdump's symbol labels where an instruction starts are ours (or an alias).
        let mut checked = 0;
        for l in reference.lines() {
            let Some((va, name)) = label_line(l) else { continue };
            if name.starts_with('.') || !rows.contains_key(&va) {
                continue; // a section symbol, or a data label where no instruction starts
            }
            let ours = labels.get(&va).unwrap_or_else(|| panic!("{f}: no label at {va:#x} (objdump: {name})"));
            assert!(ours == name || alias(va, ours) && alias(va, name), "{f}: {va:#x}: {ours} vs objdump's {name}");
            checked += 1;
        }
        // Direct calls and jumps: our operand names exactly objdump's target.
        for (site, mnemonic, target, name) in objdump_branches(&reference) {
            let insn = rows.get(&site).unwrap_or_else(|| panic!("{f}: no instruction at {site:#x}"));
            let operand =
                insn.strip_prefix(&format!("{mnemonic} ")).unwrap_or_else(|| panic!("{f}: {site:#x}: {insn}"));
            if operand.starts_with("0x") {
                // Unnamed: only where objdump, too, knows no name but a section's.
                assert!(name.starts_with('.'), "{f}: {site:#x}: {insn} unnamed, objdump: <{name}>");
                assert!(mnemonic != "call" || a.bin.format.is_elf(), "{f}: {site:#x}: a call target without a label");
                continue;
            }
            let (label, off) = match operand.rsplit_once('+') {
                Some((l, o)) if o.starts_with("0x") => (l, u64::from_str_radix(&o[2..], 16).unwrap()),
                _ => (operand, 0),
            };
            let resolved = address_of.get(label).is_some_and(|v| v.iter().any(|&va| va + off == target));
            assert!(resolved, "{f}: {site:#x}: `{insn}` does not name {target:#x} (objdump: <{name}>)");
            if !name.contains('+') && !name.starts_with('.') {
                assert!(
                    label == name || alias(target, label) && alias(target, &name),
                    "{f}: {site:#x}: {insn} vs <{name}>"
                );
            }
            checked += 1;
        }
        assert!(checked > 0, "{f}: nothing compared");
        // `disasm --json` carries the same labels.
        let json: serde_json::Value = serde_json::from_slice(&listing(&a, PIECE_BYTES, 1, true)).unwrap();
        let lines = json["lines"].as_array().unwrap();
        let in_json: std::collections::HashMap<u64, String> =
            lines.iter().filter_map(|l| Some((l["va"].as_u64()?, l["label"].as_str()?.to_string()))).collect();
        assert!(lines.iter().all(|l| l.get("label").is_some()), "{f}: a JSON line without `label`");
        let shown: std::collections::HashMap<u64, String> =
            labels.into_iter().filter(|(va, _)| rows.contains_key(va)).collect();
        assert_eq!(in_json, shown, "{f}: JSON labels differ from the text's");
    }
}
