//! Agreement with pefile, an independent PE reader, on every PE file of the shared corpus.
//!
//! `scripts/pefile-compare.sh` captured what pefile sees (sections, imports, base-relocation
//! sites, exports) in `tests/corpus/pefile.jsonl`; this test normalises linkscope's model the same
//! way and compares. Every file that still differs must be listed, with the reason linkscope's
//! reading is the Windows loader's, in `tests/corpus/pefile-differences.tsv`: the set of differing
//! files must equal the table, so a new disagreement cannot slip in unexplained (and a fixed one
//! must leave the table).
//!
//! `LINKSCOPE_PEFILE_CAPTURE=FILE` compares with another capture (e.g. one made with `--full`,
//! whose lists are not hashed, to see every differing entry).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

mod corpus_support;

fn corpus_dir() -> Option<PathBuf> {
    corpus_support::corpus_path("")
}

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// FNV-1a 64 of the entries joined by newlines.
fn fnv(items: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            h ^= u64::from(b'\n');
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        for &b in it.as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Bytes up to the first NUL as linkscope shows text: lossy UTF-8, C0 controls as `\xNN`.
fn name_text(raw: &[u8]) -> String {
    let raw = raw.split(|&b| b == 0).next().unwrap_or(&[]);
    String::from_utf8_lossy(raw)
        .chars()
        .map(|c| if (c as u32) < 0x20 { format!("\\x{:02x}", c as u32) } else { c.to_string() })
        .collect()
}

/// linkscope's model, normalised as the capture: four sorted lists.
fn linkscope_view(data: &[u8]) -> Result<BTreeMap<&'static str, Vec<String>>, String> {
    let bin = linkscope::load(data).map_err(|e| format!("linkscope cannot load it: {e}"))?;
    if !matches!(bin.format, linkscope::model::Format::Pe32 | linkscope::model::Format::Pe32Plus) {
        return Err(format!("linkscope reads it as {:?}, not as a PE image", bin.format));
    }
    let mut v = BTreeMap::new();
    let secs = bin
        .sections
        .iter()
        .map(|s| {
            let h = usize::try_from(s.header_span.offset).unwrap();
            let raw = data.get(h..h + 8).unwrap_or(&[]);
            let ptr = if s.file_size == 0 { 0 } else { s.file_offset };
            format!("{}|{:x}|{:x}|{:x}|{:x}", name_text(raw), s.rva, s.virtual_size, ptr, s.file_size)
        })
        .collect();
    v.insert("sections", secs);
    let mut imps = Vec::new();
    for m in &bin.imports {
        for e in &m.entries {
            let what = match (e.ordinal, &e.name) {
                (Some(o), _) => format!("#{o:x}"),
                (None, Some(n)) => n.clone(),
                (None, None) => String::new(),
            };
            imps.push(format!("{}|{what}|{:x}", m.dll, e.iat_rva));
        }
    }
    v.insert("imports", imps);
    let rels = bin
        .base_relocations
        .iter()
        .filter(|r| r.raw_type != 0)
        .map(|r| format!("{:x}|{:x}", r.rva, r.raw_type))
        .collect();
    v.insert("relocs", rels);
    let exps = bin
        .exports
        .iter()
        .map(|e| format!("{:x}|{}|{:x}", e.ordinal, e.name.as_deref().unwrap_or(""), e.rva))
        .collect();
    v.insert("exports", exps);
    for l in v.values_mut() {
        l.sort();
    }
    Ok(v)
}

/// What differs in one list, or None when it agrees.
fn compare(key: &str, pefile: &Value, ours: &[String]) -> Option<String> {
    // Lists longer than 48 entries are stored as a count and a hash (scripts/pefile-compare.py).
    if let Some(obj) = pefile.as_object() {
        let n = obj["n"].as_u64().unwrap() as usize;
        let h = obj["fnv"].as_str().unwrap();
        if n == ours.len() && h == fnv(ours) {
            return None;
        }
        return Some(format!("{key}: pefile {n} entries, linkscope {} (lists hashed; differ)", ours.len()));
    }
    let theirs: Vec<String> = pefile.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    if theirs == ours {
        return None;
    }
    let a: BTreeSet<&String> = theirs.iter().collect();
    let b: BTreeSet<&String> = ours.iter().collect();
    let only_p: Vec<&&String> = a.difference(&b).take(6).collect();
    let only_l: Vec<&&String> = b.difference(&a).take(6).collect();
    Some(format!(
        "{key}: pefile {} entries, linkscope {}; only pefile {only_p:?}; only linkscope {only_l:?}",
        theirs.len(),
        ours.len()
    ))
}

