//! Which structure and field each byte of a file belongs to.
//!
//! Built once per file from the spans the model keeps (the app builds it in its loader thread; the
//! diff attributes changed bytes with it). Small items
//! (fields, records, slots, patch sites) are *leaves*; large ones (section bodies, header groups,
//! directories) are *containers*. Looking up a byte is a binary search plus a short backward scan
//! bounded by the largest leaf, so the hex view can ask for every byte on screen each frame.

use crate::model::{Binary, Span};

use super::index::{base_reloc_width, import_name, Index};

/// Leaves are at most this long; anything longer is a container.
const MAX_LEAF: u64 = 512;

/// What a region of bytes is, by position in the model's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// A header group (`headers[g]`).
    HeaderGroup(u32),
    /// A header field (`headers[g].fields[f]`).
    Field(u32, u32),
    /// A section header (`sections[p]`).
    SectionHeader(u32),
    /// A section's bytes (`sections[p]`).
    SectionBody(u32),
    /// A program header (`segments[p]`).
    SegmentHeader(u32),
    /// A symbol record (`symbols[p]`).
    Symbol(u32),
    /// An import descriptor (`imports[m]` or `delay_imports[m]`).
    ImportDescriptor {
        /// Delay-load list.
        delay: bool,
        /// Module position.
        module: u32,
    },
    /// An IAT slot.
    IatSlot {
        /// Delay-load list.
        delay: bool,
        /// Module position.
        module: u32,
        /// Entry position.
        entry: u32,
    },
    /// An export's own entry (`exports[p]`: PE address-table slot, ELF `.dynsym` entry).
    ExportSlot(u32),
    /// A base-relocation block.
    BaseRelocBlock(u32),
    /// A base-relocation entry.
    BaseRelocEntry(u32),
    /// The site a base relocation patches.
    BaseRelocSite(u32),
    /// An object or dynamic relocation record.
    Reloc(u32),
    /// The site an object or dynamic relocation patches.
    RelocSite(u32),
    /// A pseudo-relocation entry.
    PseudoEntry(u32),
    /// The site a pseudo-relocation patches.
    PseudoSite(u32),
    /// The whole pseudo-relocation list.
    PseudoList,
    /// The bytes a data directory points at.
    DataDirectory(u32),
    /// A debug directory entry.
    DebugEntry(u32),
    /// The Rich header.
    Rich,
    /// Data after the last section.
    Overlay,
    /// An archive member (header and data).
    Member(u32),
    /// An OMF record, envelope included (`omf_records[r]`).
    OmfRecord(u32),
    /// A decoded field of an OMF record (`omf_records[r].fields[f]`).
    OmfField(u32, u32),
}

/// A region of bytes and what it is.
#[derive(Debug, Clone, Copy)]
pub struct Region {
    /// The bytes.
    pub span: Span,
    /// What they are.
    pub what: What,
}

/// The region index of one file.
#[derive(Debug, Default)]
pub struct Regions {
    leaves: Vec<Region>,
    max_leaf: u64,
    containers: Vec<Region>,
}

/// A region described for people: the structure and the field or item (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// The structure, e.g. "Import address table slot".
    pub structure: String,
    /// The item, e.g. "data.dll!arr".
    pub detail: String,
}

