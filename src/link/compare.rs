//! The prediction beside a real link: the image's section table and entry point, and (with a
//! map) every input section's RVA and size, and GNU ld's discarded list. Every difference is
//! listed. A map alone can be compared too ([`compare_map_only`]).

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::map::{LinkMap, MapKind};
use super::Report;

/// One difference between the prediction and the real link.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Difference {
    /// `section`, `entry`, `placement` or `discarded`.
    pub kind: &'static str,
    /// What differs (a section name, `file:(section)`).
    pub what: String,
    /// The prediction (None: not predicted).
    pub predicted: Option<String>,
    /// The real link (None: absent there).
    pub actual: Option<String>,
}

/// The comparison.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Comparison {
    /// Output sections compared.
    pub sections_compared: usize,
    /// Input sections compared (from the map, or the PDB's section contributions).
    pub placements_compared: usize,
    /// Every difference.
    pub differences: Vec<Difference>,
}

fn diff(kind: &'static str, what: String, predicted: Option<String>, actual: Option<String>) -> Difference {
    Difference { kind, what, predicted, actual }
}

fn sec_text(rva: u64, vsize: u64, chars: u32, raw: u64, off: u64) -> String {
    format!("rva 0x{rva:x} size 0x{vsize:x} characteristics 0x{chars:08x} raw 0x{raw:x} at 0x{off:x}")
}

/// Why a linked image cannot be compared with the prediction.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The image cannot be read.
    #[error("image: {0}")]
    Load(#[source] crate::LoadError),
    /// The image is not a PE image.
    #[error("image: a {format} file is not a PE image")]
    NotPe {
        /// The format it is.
        format: &'static str,
    },
}

/// Compare with a linked image (its bytes) and, optionally, its map.
pub fn compare(rep: &Report, image: &[u8], map: Option<&LinkMap>) -> Result<Comparison, CompareError> {
    let bin = crate::formats::load(image).map_err(CompareError::Load)?;
    if !bin.format.is_pe() {
        return Err(CompareError::NotPe { format: bin.format.name() });
    }
    let mut c = Comparison::default();
    let n = bin.sections.len().max(rep.output_sections.len());
    for i in 0..n {
        let p = rep.output_sections.get(i);
        let a = bin.sections.get(i);
        c.sections_compared += 1;
        let pt = p.map(|p| sec_text(p.rva, p.virtual_size, p.characteristics, p.raw_size, p.file_offset));
        let at = a.map(|a| sec_text(a.rva, a.virtual_size, a.flags as u32, a.file_size, a.file_offset));
        let name = p.map(|p| p.name.clone()).or_else(|| a.map(|a| a.name.clone())).unwrap_or_default();
        // Images keep 8-byte names (longer ones only for discardable sections).
        let short = |n: &str| n.chars().take(8).collect::<String>();
        let same_name = p.map(|p| short(&p.name)) == a.map(|a| short(&a.name));
        if !same_name {
            c.differences.push(diff(
                "section",
                format!("section {}", i + 1),
                p.map(|p| format!("{} {}", p.name, pt.clone().unwrap_or_default())),
                a.map(|a| format!("{} {}", a.name, at.clone().unwrap_or_default())),
            ));
        } else if pt != at {
            c.differences.push(diff("section", name, pt, at));
        }
    }
    let predicted_entry = rep.entry.as_ref().and_then(|e| e.rva);
    if rep.succeeds && predicted_entry != bin.entry_rva {
        c.differences.push(diff(
            "entry",
            rep.entry.as_ref().map_or("entry".into(), |e| e.symbol.clone()),
            predicted_entry.map(|r| format!("0x{r:x}")),
            bin.entry_rva.map(|r| format!("0x{r:x}")),
        ));
    }
    if let Some(m) = map {
        compare_map(rep, m, &mut c);
    }
    Ok(c)
}

/// The prediction against the section contributions of the link's PDB (lld-link `/debug`): every
/// input section's RVA and size, per object (an archive member by its own name), as the PDB
/// records them. The linker's own chunks (module `* Linker *`) and lld's merged string literals
/// (in no object's name) are not compared; `placements_compared` counts the contributions
/// compared, predicted or recorded.
pub fn compare_contributions(rep: &Report, contributions: &[crate::model::pdb::PdbContribution], c: &mut Comparison) {
    let object = |f: &str| super::inputs::base_name(&map_file(MapKind::Lld, f));
    let mut predicted: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for p in rep.placements.iter().filter(|p| !p.merged) {
        predicted.entry(object(&p.file)).or_default().push((p.rva, p.size));
    }
    let mut actual: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for x in contributions {
        let (Some(rva), Some(module)) = (x.rva, x.module.as_deref()) else { continue };
        if module == "* Linker *" {
            continue;
        }
        actual.entry(super::inputs::base_name(module)).or_default().push((rva, u64::from(x.size)));
    }
    let keys: std::collections::BTreeSet<&String> = predicted.keys().chain(actual.keys()).collect();
    for k in keys {
        let mut p = predicted.get(k).cloned().unwrap_or_default();
        let mut a = actual.get(k).cloned().unwrap_or_default();
        p.sort_unstable();
        a.sort_unstable();
        for i in 0..p.len().max(a.len()) {
            c.placements_compared += 1;
            let (pp, aa) = (p.get(i), a.get(i));
            if pp != aa {
                let t = |x: Option<&(u64, u64)>| x.map(|(r, s)| format!("rva 0x{r:x} size 0x{s:x}"));
                c.differences.push(diff("contribution", k.clone(), t(pp), t(aa)));
            }
        }
    }
}

