//! What a changed byte belongs to: the model's regions (header fields, section headers, import
//! descriptors, IAT slots, exports, base-relocation blocks and entries, pseudo-relocation items
//! and the sites they patch, relocations, OMF records), then what only addresses say (ILT slots,
//! data-reference sites, the instruction before and after, the nearest symbol), then the section.

use serde::Serialize;

use super::{Mode, Side};
use crate::analysis::code::bitness;
use crate::analysis::listing::Lister;
use crate::analysis::namer::{Namer, OperandName};
use crate::model::index::{import_name, Index};
use crate::model::regions::{Regions, What};
use crate::model::{Binary, SymbolKind};

/// One structure a change overlaps.
#[derive(Debug, Clone, Serialize)]
pub struct Structure {
    /// `header-field`, `section-header`, `import-descriptor`, `iat-slot`, `ilt-slot`, `export`,
    /// `base-reloc-block`, `base-reloc-entry`, `base-reloc-site`, `pseudo-reloc-item`,
    /// `pseudo-reloc-site`, `data-ref-site`, `instruction`, `symbol`, `section-data`, … (README).
    pub kind: &'static str,
    /// Its name: the field (`TimeDateStamp`), the import (`data.dll!arr`), the section, …
    pub name: String,
    /// More about it (the header group, the entry's kind and address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Instructions: the first side's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Instructions: the second side's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Whether it is one item (a field, a slot, an instruction) rather than an area.
    #[serde(skip)]
    pub leaf: bool,
    /// Where it starts (the diff's coordinates).
    #[serde(skip)]
    pub start: u64,
}

/// Attributes ranges of side A.
pub struct Attributor<'a> {
    mode: Mode,
    bin: Option<&'a Binary>,
    index: Option<&'a Index>,
    regions: Option<&'a Regions>,
    side: Side<'a>,
    lister: Option<Lister>,
    /// The second side's lister (its own names), made when first needed.
    lister_b: Option<Option<Lister>>,
    starts: Vec<u64>,
    insn_budget: usize,
    ilt: Vec<(u64, u64, usize)>,
    sites: Vec<(u64, u64, usize)>,
    notes: Vec<String>,
}

