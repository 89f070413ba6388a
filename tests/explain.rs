//! `verify --explain` against the real loader: every byte in which the memory images of
//! tests/fixtures/patch (written by wine's loader and the MinGW runtime, and by ld.so) differ
//! from their files has a cause, none in code or read-only data is unexplained; faults seeded
//! into a copy of a dump are found exactly, hooks with their targets named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;

use common::fixture_path;
use linkscope::model::memory::ModuleMemory;
use linkscope::patch::explain::{self, Cause, Explanation, Inputs, Range};
use linkscope::patch::{DllInput, PatchOptions, PatchPlan};
use linkscope::session::{self, Analysis, Analyzed, Module, Scan};

/// One module of a case, planned at the base the process had, every other module given.
struct Case {
    image: Analyzed,
    modules: Vec<Module>,
    plan: PatchPlan,
    dump: Vec<u8>,
}

fn gunzip(rel: &str) -> Vec<u8> {
    let raw = std::fs::read(fixture_path(rel)).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
    out
}

/// `(name, base, dump file)` of every module of `case`.
fn modules(case: &str) -> Vec<(String, u64, String)> {
    let text = std::fs::read_to_string(fixture_path(&format!("patch/{case}/modules.tsv"))).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), u64::from_str_radix(f[1], 16).unwrap(), f[3].to_string())
        })
        .collect()
}

fn open(case: &str, name: &str) -> Case {
    let mods = modules(case);
    let path = fixture_path(&format!("patch/{case}/{name}"));
    let image = Analyzed::open(&path, &Analysis::scan(Scan::OnDemand, 1)).unwrap();
    let given: Vec<Module> = mods
        .iter()
        .filter(|m| m.0 != name)
        .map(|m| Module::read(&fixture_path(&format!("patch/{case}/{}", m.0))).unwrap())
        .collect();
    let me = mods.iter().find(|m| m.0 == name).unwrap();
    let opts = PatchOptions {
        image_base: Some(me.1),
        bases: mods.iter().map(|m| (m.0.clone(), m.1)).collect(),
        image_path: Some(path.display().to_string()),
        ..Default::default()
    };
    let plan = session::plan(&image, &given, &opts).unwrap();
    let dump = gunzip(&format!("patch/{case}/{}", me.2));
    Case { image, modules: given, plan, dump }
}

fn explain(c: &Case, dump: &[u8]) -> Explanation {
    let paths: Vec<String> = c.modules.iter().map(Module::path).collect();
    let dlls: Vec<DllInput<'_>> =
        c.modules.iter().zip(&paths).map(|(m, p)| DllInput { path: p, data: m.data(), bin: m.bin() }).collect();
    let inputs = Inputs { bin: &c.image.bin, data: &c.image.data, index: &c.image.index, dlls: &dlls, names: &c.image };
    explain::explain(&c.plan, &inputs, &ModuleMemory::whole(dump))
}

/// Base-relocation entries (not absolute) whose field the process changed and which are not
/// pseudo-relocation targets: as check.py and the fixtures' README count them.
fn relocated_fields(c: &Case) -> u64 {
    let bin = &c.image.bin;
    let file = linkscope::patch::load::map(bin, &c.image.data).unwrap();
    // Fields a later writer rewrote: pseudo-relocation targets, and (x86-gnu-v1) IAT slots
    // inside code or data that carry a base relocation.
    let mut targets: Vec<u64> = c.plan.steps.iter().map(|s| s.target_rva).collect();
    targets.extend(c.plan.bindings.iter().map(|b| b.slot_rva));
    bin.base_relocations
        .iter()
        .filter(|r| r.raw_type != 0 && !targets.contains(&r.rva))
        .filter(|r| {
            let w = linkscope::model::index::base_reloc_width(r.raw_type) as usize;
            let s = r.rva as usize;
            file[s..s + w] != c.dump[s..s + w]
        })
        .count() as u64
}

/// The PE cases: wine's, and the ones built for the other schemes.
fn pe_cases() -> impl Iterator<Item = &'static str> {
    common::WINE_PE_CASES.into_iter().chain([
        "explicit/x86-reldata",
        "explicit/x86-dllra",
        "explicit/x64-dllra",
        "explicit/x86-reldata-holder",
    ])
}

