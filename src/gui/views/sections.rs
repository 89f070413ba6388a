//! Sections, segments (ELF program headers) and PE data directories. In an object file a COMDAT
//! section links to its COMDAT leader.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::lookup::is_object;
use crate::gui::omf;
use crate::gui::table::{columns, Cell, Column, ColumnEnum, ColumnSet, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{Format, OmfComdat, OmfSegment, Span};

use super::{intro, show_table, ViewCtx};

/// A column of the sections table of a PE image, an ELF file or a COFF object (each layout lists
/// the ones it shows, in its order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecCol {
    Index,
    Name,
    Type,
    Rva,
    Va,
    VirtualSize,
    FileOffset,
    FileSize,
    Relocs,
    Flags,
    Meaning,
    Comdat,
}

/// The columns of a PE image's sections.
const IMAGE_COLUMNS: ColumnSet<SecCol> = columns!(@set SecCol;
    Index => Column::num("#", 34.0, "Section number (1-based in PE/COFF)."),
    Name => Column::text("Name", 90.0, "Section name. Click to see its bytes."),
    Rva => Column::num("RVA", 80.0, "Address relative to the image base once loaded."),
    Va => Column::num("VA", 120.0, "Virtual address: image base + RVA (where it sits in memory at the preferred base)."),
    VirtualSize => Column::num("Virtual size", 86.0, "Bytes the section occupies in memory."),
    FileOffset => Column::num("File offset", 80.0, "Where the section's bytes start in the file."),
    FileSize => Column::num("File size", 76.0, "Bytes stored in the file (rounded up to the file alignment; 0 for uninitialised data)."),
    Flags => Column::num("Flags", 90.0, "Raw characteristics / flags."),
    Meaning => Column::text("Meaning", 300.0, "The flags decoded."),
);

/// The columns of ELF sections (Size: the size in memory).
const ELF_COLUMNS: ColumnSet<SecCol> = columns!(@set SecCol;
    Index => Column::num("#", 34.0, "Section-header index."),
    Name => Column::text("Name", 130.0, "Section name. Click to see its bytes."),
    Type => Column::text("Type", 90.0, "sh_type: what the section holds."),
    Rva => Column::num("RVA", 80.0, "Address relative to the lowest loaded address (0 for sections not loaded)."),
    VirtualSize => Column::num("Size", 76.0, "Size in memory."),
    FileOffset => Column::num("File offset", 80.0, "Where the section's bytes start in the file."),
    FileSize => Column::num("File size", 76.0, "Bytes stored in the file (0 for NOBITS such as .bss)."),
    Flags => Column::num("Flags", 70.0, "Raw sh_flags."),
    Meaning => Column::text("Meaning", 220.0, "The flags decoded."),
);

/// The columns of a COFF object's sections (Size: the raw data in the file).
const OBJECT_COLUMNS: ColumnSet<SecCol> = columns!(@set SecCol;
    Index => Column::num("#", 34.0, "Section number (1-based)."),
    Name => Column::text("Name", 90.0, "Section name; many sections may share one (e.g. one .text per inline function)."),
    FileOffset => Column::num("File offset", 80.0, "Where the section's bytes start in the file."),
    FileSize => Column::num("Size", 70.0, "Bytes of raw data."),
    Relocs => Column::num("Relocs", 56.0, "Number of relocation records the linker applies to this section."),
    Flags => Column::num("Flags", 90.0, "Raw characteristics."),
    Meaning => Column::text("Meaning", 250.0, "The flags decoded."),
    Comdat => Column::text("COMDAT", 220.0, "For COMDAT sections: the selection rule, or the leader an associative section follows. Click to see it in the COMDAT tree."),
);

/// The sections table.
pub struct SectionModel<'a> {
    core: &'a DocCore,
    kind: Layout,
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Image,
    Elf,
    Object,
    Omf,
}

