//! PDBs: every contribution, public and procedure as llvm-pdbutil dumps them, the contributions
//! against lld-link's map, the GUID/age check, the names in the disassembly, and hostile PDBs.
//! Fixtures: `tests/fixtures/pdb/build.sh` (clang CodeView + lld-link /debug).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use linkscope::model::pdb::LoadedPdb;
use linkscope::session::pdb::{load, PdbChoice, PdbOutcome};
use linkscope::Binary;

const FIXTURES: [&str; 5] = ["x64.exe", "x64_opt.exe", "x64dll.dll", "x64_changed.exe", "x86.exe"];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pdb")
}

fn image(name: &str) -> (PathBuf, Binary) {
    let p = dir().join(name);
    let bytes = std::fs::read(&p).unwrap();
    (p, linkscope::load(&bytes).unwrap())
}

fn loaded(name: &str, choice: &PdbChoice) -> (Binary, PdbOutcome) {
    let (p, bin) = image(name);
    let o = load(&p, &bin, choice);
    (bin, o)
}

fn auto() -> PdbChoice {
    PdbChoice { auto: true, ..PdbChoice::default() }
}

fn pdb_of(name: &str) -> (Binary, LoadedPdb) {
    let (bin, o) = loaded(name, &auto());
    assert!(o.notes.is_empty(), "{name}: {:?}", o.notes);
    (bin, o.pdb.unwrap_or_else(|| panic!("{name}: no PDB")))
}

fn dump(name: &str) -> String {
    let base = name.rsplit_once('.').unwrap().0;
    std::fs::read_to_string(dir().join(format!("{base}.pdbutil.txt"))).unwrap()
}

/// `SSSS:OOOO` as (section, offset).
fn addr(s: &str) -> (u16, u32) {
    let (a, b) = s.split_once(':').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// The text between `key` and the next `,` (or the end).
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let i = line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len();
    line[i..].split(',').next().unwrap().trim()
}

/// The backquoted name of a record line.
fn quoted(line: &str) -> String {
    let a = line.find('`').unwrap();
    let b = line.rfind('`').unwrap();
    line[a + 1..b].to_string()
}

/// A section of the dump: the lines after its title.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| l.trim() != title).skip(2);
    let mut out = Vec::new();
    for l in lines.by_ref() {
        if l.starts_with("====") {
            out.pop(); // the next title
            break;
        }
        out.push(l);
    }
    out
}

#[test]
fn contributions_equal_llvm_pdbutil() {
    for name in FIXTURES {
        let (bin, pdb) = pdb_of(name);
        let d = dump(name);
        let want: Vec<(u32, u16, u32, u32, u32)> = section(&d, "Section Contributions")
            .into_iter()
            .filter(|l| l.trim_start().starts_with("SC["))
            .map(|l| {
                let rest = l.split_once('|').unwrap().1;
                let m: u32 = field(rest, "mod = ").parse().unwrap();
                let a = rest.split(", ").nth(1).unwrap().trim();
                let (s, o) = addr(a);
                let size: i64 = field(rest, "size = ").parse().unwrap();
                (m, s, o, size as u32, field(rest, "data crc = ").parse().unwrap())
            })
            .collect();
        let got: Vec<(u32, u16, u32, u32, u32)> =
            pdb.contributions.iter().map(|c| (c.module_index, c.section, c.offset, c.size, c.data_crc)).collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{name}");
        for c in &pdb.contributions {
            let sec = bin.sections.get(usize::from(c.section).wrapping_sub(1));
            assert_eq!(c.rva, sec.map(|s| s.rva + u64::from(c.offset)), "{name}");
            let m = pdb.modules.get(c.module_index as usize);
            assert_eq!(c.module.as_ref(), m.map(|m| &m.module));
            assert_eq!(c.archive.as_ref(), m.map(|m| &m.archive));
        }
    }
}