#[test]
fn every_difference_of_the_real_loader_is_named() {
    let mut relocated = Vec::new();
    for case in pe_cases().chain(["elf-pie", "elf-nopie"]) {
        for (name, _, _) in modules(case) {
            let c = open(case, &name);
            let e = explain(&c, &c.dump);
            let at = format!("{case}/{name}");
            assert!(e.unexplained.is_empty(), "{at}: {:#?}", &e.unexplained[..e.unexplained.len().min(4)]);
            assert_eq!(e.unexplained_protected, 0, "{at}");
            assert_eq!(e.bytes_compared, c.dump.len() as u64, "{at}: the whole module is compared");
            assert_eq!(e.not_in_dump, 0, "{at}");
            let bytes: u64 = e.by_cause.iter().map(|(_, n)| n.bytes).sum();
            assert_eq!(bytes, e.bytes_differing, "{at}: every differing byte has one cause");
            // Run-time writes only in writable sections; every other range in place of its writer.
            for r in &e.explained {
                assert!(r.cause != Cause::RuntimeWrite || r.writable, "{at}: {r:?}");
                assert!(r.cause == Cause::RuntimeWrite || r.place.is_some(), "{at}: {r:?}");
            }
            let bin = &c.image.bin;
            if bin.format.is_pe() {
                // Every IAT slot differs from the file (the hint/name RVA becomes an address).
                // (x86-gnu-v1: but the slots a v1 item then rewrote, explained by the item.)
                let rewritten = |rva: u64| c.plan.steps.iter().any(|s| s.written && s.target_rva == rva);
                let imports =
                    bin.imports.iter().flat_map(|m| &m.entries).filter(|x| !rewritten(x.iat_rva)).count() as u64;
                assert_eq!(e.count(Cause::Iat).places, imports, "{at}");
                // Base relocations: exactly the fields the process changed.
                assert_eq!(e.count(Cause::BaseReloc).places, relocated_fields(&c), "{at}");
                if e.count(Cause::BaseReloc).places > 0 {
                    relocated.push((at.clone(), e.count(Cause::BaseReloc).places));
                }
                // The pseudo-relocation items whose target changed.
                let changed = c.plan.steps.iter().filter(|s| s.written && s.after != s.before).count() as u64;
                let cause = if c.plan.scheme == linkscope::patch::SchemeKind::Mingw {
                    Cause::PseudoReloc
                } else {
                    Cause::SchemeStep
                };
                assert!(e.count(cause).places <= changed, "{at}");
            } else {
                // ld.so's relocations and its writes into .dynamic (the addresses it moves by
                // the load bias, DT_DEBUG in the executable); the program's own writes in .bss.
                assert!(e.count(Cause::DynamicReloc).places > 0, "{at}");
                let want = match at.as_str() {
                    "elf-pie/main" => 8,
                    "elf-nopie/main" => 1,
                    _ => 5,
                };
                assert_eq!(e.count(Cause::DynamicSection).places, want, "{at}");
                for r in e.explained.iter().filter(|r| r.cause == Cause::RuntimeWrite) {
                    assert_eq!(r.section.as_deref(), Some(".bss"), "{at}: {r:?}");
                }
            }
        }
    }
    // As the fixtures' README counts them: every base-relocated field of a relocated DLL moved
    // by the delta, but for the pseudo-relocation targets in the holder cases.
    assert_eq!(
        relocated,
        vec![
            ("x64-collide/data2.dll".to_string(), 30),
            ("x86-collide/data2.dll".to_string(), 219),
            ("x64-reloc-holder/refs.dll".to_string(), 34),
            ("x86-reloc-holder/refs.dll".to_string(), 468),
            ("explicit/x86-reldata-holder/holder.dll".to_string(), 68),
        ]
    );
}

