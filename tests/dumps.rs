//! Process memory as users hold it: minidumps written by wine's dbghelp, an ELF core written by
//! gcore, a live process. Every module verifies with 0 mismatches, `inspect` lists the bases the
//! fixture programs recorded, faults seeded into a copy are found exactly, hostile dumps fail
//! with a diagnostic (exit 2), never a panic. Fixtures: tests/fixtures/dumps (build.sh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{fixture_path, json_of, run, same_libc};
use serde_json::Value;

fn p(rel: &str) -> String {
    fixture_path(&format!("dumps/{rel}")).display().to_string()
}

/// The dump's bytes, gunzipped.
fn gunzip(rel: &str) -> Vec<u8> {
    linkscope::formats::dump::gunzip(&std::fs::read(p(rel)).unwrap(), 1 << 30).unwrap()
}

/// A scratch file for a variant of a dump.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linkscope-dumps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, bytes).unwrap();
    f
}

/// `verify IMAGE --dump DUMP --json`: the document and the exit code.
fn verify(image: &str, dump: &str, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["verify", image, "--dump", dump, "--json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    (json_of(&out), out.status.code().unwrap())
}

const CASES: [(&str, &str, &[&str]); 3] = [
    ("elf-core", "core.gz", &["main", "libdata.so"]),
    ("md-x64-gnu", "self.dmp.gz", &["autoimport.exe", "data.dll"]),
    ("md-x64-collide", "self.dmp.gz", &["collide.exe", "data.dll", "data2.dll"]),
];

#[test]
fn every_module_of_every_dump_verifies() {
    let same_libc = same_libc("dumps/elf-core");
    for (case, dump, modules) in CASES {
        for m in modules {
            let (v, code) = verify(&p(&format!("{case}/{m}")), &p(&format!("{case}/{dump}")), &[]);
            let mm = v["mismatches"].as_array().unwrap();
            if case == "elf-core" && !same_libc {
                // Another libc: its slots may differ, nothing else.
                eprintln!("note: this machine's libc is not the core's; libc's slots not required to match");
                assert!(
                    mm.iter().all(|m| m["structure"].as_str().unwrap().contains("libc.so.6!")),
                    "{case}/{m}: {mm:?}"
                );
                continue;
            }
            assert_eq!(code, 0, "{case}/{m}: {v}");
            assert_eq!(mm.len(), 0, "{case}/{m}");
            assert!(v["checked"].as_u64().unwrap() > 30, "{case}/{m}: {v}");
            assert_eq!(v["not_in_dump"], 0, "{case}/{m}");
            assert_eq!(v["dump"]["found_by"], "file-name");
            // Every module's base came from the dump.
            for md in v["modules"].as_array().unwrap() {
                assert_eq!(md["base_from"], "dump", "{case}/{m}: {md}");
            }
        }
    }
}

#[test]
fn the_relocated_dll_is_where_wine_put_it_and_a_given_base_wins() {
    let (v, _) = verify(&p("md-x64-collide/collide.exe"), &p("md-x64-collide/self.dmp.gz"), &[]);
    let data2 = v["modules"].as_array().unwrap().iter().find(|m| m["name"] == "data2.dll").unwrap().clone();
    assert_eq!(data2["base"], 0x830000);
    assert_eq!(data2["relocated"], true);
    // A wrong base typed by hand is taken as given, and the IAT slots into it then differ.
    let (v, code) =
        verify(&p("md-x64-collide/collide.exe"), &p("md-x64-collide/self.dmp.gz"), &["--base", "data2.dll=0x10000000"]);
    assert_eq!(code, 1);
    let data2 = v["modules"].as_array().unwrap().iter().find(|m| m["name"] == "data2.dll").unwrap().clone();
    assert_eq!(data2["base_from"], "given");
}

#[test]
fn explain_reads_the_memory_of_a_module_in_a_minidump() {
    // data2.dll moved by wine: every byte of it that differs from its file has a cause.
    for module in ["collide.exe", "data2.dll"] {
        let (v, code) =
            verify(&p(&format!("md-x64-collide/{module}")), &p("md-x64-collide/self.dmp.gz"), &["--explain"]);
        assert_eq!(code, 0, "{module}: {v}");
        assert_eq!(v["explain"]["unexplained_bytes"], 0, "{module}");
        assert!(v["unexplained"].as_array().unwrap().is_empty(), "{module}");
        assert!(v["explain"]["bytes_differing"].as_u64().unwrap() > 0, "{module}");
    }
    let (v, _) = verify(&p("md-x64-collide/data2.dll"), &p("md-x64-collide/self.dmp.gz"), &["--explain"]);
    // Moved from its preferred base: its 30 base-relocated fields and its 22 IAT slots.
    assert_eq!(v["explain"]["by_cause"]["base-reloc"]["places"], 30);
    assert_eq!(v["explain"]["by_cause"]["iat"]["places"], 22);
}

/// `module NAME base 0x.. size 0x..` lines of a wine run; `/proc/PID/maps` offset-0 lines of
/// the ELF run.
fn recorded(case: &str) -> Vec<(String, u64)> {
    if case == "elf-core" {
        let maps = std::fs::read_to_string(p("elf-core/maps.txt")).unwrap();
        return maps
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let name = f.get(5)?.rsplit('/').next()?;
                (f[2] == "00000000" && (name == "main" || name == "libdata.so"))
                    .then(|| (name.to_string(), u64::from_str_radix(f[0].split('-').next().unwrap(), 16).unwrap()))
            })
            .collect();
    }
    let out = std::fs::read_to_string(p(&format!("{case}/run.out"))).unwrap();
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&"module")).then(|| (f[1].to_string(), u64::from_str_radix(&f[3][2..], 16).unwrap()))
        })
        .collect()
}

