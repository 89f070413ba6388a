//! GOT slots ld.so fills from IFUNC resolvers, in a core written by gcore
//! (tests/fixtures/dumps/elf-ifunc, build.sh): the executable's own static IFUNC
//! (`R_X86_64_IRELATIVE`), libifunc.so's exported IFUNC (`JUMP_SLOT`, `R_X86_64_64`) and glibc's
//! (`strlen`, `memcpy`). Every module verifies with 0 mismatches and the slots are counted as
//! `ifunc_resolved`; `--explain` names each slot's IFUNC and where its value lands; a slot
//! pointed into a data section is a mismatch and unexplained.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{fixture_path, run, same_libc};
use serde_json::Value;

fn p(rel: &str) -> String {
    fixture_path(&format!("dumps/elf-ifunc/{rel}")).display().to_string()
}

/// `verify IMAGE --dump DUMP --json [extra]`: the document and the exit code.
fn verify(image: &str, dump: &str, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["verify", image, "--dump", dump, "--json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (v, out.status.code().unwrap())
}

#[test]
fn every_module_verifies_and_the_ifunc_slots_are_counted() {
    let same = same_libc("dumps/elf-ifunc");
    // ifunc: strlen, memcpy, lib_pick, local_pick through the PLT's GOT; strlen, lib_pick,
    // local_pick taken as pointers in .data. libifunc.so: its own JUMP_SLOT of lib_pick.
    for (module, slots) in [("ifunc", 7), ("libifunc.so", 1)] {
        let (v, code) = verify(&p(module), &p("core.gz"), &[]);
        let mm = v["mismatches"].as_array().unwrap();
        if !same {
            eprintln!("note: this machine's libc is not the core's; libc's slots not required to match");
            assert!(mm.iter().all(|m| m["structure"].as_str().unwrap().contains("libc.so.6!")), "{module}: {mm:?}");
            continue;
        }
        assert_eq!(code, 0, "{module}: {v}");
        assert!(mm.is_empty(), "{module}: {mm:?}");
        assert_eq!(v["ifunc_resolved"], slots, "{module}: {v}");
        assert!(v["checked"].as_u64().unwrap() > 20, "{module}: {v}");
        assert_eq!(v["not_in_dump"], 0, "{module}");
        // The slots are neither compared places nor predictions.
        assert!(v["by_kind"].as_array().unwrap().iter().all(|k| k["kind"] != "ifunc-slot"), "{v}");
    }
}

/// The explained ranges of cause `ifunc` of `module`: `(rva, section, detail, target)`.
fn ifunc_ranges(module: &str, dump: &str) -> (Value, Vec<(u64, String, String, String)>) {
    let (v, code) = verify(&p(module), dump, &["--explain"]);
    let ranges = v["explained"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["cause"] == "ifunc")
        .map(|r| {
            (
                r["rva"].as_u64().unwrap(),
                r["section"].as_str().unwrap().to_string(),
                r["detail"].as_str().unwrap().to_string(),
                r["target"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let _ = code;
    (v, ranges)
}

#[test]
fn explain_names_each_ifunc_and_where_its_value_lands() {
    let (v, ranges) = ifunc_ranges("ifunc", &p("core.gz"));
    assert_eq!(v["explain"]["unexplained_bytes"], 0, "{}", v["unexplained"]);
    assert_eq!(v["explain"]["by_cause"]["ifunc"]["places"], 7, "{}", v["explain"]);
    let find = |section: &str, symbol: &str| {
        ranges
            .iter()
            .find(|r| r.1 == section && r.2.starts_with(&format!("IFUNC {symbol} (")))
            .unwrap_or_else(|| panic!("{section} {symbol}: {ranges:?}"))
            .clone()
    };
    // The executable's own IFUNC (IRELATIVE): its resolver picks local_fast, in the executable.
    let (_, _, detail, target) = find(".got.plt", "local_pick");
    assert!(detail.contains("resolver ifunc!resolve_local+0x0"), "{detail}");
    assert_eq!(target, "ifunc!local_fast+0x0");
    assert!(detail.contains("code of ifunc, the module that defines it"), "{detail}");
    // libifunc.so's IFUNC, through the PLT and through a pointer in .data: pick_fast.
    for section in [".got.plt", ".data"] {
        let (_, _, detail, target) = find(section, "lib_pick");
        assert!(detail.starts_with("IFUNC lib_pick (libifunc.so)"), "{detail}");
        assert!(detail.contains("resolver libifunc.so!resolve_pick+0x0"), "{detail}");
        assert_eq!(target, "libifunc.so!pick_fast+0x0");
        assert!(detail.contains("the module that defines it"), "{detail}");
    }
    // glibc's: its implementation is not a symbol of libc's .dynsym, so the module and offset.
    if same_libc("dumps/elf-ifunc") {
        for symbol in ["strlen", "memcpy"] {
            let (_, _, detail, target) = find(".got.plt", symbol);
            assert!(detail.contains("code of libc.so.6, the module that defines it"), "{detail}");
            assert!(target.starts_with("libc.so.6+0x") || target.starts_with("libc.so.6!"), "{target}");
        }
    }
    // The shared object's own slot.
    let (v, ranges) = ifunc_ranges("libifunc.so", &p("core.gz"));
    assert_eq!(v["explain"]["unexplained_bytes"], 0);
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    assert_eq!(ranges[0].3, "libifunc.so!pick_fast+0x0");
}

/// A copy of the core with the 8 bytes at `va` set to `value`.
fn seeded(va: u64, value: u64, name: &str) -> PathBuf {
    let mut bytes = linkscope::formats::dump::gunzip(&std::fs::read(p("core.gz")).unwrap(), 1 << 30).unwrap();
    let d = linkscope::formats::dump::read(&bytes).unwrap();
    let r = d.memory.iter().find(|r| r.start <= va && va + 8 <= r.start + r.size).unwrap();
    let off = (r.offset + (va - r.start)) as usize;
    bytes[off..off + 8].copy_from_slice(&value.to_le_bytes());
    let dir = std::env::temp_dir().join(format!("linkscope-ifunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, bytes).unwrap();
    f
}

#[test]
fn an_ifunc_slot_pointed_into_data_is_flagged() {
    let (clean, ranges) = ifunc_ranges("ifunc", &p("core.gz"));
    let base = clean["modules"][0]["base"].as_u64().unwrap();
    let slot = ranges.iter().find(|r| r.1 == ".got.plt" && r.2.starts_with("IFUNC lib_pick (")).unwrap().0;
    // The middle of the executable's .data (where the pointers ld.so relocated live).
    let data = ranges.iter().find(|r| r.1 == ".data").unwrap().0;
    for (name, value) in [("into-data", base + data + 4), ("nowhere", 0x1000_0000_0000u64)] {
        let f = seeded(base + slot, value, &format!("{name}.core")).display().to_string();
        let (v, code) = verify(&p("ifunc"), &f, &[]);
        assert_eq!(code, 1, "{name}: {v}");
        let mm = v["mismatches"].as_array().unwrap();
        assert_eq!(mm.len(), 1, "{name}: {mm:?}");
        assert_eq!(mm[0]["rva"], slot);
        let structure = mm[0]["structure"].as_str().unwrap();
        assert!(structure.starts_with("ifunc-slot elf ") && structure.contains("libifunc.so!lib_pick"), "{structure}");
        assert!(structure.contains(&format!("0x{value:x}")), "{structure}");
        assert_eq!(v["ifunc_resolved"], 6, "{name}");
        // --explain: unexplained, the IFUNC named and the value's place said.
        let (v, _) = verify(&p("ifunc"), &f, &["--explain"]);
        let un = v["unexplained"].as_array().unwrap();
        let r = un.iter().find(|r| r["rva"] == slot).unwrap_or_else(|| panic!("{name}: {un:?}"));
        let detail = r["detail"].as_str().unwrap();
        assert!(detail.contains("IFUNC lib_pick (libifunc.so)"), "{detail}");
        if name == "into-data" {
            assert!(detail.contains("inside ifunc but not in its code"), "{detail}");
        } else {
            assert!(detail.contains("in no loaded module's code"), "{detail}");
        }
        assert!(v["explain"]["by_cause"]["ifunc"]["places"] == 6, "{}", v["explain"]);
    }
}

/// `patch --json`: each slot an IFUNC fills is a step carrying `ifunc`, which writes nothing.
#[test]
fn the_plan_marks_ifunc_slots_and_writes_nothing_there() {
    let out = run(&["patch", &p("ifunc"), "--dll", &p("libifunc.so"), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<&Value> = v["steps"].as_array().unwrap().iter().filter(|s| s.get("ifunc").is_some()).collect();
    let mut names: Vec<(String, String)> = steps
        .iter()
        .map(|s| {
            (s["ifunc"]["symbol"].as_str().unwrap().to_string(), s["ifunc"]["module"].as_str().unwrap().to_string())
        })
        .collect();
    names.sort();
    // libc.so.6 was not given: strlen and memcpy stay unresolved, not IFUNC slots.
    let want =
        [("lib_pick", "libifunc.so"), ("lib_pick", "libifunc.so"), ("local_pick", "ifunc"), ("local_pick", "ifunc")];
    assert_eq!(names, want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec());
    let base = v["modules"][0]["base"].as_u64().unwrap();
    for s in steps {
        assert_eq!(s["written"], false, "{s}");
        assert_eq!(s["before"], s["after"], "{s}");
        let resolver = s["ifunc"]["resolver"].as_u64().unwrap();
        if s["ifunc"]["module"] == "ifunc" {
            // IRELATIVE: load bias + addend.
            assert!(s["reason"].as_str().unwrap().starts_with("R_X86_64_IRELATIVE"), "{s}");
            assert!(resolver > base && resolver < base + v["modules"][0]["size"].as_u64().unwrap(), "{s}");
        }
    }
}

/// The fixture's program started again (this machine's libc, so glibc's slots are checked
/// whatever libc the core saw), verified by `--pid`, then ended: bound now, every IFUNC slot
/// holds a resolver's choice; binding lazily, the `IRELATIVE`s are resolved at load and the
/// uncalled `JUMP_SLOT`s still point at the PLT (`not_yet_bound`), never a mismatch.
#[test]
fn a_live_process_resolves_its_ifunc_slots() {
    for (bind_now, resolved) in [(true, 7), (false, 4)] {
        let mut cmd = Command::new(fixture_path("dumps/elf-ifunc/ifunc"));
        cmd.arg("wait").stdout(std::process::Stdio::piped());
        if bind_now {
            cmd.env("LD_BIND_NOW", "1");
        } else {
            cmd.env_remove("LD_BIND_NOW");
        }
        let mut child = cmd.spawn().unwrap();
        let mut ready = [0u8; 6];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
        let pid = child.id().to_string();
        let result = std::panic::catch_unwind(|| {
            let out = run(&["verify", &p("ifunc"), "--pid", &pid, "--json"]);
            if String::from_utf8_lossy(&out.stderr).contains("refused") {
                eprintln!("skipped: /proc/{pid}/mem is unreadable here");
                return;
            }
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(0), "{v}");
            assert!(v["mismatches"].as_array().unwrap().is_empty(), "{v}");
            if bind_now {
                assert_eq!(v["ifunc_resolved"], resolved, "{v}");
            } else {
                // Resolved at load: the pointers in .data (strlen's and lib_pick's `R_X86_64_64`,
                // local_pick's IRELATIVE) and the IRELATIVE of the PLT's GOT; the JUMP_SLOTs of
                // strlen, memcpy and lib_pick wait for a first call.
                assert_eq!(v["ifunc_resolved"], resolved, "{v}");
                assert!(v["not_yet_bound"].as_u64().unwrap() > 0, "{v}");
            }
        });
        child.kill().unwrap();
        child.wait().unwrap();
        if let Err(e) = result {
            std::panic::resume_unwind(e);
        }
    }
}