impl<'a> Attributor<'a> {
    /// For side `a` of a diff in `mode`; at most `insn_budget` instructions are decoded.
    pub fn new(mode: Mode, a: &Side<'a>, insn_budget: usize) -> Self {
        let bin = a.bin;
        let mut starts: Vec<u64> = Vec::new();
        let mut ilt = Vec::new();
        let mut sites = Vec::new();
        let mut lister = None;
        if let (Some(bin), Some(index)) = (bin, a.index) {
            // Function symbols only: GNU ld's `__fu*` labels point into the middle of instructions.
            starts.extend(
                index
                    .symbols_sorted
                    .iter()
                    .filter(|&&(_, p)| bin.symbols.get(p as usize).is_some_and(|s| s.kind == SymbolKind::Function))
                    .map(|&(r, _)| r),
            );
            starts.extend(index.exports_sorted.iter().map(|&(r, _)| r));
            starts.extend(bin.entry_rva);
            if let Some(pe) = &bin.pe {
                starts.extend(pe.exceptions.iter().map(|f| u64::from(f.begin)));
            }
            starts.sort_unstable();
            starts.dedup();
            let ptr = if bin.is_64 { 8 } else { 4 };
            for (m, module) in bin.imports.iter().enumerate() {
                if module.ilt_rva != 0 && module.ilt_rva != module.iat_rva {
                    ilt.push((module.ilt_rva, module.ilt_rva + ptr * module.entries.len() as u64, m));
                }
            }
            if let Some(refs) = a.refs {
                sites = refs
                    .sites
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.field_rva, u64::from(s.width / 8).max(1), i))
                    .collect();
                sites.sort_unstable();
            }
            if let Some(b) = bitness(bin) {
                lister =
                    Some(Lister::new(b, std::sync::Arc::new(crate::analysis::listing::Names::new(bin, index, None))));
            }
        }
        Attributor {
            mode,
            bin,
            index: a.index,
            regions: a.regions,
            side: *a,
            lister,
            lister_b: None,
            starts,
            insn_budget,
            ilt,
            sites,
            notes: Vec::new(),
        }
    }

    /// Notes on what could not be attributed.
    pub fn notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// The RVA of file offset `off` (files mode), or `off` itself (image mode).
    pub fn rva_of(&self, off: u64) -> Option<u64> {
        match self.mode {
            Mode::Image => Some(off),
            Mode::Files => {
                let (bin, index) = (self.bin?, self.index?);
                if crate::model::index::is_object(bin) {
                    return None;
                }
                index.offset_to_rva(off, bin)
            }
        }
    }

    /// The file offset of position `pos` (image mode: of the RVA, when the file backs it).
    fn offset_of(&self, pos: u64) -> Option<u64> {
        match self.mode {
            Mode::Files => Some(pos),
            Mode::Image => self.index?.rva_to_offset(pos, self.bin?),
        }
    }

    /// How many bytes from `start` (at most `max`) belong to the same innermost structure.
    pub fn piece(&mut self, start: u64, max: u64) -> u64 {
        let mut end = start.saturating_add(max);
        if let (Some(off), Some(regions)) = (self.offset_of(start), self.regions) {
            match regions.leaf_at(off) {
                Some(l) => end = end.min(start + (l.span.end() - off)),
                None => {
                    if let Some(n) = regions.next_leaf_start(off) {
                        end = end.min(start + (n - off));
                    }
                }
            }
        }
        if let Some(rva) = self.rva_of(start) {
            // Image mode: slots the file does not back (an IAT in .bss) and sites.
            if let Some(&(s, len, _)) = self.site_at(rva) {
                end = end.min(start + (s + len - rva));
            }
            if let Some((len, _)) = self.insn_at(rva, false) {
                end = end.min(start + len);
            }
        }
        (end - start).max(1)
    }

    fn site_at(&self, rva: u64) -> Option<&(u64, u64, usize)> {
        let i = self.sites.partition_point(|&(s, _, _)| s <= rva);
        self.sites[..i].iter().rev().take(2).find(|&&(s, len, _)| rva < s + len)
    }

    /// The instruction covering `rva` in code: `(bytes from rva to its end, its start)`.
    fn insn_at(&mut self, rva: u64, spend: bool) -> Option<(u64, u64)> {
        let (bin, index) = (self.bin?, self.index?);
        let s = bin.sections.get(index.section_pos_by_rva(rva)?)?;
        if !s.is_exec || crate::model::index::is_object(bin) || self.lister.is_none() {
            return None;
        }
        if spend {
            if self.insn_budget == 0 {
                return None;
            }
            self.insn_budget -= 1;
        }
        let i = self.starts.partition_point(|&x| x <= rva);
        let from = self.starts[..i]
            .last()
            .copied()
            .filter(|&x| x >= s.rva && rva - x <= 0x4000)
            .unwrap_or(rva.saturating_sub(64).max(s.rva));
        let mem = self.memory_a(from, rva + 16)?;
        let bits = bitness(bin)?;
        let mut d = iced_x86::Decoder::with_ip(bits, &mem, from, iced_x86::DecoderOptions::NONE);
        while d.can_decode() {
            let ins = d.decode();
            let (a, b) = (ins.ip(), ins.next_ip());
            if b > rva {
                return (a <= rva).then_some((b - rva, a));
            }
        }
        None
    }

    /// Side A's bytes at RVAs `[from, to)`.
    fn memory_a(&self, from: u64, to: u64) -> Option<Vec<u8>> {
        match self.mode {
            Mode::Image => {
                self.side.data.get(from as usize..(to as usize).min(self.side.data.len())).map(<[u8]>::to_vec)
            }
            Mode::Files => {
                let (bin, index) = (self.bin?, self.index?);
                let off = index.rva_to_offset(from, bin)?;
                let n = (to - from) as usize;
                self.side.data.get(off as usize..(off as usize + n).min(self.side.data.len())).map(<[u8]>::to_vec)
            }
        }
    }

    /// Every structure the change starting at `start` belongs to, innermost first; `b` (from
    /// `b_start`) gives the other side's bytes for instructions.
    pub fn structures(&mut self, start: u64, b: &Side<'_>, b_start: u64) -> Vec<Structure> {
        let mut out: Vec<Structure> = Vec::new();
        let (Some(bin), Some(index)) = (self.bin, self.index) else { return out };
        let rva = self.rva_of(start);
        let ptr = if bin.is_64 { 8 } else { 4 };
        // Innermost first: sites and instructions are smaller than most regions.
        if let Some(r) = rva {
            if let Some(&(s, _, i)) = self.site_at(r) {
                if let Some(site) = self.side.refs.and_then(|x| x.sites.get(i)) {
                    out.push(Structure {
                        kind: "data-ref-site",
                        name: format!("{} at {:#x}", site.mode.name(), site.site_rva),
                        detail: None,
                        before: None,
                        after: None,
                        leaf: true,
                        start: start - (r - s),
                    });
                }
            }
            if let Some((_, at)) = self.insn_at(r, true) {
                let other = self.other_bytes(b, b_start, at, r);
                let mine = self.memory_a(at, at + 16);
                // The second file names its own addresses (image mode: the same image).
                // Operands named by what the sites say they reach; after patching (a memory image)
                // the instruction still names the same target.
                let ops_a = operand_names(bin, index, self.side.refs, at);
                // A memory image (a dump) after loading: an operand keeps its name where it
                // reaches the target as loaded there (slot values read from that memory).
                let ops_loaded = match (self.mode, self.side.refs) {
                    (Mode::Image, Some(refs)) => {
                        let section = index.section_pos_by_rva(at).map_or(u32::MAX, |p| p as u32);
                        let ptr = if bin.is_64 { 8 } else { 4 };
                        let slot_value = |rva: u64| read_ptr(b.data, rva, ptr);
                        Namer { bin, index }.loaded_operand_names(
                            &refs.sites_at(section, at),
                            bin.image_base.unwrap_or(0),
                            &slot_value,
                        )
                    }
                    _ => ops_a.clone(),
                };
                let mut ops_b = Vec::new();
                let b_va = match (self.mode, b.bin, b.index) {
                    (Mode::Files, Some(bb), Some(bi)) => {
                        let pos = b_start.checked_sub(r - at);
                        let rva = pos.and_then(|p| bi.offset_to_rva(p, bb));
                        if let Some(rva) = rva {
                            ops_b = operand_names(bb, bi, b.refs, rva);
                        }
                        if self.lister_b.is_none() {
                            self.lister_b = Some(bitness(bb).map(|x| {
                                Lister::new(x, std::sync::Arc::new(crate::analysis::listing::Names::new(bb, bi, None)))
                            }));
                        }
                        rva.map(|v| bb.image_base.unwrap_or(0).wrapping_add(v))
                    }
                    _ => None,
                };
                if let (Some(l), Some(mine)) = (self.lister.as_mut(), mine) {
                    let va = bin.image_base.unwrap_or(0).wrapping_add(at);
                    let before = l.format_named(&mine, va, &ops_a).map(|(_, t)| t);
                    let after = match (b_va, self.lister_b.as_mut().and_then(Option::as_mut)) {
                        (Some(bva), Some(lb)) => other.and_then(|o| lb.format_named(&o, bva, &ops_b).map(|(_, t)| t)),
                        _ => other.and_then(|o| {
                            self.lister.as_mut().and_then(|l| l.format_named(&o, va, &ops_loaded)).map(|(_, t)| t)
                        }),
                    };
                    out.push(Structure {
                        kind: "instruction",
                        name: format!("{at:#x}"),
                        detail: None,
                        before,
                        after,
                        leaf: true,
                        start: start - (r - at),
                    });
                }
            }
            for &(s, e, m) in &self.ilt {
                if r >= s && r < e {
                    let k = ((r - s) / ptr) as usize;
                    let module = &bin.imports[m];
                    let name = module.entries.get(k).map(import_name).unwrap_or_default();
                    out.push(Structure {
                        kind: "ilt-slot",
                        name: format!("{}!{name}", module.dll),
                        detail: None,
                        before: None,
                        after: None,
                        leaf: true,
                        start: start - (r - (s + k as u64 * ptr)),
                    });
                }
            }
        }
        let off = self.offset_of(start);
        if let (Some(off), Some(regions)) = (off, self.regions) {
            for reg in regions.all_at(off) {
                let (kind, name, detail) = describe(reg.what, bin, index);
                let s = start - (off - reg.span.offset);
                out.push(Structure {
                    kind,
                    name,
                    detail,
                    before: None,
                    after: None,
                    leaf: !reg.what.is_container(),
                    start: s,
                });
            }
        }
        if let Some(r) = rva {
            // What the file does not back: an IAT slot or a pseudo-relocation site in .bss.
            if !out.iter().any(|s| s.kind == "iat-slot") {
                if let Some((slot, row)) = index.iat_slot_at(r, ptr) {
                    if let Some(e) = index.import_entry(bin, row) {
                        let dll = index.import_module(bin, row).map_or("?", |m| m.dll.as_str());
                        out.push(Structure {
                            kind: "iat-slot",
                            name: format!("{dll}!{}", import_name(e)),
                            detail: None,
                            before: None,
                            after: None,
                            leaf: true,
                            start: start - (r - slot),
                        });
                    }
                }
            }
            if !out.iter().any(|s| s.kind == "pseudo-reloc-site") {
                for (i, e) in bin.pseudo_relocations.entries.iter().enumerate() {
                    if r >= e.target_rva && r < e.target_rva + u64::from(e.width / 8).max(1) {
                        out.push(Structure {
                            kind: "pseudo-reloc-site",
                            name: format!("#{i} {}", e.import.as_deref().unwrap_or("?")),
                            detail: Some(format!("{}-bit", e.width)),
                            before: None,
                            after: None,
                            leaf: true,
                            start: start - (r - e.target_rva),
                        });
                    }
                }
            }
            if let Some(sym) = nearest_symbol(bin, index, r) {
                out.push(Structure {
                    kind: "symbol",
                    name: sym,
                    detail: None,
                    before: None,
                    after: None,
                    leaf: false,
                    start,
                });
            }
            if !out.iter().any(|s| s.kind == "section-data") {
                if let Some(p) = index.section_pos_by_rva(r) {
                    out.push(Structure {
                        kind: "section-data",
                        name: index.section_label_at(p).to_string(),
                        detail: Some("not backed by the file (zero-filled by the loader)".into()),
                        before: None,
                        after: None,
                        leaf: false,
                        start,
                    });
                }
            }
        }
        // Innermost first: leaves before containers; among leaves covering the same bytes, what
        // patches them before what merely reads them.
        out.sort_by_key(|s| (!s.leaf, priority(s.kind)));
        out
    }

    /// The other side's bytes of the instruction at `at` (RVA), for the same change.
    fn other_bytes(&self, b: &Side<'_>, start: u64, at: u64, rva: u64) -> Option<Vec<u8>> {
        let pos = start.checked_sub(rva - at)?;
        b.data.get(pos as usize..(pos as usize + 16).min(b.data.len())).map(<[u8]>::to_vec)
    }
}

