//! The Diff view: every changed byte range with the structures it belongs to, in words; the
//! selected change's bytes side by side, coloured as the structure; next / previous change on
//! buttons and F8 / Shift+F8; the structural changes.

use std::sync::Arc;

use eframe::egui::{self, Key, RichText};

use crate::diff::{Change, Mode};
use crate::gui::action::{Action, DiffAction, Target};
use crate::gui::diff::DiffData;
use crate::gui::document::TableId;
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::RefKind;

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the diff-change table.
    enum DiffCol {
        Index => Column::num("#", 40.0, "Change number, in address order."),
        At => Column::num("At", 90.0, "File offset (files) or RVA (memory images) of the first changed byte. Click to see it."),
        Len => Column::num("Len", 44.0, "Bytes in the change."),
        Structure => Column::text("Structure", 120.0, "The innermost structure the change belongs to."),
        Name => Column::text("Name", 170.0, "Its name: the header field, the import, the section, …"),
        Object => Column::text("Object", 150.0, "From the PDBs: the object (and archive) whose contribution holds the bytes, the second build's (the first's for bytes that went away). Empty without the PDBs; \"none\" where no contribution holds them."),
        Before => Column::num("Before", 150.0, "The first side's bytes."),
        After => Column::num("After", 150.0, "The second side's bytes."),
        WhatChanged => Column::text("What changed", 520.0, "The change in words, with every structure it overlaps (hover)."),
    }
}

/// The changes of the current diff.
pub struct DiffModel {
    /// The diff (None: none computed yet).
    pub data: Option<Arc<DiffData>>,
}

impl DiffModel {
    fn change(&self, row: usize) -> Option<&Change> {
        self.data.as_ref()?.diff.changes.get(row)
    }
}

/// The colour family of a structure kind.
pub fn kind_ref(kind: &str) -> RefKind {
    match kind {
        "header-field" | "header" | "program-header" | "rich-header" => RefKind::Header,
        "section-header" | "section-data" => RefKind::Section,
        "iat-slot" | "delay-iat-slot" | "ilt-slot" | "import-descriptor" => RefKind::Import,
        "export" => RefKind::Export,
        "base-reloc-block" | "base-reloc-entry" | "base-reloc-site" | "relocation" | "relocation-site" => {
            RefKind::Reloc
        }
        "pseudo-reloc-item" | "pseudo-reloc-site" | "pseudo-reloc-list" => RefKind::PseudoReloc,
        "symbol" | "symbol-record" => RefKind::Symbol,
        "data-directory" | "debug-entry" => RefKind::DataDir,
        "instruction" | "data-ref-site" => RefKind::Address,
        _ => RefKind::Other,
    }
}

fn at(c: &Change) -> u64 {
    c.offset.or(c.rva).unwrap_or(0)
}