impl Regions {
    /// Build the index for `bin`.
    pub fn new(bin: &Binary, lookup: &Index) -> Self {
        let mut all: Vec<Region> = Vec::new();
        let mut add = |span: Span, what: What| {
            if span.len > 0 {
                all.push(Region { span, what });
            }
        };
        // OMF header groups mirror whole records (THEADR, MODEND, …), which are indexed below
        // with their fields; index those bytes once.
        let record_spans: std::collections::HashSet<(u64, u64)> = (0..bin.omf_records.len())
            .filter_map(|r| super::omf_record_span(bin, r))
            .map(|s| (s.offset, s.len))
            .collect();
        for (r, rec) in bin.omf_records.iter().enumerate() {
            if let Some(span) = super::omf_record_span(bin, r) {
                add(span, What::OmfRecord(r as u32));
            }
            for (f, field) in rec.fields.iter().enumerate() {
                add(field.span, What::OmfField(r as u32, f as u32));
            }
        }
        for (g, group) in bin.headers.iter().enumerate() {
            if record_spans.contains(&(group.span.offset, group.span.len)) {
                continue;
            }
            add(group.span, What::HeaderGroup(g as u32));
            for (f, field) in group.fields.iter().enumerate() {
                add(field.span, What::Field(g as u32, f as u32));
            }
        }
        for (p, s) in bin.sections.iter().enumerate() {
            add(s.header_span, What::SectionHeader(p as u32));
            if s.file_size > 0 {
                add(Span::new(s.file_offset, s.file_size), What::SectionBody(p as u32));
            }
        }
        for (p, s) in bin.segments.iter().enumerate() {
            add(s.header_span, What::SegmentHeader(p as u32));
        }
        for (p, s) in bin.symbols.iter().enumerate() {
            add(s.span, What::Symbol(p as u32));
        }
        for (delay, list) in [(false, &bin.imports), (true, &bin.delay_imports)] {
            for (m, module) in list.iter().enumerate() {
                add(module.descriptor_span, What::ImportDescriptor { delay, module: m as u32 });
                for (e, entry) in module.entries.iter().enumerate() {
                    if let Some(span) = entry.iat_span {
                        add(span, What::IatSlot { delay, module: m as u32, entry: e as u32 });
                    }
                }
            }
        }
        for (p, e) in bin.exports.iter().enumerate() {
            if let Some(span) = e.span {
                add(span, What::ExportSlot(p as u32));
            }
        }
        for (p, b) in bin.base_reloc_blocks.iter().enumerate() {
            add(b.span, What::BaseRelocBlock(p as u32));
        }
        for (p, r) in bin.base_relocations.iter().enumerate() {
            add(r.span, What::BaseRelocEntry(p as u32));
            let w = base_reloc_width(r.raw_type);
            if w > 0 {
                if let Some(site) = lookup.rva_span(r.rva, w, bin) {
                    add(site, What::BaseRelocSite(p as u32));
                }
            }
        }
        for (p, r) in bin.relocations.iter().enumerate() {
            add(r.span, What::Reloc(p as u32));
            let site = match r.section {
                // OMF: relocations[i] is fixup i; its bytes are inside its data record.
                _ if bin.omf.is_some() => lookup.omf_sites.get(p).copied().flatten(),
                Some(sec) if !r.dynamic => lookup.object_reloc_site(bin, sec, r.offset, r.width),
                _ => lookup.rva_span(r.offset, (u64::from(r.width) / 8).max(1), bin),
            };
            if let Some(site) = site {
                add(site, What::RelocSite(p as u32));
            }
        }
        let pr = &bin.pseudo_relocations;
        if let (Some(start), Some(end)) = (pr.list_rva, pr.list_end_rva) {
            if let Some(span) = lookup.rva_span(start, end.saturating_sub(start), bin) {
                add(span, What::PseudoList);
            }
        }
        for (p, e) in pr.entries.iter().enumerate() {
            add(e.span, What::PseudoEntry(p as u32));
            if let Some(site) = lookup.rva_span(e.target_rva, u64::from(e.width / 8).max(1), bin) {
                add(site, What::PseudoSite(p as u32));
            }
        }
        if let Some(pe) = &bin.pe {
            for (p, d) in pe.data_directories.iter().enumerate() {
                if d.rva == 0 || d.size == 0 {
                    continue;
                }
                // The security directory holds a file offset, not an RVA.
                let span =
                    if d.index == 4 { Some(Span::new(d.rva, d.size)) } else { lookup.rva_span(d.rva, d.size, bin) };
                if let Some(span) = span {
                    add(span, What::DataDirectory(p as u32));
                }
            }
            for (p, d) in pe.debug.iter().enumerate() {
                add(d.span, What::DebugEntry(p as u32));
            }
            if let Some(rich) = &pe.rich {
                add(rich.span, What::Rich);
            }
            if let Some(overlay) = pe.overlay {
                add(overlay, What::Overlay);
            }
        }
        for (p, m) in bin.members.iter().enumerate() {
            add(super::index::member_span(bin, m), What::Member(p as u32));
        }
        let (mut leaves, mut containers): (Vec<Region>, Vec<Region>) =
            all.into_iter().partition(|r| r.span.len <= MAX_LEAF && !r.what.is_container());
        leaves.sort_by_key(|r| (r.span.offset, std::cmp::Reverse(r.span.len)));
        containers.sort_by_key(|r| (r.span.offset, std::cmp::Reverse(r.span.len)));
        let max_leaf = leaves.iter().map(|r| r.span.len).max().unwrap_or(0);
        Regions { leaves, max_leaf, containers }
    }