columns! {
    /// Columns of the OMF segment and COMDAT table.
    enum OmfCol {
        Index => Column::num("#", 34.0, "SEGDEF index (1-based); COMDATs are numbered after the segments."),
        Kind => Column::text("Kind", 60.0, "SEGDEF: a segment definition. COMDAT: a COMDAT record's data. VIRDEF: a Borland virtual segment."),
        Name => Column::text("Name", 96.0, "Segment or COMDAT name. Click to show the record that defines it."),
        Class => Column::text("Class", 70.0, "Class name: the linker puts segments of one class together (CODE, DATA, BSS, STACK, …)."),
        Group => Column::text("Group", 70.0, "The GRPDEF that lists the segment (DGROUP, FLAT): its segments share one frame. Click to see the group."),
        Align => Column::text("Align", 76.0, "Alignment from the ACBP byte (A): absolute, byte, word, paragraph (16), page (256), dword, 4K page. COMDATs: their own or the SEGDEF's."),
        Combine => Column::text("Combine", 68.0, "Combine type from the ACBP byte (C): private segments stay apart; public and stack ones of the same name are concatenated; common ones overlap."),
        Use => Column::text("Use", 52.0, "P bit of the ACBP byte: USE32 segments have 32-bit offsets, USE16 ones 16-bit. COMDATs: the allocation when it implies one."),
        Length => Column::num("Length", 70.0, "Segment length (the B bit means exactly 64 KiB or 4 GiB), or the bytes a COMDAT's records hold."),
        Data => Column::text("Data", 130.0, "The LEDATA / LIDATA / COMDAT records that put bytes here. Click to show the first."),
        Fixups => Column::num("Fixups", 52.0, "Number of fixups that patch this segment's bytes."),
        Acbp => Column::num("ACBP", 52.0, "The raw SEGDEF attribute byte (A:3 C:3 B:1 P:1), or a COMDAT's attributes byte (selection:4 allocation:4)."),
        Notes => Column::text("Notes", 200.0, "Absolute segments: their frame. COMDATs: selection, allocation (click to see it in the COMDAT view)."),
    }
}

impl<'a> SectionModel<'a> {
    /// The sections of `core`.
    pub fn new(core: &'a DocCore) -> Self {
        let kind = if core.bin.format.is_elf() {
            Layout::Elf
        } else if core.bin.omf.is_some() {
            Layout::Omf
        } else if is_object(&core.bin) {
            Layout::Object
        } else {
            Layout::Image
        };
        SectionModel { core, kind }
    }

    /// The columns of a PE image, an ELF file or a COFF object.
    fn set(&self) -> &'static ColumnSet<SecCol> {
        match self.kind {
            Layout::Elf => &ELF_COLUMNS,
            Layout::Object => &OBJECT_COLUMNS,
            Layout::Image | Layout::Omf => &IMAGE_COLUMNS,
        }
    }

    fn comdat_text(&self, index: u32) -> (String, Option<u32>) {
        let bin = &self.core.bin;
        let Some(c) = self.core.index.comdat_by_section.get(&index).and_then(|&p| bin.comdats.get(p)) else {
            return (String::new(), None);
        };
        match c.associated_section {
            Some(leader) => {
                let label = self.core.index.section_label(leader).unwrap_or("?");
                (format!("associative → {label} (#{leader})"), Some(leader))
            }
            None => {
                let sym = c.symbol.as_deref().unwrap_or("");
                (format!("{} {sym}", c.selection_name), Some(index))
            }
        }
    }
}