/// The explained differences: PATH → (what differs, why).
fn table() -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(manifest("tests/corpus/pefile-differences.tsv")).unwrap();
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() == 3 && cols.iter().all(|c| !c.trim().is_empty()),
            "pefile-differences.tsv line {}: want PATH<TAB>what differs<TAB>why, got {line:?}",
            i + 1
        );
        let old = out.insert(cols[0].to_string(), (cols[1].to_string(), cols[2].to_string()));
        assert!(old.is_none(), "pefile-differences.tsv line {}: {} listed twice", i + 1, cols[0]);
    }
    out
}

#[test]
fn differences_from_pefile_are_the_explained_ones() {
    let Some(dir) = corpus_dir() else { return };
    let capture = std::env::var_os("LINKSCOPE_PEFILE_CAPTURE")
        .map_or_else(|| manifest("tests/corpus/pefile.jsonl"), PathBuf::from);
    let text = std::fs::read_to_string(&capture).unwrap();
    let explained = table();
    let (mut total, mut differing) = (0usize, BTreeMap::new());
    for line in text.lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let path = rec["path"].as_str().unwrap().to_string();
        if rec.get("error").is_some() {
            continue;
        }
        total += 1;
        let Ok(data) = std::fs::read(dir.join(&path)) else {
            panic!("{path}: in the capture but not in the corpus; refresh it with scripts/pefile-compare.sh");
        };
        let what: Vec<String> = match linkscope_view(&data) {
            Err(e) => vec![e],
            Ok(v) => v.iter().filter_map(|(k, ours)| compare(k, &rec[*k], ours)).collect(),
        };
        if !what.is_empty() {
            differing.insert(path, what);
        }
    }
    assert!(total >= 300, "only {total} files in the capture");
    let mut report = String::new();
    for (path, what) in &differing {
        if !explained.contains_key(path) {
            report.push_str(&format!("differs but not explained in pefile-differences.tsv: {path}\n"));
            for w in what {
                report.push_str(&format!("    {w}\n"));
            }
        }
    }
    for path in explained.keys() {
        if !differing.contains_key(path) {
            report.push_str(&format!("listed in pefile-differences.tsv but agrees with pefile now: {path}\n"));
        }
    }
    eprintln!(
        "pefile agreement: {} of {total} files agree, {} differ (explained in the table: {})",
        total - differing.len(),
        differing.len(),
        explained.len()
    );
    assert!(report.is_empty(), "{report}");
}

fn corpus_file(rel: &str) -> Option<linkscope::Binary> {
    let path = corpus_support::corpus_path(rel)?;
    let data = std::fs::read(path).unwrap();
    Some(linkscope::load(&data).unwrap())
}

/// The descriptor whose Name is 0 ends the loader's list: what follows is not bound.
#[test]
fn imports_badterm_stops_at_the_loaders_terminator() {
    let Some(bin) = corpus_file("pe/corkami/imports_badterm.exe") else { return };
    let dlls: Vec<&str> = bin.imports.iter().map(|m| m.dll.as_str()).collect();
    assert_eq!(dlls, ["kernel32.dll", "msvcrt.dll"]);
    assert!(!bin.ignored_imports.is_empty(), "the descriptors after the terminator stay visible");
    assert_eq!(bin.ignored_imports[0].dll, "MZ", "the terminator's Name 0 reads the DOS header");
    assert!(bin.diagnostics.iter().any(|d| d.message.contains("ends the loader's list")));
}

/// A DLL name that runs up to the end of the file ends in the loader's zero fill.
#[test]
fn nullsoh_xp_names_msvcrt() {
    let Some(bin) = corpus_file("pe/corkami/nullSOH-XP.exe") else { return };
    let dlls: Vec<&str> = bin.imports.iter().map(|m| m.dll.as_str()).collect();
    assert!(dlls.contains(&"msvcrt.dll"), "{dlls:?}");
    assert!(!dlls.iter().any(|d| d.starts_with("<bad name")), "{dlls:?}");
}

/// An OriginalFirstThunk inside the headers is refused by the loader, which walks the IAT.
#[test]
fn tinygui_reads_names_from_the_iat() {
    let Some(bin) = corpus_file("pe/corkami/tinygui.exe") else { return };
    let names: Vec<_> = bin.imports.iter().flat_map(|m| m.entries.iter().filter_map(|e| e.name.clone())).collect();
    assert_eq!(names, ["MessageBoxA"]);
}

/// An all-zero section header is not skipped by the loader: it stays in `sections`, and the
/// diagnostic says the image, laid out so, is not mapped.
#[test]
fn zero_section_header_is_listed_and_flagged() {
    let Some(bin) = corpus_file("pe/radare2-testbins/fuzzed/dotnet-fits") else { return };
    assert_eq!(bin.sections.len(), 3);
    assert!(
        bin.diagnostics.iter().any(|d| d.message.starts_with("section 3 ") && d.message.contains("will not map")),
        "{:?}",
        bin.diagnostics
    );
}