    /// Number of regions indexed.
    pub fn len(&self) -> usize {
        self.leaves.len() + self.containers.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest leaf containing `off` (the most specific structure), if any.
    pub fn leaf_at(&self, off: u64) -> Option<&Region> {
        self.leaf_with_index(off).map(|(_, r)| r)
    }

    /// Like [`Regions::leaf_at`], with the leaf's position in file order (neighbouring leaves
    /// have different parities, which the hex view uses to shade alternate fields).
    pub fn leaf_with_index(&self, off: u64) -> Option<(usize, &Region)> {
        let i = self.leaves.partition_point(|r| r.span.offset <= off);
        let mut best: Option<(usize, &Region)> = None;
        for (j, r) in self.leaves[..i].iter().enumerate().rev() {
            if r.span.offset.saturating_add(self.max_leaf) <= off {
                break;
            }
            if r.span.contains(off) && best.is_none_or(|(_, b)| r.span.len < b.span.len) {
                best = Some((j, r));
            }
        }
        best
    }

    /// Where the next leaf after `off` starts (for walking a range leaf by leaf).
    pub fn next_leaf_start(&self, off: u64) -> Option<u64> {
        let i = self.leaves.partition_point(|r| r.span.offset <= off);
        self.leaves.get(i).map(|r| r.span.offset)
    }

    /// Every region containing `off`, innermost first (for the hover explanation).
    pub fn all_at(&self, off: u64) -> Vec<Region> {
        let mut out = Vec::new();
        let i = self.leaves.partition_point(|r| r.span.offset <= off);
        for r in self.leaves[..i].iter().rev() {
            if r.span.offset.saturating_add(self.max_leaf) <= off {
                break;
            }
            if r.span.contains(off) {
                out.push(*r);
            }
        }
        let j = self.containers.partition_point(|r| r.span.offset <= off);
        out.extend(self.containers[..j].iter().filter(|r| r.span.contains(off)).copied());
        out.sort_by_key(|r| r.span.len);
        out
    }
}

impl What {
    /// Whether this is a whole area (section body, directory, block) rather than one item.
    pub fn is_container(self) -> bool {
        matches!(
            self,
            What::HeaderGroup(_)
                | What::SectionBody(_)
                | What::BaseRelocBlock(_)
                | What::PseudoList
                | What::DataDirectory(_)
                | What::Rich
                | What::Overlay
                | What::Member(_)
                | What::OmfRecord(_)
        )
    }

