//! The data-reference scan against what is known by construction (tests/fixtures/src/autoimport.c:
//! `&arr[3]`, `pt.y`, `p_arr2 = &arr[2]`, …) and against llvm-objdump -d output captured beside
//! each fixture (`*.objdump-d-refs`: its RIP-relative operands and indirect calls / jumps).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{fixture_bytes, fixture_path};
use linkscope::analysis::stream::SiteSource;
use linkscope::analysis::{scan_refs, ImportRef, Mode, Placement, RefOptions, Refs, Site, TargetKind};
use linkscope::model::index::Index;
use linkscope::report::refs::Namer;
use linkscope::Binary;

fn scan(rel: &str, placements: Vec<Placement>) -> (Binary, Index, Refs) {
    let data = fixture_bytes(rel);
    let bin = linkscope::load(&data).unwrap();
    let index = Index::new(&bin);
    let refs = scan_refs(&bin, &data, &index, &RefOptions { collect: true, placements, ..RefOptions::default() });
    (bin, index, refs)
}

fn dll(rel: &str, name: &str, base: Option<u64>) -> Placement {
    Placement::from_dll(name, &linkscope::load(&fixture_bytes(rel)).unwrap(), base)
}

fn label(bin: &Binary, index: &Index, r: ImportRef) -> String {
    Namer { bin, index }.import_label(r)
}

/// One line of the capture: address, has a RIP-relative operand, indirect (is call, target).
type Line = (u64, bool, Option<(bool, u64)>);

/// Every line of the capture.
fn objdump_lines(rel: &str) -> Vec<Line> {
    let text = std::fs::read_to_string(fixture_path(&format!("{rel}.objdump-d-refs"))).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((addr, rest)) = line.trim_start().split_once(':') else { continue };
        let Ok(addr) = u64::from_str_radix(addr, 16) else { continue };
        let rip = rest.contains("(%rip)");
        let mut words = rest.split_whitespace();
        let mnemonic = words.next().unwrap_or("");
        let op = words.next().unwrap_or("");
        let branch = if (mnemonic.starts_with("call") || mnemonic.starts_with("jmp")) && op.starts_with('*') {
            let target = if op.contains("(%rip)") {
                rest.split("# 0x").nth(1).and_then(|t| u64::from_str_radix(t.split_whitespace().next()?, 16).ok())
            } else {
                op[1..].parse::<i64>().ok().map(|v| v as u64 & 0xffff_ffff)
            };
            target.map(|t| (mnemonic.starts_with("call"), t))
        } else {
            None
        };
        out.push((addr, rip, branch));
    }
    out
}

#[test]
fn rip_relative_operands_and_iat_calls_agree_with_llvm_objdump() {
    let fixtures = [
        "mingw64/autoimport.exe",
        "mingw64/autoimport-small.exe",
        "mingw64/autoimport-stripped.exe",
        "mingw64/data.dll",
        "mingw64/relocs.o",
        "mingw64/bigobj.o",
        "mingw32/autoimport.exe",
        "mingw32/autoimport-v1.exe",
        "mingw32/data.dll",
        "lld64/autoimport.exe",
        "lld64/autoimport-symtab.exe",
        "lld64/data.dll",
        "msvc64/features.dll",
        "msvc64/data.dll",
        "msvc64/comdat.obj",
        "msvc32/features.dll",
        "nasm/rel32k.obj",
        "yaml2obj/rel32k.obj",
        "elf/main-nopie",
        "elf/main-pie",
        "elf/libdata.so",
        "elf/pic.o",
        "elf/comdat.o",
    ];
    for rel in fixtures {
        let (bin, index, refs) = scan(rel, Vec::new());
        let base = if linkscope::model::index::is_object(&bin) { 0 } else { bin.image_base.unwrap_or(0) };
        let iat: BTreeSet<u64> = index.iat_sorted.iter().map(|&(r, _)| base + r).collect();
        let lines = objdump_lines(rel);
        let (mut calls, mut jumps) = (0, 0);
        for (_, _, b) in &lines {
            if let Some((call, t)) = b {
                if iat.contains(t) {
                    if *call {
                        calls += 1;
                    } else {
                        jumps += 1;
                    }
                }
            }
        }
        let s = &refs.summary;
        assert_eq!((s.iat_calls, s.iat_jumps), (calls, jumps), "{rel}: call/jmp [IAT]");
        let theirs: BTreeSet<u64> = lines.iter().filter(|l| l.1).map(|l| l.0).collect();
        let ours: Vec<Site> = refs.sites.iter().filter(|x| x.mode == Mode::RipRelative && x.instr_len > 0).collect();
        if linkscope::model::index::is_object(&bin) {
            // Objects: every RIP-relative operand is counted; sites are the relocated ones.
            // (section offsets repeat across sections: count lines, not addresses)
            let n = lines.iter().filter(|l| l.1).count();
            assert_eq!(s.rip_relative_operands as usize, n, "{rel}: RIP-relative operands");
            continue;
        }
        let ours_set: BTreeSet<u64> = ours.iter().map(|x| base + x.site_rva).collect();
        assert_eq!(s.rip_relative_operands as usize, ours_set.len(), "{rel}: every RIP operand is a site");
        // llvm-objdump restarts decoding at every symbol, GNU ld's `__fu*` labels included, which
        // name the displacement field inside an instruction: where it differs from us, we must
        // have a pseudo-relocated instruction that it split.
        let split: Vec<&Site> = ours.iter().filter(|x| x.pseudo_reloc.is_some()).collect();
        // The bytes after a split instruction are misdecoded by it until it falls back in step.
        let near_split = |a: u64| {
            split.iter().any(|x| {
                let start = base + x.site_rva;
                start <= a && a < start + u64::from(x.instr_len) + 16
            })
        };
        for a in ours_set.difference(&theirs) {
            assert!(near_split(*a), "{rel}: {a:#x} only ours, not at or after a split site");
        }
        for a in theirs.difference(&ours_set) {
            let inside = split.iter().any(|x| {
                let start = base + x.site_rva;
                start < *a && *a < start + u64::from(x.instr_len)
            });
            assert!(inside, "{rel}: {a:#x} only in llvm-objdump, not inside a split instruction");
        }
    }
}

