//! "References to this": the data references that reach an import, export, symbol or address,
//! listed in a panel beside the current view (right-click a row of Imports, Exports, Symbols,
//! Data references or Disassembly). A site reaches an import by its true import (the
//! pseudo-relocation's), a symbol by the symbol its target lies in
//! ([`crate::analysis::xref::Targets`]).

use eframe::egui;

use crate::analysis::namer::Namer;
use crate::analysis::xref::Targets;
use crate::analysis::{ImportRef, SymRef};
use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};

/// What "References to this" was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefsTo {
    /// Import row (of the flattened import list).
    Import(usize),
    /// Export position.
    Export(usize),
    /// Symbol position.
    Symbol(usize),
    /// An RVA (section offset in objects).
    Rva(u64),
}

/// The panel's content: what, and the positions of the sites that reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefsPanel {
    /// What was asked about.
    pub to: RefsTo,
    /// Its name, as the panel's title says it.
    pub title: String,
    /// Positions in the document's sites, in address order.
    pub sites: Vec<u32>,
    /// The direct calls and jumps to its start: site RVAs, each with whether it is a `jmp`.
    pub branches: Vec<(u64, bool)>,
}

impl RefsPanel {
    /// The sites of `core` that reach `to`.
    pub fn new(core: &DocCore, to: RefsTo) -> Self {
        let n = Namer { bin: &core.bin, index: &core.index };
        let mut t = Targets::default();
        let title = match to {
            RefsTo::Import(row) => {
                t.imports.push(ImportRef::Row(row as u32));
                n.import_label(ImportRef::Row(row as u32))
            }
            RefsTo::Export(p) => {
                t.add_symbol(&n, SymRef::Export(p as u32));
                let e = core.bin.exports.get(p);
                t.rvas.extend(e.filter(|e| e.forwarder.is_none()).map(|e| e.rva));
                n.symbol(SymRef::Export(p as u32)).unwrap_or_else(|| format!("export #{}", e.map_or(0, |e| e.ordinal)))
            }
            RefsTo::Symbol(p) => {
                t.add_symbol(&n, SymRef::Symbol(p as u32));
                // An object's undefined symbol is an import of its sites.
                t.imports.push(ImportRef::Symbol(p as u32));
                n.symbol(SymRef::Symbol(p as u32)).unwrap_or_default()
            }
            RefsTo::Rva(r) => {
                t.add_address(&crate::analysis::xref::all_imports(&n), r);
                format!("{r:#x}")
            }
        };
        let sites = core.refs.sites.iter().enumerate().filter(|(_, s)| t.reaches(s)).map(|(i, _)| i as u32).collect();
        // The calls and jumps to its first byte (an import has none: its thunk is called).
        let branches = t.starts(&n).into_iter().flat_map(|r| core.refs.branches_to(r)).collect();
        RefsPanel { to, title, sites, branches }
    }
}

/// Draw the panel: the sites, each linked to its instruction (or its bytes), with what it reaches
/// and how; a button closes it.
pub fn show(ui: &mut egui::Ui, core: &DocCore, panel: &RefsPanel, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.heading("References");
        if ui.small_button("Close").on_hover_text("Close this panel").clicked() {
            actions.push(Action::CloseRefs);
        }
    });
    ui.label(format!(
        "to {}: {} data references, {} calls and jumps",
        panel.title,
        panel.sites.len(),
        panel.branches.len()
    ));
    ui.label(
        egui::RichText::new(
            "Direct calls and jumps to its first byte, then the sites whose true target is this (through a pseudo-relocation, an IAT slot or an address inside it).",
        )
        .small()
        .color(ui.visuals().weak_text_color()),
    );
    ui.separator();
    let n = Namer { bin: &core.bin, index: &core.index };
    let h = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
    egui::ScrollArea::vertical().id_salt("refs-panel").auto_shrink(false).show_rows(
        ui,
        h,
        panel.branches.len() + panel.sites.len(),
        |ui, range| {
            let nb = panel.branches.len();
            for &(site, jmp) in &panel.branches[range.start.min(nb)..range.end.min(nb)] {
                ui.horizontal(|ui| {
                    let target = match core.refs.insns.row_of(site, None) {
                        Some(r) => Target::Row(TableId::Disasm, r),
                        None => Target::Rva(site, 1),
                    };
                    let addr = egui::RichText::new(format!("{site:#x}")).monospace();
                    if ui.link(addr).on_hover_text("Show it").clicked() {
                        actions.push(Action::Navigate { doc: None, target });
                    }
                    let what = if jmp { "jmp" } else { "call" };
                    ui.label(egui::RichText::new(what).small().color(ui.visuals().weak_text_color()));
                    let from = core.labels().function_of(site);
                    ui.label(egui::RichText::new(format!("in {}", from.unwrap_or_else(|| "?".into()))).monospace());
                });
            }
            for &i in &panel.sites[range.start.saturating_sub(nb)..range.end.saturating_sub(nb)] {
                let Some(s) = core.refs.sites.get(i as usize) else { continue };
                ui.horizontal(|ui| {
                    let target = match core.refs.insns.row_of(s.site_rva, Some(s.section as usize)) {
                        Some(r) if s.instr_len > 0 => Target::Row(TableId::Disasm, r),
                        _ => Target::Rva(s.field_rva, u64::from(s.width / 8).max(1)),
                    };
                    let addr = egui::RichText::new(format!("{:#x}", s.site_rva)).monospace();
                    if ui.link(addr).on_hover_text("Show it").clicked() {
                        actions.push(Action::Navigate { doc: None, target });
                    }
                    ui.label(egui::RichText::new(s.mode.name()).small().color(ui.visuals().weak_text_color()));
                    ui.label(egui::RichText::new(n.site_label(&s).unwrap_or_default()).monospace());
                    if !crate::gui::lookup::is_object(&core.bin) && s.instr_len > 0 {
                        if let Some(from) = core.labels().function_of(s.site_rva) {
                            ui.label(egui::RichText::new(format!("in {from}")).small().monospace());
                        }
                    }
                    if s.ambiguous {
                        ui.colored_label(ui.visuals().warn_fg_color, "ambiguous");
                    }
                });
            }
        },
    );
}
