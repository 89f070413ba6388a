//! Sections, segments (ELF program headers) and PE data directories. In an object file a COMDAT
//! section links to its COMDAT leader.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::lookup::is_object;
use crate::gui::table::{Cell, Column, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{Format, Span};

use super::{intro, show_table, ViewCtx};

const IMAGE_COLUMNS: &[Column] = &[
    Column::num("#", 34.0, "Section number (1-based in PE/COFF)."),
    Column::text("Name", 90.0, "Section name. Click to see its bytes."),
    Column::num("RVA", 80.0, "Address relative to the image base once loaded."),
    Column::num("VA", 120.0, "Virtual address: image base + RVA (where it sits in memory at the preferred base)."),
    Column::num("Virtual size", 86.0, "Bytes the section occupies in memory."),
    Column::num("File offset", 80.0, "Where the section's bytes start in the file."),
    Column::num(
        "File size",
        76.0,
        "Bytes stored in the file (rounded up to the file alignment; 0 for uninitialised data).",
    ),
    Column::num("Flags", 90.0, "Raw characteristics / flags."),
    Column::text("Meaning", 300.0, "The flags decoded."),
];

const ELF_COLUMNS: &[Column] = &[
    Column::num("#", 34.0, "Section-header index."),
    Column::text("Name", 130.0, "Section name. Click to see its bytes."),
    Column::text("Type", 90.0, "sh_type: what the section holds."),
    Column::num("RVA", 80.0, "Address relative to the lowest loaded address (0 for sections not loaded)."),
    Column::num("Size", 76.0, "Size in memory."),
    Column::num("File offset", 80.0, "Where the section's bytes start in the file."),
    Column::num("File size", 76.0, "Bytes stored in the file (0 for NOBITS such as .bss)."),
    Column::num("Flags", 70.0, "Raw sh_flags."),
    Column::text("Meaning", 220.0, "The flags decoded."),
];

const OBJECT_COLUMNS: &[Column] = &[
    Column::num("#", 34.0, "Section number (1-based)."),
    Column::text("Name", 90.0, "Section name; many sections may share one (e.g. one .text per inline function)."),
    Column::num("File offset", 80.0, "Where the section's bytes start in the file."),
    Column::num("Size", 70.0, "Bytes of raw data."),
    Column::num("Relocs", 56.0, "Number of relocation records the linker applies to this section."),
    Column::num("Flags", 90.0, "Raw characteristics."),
    Column::text("Meaning", 250.0, "The flags decoded."),
    Column::text("COMDAT", 220.0, "For COMDAT sections: the selection rule, or the leader an associative section follows. Click to see it in the COMDAT tree."),
];

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
}

impl<'a> SectionModel<'a> {
    /// The sections of `core`.
    pub fn new(core: &'a DocCore) -> Self {
        let kind = if core.bin.format.is_elf() {
            Layout::Elf
        } else if is_object(&core.bin) {
            Layout::Object
        } else {
            Layout::Image
        };
        SectionModel { core, kind }
    }