#[test]
fn publics_equal_llvm_pdbutil() {
    for name in FIXTURES {
        let (_, pdb) = pdb_of(name);
        let d = dump(name);
        let lines = section(&d, "Public Symbols");
        let mut want: Vec<(String, u16, u32)> = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if l.contains("S_PUB32") {
                let (s, o) = addr(field(lines[i + 1], "addr = "));
                want.push((quoted(l), s, o));
            }
        }
        let mut got: Vec<(String, u16, u32)> =
            pdb.publics.iter().map(|p| (p.name.clone(), p.section, p.offset)).collect();
        want.sort();
        got.sort();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn procedures_equal_llvm_pdbutil() {
    for name in FIXTURES {
        let (_, pdb) = pdb_of(name);
        let d = dump(name);
        let lines = section(&d, "Symbols");
        let mut want: Vec<(String, String, u16, u32, u32)> = Vec::new();
        let mut module = String::new();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if t.starts_with("Mod ") {
                module = quoted(t);
            } else if t.contains("| S_GPROC32") || t.contains("| S_LPROC32") {
                let next = lines[i + 1];
                let (s, o) = addr(field(next, "addr = "));
                want.push((module.clone(), quoted(t), s, o, field(next, "code size = ").parse().unwrap()));
            }
        }
        let got: Vec<(String, String, u16, u32, u32)> =
            pdb.procedures.iter().map(|p| (p.module.clone(), p.name.clone(), p.section, p.offset, p.length)).collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{name}");
        // The modules' variables too (S_LDATA32 / S_GDATA32).
        let mut want_data: Vec<(String, String, u16, u32)> = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if t.starts_with("Mod ") {
                module = quoted(t);
            } else if t.contains("| S_LDATA32") || t.contains("| S_GDATA32") {
                let (s, o) = addr(field(lines[i + 1], "addr = "));
                want_data.push((module.clone(), quoted(t), s, o));
            }
        }
        let got_data: Vec<(String, String, u16, u32)> =
            pdb.data.iter().map(|d| (d.module.clone(), d.name.clone(), d.section, d.offset)).collect();
        assert_eq!(got_data, want_data, "{name}");
    }
}

/// The input-section lines of lld-link's map: (rva, size, object, section name).
fn map_inputs(name: &str) -> Vec<(u64, u32, String)> {
    let base = name.rsplit_once('.').unwrap().0;
    let text = std::fs::read_to_string(dir().join(format!("{base}.map"))).unwrap();
    let mut out = Vec::new();
    for l in text.lines().skip(1) {
        let cols: Vec<&str> = l.split_whitespace().collect();
        // Address Size Align In: four columns, the last `obj:(section)`.
        if cols.len() == 4 && cols[3].ends_with(')') {
            let obj = cols[3].rsplit_once(":(").unwrap().0.to_string();
            out.push((u64::from_str_radix(cols[0], 16).unwrap(), u32::from_str_radix(cols[1], 16).unwrap(), obj));
        }
    }
    out
}

#[test]
fn contributions_agree_with_the_lld_map() {
    for name in FIXTURES {
        let (_, pdb) = pdb_of(name);
        let map = map_inputs(name);
        assert!(!map.is_empty(), "{name}");
        let mut pdb_rows: Vec<(u64, u32, String)> = pdb
            .contributions
            .iter()
            .filter(|c| c.module.as_deref() != Some("* Linker *"))
            .filter_map(|c| Some((c.rva?, c.size, c.module.clone()?)))
            .collect();
        // Every sized input section of the map is one contribution, same RVA, size and object.
        for m in map.iter().filter(|m| m.1 > 0) {
            let i = pdb_rows.iter().position(|p| p == m);
            assert!(i.is_some(), "{name}: map row {m:?} has no contribution");
            pdb_rows.remove(i.unwrap_or_default());
        }
        // And every sized contribution of an object is in the map.
        assert!(pdb_rows.iter().all(|p| p.1 == 0), "{name}: contributions not in the map: {pdb_rows:?}");
    }
}

