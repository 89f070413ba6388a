//! The lists beside a selected OMF record in the Records view: its FIXUP subrecords (location,
//! raw Locat / Fix Data, the record on the other side, the fixup in words, and the instruction it
//! patches in the Disassembly view) and its THREAD subrecords. Every row selects its bytes.

use eframe::egui::{self, Align, Layout, RichText};
use egui_extras::{Column as EColumn, TableBuilder};

use crate::gui::action::{Action, Target};
use crate::gui::document::TableId;
use crate::gui::omf::{fixup_details, fixup_insn_row, fixup_place, fixup_raw};
use crate::gui::theme::{self, RefKind};

use super::records::{header_cell, row_height};
use super::ViewCtx;

pub(super) fn fixup_list(
    ui: &mut egui::Ui,
    cx: &ViewCtx<'_>,
    r: usize,
    fixups: &[u32],
    own: bool,
    height: f32,
    actions: &mut Vec<Action>,
) {
    let core = &cx.doc.core;
    let bin = &core.bin;
    let Some(omf) = &bin.omf else { return };
    let other = |f: &crate::model::OmfFixup| if own { f.data_record } else { Some(f.record) };
    let other_name =
        |o: usize| bin.omf_records.get(o).map_or_else(|| format!("#{o}"), |x| format!("#{o} {}", x.type_name));
    let nb = bin.base_relocations.len();
    let row_h = row_height(ui);
    let selection = cx.doc.hex.selection;
    let visuals = ui.visuals().clone();
    list_table(ui, ("omf-fixups", r), height, row_h)
        .column(EColumn::initial(44.0).at_least(30.0).clip(true))
        .column(EColumn::initial(104.0).at_least(50.0).clip(true))
        .column(EColumn::initial(54.0).at_least(40.0).clip(true))
        .column(EColumn::initial(60.0).at_least(40.0).clip(true))
        .column(EColumn::initial(104.0).at_least(50.0).clip(true))
        .column(EColumn::initial(130.0).at_least(50.0).clip(true))
        .column(EColumn::remainder().at_least(160.0).clip(true))
        .header(row_h, |mut h| {
            h.col(|ui| header_cell(ui, "#", "Fixup number in the module (also its row in the Relocations view). Click to show it there."));
            h.col(|ui| {
                header_cell(
                    ui,
                    "Location",
                    "Where the fixup patches: segment (or COMDAT) + offset. Click to select the patched bytes.",
                )
            });
            h.col(|ui| {
                header_cell(
                    ui,
                    "Locat",
                    "The raw Locat bytes, high byte first: 1, M (1 segment-relative, 0 self-relative), the location type (4 bits) and the data record offset (10 bits).",
                )
            });
            h.col(|ui| {
                header_cell(
                    ui,
                    "Fix data",
                    "The raw Fix Data byte: F (frame from a thread), frame method (3 bits), T (target from a thread), P (no displacement), target method (2 bits).",
                )
            });
            h.col(|ui| {
                let (name, help) = if own {
                    ("Patches", "The data record whose bytes the fixup patches. Click to show it.")
                } else {
                    ("From", "The FIXUPP record holding the fixup. Click to show it.")
                };
                header_cell(ui, name, help)
            });
            h.col(|ui| {
                header_cell(
                    ui,
                    "Instruction",
                    "The instruction whose bytes the fixup patches, for a fixup in a code segment. Click to show it in the Disassembly view.",
                )
            });
            h.col(|ui| header_cell(ui, "Fixup", "What the linker stores at the location, in words. Hover for frame and target in detail."));
        })
        .body(|body| {
            body.rows(row_h, fixups.len(), |mut row| {
                let Some(&i) = fixups.get(row.index()) else { return };
                let Some(f) = omf.fixups.get(i as usize) else { return };
                let site = core.lookup.omf.sites.get(i as usize).copied().flatten();
                row.set_selected(selection == Some(f.span) || (site.is_some() && selection == site));
                row.col(|ui| {
                    if theme::link(ui, i.to_string(), RefKind::Reloc)
                        .on_hover_text("Show this fixup in the Relocations view")
                        .clicked()
                    {
                        actions.push(Action::Navigate {
                            doc: None,
                            target: Target::Row(TableId::Relocations, nb + i as usize),
                        });
                    }
                });
                row.col(|ui| {
                    let label = fixup_place(f.section.and_then(|s| core.index.section_label(s)), f);
                    let resp = theme::link(ui, label, RefKind::Section);
                    let resp = match site {
                        Some(s) => resp.on_hover_text(format!(
                            "Select the {} byte(s) this fixup patches (file {:#x}, data record offset {:#x})",
                            s.len, s.offset, f.data_offset
                        )),
                        None => resp.on_hover_text("The patched bytes are not in the file; this selects the subrecord"),
                    };
                    if resp.clicked() {
                        actions.push(Action::HexShow(site.unwrap_or(f.span)));
                    }
                });
                let (locat, fixdat) = fixup_raw(f);
                let rec = bin.omf_records.get(f.record);
                let field_tip = |off: u64| rec.and_then(|rec| crate::gui::omf::field_at(rec, off)).map(|x| x.display.clone());
                row.col(|ui| {
                    let resp = ui.label(theme::mono(locat));
                    if let Some(t) = field_tip(f.span.offset) {
                        resp.on_hover_text(t);
                    }
                });
                row.col(|ui| {
                    let resp = ui.label(theme::mono(fixdat));
                    if let Some(t) = field_tip(f.span.offset + 2) {
                        resp.on_hover_text(t);
                    }
                });
                row.col(|ui| match other(f) {
                    Some(o) => {
                        if theme::link(ui, other_name(o), RefKind::Address).on_hover_text("Show this record").clicked() {
                            actions.push(Action::Navigate { doc: None, target: Target::Row(TableId::OmfRecords, o) });
                        }
                    }
                    None => {
                        ui.label(RichText::new("none").color(visuals.weak_text_color()));
                    }
                });
                row.col(|ui| match fixup_insn_row(core, i as usize) {
                    Some(insn) => {
                        use crate::gui::table::TableModel;
                        let model = super::disasm::DisasmModel { core };
                        let col = model.columns().iter().position(|c| c.name == "Instruction").unwrap_or(0);
                        let text = model.text(insn, col);
                        if theme::link(ui, &text, RefKind::Address)
                            .on_hover_text("The instruction this fixup patches: click to show it in the Disassembly view")
                            .clicked()
                        {
                            actions.push(Action::Navigate { doc: None, target: Target::Row(TableId::Disasm, insn) });
                        }
                    }
                    None => {
                        ui.label(RichText::new("not in code").color(visuals.weak_text_color())).on_hover_text(
                            "The fixup patches data, or bytes the disassembly did not decode as an instruction.",
                        );
                    }
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(&f.description).truncate()).on_hover_text(fixup_details(f));
                });
                if row.response().clicked() {
                    actions.push(Action::HexShow(f.span));
                }
            });
        });
}

