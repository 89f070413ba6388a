//! The app's Link table: every input section of a report with its fate in words.

use std::collections::{HashMap, HashSet};

use super::report::{Report, NODUP_RULE};

/// An input section and what became of it (placed, discarded and why, or not linked): one row
/// of the app's Link table.
#[derive(Debug, Clone)]
pub struct SectionRow {
    /// `placed`, `comdat`, `associative`, `gc`, `icf` or `not linked`.
    pub fate: &'static str,
    /// Output section (placed rows).
    pub out: String,
    /// RVA (placed rows).
    pub rva: Option<u64>,
    /// Size.
    pub size: u64,
    /// Alignment (placed rows).
    pub align: u64,
    /// File.
    pub file: String,
    /// Section index in the file.
    pub section: u32,
    /// Section name.
    pub name: String,
    /// Why, in words, with the section kept instead.
    pub why: String,
}

impl Report {
    /// Every input section with its fate, in placement order, then the discarded, then those
    /// not linked; the reason in words, COMDAT keys demangled.
    pub fn section_rows(&self) -> Vec<SectionRow> {
        let rep = self;
        let mut out = Vec::new();
        let shown = |k: &str| crate::demangle::demangle(k).unwrap_or_else(|| k.to_string());
        let nodup: HashSet<&str> =
            rep.comdats.iter().filter(|c| c.selection == "NODUPLICATES").map(|c| c.symbol.as_str()).collect();
        for p in &rep.placements {
            let mut why = p.comdat.as_ref().map_or(String::new(), |k| {
                if nodup.contains(k.as_str()) {
                    format!("COMDAT {}: the one definition ({NODUP_RULE})", shown(k))
                } else {
                    format!("COMDAT {}: this copy is kept", shown(k))
                }
            });
            let folded: Vec<String> = rep
                .folds
                .iter()
                .filter(|f| f.into.file == p.file && f.into.section == p.section)
                .map(|f| format!("{} [{}]", f.folded.file, f.folded.section))
                .collect();
            if !folded.is_empty() {
                if !why.is_empty() {
                    why.push_str("; ");
                }
                why.push_str(&format!("ICF folded into it: {}", folded.join(", ")));
            }
            out.push(SectionRow {
                fate: "placed",
                out: p.output_section.clone(),
                rva: Some(p.rva),
                size: p.size,
                align: p.align,
                file: p.file.clone(),
                section: p.section,
                name: p.name.clone(),
                why,
            });
        }
        // Each kept copy's COMDAT key.
        let key_of: HashMap<(&str, u32), &str> = rep
            .comdats
            .iter()
            .filter_map(|c| c.kept.as_ref().map(|k| ((k.file.as_str(), k.section), c.symbol.as_str())))
            .collect();
        for d in &rep.discarded {
            let kept =
                d.kept.as_ref().map_or(String::new(), |k| format!(" — kept: {}:({}) [{}]", k.file, k.name, k.section));
            // The COMDAT key demangled, as the COMDATs tab shows it.
            let detail = match (d.reason, &d.kept) {
                ("comdat", Some(k)) => match key_of.get(&(k.file.as_str(), k.section)) {
                    Some(key) => format!("another copy of COMDAT {} won", shown(key)),
                    None => d.detail.clone(),
                },
                _ => d.detail.clone(),
            };
            out.push(SectionRow {
                fate: d.reason,
                out: String::new(),
                rva: None,
                size: d.size,
                align: 0,
                file: d.file.clone(),
                section: d.section,
                name: d.name.clone(),
                why: format!("{detail}{kept}"),
            });
        }
        for n in &rep.not_linked {
            out.push(SectionRow {
                fate: "not linked",
                out: String::new(),
                rva: None,
                size: 0,
                align: 0,
                file: n.file.clone(),
                section: n.section,
                name: n.name.clone(),
                why: n.why.to_string(),
            });
        }
        out
    }
}
