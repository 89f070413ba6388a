//! Headers: every field of every header with its offset, value and raw bytes; hovering a field
//! explains it in plain words (the model's `help` text).

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{Field, Span};

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the header-field table.
    enum HeaderCol {
        Structure => Column::text("Structure", 150.0, "The header this field belongs to."),
        Offset => Column::num("Offset", 70.0, "File offset of the field. Click to see its bytes."),
        Field => Column::text("Field", 210.0, "Field name as the specification spells it. Hover for an explanation."),
        Value => Column::text("Value", 330.0, "The value, decoded where it has a meaning."),
        Bytes => Column::text("Bytes", 200.0, "The raw bytes of the field, in file order (little-endian numbers appear reversed)."),
    }
}

/// Flattened header fields.
pub struct HeaderModel<'a> {
    core: &'a DocCore,
    rows: Vec<(usize, usize)>,
}

impl<'a> HeaderModel<'a> {
    /// Flatten the header groups of `core`.
    pub fn new(core: &'a DocCore) -> Self {
        let rows =
            core.bin.headers.iter().enumerate().flat_map(|(g, h)| (0..h.fields.len()).map(move |f| (g, f))).collect();
        HeaderModel { core, rows }
    }

    fn field(&self, row: usize) -> Option<(&'a str, &'a Field)> {
        let &(g, f) = self.rows.get(row)?;
        let group = self.core.bin.headers.get(g)?;
        Some((group.name.as_str(), group.fields.get(f)?))
    }
}

/// Where a field's value points, for fields whose value is an address: RVAs (entry point, data
/// directories, section addresses), file offsets (`e_lfanew`, `PointerTo…`, ELF offsets; the
/// security directory, which holds a file offset) and ELF virtual addresses. None for 0.
pub fn field_target(core: &DocCore, f: &Field) -> Option<Target> {
    let v = f.value.filter(|&v| v != 0)?;
    let name = f.name.as_str();
    const FILE_OFFSETS: &[&str] = &[
        "e_lfanew",
        "e_lfarlc",
        "PointerToSymbolTable",
        "PointerToRawData",
        "PointerToRelocations",
        "PointerToLinenumbers",
        "SECURITY.VirtualAddress",
        "e_phoff",
        "e_shoff",
        "sh_offset",
        "p_offset",
    ];
    const RVAS: &[&str] = &["AddressOfEntryPoint", "BaseOfCode", "BaseOfData"];
    if FILE_OFFSETS.contains(&name) {
        return Some(Target::Bytes(Span::new(v, 1)));
    }
    if RVAS.contains(&name)
        || name.ends_with(".VirtualAddress")
        || (name == "VirtualAddress" && core.bin.format.is_pe())
    {
        return Some(Target::Rva(v, 1));
    }
    if matches!(name, "e_entry" | "sh_addr" | "p_vaddr") {
        let base = core.bin.image_base?;
        return Some(Target::Rva(v.checked_sub(base)?, 1));
    }
    None
}

/// Row of header field `f` of group `g` in the flattened table.
pub fn row_of(core: &DocCore, g: usize, f: usize) -> usize {
    core.bin.headers.iter().take(g).map(|h| h.fields.len()).sum::<usize>() + f
}

/// Up to `max` bytes of `span` as hex, with an ellipsis when longer.
pub fn bytes_hex(data: &[u8], span: Span, max: usize) -> String {
    let start = usize::try_from(span.offset).unwrap_or(usize::MAX).min(data.len());
    let len = usize::try_from(span.len).unwrap_or(usize::MAX);
    let end = start.saturating_add(len).min(data.len());
    let slice = data.get(start..end).unwrap_or(&[]);
    let mut s = slice.iter().take(max).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
    if slice.len() > max {
        s.push_str(" …");
    }
    s
}

impl TableModel for HeaderModel<'_> {
    fn columns(&self) -> &'static [Column] {
        HeaderCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some((group, f)) = self.field(row) else { return String::new() };
        let Some(col) = HeaderCol::from_index(col) else { return String::new() };
        match col {
            HeaderCol::Structure => group.to_string(),
            HeaderCol::Offset => format!("{:#x}", f.span.offset),
            HeaderCol::Field => f.name.clone(),
            HeaderCol::Value => f.display.clone(),
            HeaderCol::Bytes => bytes_hex(&self.core.data, f.span, 16),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some((_, f)) = self.field(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = HeaderCol::from_index(col) else { return Cell::plain(text) };
        match col {
            HeaderCol::Structure => Cell::plain(text).tone(Tone::Weak),
            HeaderCol::Offset => {
                Cell::link(text, RefKind::Header, Action::Navigate { doc: None, target: Target::Bytes(f.span) })
            }
            HeaderCol::Field => Cell::plain(text).tone(Tone::Kind(RefKind::Header)).tip(f.help),
            HeaderCol::Value => match field_target(self.core, f) {
                Some(target) => Cell::link(text, RefKind::Address, Action::Navigate { doc: None, target }).tip(f.help),
                None => Cell::mono(text).tip(f.help),
            },
            HeaderCol::Bytes => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.field(row).map(|(_, f)| f.span)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        self.row_span(row).map(|s| Action::Navigate { doc: None, target: Target::Bytes(s) })
    }
    fn row_tooltip(&self, row: usize) -> Option<String> {
        self.field(row).map(|(_, f)| format!("{}: {}", f.name, f.help))
    }
}

/// Draw the Headers view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Headers",
        "Every field the reader decoded, in file order. Hover a field name for what it means; click an offset to see its bytes.",
    );
    show_table(ui, cx, TableId::Headers, actions);
}