/// The pseudo-relocated sites of `rel` as (field, import, offset, ambiguous).
fn pseudo_sites(rel: &str) -> Vec<(u64, String, i64, bool, Mode)> {
    let (bin, index, refs) = scan(rel, Vec::new());
    let mut out: Vec<_> = refs
        .sites
        .iter()
        .filter(|s| s.pseudo_reloc.is_some())
        .map(|s| (s.field_rva, label(&bin, &index, s.import.unwrap()), s.offset.unwrap(), s.ambiguous, s.mode))
        .collect();
    out.sort_by_key(|x| x.0);
    // Every pseudo-relocation item has its site, with the import the list names.
    assert_eq!(refs.summary.pseudo_relocs_without_site, 0, "{rel}");
    for e in &bin.pseudo_relocations.entries {
        let s =
            out.iter().find(|s| s.0 == e.target_rva).unwrap_or_else(|| panic!("{rel}: no site at {:#x}", e.target_rva));
        assert_eq!(Some(&s.1), e.import.as_ref(), "{rel}: import of {:#x}", e.target_rva);
    }
    out
}

#[test]
fn pseudo_relocated_data_pointers_have_import_and_offset() {
    // autoimport.c's static initialisers: p_ptr = &ptr, p_pt_y = &pt.y, p_arr3 = &arr[3],
    // p_arr2 = &arr[2] (in .data, in that order), and the `.refptr` slots in .rdata.
    for rel in ["mingw64/autoimport.exe", "mingw64/autoimport-stripped.exe", "lld64/autoimport.exe"] {
        let sites = pseudo_sites(rel);
        let data: Vec<(String, i64, bool)> =
            sites.iter().filter(|s| s.4 == Mode::DataPointer).map(|s| (s.1.clone(), s.2, s.3)).collect();
        assert!(data.contains(&("data.dll!pt".into(), 4, false)), "{rel}: {data:?}");
        // &arr[3] = arr + 12 and &arr[2] = arr + 8 land on the `counter` slot beside arr's: the
        // naive reading names the wrong import.
        assert!(data.contains(&("data.dll!arr".into(), 12, true)), "{rel}: {data:?}");
        assert!(data.contains(&("data.dll!arr".into(), 8, true)), "{rel}: {data:?}");
        let ambiguous = sites.iter().filter(|s| s.3).count();
        assert_eq!(ambiguous, 2, "{rel}: exactly the two arr + offset pointers are ambiguous");
    }
}

