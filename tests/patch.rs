//! The patch engine against the real loader: memory images that wine (the Windows loader and the
//! MinGW runtime pseudo-relocator) and glibc's ld.so produced (tests/fixtures/patch, made by its
//! build.sh), and the runtime's own abort message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use common::fixture_path;
use linkscope::analysis::{scan_refs, RefOptions};
use linkscope::model::index::Index;
use linkscope::patch::{self, DllInput, PatchOptions, PatchPlan, SchemeKind, Status};
use linkscope::Binary;

/// One module of a case: name, base, dump file.
struct Module {
    name: String,
    base: u64,
    dump: String,
}

fn modules(case: &str) -> Vec<Module> {
    let text = std::fs::read_to_string(fixture_path(&format!("patch/{case}/modules.tsv"))).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Module { name: f[0].into(), base: u64::from_str_radix(f[1], 16).unwrap(), dump: f[3].into() }
        })
        .collect()
}

/// A reader that gives at most `.1` bytes a read.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn gunzip(path: PathBuf) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
    out
}

struct Files {
    files: Vec<(String, Vec<u8>, Binary)>,
}

impl Files {
    fn read(case: &str, names: &[&str]) -> Self {
        let files = names
            .iter()
            .map(|n| {
                let data = std::fs::read(fixture_path(&format!("patch/{case}/{n}"))).unwrap();
                let bin = linkscope::load(&data).unwrap();
                (n.to_string(), data, bin)
            })
            .collect();
        Files { files }
    }

    fn get(&self, name: &str) -> &(String, Vec<u8>, Binary) {
        self.files.iter().find(|f| f.0 == name).unwrap()
    }

    fn dlls(&self, except: &str) -> Vec<DllInput<'_>> {
        self.files.iter().filter(|f| f.0 != except).map(|(p, d, b)| DllInput { path: p, data: d, bin: b }).collect()
    }
}

fn plan_for(
    files: &Files,
    image: &str,
    base: Option<u64>,
    bases: &[(String, u64)],
    scheme: Option<SchemeKind>,
) -> PatchPlan {
    let (_, data, bin) = files.get(image);
    let index = Index::new(bin);
    let opts = PatchOptions {
        image_base: base,
        bases: bases.to_vec(),
        scheme,
        image_path: Some(image.to_string()),
        ..Default::default()
    };
    patch::plan(bin, data, &index, &files.dlls(image), &opts).unwrap()
}

/// Every module of `case` (all of them are given, each at the base the process had) predicted
/// and compared with its dump; returns the number of places checked.
fn verify_case(case: &str) -> u64 {
    let mods = modules(case);
    let names: Vec<&str> = mods.iter().map(|m| m.name.as_str()).collect();
    let files = Files::read(case, &names);
    let bases: Vec<(String, u64)> = mods.iter().map(|m| (m.name.clone(), m.base)).collect();
    let mut checked = 0;
    for m in &mods {
        let (_, data, bin) = files.get(&m.name);
        let plan = plan_for(&files, &m.name, Some(m.base), &bases, None);
        let index = Index::new(bin);
        let refs = scan_refs(bin, data, &index, &RefOptions { collect: true, ..Default::default() });
        let dump = gunzip(fixture_path(&format!("patch/{case}/{}", m.dump)));
        assert_eq!(dump.len(), plan.patched.len(), "{case}/{}: dump size", m.name);
        let v = patch::verify::verify(&plan, bin, Some(&refs), &dump);
        assert!(v.mismatches.is_empty(), "{case}/{}: {:#?}", m.name, &v.mismatches[..v.mismatches.len().min(5)]);
        // Read front to back through a window, in short reads, the dump gives the same result,
        // also where bytes differ.
        let mut bad = dump.clone();
        for k in (0..bad.len()).step_by(61) {
            bad[k] ^= 0x5a;
        }
        for d in [&dump, &bad] {
            let whole = serde_json::to_string(&patch::verify::verify(&plan, bin, Some(&refs), d)).unwrap();
            let (streamed, err) = patch::verify::verify_stream(&plan, bin, Some(&refs), Trickle(d, 7));
            assert!(err.is_none());
            assert_eq!(serde_json::to_string(&streamed).unwrap(), whole, "{case}/{}", m.name);
        }
        assert_eq!(v.checked, v.matched);
        // Every pseudo-relocation target and every bound slot was compared, none skipped.
        let kind = |k: &str| v.by_kind.iter().find(|(n, _, _)| n == k).map_or(0, |(_, c, _)| *c);
        if bin.format.is_pe() {
            assert_eq!(kind("pseudo-reloc-item"), bin.pseudo_relocations.entries.len() as u64, "{case}/{}", m.name);
            assert_eq!(kind("iat-slot"), plan.bindings.iter().filter(|b| b.value.is_some()).count() as u64);
            assert_eq!(
                kind("base-reloc-entry"),
                bin.base_relocations.iter().filter(|r| r.raw_type != 0).count() as u64
            );
            assert!(plan.steps.iter().all(|s| s.written == s.status.wrote()), "{case}/{}", m.name);
        }
        checked += v.checked;
    }
    checked
}

