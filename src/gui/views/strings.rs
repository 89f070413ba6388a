//! Strings: the printable ASCII and UTF-16LE strings of the sections (as GNU `strings` finds
//! them), each with the data references that point into it. An address links to the bytes, a
//! reference count to the first referencing instruction.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::Span;

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the strings table.
    enum StringCol {
        Rva => Column::num("RVA", 80.0, "Where the string is in memory (images). Click to see its bytes."),
        Offset => Column::num("Offset", 80.0, "Where the string is in the file."),
        Section => Column::text("Section", 80.0, "The section holding it."),
        Encoding => Column::text("Encoding", 70.0, "ascii: one byte per character; utf-16le: two (Windows wide strings)."),
        Refs => Column::num("Refs", 50.0, "Data references whose target lies in the string (a `lea` of a format string, a pointer in a table). Click to see the first in the disassembly."),
        Text => Column::text("Text", 420.0, "The characters (printable ASCII and tab, at least 4)."),
    }
}

/// The strings table.
pub struct StringModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl TableModel for StringModel<'_> {
    fn columns(&self) -> &'static [Column] {
        StringCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.strings().found.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let t = self.core.strings();
        let Some(f) = t.found.get(row) else { return String::new() };
        let Some(col) = StringCol::from_index(col) else { return String::new() };
        match col {
            StringCol::Rva => f.rva(&self.core.bin).map_or_else(String::new, |r| format!("{r:#x}")),
            StringCol::Offset => format!("{:#x}", f.offset),
            StringCol::Section => {
                self.core.bin.sections.get(f.section() as usize).map_or_else(String::new, |s| s.name.clone())
            }
            StringCol::Encoding => f.encoding().name().to_string(),
            StringCol::Refs => t.sites_of(row).len().to_string(),
            StringCol::Text => f.text(&self.core.data).replace('\t', "\\t"),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let t = self.core.strings();
        let Some(f) = t.found.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = StringCol::from_index(col) else { return Cell::plain(text) };
        let nav = |target| Action::Navigate { doc: None, target };
        match col {
            StringCol::Rva => match f.rva(&self.core.bin) {
                Some(r) => Cell::link(text, RefKind::Address, nav(Target::Rva(r, u64::from(f.len))))
                    .tip("Show the string's bytes"),
                None => Cell::mono(text),
            },
            StringCol::Refs => {
                let sites = t.sites_of(row);
                let first = sites.first().and_then(|&i| self.core.refs.sites.get(i as usize));
                let target = first.map(|s| match self.core.refs.insns.row_of(s.site_rva, Some(s.section as usize)) {
                    Some(r) if s.instr_len > 0 => Target::Row(TableId::Disasm, r),
                    _ => Target::Rva(s.site_rva, u64::from(s.width / 8).max(1)),
                });
                let list: Vec<String> = sites
                    .iter()
                    .take(20)
                    .filter_map(|&i| self.core.refs.sites.get(i as usize))
                    .map(|s| format!("{:#x} ({})", s.site_rva, s.mode.name()))
                    .collect();
                match target {
                    Some(target) => Cell::link(text, RefKind::Address, nav(target)).tip(format!(
                        "Referenced from {}{}",
                        list.join(", "),
                        if sites.len() > 20 { ", …" } else { "" }
                    )),
                    None => Cell::mono(text).tone(Tone::Weak),
                }
            }
            StringCol::Encoding | StringCol::Section => Cell::plain(text).tone(Tone::Weak),
            StringCol::Offset => Cell::mono(text),
            StringCol::Text => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.strings().found.get(row).map(|f| Span::new(f.offset, u64::from(f.len)))
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let f = self.core.strings().found.get(row)?;
        Some(Action::Navigate { doc: None, target: Target::Bytes(Span::new(f.offset, u64::from(f.len))) })
    }
}

/// Draw the Strings view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Strings",
        "Printable text in the sections, as GNU strings finds it: runs of at least 4 ASCII characters, and UTF-16LE (Windows wide) strings. Refs counts the data references that point into each string: click it to see the first one's instruction.",
    );
    // Found on a worker thread (a large DLL has a million strings); the table appears when done.
    let Some(found) = cx.doc.core.strings_found() else {
        actions.push(Action::FindStrings);
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Finding strings…");
        });
        return;
    };
    if found.found.is_empty() {
        crate::gui::table::empty_note(ui, "No string of 4 or more printable characters in the sections.");
        return;
    }
    show_table(ui, cx, TableId::Strings, actions);
}
