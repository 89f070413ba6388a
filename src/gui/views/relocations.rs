//! Relocations: PE base relocations, object relocations and dynamic relocations in one table,
//! filterable by source, kind and section. Built for a million rows: every cell is computed on
//! demand for the rows on screen, with binary-search lookups.

use eframe::egui;

use crate::analysis::namer::signed_hex;
use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::lookup::{base_reloc_normalized, base_reloc_width};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, SortKey, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::{BaseReloc, Relocation, Span};

use super::{intro, show_table, ModelOpts, ViewCtx};

columns! {
    /// Columns of the relocation table.
    enum RelocCol {
        Source => Column::text("Source", 64.0, "base: PE base relocation (applied if the image is loaded away from its preferred base); object: applied by the linker; dynamic: applied by the ELF dynamic loader."),
        Section => Column::text("Section", 90.0, "The section holding the patched bytes."),
        Site => Column::num("Site", 90.0, "Where the patch goes: an RVA, or +offset into the section for object files. Click to see the bytes."),
        Type => Column::text("Type", 150.0, "The format's own relocation type."),
        Kind => Column::text("Kind", 80.0, "Normalised kind: absolute, pc-relative, image-relative, got, copy, …"),
        Width => Column::num("Width", 50.0, "Bits patched."),
        Target => Column::text("Target", 300.0, "The symbol the patch refers to; for base relocations, the address the site holds now."),
        Addend => Column::num("Addend", 70.0, "Constant added to the target."),
        Record => Column::num("Record", 80.0, "File offset of the relocation record itself. Click to see it."),
    }
}

/// One row, base or other.
enum Row<'a> {
    Base(&'a BaseReloc),
    Other(&'a Relocation),
}

/// Base, object and dynamic relocations in one table.
pub struct RelocModel<'a> {
    core: &'a DocCore,
    opts: ModelOpts,
    nb: usize,
}

impl<'a> RelocModel<'a> {
    /// The relocations of `core`.
    pub fn new(core: &'a DocCore, opts: ModelOpts) -> Self {
        RelocModel { core, opts, nb: core.bin.base_relocations.len() }
    }

    fn row(&self, row: usize) -> Option<Row<'a>> {
        let bin = &self.core.bin;
        if row < self.nb {
            bin.base_relocations.get(row).map(Row::Base)
        } else {
            bin.relocations.get(row - self.nb).map(Row::Other)
        }
    }

    fn section_text(&self, row: &Row<'_>) -> String {
        let l = &self.core.index;
        match row {
            Row::Base(r) => l.section_pos_by_rva(r.rva).map(|p| l.section_label_at(p).to_string()),
            Row::Other(r) if r.dynamic => l.section_pos_by_rva(r.offset).map(|p| l.section_label_at(p).to_string()),
            Row::Other(r) => r.section.and_then(|s| l.section_label(s)).map(str::to_string),
        }
        .unwrap_or_default()
    }

    /// The OMF fixup behind model row `row` (OMF relocations are the fixups, in order).
    fn omf_fixup(&self, row: usize) -> Option<&'a crate::model::OmfFixup> {
        self.core.bin.omf.as_ref()?.fixups.get(row.checked_sub(self.nb)?)
    }

    fn site(&self, index: usize, row: &Row<'_>) -> Option<Span> {
        let (l, bin) = (&self.core.index, &self.core.bin);
        if bin.omf.is_some() {
            // OMF: relocation i is fixup i; its bytes are inside its data record.
            return self.core.lookup.omf.sites.get(index.checked_sub(self.nb)?).copied().flatten();
        }
        match row {
            Row::Base(r) => l.rva_span(r.rva, base_reloc_width(r.raw_type).max(1), bin),
            Row::Other(r) => match r.section {
                Some(sec) if !r.dynamic => l.object_reloc_site(bin, sec, r.offset, r.width),
                _ => l.rva_span(r.offset, (u64::from(r.width) / 8).max(1), bin),
            },
        }
    }

    /// `0x… → data.dll!ptr (IAT)` or `0x… → .text+0x10`: what an absolute pointer points at.
    fn describe_pointer(&self, v: u64) -> String {
        let (l, bin) = (&self.core.index, &self.core.bin);
        let Some(rva) = bin.image_base.and_then(|b| v.checked_sub(b)) else { return format!("{v:#x}") };
        if let Some((_, m, e)) = l.import_at_slot(rva).and_then(|row| super::imports::import_at(self.core, row)) {
            return format!("{v:#x} → {}!{} (IAT)", m.dll, crate::gui::regions::import_name(e));
        }
        match l.rva_place(rva, bin) {
            Some(place) => format!("{v:#x} → {place}"),
            None => format!("{v:#x}"),
        }
    }

    fn target_name(&self, r: &Relocation) -> String {
        let sym = r
            .symbol_index
            .filter(|_| !r.dynamic)
            .and_then(|i| self.core.index.symbol_pos(i))
            .and_then(|p| self.core.bin.symbols.get(p));
        match (sym, &r.symbol) {
            (Some(s), _) if self.opts.demangle && s.demangled.is_some() => s.demangled.clone().unwrap_or_default(),
            (_, Some(n)) => n.clone(),
            (Some(s), None) => s.name.clone(),
            (None, None) => String::new(),
        }
    }
}

