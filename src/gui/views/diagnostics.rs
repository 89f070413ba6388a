//! Diagnostics: what the reader found odd or could not read, each linking to its location.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{Diagnostic, Span};

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the diagnostics table.
    enum DiagCol {
        Severity => Column::text("Severity", 70.0, "error: could not be read; warning: unusual or partly unreadable; info: a remark."),
        FileOffset => Column::num("File offset", 80.0, "Where in the file. Click to see the bytes."),
        Rva => Column::num("RVA", 80.0, "Where in the loaded image. Click to go there."),
        Message => Column::text("Message", 500.0, "What was found."),
    }
}

/// The diagnostics list.
pub struct DiagModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

/// Where diagnostic `d` leads, if anywhere.
pub fn target(d: &Diagnostic) -> Option<Target> {
    match (d.location.file_offset, d.location.rva) {
        (Some(off), _) => Some(Target::Bytes(Span::new(off, 1))),
        (None, Some(rva)) => Some(Target::Rva(rva, 1)),
        (None, None) => None,
    }
}

impl TableModel for DiagModel<'_> {
    fn columns(&self) -> &'static [Column] {
        DiagCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.diagnostics.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(d) = self.core.bin.diagnostics.get(row) else { return String::new() };
        let Some(col) = DiagCol::from_index(col) else { return String::new() };
        let hex = |v: Option<u64>| v.map_or_else(String::new, |v| format!("{v:#x}"));
        match col {
            DiagCol::Severity => d.severity.name().to_string(),
            DiagCol::FileOffset => hex(d.location.file_offset),
            DiagCol::Rva => hex(d.location.rva),
            DiagCol::Message => d.message.clone(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(d) = self.core.bin.diagnostics.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = DiagCol::from_index(col) else { return Cell::plain(text) };
        let nav = |target| Action::Navigate { doc: None, target };
        match col {
            DiagCol::Severity => Cell::plain(text).tone(Tone::Severity(d.severity)),
            DiagCol::FileOffset => match d.location.file_offset {
                Some(off) => Cell::link(text, RefKind::Address, nav(Target::Bytes(Span::new(off, 1)))),
                None => Cell::mono(text),
            },
            DiagCol::Rva => match d.location.rva {
                Some(rva) => Cell::link(text, RefKind::Address, nav(Target::Rva(rva, 1))),
                None => Cell::mono(text),
            },
            DiagCol::Message => Cell::plain(text.clone()).tip(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        // The byte the diagnostic points at, so selecting a row shows it in the hex pane.
        let d = self.core.bin.diagnostics.get(row)?;
        match (d.location.file_offset, d.location.rva) {
            (Some(off), _) => Some(Span::new(off, 1)),
            (None, Some(rva)) => self.core.index.rva_span(rva, 1, &self.core.bin),
            (None, None) => None,
        }
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let d = self.core.bin.diagnostics.get(row)?;
        target(d).map(|target| Action::Navigate { doc: None, target })
    }
}

/// Draw the Diagnostics view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Diagnostics",
        "Problems and remarks from reading this file. Double-click an entry (or click its offset) to go to its location.",
    );
    if cx.doc.core.bin.diagnostics.is_empty() {
        crate::gui::table::empty_note(ui, "Nothing to report: every structure the reader looked at was well-formed.");
        return;
    }
    show_table(ui, cx, TableId::Diagnostics, actions);
}