#[test]
fn the_x64_gnu_image_by_cause() {
    let c = open("x64-gnu", "autoimport.exe");
    let e = explain(&c, &c.dump);
    let counts: Vec<(&str, u64, u64)> = e.by_cause.iter().map(|(c, n)| (c.name(), n.places, n.bytes)).collect();
    // 64 imports (7 from data.dll), the 8 pseudo-relocation items, the CRT's variables.
    assert_eq!(counts, vec![("iat", 64, 301), ("pseudo-reloc", 8, 40), ("runtime-write", 18, 33)]);
    let arr = e.explained.iter().find(|r| r.cause == Cause::Iat && r.detail.contains("data.dll!arr")).unwrap();
    assert_eq!(arr.target.as_deref(), Some("data.dll!arr+0x0"));
    assert_eq!(arr.target_va, Some(0x2_840e_3040));
    let c = open("x64-gnu", "data.dll");
    let e = explain(&c, &c.dump);
    let tls = e.explained.iter().find(|r| r.cause == Cause::TlsIndex).unwrap();
    assert_eq!((tls.len, tls.section.as_deref()), (1, Some(".bss")), "{tls:?}");
}

/// The RVA of symbol `name` in the image.
fn symbol_rva(c: &Case, name: &str) -> u64 {
    let bin = &c.image.bin;
    let s = bin.symbols.iter().find(|s| s.name == name).unwrap();
    bin.sections.iter().find(|x| Some(x.index) == s.section).unwrap().rva + s.value
}

fn only_unexplained(e: &Explanation) -> &Range {
    assert_eq!(e.unexplained.len(), 1, "{:#?}", e.unexplained);
    &e.unexplained[0]
}

#[test]
fn a_changed_byte_of_code_shows_its_instruction() {
    let c = open("x86-gnu", "autoimport.exe");
    let main = symbol_rva(&c, "_main");
    let mut dump = c.dump.clone();
    let e0 = explain(&c, &dump);
    dump[main as usize] ^= 0x01; // push ebp (0x55) → push esp (0x54)
    let e = explain(&c, &dump);
    let r = only_unexplained(&e);
    assert_eq!((r.rva, r.len, r.section.as_deref(), r.writable), (main, 1, Some(".text"), false));
    assert_eq!((r.file.as_str(), r.memory.as_str()), ("55", "54"));
    assert_eq!(r.insn_rva, Some(main));
    assert!(r.before.as_deref().unwrap().starts_with("push ebp"), "{r:?}");
    assert!(r.after.as_deref().unwrap().starts_with("push esp"), "{r:?}");
    assert_eq!(r.target, None);
    assert_eq!(e.unexplained_protected, 1);
    assert_eq!(e.bytes_differing, e0.bytes_differing + 1);
    // A byte inside an instruction: the instruction it belongs to is shown from its start.
    let mut dump = c.dump.clone();
    dump[main as usize + 2] ^= 0x10; // mov ebp, esp (89 e5) → 89 f5 (mov ebp, esi)
    let r = only_unexplained(&explain(&c, &dump)).clone();
    assert_eq!((r.rva, r.insn_rva), (main + 2, Some(main + 1)));
    assert_eq!(r.before.as_deref(), Some("mov ebp, esp"), "{r:?}");
    assert_eq!(r.after.as_deref(), Some("mov ebp, esi"), "{r:?}");
}

/// Write `jmp rel32` to `to` over the first bytes of the function at `rva` (loaded at `base`).
fn hook(dump: &mut [u8], base: u64, rva: u64, to: u64) {
    let rel = to.wrapping_sub(base + rva + 5) as u32;
    let s = rva as usize;
    dump[s] = 0xe9;
    dump[s + 1..s + 5].copy_from_slice(&rel.to_le_bytes());
}