/// `refs --to data.dll!arr` keeps exactly the sites whose pseudo-relocation item names `arr`
/// (the list, not the slot their address lands on: `&arr[3]` lands on `counter`'s slot), and a
/// site whose slot is `arr`'s without an item (none here) — checked against the list itself.
#[test]
fn refs_to_an_import_keeps_exactly_its_sites() {
    use linkscope::analysis::xref::Targets;
    for rel in ["mingw64/autoimport.exe", "mingw64/autoimport-stripped.exe", "lld64/autoimport.exe"] {
        let (bin, index, refs) = scan(rel, Vec::new());
        let n = Namer { bin: &bin, index: &index };
        let t = Targets::resolve(&n, &["data.dll!arr".to_string()]).unwrap();
        let mut got: Vec<u64> = refs.sites.iter().filter(|s| t.reaches(s)).map(|s| s.field_rva).collect();
        got.sort_unstable();
        // The items the list names `arr` by, and the fields that hold arr's IAT slot itself
        // (LLD's code loads the pointer straight from the slot).
        let slots: Vec<u64> = bin
            .imports
            .iter()
            .filter(|m| m.dll.eq_ignore_ascii_case("data.dll"))
            .flat_map(|m| &m.entries)
            .filter(|e| e.name.as_deref() == Some("arr"))
            .map(|e| e.iat_rva)
            .collect();
        let mut want: Vec<u64> = bin
            .pseudo_relocations
            .entries
            .iter()
            .filter(|e| e.import.as_deref() == Some("data.dll!arr"))
            .map(|e| e.target_rva)
            .collect();
        let listed = want.clone();
        want.extend(
            refs.sites
                .iter()
                .filter(|s| s.target_rva.is_some_and(|t| slots.contains(&t)) && !listed.contains(&s.field_rva))
                .map(|s| s.field_rva),
        );
        want.sort_unstable();
        want.dedup();
        assert!(listed.len() >= 2 && want.len() >= 3, "{rel}: {want:?}");
        assert_eq!(got, want, "{rel}");
        // The DLL's name in any case, the bare name, the slot's address: the same sites.
        let slot = refs.sites.iter().find(|s| t.reaches(s) && !s.ambiguous).and_then(|s| n.import(s.import?)?.slot_rva);
        for spec in ["DATA.DLL!arr".to_string(), "arr".to_string(), format!("rva:{:#x}", slot.unwrap())] {
            let t2 = Targets::resolve(&n, std::slice::from_ref(&spec)).unwrap();
            let mut g2: Vec<u64> = refs.sites.iter().filter(|s| t2.reaches(s)).map(|s| s.field_rva).collect();
            g2.sort_unstable();
            assert!(want.iter().all(|w| g2.contains(w)), "{rel} {spec}: {g2:?}");
        }
        assert!(Targets::resolve(&n, &["data.dll!no_such".to_string()]).is_err());
    }
}