/// The symbol (or export) nearest at or below `rva` in the same section, with the offset.
fn nearest_symbol(bin: &Binary, index: &Index, rva: u64) -> Option<String> {
    let sec = index.section_pos_by_rva(rva)?;
    let pick = |list: &[(u64, u32)]| {
        let i = list.partition_point(|&(r, _)| r <= rva);
        list[..i].last().copied().filter(|&(r, _)| index.section_pos_by_rva(r) == Some(sec))
    };
    let name = |r: u64, n: &str| if r == rva { n.to_string() } else { format!("{n}+{:#x}", rva - r) };
    let s = pick(&index.symbols_sorted).and_then(|(r, p)| bin.symbols.get(p as usize).map(|s| (r, s.name.clone())));
    let e = pick(&index.exports_sorted)
        .and_then(|(r, p)| bin.exports.get(p as usize).and_then(|e| e.name.clone()).map(|n| (r, n)));
    let best = match (s, e) {
        (Some(a), Some(b)) => Some(if b.0 > a.0 { b } else { a }),
        (a, b) => a.or(b),
    };
    best.map(|(r, n)| name(r, &n))
}

/// The kind, name and detail of a region.
fn describe(what: What, bin: &Binary, index: &Index) -> (&'static str, String, Option<String>) {
    let d = what.describe(bin, index);
    let detail = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match what {
        What::Field(g, f) => {
            let field = bin.headers.get(g as usize).and_then(|h| h.fields.get(f as usize));
            ("header-field", field.map_or_else(|| "?".into(), |f| f.name.clone()), Some(d.structure))
        }
        What::HeaderGroup(_) => ("header", d.structure, None),
        What::SectionHeader(_) => ("section-header", d.detail, None),
        What::SectionBody(_) => ("section-data", d.detail, None),
        What::SegmentHeader(_) => ("program-header", d.detail, None),
        What::Symbol(_) => ("symbol-record", d.detail, None),
        What::ImportDescriptor { .. } => ("import-descriptor", d.detail, None),
        What::IatSlot { delay, .. } => (if delay { "delay-iat-slot" } else { "iat-slot" }, d.detail, None),
        What::ExportSlot(p) => {
            let name = bin.exports.get(p as usize).and_then(|e| e.name.clone()).unwrap_or_else(|| d.detail.clone());
            ("export", name, detail(&d.detail))
        }
        What::BaseRelocBlock(_) => ("base-reloc-block", d.detail, None),
        What::BaseRelocEntry(p) => ("base-reloc-entry", format!("#{p}"), detail(&d.detail)),
        What::BaseRelocSite(p) => ("base-reloc-site", format!("#{p}"), detail(&d.detail)),
        What::Reloc(_) => ("relocation", d.detail, None),
        What::RelocSite(_) => ("relocation-site", d.detail, None),
        What::PseudoEntry(_) => ("pseudo-reloc-item", d.detail, None),
        What::PseudoSite(_) => ("pseudo-reloc-site", d.detail, None),
        What::PseudoList => ("pseudo-reloc-list", d.structure, None),
        What::DataDirectory(_) => ("data-directory", d.detail, None),
        What::DebugEntry(_) => ("debug-entry", d.detail, None),
        What::Rich => ("rich-header", d.structure, None),
        What::Overlay => ("overlay", d.structure, None),
        What::Member(_) => ("archive-member", d.detail, None),
        What::OmfRecord(_) => ("omf-record", d.detail, None),
        What::OmfField(_, _) => ("omf-field", d.detail, Some(d.structure)),
    }
}