#[test]
fn a_jmp_hook_into_a_dll_is_found_with_its_target() {
    for (case, func) in [("x86-gnu", "_autoimport_main"), ("x64-gnu-small-near", "autoimport_main")] {
        let c = open(case, "autoimport.exe");
        let at = symbol_rva(&c, func);
        let data = c.plan.modules.iter().find(|m| m.name == "data.dll").unwrap().base;
        let export = |n: &str| {
            let dll = c.modules.iter().find(|m| m.path().ends_with("data.dll")).unwrap();
            data + dll.bin().exports.iter().find(|e| e.name.as_deref() == Some(n)).unwrap().rva
        };
        let (get, add) = (export("data_get_counter"), export("data_add"));
        let mut dump = c.dump.clone();
        hook(&mut dump, c.plan.image().base, at, get + 2);
        let e = explain(&c, &dump);
        let r = only_unexplained(&e);
        let differing = (0..5).filter(|k| dump[at as usize + k] != c.dump[at as usize + k]).count() as u64;
        assert_eq!((r.rva, r.len, r.section.as_deref()), (at, differing, Some(".text")), "{case}");
        assert_eq!(r.target.as_deref(), Some("data.dll!data_get_counter+0x2"), "{case}");
        assert_eq!(r.target_va, Some(get + 2), "{case}");
        let jmp = r.after.as_deref().unwrap().split("; ").next().unwrap();
        assert_eq!(u64::from_str_radix(jmp.strip_prefix("jmp 0x").unwrap(), 16).unwrap(), get + 2, "{case}: {jmp}");
        assert_eq!(e.unexplained_protected, differing, "{case}");
        // Into the DLL's first export exactly.
        let mut dump = c.dump.clone();
        hook(&mut dump, c.plan.image().base, at, add);
        let e = explain(&c, &dump);
        assert_eq!(only_unexplained(&e).target.as_deref(), Some("data.dll!data_add+0x0"), "{case}");
    }
}

#[test]
fn an_iat_slot_bound_to_another_export_is_unexplained() {
    // Decision: the loader writes the export the import names, nothing else; a slot holding
    // another export (an IAT hook) is unexplained wherever the IAT lies, with the export it holds.
    let c = open("x64-gnu", "autoimport.exe");
    let b = c.plan.bindings.iter().find(|b| b.import == "data.dll!arr").unwrap();
    let slot = b.slot_rva;
    let dll = c.modules.iter().find(|m| m.path().ends_with("data.dll")).unwrap();
    let pt = 0x2_840e_0000 + dll.bin().exports.iter().find(|e| e.name.as_deref() == Some("pt")).unwrap().rva;
    let mut dump = c.dump.clone();
    dump[slot as usize..slot as usize + 8].copy_from_slice(&pt.to_le_bytes());
    let e = explain(&c, &dump);
    let r = only_unexplained(&e);
    // The bytes that differ from the file's hint/name RVA: the whole address but its zero top.
    assert_eq!((r.rva, r.len, r.section.as_deref()), (slot, 5, Some(".idata")));
    assert_eq!(r.target.as_deref(), Some("data.dll!pt+0x0"));
    assert_eq!(
        r.detail,
        format!(
            "changed in writable data: the IAT slot of data.dll!arr holds 0x{pt:x} = data.dll!pt, not the export it names; bound, it holds 0x2840e3040"
        )
    );
    assert_eq!(e.count(Cause::Iat).places, 63, "the other slots stay explained");
    assert_eq!(e.unexplained_protected, 0, ".idata is writable: verify's mismatch makes the exit code");
}

#[test]
fn a_changed_pseudo_relocation_target_is_found() {
    let c = open("x64-gnu", "autoimport.exe");
    let bin = &c.image.bin;
    let sec = |rva: u64| bin.section_by_rva(rva).unwrap().name.clone();
    // One item's target in read-only .rdata (a .refptr slot), one in .data.
    let ro = c.plan.steps.iter().find(|s| sec(s.target_rva) == ".rdata").unwrap();
    let rw = c.plan.steps.iter().find(|s| sec(s.target_rva) == ".data").unwrap();
    for (step, cause, writable) in [(ro, Cause::Unexplained, false), (rw, Cause::RuntimeWrite, true)] {
        let mut dump = c.dump.clone();
        let t = step.target_rva as usize;
        dump[t + 1] ^= 0x40;
        let e = explain(&c, &dump);
        // The whole field holds a value nothing predicts: every byte of it that differs from
        // the file is the changed range.
        let differing =
            (0..8).filter(|k| dump[t + k] != c.dump[t + k] || c.dump[t + k] != file_byte(&c, t + k)).count();
        let r = e.explained.iter().chain(&e.unexplained).find(|r| r.rva == step.target_rva).unwrap();
        assert_eq!((r.len, r.cause, r.writable), (differing as u64, cause, writable), "{r:?}");
        let held = step.after ^ 0x4000;
        assert!(
            r.detail.ends_with(&format!(
                "step {} at 0x{:x} predicts 0x{:x}, the memory holds 0x{held:x}",
                step.index, step.target_rva, step.after
            )),
            "{r:?}"
        );
        assert_eq!(e.count(Cause::PseudoReloc).places, 7, "the other items stay explained");
        assert_eq!(e.unexplained_protected, if writable { 0 } else { differing as u64 });
    }
}

