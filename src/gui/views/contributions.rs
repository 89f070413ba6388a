//! Contributions: every section contribution of the image's PDB (the object, and archive, each
//! run of bytes came from), in the PDB's order, faceted by object, archive and output section.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::pdb::PdbContribution;
use crate::model::Span;

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the contributions table.
    enum ContribCol {
        Rva => Column::num("RVA", 80.0, "Where the input section landed: the output section's address plus the stored offset. Click to go there."),
        Size => Column::num("Size", 70.0, "Bytes the input section contributed (size-0 ones are listed too)."),
        Section => Column::text("Section", 80.0, "The output section (the stored section number in the image's section table)."),
        Object => Column::text("Object", 260.0, "The module: the object file's path as stored, for an archive member its member name."),
        Archive => Column::text("Archive", 220.0, "The module's \"obj file name\": the archive of a member, else the object again."),
        Characteristics => Column::num("Characteristics", 100.0, "The input section's IMAGE_SCN_* flags."),
        DataCrc => Column::num("Data CRC", 90.0, "The checksum the linker stored for the input section's bytes (lld-link: JamCRC); two builds whose CRCs differ changed that object."),
    }
}

/// The contributions table.
pub struct ContribModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl ContribModel<'_> {
    fn list(&self) -> &[PdbContribution] {
        self.core.pdb.as_deref().map_or(&[], |p| &p.contributions)
    }
}

impl TableModel for ContribModel<'_> {
    fn columns(&self) -> &'static [Column] {
        ContribCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.list().len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(c) = self.list().get(row) else { return String::new() };
        let Some(col) = ContribCol::from_index(col) else { return String::new() };
        match col {
            ContribCol::Rva => c.rva.map_or_else(String::new, |r| format!("{r:#x}")),
            ContribCol::Size => format!("{:#x}", c.size),
            ContribCol::Section => usize::from(c.section)
                .checked_sub(1)
                .and_then(|i| self.core.bin.sections.get(i))
                .map_or_else(|| format!("#{}", c.section), |s| s.name.clone()),
            ContribCol::Object => c.module.clone().unwrap_or_default(),
            ContribCol::Archive => c.archive.clone().unwrap_or_default(),
            ContribCol::Characteristics => format!("{:#010x}", c.characteristics),
            ContribCol::DataCrc => format!("{:#010x}", c.data_crc),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(c) = self.list().get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = ContribCol::from_index(col) else { return Cell::plain(text) };
        match col {
            ContribCol::Rva => match c.rva {
                Some(rva) => Cell::link(
                    text,
                    RefKind::Address,
                    Action::Navigate { doc: None, target: Target::Rva(rva, u64::from(c.size.max(1))) },
                ),
                None => Cell::mono(text),
            },
            ContribCol::Size if c.size == 0 => Cell::mono(text).tone(Tone::Weak),
            ContribCol::Object | ContribCol::Archive | ContribCol::Section => Cell::plain(text.clone()).tip(text),
            _ => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        let c = self.list().get(row)?;
        self.core.index.rva_span(c.rva?, u64::from(c.size.max(1)), &self.core.bin)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let c = self.list().get(row)?;
        Some(Action::Navigate { doc: None, target: Target::Rva(c.rva?, u64::from(c.size.max(1))) })
    }
    fn facets(&self) -> Vec<Facet> {
        Facet::each_distinct(
            &[("Object", ContribCol::Object), ("Archive", ContribCol::Archive), ("Section", ContribCol::Section)],
            self,
        )
    }
}

/// Draw the Contributions view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Contributions",
        "From the image's PDB: for every run of the image, the object (and archive) whose input section filled it, with the checksum of those bytes. Facet by object, archive or output section; double-click a row to see its bytes.",
    );
    if cx.doc.core.pdb.is_none() {
        crate::gui::table::empty_note(ui, "No PDB: the image names none that is beside it, or it does not match.");
        return;
    }
    show_table(ui, cx, TableId::Contributions, actions);
}
