//! OMF records: every record of an OMF module in file order (number, offset, type, length,
//! checksum status, summary). The selected record's bytes are selected in the hex pane, tinted
//! field by field; beside the table its fields are listed with their offsets, bytes and decoded
//! values (hover for what each means), and a FIXUPP record, or a LEDATA / LIDATA / COMDAT record
//! that FIXUPP patches, lists its fixups in words. Every field, fixup and thread is clickable and
//! selects its bytes.

use eframe::egui::{self, RichText};
use egui_extras::Column as EColumn;

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, RecordTab, TableId};
use crate::gui::omf::{base_type, checksum_help, checksum_tone, is_envelope, record_help, record_kind, record_span};
use crate::gui::table::{columns, empty_note, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::{self, RefKind};
use crate::model::{OmfRecord, Span};

use super::headers::bytes_hex;
use super::{intro, record_lists, show_table, ViewCtx};

columns! {
    /// Columns of the OMF record table.
    enum RecordCol {
        Index => Column::num("#", 40.0, "Record number in file order, from 0."),
        Offset => Column::num("Offset", 64.0, "File offset of the record's type byte. Click to see the record's bytes."),
        Type => Column::text("Type", 86.0, "Record type. A 32 suffix marks the 32-bit variant (odd type byte), whose offset fields are 4 bytes wide. Hover for what the record is for."),
        Length => Column::num("Length", 56.0, "The record length field: body bytes plus the checksum byte. The record takes 3 more bytes (type and length)."),
        Checksum => Column::text("Checksum", 70.0, "ok: the record's bytes sum to 0 modulo 256. zero: the checksum byte is 0, meaning not computed (accepted). bad: neither. missing: the record is cut off."),
        Summary => Column::text("Summary", 420.0, "What the record says, in one line."),
    }
}

/// The records of an OMF module (or the LIBHDR / LIBEND records of a library).
pub struct RecordModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl RecordModel<'_> {
    fn rec(&self, row: usize) -> Option<&OmfRecord> {
        self.core.bin.omf_records.get(row)
    }
}

impl TableModel for RecordModel<'_> {
    fn columns(&self) -> &'static [Column] {
        RecordCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.bin.omf_records.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(r) = self.rec(row) else { return String::new() };
        let Some(col) = RecordCol::from_index(col) else { return String::new() };
        match col {
            RecordCol::Index => row.to_string(),
            RecordCol::Offset => format!("{:#x}", r.offset),
            RecordCol::Type => r.type_name.clone(),
            RecordCol::Length => r.length.to_string(),
            RecordCol::Checksum => r.checksum.clone(),
            RecordCol::Summary => r.summary.clone(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let Some(r) = self.rec(row) else { return Cell::plain("") };
        let text = self.text(row, col);
        let Some(col) = RecordCol::from_index(col) else { return Cell::plain(text) };
        match col {
            RecordCol::Offset => match record_span(&self.core.bin, row) {
                Some(span) => {
                    Cell::link(text, RefKind::Address, Action::Navigate { doc: None, target: Target::Bytes(span) })
                        .tip("Show the record's bytes in the hex view")
                }
                None => Cell::mono(text),
            },
            RecordCol::Type => Cell::mono(text).tone(Tone::Kind(record_kind(r.record_type))).tip(record_help(r)),
            RecordCol::Checksum => Cell::mono(text).tone(checksum_tone(&r.checksum)).tip(checksum_help(&r.checksum)),
            RecordCol::Summary => Cell::plain(text.clone()).tip(text),
            RecordCol::Index | RecordCol::Length => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        record_span(&self.core.bin, row)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        self.row_span(row).map(|s| Action::Navigate { doc: None, target: Target::Bytes(s) })
    }
    fn facets(&self) -> Vec<Facet> {
        let ix = &self.core.lookup.omf;
        let mut v = vec![Facet::new("Type", RecordCol::Type, ix.record_types.clone())];
        if ix.checksums.len() > 1 {
            v.push(Facet::new("Checksum", RecordCol::Checksum, ix.checksums.clone()));
        }
        v
    }
}

/// Draw the Records view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let bin = &core.bin;
    intro(
        ui,
        "OMF records",
        "Type byte, 2-byte length, body, checksum byte: select a record to see each field explained and the fixups that belong to it.",
    );
    if bin.omf_records.is_empty() {
        empty_note(
            ui,
            &format!(
                "No OMF records: this file is {}. Records are how OMF object modules and libraries (16- and 32-bit DOS, OS/2 and Windows toolchains) are written.",
                bin.format.name()
            ),
        );
        return;
    }
    let selected = cx.doc.table(TableId::OmfRecords).selected.filter(|&r| r < bin.omf_records.len());
    let avail = ui.available_height();
    egui::Panel::top("omf-records-table")
        .resizable(true)
        .show_separator_line(true)
        .frame(egui::Frame::NONE)
        .default_size((avail * 0.36).max(110.0))
        .size_range(90.0..=(avail - 60.0).max(100.0))
        .show(ui, |ui| {
            show_table(ui, cx, TableId::OmfRecords, actions);
        });
    egui::CentralPanel::no_frame().show(ui, |ui| {
        ui.add_space(6.0);
        match selected {
            Some(r) => details(ui, cx, r, actions),
            None => {
                ui.weak("Select a record: its fields, and the fixups that belong to it, are listed here and its bytes are selected in the hex pane.");
            }
        }
    });
}

