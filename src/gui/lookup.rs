//! The app's lookups: the core [`Index`] (shared with the analyses) plus what only the screens
//! need: relocation facet values, demangled COMDAT names and the OMF record index.
//!
//! Built once per document in the loader thread.

use std::collections::BTreeSet;

pub use crate::model::index::{
    base_reloc_normalized, base_reloc_width, is_object, member_data_span, member_header_span, member_span, ImportRow,
    Index,
};
use crate::model::Binary;

/// Derived, read-only indexes of one document that only screens need (the core [`Index`] is
/// the analysed file's).
#[derive(Debug, Default)]
pub struct Lookup {
    /// Demangled COMDAT symbol names, by COMDAT row (None when not mangled).
    pub comdat_demangled: Vec<Option<String>>,
    /// Relocation facet values: sources present.
    pub reloc_sources: Vec<String>,
    /// Relocation facet values: normalised kinds present.
    pub reloc_kinds: Vec<String>,
    /// Relocation facet values: section labels present.
    pub reloc_sections: Vec<String>,
    /// OMF records, fixups and their sites (empty for other formats).
    pub omf: super::omf::OmfIndex,
}

impl Lookup {
    /// Build the lookups for `bin`.
    pub fn new(bin: &Binary, index: &Index) -> Self {
        let mut lookup = Lookup {
            comdat_demangled: bin
                .comdats
                .iter()
                .map(|c| c.symbol.as_deref().and_then(crate::demangle::demangle))
                .collect(),
            omf: super::omf::OmfIndex::new(bin),
            ..Lookup::default()
        };
        lookup.fill_reloc_facets(bin, index);
        lookup
    }

    fn fill_reloc_facets(&mut self, bin: &Binary, index: &Index) {
        let mut sources = BTreeSet::new();
        let mut kinds = BTreeSet::new();
        let mut sections = BTreeSet::new();
        if !bin.base_relocations.is_empty() {
            sources.insert("base");
        }
        let mut seen_types = [false; 16];
        let mut seen_pages: Vec<u64> = Vec::new();
        for r in &bin.base_relocations {
            if let Some(seen) = seen_types.get_mut(usize::from(r.raw_type & 15)) {
                if !*seen {
                    *seen = true;
                    kinds.insert(base_reloc_normalized(r.raw_type).to_string());
                }
            }
            let page = r.rva & !0xfff;
            if seen_pages.last() != Some(&page) {
                seen_pages.push(page);
                if let Some(p) = index.section_pos_by_rva(r.rva) {
                    sections.insert(index.section_label_at(p).to_string());
                }
            }
        }
        let mut seen_sections: BTreeSet<Option<u32>> = BTreeSet::new();
        for r in &bin.relocations {
            sources.insert(if r.dynamic { "dynamic" } else { "object" });
            if !kinds.contains(r.normalized.name()) {
                kinds.insert(r.normalized.to_string());
            }
            if r.dynamic {
                let page = r.offset & !0xfff;
                if seen_pages.last() != Some(&page) {
                    seen_pages.push(page);
                    if let Some(p) = index.section_pos_by_rva(r.offset) {
                        sections.insert(index.section_label_at(p).to_string());
                    }
                }
            } else if seen_sections.insert(r.section) {
                if let Some(label) = r.section.and_then(|s| index.section_label(s)) {
                    sections.insert(label.to_string());
                }
            }
        }
        self.reloc_sources = sources.into_iter().map(String::from).collect();
        self.reloc_kinds = kinds.into_iter().collect();
        self.reloc_sections = sections.into_iter().collect();
    }
}