#[test]
fn every_pe_case_matches_the_memory_wine_gave_it() {
    for c in common::WINE_PE_CASES {
        assert!(verify_case(c) > 100, "{c}");
    }
}

#[test]
fn elf_cases_match_what_ld_so_wrote() {
    for c in ["elf-pie", "elf-nopie"] {
        assert!(verify_case(c) > 40, "{c}");
    }
    // The executable's COPY relocations take the shared object's relocated bytes, and its
    // GLOB_DATs bind to the copies.
    let files = Files::read("elf-pie", &["main", "libdata.so"]);
    let bases = vec![("libdata.so".to_string(), 0x7fff_f7fb_2000)];
    let plan = plan_for(&files, "main", None, &bases, None);
    assert_eq!(plan.image().base, 0x5555_5555_4000, "a PIE without randomisation");
    let copies: Vec<_> = plan.steps.iter().filter(|s| s.reason.starts_with("COPY")).collect();
    assert_eq!(copies.len(), 4);
    // libc is not given: its symbols are listed as unresolved, with their slots.
    assert!(plan.unresolved.iter().any(|u| u.import == "printf"), "{:?}", plan.unresolved);
    assert!(copies
        .iter()
        .all(|s| s.status == Status::Applied && s.import.as_deref().unwrap().starts_with("libdata.so!")));
}

#[test]
fn a_far_dll_aborts_small_model_code_with_the_runtimes_message() {
    let files = Files::read("x64-gnu-small-far", &["autoimport.exe", "data.dll"]);
    let plan = plan_for(&files, "autoimport.exe", None, &[], None);
    assert_eq!(plan.modules[1].base, 0x2_840e_0000, "data.dll at GNU ld's automatic base");
    let err = std::fs::read_to_string(fixture_path("patch/x64-gnu-small-far/run.err")).unwrap();
    let mut lines = err.lines().map(|l| l.trim_end_matches('\r'));
    assert_eq!(lines.next(), Some("Mingw-w64 runtime failure:"));
    assert_eq!(plan.failure.as_deref(), lines.next());
    let first_bad = plan.steps.iter().position(|s| s.status == Status::OutOfRange).unwrap();
    assert_eq!(plan.steps[first_bad].target_rva, 0x157a);
    assert!(!plan.steps[first_bad].written);
    // Nothing after the abort is applied.
    assert!(plan.steps[first_bad + 1..].iter().all(|s| !s.reached && !s.written));
    assert!(plan.steps[..first_bad].iter().all(|s| s.reached));
    // Near enough, the same code runs (the near case's dump is checked above).
    let near = plan_for(&files, "autoimport.exe", None, &[("data.dll".into(), 0x1_5000_0000)], None);
    assert_eq!(near.failure, None);
    // Switching the bad step off lets the runtime go on to the next out-of-range one.
    let (_, data, bin) = files.get("autoimport.exe");
    let index = Index::new(bin);
    let opts = PatchOptions { disabled: BTreeSet::from([plan.steps[first_bad].index]), ..Default::default() };
    let off = patch::plan(bin, data, &index, &files.dlls("autoimport.exe"), &opts).unwrap();
    assert!(!off.steps[first_bad].enabled);
    let next_bad = off.steps.iter().position(|s| s.status == Status::OutOfRange && s.enabled).unwrap();
    assert!(next_bad > first_bad);
    assert!(off.failure.unwrap().contains(&format!("{:016X}", 0x1_4000_0000u64 + off.steps[next_bad].target_rva)));
}