#[test]
fn wrong_guid_is_refused_unless_forced() {
    let other = dir().join("x64_changed.pdb");
    let choice = PdbChoice { auto: true, file: Some(other.clone()), mismatch_ok: false };
    let (_, o) = loaded("x64.exe", &choice);
    assert!(o.pdb.is_none());
    assert!(o.notes.iter().any(|n| n.contains("does not match")), "{:?}", o.notes);
    let (_, o) = loaded("x64.exe", &PdbChoice { mismatch_ok: true, ..choice });
    let p = o.pdb.unwrap();
    assert!(!p.header.unwrap().matches);
    assert!(!p.contributions.is_empty());
    // The image's own, found beside it, matches.
    let (_, p) = pdb_of("x64.exe");
    let h = p.header.unwrap();
    assert!(h.matches && h.path.ends_with("x64.pdb"));
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).current_dir(dir()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn disasm_names_calls_by_pdb_names() {
    let (code, out, _) = run(&["disasm", "x64.exe"]);
    assert_eq!(code, 0);
    assert!(out.contains("call int __cdecl total_area(struct Shape const **, int)"), "{out}");
    assert!(out.contains("call int __cdecl helper_sum(int, int)"));
    assert!(out.contains("<public: virtual int __cdecl Rect::area(void) const>:"));
    for sym in ["?area@Rect@@UEBAHXZ", "public: virtual int __cdecl Rect::area(void) const", "Rect::area"] {
        let (code, out, err) = run(&["disasm", "x64.exe", "--symbol", sym]);
        assert_eq!(code, 0, "{sym}: {err}");
        assert!(out.contains("140001100:") && !out.contains("140001110:"), "{sym}: {out}");
    }
    let (code, out, _) = run(&["disasm", "x86.exe"]);
    assert_eq!(code, 0);
    assert!(out.contains("call int __cdecl total_area(struct Shape const **, int)"), "{out}");
    // refs names the vtables' targets by the PDB's publics.
    let (code, out, _) = run(&["refs", "x64.exe", "--json"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"symbol\":\"?area@Rect@@UEBAHXZ\""), "{out}");
    // A static no public names (text.obj's kHello) names the site that loads it.
    assert!(out.contains("\"symbol\":\"kHello\""), "{out}");
}

#[test]
fn inspect_pdb_json() {
    let (code, out, _) = run(&["inspect", "x64.exe", "--only", "pdb", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["pdb"]["matches"], true);
    assert_eq!(v["pdb"]["age"], 1);
    assert!(v["publics"].as_array().unwrap().iter().any(|p| p["name"] == "entry" && p["rva"] == 0x1030));
    assert!(v["procedures"].as_array().unwrap().iter().any(|p| p["name"] == "total_area" && p["length"] == 73));
    assert!(v.get("contributions").is_none() && v.get("sections").is_none());
    let (code, out, _) = run(&["inspect", "x64.exe", "--only", "contributions", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = v["contributions"].as_array().unwrap();
    let keys: Vec<&str> = c[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["rva", "size", "section", "module", "archive", "characteristics", "data_crc"]);
    assert!(c.iter().any(|c| c["module"] == "helper.obj" && c["archive"].as_str().unwrap().ends_with("helper.lib")));
    // Mismatch through the CLI: a diagnostic, no PDB; forced: used.
    let (code, out, _) = run(&["inspect", "x64.exe", "--only", "pdb", "--json", "--pdb", "x64_changed.pdb"]);
    assert_eq!(code, 0);
    assert!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["pdb"].is_null());
    let (_, out, _) =
        run(&["inspect", "x64.exe", "--only", "pdb", "--json", "--pdb", "x64_changed.pdb", "--pdb-mismatch-ok"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["pdb"]["matches"], false);
}

/// A temporary copy of `bytes` as a PDB file.
fn temp_pdb(tag: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("linkscope-pdb-test-{}-{tag}.pdb", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

/// The file offset of stream `s`'s first page (single-page directory, as in the fixtures).
fn stream_offset(b: &[u8], s: usize) -> usize {
    let page = u32_at(b, 32) as usize;
    let dir = u32_at(b, u32_at(b, 52) as usize * page) as usize * page;
    let n = u32_at(b, dir) as usize;
    let sizes: Vec<usize> = (0..n).map(|i| u32_at(b, dir + 4 + 4 * i) as usize).collect();
    let mut at = dir + 4 + 4 * n;
    for size in sizes.iter().take(s) {
        if *size != u32::MAX as usize {
            at += 4 * size.div_ceil(page);
        }
    }
    u32_at(b, at) as usize * page
}

fn hostile(tag: &str, bytes: &[u8]) -> PdbOutcome {
    let p = temp_pdb(tag, bytes);
    let (_, o) = loaded("x64.exe", &PdbChoice { auto: true, file: Some(p.clone()), mismatch_ok: true });
    let _ = std::fs::remove_file(&p);
    o
}

#[test]
fn hostile_pdbs_give_a_diagnostic() {
    let good = std::fs::read(dir().join("x64.pdb")).unwrap();
    // Truncated.
    let o = hostile("truncated", &good[..good.len() / 2]);
    assert!(o.pdb.is_none() && o.notes.iter().any(|n| n.contains("truncated")), "{:?}", o.notes);
    // Wrong page size.
    let mut b = good.clone();
    b[32..36].copy_from_slice(&1000u32.to_le_bytes());
    let o = hostile("pagesize", &b);
    assert!(o.pdb.is_none() && o.notes.iter().any(|n| n.contains("page size")), "{:?}", o.notes);
    // Stream directory past the end.
    let mut b = good.clone();
    b[52..56].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let o = hostile("dirmap", &b);
    assert!(o.pdb.is_none() && o.notes.iter().any(|n| n.contains("past the file")), "{:?}", o.notes);
    let mut b = good.clone();
    let page = u32_at(&b, 32) as usize;
    let map = u32_at(&b, 52) as usize * page;
    b[map..map + 4].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    let o = hostile("dirpage", &b);
    assert!(o.pdb.is_none() && !o.notes.is_empty());
    // A DBI stream (3) whose section-contribution substream claims an absurd size.
    let mut b = good.clone();
    let dbi = stream_offset(&b, 3);
    assert_eq!(u32_at(&b, dbi), 0xffff_ffff, "DBI signature");
    b[dbi + 28..dbi + 32].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let o = hostile("contribs", &b);
    assert!(!o.notes.is_empty(), "absurd contribution size accepted");
    assert!(o.pdb.is_none_or(|p| p.contributions.is_empty()));
    // Every byte of the first pages and the directory flipped in turn: never a panic.
    for i in (0..good.len()).step_by(61) {
        let mut b = good.clone();
        b[i] ^= 0xa5;
        let _ = hostile("flip", &b);
    }
}

#[test]
fn hostile_pdb_through_the_cli_still_opens_the_image() {
    let good = std::fs::read(dir().join("x64.pdb")).unwrap();
    let p = temp_pdb("cli", &good[..3000]);
    let (code, out, _) = run(&["inspect", "x64.exe", "--json", "--pdb", p.to_str().unwrap()]);
    let _ = std::fs::remove_file(&p);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!v["sections"].as_array().unwrap().is_empty());
    assert!(v["diagnostics"].as_array().unwrap().iter().any(|d| d["message"].as_str().unwrap().contains("PDB")));
}

#[test]
fn diff_of_two_builds_names_exactly_the_changed_object() {
    let (code, out, _) = run(&["diff", "x64.exe", "x64_changed.exe", "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let o = v["objects_changed"].as_array().unwrap();
    assert!(!o.is_empty());
    for c in o {
        assert!(c["module"].as_str().unwrap().ends_with("/x64/text.obj"), "{c}");
        assert_eq!(c["why"], "data crc differs");
    }
    assert_eq!(o[0]["rva"], 0x2020);
    // Without PDBs (one side alone) no such key; the same build: nothing changed.
    let (_, out, _) = run(&["diff", "x64.exe", "x64_opt.exe", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["objects_changed"].as_array().is_some());
}

#[test]
fn objects_compare_appeared_and_went_away() {
    use linkscope::diff::objects::compare;
    let (_, a) = pdb_of("x64.exe");
    let (_, b) = pdb_of("x64_opt.exe");
    // /opt:ref drops helper_unused: its input section went away; nothing appears.
    let d = compare(&a.contributions, &b.contributions);
    assert!(d.iter().any(|c| c.why == "went away" && c.module == "helper.obj"), "{d:?}");
    assert!(d.iter().all(|c| c.why != "appeared"), "{d:?}");
    assert!(compare(&a.contributions, &a.contributions).is_empty());
}

#[test]
fn the_contribution_of_a_byte() {
    let (_, pdb) = pdb_of("x64.exe");
    // helper_sum's bytes came from helper.obj, a member of helper.lib.
    let c = pdb.contribution_at(0x1185).unwrap();
    assert_eq!(c.module.as_deref(), Some("helper.obj"));
    assert!(c.archive.as_deref().unwrap().ends_with("helper.lib"));
    // Size-0 contributions hold nothing; past the image's contributions, none.
    assert_eq!(pdb.contribution_at(0x1000).unwrap().size, 3);
    assert!(pdb.contribution_at(0x9000).is_none());
}

/// The contribution holding `rva` found the slow way: the first in the PDB's order.
fn holder(pdb: &LoadedPdb, rva: u64) -> Option<&linkscope::model::pdb::PdbContribution> {
    pdb.contributions.iter().find(|c| c.rva.is_some_and(|r| r <= rva && rva - r < u64::from(c.size)))
}

#[test]
fn diff_attributes_each_changed_byte_to_its_object() {
    let (_, pb) = pdb_of("x64_changed.exe");
    let (code, out, _) = run(&["diff", "x64.exe", "x64_changed.exe", "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    let mut named = std::collections::BTreeSet::new();
    for c in changes {
        // Same layout: the second build's RVA is the first's.
        assert!(c.get("offset_b").is_none(), "{c}");
        let object = c.get("object").unwrap_or_else(|| panic!("no object key with both PDBs: {c}"));
        let (Some(rva), len) = (c["rva"].as_u64(), c["len"].as_u64().unwrap()) else {
            assert!(object.is_null(), "{c}");
            continue;
        };
        // Every byte of the change lies in the one contribution it names (or in none).
        for b in rva..rva + len {
            let want = holder(&pb, b).map(|h| h.module.clone().unwrap());
            assert_eq!(object["module"].as_str().map(str::to_string), want, "byte {b:#x} of {c}");
        }
        if let Some(h) = holder(&pb, rva) {
            assert_eq!(object["archive"].as_str(), h.archive.as_deref(), "{c}");
            named.insert(h.module.clone().unwrap());
        }
    }
    // The changed object's changed bytes are attributed to it: the first change past the
    // headers, and each input section whose CRC differs, hold changes that name exactly it.
    let first = changes.iter().find(|c| c["rva"].as_u64().is_some_and(|r| r >= 0x1000)).unwrap();
    assert!(first["object"]["module"].as_str().unwrap().ends_with("/x64/text.obj"), "{first}");
    for o in v["objects_changed"].as_array().unwrap() {
        let (start, end) = (o["rva"].as_u64().unwrap(), o["rva"].as_u64().unwrap() + o["size"].as_u64().unwrap());
        let inside: Vec<_> =
            changes.iter().filter(|c| c["rva"].as_u64().is_some_and(|r| r >= start && r < end)).collect();
        assert!(!inside.is_empty(), "{o}");
        assert!(inside.iter().all(|c| c["object"]["module"] == o["module"]), "{o}: {inside:?}");
    }
    assert!(named.iter().any(|m| m.ends_with("/x64/text.obj")), "{named:?}");
    // The text names it too; without both PDBs there is no such key.
    let (_, text, _) = run(&["diff", "x64.exe", "x64_changed.exe"]);
    assert!(text.contains("    object: /tmp/linkscope-pdb-fixtures/x64/text.obj\n"), "{text}");
    assert!(text.contains("    object: none (no contribution of the PDB holds these bytes)\n"), "{text}");
    let (_, out, _) = run(&["diff", "x64.exe", "../../../assets/samples/autoimport.exe", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["changes"].as_array().unwrap().iter().all(|c| c.get("object").is_none()));
}

#[test]
fn the_contribution_index_agrees_with_a_walk() {
    for name in FIXTURES {
        let (_, pdb) = pdb_of(name);
        let idx = pdb.by_rva();
        let end = idx.runs().last().map_or(0, |r| r.1);
        for rva in 0..end + 16 {
            let (fast, slow) = (pdb.contribution_at(rva), holder(&pdb, rva));
            assert_eq!(fast.map(|c| (c.rva, c.size)), slow.map(|c| (c.rva, c.size)), "{name} {rva:#x}");
        }
        // Disjoint and sorted.
        assert!(idx.runs().windows(2).all(|w| w[0].1 <= w[1].0), "{name}");
    }
}
