//! Symbols: names (demangled on request), values, sections. An undefined symbol links to its
//! definition in another open file.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{Span, Symbol};

use super::{intro, show_table, ModelOpts, ViewCtx};

columns! {
    /// Columns of the symbol table.
    enum SymCol {
        Index => Column::num("#", 50.0, "Index in the symbol table (COFF counts auxiliary records)."),
        Name => Column::text("Name", 300.0, "Symbol name (demangled when View → Demangle is on; hover for the raw name). Undefined symbols link to their definition in another open file."),
        Value => Column::num("Value", 110.0, "COFF: offset in its section; ELF: the address. Click to see the bytes."),
        Section => Column::text("Section", 90.0, "Section that defines it, or UNDEFINED / ABSOLUTE / COMMON / DEBUG."),
        Kind => Column::text("Kind", 70.0, "What it names: function, data, section, file, …"),
        Binding => Column::text("Binding", 80.0, "Visibility to the linker: EXTERNAL/GLOBAL symbols are seen by other files; STATIC/LOCAL ones are not."),
        Size => Column::num("Size", 60.0, "Size, when the format records one."),
        Aux => Column::text("Aux", 260.0, "Auxiliary records (COFF), decoded."),
    }
}

/// The symbol table.
pub struct SymbolModel<'a> {
    /// The document.
    pub core: &'a DocCore,
    /// Display options.
    pub opts: ModelOpts,
}

impl SymbolModel<'_> {
    fn display_name<'s>(&self, s: &'s Symbol) -> &'s str {
        match (&s.demangled, self.opts.demangle) {
            (Some(d), true) => d.as_str(),
            _ => s.name.as_str(),
        }
    }
}

impl TableModel for SymbolModel<'_> {
    fn columns(&self) -> &'static [Column] {
        SymCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.symbols.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(s) = self.core.bin.symbols.get(row) else { return String::new() };
        let Some(col) = SymCol::from_index(col) else { return String::new() };
        match col {
            SymCol::Index => s.index.to_string(),
            SymCol::Name => self.display_name(s).to_string(),
            SymCol::Value => format!("{:#x}", s.value),
            SymCol::Section => match (s.section, &s.section_kind) {
                (Some(i), _) => self.core.index.section_label(i).map_or_else(|| i.to_string(), str::to_string),
                (None, Some(k)) => k.to_string(),
                (None, None) => String::new(),
            },
            SymCol::Kind => s.kind.to_string(),
            SymCol::Binding => s.binding.to_string(),
            SymCol::Size => s.size.map_or_else(String::new, |v| v.to_string()),
            SymCol::Aux => s.aux.join("; "),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(s) = self.core.bin.symbols.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = SymCol::from_index(col) else { return Cell::plain(text) };
        match col {
            SymCol::Name => {
                let undefined = s.section.is_none() && s.section_kind == Some(crate::model::SpecialSection::Undefined);
                let cell = if undefined && !s.name.is_empty() {
                    Cell::link(text, RefKind::Symbol, Action::FollowSymbol(s.name.clone()))
                } else {
                    Cell::mono(text).tone(Tone::Kind(RefKind::Symbol))
                };
                let tip = if undefined {
                    format!("{}\nUndefined here: click to find its definition in another open file.", s.name)
                } else {
                    s.name.clone()
                };
                cell.tip(tip)
            }
            SymCol::Value => match self.core.index.symbol_offset(&self.core.bin, s) {
                Some(off) => {
                    let len = s.size.filter(|&n| n > 0 && n <= 4096).unwrap_or(1);
                    Cell::link(
                        text,
                        RefKind::Address,
                        Action::Navigate { doc: None, target: Target::Bytes(Span::new(off, len)) },
                    )
                }
                None => Cell::mono(text),
            },
            SymCol::Section => match s.section {
                Some(i) => {
                    Cell::link(text, RefKind::Section, Action::Navigate { doc: None, target: Target::Section(i) })
                }
                None => Cell::plain(text).tone(Tone::Weak),
            },
            SymCol::Size | SymCol::Index => Cell::mono(text),
            SymCol::Aux => Cell::plain(text).tone(Tone::Weak),
            SymCol::Kind | SymCol::Binding => Cell::plain(text),
        }
    }
    fn refs_to(&self, row: usize, _col: usize) -> Option<crate::gui::xrefs::RefsTo> {
        Some(crate::gui::xrefs::RefsTo::Symbol(row))
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.symbols.get(row).map(|s| s.span)
    }
}

/// Draw the Symbols view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Symbols",
        "Names the linker (or the dynamic loader) uses to connect references to definitions. Selecting a row highlights its record in the hex pane.",
    );
    if cx.doc.core.bin.symbols.is_empty() {
        super::super::table::empty_note(
            ui,
            "This file has no symbol table (images are often stripped; the exports and imports still name things).",
        );
        return;
    }
    show_table(ui, cx, TableId::Symbols, actions);
}