/// The change in words, from its innermost structure.
pub fn words(structures: &[Structure], len: u64) -> String {
    let Some(first) = structures.first() else { return format!("{len} bytes (no structure known)") };
    let what = match first.kind {
        "header-field" => format!("header field {} ({})", first.name, first.detail.as_deref().unwrap_or("")),
        "iat-slot" => format!("the IAT slot of {}", first.name),
        "ilt-slot" => format!("the import lookup table entry of {}", first.name),
        "pseudo-reloc-site" => format!("the field pseudo-relocation {} patches", first.name),
        "base-reloc-site" => format!("a field base relocation {} patches", first.name),
        "instruction" => match (&first.before, &first.after) {
            (Some(b), Some(a)) if b != a => format!("the instruction at {}: {b} → {a}", first.name),
            (Some(b), _) => format!("the instruction at {}: {b}", first.name),
            _ => format!("the instruction at {}", first.name),
        },
        "data-ref-site" => format!("the address field of the {} site", first.name),
        k => format!("{} {}", k.replace('-', " "), first.name),
    };
    let within = structures
        .iter()
        .skip(1)
        .find(|s| matches!(s.kind, "symbol" | "section-data"))
        .map(|s| format!(" in {}", s.name));
    let insn = structures.iter().skip(1).find(|s| s.kind == "instruction").and_then(|s| match (&s.before, &s.after) {
        (Some(b), Some(a)) if b != a => Some(format!("; {b} → {a}")),
        // Other bytes, the same target: a field patched to where its target was loaded.
        (Some(b), Some(_)) => Some(format!("; {b} (the same target after)")),
        _ => None,
    });
    format!(
        "{len} byte{} of {what}{}{}",
        if len == 1 { "" } else { "s" },
        within.unwrap_or_default(),
        insn.unwrap_or_default()
    )
}

/// Order of leaves that cover the same bytes: the fix-up that writes them first.
fn priority(kind: &str) -> u8 {
    match kind {
        "pseudo-reloc-site" => 0,
        "iat-slot" | "delay-iat-slot" | "ilt-slot" => 1,
        "base-reloc-site" | "relocation-site" => 2,
        "data-ref-site" => 3,
        "instruction" => 4,
        _ => 5,
    }
}

/// The names the sites of the instruction at RVA `at` give its operands (none without a scan).
fn operand_names(bin: &Binary, index: &Index, refs: Option<&crate::analysis::Refs>, at: u64) -> Vec<OperandName> {
    let (Some(refs), Some(p)) = (refs, index.section_pos_by_rva(at)) else { return Vec::new() };
    Namer { bin, index }.operand_names(&refs.sites_at(p as u32, at))
}

/// The little-endian pointer of `ptr` bytes at `at` in `data` (a memory image: offset = RVA).
fn read_ptr(data: &[u8], at: u64, ptr: usize) -> Option<u64> {
    let start = usize::try_from(at).ok()?;
    let b = data.get(start..start.checked_add(ptr)?)?;
    Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}
