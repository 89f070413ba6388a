//! One index of a loaded [`Binary`], shared by the app, the data-reference scan, the patch engine
//! and the diff: section by index or RVA (binary search over a sorted copy, never a linear scan
//! per row), RVA ↔ file offset, symbol and relocation sites as file offsets, the flattened import
//! list with its IAT slots sorted by address, and symbols sorted by address.
//!
//! Built once per file; nothing here knows about screens or colours.

use std::collections::HashMap;

use crate::model::{Binary, Format, SegmentKind, Span, SymbolKind};

/// One row of the flattened import table: which list, module and entry it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportRow {
    /// Whether the row comes from the delay-load imports.
    pub delay: bool,
    /// Index of the module in its list.
    pub module: u32,
    /// Index of the entry in the module.
    pub entry: u32,
}

/// Derived, read-only indexes of one file.
#[derive(Debug, Default)]
pub struct Index {
    /// `(rva, end, position in bin.sections)` of allocated sections, sorted by RVA.
    by_rva: Vec<(u64, u64, usize)>,
    /// Section index (format numbering) → position in `bin.sections`.
    by_index: HashMap<u32, usize>,
    /// Display label per section position (`name`, or `name#index` when the name repeats).
    section_labels: Vec<String>,
    /// Imports then delay imports, flattened.
    pub imports: Vec<ImportRow>,
    /// Export position by name.
    pub export_by_name: HashMap<String, usize>,
    /// COMDAT row position by section index.
    pub comdat_by_section: HashMap<u32, usize>,
    /// Symbol position by symbol-table index.
    symbol_by_index: HashMap<u32, usize>,
    /// `(rva, import row)` of every IAT slot (ordinary and delay-load), sorted by RVA.
    pub iat_sorted: Vec<(u64, u32)>,
    /// `(rva, symbol position)` of defined, named, non-section symbols (images: value minus the
    /// image base where the format stores addresses), sorted by RVA.
    pub symbols_sorted: Vec<(u64, u32)>,
    /// `(rva, export position)` of exports that are not forwarders, sorted by RVA.
    pub exports_sorted: Vec<(u64, u32)>,
    /// The file bytes each OMF fixup (`relocations[i]`) patches, inside its data record.
    pub omf_sites: Vec<Option<Span>>,
}

/// Width in bytes of a PE base-relocation type (0 for padding and unknown types).
pub fn base_reloc_width(raw_type: u8) -> u64 {
    match raw_type {
        1 | 2 | 4 => 2,
        3 => 4,
        10 => 8,
        _ => 0,
    }
}

/// Normalised kind of a PE base relocation, in the words the object relocations use.
pub fn base_reloc_normalized(raw_type: u8) -> &'static str {
    match raw_type {
        0 => "padding",
        1..=4 | 10 => "absolute",
        _ => "other",
    }
}