pub(super) fn row_height(ui: &egui::Ui) -> f32 {
    ui.text_style_height(&egui::TextStyle::Body).max(ui.text_style_height(&egui::TextStyle::Monospace)) + 4.0
}

/// The lists record `r` has, in tab order, and the one shown first.
fn tabs_of(cx: &ViewCtx<'_>, r: usize) -> (Vec<(RecordTab, usize)>, RecordTab) {
    let core = &cx.doc.core;
    let ix = &core.lookup.omf;
    let Some(rec) = core.bin.omf_records.get(r) else { return (Vec::new(), RecordTab::Fields) };
    let (fixups, threads) = (ix.fixups_of(r).len(), ix.threads_of(r).len());
    let is_fixupp = base_type(rec) == "FIXUPP";
    let mut tabs = Vec::new();
    if is_fixupp {
        tabs.push((RecordTab::Fixups, fixups));
        if threads > 0 {
            tabs.push((RecordTab::Threads, threads));
        }
        tabs.push((RecordTab::Fields, rec.fields.len()));
    } else {
        tabs.push((RecordTab::Fields, rec.fields.len()));
        if fixups > 0 {
            tabs.push((RecordTab::Fixups, fixups));
        }
    }
    // A FIXUPP record opens on what it means; others on their fields.
    let default = match (is_fixupp, fixups, threads) {
        (true, 0, t) if t > 0 => RecordTab::Threads,
        (true, 0, _) => RecordTab::Fields,
        (true, _, _) => RecordTab::Fixups,
        _ => RecordTab::Fields,
    };
    let shown = match cx.doc.record_tab {
        Some(t) if tabs.iter().any(|(x, _)| *x == t) => t,
        _ => default,
    };
    (tabs, shown)
}

fn details(ui: &mut egui::Ui, cx: &ViewCtx<'_>, r: usize, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let bin = &core.bin;
    let Some(rec) = bin.omf_records.get(r) else { return };
    let span = record_span(bin, r).unwrap_or_default();
    let visuals = ui.visuals().clone();
    ui.horizontal_wrapped(|ui| {
        ui.label(theme::mono(format!("#{r}")).strong());
        ui.label(theme::mono_kind(&rec.type_name, record_kind(rec.record_type), &visuals).strong())
            .on_hover_text(format!("Record type 0x{:02x}", rec.record_type));
        if theme::link(ui, format!("at {:#x}", rec.offset), RefKind::Address)
            .on_hover_text("Select the whole record in the hex pane")
            .clicked()
        {
            actions.push(Action::HexShow(span));
        }
        ui.label(theme::mono(format!("{} bytes", span.len)));
        let color = match checksum_tone(&rec.checksum) {
            Tone::Kind(k) => k.color(&visuals),
            Tone::Severity(s) => theme::severity_color(s, &visuals),
            _ => visuals.text_color(),
        };
        ui.label(RichText::new(format!("checksum {}", rec.checksum)).color(color))
            .on_hover_text(checksum_help(&rec.checksum));
        ui.label(RichText::new(&rec.summary).color(visuals.weak_text_color()));
    });
    ui.label(RichText::new(record_help(rec)).color(visuals.weak_text_color()));
    ui.add_space(2.0);

    let ix = &core.lookup.omf;
    let fixups = ix.fixups_of(r);
    let (tabs, shown) = tabs_of(cx, r);
    let own = base_type(rec) == "FIXUPP";
    ui.horizontal_wrapped(|ui| {
        for (tab, n) in &tabs {
            let name = match (tab, own) {
                (RecordTab::Fields, _) => "Fields",
                (RecordTab::Fixups, true) => "Fixups",
                (RecordTab::Fixups, false) => "Fixups patching it",
                (RecordTab::Threads, _) => "Threads",
            };
            if ui.selectable_label(*tab == shown, RichText::new(format!("{name} ({n})")).strong()).clicked() {
                actions.push(Action::SetRecordTab(*tab));
            }
        }
        let note = match shown {
            RecordTab::Fields => "Hover a field for what it means; click one to select its bytes.".to_string(),
            RecordTab::Threads => {
                "A THREAD remembers a frame or target under a number 0–3 for later fixups (F or T bit set), in this or later FIXUPP records.".to_string()
            }
            RecordTab::Fixups => fixup_note(cx, fixups, own),
        };
        ui.label(RichText::new(note).color(visuals.weak_text_color()));
    });
    ui.add_space(2.0);
    let height = ui.available_height();
    match shown {
        RecordTab::Fields => field_list(ui, cx, r, height, actions),
        RecordTab::Fixups => record_lists::fixup_list(ui, cx, r, fixups, own, height, actions),
        RecordTab::Threads => record_lists::thread_list(ui, cx, r, ix.threads_of(r), height, actions),
    }
}