impl TableModel for RelocModel<'_> {
    fn columns(&self) -> &'static [Column] {
        RelocCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.nb + self.core.bin.relocations.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(r) = self.row(row) else { return String::new() };
        let Some(col) = RelocCol::from_index(col) else { return String::new() };
        match (col, &r) {
            (RelocCol::Source, Row::Base(_)) => "base".into(),
            (RelocCol::Source, Row::Other(o)) => if o.dynamic { "dynamic" } else { "object" }.into(),
            (RelocCol::Section, _) => self.section_text(&r),
            (RelocCol::Site, Row::Base(b)) => format!("{:#x}", b.rva),
            (RelocCol::Site, Row::Other(o)) if o.dynamic || o.section.is_none() => format!("{:#x}", o.offset),
            (RelocCol::Site, Row::Other(o)) => format!("+{:#x}", o.offset),
            (RelocCol::Type, Row::Base(b)) => b.kind.to_string(),
            (RelocCol::Type, Row::Other(o)) => o.kind.to_string(),
            (RelocCol::Kind, Row::Base(b)) => base_reloc_normalized(b.raw_type).to_string(),
            (RelocCol::Kind, Row::Other(o)) => o.normalized.to_string(),
            (RelocCol::Width, Row::Base(b)) => (base_reloc_width(b.raw_type) * 8).to_string(),
            (RelocCol::Width, Row::Other(o)) => o.width.to_string(),
            (RelocCol::Target, Row::Base(b)) => b.value.map_or_else(String::new, |v| self.describe_pointer(v)),
            (RelocCol::Target, Row::Other(o)) => self.target_name(o),
            (RelocCol::Addend, Row::Base(_)) => String::new(),
            (RelocCol::Addend, Row::Other(o)) => signed_hex(o.addend),
            (RelocCol::Record, Row::Base(b)) => format!("{:#x}", b.span.offset),
            (RelocCol::Record, Row::Other(o)) => format!("{:#x}", o.span.offset),
        }
    }
    fn sort_key(&self, row: usize, col: usize) -> SortKey {
        // Numeric columns without formatting, so sorting a million rows stays quick.
        match (RelocCol::from_index(col), self.row(row)) {
            (Some(RelocCol::Site), Some(Row::Base(b))) => SortKey::Num(i128::from(b.rva)),
            (Some(RelocCol::Site), Some(Row::Other(o))) => SortKey::Num(i128::from(o.offset)),
            (Some(RelocCol::Record), Some(Row::Base(b))) => SortKey::Num(i128::from(b.span.offset)),
            (Some(RelocCol::Record), Some(Row::Other(o))) => SortKey::Num(i128::from(o.span.offset)),
            (Some(RelocCol::Addend), Some(Row::Other(o))) => SortKey::Num(i128::from(o.addend)),
            (Some(RelocCol::Target), Some(Row::Base(b))) => {
                b.value.map_or(SortKey::Missing, |v| SortKey::Num(i128::from(v)))
            }
            (Some(RelocCol::Width), _) => {
                crate::gui::table::parse_num(&self.text(row, col)).map_or(SortKey::Missing, SortKey::Num)
            }
            _ => SortKey::Text(self.text(row, col).to_lowercase()),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(r) = self.row(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = RelocCol::from_index(col) else { return Cell::plain(text) };
        let nav = |target| Action::Navigate { doc: None, target };
        match col {
            RelocCol::Source => Cell::plain(text).tone(Tone::Weak),
            RelocCol::Section => {
                let idx = match &r {
                    Row::Other(o) if !o.dynamic => o.section,
                    Row::Base(b) => self
                        .core
                        .index
                        .section_pos_by_rva(b.rva)
                        .and_then(|p| self.core.bin.sections.get(p))
                        .map(|s| s.index),
                    Row::Other(o) => self
                        .core
                        .index
                        .section_pos_by_rva(o.offset)
                        .and_then(|p| self.core.bin.sections.get(p))
                        .map(|s| s.index),
                };
                match idx {
                    Some(i) => Cell::link(text, RefKind::Section, nav(Target::Section(i))),
                    None => Cell::plain(text),
                }
            }
            RelocCol::Site => match self.site(row, &r) {
                Some(span) => Cell::link(text, RefKind::Reloc, nav(Target::Bytes(span)))
                    .tip("Show the bytes this relocation patches"),
                None => Cell::mono(text).tip("No bytes in the file at this address"),
            },
            RelocCol::Type => match self.omf_fixup(row) {
                Some(f) => Cell::mono(text).tone(Tone::Kind(RefKind::Reloc)).tip(crate::gui::omf::fixup_details(f)),
                None => Cell::mono(text).tone(Tone::Kind(RefKind::Reloc)),
            },
            RelocCol::Target => match &r {
                Row::Base(b) => match (b.value, self.core.bin.image_base) {
                    (Some(v), Some(base)) if v >= base => {
                        Cell::link(text, RefKind::Address, nav(Target::Rva(v - base, 1)))
                            .tip("The address the site holds now; click to go there")
                    }
                    _ => Cell::mono(text),
                },
                Row::Other(o) => {
                    // A dynamic relocation's symbol index counts .dynsym, not the symbol table
                    // shown here, and the loader resolves it in another module: follow the name.
                    let pos = o.symbol_index.filter(|_| !o.dynamic).and_then(|i| self.core.index.symbol_pos(i));
                    let defined = pos.and_then(|p| self.core.bin.symbols.get(p)).is_some_and(|s| s.section.is_some());
                    match (pos, defined) {
                        (Some(p), true) => Cell::link(text, RefKind::Symbol, nav(Target::Row(TableId::Symbols, p))),
                        _ if !text.is_empty() => Cell::link(
                            text,
                            RefKind::Symbol,
                            Action::FollowSymbol(o.symbol.clone().unwrap_or_default()),
                        )
                        .tip("Defined elsewhere: click to find the definition in another open file"),
                        _ => Cell::plain(text),
                    }
                }
            },
            RelocCol::Record => match (self.omf_fixup(row), &r) {
                // OMF: the fixup's FIXUPP record, where its fields are explained.
                (Some(f), _) => Cell::link(text, RefKind::Address, nav(Target::Row(TableId::OmfRecords, f.record)))
                    .tip("Show the FIXUPP record holding this fixup"),
                (None, Row::Base(b)) => Cell::link(text, RefKind::Address, nav(Target::Bytes(b.span))),
                (None, Row::Other(o)) => Cell::link(text, RefKind::Address, nav(Target::Bytes(o.span))),
            },
            RelocCol::Kind | RelocCol::Width | RelocCol::Addend => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        match self.row(row)? {
            Row::Base(b) => Some(b.span),
            Row::Other(o) => Some(o.span),
        }
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let r = self.row(row)?;
        self.site(row, &r).map(|s| Action::Navigate { doc: None, target: Target::Bytes(s) })
    }
    fn facets(&self) -> Vec<Facet> {
        let l = &self.core.lookup;
        vec![
            Facet::new("Source", RelocCol::Source, l.reloc_sources.clone()),
            Facet::new("Kind", RelocCol::Kind, l.reloc_kinds.clone()),
            Facet::new("Section", RelocCol::Section, l.reloc_sections.clone()),
        ]
    }
}

/// Draw the Relocations view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Relocations",
        "Places whose bytes are not final in the file: the linker (object), the dynamic loader (dynamic) or the PE loader when rebasing (base) patches them. Limit the Target column with the filter's column picker.",
    );
    if cx.doc.core.bin.base_relocations.is_empty() && cx.doc.core.bin.relocations.is_empty() {
        crate::gui::table::empty_note(ui, "No relocations: this file's bytes are final wherever it is loaded.");
        return;
    }
    show_table(ui, cx, TableId::Relocations, actions);
}
