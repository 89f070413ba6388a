//! The Verify view: an image opened from a Process document checked against its memory there
//! (`session::verify`, as `verify --explain` does it): the places compared, the mismatches, and
//! every differing range with its cause, faceted by cause and section, each linked to its bytes
//! and its instructions; unexplained bytes in red.

use eframe::egui::{self, RichText};

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::{self, RefKind};
use crate::gui::verify::{VerifyData, STAGES};
use crate::model::Span;
use crate::patch::explain::{Cause, Range};

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the explanation table.
    enum VerifyCol {
        Rva => Column::num("RVA", 90.0, "The first differing byte. Click: its bytes in the Hex view."),
        Len => Column::num("Len", 50.0, "Bytes in the range."),
        Section => Column::text("Section", 80.0, "The section holding it (empty: the headers)."),
        Cause => Column::text("Cause", 110.0, "What wrote these bytes: base-reloc, iat, delay-iat, pseudo-reloc, scheme-step, dynamic-reloc, load-config, tls-index, dynamic-section, header, runtime-write (a writable section written at run time) — or unexplained (red): what a hook or a patch looks like."),
        Code => Column::text("Code", 170.0, "The instruction there (code only; over an unexplained range the memory's). Click: the Disassembly; the tooltip gives the file's and the memory's."),
        Detail => Column::text("Detail", 380.0, "What wrote it (the relocation, the binding and its export), or what was expected."),
        File => Column::text("File", 150.0, "The file's bytes as the loader maps them (first 64)."),
        Memory => Column::text("Memory", 150.0, "The memory's bytes (first 64)."),
        Target => Column::text("Target", 170.0, "Where a branch written there (or a slot's value) goes, named."),
    }
}

/// The explanation table: every differing range, in RVA order.
pub struct VerifyModel<'a> {
    /// The document (for the instruction index).
    pub core: &'a DocCore,
    /// The verification shown.
    pub data: Option<std::sync::Arc<VerifyData>>,
}

impl VerifyModel<'_> {
    fn range(&self, row: usize) -> Option<&Range> {
        self.data.as_deref()?.range(row)
    }

    /// The Disassembly row of the instruction at the range's start, in code.
    fn insn_row(&self, r: &Range) -> Option<usize> {
        let sec = self.core.index.section_pos_by_rva(r.rva).and_then(|p| self.core.bin.sections.get(p))?;
        if !sec.is_exec {
            return None;
        }
        self.core.refs.insns.row_of(r.rva, None)
    }
}

impl TableModel for VerifyModel<'_> {
    fn columns(&self) -> &'static [Column] {
        VerifyCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(r) = self.range(row) else { return String::new() };
        match VerifyCol::from_index(col) {
            Some(VerifyCol::Rva) => format!("{:#x}", r.rva),
            Some(VerifyCol::Len) => r.len.to_string(),
            Some(VerifyCol::Section) => r.section.clone().unwrap_or_default(),
            Some(VerifyCol::Cause) => r.cause.name().to_string(),
            // The memory's instruction over an unexplained range; else the file's, as listed.
            Some(VerifyCol::Code) => match (self.insn_row(r), &r.after) {
                (Some(_), Some(a)) => a.split("; ").next().unwrap_or_default().to_string(),
                (Some(i), None) => super::disasm::DisasmModel { core: self.core }
                    .text(i, super::disasm::DisasmCol::Instruction.index()),
                (None, _) => String::new(),
            },
            Some(VerifyCol::Detail) => r.detail.clone(),
            Some(VerifyCol::File) => r.file.clone(),
            Some(VerifyCol::Memory) => r.memory.clone(),
            Some(VerifyCol::Target) => r.target.clone().unwrap_or_default(),
            None => String::new(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        let Some(r) = self.range(row) else { return Cell::plain(text) };
        let kind = theme::cause_kind(r.cause);
        match VerifyCol::from_index(col) {
            Some(VerifyCol::Rva) => Cell::link(
                text,
                RefKind::Address,
                Action::Navigate { doc: None, target: Target::Rva(r.rva, r.len.max(1)) },
            ),
            Some(VerifyCol::Cause) => Cell::plain(text).tone(Tone::Kind(kind)),
            Some(VerifyCol::Code) => match self.insn_row(r) {
                Some(i) => Cell::link(
                    text,
                    RefKind::Address,
                    Action::Navigate { doc: None, target: Target::Row(TableId::Disasm, i) },
                )
                .tip(match (&r.before, &r.after) {
                    (Some(b), Some(a)) => format!("file: {b}\nmemory: {a}"),
                    _ => "Show the instruction in the Disassembly".to_string(),
                }),
                None => Cell::plain(text),
            },
            Some(VerifyCol::Detail) if r.cause == Cause::Unexplained => {
                Cell::plain(text.clone()).tone(Tone::Kind(RefKind::Unexplained)).tip(text)
            }
            Some(VerifyCol::Detail | VerifyCol::Target) => Cell::plain(text.clone()).tip(text),
            Some(VerifyCol::File | VerifyCol::Memory) if r.cause == Cause::Unexplained => {
                Cell::mono(text).tone(Tone::Kind(RefKind::Unexplained))
            }
            _ => Cell::mono(text),
        }
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        let r = self.range(row)?;
        self.core.index.rva_span(r.rva, r.len.max(1), &self.core.bin)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let r = self.range(row)?;
        let target = match self.insn_row(r) {
            Some(i) if r.cause == Cause::Unexplained => Target::Row(TableId::Disasm, i),
            _ => Target::Rva(r.rva, r.len.max(1)),
        };
        Some(Action::Navigate { doc: None, target })
    }
    fn row_tooltip(&self, row: usize) -> Option<String> {
        let r = self.range(row)?;
        Some(format!("{} bytes at {:#x}: {}", r.len, r.rva, r.detail))
    }
    fn facets(&self) -> Vec<Facet> {
        Facet::each_distinct(&[("Cause", VerifyCol::Cause), ("Section", VerifyCol::Section)], self)
    }
}