#[test]
fn inspect_lists_the_bases_the_programs_recorded() {
    for (case, dump, modules) in CASES {
        let out = run(&["inspect", &p(&format!("{case}/{dump}")), "--json"]);
        assert_eq!(out.status.code(), Some(0), "{case}: {}", String::from_utf8_lossy(&out.stderr));
        let v = json_of(&out);
        assert_eq!(v["format"], if case == "elf-core" { "elf-core" } else { "minidump" });
        assert_eq!(v["arch"], "x86_64");
        let rec = recorded(case);
        assert_eq!(rec.len(), modules.len(), "{case}: {rec:?}");
        for (name, base) in rec {
            let m = v["modules"].as_array().unwrap().iter().find(|m| m["name"] == name.as_str()).unwrap();
            assert_eq!(m["base"], base, "{case}/{name}");
            assert_eq!(m["complete"], true, "{case}/{name}");
            assert_eq!(m["file_found"], true, "{case}/{name}");
        }
        // The system DLLs / libc were trimmed out: listed, not held, their files not beside.
        assert!(v["modules"].as_array().unwrap().iter().any(|m| m["complete"] == false));
        assert!(!v["memory"].as_array().unwrap().is_empty());
        let text = run(&["inspect", &p(&format!("{case}/{dump}"))]);
        assert!(String::from_utf8_lossy(&text.stdout).contains("complete"));
    }
}