impl TableModel for SectionModel<'_> {
    fn columns(&self) -> &'static [Column] {
        match self.kind {
            Layout::Omf => OmfCol::COLUMNS,
            _ => self.set().columns,
        }
    }
    fn len(&self) -> usize {
        self.core.bin.sections.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let bin = &self.core.bin;
        let Some(s) = bin.sections.get(row) else { return String::new() };
        if self.kind == Layout::Omf {
            return self.omf_text(row, col);
        }
        let Some(col) = self.set().get(col) else { return String::new() };
        match col {
            SecCol::Index => s.index.to_string(),
            SecCol::Name => s.name.clone(),
            SecCol::Type => s.kind.map(|k| k.to_string()).unwrap_or_default(),
            SecCol::Rva => format!("{:#x}", s.rva),
            SecCol::Va => bin.image_base.map_or_else(String::new, |b| format!("{:#x}", b.wrapping_add(s.rva))),
            SecCol::VirtualSize => format!("{:#x}", s.virtual_size),
            SecCol::FileOffset => format!("{:#x}", s.file_offset),
            SecCol::FileSize => format!("{:#x}", s.file_size),
            SecCol::Relocs => s.reloc_count.to_string(),
            SecCol::Flags => format!("{:#x}", s.flags),
            SecCol::Meaning => {
                s.flag_names.iter().map(|f| f.trim_start_matches("IMAGE_SCN_")).collect::<Vec<_>>().join(" ")
            }
            SecCol::Comdat => self.comdat_text(s.index).0,
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(s) = self.core.bin.sections.get(row) else { return Cell::plain("") };
        if self.kind == Layout::Omf {
            return self.omf_cell(row, col);
        }
        let text = self.text(row, col);
        let Some(col) = self.set().get(col) else { return Cell::plain(text) };
        let body = Span::new(s.file_offset, s.file_size);
        let to_body = Action::Navigate { doc: None, target: Target::Bytes(body) };
        match col {
            SecCol::Name if s.file_size > 0 => Cell::link(text, RefKind::Section, to_body),
            SecCol::Name => {
                Cell::mono(text).tone(Tone::Kind(RefKind::Section)).tip("No bytes in the file (uninitialised data).")
            }
            SecCol::FileOffset if s.file_size > 0 => Cell::link(text, RefKind::Address, to_body),
            SecCol::Comdat => match self.comdat_text(s.index).1 {
                Some(target) => {
                    Cell::link(text, RefKind::Comdat, Action::Navigate { doc: None, target: Target::Comdat(target) })
                }
                None => Cell::plain(text),
            },
            SecCol::Meaning | SecCol::Type => Cell::plain(text),
            _ => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.sections.get(row).map(|s| s.header_span)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let s = self.core.bin.sections.get(row)?;
        if self.kind == Layout::Omf {
            return self
                .omf_record(s.index)
                .map(|r| Action::Navigate { doc: None, target: Target::Row(TableId::OmfRecords, r) });
        }
        let span = if s.file_size > 0 { Span::new(s.file_offset, s.file_size) } else { s.header_span };
        Some(Action::Navigate { doc: None, target: Target::Bytes(span) })
    }
}

/// An OMF section: a SEGDEF or a COMDAT (Borland virtual segments included).
enum OmfSec<'a> {
    Segment(&'a OmfSegment),
    Comdat(&'a OmfComdat),
}

impl SectionModel<'_> {
    fn omf_sec(&self, index: u32) -> Option<OmfSec<'_>> {
        let bin = &self.core.bin;
        match omf::comdat_of(bin, &self.core.lookup.omf, index) {
            Some(c) => Some(OmfSec::Comdat(c)),
            None => omf::segment_of(bin, index).map(OmfSec::Segment),
        }
    }

    /// The record that defines section `index` (SEGDEF, or the first COMDAT record).
    fn omf_record(&self, index: u32) -> Option<usize> {
        match self.omf_sec(index)? {
            OmfSec::Segment(s) => Some(s.record),
            OmfSec::Comdat(c) => c.records.first().copied().or_else(|| c.data.first().map(|d| d.record)),
        }
    }

    fn omf_text(&self, row: usize, col: usize) -> String {
        let bin = &self.core.bin;
        let Some(s) = bin.sections.get(row) else { return String::new() };
        let sec = self.omf_sec(s.index);
        let data = match &sec {
            Some(OmfSec::Segment(g)) => g.data.as_slice(),
            Some(OmfSec::Comdat(c)) => c.data.as_slice(),
            None => &[],
        };
        let Some(col) = OmfCol::from_index(col) else { return String::new() };
        match (col, &sec) {
            (OmfCol::Index, _) => s.index.to_string(),
            (OmfCol::Kind, _) => s.kind.map(|k| k.to_string()).unwrap_or_default(),
            (OmfCol::Name, _) => s.name.clone(),
            (OmfCol::Class, Some(OmfSec::Segment(g))) => g.class.clone(),
            (OmfCol::Group, Some(OmfSec::Segment(g))) => {
                g.group.and_then(|i| omf::group_name(bin, i)).map(str::to_string).unwrap_or_default()
            }
            (OmfCol::Group, Some(OmfSec::Comdat(c))) => {
                c.base_group.and_then(|i| omf::group_name(bin, i)).map(str::to_string).unwrap_or_default()
            }
            (OmfCol::Align, Some(OmfSec::Segment(g))) => g.alignment.clone(),
            (OmfCol::Align, Some(OmfSec::Comdat(c))) => c.align.clone(),
            (OmfCol::Combine, Some(OmfSec::Segment(g))) => g.combine.clone(),
            (OmfCol::Use, Some(OmfSec::Segment(g))) => if g.use32 { "USE32" } else { "USE16" }.into(),
            (OmfCol::Use, Some(OmfSec::Comdat(c))) => match c.allocation.as_str() {
                "code32" | "data32" => "USE32".into(),
                "far-code" | "far-data" => "USE16".into(),
                _ => String::new(),
            },
            (OmfCol::Length, _) => format!("{:#x}", s.virtual_size),
            (OmfCol::Data, _) => match data {
                [] => "none".into(),
                [d] => self.record_label(d.record),
                [d, ..] => format!("{} +{} more", self.record_label(d.record), data.len() - 1),
            },
            (OmfCol::Fixups, _) => s.reloc_count.to_string(),
            (OmfCol::Acbp, Some(OmfSec::Segment(g))) => format!("{:#04x}", g.acbp),
            (OmfCol::Acbp, Some(OmfSec::Comdat(c))) => format!("{:#04x}", c.attributes),
            (OmfCol::Notes, Some(OmfSec::Segment(g))) => {
                let mut notes = Vec::new();
                if let Some(f) = g.frame {
                    notes.push(format!("absolute at {f:04x}:{:04x}", g.frame_offset.unwrap_or(0)));
                }
                if g.big {
                    notes.push(if g.use32 { "B: exactly 4 GiB" } else { "B: exactly 64 KiB" }.to_string());
                }
                if !g.overlay.is_empty() {
                    notes.push(format!("overlay {}", g.overlay));
                }
                notes.join("; ")
            }
            (OmfCol::Notes, Some(OmfSec::Comdat(c))) => {
                let mut n = format!("{}, {}", c.selection, c.allocation);
                if c.local {
                    n.push_str(", local");
                }
                n
            }
            _ => String::new(),
        }
    }

    fn record_label(&self, r: usize) -> String {
        self.core.bin.omf_records.get(r).map_or_else(|| format!("#{r}"), |x| format!("#{r} {}", x.type_name))
    }

    fn omf_cell(&self, row: usize, col: usize) -> Cell {
        let bin = &self.core.bin;
        let Some(s) = bin.sections.get(row) else { return Cell::plain("") };
        let text = self.omf_text(row, col);
        let sec = self.omf_sec(s.index);
        let to_row = |r: usize| Action::Navigate { doc: None, target: Target::Row(TableId::OmfRecords, r) };
        let Some(col) = OmfCol::from_index(col) else { return Cell::plain(text) };
        match (col, &sec) {
            (OmfCol::Kind, _) => Cell::plain(text).tone(Tone::Weak),
            (OmfCol::Name, _) => match self.omf_record(s.index) {
                Some(r) => Cell::link(text, RefKind::Section, to_row(r)).tip("Show the record that defines it"),
                None => Cell::mono(text).tone(Tone::Kind(RefKind::Section)),
            },
            (OmfCol::Group, Some(OmfSec::Segment(g))) => match g.group {
                Some(i) if !text.is_empty() => Cell::link(
                    text,
                    RefKind::Section,
                    Action::Navigate {
                        doc: None,
                        target: Target::Row(TableId::OmfGroups, (i as usize).saturating_sub(1)),
                    },
                ),
                _ => Cell::plain(text),
            },
            (OmfCol::Data, Some(OmfSec::Segment(OmfSegment { data, .. }) | OmfSec::Comdat(OmfComdat { data, .. }))) => {
                match data.first() {
                    Some(d) => {
                        let all = data.iter().map(|d| self.record_label(d.record)).collect::<Vec<_>>().join(", ");
                        Cell::link(text, RefKind::Address, to_row(d.record)).tip(format!("Data records: {all}"))
                    }
                    None => Cell::plain(text).tone(Tone::Weak).tip("No data record writes here (uninitialised)."),
                }
            }
            (OmfCol::Acbp, Some(OmfSec::Segment(g))) => Cell::mono(text).tip(format!(
                "A={} ({}), C={} ({}), B={}, P={} ({})",
                g.acbp >> 5,
                g.alignment,
                (g.acbp >> 2) & 7,
                g.combine,
                (g.acbp >> 1) & 1,
                g.acbp & 1,
                if g.use32 { "USE32" } else { "USE16" }
            )),
            (OmfCol::Notes, Some(OmfSec::Comdat(_))) => {
                Cell::link(text, RefKind::Comdat, Action::Navigate { doc: None, target: Target::Comdat(s.index) })
                    .tip("Selection and allocation. Click to see the COMDAT in the COMDAT view.")
            }
            (OmfCol::Class | OmfCol::Align | OmfCol::Combine | OmfCol::Use | OmfCol::Notes, _) => Cell::plain(text),
            _ => Cell::mono(text),
        }
    }
}