fn walk_rvas(plan: &PatchPlan, status: Status) -> Vec<u64> {
    let mut v: Vec<u64> = plan.steps.iter().filter(|s| s.status == status).map(|s| s.target_rva).collect();
    v.sort_unstable();
    v
}

#[test]
fn the_baserel_walk_misidentifies_offsets_and_imp_pointers_and_misses_rip_relative_sites() {
    // x64, default code model: every item is a 64-bit pointer with a base relocation.
    let files = Files::read("x64-gnu", &["autoimport.exe", "data.dll"]);
    let walk = plan_for(&files, "autoimport.exe", None, &[], Some(SchemeKind::BaserelWalk));
    let (_, _, bin) = files.get("autoimport.exe");
    // By construction (autoimport.c): p_pt_y = &pt.y (slot + 4, inside pt's slot), p_arr3 =
    // &arr[3] (slot + 12 = inside counter's slot), p_arr2 = &arr[2] (slot + 8 = exactly counter's
    // slot); and the CRT's four pointers to msvcrt __imp_ slots, which must stay.
    let offsets: Vec<u64> = bin
        .pseudo_relocations
        .entries
        .iter()
        .filter(|e| e.slot_offset.unwrap_or(0) != 0)
        .map(|e| e.target_rva)
        .collect();
    assert_eq!(offsets.len(), 3);
    let mut want = offsets.clone();
    want.extend([0xa860, 0xa870, 0xa880, 0xa890]);
    want.sort_unstable();
    assert_eq!(walk_rvas(&walk, Status::Misidentified), want);
    assert!(walk_rvas(&walk, Status::Missed).is_empty());
    let arr2 = walk
        .steps
        .iter()
        .find(|s| s.status == Status::Misidentified && s.offset == Some(0) && s.target_rva < 0xa000)
        .unwrap();
    assert_eq!(arr2.import.as_deref(), Some("data.dll!counter"), "&arr[2] is read as counter's slot");
    // The zero-offset items the walk gets right.
    assert_eq!(walk.steps.iter().filter(|s| s.status == Status::Applied).count(), 5);

    // -mcmodel=small: the five RIP-relative items have no base relocation.
    let files = Files::read("x64-gnu-small-near", &["autoimport.exe", "data.dll"]);
    let walk = plan_for(&files, "autoimport.exe", None, &[], Some(SchemeKind::BaserelWalk));
    let (_, _, bin) = files.get("autoimport.exe");
    let narrow: Vec<u64> =
        bin.pseudo_relocations.entries.iter().filter(|e| e.width == 32).map(|e| e.target_rva).collect();
    assert_eq!(narrow.len(), 5);
    let mut narrow_sorted = narrow.clone();
    narrow_sorted.sort_unstable();
    assert_eq!(walk_rvas(&walk, Status::Missed), narrow_sorted);
    assert!(
        walk.steps.iter().filter(|s| s.status == Status::Missed).all(|s| s.insn_before.is_none()),
        "plan() alone does not disassemble"
    );
}

#[test]
fn verify_finds_seeded_faults_and_nothing_else() {
    let case = "x64-gnu";
    let files = Files::read(case, &["autoimport.exe", "data.dll"]);
    let plan = plan_for(&files, "autoimport.exe", None, &[], None);
    let (_, data, bin) = files.get("autoimport.exe");
    let index = Index::new(bin);
    let refs = scan_refs(bin, data, &index, &RefOptions { collect: true, ..Default::default() });
    let mut dump = gunzip(fixture_path(&format!("patch/{case}/autoimport.exe.mem.gz")));
    let pseudo = bin.pseudo_relocations.entries[2].target_rva as usize;
    let slot = plan.bindings.iter().find(|b| b.value.is_some()).unwrap().slot_rva as usize;
    dump[pseudo + 1] ^= 0x40;
    dump[slot] ^= 1;
    dump[0x40] ^= 0xff; // the DOS stub: nothing the loader writes
    dump[bin.entry_rva.unwrap() as usize] ^= 0xff; // an opcode byte, not an address field
    let v = patch::verify::verify(&plan, bin, Some(&refs), &dump);
    let mut hit: Vec<u64> = v.mismatches.iter().map(|m| m.rva).collect();
    hit.sort_unstable();
    hit.dedup();
    let mut want = vec![pseudo as u64, slot as u64];
    want.sort_unstable();
    assert_eq!(hit, want, "{:#?}", v.mismatches);
    assert!(v.mismatches.iter().any(|m| m.structure.starts_with("pseudo-reloc-item")));
    assert!(v.mismatches.iter().any(|m| m.structure.starts_with("iat-slot data.dll!")));
}

