//! Data references: every site that references data through an address, with its mode, target,
//! import + offset, pseudo-relocation, reach and the ambiguity of the naive reading. Linked to the
//! disassembly, the hex view, the imports and the pseudo-relocation table.

use std::collections::BTreeSet;

use eframe::egui;

use crate::analysis::namer::signed_hex;
use crate::analysis::{ImportRef, Mode, Reach, Site, TargetKind};
use crate::gui::action::{Action, TableAction, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::Span;
use crate::report::refs::{explain, reach_text, Namer};

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the data-reference table.
    enum RefCol {
        Site => Column::num("Site", 90.0, "Instruction (or data field) address (RVA; section offset in objects). Click: the disassembly."),
        Section => Column::text("Section", 70.0, "Section holding the site."),
        Field => Column::num("Field", 44.0, "Where the patched bytes start, from the site. Click: the bytes."),
        Width => Column::num("Width", 44.0, "Bits of the field."),
        Mode => Column::text("Mode", 110.0, "How the address is encoded: RIP-relative, absolute, absolute + register, immediate, data pointer."),
        Target => Column::num("Target", 90.0, "The address the field names at link time (RVA)."),
        Kind => Column::text("Kind", 70.0, "What the target address is: IAT slot, jmp [IAT] thunk, CFG pointer, GOT / COPY slot, data, code, header, outside. The Target facet filters by what the site really reaches: a site reaching an import (through a pseudo-relocation, or import + offset) is an import's whatever the address lands on."),
        Import => Column::text("Import / symbol", 200.0, "The import reached (the pseudo-relocation list decides where there is one), else the nearest symbol."),
        Offset => Column::num("Offset", 60.0, "Target minus the start of the import slot or symbol: &arr[3] is arr + 12."),
        Reach => Column::text("Reach", 110.0, "Fields narrower than a pointer: the value after loading and whether it fits (MinGW runtime's rule for pseudo-relocated fields, signed 32-bit for RIP-relative): ok, OUT, WRAPS (the runtime accepts it, the CPU misaddresses), ? (the DLL's place is unknown). The Reach facet filters by it."),
        Notes => Column::text("Notes", 260.0, "Ambiguous naive reading, pseudo-relocation, external data."),
    }
}

/// The data-reference sites.
pub struct RefsModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl RefsModel<'_> {
    fn site(&self, row: usize) -> Option<Site> {
        self.core.refs.sites.get(row)
    }
    fn namer(&self) -> Namer<'_> {
        Namer { bin: &self.core.bin, index: &self.core.index }
    }
    fn pointer_bits(&self) -> u8 {
        if self.core.bin.is_64 {
            64
        } else {
            32
        }
    }
}

/// Row of the import table for an import reference.
fn import_row(r: ImportRef) -> Option<usize> {
    match r {
        ImportRef::Row(row) => Some(row as usize),
        _ => None,
    }
}