/// `refs --to` keeps its sites from one scan (the rest are counted, not kept): its rows are the
/// whole list's rows of exactly the sites that reach the target, byte for byte.
#[test]
fn refs_to_rows_are_the_whole_lists_rows_of_its_sites() {
    use linkscope::analysis::xref::Targets;
    let run = |args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut compared = 0;
    for rel in ["mingw64/autoimport.exe", "lld64/autoimport.exe", "elf/main-pie", "elf/pic.o"] {
        let path = common::fixture_path(rel);
        let p = path.to_str().unwrap();
        let all = run(&["refs", p, "--json"]);
        let (bin, index, refs) = scan(rel, Vec::new());
        let n = Namer { bin: &bin, index: &index };
        for spec in ["data.dll!arr", "counter", "main", "arr"] {
            let Ok(t) = Targets::resolve(&n, &[spec.to_string()]) else { continue };
            let want: Vec<(u64, u64)> =
                refs.sites.iter().filter(|s| t.reaches(s)).map(|s| (s.site_rva, s.field_rva)).collect();
            let rows: Vec<&serde_json::Value> = all["refs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| want.contains(&(r["site_rva"].as_u64().unwrap(), r["field_rva"].as_u64().unwrap())))
                .collect();
            let to = run(&["refs", p, "--to", spec, "--json"]);
            let got: Vec<&serde_json::Value> = to["refs"].as_array().unwrap().iter().collect();
            assert_eq!(got, rows, "{rel} --to {spec}");
            assert_eq!(to["summary"], all["summary"], "{rel}: the summary counts every site");
            compared += got.len();
        }
    }
    assert!(compared >= 10, "{compared} rows compared");
}

/// `refs --to NAME` lists the direct calls and jumps to the named function: exactly the
/// `call` / `jmp` lines `llvm-objdump -d` names it in (captured as `*.objdump-labels`), with the
/// function each sits in.
#[test]
fn refs_to_a_function_lists_its_calls_and_jumps_as_objdump_shows_them() {
    for (rel, name) in [
        ("mingw64/autoimport.exe", "printf"),
        ("mingw64/autoimport.exe", "main"),
        ("lld64/autoimport-symtab.exe", "printf"),
    ] {
        let path = common::fixture_path(rel);
        let capture = std::fs::read_to_string(format!("{}.objdump-labels", path.display())).unwrap();
        let mut want: Vec<(u64, String)> = capture
            .lines()
            .filter(|l| l.ends_with(&format!("<{name}>")))
            .map(|l| {
                let (site, rest) = l.trim_start().split_once(':').unwrap();
                let kind = rest.split_whitespace().next().unwrap().trim_end_matches('q').to_string();
                (u64::from_str_radix(site, 16).unwrap(), kind)
            })
            .collect();
        want.sort();
        assert!(!want.is_empty(), "{rel}: objdump calls {name}");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope"))
            .args(["refs", path.to_str().unwrap(), "--to", name, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut got: Vec<(u64, String)> = v["branches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["site_va"].as_u64().unwrap(), b["kind"].as_str().unwrap().to_string()))
            .collect();
        got.sort();
        assert_eq!(got, want, "{rel} --to {name}");
        for b in v["branches"].as_array().unwrap() {
            assert!(b["function"].as_str().is_some_and(|f| !f.is_empty()), "{rel}: {b}");
        }
    }
}

#[test]
fn small_code_model_sites_are_rip_relative_with_offsets() {
    let sites = pseudo_sites("mingw64/autoimport-small.exe");
    let rip: Vec<(String, i64, bool)> =
        sites.iter().filter(|s| s.4 == Mode::RipRelative).map(|s| (s.1.clone(), s.2, s.3)).collect();
    // arr[0], pt.y, ptr, counter += 5, &arr[3] in main, compiled with -mcmodel=small.
    assert_eq!(
        rip,
        vec![
            ("data.dll!arr".into(), 0, false),
            ("data.dll!pt".into(), 4, false),
            ("data.dll!ptr".into(), 0, false),
            ("data.dll!counter".into(), 0, false),
            ("data.dll!arr".into(), 12, true),
        ]
    );
}

#[test]
fn reach_follows_the_runtime_rule_for_far_dlls() {
    let rel = "mingw64/autoimport-small.exe";
    // Far: GNU ld's hashed base of another DLL name, 7+ GiB above the EXE.
    let far = dll("mingw64/data.dll", "data.dll", Some(0x2_fdd0_0000));
    let (bin, index, refs) = scan(rel, vec![far.clone()]);
    let narrow: Vec<Site> = refs.sites.iter().filter(|s| s.pseudo_reloc.is_some() && s.width == 32).collect();
    assert_eq!(narrow.len(), 5);
    assert!(narrow.iter().all(|s| s.reachable == Some(false)), "{narrow:?}");
    assert_eq!(refs.summary.unreachable, 5);
    // The distance is the new displacement: the export's address + offset - the next instruction.
    let s = narrow[1];
    let name = label(&bin, &index, s.import.unwrap());
    let export = far.by_name[name.split('!').nth(1).unwrap()];
    let next = bin.image_base.unwrap() + s.site_rva + u64::from(s.instr_len);
    assert_eq!(s.distance, Some((far.base + export + s.offset.unwrap() as u64).wrapping_sub(next) as i64));
    // Pointer-wide sites reach anything.
    assert!(refs.sites.iter().filter(|s| s.width == 64).all(|s| s.reachable.is_none()));
    // Near (1 GiB above): every field reaches; no DLL placed: reach unknown.
    let (_, _, near) = scan(rel, vec![dll("mingw64/data.dll", "data.dll", Some(0x1_8000_0000))]);
    assert_eq!(near.summary.unreachable, 0);
    assert_eq!(near.sites.iter().filter(|s| s.pseudo_reloc.is_some() && s.reachable == Some(true)).count(), 5);
    let (_, _, none) = scan(rel, Vec::new());
    assert_eq!(none.summary.reach_unknown, 5);
    // 3 GiB above: the runtime accepts the unsigned value, the CPU sign-extends it.
    let (_, _, wrap) = scan(rel, vec![dll("mingw64/data.dll", "data.dll", Some(0x1_fe10_0000))]);
    assert_eq!((wrap.summary.unreachable, wrap.summary.wraps), (0, 5));
}

#[test]
fn v1_sites_are_named_from_their_extra_descriptors() {
    let sites = pseudo_sites("mingw32/autoimport-v1.exe");
    let got: BTreeSet<(String, i64)> = sites.iter().map(|s| (s.1.clone(), s.2)).collect();
    let want: BTreeSet<(String, i64)> =
        [("data.dll!arr".to_string(), 12), ("data.dll!arr".into(), 8), ("data.dll!pt".into(), 4)].into();
    assert_eq!(got, want);
}

#[test]
fn x86_absolute_and_immediate_forms() {
    let (bin, index, refs) = scan("mingw32/autoimport.exe", Vec::new());
    let modes: BTreeSet<Mode> = refs.sites.iter().map(|s| s.mode).collect();
    for m in [Mode::Absolute, Mode::AbsoluteIndexed, Mode::Immediate, Mode::DataPointer] {
        assert!(modes.contains(&m), "{m:?}");
    }
    // Every base relocation of the image is a site's field, once.
    let fields: BTreeSet<u64> = refs.sites.iter().filter(|s| s.base_reloc.is_some()).map(|s| s.field_rva).collect();
    let relocs: BTreeSet<u64> = bin.base_relocations.iter().filter(|r| r.raw_type == 3).map(|r| r.rva).collect();
    assert_eq!(fields, relocs);
    // mov eax, [__imp_x] style loads through the IAT are absolute sites naming the import.
    assert!(refs.sites.iter().any(|s| s.mode == Mode::Absolute
        && s.target_kind == TargetKind::Iat
        && label(&bin, &index, s.import.unwrap()) == "data.dll!ptr"));
}

#[test]
fn object_sites_come_from_relocations() {
    // MSVC's REL32_1..5 store only the addend; nasm's REL32 stores -k: both reach x + 0 / x + 4.
    // (the layouts are in the sources' header comments: the yaml's fourth store targets x + 4).
    for (rel, want) in [("yaml2obj/rel32k.obj", [0, 0, 0, 4, 4, 0]), ("nasm/rel32k.obj", [0, 0, 0, 0, 4, 0])] {
        let (_, _, refs) = scan(rel, Vec::new());
        let offs: Vec<i64> = refs.sites.iter().filter(|s| s.instr_len > 0).take(6).map(|s| s.offset.unwrap()).collect();
        assert_eq!(offs, want, "{rel}");
        assert!(refs.sites.iter().all(|s| s.mode == Mode::RipRelative));
    }
    // i386 object: absolute operands, an immediate, external data needing an import fix-up.
    let (bin, _, refs) = scan("mingw32/relocs.o", Vec::new());
    let ext: Vec<&str> = refs
        .sites
        .iter()
        .filter(|s| s.needs_import_fixup)
        .map(|s| match s.import {
            Some(ImportRef::Symbol(p)) => bin.symbols[p as usize].name.as_str(),
            _ => "?",
        })
        .collect();
    assert!(ext.contains(&"_ext_var"), "{ext:?}");
    assert!(!ext.contains(&"_ext_func"), "a function is no data import: {ext:?}");
    assert!(refs.sites.iter().any(|s| s.mode == Mode::Immediate));
    // ELF object: the addend is relative to the field; data pointers to external data.
    let (_, _, refs) = scan("elf/rel32.o", Vec::new());
    assert!(refs.sites.iter().all(|s| s.offset.is_some()));
}

#[test]
fn threads_give_identical_results() {
    let rel = "mingw64/data.dll";
    let data = fixture_bytes(rel);
    let bin = linkscope::load(&data).unwrap();
    let index = Index::new(&bin);
    let run = |threads| {
        let o = RefOptions { threads, collect: true, instructions: true, min_chunk: 256, ..RefOptions::default() };
        scan_refs(&bin, &data, &index, &o)
    };
    let one = run(1);
    for n in [2, 3, 7] {
        let r = run(n);
        assert_eq!(r.summary, one.summary, "{n} threads");
        assert_eq!(r.sites, one.sites, "{n} threads");
        assert_eq!(r.insns.offsets, one.insns.offsets, "{n} threads");
    }
    assert!(one.summary.instructions > 1000);
}

/// The sites streamed piece by piece (`refs --json`, `refs`, `patch`, `verify`) are the collected
/// scan's, in its order, for every image and object fixture and any thread count; pieces are
/// made small so every fixture is split.
#[test]
fn streamed_sites_equal_the_collected_scan() {
    let (mut files, mut split, mut floors) = (0, 0, 0);
    for dir in ["mingw64", "mingw32", "msvc64", "msvc32", "lld64", "elf", "nasm", "patch"] {
        let Ok(rd) = std::fs::read_dir(fixture_path(dir)) else { continue };
        let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let Ok(data) = std::fs::read(&path) else { continue };
            let Ok(bin) = linkscope::load(&data) else { continue };
            let index = Index::new(&bin);
            let o = RefOptions { collect: true, min_chunk: 64, ..RefOptions::default() };
            let table = scan_refs(&bin, &data, &index, &o).sites;
            let want: Vec<Site> = table.iter().collect();
            // What the stream counts on the way is the summary scan's (the `refs` table's counts).
            let counted = RefOptions { collect: false, ..o.clone() };
            let summary = scan_refs(&bin, &data, &index, &counted);
            for threads in [1, 2, 3, 7] {
                let o = RefOptions { threads, ..o.clone() };
                let mut got = Vec::new();
                let mut floored = Vec::new();
                let mut pieces = 0;
                let totals = linkscope::analysis::stream::stream_sites_floored(
                    &bin,
                    &data,
                    &index,
                    &o,
                    |b| b.to_vec(),
                    |b, floor| {
                        pieces += 1;
                        floored.push((got.len(), floor));
                        got.extend(b);
                        Ok(())
                    },
                )
                .unwrap();
                assert_eq!(got, want, "{} with {threads} threads", path.display());
                floors += check_floors(&got, &floored, &path);
                let (mut listed, mut at) = (Vec::new(), 0);
                table
                    .each_piece_floored(
                        |b| b.len(),
                        |n, floor| {
                            listed.push((at, floor));
                            at += n;
                            Ok(())
                        },
                    )
                    .unwrap();
                floors += check_floors(&want, &listed, &path);
                assert_eq!(totals.summary, summary.summary, "{} with {threads} threads", path.display());
                assert_eq!(totals.note, summary.note, "{}", path.display());
                split += usize::from(threads == 1 && pieces > 2);
            }
            files += 1;
        }
    }
    assert!(files > 30, "{files} files");
    assert!(split > 10, "only {split} files came in more than two pieces");
    assert!(floors > 100, "only {floors} pieces had a floor above 0 before the last");
}

/// Check that no site after each piece (`(first site, floor)`) has its field below the piece's
/// floor, that the floors never go down and the last is `u64::MAX`; returns how many pieces
/// before the last had a floor above 0 (a floor that lets a consumer go).
fn check_floors(sites: &[Site], pieces: &[(usize, u64)], path: &std::path::Path) -> usize {
    let mut least_after = u64::MAX;
    let mut firsts = pieces.to_vec();
    firsts.push((sites.len(), u64::MAX));
    for w in firsts.windows(2).rev() {
        let (start, floor) = w[0];
        assert!(floor <= least_after, "{}: a site after the piece at {start} is below its floor", path.display());
        least_after = sites[start..w[1].0].iter().map(|s| s.field_rva).fold(least_after, u64::min);
    }
    assert!(pieces.windows(2).all(|w| w[0].1 <= w[1].1), "{}: floors go down", path.display());
    assert!(pieces.last().is_none_or(|p| p.1 == u64::MAX), "{}: the last floor", path.display());
    pieces.iter().rev().skip(1).filter(|p| p.1 > 0).count()
}

/// The hand-written JSON of a site is the bytes `serde_json` writes for it, on every fixture.
#[test]
fn hand_written_site_json_equals_serde_json() {
    let mut sites = 0;
    for dir in ["mingw64", "mingw32", "msvc64", "msvc32", "lld64", "elf", "nasm", "patch"] {
        let Ok(rd) = std::fs::read_dir(fixture_path(dir)) else { continue };
        for path in rd.flatten().map(|e| e.path()) {
            let Ok(data) = std::fs::read(&path) else { continue };
            let Ok(bin) = linkscope::load(&data) else { continue };
            let index = Index::new(&bin);
            let o = RefOptions { collect: true, ..RefOptions::default() };
            let refs = scan_refs(&bin, &data, &index, &o);
            let n = Namer { bin: &bin, index: &index };
            for s in &refs.sites {
                let s = &s;
                let mut hand = Vec::new();
                linkscope::report::refs::write_ref_json(&mut hand, &n, s).unwrap();
                let serde = serde_json::to_vec(&linkscope::report::refs::ref_json(&n, s)).unwrap();
                assert_eq!(String::from_utf8_lossy(&hand), String::from_utf8_lossy(&serde), "{}", path.display());
                sites += 1;
            }
        }
    }
    assert!(sites > 1000, "{sites} sites");
}

#[test]
fn garbage_and_truncated_code_is_bounded() {
    // A copy of an image whose code is noise: no panic, every instruction accounted for.
    let mut data = fixture_bytes("mingw64/autoimport.exe");
    let bin = linkscope::load(&data).unwrap();
    let text = bin.sections.iter().find(|s| s.name == ".text").unwrap();
    let mut x: u32 = 0x1234_5678;
    for b in &mut data[text.file_offset as usize..(text.file_offset + text.file_size) as usize] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let bin = linkscope::load(&data).unwrap();
    let index = Index::new(&bin);
    let r = scan_refs(&bin, &data, &index, &RefOptions { collect: true, ..RefOptions::default() });
    assert!(r.summary.instructions > 0);
    assert!(r.sites.iter().all(|s| s.target_kind != TargetKind::Iat || s.import.is_some()));
    // Truncated: the file ends inside .text.
    let cut = &data[..(text.file_offset + text.file_size / 2) as usize];
    if let Ok(bin) = linkscope::load(cut) {
        let index = Index::new(&bin);
        let _ = scan_refs(&bin, cut, &index, &RefOptions { collect: true, ..RefOptions::default() });
    }
}

#[test]
fn lld_code_loads_data_pointers_straight_from_the_iat() {
    // LLD resolves `arr` in code to its `__imp_arr` slot: a RIP-relative load of the IAT slot, with
    // no pseudo-relocation (only the static initialisers in .data get one).
    let (bin, index, refs) = scan("lld64/autoimport.exe", Vec::new());
    let loads: BTreeSet<String> = refs
        .sites
        .iter()
        .filter(|s| s.mode == Mode::RipRelative && s.target_kind == TargetKind::Iat && s.pseudo_reloc.is_none())
        .filter(|s| s.offset == Some(0))
        .map(|s| label(&bin, &index, s.import.unwrap()))
        .filter(|l| l.starts_with("data.dll!"))
        .collect();
    for name in ["arr", "pt", "ptr", "counter"] {
        assert!(loads.contains(&format!("data.dll!{name}")), "{name}: {loads:?}");
    }
    assert!(refs.sites.iter().filter(|s| s.pseudo_reloc.is_some()).all(|s| s.mode == Mode::DataPointer));
}

#[test]
fn very_many_code_sections_scan_in_bounded_time() {
    // 200,000 one-instruction code sections with a function symbol each (a hostile or a huge
    // COMDAT-heavy object): every lookup is a search, not a scan over the sections.
    use linkscope::model::{Arch, Binding, Format, Section, Span, Symbol, SymbolKind};
    let n = 200_000u32;
    let data: Vec<u8> = (0..n).flat_map(|_| [0x48u8, 0x8b, 0x05, 0, 0, 0, 0, 0xc3]).collect();
    let mut bin = Binary::new(Format::Coff, data.len() as u64);
    bin.arch = Arch::X86_64;
    bin.is_64 = true;
    for i in 0..n {
        bin.sections.push(Section {
            index: i + 1,
            name: ".text".into(),
            rva: 0,
            virtual_size: 0,
            file_offset: u64::from(i) * 8,
            file_size: 8,
            flags: 0x6000_0020,
            flag_names: Vec::new(),
            kind: None,
            is_alloc: true,
            is_exec: true,
            is_write: false,
            align: Some(1),
            header_span: Span::default(),
            reloc_count: 0,
        });
        bin.symbols.push(Symbol {
            index: i,
            name: format!("f{i}"),
            demangled: None,
            value: 0,
            size: None,
            section: Some(i + 1),
            section_kind: None,
            kind: SymbolKind::Function,
            binding: Binding::External,
            raw_type: 0x20,
            aux_count: 0,
            aux: Vec::new(),
            span: Span::default(),
        });
    }
    let index = Index::new(&bin);
    let start = std::time::Instant::now();
    let o = RefOptions { collect: true, instructions: true, ..RefOptions::default() };
    let refs = scan_refs(&bin, &data, &index, &o);
    eprintln!("{n} sections scanned in {:?}", start.elapsed());
    // Bounded work: every code byte decoded once.
    assert_eq!(refs.summary.code_bytes, data.len() as u64);
    assert_eq!(refs.summary.instructions, 2 * u64::from(n));
    assert_eq!(refs.summary.rip_relative_operands, u64::from(n));
    assert_eq!(refs.insns.row_of(7, Some(n as usize - 1)), Some(2 * n as usize - 1));
}

#[test]
fn a_site_reaching_an_import_has_an_import_target_whatever_its_address_lands_on() {
    use linkscope::report::refs::RefFilter;
    // x86: pt.y through a pseudo-relocation is data.dll!pt + 8, past its IAT slot, on data.
    let (bin, index, refs) = scan("patch/x86-collide/collide.exe", Vec::new());
    let odd: Vec<Site> =
        refs.sites.iter().filter(|s| s.import.is_some() && s.target_kind == TargetKind::Data).collect();
    assert!(!odd.is_empty());
    for s in &odd {
        assert_eq!(s.reached_kind(), TargetKind::Iat, "{}", label(&bin, &index, s.import.unwrap()));
        assert!(RefFilter::Iat.keep(s), "refs --only iat keeps it");
    }
    // Every site refs --only iat keeps reaches an import by the same fact, and no other does.
    for s in &refs.sites {
        let s = &s;
        let import_kind =
            matches!(s.reached_kind(), TargetKind::Iat | TargetKind::Thunk | TargetKind::Got | TargetKind::Copy);
        assert_eq!(RefFilter::Iat.keep(s), s.import.is_some());
        if s.import.is_none() {
            assert_eq!(s.reached_kind(), s.target_kind);
        } else {
            assert!(import_kind || s.reached_kind() == TargetKind::External);
        }
    }
}

#[test]
fn reach_in_one_word_and_refs_only_unreachable_agree() {
    use linkscope::analysis::Reach;
    use linkscope::report::refs::{reach_text, RefFilter};
    let rel = "mingw64/autoimport-small.exe";
    let words = |placements| {
        let (_, _, refs) = scan(rel, placements);
        let narrow: Vec<Option<Reach>> =
            refs.sites.iter().filter(|s| s.pseudo_reloc.is_some() && s.width == 32).map(|s| s.reach(64)).collect();
        for s in &refs.sites {
            let s = &s;
            assert_eq!(RefFilter::Unreachable.keep(s), s.reach(64) == Some(Reach::Out));
            let text = reach_text(s, 64);
            match s.reach(64) {
                Some(Reach::Ok) => assert!(text.starts_with("ok "), "{text}"),
                Some(Reach::Out) => assert!(text.starts_with("OUT "), "{text}"),
                Some(Reach::Wraps) => assert!(text.starts_with("WRAPS "), "{text}"),
                Some(Reach::Unknown) => assert_eq!(text, "?"),
                None => assert_eq!(text, ""),
            }
        }
        narrow
    };
    let far = words(vec![dll("mingw64/data.dll", "data.dll", Some(0x2_fdd0_0000))]);
    assert_eq!(far, vec![Some(Reach::Out); 5]);
    let near = words(vec![dll("mingw64/data.dll", "data.dll", Some(0x1_8000_0000))]);
    assert_eq!(near, vec![Some(Reach::Ok); 5]);
    let wrap = words(vec![dll("mingw64/data.dll", "data.dll", Some(0x1_fe10_0000))]);
    assert_eq!(wrap, vec![Some(Reach::Wraps); 5]);
    assert_eq!(words(Vec::new()), vec![Some(Reach::Unknown); 5]);
}

/// The `refs` table made in one sweep through a temporary file is the table made in two sweeps
/// when no temporary file can be made (`TMPDIR` missing), byte for byte, and nothing is left in
/// the temporary directory.
#[test]
fn the_spilled_table_is_the_two_sweep_table() {
    let tmp = std::env::temp_dir().join(format!("linkscope-refs-spill-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut compared = 0;
    for rel in ["mingw64/autoimport.exe", "msvc64/features.dll", "patch/x64-gnu/autoimport.exe", "elf/main-pie"] {
        let path = fixture_path(rel);
        if !path.exists() {
            continue;
        }
        let run = |tmpdir: &std::path::Path| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope"))
                .arg("refs")
                .arg(&path)
                .env("TMPDIR", tmpdir)
                .output()
                .unwrap();
            assert!(out.status.success(), "{rel}: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        let spilled = run(&tmp);
        let twice = run(&tmp.join("missing"));
        assert!(spilled.windows(19).any(|w| w == b"== data references "), "{rel}");
        assert_eq!(String::from_utf8(spilled).unwrap(), String::from_utf8(twice).unwrap(), "{rel}");
        compared += 1;
    }
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().map(|e| e.file_name()).collect();
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(compared >= 3, "only {compared} fixtures found");
    assert!(left.is_empty(), "left in the temporary directory: {left:?}");
}
