//! The diff: pairs with known edits (each reported once, with the right structure), a fixture
//! image against the memory wine gave it (every patched site attributed to its
//! pseudo-relocation, every bound slot to its import), builds whose layouts differ, hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;

use common::fixture_path;
use linkscope::analysis::{scan_refs, RefOptions};
use linkscope::diff::{self, Change, Diff, Limits, Side};
use linkscope::model::index::Index;
use linkscope::model::regions::Regions;
use linkscope::Binary;

struct Parsed {
    data: Vec<u8>,
    bin: Binary,
    index: Index,
    regions: Regions,
    refs: linkscope::analysis::Refs,
}

fn parse(data: Vec<u8>) -> Parsed {
    let bin = linkscope::load(&data).unwrap();
    let index = Index::new(&bin);
    let regions = Regions::new(&bin, &index);
    let refs = scan_refs(&bin, &data, &index, &RefOptions { collect: true, ..Default::default() });
    Parsed { data, bin, index, regions, refs }
}

impl Parsed {
    fn side<'a>(&'a self, bytes: &'a [u8]) -> Side<'a> {
        Side {
            bin: Some(&self.bin),
            data: bytes,
            file: &self.data,
            index: Some(&self.index),
            regions: Some(&self.regions),
            refs: Some(&self.refs),
            pdb: None,
        }
    }
}

fn files(a: &Parsed, b: &Parsed) -> Diff {
    diff::diff_files(a.side(&a.data), b.side(&b.data), Limits::default())
}

fn exe() -> Parsed {
    parse(std::fs::read(fixture_path("patch/x64-gnu/autoimport.exe")).unwrap())
}

/// `exe()` with `edit` applied to its bytes.
fn edited(edit: impl FnOnce(&Binary, &mut Vec<u8>)) -> Parsed {
    let a = exe();
    let mut d = a.data.clone();
    edit(&a.bin, &mut d);
    parse(d)
}

fn only(d: &Diff) -> &Change {
    assert_eq!(d.changes.len(), 1, "{:#?}", d.changes);
    &d.changes[0]
}

#[test]
fn identical_files_have_no_change() {
    let (a, b) = (exe(), exe());
    let d = files(&a, &b);
    assert!(d.identical() && d.changes.is_empty() && d.structural.is_empty());
    assert_eq!(d.summary.bytes_compared, a.data.len() as u64);
}

#[test]
fn a_header_field_an_iat_slot_an_instruction_and_a_base_relocation_each_change_once() {
    let a = exe();
    // The COFF header's TimeDateStamp.
    let field = a.bin.headers.iter().flat_map(|h| &h.fields).find(|f| f.name == "TimeDateStamp").unwrap().span;
    let b = edited(|_, d| d[field.offset as usize + 1] ^= 0x5a);
    let c = files(&a, &b);
    let c = only(&c);
    assert_eq!((c.structures[0].kind, c.structures[0].name.as_str()), ("header-field", "TimeDateStamp"));
    assert_eq!(c.offset, Some(field.offset + 1));

    // The file's IAT slot of data.dll!arr: two bytes of it, one change.
    let slot = a.bin.imports.iter().flat_map(|m| &m.entries).find(|e| e.name.as_deref() == Some("arr")).unwrap();
    let span = slot.iat_span.unwrap();
    let b = edited(|_, d| {
        d[span.offset as usize] ^= 1;
        d[span.offset as usize + 2] ^= 1;
    });
    let c = files(&a, &b);
    let c = only(&c);
    assert_eq!((c.structures[0].kind, c.structures[0].name.as_str()), ("iat-slot", "data.dll!arr"));
    assert_eq!(c.len, 3, "the bytes between two changed bytes of one slot belong to the change");

    // An instruction: the entry point's first byte.
    let entry = a.bin.entry_rva.unwrap();
    let off = a.index.rva_to_offset(entry, &a.bin).unwrap();
    let b = edited(|_, d| d[off as usize] = 0x90);
    let c = files(&a, &b);
    let c = only(&c);
    let insn = c.structures.iter().find(|s| s.kind == "instruction").expect("an instruction");
    assert_ne!(insn.before, insn.after);
    assert_eq!(insn.after.as_deref(), Some("nop"));
    assert!(c.structures.iter().any(|s| s.kind == "symbol"), "{:?}", c.structures);

    // A base-relocation entry.
    let r = &a.bin.base_relocations[3];
    let b = edited(|_, d| d[r.span.offset as usize] ^= 0x10);
    let c = files(&a, &b);
    let c = only(&c);
    assert_eq!(c.structures[0].kind, "base-reloc-entry");
    assert!(c.structures.iter().any(|s| s.kind == "base-reloc-block"));
}

#[test]
fn builds_with_different_layouts_align_by_section() {
    // The same source with -mcmodel=small: other code sizes, so every later section moves.
    let a = exe();
    let b = parse(std::fs::read(fixture_path("patch/x64-gnu-small-near/autoimport.exe")).unwrap());
    let d = files(&a, &b);
    assert_eq!(d.summary.aligned_by, "section");
    // Functions are matched by name, so a moved function is compared with itself: no change
    // runs on over the rest of its section, none spans two structures.
    assert!(d.changes.iter().all(|c| c.len < 4096), "{:?}", d.changes.iter().map(|c| c.len).max());
    assert!(d.changes.iter().filter(|c| c.structures.iter().any(|s| s.kind == "instruction")).count() > 100);
    // The small model has no .refptr slots: .rdata shrinks and their symbols are gone.
    assert!(d.structural.iter().any(|s| s.kind == "section" && s.name == ".rdata" && s.change == "changed"));
    assert!(d.structural.iter().any(|s| s.kind == "symbol" && s.name == ".rdata$.refptr.arr" && s.change == "removed"));
    assert!(!d.identical());
}

