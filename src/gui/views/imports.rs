//! Imports and their IAT slots (ordinary and delay-load). An import's name links to the export in
//! the open DLL it names; its IAT address links to the slot's bytes.

use eframe::egui;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::lookup::ImportRow;
use crate::gui::regions::import_name;
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{ImportEntry, ImportModule, Span};

use super::{intro, show_table, ModelOpts, ViewCtx};

columns! {
    /// Columns of the import table.
    enum ImportCol {
        Dll => Column::text("DLL", 110.0, "The module that must provide the import."),
        Name => Column::text("Name", 220.0, "Imported name (or #ordinal). Click to jump to the export in that DLL, if it is open."),
        Sites => Column::num("Sites", 60.0, "Data references that reach this import: through its IAT slot, or through a pseudo-relocation (whatever slot the address lands on). Click to list them."),
        Ordinal => Column::num("Ordinal", 60.0, "Set when imported by number instead of name."),
        Hint => Column::num("Hint", 50.0, "Guess at the export's position in the DLL's name table; speeds up the lookup."),
        IatRva => Column::num("IAT RVA", 80.0, "The slot the loader overwrites with the import's address. Click to see its bytes."),
        IatVa => Column::num("IAT VA", 110.0, "The slot's address at the preferred image base."),
        OnDisk => Column::num("On disk", 90.0, "What the slot holds in the file, before loading (usually the same as the lookup entry)."),
        Table => Column::text("Table", 60.0, "import: resolved at load time; delay: resolved on first use."),
    }
}

/// The flattened import table.
pub struct ImportModel<'a> {
    /// The document.
    pub core: &'a DocCore,
    /// Display options.
    pub opts: ModelOpts,
}

impl<'a> ImportModel<'a> {
    fn get(&self, row: usize) -> Option<(ImportRow, &'a ImportModule, &'a ImportEntry)> {
        import_at(self.core, row)
    }
}

/// Module and entry of import row `row` of `core`.
pub fn import_at(core: &DocCore, row: usize) -> Option<(ImportRow, &ImportModule, &ImportEntry)> {
    let r = *core.index.imports.get(row)?;
    let list = if r.delay { &core.bin.delay_imports } else { &core.bin.imports };
    let m = list.get(r.module as usize)?;
    Some((r, m, m.entries.get(r.entry as usize)?))
}

impl TableModel for ImportModel<'_> {
    fn columns(&self) -> &'static [Column] {
        ImportCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.index.imports.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some((r, m, e)) = self.get(row) else { return String::new() };
        let Some(col) = ImportCol::from_index(col) else { return String::new() };
        let hex = |v: Option<u64>| v.map_or_else(String::new, |v| format!("{v:#x}"));
        match col {
            ImportCol::Dll => m.dll.clone(),
            ImportCol::Name => match (&e.demangled, self.opts.demangle) {
                (Some(d), true) => d.clone(),
                _ => import_name(e),
            },
            ImportCol::Sites => self.core.import_uses().get(row).map_or_else(String::new, u32::to_string),
            ImportCol::Ordinal => e.ordinal.map_or_else(String::new, |o| o.to_string()),
            ImportCol::Hint => e.hint.map_or_else(String::new, |h| h.to_string()),
            ImportCol::IatRva => format!("{:#x}", e.iat_rva),
            ImportCol::IatVa => hex(self.core.bin.image_base.map(|b| b.wrapping_add(e.iat_rva))),
            ImportCol::OnDisk => hex(e.iat_value),
            ImportCol::Table => if r.delay { "delay" } else { "import" }.to_string(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some((_, m, e)) = self.get(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = ImportCol::from_index(col) else { return Cell::plain(text) };
        match col {
            ImportCol::Dll => Cell::plain(text).tone(Tone::Kind(RefKind::Import)),
            ImportCol::Name => Cell::link(text, RefKind::Import, Action::FollowImport(row)).tip(format!(
                "Go to the export {} in {} (if it is open)",
                import_name(e),
                m.dll
            )),
            ImportCol::IatRva => {
                let ptr = if self.core.bin.is_64 { 8 } else { 4 };
                let target = e.iat_span.map_or(Target::Rva(e.iat_rva, ptr), Target::Bytes);
                Cell::link(text, RefKind::Import, Action::Navigate { doc: None, target })
                    .tip("Show the IAT slot's bytes")
            }
            ImportCol::Sites if self.core.import_uses().get(row).is_some_and(|&n| n > 0) => {
                Cell::link(text, RefKind::Import, Action::RefsToImport(row)).tip("List the sites in Data references")
            }
            ImportCol::Sites => Cell::mono(text).tone(Tone::Weak),
            ImportCol::Table => Cell::plain(text).tone(Tone::Weak),
            ImportCol::Ordinal | ImportCol::Hint | ImportCol::IatVa | ImportCol::OnDisk => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        self.get(row).and_then(|(_, _, e)| e.iat_span)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        Some(Action::FollowImport(row))
    }
    fn refs_to(&self, row: usize, _col: usize) -> Option<crate::gui::xrefs::RefsTo> {
        Some(crate::gui::xrefs::RefsTo::Import(row))
    }
}

/// Draw the Imports view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Imports / IAT",
        "Code calls an import through its slot in the import address table (IAT); the loader writes the real address into the slot. Click a name to jump to the export in the DLL (open it in another tab), or an IAT address to see the slot.",
    );
    if cx.doc.core.index.imports.is_empty() {
        let why = if cx.doc.core.bin.format.is_elf() {
            "ELF files have no import table: the dynamic loader binds undefined symbols through relocations (see Relocations: GLOB_DAT, JUMP_SLOT, COPY)."
        } else if crate::gui::lookup::is_object(&cx.doc.core.bin) {
            "An object file imports nothing itself: its undefined symbols are resolved by the linker (see Symbols)."
        } else {
            "This image imports nothing."
        };
        crate::gui::table::empty_note(ui, why);
        return;
    }
    show_table(ui, cx, TableId::Imports, actions);
}