impl Index {
    /// Build the index for `bin`.
    pub fn new(bin: &Binary) -> Self {
        let mut by_rva: Vec<(u64, u64, usize)> = bin
            .sections
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_alloc)
            .map(|(i, s)| {
                let size = if s.virtual_size == 0 { s.file_size } else { s.virtual_size };
                (s.rva, s.rva.saturating_add(size), i)
            })
            .collect();
        by_rva.sort_unstable();
        let by_index = bin.sections.iter().enumerate().map(|(i, s)| (s.index, i)).collect();
        let mut name_count: HashMap<&str, u32> = HashMap::new();
        for s in &bin.sections {
            *name_count.entry(s.name.as_str()).or_default() += 1;
        }
        let section_labels = bin
            .sections
            .iter()
            .map(|s| {
                let name = if s.name.is_empty() { "<unnamed>" } else { s.name.as_str() };
                if name_count.get(s.name.as_str()).copied().unwrap_or(0) > 1 || s.name.is_empty() {
                    format!("{name}#{}", s.index)
                } else {
                    name.to_string()
                }
            })
            .collect();
        let mut imports = Vec::new();
        for (delay, list) in [(false, &bin.imports), (true, &bin.delay_imports)] {
            for (m, module) in list.iter().enumerate() {
                for e in 0..module.entries.len() {
                    imports.push(ImportRow { delay, module: m as u32, entry: e as u32 });
                }
            }
        }
        let export_by_name =
            bin.exports.iter().enumerate().filter_map(|(i, e)| e.name.clone().map(|n| (n, i))).collect();
        let comdat_by_section = bin.comdats.iter().enumerate().map(|(i, c)| (c.section, i)).collect();
        let symbol_by_index = bin.symbols.iter().enumerate().map(|(i, s)| (s.index, i)).collect();
        let mut iat_sorted: Vec<(u64, u32)> = imports
            .iter()
            .enumerate()
            .filter_map(|(row, r)| Some((import_entry(bin, *r)?.iat_rva, row as u32)))
            .collect();
        iat_sorted.sort_unstable();
        let mut symbols_sorted = symbol_rvas(bin, &by_index);
        symbols_sorted.sort_unstable();
        let mut exports_sorted: Vec<(u64, u32)> = bin
            .exports
            .iter()
            .enumerate()
            .filter(|(_, e)| e.forwarder.is_none())
            .map(|(i, e)| (e.rva, i as u32))
            .collect();
        exports_sorted.sort_unstable();
        Index {
            symbol_by_index,
            by_rva,
            by_index,
            section_labels,
            imports,
            export_by_name,
            comdat_by_section,
            iat_sorted,
            symbols_sorted,
            exports_sorted,
            omf_sites: super::omf_fixup_sites(bin),
        }
    }

    /// The import entry of flattened row `row`.
    pub fn import_entry<'a>(&self, bin: &'a Binary, row: usize) -> Option<&'a crate::model::ImportEntry> {
        import_entry(bin, *self.imports.get(row)?)
    }

    /// The module of flattened import row `row`.
    pub fn import_module<'a>(&self, bin: &'a Binary, row: usize) -> Option<&'a crate::model::ImportModule> {
        let r = self.imports.get(row)?;
        let list = if r.delay { &bin.delay_imports } else { &bin.imports };
        list.get(r.module as usize)
    }

    /// The IAT slot `(rva, import row)` holding `rva`, for slots `slot_size` bytes wide.
    pub fn iat_slot_at(&self, rva: u64, slot_size: u64) -> Option<(u64, usize)> {
        let i = self.iat_sorted.partition_point(|&(s, _)| s <= rva);
        let &(start, row) = self.iat_sorted.get(i.checked_sub(1)?)?;
        (rva < start.saturating_add(slot_size)).then_some((start, row as usize))
    }

    /// Import row whose IAT slot starts exactly at `rva` (the last listed, if several share it).
    pub fn import_at_slot(&self, rva: u64) -> Option<usize> {
        self.iat_slot_at(rva, 1).map(|(_, row)| row)
    }

    /// Position in `bin.sections` of the allocated section containing `rva`.
    pub fn section_pos_by_rva(&self, rva: u64) -> Option<usize> {
        let i = self.by_rva.partition_point(|&(start, _, _)| start <= rva);
        // Sections may be empty or overlap (objects); look back a few entries.
        self.by_rva[..i].iter().rev().take(4).find(|&&(start, end, _)| start <= rva && rva < end).map(|&(_, _, p)| p)
    }

    /// Position in `bin.symbols` of the symbol with table index `index`.
    pub fn symbol_pos(&self, index: u32) -> Option<usize> {
        self.symbol_by_index.get(&index).copied()
    }

    /// Position in `symbols_sorted` of the first symbol (in RVA order) named `name` or whose
    /// demangled name is `name`.
    pub fn symbol_named(&self, bin: &Binary, name: &str) -> Option<usize> {
        self.symbols_sorted.iter().position(|&(_, p)| {
            bin.symbols.get(p as usize).is_some_and(|s| s.name == name || s.demangled.as_deref() == Some(name))
        })
    }

    /// Position in `bin.sections` of the section with format index `index`.
    pub fn section_pos(&self, index: u32) -> Option<usize> {
        self.by_index.get(&index).copied()
    }

    /// Display label of the section with format index `index`.
    pub fn section_label(&self, index: u32) -> Option<&str> {
        self.section_pos(index).and_then(|p| self.section_labels.get(p)).map(String::as_str)
    }

    /// Display label of the section at position `pos`.
    pub fn section_label_at(&self, pos: usize) -> &str {
        self.section_labels.get(pos).map_or("?", String::as_str)
    }

    /// Label of the allocated section containing `rva`, with the offset into it (`.data+0x10`).
    pub fn rva_place(&self, rva: u64, bin: &Binary) -> Option<String> {
        let p = self.section_pos_by_rva(rva)?;
        let s = bin.sections.get(p)?;
        Some(format!("{}+{:#x}", self.section_label_at(p), rva - s.rva))
    }

    /// File offset of `rva`, through the sorted section list.
    pub fn rva_to_offset(&self, rva: u64, bin: &Binary) -> Option<u64> {
        if bin.sections.is_empty() || is_object(bin) {
            return None;
        }
        let p = self.section_pos_by_rva(rva)?;
        let s = bin.sections.get(p)?;
        let delta = rva - s.rva;
        if delta < s.file_size {
            s.file_offset.checked_add(delta)
        } else {
            None
        }
    }

    /// RVA of file offset `off`: through the sections, the PE headers (mapped 1:1 below the first
    /// section) or an ELF LOAD segment. `None` for objects and unmapped bytes.
    pub fn offset_to_rva(&self, off: u64, bin: &Binary) -> Option<u64> {
        if is_object(bin) {
            return None;
        }
        let in_section = bin.sections.iter().find(|s| {
            s.is_alloc && s.file_size > 0 && s.file_offset <= off && off < s.file_offset.saturating_add(s.file_size)
        });
        if let Some(s) = in_section {
            return Some(s.rva.wrapping_add(off - s.file_offset));
        }
        if bin.format.is_pe() {
            let first = bin.sections.iter().filter(|s| s.file_size > 0).map(|s| s.file_offset).min().unwrap_or(0);
            return (off < first).then_some(off);
        }
        let base = bin.image_base?;
        bin.segments
            .iter()
            .filter(|s| s.kind == SegmentKind::Load)
            .find(|s| s.file_offset <= off && off < s.file_offset.saturating_add(s.file_size))
            .map(|s| s.vaddr.wrapping_sub(base).wrapping_add(off - s.file_offset))
    }

    /// File span of the bytes at `rva` (`len` bytes, clamped to the section's file data).
    pub fn rva_span(&self, rva: u64, len: u64, bin: &Binary) -> Option<Span> {
        let off = self.rva_to_offset(rva, bin)?;
        let p = self.section_pos_by_rva(rva)?;
        let s = bin.sections.get(p)?;
        let avail = s.file_offset.saturating_add(s.file_size).saturating_sub(off);
        Some(Span::new(off, len.clamp(1, avail.max(1))))
    }

    /// File offset of a symbol's value, when it points into section data.
    pub fn symbol_offset(&self, bin: &Binary, sym: &crate::model::Symbol) -> Option<u64> {
        let sec_index = sym.section?;
        let p = self.section_pos(sec_index)?;
        let s = bin.sections.get(p)?;
        if s.file_size == 0 {
            return None;
        }
        if bin.format.is_elf() && !is_object(bin) {
            let rva = sym.value.checked_sub(bin.image_base.unwrap_or(0))?;
            return self.rva_to_offset(rva, bin);
        }
        if sym.value < s.file_size {
            s.file_offset.checked_add(sym.value)
        } else {
            None
        }
    }

    /// File span of the site an object relocation patches.
    pub fn object_reloc_site(&self, bin: &Binary, section: u32, offset: u64, width_bits: u8) -> Option<Span> {
        let s = bin.sections.get(self.section_pos(section)?)?;
        if offset >= s.file_size {
            return None;
        }
        let len = (u64::from(width_bits) / 8).max(1).min(s.file_size - offset);
        Some(Span::new(s.file_offset.checked_add(offset)?, len))
    }
}