/// Draw the Verify view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Verify",
        "This image against its memory in the process it was opened from, every base taken from the dump (or the running process): the places loading writes, compared; then every byte in which the memory differs from the file, with what wrote it. Red is what nothing explains — in code or read-only data, what a hook or a patch looks like.",
    );
    let doc = cx.doc;
    let Some(link) = doc.core.memory.as_ref() else {
        crate::gui::table::empty_note(
            ui,
            "Not linked to a process: open a minidump or a core file (or File → Open process…) and open this module from its Process view.",
        );
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "{} at {:#x} in {} ({} bytes)",
            link.module.name,
            link.module.base,
            link.process_name(),
            link.module.size
        ));
        if ui.link("Process").on_hover_text("Back to the process's modules").clicked() {
            actions.push(Action::ActivateDoc(link.process));
        }
        let running = doc.verify.job.is_some();
        let live = link.source.live().is_some();
        // A live process's memory is a snapshot: say when, and read it again on demand.
        let read_at = match &doc.verify.result {
            Some(Ok(d)) => d.read_at,
            _ => None,
        };
        if let Some(t) = read_at {
            ui.label(RichText::new(format!("· memory read at {}", crate::gui::live::clock(t))).strong()).on_hover_text(
                "A snapshot of the running process's memory, taken when this verification ran: it may have changed since",
            );
        }
        let (label, tip) = if live {
            ("Read again", "Read the process's memory again now and verify it")
        } else {
            ("Verify again", "Verify again against the dump")
        };
        if ui.add_enabled(!running, egui::Button::new(label)).on_hover_text(tip).clicked() {
            actions.push(Action::VerifyRun);
        }
    });
    if let Some(job) = &doc.verify.job {
        ui.horizontal(|ui| {
            let stage = usize::try_from(job.cx().stage()).unwrap_or(0).min(STAGES.len() - 1);
            ui.add(egui::ProgressBar::new(job.cx().fraction()).desired_width(220.0).text(STAGES[stage]).animate(true));
        });
    }
    let data = match &doc.verify.result {
        None => {
            if doc.verify.job.is_none() {
                ui.label("Not verified yet.");
            }
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(theme::severity_color(crate::model::Severity::Error, ui.visuals()), e);
            return;
        }
        Some(Ok(d)) => d.clone(),
    };
    summary(ui, &data, actions);
    ui.add_space(4.0);
    show_table(ui, cx, TableId::Verify, actions);
}

/// The counts: places checked and matched, mismatches, the explanation by cause.
fn summary(ui: &mut egui::Ui, d: &VerifyData, actions: &mut Vec<Action>) {
    let v = &d.verification;
    let e = &d.explanation;
    let red = RefKind::Unexplained.color(ui.visuals());
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("checked {} places, {} matched", v.checked, v.matched)).strong());
        let mism = RichText::new(format!("{} mismatches", v.mismatches.len())).strong();
        ui.label(if v.mismatches.is_empty() { mism } else { mism.color(red) });
        if v.not_in_dump > 0 {
            ui.label(format!("· {} places not in the dump", v.not_in_dump));
        }
        if d.not_yet_bound > 0 {
            ui.label(format!("· {} JUMP_SLOTs not yet bound (lazy binding)", d.not_yet_bound));
        }
        ui.label(format!("· {} of {} bytes held", d.held, d.size));
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{} bytes compared, {} differ:", e.bytes_compared, e.bytes_differing));
        for (cause, n) in &e.by_cause {
            let kind = theme::cause_kind(*cause);
            let text =
                RichText::new(format!("{} {} ({} B)", cause.name(), n.ranges, n.bytes)).color(kind.color(ui.visuals()));
            let r = ui.add(egui::Button::new(text).small()).on_hover_text(format!(
                "{} ranges, {} places, {} bytes. Click: only these rows.",
                n.ranges, n.places, n.bytes
            ));
            if r.clicked() {
                actions.push(Action::Table(
                    TableId::Verify,
                    crate::gui::action::TableAction::Facet(0, Some(cause.name().to_string())),
                ));
            }
        }
        let protected =
            RichText::new(format!("unexplained in code, read-only data or headers: {} B", e.unexplained_protected));
        ui.label(if e.unexplained_protected > 0 { protected.color(red).strong() } else { protected });
    });
    if !v.mismatches.is_empty() {
        egui::CollapsingHeader::new(RichText::new(format!("{} mismatches", v.mismatches.len())).color(red))
            .id_salt("verify-mismatches")
            .show(ui, |ui| {
                egui::ScrollArea::vertical().max_height(140.0).show(ui, |ui| {
                    for m in &v.mismatches {
                        ui.horizontal(|ui| {
                            if theme::link(ui, format!("{:#x}", m.rva), RefKind::Address).clicked() {
                                actions.push(Action::Navigate { doc: None, target: Target::Rva(m.rva, m.len.max(1)) });
                            }
                            ui.label(theme::mono(format!("expected {} · memory {}", m.expected, m.actual)));
                            ui.label(&m.structure);
                        });
                    }
                });
            });
    }
}
