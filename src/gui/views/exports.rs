//! Exports: ordinal, name, address, forwarder. A name links to an open file that imports it.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::Span;

use super::{intro, show_table, ModelOpts, ViewCtx};

columns! {
    /// Columns of the export table.
    enum ExportCol {
        Ordinal => Column::num("Ordinal", 60.0, "The export's number (ordinal base + position in the address table)."),
        Name => Column::text("Name", 220.0, "Exported name. Click to jump to an open file that imports it."),
        Sites => Column::num("Sites", 60.0, "Data references in this file whose target is the export (its address, or inside it). Click to list them."),
        Rva => Column::num("RVA", 80.0, "Address of the exported function or variable. Click to see its bytes."),
        Va => Column::num("VA", 110.0, "The address at the preferred image base."),
        Section => Column::text("Section", 80.0, "Section holding it: code exports sit in .text, data exports in .data/.bss."),
        Forwarder => Column::text("Forwarder", 160.0, "For forwarded exports: the DLL.Name the loader resolves instead."),
    }
}

/// The export table.
pub struct ExportModel<'a> {
    /// The document.
    pub core: &'a DocCore,
    /// Display options.
    pub opts: ModelOpts,
}

impl TableModel for ExportModel<'_> {
    fn columns(&self) -> &'static [Column] {
        ExportCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.exports.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(e) = self.core.bin.exports.get(row) else { return String::new() };
        let Some(col) = ExportCol::from_index(col) else { return String::new() };
        match col {
            ExportCol::Ordinal => e.ordinal.to_string(),
            ExportCol::Name => match (&e.demangled, &e.name, self.opts.demangle) {
                (Some(d), _, true) => d.clone(),
                (_, Some(n), _) => n.clone(),
                _ => String::new(),
            },
            ExportCol::Sites => self.core.export_uses().get(row).map_or_else(String::new, u32::to_string),
            ExportCol::Rva => format!("{:#x}", e.rva),
            ExportCol::Va => {
                self.core.bin.image_base.map_or_else(String::new, |b| format!("{:#x}", b.wrapping_add(e.rva)))
            }
            ExportCol::Section if e.forwarder.is_none() => self
                .core
                .index
                .rva_place(e.rva, &self.core.bin)
                .and_then(|p| p.split('+').next().map(str::to_string))
                .unwrap_or_default(),
            ExportCol::Section => String::new(),
            ExportCol::Forwarder => e.forwarder.clone().unwrap_or_default(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(e) = self.core.bin.exports.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = ExportCol::from_index(col) else { return Cell::plain(text) };
        match col {
            ExportCol::Name if e.name.is_some() => {
                Cell::link(text, RefKind::Export, Action::FollowExport(row)).tip("Go to an open file that imports this")
            }
            ExportCol::Name => Cell::plain("(by ordinal only)").tone(Tone::Weak),
            ExportCol::Rva if e.forwarder.is_none() => {
                Cell::link(text, RefKind::Address, Action::Navigate { doc: None, target: Target::Rva(e.rva, 1) })
            }
            ExportCol::Section => {
                match self.core.index.section_pos_by_rva(e.rva).and_then(|p| self.core.bin.sections.get(p)) {
                    Some(s) if e.forwarder.is_none() => Cell::link(
                        text,
                        RefKind::Section,
                        Action::Navigate { doc: None, target: Target::Section(s.index) },
                    ),
                    _ => Cell::plain(text),
                }
            }
            ExportCol::Sites if self.core.export_uses().get(row).is_some_and(|&n| n > 0) => {
                Cell::link(text, RefKind::Export, Action::ShowRefs(crate::gui::xrefs::RefsTo::Export(row)))
                    .tip("List them in the References panel")
            }
            ExportCol::Sites => Cell::mono(text).tone(Tone::Weak),
            ExportCol::Forwarder => Cell::mono(text).tone(Tone::Kind(RefKind::Import)),
            ExportCol::Ordinal | ExportCol::Rva | ExportCol::Va => Cell::mono(text),
        }
    }
    fn refs_to(&self, row: usize, _col: usize) -> Option<crate::gui::xrefs::RefsTo> {
        Some(crate::gui::xrefs::RefsTo::Export(row))
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        let e = self.core.bin.exports.get(row)?;
        // The entry's own bytes (its address-table slot); else the first byte it points at.
        if e.span.is_some() {
            return e.span;
        }
        if e.forwarder.is_some() {
            return None;
        }
        self.core.index.rva_span(e.rva, 1, &self.core.bin)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        Some(Action::FollowExport(row))
    }
}

/// Draw the Exports view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Exports",
        "What this module offers to others. Importers find an export by name (or ordinal) and store its address in their IAT. Click a name to find an open file that imports it.",
    );
    if cx.doc.core.bin.exports.is_empty() {
        let why = if cx.doc.core.bin.format.is_elf() {
            "ELF libraries export through their dynamic symbol table; see Symbols (GLOBAL symbols with a section)."
        } else {
            "This file exports nothing."
        };
        crate::gui::table::empty_note(ui, why);
        return;
    }
    show_table(ui, cx, TableId::Exports, actions);
}