columns! {
    /// Columns of the OMF group table.
    enum GroupCol {
        Index => Column::num("#", 34.0, "GRPDEF index (1-based); fixups name a group as a frame or target by it."),
        Name => Column::text("Name", 110.0, "Group name (DGROUP, FLAT, …). Click to show the GRPDEF record."),
        Segments => Column::num("Segments", 70.0, "Number of segments in the group."),
        Members => Column::text("Members", 420.0, "The segments the linker keeps within the group's frame, in GRPDEF order. An empty FLAT group stands for the whole 32-bit address space."),
    }
}

/// OMF groups (GRPDEF records).
pub struct OmfGroupModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl OmfGroupModel<'_> {
    fn group(&self, row: usize) -> Option<&crate::model::OmfGroup> {
        self.core.bin.omf.as_ref()?.groups.get(row)
    }
}

impl TableModel for OmfGroupModel<'_> {
    fn columns(&self) -> &'static [Column] {
        GroupCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.omf.as_ref().map_or(0, |o| o.groups.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(g) = self.group(row) else { return String::new() };
        let Some(col) = GroupCol::from_index(col) else { return String::new() };
        match col {
            GroupCol::Index => g.index.to_string(),
            GroupCol::Name => g.name.clone(),
            GroupCol::Segments => g.segments.len().to_string(),
            GroupCol::Members => g
                .segments
                .iter()
                .map(|&i| omf::segment_of(&self.core.bin, i).map_or_else(|| format!("#{i}"), |s| s.name.clone()))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(g) = self.group(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = GroupCol::from_index(col) else { return Cell::plain(text) };
        match col {
            GroupCol::Name => Cell::link(
                text,
                RefKind::Section,
                Action::Navigate { doc: None, target: Target::Row(TableId::OmfRecords, g.record) },
            ),
            GroupCol::Members if g.segments.is_empty() => Cell::plain("(no segments)").tone(Tone::Weak),
            GroupCol::Members | GroupCol::Index | GroupCol::Segments => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        omf::record_span(&self.core.bin, self.group(row)?.record)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let g = self.group(row)?;
        Some(Action::Navigate { doc: None, target: Target::Row(TableId::OmfRecords, g.record) })
    }
}

columns! {
    /// Columns of the ELF program-header table.
    enum SegmentCol {
        Index => Column::num("#", 34.0, "Program-header index."),
        Type => Column::text("Type", 110.0, "p_type: LOAD segments are mapped by the loader; others describe parts of them."),
        VAddr => Column::num("VAddr", 110.0, "Virtual address where the segment is mapped."),
        MemSize => Column::num("Mem size", 80.0, "Bytes in memory (larger than the file size for .bss)."),
        FileOffset => Column::num("File offset", 80.0, "Where the segment's bytes start in the file. Click to see them."),
        FileSize => Column::num("File size", 80.0, "Bytes taken from the file."),
        Flags => Column::text("Flags", 60.0, "R(ead), W(rite), E(xecute)."),
        Align => Column::num("Align", 70.0, "Alignment."),
    }
}

/// The ELF program headers.
pub struct SegmentModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl TableModel for SegmentModel<'_> {
    fn columns(&self) -> &'static [Column] {
        SegmentCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.segments.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(s) = self.core.bin.segments.get(row) else { return String::new() };
        let Some(col) = SegmentCol::from_index(col) else { return String::new() };
        match col {
            SegmentCol::Index => s.index.to_string(),
            SegmentCol::Type => s.kind.to_string(),
            SegmentCol::VAddr => format!("{:#x}", s.vaddr),
            SegmentCol::MemSize => format!("{:#x}", s.mem_size),
            SegmentCol::FileOffset => format!("{:#x}", s.file_offset),
            SegmentCol::FileSize => format!("{:#x}", s.file_size),
            SegmentCol::Flags => s.flag_names.join(""),
            SegmentCol::Align => format!("{:#x}", s.align),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(s) = self.core.bin.segments.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = SegmentCol::from_index(col) else { return Cell::plain(text) };
        match col {
            SegmentCol::Type => Cell::plain(text).tone(Tone::Kind(RefKind::Section)),
            SegmentCol::FileOffset if s.file_size > 0 => Cell::link(
                text,
                RefKind::Address,
                Action::Navigate { doc: None, target: Target::Bytes(Span::new(s.file_offset, s.file_size)) },
            ),
            _ => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.segments.get(row).map(|s| s.header_span)
    }
}

columns! {
    /// Columns of the data-directory table.
    enum DirCol {
        Index => Column::num("#", 34.0, "Directory index (fixed by the PE format)."),
        Directory => Column::text("Directory", 150.0, "What the directory holds. Hover for an explanation."),
        Rva => Column::num("RVA", 80.0, "Where it is (the security directory holds a file offset instead). Click to see its bytes."),
        Size => Column::num("Size", 70.0, "Its size in bytes."),
        Section => Column::text("Section", 90.0, "The section that contains it."),
    }
}

/// The PE data directories.
pub struct DataDirModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

/// A plain-words explanation of each data directory.
pub fn directory_help(name: &str) -> &'static str {
    match name {
        "EXPORT" => "The functions and data this image offers to other modules, by name and ordinal.",
        "IMPORT" => "One descriptor per DLL this image needs, with the names it imports and the IAT the loader fills.",
        "RESOURCE" => "Icons, dialogs, version information and other resources, as a tree.",
        "EXCEPTION" => "Unwind information (.pdata) used to walk the stack when an exception is thrown (x64, ARM).",
        "SECURITY" => "Authenticode signature. Its 'RVA' is a file offset; it is not mapped into memory.",
        "BASERELOC" => {
            "Where absolute addresses sit in the image, so the loader can fix them if it loads the image elsewhere."
        }
        "DEBUG" => "Debug directory: where the debug information (e.g. the PDB path) is.",
        "ARCHITECTURE" => "Reserved; must be zero.",
        "GLOBALPTR" => "Value of the global pointer register (IA-64 only).",
        "TLS" => "Thread-local storage: the template for each thread's copy and the TLS callbacks.",
        "LOAD_CONFIG" => "Load configuration: security cookie, Control Flow Guard tables, SEH handlers.",
        "BOUND_IMPORT" => "Pre-bound import addresses (an old startup-time optimisation).",
        "IAT" => "The import address table: the slots the loader overwrites with the imported addresses.",
        "DELAY_IMPORT" => "Imports resolved on first call instead of at load time.",
        "CLR_RUNTIME_HEADER" => ".NET metadata header (present in managed images).",
        _ => "Reserved.",
    }
}

impl TableModel for DataDirModel<'_> {
    fn columns(&self) -> &'static [Column] {
        DirCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.pe.as_ref().map_or(0, |p| p.data_directories.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(d) = self.core.bin.pe.as_ref().and_then(|p| p.data_directories.get(row)) else { return String::new() };
        let Some(col) = DirCol::from_index(col) else { return String::new() };
        match col {
            DirCol::Index => d.index.to_string(),
            DirCol::Directory => d.name.clone(),
            DirCol::Rva => format!("{:#x}", d.rva),
            DirCol::Size => format!("{:#x}", d.size),
            DirCol::Section => d.section.clone().unwrap_or_default(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(d) = self.core.bin.pe.as_ref().and_then(|p| p.data_directories.get(row)) else {
            return Cell::plain("");
        };
        let text = self.text(row, col);
        let empty = d.rva == 0 && d.size == 0;
        let Some(col) = DirCol::from_index(col) else { return Cell::plain(text) };
        match col {
            DirCol::Directory => Cell::plain(text)
                .tone(if empty { Tone::Weak } else { Tone::Kind(RefKind::DataDir) })
                .tip(directory_help(&d.name)),
            DirCol::Rva if !empty => {
                let target =
                    if d.index == 4 { Target::Bytes(Span::new(d.rva, d.size)) } else { Target::Rva(d.rva, d.size) };
                Cell::link(text, RefKind::Address, Action::Navigate { doc: None, target })
            }
            DirCol::Section => {
                let sec = self.core.index.section_pos_by_rva(d.rva).and_then(|p| self.core.bin.sections.get(p));
                match sec {
                    Some(s) if !empty => Cell::link(
                        text,
                        RefKind::Section,
                        Action::Navigate { doc: None, target: Target::Section(s.index) },
                    ),
                    _ => Cell::plain(text),
                }
            }
            _ => Cell::mono(text).tone(if empty { Tone::Weak } else { Tone::Plain }),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.pe.as_ref().and_then(|p| p.data_directories.get(row)).map(|d| d.span)
    }
}

/// Draw the Sections view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let bin = &cx.doc.core.bin;
    let text = match bin.format {
        Format::Omf | Format::OmfLibrary => {
            "An OMF module's segments (SEGDEF) have a name, a class and the ACBP byte: alignment, combine type, big, USE16/USE32. The linker combines segments of the same name and class across modules and keeps a group's segments within one frame. Their bytes come from LEDATA / LIDATA records scattered through the module; COMDATs follow the segments."
        }
        Format::Coff | Format::CoffBigobj => {
            "An object file's sections are pieces the linker will place and merge; they have no addresses yet. COMDAT sections may be dropped or deduplicated at link time."
        }
        f if f.is_elf() => "Sections are the linker's view; segments (program headers) are what the loader maps.",
        _ => "Each section is mapped at its RVA; its bytes come from the file (File offset, File size) and the rest up to Virtual size is zero-filled.",
    };
    intro(ui, "Sections", text);
    let omf_groups = bin.omf.as_ref().map_or(0, |o| o.groups.len());
    let first = if bin.omf.is_some() { "Segments and COMDATs" } else { "Sections" };
    let mut choices = vec![(TableId::Sections, first, bin.sections.len())];
    if bin.format == Format::Omf || omf_groups > 0 {
        choices.push((TableId::OmfGroups, "Groups", omf_groups));
    }
    if !bin.segments.is_empty() {
        choices.push((TableId::Segments, "Segments", bin.segments.len()));
    }
    if let Some(pe) = &bin.pe {
        choices.push((TableId::DataDirs, "Data directories", pe.data_directories.len()));
    }
    if choices.len() > 1 {
        ui.horizontal(|ui| {
            for (t, label, n) in &choices {
                if ui.selectable_label(cx.doc.sections_table == *t, format!("{label} ({n})")).clicked() {
                    actions.push(Action::SetSectionsTable(*t));
                }
            }
        });
        ui.add_space(2.0);
    }
    show_table(ui, cx, cx.doc.sections_table, actions);
}