impl TableModel for RefsModel<'_> {
    fn columns(&self) -> &'static [Column] {
        RefCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.refs.sites.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(s) = &self.site(row) else { return String::new() };
        let Some(col) = RefCol::from_index(col) else { return String::new() };
        let n = self.namer();
        match col {
            RefCol::Site => format!("{:#x}", s.site_rva),
            RefCol::Section => n.section(s.section).unwrap_or_default(),
            RefCol::Field => format!("+{}", s.field_rva.wrapping_sub(s.site_rva)),
            RefCol::Width => s.width.to_string(),
            RefCol::Mode => s.mode.name().to_string(),
            RefCol::Target => s.target_rva.map_or_else(|| format!("va {:#x}", s.target_va), |t| format!("{t:#x}")),
            RefCol::Kind => s.target_kind.name().to_string(),
            RefCol::Import => n.site_name(s).unwrap_or_default(),
            RefCol::Offset => s.offset.map_or_else(String::new, signed_hex),
            RefCol::Reach => reach_text(s, self.pointer_bits()),
            RefCol::Notes => {
                let mut notes = Vec::new();
                if s.ambiguous {
                    notes.push(format!("ambiguous: naive reading is {}", n.naive_label(s).unwrap_or_default()));
                }
                if s.wraps {
                    notes.push("runtime accepts, CPU misaddresses".into());
                }
                if let Some(p) = s.pseudo_reloc {
                    notes.push(format!("pseudo-reloc #{p}"));
                }
                if s.needs_import_fixup {
                    notes.push("external data".into());
                }
                notes.join("; ")
            }
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(s) = &self.site(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = RefCol::from_index(col) else { return Cell::plain(text) };
        let nav = |target| Action::Navigate { doc: None, target };
        let core = self.core;
        match col {
            RefCol::Site => match core.refs.insns.row_of(s.site_rva, Some(s.section as usize)) {
                Some(r) if s.instr_len > 0 => Cell::link(text, RefKind::Address, nav(Target::Row(TableId::Disasm, r)))
                    .tip("Show the instruction in the disassembly"),
                _ => Cell::mono(text),
            },
            RefCol::Field => match field_span(core, s) {
                Some(span) => {
                    Cell::link(text, RefKind::Reloc, nav(Target::Bytes(span))).tip("Show the bytes a patch rewrites")
                }
                None => Cell::mono(text),
            },
            RefCol::Mode => Cell::mono(text).tone(Tone::Plain).tip(mode_help(s.mode)),
            RefCol::Target => match (s.target_rva, s.target_kind) {
                (Some(t), TargetKind::Code) => match core.refs.insns.row_of(t, None) {
                    Some(r) => Cell::link(text, RefKind::Address, nav(Target::Row(TableId::Disasm, r))),
                    None => Cell::mono(text),
                },
                (Some(t), _) if !crate::gui::lookup::is_object(&core.bin) => {
                    Cell::link(text, RefKind::Address, nav(Target::Rva(t, 1)))
                }
                _ => Cell::mono(text),
            },
            RefCol::Import => match s.import.and_then(import_row) {
                Some(r) => Cell::link(text, RefKind::Import, Action::FollowImport(r))
                    .tip("Go to the export in the open DLL it names (or the import table)"),
                None if s.import.is_some() => Cell::plain(text).tone(Tone::Kind(RefKind::Import)),
                None => Cell::plain(text).tone(Tone::Kind(RefKind::Symbol)),
            },
            RefCol::Offset if s.offset.is_some_and(|o| o != 0) => {
                Cell::mono(text).tone(Tone::Kind(RefKind::PseudoReloc))
            }
            RefCol::Reach if s.reachable == Some(false) || s.wraps => {
                Cell::mono(text).tone(Tone::Severity(crate::model::Severity::Error))
            }
            RefCol::Notes => match s.pseudo_reloc {
                Some(p) => Cell::link(text, RefKind::PseudoReloc, nav(Target::Row(TableId::PseudoRelocs, p as usize))),
                None => Cell::plain(text),
            },
            _ => Cell::mono(text),
        }
    }
    /// On the Target column: the references to that address; elsewhere, to what the site
    /// reaches (its import, or its target).
    fn refs_to(&self, row: usize, col: usize) -> Option<crate::gui::xrefs::RefsTo> {
        use crate::gui::xrefs::RefsTo;
        let s = &self.site(row)?;
        match (RefCol::from_index(col), s.import) {
            (Some(RefCol::Target), _) | (_, None) => s.target_rva.map(RefsTo::Rva),
            (_, Some(crate::analysis::ImportRef::Row(r))) => Some(RefsTo::Import(r as usize)),
            (_, Some(crate::analysis::ImportRef::Symbol(p))) => Some(RefsTo::Symbol(p as usize)),
            _ => s.target_rva.map(RefsTo::Rva),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        field_span(self.core, &self.site(row)?)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let s = &self.site(row)?;
        let r = self.core.refs.insns.row_of(s.site_rva, Some(s.section as usize)).filter(|_| s.instr_len > 0);
        Some(Action::Navigate {
            doc: None,
            target: match r {
                Some(r) => Target::Row(TableId::Disasm, r),
                None => Target::Bytes(field_span(self.core, s)?),
            },
        })
    }
    fn row_tooltip(&self, row: usize) -> Option<String> {
        Some(explain(&self.namer(), &self.site(row)?, &self.core.modules))
    }
    fn facets(&self) -> Vec<Facet> {
        const _: () = assert!(REACH_FACET == 3 && IMPORT_FACET == 2);
        let sites = &self.core.refs.sites;
        let bits = self.pointer_bits();
        let modes: BTreeSet<&str> = sites.iter().map(|s| s.mode.name()).collect();
        let kinds: BTreeSet<&str> = sites.iter().map(|s| s.reached_kind().name()).collect();
        let reaches: BTreeSet<&str> = sites.iter().filter_map(|s| s.reach(bits)).map(Reach::name).collect();
        let n = self.namer();
        let imports: BTreeSet<String> = sites.iter().filter_map(|s| s.import).map(|i| n.import_label(i)).collect();
        vec![
            Facet::new("Mode", RefCol::Mode, modes.into_iter().map(String::from).collect()),
            Facet::new("Target", RefCol::Kind, kinds.into_iter().map(String::from).collect()),
            // IMPORT_FACET: an import's "Sites" link in the Imports view sets this one.
            Facet::new("Import", RefCol::Import, imports.into_iter().collect()),
            // REACH_FACET: the summary's "N unreachable" link sets this one.
            Facet::new(
                "Reach",
                RefCol::Reach,
                Reach::ALL.iter().map(|r| r.name()).filter(|r| reaches.contains(r)).map(String::from).collect(),
            ),
        ]
    }
    /// The Target facet compares what the site really reaches ([`Site::reached_kind`]), the Reach
    /// facet its reach in one word ([`Site::reach`]).
    fn facet_text(&self, row: usize, col: usize) -> String {
        let Some(s) = &self.site(row) else { return String::new() };
        match RefCol::from_index(col) {
            Some(RefCol::Kind) => s.reached_kind().name().to_string(),
            Some(RefCol::Reach) => s.reach(self.pointer_bits()).map_or("", Reach::name).to_string(),
            _ => self.text(row, col),
        }
    }
}

/// The file bytes of a site's field.
pub fn field_span(core: &DocCore, s: &Site) -> Option<Span> {
    let len = u64::from(s.width / 8).max(1);
    if crate::gui::lookup::is_object(&core.bin) {
        let sec = core.bin.sections.get(s.section as usize)?;
        return core.index.object_reloc_site(&core.bin, sec.index, s.field_rva, s.width);
    }
    core.index.rva_span(s.field_rva, len, &core.bin)
}

/// What a mode means, for tooltips.
pub fn mode_help(m: Mode) -> &'static str {
    match m {
        Mode::RipRelative => "A 32-bit displacement from the next instruction: reaches ±2 GiB only.",
        Mode::Absolute => "An absolute address in the instruction; the loader rebases it through a base relocation.",
        Mode::AbsoluteIndexed => "A register plus an absolute 32-bit address (a table indexed at run time).",
        Mode::Immediate => "An address as an immediate operand (push offset x, mov reg, imm).",
        Mode::DataPointer => "A pointer stored in data, patched by the loader (base relocation) or the runtime.",
    }
}