    /// Describe the region for a tooltip or status line.
    pub fn describe(self, bin: &Binary, lookup: &Index) -> Described {
        let d = |structure: &str, detail: String| Described { structure: structure.to_string(), detail };
        match self {
            What::HeaderGroup(g) => {
                let name = bin.headers.get(g as usize).map_or("?", |h| h.name.as_str());
                d(name, String::new())
            }
            What::Field(g, f) => {
                let group = bin.headers.get(g as usize);
                let field = group.and_then(|h| h.fields.get(f as usize));
                d(
                    group.map_or("?", |h| h.name.as_str()),
                    field.map_or_else(String::new, |f| format!("{} = {}", f.name, f.display)),
                )
            }
            What::SectionHeader(p) => d("Section header", lookup.section_label_at(p as usize).to_string()),
            What::SectionBody(p) => d("Section data", lookup.section_label_at(p as usize).to_string()),
            What::SegmentHeader(p) => {
                let kind = bin.segments.get(p as usize).map_or_else(|| "?".to_string(), |s| s.kind.to_string());
                d("Program header", format!("#{p} {kind}"))
            }
            What::Symbol(p) => {
                let name = bin.symbols.get(p as usize).map_or("?", |s| s.name.as_str());
                d("Symbol record", name.to_string())
            }
            What::ImportDescriptor { delay, module } => {
                let list = if delay { &bin.delay_imports } else { &bin.imports };
                let dll = list.get(module as usize).map_or("?", |m| m.dll.as_str());
                let s = if delay { "Delay-load import descriptor" } else { "Import descriptor" };
                d(s, dll.to_string())
            }
            What::IatSlot { delay, module, entry } => {
                let list = if delay { &bin.delay_imports } else { &bin.imports };
                let m = list.get(module as usize);
                let name = m.and_then(|m| m.entries.get(entry as usize)).map(import_name).unwrap_or_default();
                d("Import address table slot", format!("{}!{name}", m.map_or("?", |m| m.dll.as_str())))
            }
            What::ExportSlot(p) => {
                let e = bin.exports.get(p as usize);
                let name = e.and_then(|e| e.name.clone()).unwrap_or_else(|| "(by ordinal only)".into());
                let s = if bin.format.is_elf() { "Dynamic symbol (export)" } else { "Export address table slot" };
                d(s, format!("ordinal {} {name}", e.map_or(0, |e| e.ordinal)))
            }
            What::BaseRelocBlock(p) => {
                let page = bin.base_reloc_blocks.get(p as usize).map_or(0, |b| b.page_rva);
                d("Base-relocation block", format!("page rva {page:#x}"))
            }
            What::BaseRelocEntry(p) => {
                let r = bin.base_relocations.get(p as usize);
                d("Base-relocation entry", r.map_or_else(String::new, |r| format!("{} at rva {:#x}", r.kind, r.rva)))
            }
            What::BaseRelocSite(p) => {
                let r = bin.base_relocations.get(p as usize);
                d("Patched by a base relocation", r.map_or_else(String::new, |r| format!("{} (entry #{p})", r.kind)))
            }
            What::Reloc(p) | What::RelocSite(p) if bin.omf.is_some() => {
                let f = bin.omf.as_ref().and_then(|o| o.fixups.get(p as usize));
                let structure = if matches!(self, What::Reloc(_)) { "FIXUP subrecord" } else { "Patched by a fixup" };
                d(structure, f.map_or_else(String::new, |f| format!("#{p} {}", f.description)))
            }
            What::Reloc(p) => {
                let r = bin.relocations.get(p as usize);
                d("Relocation record", r.map_or_else(String::new, reloc_summary))
            }
            What::RelocSite(p) => {
                let r = bin.relocations.get(p as usize);
                d("Patched by a relocation", r.map_or_else(String::new, reloc_summary))
            }
            What::PseudoEntry(p) => {
                let e = bin.pseudo_relocations.entries.get(p as usize);
                d(
                    "Pseudo-relocation entry",
                    e.map_or_else(String::new, |e| format!("#{p} {}", e.import.as_deref().unwrap_or("?"))),
                )
            }
            What::PseudoSite(p) => {
                let e = bin.pseudo_relocations.entries.get(p as usize);
                d(
                    "Patched by a pseudo-relocation",
                    e.map_or_else(String::new, |e| {
                        format!("#{p} {} ({}-bit)", e.import.as_deref().unwrap_or("?"), e.width)
                    }),
                )
            }
            What::PseudoList => d("Pseudo-relocation list", String::new()),
            What::DataDirectory(p) => {
                let name =
                    bin.pe.as_ref().and_then(|pe| pe.data_directories.get(p as usize)).map_or("?", |d| d.name.as_str());
                d("Data directory", name.to_string())
            }
            What::DebugEntry(p) => {
                let kind = bin.pe.as_ref().and_then(|pe| pe.debug.get(p as usize)).map_or("?", |d| d.kind.as_str());
                d("Debug directory entry", kind.to_string())
            }
            What::Rich => d("Rich header", "linker/compiler build stamps, XOR-masked".into()),
            What::Overlay => d("Overlay", "data after the last section; not mapped by the loader".into()),
            What::Member(p) => {
                let name = bin.members.get(p as usize).map_or("?", |m| m.member_name.as_str());
                let what =
                    if bin.format == crate::model::Format::OmfLibrary { "Library module" } else { "Archive member" };
                d(what, name.to_string())
            }
            What::OmfRecord(r) => {
                let rec = bin.omf_records.get(r as usize);
                d("OMF record", rec.map_or_else(String::new, |rec| format!("#{r} {}: {}", rec.type_name, rec.summary)))
            }
            What::OmfField(r, f) => {
                let rec = bin.omf_records.get(r as usize);
                let field = rec.and_then(|rec| rec.fields.get(f as usize));
                Described {
                    structure: rec.map_or_else(|| "OMF record".into(), |rec| format!("{} #{r}", rec.type_name)),
                    detail: field.map_or_else(String::new, |f| format!("{} = {}", f.name, f.display)),
                }
            }
        }
    }
}

fn reloc_summary(r: &crate::model::Relocation) -> String {
    format!("{} → {}", r.kind, r.symbol.as_deref().unwrap_or("-"))
}
