//! MinGW runtime pseudo-relocations: for each entry, the IAT slot (→ import) it reads, the site it
//! patches, the width, and how the list was found.

use eframe::egui;

use crate::analysis::namer::signed_hex;
use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::{self, RefKind};
use crate::model::Span;

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the pseudo-relocation table.
    enum PseudoCol {
        Index => Column::num("#", 34.0, "Entry number in the list."),
        SlotRva => Column::num("Slot RVA", 80.0, "v2: the IAT slot whose (loaded) address the runtime reads. Click to see the slot."),
        Import => Column::text("Import", 150.0, "The import that slot belongs to. Click to see it in Imports."),
        SiteRva => Column::num("Site RVA", 80.0, "The place the runtime patches. Click to see its bytes."),
        Site => Column::text("Site", 110.0, "Section and offset of the site."),
        Width => Column::num("Width", 50.0, "Bits patched at the site (8, 16, 32 or 64)."),
        Stored => Column::num("Stored", 110.0, "What the site holds in the file: the link-time value (slot address + addend, or the addend alone). For pointer-wide sites, (slot+N) is the offset into the imported object, e.g. &arr[3] = slot+12."),
        FlagsAddend => Column::num("Flags / addend", 90.0, "v2: flags word (width in the low byte); v1: the addend."),
        Entry => Column::num("Entry", 70.0, "File offset of the entry itself. Click to see it."),
    }
}

/// The pseudo-relocation entries.
pub struct PseudoModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl TableModel for PseudoModel<'_> {
    fn columns(&self) -> &'static [Column] {
        PseudoCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.pseudo_relocations.entries.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(e) = self.core.bin.pseudo_relocations.entries.get(row) else { return String::new() };
        let Some(col) = PseudoCol::from_index(col) else { return String::new() };
        let hex = |v: Option<u64>| v.map_or_else(String::new, |v| format!("{v:#x}"));
        match col {
            PseudoCol::Index => row.to_string(),
            PseudoCol::SlotRva => hex(e.sym_rva),
            PseudoCol::Import => e.import.clone().unwrap_or_default(),
            PseudoCol::SiteRva => format!("{:#x}", e.target_rva),
            PseudoCol::Site => match (&e.target_section, e.target_offset) {
                (Some(s), Some(o)) => format!("{s}+{o:#x}"),
                (Some(s), None) => s.clone(),
                _ => String::new(),
            },
            PseudoCol::Width => e.width.to_string(),
            PseudoCol::Stored => {
                let stored =
                    e.stored_value.map_or_else(String::new, |v| if v < 0 { signed_hex(v) } else { format!("{v:#x}") });
                match e.slot_offset {
                    Some(o) => format!("{stored} (slot{})", signed_hex(o)),
                    None => stored,
                }
            }
            PseudoCol::FlagsAddend => match (e.flags, e.addend) {
                (Some(f), _) => format!("{f:#x}"),
                (None, Some(_)) => e.signed_addend().map(signed_hex).unwrap_or_default(),
                _ => String::new(),
            },
            PseudoCol::Entry => format!("{:#x}", e.span.offset),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(e) = self.core.bin.pseudo_relocations.entries.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = PseudoCol::from_index(col) else { return Cell::plain(text) };
        let nav = |target| Action::Navigate { doc: None, target };
        let ptr = if self.core.bin.is_64 { 8 } else { 4 };
        match col {
            PseudoCol::SlotRva => match e.sym_rva {
                Some(rva) => Cell::link(text, RefKind::Import, nav(Target::Rva(rva, ptr))),
                None => Cell::mono(text),
            },
            PseudoCol::Import => {
                let row = e.sym_rva.and_then(|rva| import_row_by_iat(self.core, rva));
                match row {
                    Some(r) => Cell::link(text, RefKind::Import, nav(Target::Row(TableId::Imports, r))),
                    None => Cell::plain(text).tone(Tone::Kind(RefKind::Import)),
                }
            }
            PseudoCol::SiteRva => {
                Cell::link(text, RefKind::PseudoReloc, nav(Target::Rva(e.target_rva, u64::from(e.width / 8).max(1))))
                    .tip("Show the bytes this entry patches")
            }
            PseudoCol::Site => Cell::mono(text).tone(Tone::Kind(RefKind::Section)),
            PseudoCol::Entry => Cell::link(text, RefKind::Address, nav(Target::Bytes(e.span))),
            PseudoCol::Index | PseudoCol::Width | PseudoCol::Stored | PseudoCol::FlagsAddend => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.core.bin.pseudo_relocations.entries.get(row).map(|e| e.span)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let e = self.core.bin.pseudo_relocations.entries.get(row)?;
        Some(Action::Navigate { doc: None, target: Target::Rva(e.target_rva, u64::from(e.width / 8).max(1)) })
    }
}

/// Row of the import whose IAT slot is at `rva`.
pub fn import_row_by_iat(core: &DocCore, rva: u64) -> Option<usize> {
    core.index.import_at_slot(rva)
}

/// Draw the Pseudo-relocations view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Pseudo-relocations",
        "MinGW lets code use a DLL's data as if it were local ('auto-import'). The linker cannot express that, so it leaves a list: at start-up the runtime reads each IAT slot and adds the imported address into the site, making the page writable for a moment.",
    );
    let pr = &cx.doc.core.bin.pseudo_relocations;
    if pr.found_by.is_none() && pr.entries.is_empty() {
        crate::gui::table::empty_note(
            ui,
            "No pseudo-relocation list in this file (it is not a MinGW image, or nothing was auto-imported).",
        );
        if let Some(note) = &pr.note {
            crate::gui::table::empty_note(ui, &format!("Note: {note}."));
        }
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Version {}", pr.version.map_or_else(|| "?".into(), |v| v.to_string())));
        ui.separator();
        let how = match pr.found_by.as_deref() {
            Some("symbols") => "found through the __RUNTIME_PSEUDO_RELOC_LIST__ symbols",
            Some("scan") => "found by scanning the image (no symbols name it)",
            Some(other) => other,
            None => "not found",
        };
        ui.label(how);
        if let (Some(start), Some(end)) = (pr.list_rva, pr.list_end_rva) {
            ui.separator();
            ui.label("List:");
            if theme::link(ui, format!("{start:#x}..{end:#x}"), RefKind::PseudoReloc).clicked() {
                actions.push(Action::Navigate { doc: None, target: Target::Rva(start, end.saturating_sub(start)) });
            }
            ui.label(format!("({} bytes)", end.saturating_sub(start)));
        }
    });
    ui.add_space(4.0);
    show_table(ui, cx, TableId::PseudoRelocs, actions);
}