/// Whether `bin` is a relocatable object (addresses are section offsets, not RVAs).
pub fn is_object(bin: &Binary) -> bool {
    match bin.format {
        Format::Coff | Format::CoffBigobj | Format::Omf | Format::ImportObject => true,
        Format::Elf32 | Format::Elf64 => bin.image_base.is_none(),
        _ => false,
    }
}

/// The bytes of archive member `m` itself: after its 60-byte `ar` header (and any BSD long name),
/// or, in an OMF library, the module as it stands on its pages.
pub fn member_data_span(bin: &Binary, data: &[u8], m: &crate::model::Member) -> Span {
    if bin.format == Format::OmfLibrary {
        Span::new(m.member_offset, m.member_size)
    } else {
        Span::new(member_data_offset(data, m.member_offset), m.member_size)
    }
}

/// The bytes a member occupies in the archive, header included (for highlighting).
pub fn member_span(bin: &Binary, m: &crate::model::Member) -> Span {
    if bin.format == Format::OmfLibrary {
        Span::new(m.member_offset, m.member_size)
    } else {
        Span::new(m.member_offset, m.member_size.saturating_add(60))
    }
}

/// The member header's bytes (the module's THEADR / LHEADR record, in an OMF library).
pub fn member_header_span(bin: &Binary, data: &[u8], m: &crate::model::Member) -> Span {
    if bin.format == Format::OmfLibrary {
        let at = usize::try_from(m.member_offset).unwrap_or(usize::MAX);
        let len = data.get(at.saturating_add(1)..at.saturating_add(3)).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
        Span::new(m.member_offset, (u64::from(len) + 3).min(m.member_size.max(1)))
    } else {
        Span::new(m.member_offset, 60)
    }
}