/// The plan of `image` as `patch --json` gives it, at the bases of `dump`.
fn plan_json(image: &str, dump_rel: &str) -> Value {
    let (v, _) = verify(image, &p(dump_rel), &[]);
    let mut args = vec!["patch".to_string(), image.to_string(), "--json".to_string()];
    for m in v["modules"].as_array().unwrap().iter().skip(1) {
        args.push("--base".into());
        args.push(format!("{}=0x{:x}", m["name"].as_str().unwrap(), m["base"].as_u64().unwrap()));
    }
    args.push("--image-base".into());
    args.push(format!("0x{:x}", v["modules"][0]["base"].as_u64().unwrap()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    json_of(&run(&a))
}

/// A copy of the dump with the byte at `va` flipped.
fn seeded(rel: &str, va: u64, name: &str) -> PathBuf {
    let mut bytes = gunzip(rel);
    let d = linkscope::formats::dump::read(&bytes).unwrap();
    let r = d.memory.iter().find(|r| r.start <= va && va < r.start + r.size).unwrap();
    let off = (r.offset + (va - r.start)) as usize;
    bytes[off] ^= 0x5a;
    scratch(name, &bytes)
}

#[test]
fn seeded_faults_are_found_exactly() {
    let image = p("md-x64-collide/collide.exe");
    let plan = plan_json(&image, "md-x64-collide/self.dmp.gz");
    let base = plan["modules"][0]["base"].as_u64().unwrap();
    let slot = plan["bindings"].as_array().unwrap().iter().find(|b| b["value"].is_u64()).unwrap()["slot_rva"]
        .as_u64()
        .unwrap();
    let pseudo = plan["steps"].as_array().unwrap().iter().find(|s| s["status"] == "applied").unwrap()["target_rva"]
        .as_u64()
        .unwrap();
    // A data-reference site's field in .text: a place the clean verification matched.
    let text_site = {
        let out = run(&["refs", &image, "--json"]);
        let v = json_of(&out);
        let sites = v["refs"].as_array().unwrap().clone();
        sites
            .iter()
            .find(|s| s["section"] == ".text" && s["field_rva"].is_u64())
            .map(|s| s["field_rva"].as_u64().unwrap())
            .expect("a site in .text")
    };
    for (what, rva) in [("iat", slot), ("pseudo", pseudo), ("text", text_site)] {
        let f = seeded("md-x64-collide/self.dmp.gz", base + rva, &format!("collide-{what}.dmp"));
        let (v, code) = verify(&image, &f.display().to_string(), &[]);
        assert_eq!(code, 1, "{what}: {v}");
        let mm = v["mismatches"].as_array().unwrap();
        assert!(!mm.is_empty(), "{what}");
        assert!(
            mm.iter().all(|m| {
                let (s, l) = (m["rva"].as_u64().unwrap(), m["len"].as_u64().unwrap());
                s <= rva && rva < s + l
            }),
            "{what} at 0x{rva:x}: {mm:?}"
        );
    }
}

#[test]
fn a_renamed_image_is_found_by_its_headers() {
    let renamed = scratch("renamed.dll", &std::fs::read(p("md-x64-gnu/data.dll")).unwrap());
    let (v, code) = verify(&renamed.display().to_string(), &p("md-x64-gnu/self.dmp.gz"), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["dump"]["found_by"], "headers");
    assert_eq!(v["dump"]["module"], "data.dll");
}

#[test]
fn diff_reads_a_minidump_by_module() {
    let out = run(&[
        "diff",
        &p("md-x64-gnu/data.dll"),
        "--dump",
        &p("md-x64-gnu/self.dmp.gz"),
        "--module",
        "data.dll",
        "--json",
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let raw =
        run(&["diff", &p("md-x64-gnu/data.dll"), "--dump", &p("md-x64-gnu/self.dmp.gz"), "--module", "nosuch.dll"]);
    assert_eq!(raw.status.code(), Some(2));
}

fn le32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// (offset of the stream, its size) of stream `ty` of a minidump.
fn stream(b: &[u8], ty: u32) -> (usize, usize) {
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let (n, dir) = (u32_at(8), u32_at(12));
    (0..n).map(|i| dir + 12 * i).find(|&e| u32_at(e) == ty as usize).map(|e| (u32_at(e + 8), u32_at(e + 4))).unwrap()
}

/// Hostile variants: each gives a diagnostic and exit 2 (never a panic: 101).
#[test]
fn hostile_dumps_fail_with_a_diagnostic() {
    let md = gunzip("md-x64-gnu/self.dmp.gz");
    let core = gunzip("elf-core/core.gz");
    let mut variants: Vec<(&str, Vec<u8>)> = vec![
        ("md-truncated", md[..md.len() / 2].to_vec()),
        ("md-header-only", md[..20].to_vec()),
        ("core-truncated", core[..core.len() / 2].to_vec()),
        ("core-header-only", core[..40].to_vec()),
    ];
    let mut v = md.clone();
    le32(&mut v, 12, 0xffff_fff0);
    variants.push(("md-directory-past-end", v));
    // Memory64List: a descriptor's size past the end, and two ranges overlapping.
    let (m64, _) = stream(&md, 9);
    let mut v = md.clone();
    v[m64 + 16 + 8..m64 + 16 + 16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    variants.push(("md-range-past-end", v));
    let mut v = md.clone();
    let first = v[m64 + 16..m64 + 24].to_vec();
    v[m64 + 32..m64 + 40].copy_from_slice(&first);
    variants.push(("md-overlapping", v));
    // The module list: absurd count, absurd size.
    let (ml, _) = stream(&md, 4);
    let mut v = md.clone();
    le32(&mut v, ml, 0x7fff_ffff);
    variants.push(("md-module-count", v));
    let mut v = md.clone();
    le32(&mut v, ml + 4 + 8, 0xffff_f000);
    variants.push(("md-module-size", v));
    // NT_FILE: a count its note cannot hold.
    let mut v = core.clone();
    let at = v.windows(5).position(|w| w == b"CORE\0").unwrap();
    // namesz 5 → the name is padded to 8; the descriptor follows: count first.
    let note_desc = (at + 8..).find(|&o| o % 4 == 0).unwrap();
    let nt_file = (note_desc..v.len() - 24)
        .step_by(4)
        .find(|&o| v[o - 12..o - 8] == 5u32.to_le_bytes() && v[o - 4..o] == 0x4649_4c45u32.to_le_bytes())
        .map(|o| o + 8)
        .expect("NT_FILE note");
    v[nt_file..nt_file + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    variants.push(("core-nt-file-count", v));
    for (name, bytes) in variants {
        let f = scratch(name, &bytes).display().to_string();
        let out = run(&["inspect", &f, "--json"]);
        assert_eq!(out.status.code(), Some(2), "{name}: inspect: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty(), "{name}");
        let image = if name.starts_with("md") { p("md-x64-gnu/data.dll") } else { p("elf-core/libdata.so") };
        let out = run(&["verify", &image, "--dump", &f]);
        assert_eq!(out.status.code(), Some(2), "{name}: verify: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("linkscope:"), "{name}");
    }
}

/// The core fixture's program, started again (LD_BIND_NOW, as it was dumped), verified by
/// `--pid`, then ended.
#[test]
fn a_live_process_verifies_by_pid() {
    let exe = fixture_path("dumps/elf-core/main");
    let mut child =
        Command::new(&exe).arg("wait").env("LD_BIND_NOW", "1").stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut ready = [0u8; 6];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
    let pid = child.id().to_string();
    // Ended whatever the checks do.
    let result = std::panic::catch_unwind(|| {
        if std::fs::File::open(format!("/proc/{pid}/mem"))
            .and_then(|f| {
                use std::os::unix::fs::FileExt;
                f.read_at(&mut [0u8; 1], 0).map(|_| ()).or(Ok(()))
            })
            .is_err()
        {
            eprintln!("skipped: /proc/{pid}/mem is unreadable here");
            return;
        }
        for m in ["main", "libdata.so"] {
            let out = run(&["verify", &p(&format!("elf-core/{m}")), "--pid", &pid, "--json"]);
            let v = json_of(&out);
            assert_eq!(out.status.code(), Some(0), "{m}: {v}");
            assert_eq!(v["dump"]["format"], "process");
            assert!(v["checked"].as_u64().unwrap() > 30);
            assert_eq!(v["mismatches"].as_array().unwrap().len(), 0);
        }
        // A name the process does not have: an error; a file renamed: found by its headers.
        let out = run(&["verify", &p("elf-core/libdata.so"), "--pid", &pid, "--module", "nosuch.so"]);
        assert_eq!(out.status.code(), Some(2));
        let renamed = scratch("renamed.so", &std::fs::read(p("elf-core/libdata.so")).unwrap());
        let out = run(&["verify", &renamed.display().to_string(), "--pid", &pid, "--json"]);
        let v = json_of(&out);
        assert_eq!(v["dump"]["found_by"], "headers", "{v}");
        assert_eq!(v["dump"]["module"], "libdata.so");
    });
    child.kill().unwrap();
    child.wait().unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_raw_dump_with_module_is_refused_and_raw_dumps_still_work() {
    let patch = |r: &str| fixture_path(&format!("patch/{r}")).display().to_string();
    let out =
        run(&["verify", &patch("x64-gnu/data.dll"), "--dump", &patch("x64-gnu/data.dll.mem.gz"), "--module", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["verify", &patch("x64-gnu/data.dll"), "--dump", &patch("x64-gnu/data.dll.mem.gz"), "--json"]);
    let v = json_of(&out);
    assert!(v.get("not_in_dump").is_none() && v.get("dump").is_none(), "raw output unchanged: {v}");
}

/// The readers under mutation: truncations and bit flips (mostly in the headers, directories
/// and notes) of each fixture dump read cleanly or fail with an error, and every module's memory
/// joins or fails, never panics. Deterministic (fixed seed).
#[test]
fn mutated_dumps_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for rel in ["md-x64-gnu/self.dmp.gz", "md-x64-datasegs/self.dmp.gz", "elf-core/core.gz", "elf-ifunc/core.gz"] {
        let orig = gunzip(rel);
        for i in 0..400 {
            let mut v = orig.clone();
            if i % 4 == 0 {
                v.truncate((next() % orig.len() as u64) as usize);
            } else {
                // Most flips land in the first 4 KiB (header, directory, lists, notes).
                let span = if i % 4 == 3 { v.len() } else { v.len().min(4096) };
                for _ in 0..1 + next() % 4 {
                    let at = (next() % span as u64) as usize;
                    v[at] ^= 1 << (next() % 8);
                }
            }
            if let Ok(d) = linkscope::formats::dump::read(&v) {
                assert!(d.memory.iter().all(|r| r.offset + r.size <= v.len() as u64), "{rel} #{i}");
                for m in d.modules.iter().take(64) {
                    let _ = d.module_memory(&v, m.base, m.size);
                    let _ = d.complete(m.base, m.size);
                }
            }
        }
    }
}

/// With no DLL file at hand (the image and the dump alone in a folder), the DLLs are read from
/// their images in the dump: the same places are checked, every IAT slot and pseudo-relocation
/// included, with the same result.
#[test]
fn dlls_not_at_hand_are_bound_from_their_images_in_the_dump() {
    let dir = std::env::temp_dir().join(format!("linkscope-dumps-alone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["collide.exe", "self.dmp.gz"] {
        std::fs::copy(p(&format!("md-x64-collide/{f}")), dir.join(f)).unwrap();
    }
    let (alone, code) =
        verify(&dir.join("collide.exe").display().to_string(), &dir.join("self.dmp.gz").display().to_string(), &[]);
    assert_eq!(code, 0, "{alone}");
    let (with_files, _) = verify(&p("md-x64-collide/collide.exe"), &p("md-x64-collide/self.dmp.gz"), &[]);
    for k in ["checked", "matched", "unpredicted", "by_kind"] {
        assert_eq!(alone[k], with_files[k], "{k}");
    }
    let data2 = alone["modules"].as_array().unwrap().iter().find(|m| m["name"] == "data2.dll").unwrap().clone();
    assert!(data2["path"].as_str().unwrap().starts_with("(its image in the dump)"), "{data2}");
    assert_eq!(data2["base"], 0x830000);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A module whose ranges follow one another in memory and in the file is borrowed from the
/// dump's bytes, not copied.
#[test]
fn a_module_in_one_run_of_the_dump_is_borrowed() {
    for (case, dump, modules) in CASES {
        let bytes = gunzip(&format!("{case}/{dump}"));
        let d = linkscope::formats::dump::read(&bytes).unwrap();
        assert!(d.diagnostics.is_empty(), "{case}: {:?}", d.diagnostics);
        for name in modules {
            let m = d.module(name).unwrap();
            let mem = d.module_memory(&bytes, m.base, m.size).unwrap();
            assert!(matches!(mem.bytes, std::borrow::Cow::Borrowed(_)), "{case}/{name}");
            assert_eq!(mem.not_held(), 0);
        }
    }
}

/// The same program binding lazily: the PLT slots of functions it has not called yet still
/// point into it, counted as `not_yet_bound`, not as mismatches.
#[test]
fn a_lazily_bound_process_has_slots_not_yet_bound() {
    let mut child = Command::new(fixture_path("dumps/elf-core/main"))
        .arg("wait")
        .env_remove("LD_BIND_NOW")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0u8; 6];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
    let pid = child.id().to_string();
    let result = std::panic::catch_unwind(|| {
        let out = run(&["verify", &p("elf-core/main"), "--pid", &pid, "--json"]);
        if String::from_utf8_lossy(&out.stderr).contains("refused") {
            eprintln!("skipped: /proc/{pid}/mem is unreadable here");
            return;
        }
        let v = json_of(&out);
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert!(v["not_yet_bound"].as_u64().unwrap() > 0, "{v}");
    });
    child.kill().unwrap();
    child.wait().unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// A live process's modules are its mapped images only: a data file mapped whole (as locale
/// files are) is not listed, the test's own executable is.
#[test]
fn a_live_process_lists_only_images_as_modules() {
    let dir = std::env::temp_dir().join(format!("linkscope-maps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("LC_CTYPE");
    std::fs::write(&data, vec![b'x'; 8192]).unwrap();
    let f = std::fs::File::open(&data).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: the file is this test's own and is not changed while mapped.
    let map = unsafe { memmap2::Mmap::map(&f) }.unwrap();
    let p = linkscope::session::process::Process::read_maps(std::process::id()).unwrap();
    let names: Vec<&str> = p.dump.modules.iter().map(|m| m.name.as_str()).collect();
    let me = std::env::current_exe().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    assert!(names.contains(&me.as_str()), "{names:?}");
    assert!(!names.contains(&"LC_CTYPE"), "{names:?}");
    assert_eq!(map[0], b'x');
    drop(map);
    let _ = std::fs::remove_dir_all(&dir);
}