/// What the fixups listed with a record patch, and from where.
fn fixup_note(cx: &ViewCtx<'_>, fixups: &[u32], own: bool) -> String {
    let bin = &cx.doc.core.bin;
    let Some(omf) = &bin.omf else { return String::new() };
    let f = fixups.first().and_then(|&i| omf.fixups.get(i as usize));
    let other = f.and_then(|f| if own { f.data_record } else { Some(f.record) });
    let name = |o: usize| bin.omf_records.get(o).map_or_else(|| format!("#{o}"), |x| format!("#{o} {}", x.type_name));
    match (own, other) {
        (true, Some(d)) => format!(
            "Each patches bytes of the data record before it, {}. Click a fixup to select its subrecord, its location for the bytes it patches.",
            name(d)
        ),
        (true, None) => "No data record comes before these fixups: they patch nothing.".to_string(),
        (false, Some(x)) => format!(
            "The FIXUP subrecords of {} patch this record's bytes. Click a fixup to select its subrecord, its location for the bytes it patches.",
            name(x)
        ),
        (false, None) => String::new(),
    }
}

pub(super) fn header_cell(ui: &mut egui::Ui, name: &str, help: &str) {
    ui.label(RichText::new(name).strong()).on_hover_text(help);
}

fn field_list(ui: &mut egui::Ui, cx: &ViewCtx<'_>, r: usize, height: f32, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let Some(rec) = core.bin.omf_records.get(r) else { return };
    if rec.fields.is_empty() {
        ui.weak("No fields decoded (the module's field budget ran out, or the record is empty).");
        return;
    }
    let visuals = ui.visuals().clone();
    let row_h = row_height(ui);
    let kind = record_kind(rec.record_type);
    let selection = cx.doc.hex.selection;
    super::record_lists::list_table(ui, ("omf-fields", r), height, row_h)
        .column(EColumn::initial(170.0).at_least(60.0).clip(true))
        .column(EColumn::initial(64.0).at_least(40.0).clip(true))
        .column(EColumn::initial(190.0).at_least(40.0).clip(true))
        .column(EColumn::remainder().at_least(120.0).clip(true))
        .header(row_h, |mut h| {
            h.col(|ui| {
                header_cell(ui, "Field", "Field name as the OMF specification spells it. Hover for an explanation.")
            });
            h.col(|ui| header_cell(ui, "Offset", "File offset of the field. Click to select its bytes."));
            h.col(|ui| {
                header_cell(ui, "Bytes", "The field's raw bytes in file order (little-endian numbers appear reversed).")
            });
            h.col(|ui| header_cell(ui, "Value", "The value, decoded where it has a meaning."));
        })
        .body(|body| {
            body.rows(row_h, rec.fields.len(), |mut row| {
                let Some(f) = rec.fields.get(row.index()) else { return };
                row.set_selected(selection == Some(f.span));
                let fkind = if is_envelope(rec, f.span) { RefKind::Header } else { kind };
                row.col(|ui| {
                    ui.add(egui::Label::new(RichText::new(&f.name).color(fkind.color(&visuals))).truncate())
                        .on_hover_text(f.help);
                });
                row.col(|ui| {
                    if theme::link(ui, format!("{:#x}", f.span.offset), RefKind::Address)
                        .on_hover_text("Select this field's bytes")
                        .clicked()
                    {
                        actions.push(Action::HexShow(f.span));
                    }
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(theme::mono(bytes_hex(&core.data, f.span, 8))).truncate());
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(theme::mono(&f.display)).truncate())
                        .on_hover_text(format!("{}\n\n{}", f.display, f.help));
                });
                if row.response().clicked() {
                    actions.push(Action::HexShow(f.span));
                }
            });
        });
}