/// The byte at `rva` of the file as the loader maps it.
fn file_byte(c: &Case, rva: usize) -> u8 {
    linkscope::patch::load::map(&c.image.bin, &c.image.data).unwrap()[rva]
}

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).output().unwrap()
}

#[test]
fn cli_explain_keeps_verify_keys_and_exits_by_code_changes() {
    let dir = fixture_path("patch/x86-gnu");
    let exe = dir.join("autoimport.exe");
    let dump = dir.join("autoimport.exe.mem.gz");
    let (exe_s, dump_s) = (exe.to_str().unwrap(), dump.to_str().unwrap());
    let plain = cli(&["verify", exe_s, "--dump", dump_s, "--json"]);
    let r = cli(&["verify", exe_s, "--dump", dump_s, "--json", "--explain"]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let before: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    for (k, v) in before.as_object().unwrap() {
        assert_eq!(&doc[k], v, "verify's key {k} is kept as it is");
    }
    assert!(before.get("explained").is_none(), "verify without --explain is unchanged");
    assert_eq!(doc["unexplained"], serde_json::json!([]));
    assert_eq!(doc["explain"]["by_cause"]["pseudo-reloc"]["places"], 9);
    let first = &doc["explained"][0];
    for k in ["rva", "len", "section", "cause", "detail"] {
        assert!(first.get(k).is_some(), "{k}");
    }
    // A hook in .text: exit 1, the text names the target.
    let c = open("x86-gnu", "autoimport.exe");
    let mut bytes = c.dump.clone();
    let at = symbol_rva(&c, "_autoimport_main");
    hook(&mut bytes, 0x40_0000, at, 0x655c_14b0);
    let tmp = std::env::temp_dir().join(format!("linkscope-explain-{}", std::process::id()));
    std::fs::write(&tmp, &bytes).unwrap();
    let r = cli(&["verify", exe_s, "--dump", tmp.to_str().unwrap(), "--explain"]);
    std::fs::remove_file(&tmp).unwrap();
    assert_eq!(r.status.code(), Some(1));
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("target: data.dll!data_add+0x0"), "{text}");
    assert!(text.contains("unexplained: 1 ranges"), "{text}");
}

#[test]
fn the_file_read_a_window_at_a_time_is_the_materialised_image() {
    for case in pe_cases() {
        for (name, _, _) in modules(case) {
            let data = std::fs::read(fixture_path(&format!("patch/{case}/{name}"))).unwrap();
            let bin = linkscope::load(&data).unwrap();
            let whole = linkscope::patch::load::map(&bin, &data).unwrap();
            let file = explain::FileImage::new(&bin, &data).unwrap();
            assert_eq!(file.len(), whole.len());
            // Windows at odd starts and lengths, across section boundaries and past the end.
            let mut at = 0usize;
            let mut n = 1usize;
            while at < whole.len() + 100 {
                let mut w = vec![0xaau8; n];
                file.window(at as u64, &mut w);
                let want: Vec<u8> = (at..at + n).map(|k| whole.get(k).copied().unwrap_or(0)).collect();
                assert_eq!(w, want, "{case}/{name} at 0x{at:x} +{n}");
                at += n;
                n = n % 4093 + 777;
            }
        }
    }
}