pub(super) fn thread_list(
    ui: &mut egui::Ui,
    cx: &ViewCtx<'_>,
    r: usize,
    threads: &[u32],
    height: f32,
    actions: &mut Vec<Action>,
) {
    let core = &cx.doc.core;
    let Some(omf) = &core.bin.omf else { return };
    let row_h = row_height(ui);
    let selection = cx.doc.hex.selection;
    list_table(ui, ("omf-threads", r), height, row_h)
        .column(EColumn::initial(110.0).at_least(60.0).clip(true))
        .column(EColumn::initial(64.0).at_least(40.0).clip(true))
        .column(EColumn::initial(64.0).at_least(40.0).clip(true))
        .column(EColumn::remainder().at_least(160.0).clip(true))
        .header(row_h, |mut h| {
            h.col(|ui| header_cell(ui, "Thread", "Frame or target thread, and its number."));
            h.col(|ui| header_cell(ui, "Method", "Frame method F0–F6 or target method T0–T3."));
            h.col(|ui| header_cell(ui, "Offset", "File offset of the subrecord. Click to select it."));
            h.col(|ui| header_cell(ui, "Remembers", "What later fixups get when they use this thread."));
        })
        .body(|body| {
            body.rows(row_h, threads.len(), |mut row| {
                let Some(t) = threads.get(row.index()).and_then(|&i| omf.threads.get(i as usize)) else { return };
                row.set_selected(selection == Some(t.span));
                row.col(|ui| {
                    ui.label(format!("{} thread {}", if t.frame { "frame" } else { "target" }, t.number));
                });
                row.col(|ui| {
                    ui.label(theme::mono(format!("{}{}", if t.frame { 'F' } else { 'T' }, t.method)));
                });
                row.col(|ui| {
                    if theme::link(ui, format!("{:#x}", t.span.offset), RefKind::Address).clicked() {
                        actions.push(Action::HexShow(t.span));
                    }
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(&t.description).truncate()).on_hover_text(&t.description);
                });
                if row.response().clicked() {
                    actions.push(Action::HexShow(t.span));
                }
            });
        });
}

/// A record's sub-list (fields, fixups, threads): striped, resizable, clickable rows, at most
/// `height` tall.
pub(super) fn list_table<'a>(
    ui: &'a mut egui::Ui,
    id: (&'static str, usize),
    height: f32,
    row_h: f32,
) -> TableBuilder<'a> {
    TableBuilder::new(ui)
        .id_salt(id)
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .animate_scrolling(false)
        .auto_shrink([false, true])
        .min_scrolled_height(0.0)
        .max_scroll_height((height - row_h - 8.0).max(row_h * 2.0))
        .cell_layout(Layout::left_to_right(Align::Center))
}