impl TableModel for DiffModel {
    fn columns(&self) -> &'static [Column] {
        DiffCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.diff.changes.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(c) = self.change(row) else { return String::new() };
        let first = c.structures.first();
        let cut = if c.truncated { "…" } else { "" };
        let Some(col) = DiffCol::from_index(col) else { return String::new() };
        match col {
            DiffCol::Index => row.to_string(),
            DiffCol::At => format!("{:#x}", at(c)),
            DiffCol::Len => c.len.to_string(),
            DiffCol::Structure => first.map_or("bytes", |s| s.kind).to_string(),
            DiffCol::Name => first.map_or_else(String::new, |s| s.name.clone()),
            DiffCol::Object => match &c.object {
                Some(Some(o)) => o.module.clone(),
                Some(None) => "none".into(),
                None => String::new(),
            },
            DiffCol::Before => format!("{}{cut}", c.before),
            DiffCol::After => format!("{}{cut}", c.after),
            DiffCol::WhatChanged => c.words.clone(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        let Some(c) = self.change(row) else { return Cell::plain(text) };
        let kind = c.structures.first().map_or(RefKind::Other, |s| kind_ref(s.kind));
        let Some(col) = DiffCol::from_index(col) else { return Cell::plain(text) };
        match col {
            DiffCol::At => {
                let target = match self.data.as_ref().map(|d| d.diff.mode) {
                    Some(Mode::Image) => Target::Rva(at(c), c.len),
                    _ => Target::Bytes(crate::model::Span::new(at(c), c.len)),
                };
                Cell::link(text, RefKind::Address, Action::Navigate { doc: None, target })
            }
            DiffCol::Structure | DiffCol::Name => Cell::plain(text).tone(Tone::Kind(kind)),
            DiffCol::Object => match &c.object {
                Some(Some(o)) if o.archive != o.module && !o.archive.is_empty() => {
                    let tip = format!("{} in {}", o.module, o.archive);
                    Cell::plain(text).tip(tip)
                }
                Some(None) => Cell::plain(text).tone(Tone::Weak),
                _ => Cell::plain(text.clone()).tip(text),
            },
            DiffCol::WhatChanged => {
                let chain: Vec<String> = c
                    .structures
                    .iter()
                    .map(|s| match (&s.before, &s.after) {
                        (Some(b), Some(a)) => format!("{} {}: {b} → {a}", s.kind, s.name),
                        _ => format!("{} {}", s.kind, s.name),
                    })
                    .collect();
                Cell::plain(text).tip(chain.join("\n"))
            }
            DiffCol::Index | DiffCol::Len | DiffCol::Before | DiffCol::After => Cell::mono(text),
        }
    }
    fn facets(&self) -> Vec<Facet> {
        let mut kinds: Vec<String> = Vec::new();
        for row in 0..self.len() {
            let k = self.text(row, DiffCol::Structure.index());
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let mut facets = vec![Facet::new("Structure", DiffCol::Structure, kinds)];
        if self.data.as_ref().is_some_and(|d| d.diff.changes.iter().any(|c| c.object.is_some())) {
            facets.push(Facet::distinct("Object", DiffCol::Object, self));
        }
        facets
    }
}

/// Draw the Diff view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Diff",
        "Every changed byte range, with each structure it belongs to, innermost first: a header field by name, an IAT slot by its import, a pseudo-relocation and the field it patches, an instruction before and after. File → Compare with… diffs two open files; the Patch view's Apply and Show in Diff diff the simulated load or the prediction against a dump.",
    );
    let st = &cx.doc.diff;
    if st.job.is_some() {
        // No animation: the job wakes the UI when it is done, and nothing repaints meanwhile.
        ui.label("comparing…");
    }
    let data = match &st.result {
        None => {
            crate::gui::table::empty_note(
                ui,
                "Nothing compared yet: File → Compare with… another open file, or Apply in the Patch view.",
            );
            return;
        }
        Some(Err(e)) => {
            crate::gui::table::empty_note(ui, &format!("No diff: {e}"));
            return;
        }
        Some(Ok(d)) => d.clone(),
    };
    let s = &data.diff.summary;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(&data.label).strong());
        ui.separator();
        if s.identical {
            ui.label(format!("identical ({} bytes compared)", s.bytes_compared));
        } else {
            ui.label(format!(
                "{} changes, {} bytes differ of {} (aligned by {}); {} structural",
                s.changes, s.bytes_changed, s.bytes_compared, s.aligned_by, s.structural
            ));
        }
        ui.separator();
        let prev = ui.button("◀ Previous").on_hover_text("Previous change (Shift+F8)").clicked()
            || ui.input(|i| i.key_pressed(Key::F8) && i.modifiers.shift);
        let next = ui.button("Next ▶").on_hover_text("Next change (F8)").clicked()
            || ui.input(|i| i.key_pressed(Key::F8) && !i.modifiers.shift);
        if prev || next {
            actions.push(Action::Diff(DiffAction::Step(next)));
        }
    });
    for n in data.diff.notes.iter().take(3) {
        ui.label(RichText::new(format!("Note: {n}")).color(ui.visuals().weak_text_color()));
    }
    if !data.diff.structural.is_empty() {
        egui::CollapsingHeader::new(format!("Structural changes ({})", data.diff.structural.len())).show(ui, |ui| {
            egui::ScrollArea::vertical().max_height(140.0).id_salt("structural").show(ui, |ui| {
                for sc in &data.diff.structural {
                    let fields: Vec<String> =
                        sc.fields.iter().map(|f| format!("{} {} → {}", f.field, f.before, f.after)).collect();
                    ui.label(format!(
                        "{} {} {}{}",
                        sc.change,
                        sc.kind,
                        sc.name,
                        if fields.is_empty() { String::new() } else { format!(": {}", fields.join(", ")) }
                    ));
                }
            });
        });
    }
    let selected = cx.doc.table(TableId::Diff).selected.and_then(|r| data.diff.changes.get(r));
    if let Some(c) = selected {
        egui::Frame::group(ui.style()).show(ui, |ui| side_by_side(ui, &data, c));
    }
    show_table(ui, cx, TableId::Diff, actions);
}

/// The bytes around a change on both sides, the changed ones in the structure's colour.
fn side_by_side(ui: &mut egui::Ui, data: &DiffData, c: &Change) {
    let color = c.structures.first().map_or(ui.visuals().warn_fg_color, |s| kind_ref(s.kind).color(ui.visuals()));
    ui.label(RichText::new(&c.words).strong());
    if let Some(i) = c.structures.iter().find(|s| s.kind == "instruction") {
        ui.label(
            RichText::new(format!("{}  →  {}", i.before.as_deref().unwrap_or("?"), i.after.as_deref().unwrap_or("?")))
                .monospace(),
        );
    }
    let start = at(c);
    let b_start = c.offset_b.unwrap_or(start);
    let row0 = start / 16 * 16;
    let rows = ((c.len.min(64) + (start - row0)).div_ceil(16) + 2).min(6);
    ui.columns(2, |cols| {
        for (k, (col, bytes, base)) in
            [(0usize, data.a.get(), row0), (1, data.b.get(), row0 + b_start - start)].into_iter().enumerate()
        {
            let ui = &mut cols[col];
            ui.label(RichText::new(if k == 0 { "before" } else { "after" }).weak());
            for r in 0..rows {
                let addr = base.saturating_sub(16) + r * 16;
                let mut job = egui::text::LayoutJob::default();
                let font = egui::TextStyle::Monospace.resolve(ui.style());
                let plain = ui.visuals().text_color();
                job.append(
                    &format!("{addr:08x}  "),
                    0.0,
                    egui::TextFormat::simple(font.clone(), ui.visuals().weak_text_color()),
                );
                for i in 0..16u64 {
                    let a = addr + i;
                    let byte = bytes.get(a as usize).map_or("  ".to_string(), |b| format!("{b:02x}"));
                    let own = if k == 0 { start } else { b_start };
                    let changed = a >= own && a < own + c.len;
                    let fmt = egui::TextFormat::simple(font.clone(), if changed { color } else { plain });
                    job.append(&format!("{byte} "), 0.0, fmt);
                }
                ui.label(job);
            }
        }
    });
}