#[test]
fn hostile_plans_get_diagnostics_not_panics() {
    let files = Files::read("x64-gnu", &["autoimport.exe", "data.dll"]);
    let (_, data, bin) = files.get("autoimport.exe");
    let index = Index::new(bin);
    // An absurd base.
    let opts = PatchOptions { image_base: Some(0xffff_ffff_ffff_0000), ..Default::default() };
    assert!(patch::plan(bin, data, &index, &files.dlls("autoimport.exe"), &opts)
        .unwrap_err()
        .to_string()
        .contains("address space"));
    // A cyclic forwarder in the DLL.
    let (_, ddata, dbin) = files.get("data.dll");
    let mut cyclic = dbin.clone();
    for e in &mut cyclic.exports {
        if e.name.as_deref() == Some("arr") {
            e.forwarder = Some("data.arr".into());
        }
    }
    let dll = DllInput { path: "data.dll", data: ddata, bin: &cyclic };
    let plan = patch::plan(bin, data, &index, &[dll], &PatchOptions::default()).unwrap();
    let b = plan.bindings.iter().find(|b| b.import == "data.dll!arr").unwrap();
    assert!(b.value.is_none() && b.note.as_deref().unwrap().contains("cycle"), "{b:?}");
    assert!(plan
        .steps
        .iter()
        .filter(|s| s.import.as_deref() == Some("data.dll!arr"))
        .all(|s| s.status == Status::Unresolved));
    // A list pointing outside the image.
    let mut outside = bin.clone();
    outside.pseudo_relocations.entries[0].target_rva = 0xffff_fff0;
    let index2 = Index::new(&outside);
    let plan = patch::plan(&outside, data, &index2, &files.dlls("autoimport.exe"), &PatchOptions::default()).unwrap();
    assert!(plan.failure.as_deref().unwrap().starts_with("access violation"));
    assert!(plan.steps[1..].iter().all(|s| !s.written));
    // A DLL known only by its base: its imports are unresolved, the rest still planned.
    let opts = PatchOptions { bases: vec![("DATA.DLL".into(), 0x7000_0000)], ..Default::default() };
    let plan = patch::plan(bin, data, &index, &[], &opts).unwrap();
    assert_eq!(plan.modules[1].base, 0x7000_0000);
    assert!(plan.unresolved.iter().any(|u| u.import.starts_with("data.dll!") && u.reason.contains("no file")));
    // A DLL that collides with the EXE is moved, and the plan says so.
    let opts = PatchOptions::default();
    let mut colliding = dbin.clone();
    colliding.image_base = bin.image_base;
    let dll = DllInput { path: "data.dll", data: ddata, bin: &colliding };
    let plan = patch::plan(bin, data, &index, &[dll], &opts).unwrap();
    assert!(plan.modules[1].relocated && plan.notes.iter().any(|n| n.contains("overlaps")));
    assert!(plan.modules[1].base >= plan.modules[0].base + plan.modules[0].size);
}

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).output().unwrap()
}