/// Position of the Reach facet among the table's facets.
const REACH_FACET: usize = 3;

/// Position of the Import facet (the import a site really reaches, `dll!name`).
pub const IMPORT_FACET: usize = 2;

/// Draw the Data references view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Data references",
        "Every place whose bytes hold an address: what it reaches, at which offset, through which pseudo-relocation, and whether a 32-bit field still reaches once the DLL is loaded. Hover a row for the explanation; click a site for its instruction.",
    );
    let core = &cx.doc.core;
    let s = &core.refs.summary;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "{} instructions, {} RIP-relative operands, {} sites",
            s.instructions, s.rip_relative_operands, s.sites
        ));
        ui.separator();
        ui.label(format!("{} with an import, {} with an offset", s.with_import, s.with_offset));
        ui.separator();
        let warn = ui.visuals().warn_fg_color;
        let unreachable = egui::RichText::new(format!("{} unreachable", s.unreachable));
        if s.unreachable > 0 {
            // A link to those rows: the Reach facet set to "out".
            if ui.add(egui::Link::new(unreachable.color(warn))).on_hover_text("Show them").clicked() {
                let facet = REACH_FACET;
                actions.push(Action::Table(TableId::Refs, TableAction::Facet(facet, Some(Reach::Out.name().into()))));
            }
        } else {
            ui.label(unreachable);
        }
        let bad = egui::RichText::new(format!("{} ambiguous, {} misaddressed", s.ambiguous, s.wraps));
        ui.label(if s.ambiguous + s.wraps > 0 { bad.color(warn) } else { bad });
    });
    super::placement_bar(ui, cx, actions);
    if let Some(note) = &core.refs.note {
        crate::gui::table::empty_note(ui, note);
        return;
    }
    if core.refs.sites.is_empty() {
        crate::gui::table::empty_note(ui, "No site in this file references data through an address.");
        return;
    }
    show_table(ui, cx, TableId::Refs, actions);
}