/// A map's file name without its directories: `d1/libm.a(m1.obj)` → `libm.a(m1.obj)`,
/// `/usr/…/crt2.o` → `crt2.o` (both linkers print the path a command-line file was opened by).
fn base_file(file: &str) -> String {
    let (outer, member) = match file.find('(') {
        Some(i) if file.ends_with(')') => (&file[..i], &file[i..]),
        _ => (file, ""),
    };
    format!("{}{member}", super::inputs::base_name(outer))
}

/// The file name as the map prints it.
fn map_file(kind: MapKind, file: &str) -> String {
    match kind {
        // LLD maps name a member by itself: `m1.obj`.
        MapKind::Lld => match file.rfind('(') {
            Some(i) if file.ends_with(')') => file[i + 1..file.len() - 1].to_string(),
            _ => file.to_string(),
        },
        // GNU ld prints the path it opened (`d1/libm.a(m1.obj)`, `/usr/…/crt2.o`); the
        // prediction names files as the other linkers do, by their base name.
        MapKind::Gnu => base_file(file),
    }
}

/// Compare with a map alone (no image): every input section's RVA and size, and GNU ld's
/// discarded list.
pub fn compare_map_only(rep: &Report, map: &LinkMap) -> Comparison {
    let mut c = Comparison::default();
    compare_map(rep, map, &mut c);
    c
}

fn compare_map(rep: &Report, m: &LinkMap, c: &mut Comparison) {
    let mut predicted: BTreeMap<(String, String), Vec<(u64, u64)>> = BTreeMap::new();
    // A string literal lld tail-merged is in its merged chunk, which the map lists under no
    // object: it counts through the output section's size.
    for p in rep.placements.iter().filter(|p| !p.merged) {
        predicted.entry((map_file(m.kind, &p.file), p.name.clone())).or_default().push((p.rva, p.size));
    }
    let mut actual: BTreeMap<(String, String), Vec<(u64, u64)>> = BTreeMap::new();
    // GNU ld's own inputs (`dll stuff`, the import stubs' `.idata` of no file) are not predicted.
    for ch in m.chunks.iter().filter(|c| c.file != "dll stuff" && !c.file.is_empty()) {
        let file = base_file(&ch.file);
        actual.entry((file, ch.section.clone())).or_default().push((ch.rva, ch.size));
    }
    let keys: HashSet<_> = predicted.keys().chain(actual.keys()).cloned().collect();
    let mut keys: Vec<_> = keys.into_iter().collect();
    keys.sort();
    for k in keys {
        let mut p = predicted.get(&k).cloned().unwrap_or_default();
        let mut a = actual.get(&k).cloned().unwrap_or_default();
        p.sort_unstable();
        a.sort_unstable();
        let what = format!("{}:({})", k.0, k.1);
        for i in 0..p.len().max(a.len()) {
            c.placements_compared += 1;
            let (pp, aa) = (p.get(i), a.get(i));
            if pp != aa {
                let t = |x: Option<&(u64, u64)>| x.map(|(r, s)| format!("rva 0x{r:x} size 0x{s:x}"));
                c.differences.push(diff("placement", what.clone(), t(pp), t(aa)));
            }
        }
    }
    if m.kind == MapKind::Gnu {
        // GNU ld lists COMDAT losers and collected sections, but never KEEP sections.
        let mut pd: Vec<(String, String)> = rep
            .discarded
            .iter()
            .filter(|d| !super::live::gnu_keep(&d.name))
            .map(|d| (d.file.clone(), d.name.clone()))
            .chain(rep.not_linked.iter().map(|n| (n.file.clone(), n.name.clone())))
            .collect();
        let mut ad: Vec<(String, String)> =
            m.discarded.iter().map(|d| (base_file(&d.file), d.section.clone())).collect();
        pd.sort();
        ad.sort();
        let mut i = 0;
        let mut j = 0;
        while i < pd.len() || j < ad.len() {
            match (pd.get(i), ad.get(j)) {
                (Some(x), Some(y)) if x == y => {
                    i += 1;
                    j += 1;
                }
                (Some(x), y) if y.is_none_or(|y| x < y) => {
                    c.differences.push(diff("discarded", format!("{}:({})", x.0, x.1), Some("discarded".into()), None));
                    i += 1;
                }
                (_, Some(y)) => {
                    c.differences.push(diff("discarded", format!("{}:({})", y.0, y.1), None, Some("discarded".into())));
                    j += 1;
                }
                _ => break,
            }
        }
    }
}