fn gunzip(rel: &str) -> Vec<u8> {
    let raw = std::fs::read(fixture_path(rel)).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn an_image_against_its_wine_memory_names_every_pseudo_relocation_and_bound_slot() {
    for case in ["x64-gnu", "x64-gnu-small-near", "x86-gnu", "x86-gnu-v1", "x64-lld"] {
        let a = parse(std::fs::read(fixture_path(&format!("patch/{case}/autoimport.exe"))).unwrap());
        let mapped = linkscope::patch::load::map(&a.bin, &a.data).unwrap();
        let dump = gunzip(&format!("patch/{case}/autoimport.exe.mem.gz"));
        let after = Side { bin: None, data: &dump, file: &[], index: None, regions: None, refs: None, pdb: None };
        let d = diff::diff_memory(a.side(&mapped), after, Limits::default());
        let at = |rva: u64| d.changes.iter().filter(move |c| c.rva.unwrap() <= rva && rva < c.rva.unwrap() + c.len);
        for (i, e) in a.bin.pseudo_relocations.entries.iter().enumerate() {
            let c: Vec<&Change> = at(e.target_rva).collect();
            assert_eq!(c.len(), 1, "{case}: item {i}");
            let s = &c[0].structures[0];
            assert_eq!(s.kind, "pseudo-reloc-site", "{case}: item {i}: {:?}", c[0].structures);
            assert!(s.name.starts_with(&format!("#{i} ")), "{case}: {}", s.name);
        }
        // Every slot of data.dll (the DLL the case gives) changed, and says whose it is.
        for m in a.bin.imports.iter().filter(|m| m.dll == "data.dll") {
            for e in &m.entries {
                let name = format!("data.dll!{}", e.name.as_deref().unwrap());
                let c: Vec<&Change> = at(e.iat_rva).collect();
                assert_eq!(c.len(), 1, "{case}: {name}");
                assert!(
                    c[0].structures.iter().any(|s| s.kind == "iat-slot" && s.name == name),
                    "{case}: {:?}",
                    c[0].structures
                );
            }
        }
    }
}

#[test]
fn hostile_pairs_get_notes_not_panics() {
    let a = exe();
    // Truncated, another format, random bytes: compared, with notes; never a panic.
    let short = a.data[..a.data.len() / 3].to_vec();
    let elf = std::fs::read(fixture_path("elf/libdata.so")).unwrap_or_else(|_| vec![0x7f, b'E', b'L', b'F']);
    for other in [short, elf, vec![0xa5; 5000], Vec::new()] {
        let b = linkscope::load(&other).ok();
        let index = b.as_ref().map(Index::new);
        let regions = b.as_ref().zip(index.as_ref()).map(|(b, i)| Regions::new(b, i));
        let side = Side {
            bin: b.as_ref(),
            data: &other,
            file: &other,
            index: index.as_ref(),
            regions: regions.as_ref(),
            refs: None,
            pdb: None,
        };
        let d = diff::diff_files(a.side(&a.data), side, Limits::default());
        assert!(!d.identical());
        let d = diff::diff_files(side, a.side(&a.data), Limits::default());
        assert!(!d.identical());
    }
    // Two unrelated 8 MiB buffers: the list stops at the limit, the counts go on.
    let x: Vec<u8> = (0..8u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let y: Vec<u8> = (0..8u32 << 20).map(|i| (i.wrapping_mul(40_503) >> 7) as u8).collect();
    let side =
        |d: &'static [u8]| Side { bin: None, data: d, file: d, index: None, regions: None, refs: None, pdb: None };
    let (x, y): (&'static [u8], &'static [u8]) = (Box::leak(x.into_boxed_slice()), Box::leak(y.into_boxed_slice()));
    let d = diff::diff_files(side(x), side(y), Limits { max_changes: 1000, ..Limits::default() });
    assert!(d.changes.len() <= 1000 && d.summary.bytes_changed > 7 << 20);
    assert!(d.changes.iter().all(|c| c.before.len() <= 2 * diff::MAX_HEX_BYTES as usize), "hex is capped");
}

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).output().unwrap()
}

#[test]
fn cli_diff_exits_like_cmp_and_keeps_its_json_shape() {
    let exe = fixture_path("patch/x64-gnu/autoimport.exe");
    let dump = fixture_path("patch/x64-gnu/autoimport.exe.mem.gz");
    let small = fixture_path("patch/x64-gnu-small-near/autoimport.exe");
    let (e, d, s) = (exe.to_str().unwrap(), dump.to_str().unwrap(), small.to_str().unwrap());
    assert_eq!(cli(&["diff", e, e]).status.code(), Some(0));
    let r = cli(&["diff", e, s, "--json"]);
    assert_eq!(r.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(doc["mode"], "files");
    for k in ["schema_version", "changes", "structural", "summary"] {
        assert!(doc.get(k).is_some(), "{k}");
    }
    let c = &doc["changes"][0];
    for k in ["offset", "len", "before", "after", "structures"] {
        assert!(c.get(k).is_some(), "{k}");
    }
    let r = cli(&["diff", e, "--dump", d, "--json"]);
    assert_eq!(r.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(doc["mode"], "image");
    assert!(doc["changes"][0]["rva"].is_u64());
    // A dump shorter than the image's memory, a missing file: exit 2 with a message.
    let short = std::env::temp_dir().join(format!("linkscope-diff-{}", std::process::id()));
    std::fs::write(&short, [0u8; 100]).unwrap();
    let r = cli(&["diff", e, "--dump", short.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("SizeOfImage"));
    std::fs::remove_file(&short).unwrap();
    assert_eq!(cli(&["diff", e, "/nonexistent/file"]).status.code(), Some(2));
}