#[test]
fn cli_patch_writes_the_image_and_verify_exits_by_the_comparison() {
    let dir = fixture_path("patch/x64-gnu");
    let exe = dir.join("autoimport.exe");
    let tmp = std::env::temp_dir().join(format!("linkscope-patch-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let out = tmp.join("img");
    let r = cli(&["patch", exe.to_str().unwrap(), "--json", "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(doc["scheme"], "mingw");
    assert_eq!(doc["modules"][1]["name"], "data.dll", "the DLL beside the EXE is loaded");
    assert_eq!(std::fs::read(&out).unwrap().len(), 0x12000);
    // The wine dump verifies (exit 0), a flipped pseudo-relocated byte does not (exit 1).
    let dump = dir.join("autoimport.exe.mem.gz");
    let r = cli(&["verify", exe.to_str().unwrap(), "--dump", dump.to_str().unwrap(), "--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stdout));
    let mut bytes = gunzip(dump);
    bytes[0x9010] ^= 1;
    let bad = tmp.join("bad");
    std::fs::write(&bad, &bytes).unwrap();
    let r = cli(&["verify", exe.to_str().unwrap(), "--dump", bad.to_str().unwrap(), "--json"]);
    assert_eq!(r.status.code(), Some(1));
    // A short dump and a missing image: exit 2 with a diagnostic.
    std::fs::write(&bad, &bytes[..0x1000]).unwrap();
    let r = cli(&["verify", exe.to_str().unwrap(), "--dump", bad.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("SizeOfImage"));
    let r = cli(&["patch", tmp.join("missing.exe").to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn explicit_lists_match_the_programs_that_apply_them() {
    // Hand-made .reldata / _dllra lists; each program applies its list (a C port of the D
    // runtime's loop) and dumps itself under wine.
    for c in ["explicit/x86-reldata", "explicit/x86-dllra", "explicit/x64-dllra", "explicit/x86-reldata-holder"] {
        assert!(verify_case(c) > 7, "{c}");
    }
    for (case, image, scheme, records) in [
        ("explicit/x86-reldata", "reldata.exe", SchemeKind::Reldata, 7),
        ("explicit/x86-dllra", "dllra.exe", SchemeKind::Dllra, 6),
        ("explicit/x64-dllra", "dllra.exe", SchemeKind::Dllra, 6),
    ] {
        let files = Files::read(case, &[image, "data.dll"]);
        let plan = plan_for(&files, image, None, &[], None);
        assert_eq!(plan.scheme, scheme, "{case}: detected");
        assert_eq!(plan.steps.len(), records, "{case}");
        // One field is in read-only .rdata; the rest are applied, none unresolved.
        assert_eq!(plan.steps.iter().filter(|s| s.status == Status::NeedsWritablePage).count(), 1, "{case}");
        assert!(plan.steps.iter().all(|s| s.written), "{case}");
        let arr3 = plan.steps.iter().find(|s| s.offset == Some(12)).unwrap();
        assert_eq!(arr3.after, plan.modules[1].base + 0x3040 + 12, "{case}: &arr[3]");
    }
}

#[test]
fn steps_after_the_abort_are_not_reached_and_counted_as_such() {
    let files = Files::read("x64-gnu-small-far", &["autoimport.exe", "data.dll"]);
    let plan = plan_for(&files, "autoimport.exe", None, &[], None);
    let first_bad = plan.steps.iter().position(|s| s.status == Status::OutOfRange).unwrap();
    let after = &plan.steps[first_bad + 1..];
    assert!(!after.is_empty());
    // Whatever they would have been, the runtime never gets there; the reason keeps the rest.
    assert!(after.iter().all(|s| s.status == Status::NotReached && !s.reached && !s.written));
    assert!(after
        .iter()
        .all(|s| s.reason.starts_with(&format!("not reached: the runtime aborts at step {first_bad}"))));
    assert!(after.iter().any(|s| s.reason.contains("had it got here: applied")));
    let counts = plan.counts();
    let count = |st: Status| counts[Status::ALL.iter().position(|x| *x == st).unwrap()];
    assert_eq!(count(Status::NotReached), after.len());
    assert_eq!(count(Status::OutOfRange), 1);
    assert_eq!(counts.iter().sum::<usize>(), plan.steps.len());
    // The JSON counts and the text say the same.
    let json = linkscope::report::patch::plan_json(&plan, None);
    assert_eq!(json["summary"]["by_status"]["not-reached"], after.len());
    assert_eq!(json["summary"]["by_status"]["out-of-range"], 1);
    assert_eq!(json["steps"][first_bad + 1]["status"], "not-reached");
    let mut text = Vec::new();
    linkscope::report::patch::write_plan_text(&mut text, &plan).unwrap();
    let text = String::from_utf8(text).unwrap();
    let summary = format!("steps: {}", linkscope::report::patch::counts_text(&plan));
    assert!(text.contains(&summary), "{text}");
    assert!(summary.ends_with(&format!("1 out-of-range, {} not-reached", after.len())), "{summary}");
    assert!(!text.contains("(not reached)"));
    // Switched off, the bad step no longer stops the runtime: the counts follow.
    let (_, data, bin) = files.get("autoimport.exe");
    let index = Index::new(bin);
    let opts = PatchOptions { disabled: BTreeSet::from([plan.steps[first_bad].index]), ..Default::default() };
    let off = patch::plan(bin, data, &index, &files.dlls("autoimport.exe"), &opts).unwrap();
    let next_bad = off.steps.iter().position(|s| s.status == Status::OutOfRange && s.enabled).unwrap();
    assert!(off.steps[first_bad + 1..=next_bad].iter().all(|s| s.reached && s.status != Status::NotReached));
    assert!(off.steps[next_bad + 1..].iter().all(|s| s.status == Status::NotReached));
    assert_eq!(off.switched_off(), 1);
    assert!(linkscope::report::patch::counts_text(&off).ends_with("; 1 switched off"));
    assert_ne!(off.counts(), plan.counts());
}

/// The memory after the loader, before the scheme, as the plan rebuilds it from the patched image
/// ([`PatchPlan::loaded_bytes`] / [`PatchPlan::loaded_image`]), is the image mapped, relocated and
/// bound (`patch::load` + `patch::bind`), on every patch fixture, for every scheme that applies,
/// with every step on and with every other step switched off.
#[test]
fn loaded_memory_is_rebuilt_from_the_patched_image() {
    let mut planned = 0;
    for case in [
        "elf-nopie",
        "elf-pie",
        "x64-collide",
        "x64-gnu",
        "x64-gnu-small-far",
        "x64-gnu-small-near",
        "x64-lld",
        "x64-reloc-holder",
        "x86-collide",
        "x86-gnu",
        "x86-gnu-v1",
        "x86-lld",
        "x86-reloc-holder",
        "explicit/x64-dllra",
        "explicit/x86-dllra",
        "explicit/x86-reldata",
        "explicit/x86-reldata-holder",
    ] {
        let mods = modules(case);
        let names: Vec<&str> = mods.iter().map(|m| m.name.as_str()).collect();
        let files = Files::read(case, &names);
        let bases: Vec<(String, u64)> = mods.iter().map(|m| (m.name.clone(), m.base)).collect();
        for m in &mods {
            let (_, data, bin) = files.get(&m.name);
            let index = Index::new(bin);
            let dlls = files.dlls(&m.name);
            for scheme in SchemeKind::ALL.into_iter().filter(|k| k.fits(bin)) {
                let mut opts = PatchOptions {
                    image_base: Some(m.base),
                    bases: bases.clone(),
                    scheme: Some(scheme),
                    ..Default::default()
                };
                // What the old `loaded` field held: the loader's memory, mapped, relocated, bound.
                let Ok(mut world) = patch::load::load_all(bin, data, &dlls, &opts) else { continue };
                if bin.format.is_pe() {
                    patch::bind::bind(bin, &mut world.memory, &world.modules, &world.dlls, world.ptr);
                }
                let want = world.memory;
                let all = patch::plan(bin, data, &index, &dlls, &opts).unwrap();
                for off in [false, true] {
                    if off {
                        opts.disabled = (0..all.steps.len()).step_by(2).collect();
                    }
                    let plan = patch::plan(bin, data, &index, &dlls, &opts).unwrap();
                    let what = format!("{case}/{} {} (every other step off: {off})", m.name, scheme.name());
                    assert_eq!(plan.loaded_image(), want, "{what}");
                    for s in &plan.steps {
                        let len = (s.width / 8).max(1) as usize;
                        for (at, n) in [(s.target_rva, len), (s.target_rva.saturating_sub(3), len + 7)] {
                            let (a, e) = (at as usize, at as usize + n);
                            assert_eq!(plan.loaded_bytes(at, n).as_deref(), want.get(a..e), "{what}: step {}", s.index);
                        }
                        if s.written {
                            let (a, e) = (s.target_rva as usize, s.target_rva as usize + len);
                            assert_ne!(plan.patched.get(a..e), None, "{what}");
                        }
                    }
                    assert_eq!(plan.loaded_bytes(plan.patched.len() as u64, 1), None);
                    planned += 1;
                }
            }
        }
    }
    assert!(planned >= 40, "{planned} plans");
}
