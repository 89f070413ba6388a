//! Archive members: each can be opened in its own tab.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::lookup::member_header_span;
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{Binding, Span};

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the archive-member table.
    enum MemberCol {
        Index => Column::num("#", 40.0, "Member number."),
        Name => Column::text("Name", 220.0, "Member name. Click to open it in its own tab."),
        Offset => Column::num("Offset", 80.0, "File offset of the member header. Click to see it."),
        Size => Column::num("Size", 70.0, "Size of the member's data."),
        Format => Column::text("Format", 110.0, "What the member is (object, short import, …)."),
        Arch => Column::text("Arch", 70.0, "Its architecture."),
        Summary => Column::text("Summary", 260.0, "For short imports: the DLL and name it imports; for OMF modules, what they hold."),
    }
}

/// The members of an archive.
pub struct MemberModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl TableModel for MemberModel<'_> {
    fn columns(&self) -> &'static [Column] {
        MemberCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.members.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(m) = self.core.bin.members.get(row) else { return String::new() };
        let Some(col) = MemberCol::from_index(col) else { return String::new() };
        match col {
            MemberCol::Index => row.to_string(),
            MemberCol::Name => m.member_name.clone(),
            MemberCol::Offset => format!("{:#x}", m.member_offset),
            MemberCol::Size => format!("{:#x}", m.member_size),
            MemberCol::Format => {
                m.binary.as_ref().map_or_else(|| "(unreadable)".into(), |b| b.format.name().to_string())
            }
            MemberCol::Arch => m.binary.as_ref().map_or_else(String::new, |b| b.arch.to_string()),
            MemberCol::Summary => match m.binary.as_deref() {
                Some(b) if b.omf.is_some() => omf_member_summary(b),
                Some(b) => b.import_object.as_ref().map_or_else(String::new, |io| {
                    format!("{}!{} ({})", io.dll, io.import_name.as_deref().unwrap_or(&io.symbol), io.kind)
                }),
                None => String::new(),
            },
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(m) = self.core.bin.members.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = MemberCol::from_index(col) else { return Cell::plain(text) };
        match col {
            MemberCol::Name if m.binary.is_some() => {
                Cell::link(text, RefKind::Other, Action::OpenMember(row)).tip("Open this member in its own tab")
            }
            MemberCol::Offset => Cell::link(
                text,
                RefKind::Address,
                Action::Navigate {
                    doc: None,
                    target: Target::Bytes(member_header_span(&self.core.bin, &self.core.data, m)),
                },
            ),
            MemberCol::Format if m.binary.is_none() => Cell::plain(text).tone(Tone::Weak),
            _ => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.members.get(row).map(|m| member_header_span(&self.core.bin, &self.core.data, m))
    }
    fn activate(&self, row: usize) -> Option<Action> {
        Some(Action::OpenMember(row))
    }
}

/// An OMF module in one line: its records, segments, publics and fixups.
fn omf_member_summary(b: &crate::model::Binary) -> String {
    let Some(omf) = &b.omf else { return String::new() };
    let publics = b.symbols.iter().filter(|s| s.section.is_some() && s.binding == Binding::Global).count();
    format!(
        "{} records, {} segments, {} publics, {} fixups",
        b.omf_records.len(),
        omf.segments.len(),
        publics,
        omf.fixups.len()
    )
}

/// Draw the Members view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Members",
        "An archive (static or import library) is a bundle of files. Click a member's name to open it in its own tab.",
    );
    show_table(ui, cx, TableId::Members, actions);
}