#[test]
fn the_streamed_json_is_the_document() {
    let c = open("x64-collide", "data2.dll");
    let e = explain(&c, &c.dump);
    let v = linkscope::patch::verify::verify::<linkscope::session::Analyzed>(&c.plan, &c.image.bin, None, &c.dump);
    let mut out = Vec::new();
    linkscope::report::explain::write_explain_json(&mut out, &c.plan, &v, &e).unwrap();
    let streamed: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(streamed, linkscope::report::explain::explain_json(&c.plan, &v, &e));
    assert_eq!(streamed["explain"]["by_cause"]["base-reloc"]["places"], 30);
}

#[test]
fn ranges_written_as_found_give_the_same_document() {
    // data2.dll moved by wine: its base-relocated fields written one by one as they are found
    // (never held) give the document written from the held explanation, byte for byte.
    let c = open("x64-collide", "data2.dll");
    let e = explain(&c, &c.dump);
    let v = linkscope::patch::verify::verify::<linkscope::session::Analyzed>(&c.plan, &c.image.bin, None, &c.dump);
    let mut held = Vec::new();
    linkscope::report::explain::write_explain_json(&mut held, &c.plan, &v, &e).unwrap();
    let paths: Vec<String> = c.modules.iter().map(Module::path).collect();
    let dlls: Vec<DllInput<'_>> =
        c.modules.iter().zip(&paths).map(|(m, p)| DllInput { path: p, data: m.data(), bin: m.bin() }).collect();
    let inputs = Inputs { bin: &c.image.bin, data: &c.image.data, index: &c.image.index, dlls: &dlls, names: &c.image };
    let mem = ModuleMemory::whole(&c.dump[..]);
    let mut streamed = Vec::new();
    let mut seen = 0;
    linkscope::report::explain::write_explain_json_streamed(&mut streamed, &c.plan, &v, |sink| {
        let e = explain::explain_to(&c.plan, &inputs, &mem, &mut |r| {
            seen += 1;
            sink(r)
        });
        assert!(e.explained.is_empty(), "the ranges are handed on, not held");
        e
    })
    .unwrap();
    assert!(seen > 0 && seen == e.explained.len(), "{seen} of {}", e.explained.len());
    assert_eq!(String::from_utf8(streamed).unwrap(), String::from_utf8(held).unwrap());
}

#[test]
fn bytes_the_memory_does_not_hold_are_not_differences() {
    let c = open("x86-gnu", "autoimport.exe");
    let main = symbol_rva(&c, "_main") as usize;
    // Garbage over .text, but the source holds only the first page and the rest after .text's
    // first page: the garbage is not held, so nothing is unexplained.
    let mut junk = c.dump.clone();
    for (k, b) in junk[0x1000..0x2000].iter_mut().enumerate() {
        *b = (k * 7 + 3) as u8;
    }
    let pieces = [(0u64, &junk[..0x1000]), (0x2000u64, &junk[0x2000..])];
    let mem = ModuleMemory::from_pieces(Some(0x40_0000), junk.len(), pieces);
    let paths: Vec<String> = c.modules.iter().map(Module::path).collect();
    let dlls: Vec<DllInput<'_>> =
        c.modules.iter().zip(&paths).map(|(m, p)| DllInput { path: p, data: m.data(), bin: m.bin() }).collect();
    let inputs = Inputs { bin: &c.image.bin, data: &c.image.data, index: &c.image.index, dlls: &dlls, names: &c.image };
    let e = explain::explain(&c.plan, &inputs, &mem);
    assert_eq!(e.not_in_dump, 0x1000);
    assert!(e.unexplained.is_empty(), "{:?}", e.unexplained);
    assert_eq!(e.bytes_compared, junk.len() as u64 - 0x1000);
    // A memory shorter than the image, and one of random bytes: diagnostics, no panic.
    let short = ModuleMemory::whole(&c.dump[..main + 3]);
    let e = explain::explain(&c.plan, &inputs, &short);
    assert_eq!(e.not_in_dump, (c.dump.len() - main - 3) as u64);
    let noise: Vec<u8> = (0..c.dump.len()).map(|k| (k.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let e = explain::explain(&c.plan, &inputs, &ModuleMemory::whole(&noise[..]));
    assert!(e.unexplained_protected > 0);
    assert!(e.unexplained.iter().filter(|r| r.before.is_some()).count() <= 1000, "decoding is bounded");
}