    fn col_name(&self, col: usize) -> &'static str {
        self.columns().get(col).map_or("", |c| c.name)
    }

    fn comdat_text(&self, index: u32) -> (String, Option<u32>) {
        let bin = &self.core.bin;
        let Some(c) = self.core.lookup.comdat_by_section.get(&index).and_then(|&p| bin.comdats.get(p)) else {
            return (String::new(), None);
        };
        match c.associated_section {
            Some(leader) => {
                let label = self.core.lookup.section_label(leader).unwrap_or("?");
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
            Layout::Image => IMAGE_COLUMNS,
            Layout::Elf => ELF_COLUMNS,
            Layout::Object => OBJECT_COLUMNS,
        }
    }
    fn len(&self) -> usize {
        self.core.bin.sections.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let bin = &self.core.bin;
        let Some(s) = bin.sections.get(row) else { return String::new() };
        match self.col_name(col) {
            "#" => s.index.to_string(),
            "Name" => s.name.clone(),
            "Type" => s.kind.clone().unwrap_or_default(),
            "RVA" => format!("{:#x}", s.rva),
            "VA" => bin.image_base.map_or_else(String::new, |b| format!("{:#x}", b.wrapping_add(s.rva))),
            "Virtual size" | "Size" if self.kind != Layout::Object => format!("{:#x}", s.virtual_size),
            "Size" => format!("{:#x}", s.file_size),
            "File offset" => format!("{:#x}", s.file_offset),
            "File size" => format!("{:#x}", s.file_size),
            "Relocs" => s.reloc_count.to_string(),
            "Flags" => format!("{:#x}", s.flags),
            "Meaning" => s.flag_names.iter().map(|f| f.trim_start_matches("IMAGE_SCN_")).collect::<Vec<_>>().join(" "),
            "COMDAT" => self.comdat_text(s.index).0,
            _ => String::new(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(s) = self.core.bin.sections.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let body = Span::new(s.file_offset, s.file_size);
        let to_body = Action::Navigate { doc: None, target: Target::Bytes(body) };
        match self.col_name(col) {
            "Name" if s.file_size > 0 => Cell::link(text, RefKind::Section, to_body),
            "Name" => {
                Cell::mono(text).tone(Tone::Kind(RefKind::Section)).tip("No bytes in the file (uninitialised data).")
            }
            "File offset" if s.file_size > 0 => Cell::link(text, RefKind::Address, to_body),
            "COMDAT" => match self.comdat_text(s.index).1 {
                Some(target) => {
                    Cell::link(text, RefKind::Comdat, Action::Navigate { doc: None, target: Target::Comdat(target) })
                }
                None => Cell::plain(text),
            },
            "Meaning" | "Type" => Cell::plain(text),
            _ => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.sections.get(row).map(|s| s.header_span)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let s = self.core.bin.sections.get(row)?;
        let span = if s.file_size > 0 { Span::new(s.file_offset, s.file_size) } else { s.header_span };
        Some(Action::Navigate { doc: None, target: Target::Bytes(span) })
    }
}

const SEGMENT_COLUMNS: &[Column] = &[
    Column::num("#", 34.0, "Program-header index."),
    Column::text("Type", 110.0, "p_type: LOAD segments are mapped by the loader; others describe parts of them."),
    Column::num("VAddr", 110.0, "Virtual address where the segment is mapped."),
    Column::num("Mem size", 80.0, "Bytes in memory (larger than the file size for .bss)."),
    Column::num("File offset", 80.0, "Where the segment's bytes start in the file. Click to see them."),
    Column::num("File size", 80.0, "Bytes taken from the file."),
    Column::text("Flags", 60.0, "R(ead), W(rite), E(xecute)."),
    Column::num("Align", 70.0, "Alignment."),
];

/// The ELF program headers.
pub struct SegmentModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl TableModel for SegmentModel<'_> {
    fn columns(&self) -> &'static [Column] {
        SEGMENT_COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.segments.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(s) = self.core.bin.segments.get(row) else { return String::new() };
        match col {
            0 => s.index.to_string(),
            1 => s.kind.clone(),
            2 => format!("{:#x}", s.vaddr),
            3 => format!("{:#x}", s.mem_size),
            4 => format!("{:#x}", s.file_offset),
            5 => format!("{:#x}", s.file_size),
            6 => s.flag_names.join(""),
            _ => format!("{:#x}", s.align),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(s) = self.core.bin.segments.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        match col {
            1 => Cell::plain(text).tone(Tone::Kind(RefKind::Section)),
            4 if s.file_size > 0 => Cell::link(
                text,
                RefKind::Address,
                Action::Navigate { doc: None, target: Target::Bytes(Span::new(s.file_offset, s.file_size)) },
            ),
            6 => Cell::mono(text),
            _ => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.segments.get(row).map(|s| s.header_span)
    }
}

const DIR_COLUMNS: &[Column] = &[
    Column::num("#", 34.0, "Directory index (fixed by the PE format)."),
    Column::text("Directory", 150.0, "What the directory holds. Hover for an explanation."),
    Column::num(
        "RVA",
        80.0,
        "Where it is (the security directory holds a file offset instead). Click to see its bytes.",
    ),
    Column::num("Size", 70.0, "Its size in bytes."),
    Column::text("Section", 90.0, "The section that contains it."),
];

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
        DIR_COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.pe.as_ref().map_or(0, |p| p.data_directories.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(d) = self.core.bin.pe.as_ref().and_then(|p| p.data_directories.get(row)) else { return String::new() };
        match col {
            0 => d.index.to_string(),
            1 => d.name.clone(),
            2 => format!("{:#x}", d.rva),
            3 => format!("{:#x}", d.size),
            _ => d.section.clone().unwrap_or_default(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(d) = self.core.bin.pe.as_ref().and_then(|p| p.data_directories.get(row)) else {
            return Cell::plain("");
        };
        let text = self.text(row, col);
        let empty = d.rva == 0 && d.size == 0;
        match col {
            1 => Cell::plain(text)
                .tone(if empty { Tone::Weak } else { Tone::Kind(RefKind::DataDir) })
                .tip(directory_help(&d.name)),
            2 if !empty => {
                let target =
                    if d.index == 4 { Target::Bytes(Span::new(d.rva, d.size)) } else { Target::Rva(d.rva, d.size) };
                Cell::link(text, RefKind::Address, Action::Navigate { doc: None, target })
            }
            4 => {
                let sec = self.core.lookup.section_pos_by_rva(d.rva).and_then(|p| self.core.bin.sections.get(p));
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
        Format::Coff | Format::CoffBigobj => {
            "An object file's sections are pieces the linker will place and merge; they have no addresses yet. COMDAT sections may be dropped or deduplicated at link time."
        }
        f if f.is_elf() => "Sections are the linker's view; segments (program headers) are what the loader maps.",
        _ => "Each section is mapped at its RVA; its bytes come from the file (File offset, File size) and the rest up to Virtual size is zero-filled.",
    };
    intro(ui, "Sections", text);
    let mut choices = vec![(TableId::Sections, "Sections", bin.sections.len())];
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