/// File offset of an archive member's data (after its 60-byte header and any BSD long name).
pub fn member_data_offset(data: &[u8], member_offset: u64) -> u64 {
    let start = usize::try_from(member_offset).unwrap_or(usize::MAX);
    let name = data.get(start..start.saturating_add(16)).unwrap_or(&[]);
    let extra = std::str::from_utf8(name)
        .ok()
        .and_then(|n| n.strip_prefix("#1/"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    member_offset.saturating_add(60).saturating_add(extra)
}

fn import_entry(bin: &Binary, r: ImportRow) -> Option<&crate::model::ImportEntry> {
    let list = if r.delay { &bin.delay_imports } else { &bin.imports };
    list.get(r.module as usize)?.entries.get(r.entry as usize)
}

/// `(rva, position)` of the symbols that name a place: defined in a section, named, not section or
/// file symbols. COFF/OMF values are section offsets (added to the section's RVA); ELF image values
/// are addresses (the image base subtracted).
fn symbol_rvas(bin: &Binary, by_index: &HashMap<u32, usize>) -> Vec<(u64, u32)> {
    let elf_image = bin.format.is_elf() && !is_object(bin);
    let base = bin.image_base.unwrap_or(0);
    bin.symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.name.is_empty() && !matches!(s.kind, SymbolKind::Section | SymbolKind::File))
        .filter_map(|(i, s)| {
            let sec = bin.sections.get(*by_index.get(&s.section?)?)?;
            let rva = if elf_image { s.value.checked_sub(base)? } else { sec.rva.checked_add(s.value)? };
            Some((rva, i as u32))
        })
        .collect()
}

/// `name`, `#ordinal` or `?` for an import entry.
pub fn import_name(e: &crate::model::ImportEntry) -> String {
    match (&e.name, e.ordinal) {
        (Some(n), _) => n.clone(),
        (None, Some(o)) => format!("#{o}"),
        (None, None) => "?".into(),
    }
}
