//! The Patch view: the loader and a fix-up scheme simulated on this image with its DLLs, every
//! step with its status and reason in words, steps switched off and on, the runtime's abort as
//! it prints it, and a memory dump verified against the prediction.

use std::sync::Arc;

use eframe::egui;

use crate::analysis::namer::with_offset;
use crate::gui::action::{Action, DiffAction, PatchAction, Target};
use crate::gui::document::TableId;
use crate::gui::patch::Preset;
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::Severity;
use crate::patch::{PatchPlan, SchemeKind, Status};

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the patch-step table.
    enum PatchCol {
        Index => Column::num("#", 34.0, "Step number (the list order the runtime follows)."),
        On => Column::text("On", 34.0, "Click to switch the step off (or on) and see what changes."),
        FieldRva => Column::num("Field RVA", 80.0, "The patched field. Click to see it in the disassembly or the bytes."),
        Section => Column::text("Section", 64.0, "Section holding the field."),
        Width => Column::num("Width", 44.0, "Bits written."),
        Before => Column::num("Before", 130.0, "The field after the loader (relocated, IAT bound), before this step."),
        After => Column::num("After", 130.0, "What the step writes (for a missed step: what it should have written)."),
        Status => Column::text("Status", 120.0, "applied, needs-writable-page, out-of-range (the runtime aborts), unresolved, misidentified, missed, not-reached (after the abort)."),
        Import => Column::text("Import", 150.0, "The import (and offset into it) the step targets."),
        Instruction => Column::text("Instruction", 300.0, "For a field inside an instruction: before → after."),
        Why => Column::text("Why", 420.0, "The step in words."),
    }
}

/// The steps of the current plan.
pub struct PatchModel {
    /// The plan (None: not computed yet).
    pub plan: Option<Arc<PatchPlan>>,
}

impl PatchModel {}

fn status_tone(s: Status) -> Tone {
    match s {
        Status::Applied => Tone::Plain,
        Status::NeedsWritablePage => Tone::Severity(Severity::Info),
        Status::Unresolved | Status::NotReached => Tone::Weak,
        Status::OutOfRange | Status::Misidentified | Status::Missed => Tone::Severity(Severity::Error),
    }
}

impl TableModel for PatchModel {
    fn columns(&self) -> &'static [Column] {
        PatchCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.plan.as_ref().map_or(0, |p| p.steps.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(s) = self.plan.as_ref().and_then(|p| p.steps.get(row)) else { return String::new() };
        let Some(col) = PatchCol::from_index(col) else { return String::new() };
        match col {
            PatchCol::Index => s.index.to_string(),
            PatchCol::On => if s.enabled { "on" } else { "off" }.into(),
            PatchCol::FieldRva => format!("{:#x}", s.target_rva),
            PatchCol::Section => s.section.clone().unwrap_or_default(),
            PatchCol::Width => s.width.to_string(),
            PatchCol::Before => format!("{:#x}", s.before),
            PatchCol::After => format!("{:#x}", s.after),
            PatchCol::Status => s.status.name().to_string(),
            PatchCol::Import => s.import.as_deref().map_or_else(String::new, |i| with_offset(i, s.offset)),
            PatchCol::Instruction => match (&s.insn_before, &s.insn_after) {
                (Some(b), Some(a)) => format!("{b}  →  {a}"),
                _ => String::new(),
            },
            PatchCol::Why => s.reason.clone(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        let Some(s) = self.plan.as_ref().and_then(|p| p.steps.get(row)) else { return Cell::plain(text) };
        let Some(col) = PatchCol::from_index(col) else { return Cell::plain(text) };
        match col {
            PatchCol::On => Cell::link(text, RefKind::Other, Action::Patch(PatchAction::Toggle(s.index)))
                .tip("Switch this step off or on"),
            PatchCol::FieldRva => {
                let target = match s.insn_rva {
                    Some(at) => Target::Rva(at, 1),
                    None => Target::Rva(s.target_rva, u64::from(s.width / 8).max(1)),
                };
                Cell::link(text, RefKind::PseudoReloc, Action::Navigate { doc: None, target })
            }
            PatchCol::Status => Cell::plain(text).tone(status_tone(s.status)),
            PatchCol::Import => Cell::plain(text).tone(Tone::Kind(RefKind::Import)),
            PatchCol::Why => Cell::plain(text.clone()).tip(text),
            PatchCol::Section => Cell::mono(text).tone(Tone::Kind(RefKind::Section)),
            PatchCol::Index | PatchCol::Width | PatchCol::Before | PatchCol::After | PatchCol::Instruction => {
                Cell::mono(text)
            }
        }
    }
    fn facets(&self) -> Vec<Facet> {
        let Some(plan) = &self.plan else { return Vec::new() };
        let mut statuses: Vec<String> = Vec::new();
        let mut sections: Vec<String> = Vec::new();
        for (row, _) in plan.steps.iter().enumerate() {
            for (v, col) in [(&mut statuses, PatchCol::Status), (&mut sections, PatchCol::Section)] {
                let t = self.text(row, col.index());
                if !v.contains(&t) {
                    v.push(t);
                }
            }
        }
        vec![Facet::new("Status", PatchCol::Status, statuses), Facet::new("Section", PatchCol::Section, sections)]
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let s = self.plan.as_ref()?.steps.get(row)?;
        Some(Action::Navigate { doc: None, target: Target::Rva(s.insn_rva.unwrap_or(s.target_rva), 1) })
    }
}

/// Draw the Patch view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Patch",
        "What the loader and a fix-up scheme do to this image: map it, move colliding DLLs, bind every IAT slot, then apply the scheme step by step. Pick the bases and the scheme; switch steps off to see what follows; load a dump of a real process to verify the prediction.",
    );
    let bin = &cx.doc.core.bin;
    if !(bin.format.is_pe() || bin.format.is_elf()) || crate::model::index::is_object(bin) {
        crate::gui::table::empty_note(
            ui,
            "Only images (EXE, DLL, ELF executable or shared object) are loaded by a loader.",
        );
        return;
    }
    let st = &cx.doc.patch;
    ui.horizontal_wrapped(|ui| {
        ui.label("DLL bases:").on_hover_text(
            "The document's DLL placement: Data references, Disassembly and the layout map follow it too.",
        );
        for p in Preset::ALL {
            let resp = ui.selectable_label(st.preset == p, p.label());
            crate::gui::tour::mark(ui, &resp, || crate::gui::tour::Widget::Preset(p));
            if resp.clicked() {
                actions.push(Action::Patch(PatchAction::Preset(p)));
            }
        }
        ui.separator();
        let label = ui.label("Scheme:");
        let current = st.scheme.map_or("default", |s| s.name());
        ui.label_inputs_by(label.id, |ui| {
            let combo = egui::ComboBox::from_id_salt("patch-scheme").selected_text(current).show_ui(ui, |ui| {
                if ui.selectable_label(st.scheme.is_none(), "default").clicked() {
                    actions.push(Action::Patch(PatchAction::Scheme(None)));
                }
                for k in SchemeKind::ALL.into_iter().filter(|k| k.fits(bin)) {
                    if ui.selectable_label(st.scheme == Some(k), k.name()).clicked() {
                        actions.push(Action::Patch(PatchAction::Scheme(Some(k))));
                    }
                }
            });
            crate::gui::tour::mark(ui, &combo.response, || crate::gui::tour::Widget::SchemeMenu);
        });
        ui.separator();
        if ui
            .button("Add DLL…")
            .on_hover_text("Open a DLL (or shared object): open documents are the DLLs the plan loads")
            .clicked()
        {
            actions.push(Action::OpenDialog);
        }
        let load = ui.button("Load dump…");
        crate::gui::tour::mark(ui, &load, || crate::gui::tour::Widget::LoadDump);
        if load
            .on_hover_text(
                "Memory of this module from a real process: a minidump (.dmp) or an ELF core file (the module found in it, every base taken from it), or a raw image (SizeOfImage bytes from its base); .gz accepted",
            )
            .clicked()
        {
            actions.push(Action::Patch(PatchAction::DumpDialog));
        }
        if matches!(st.result, Some(Ok(_))) {
            if ui
                .button("Apply → Diff")
                .on_hover_text("Show every byte the loader's work and the scheme change, in the Diff view")
                .clicked()
            {
                actions.push(Action::Diff(DiffAction::PatchApply));
            }
            if matches!(st.dump, Some((_, Ok(_))))
                && ui
                    .button("Prediction ↔ dump")
                    .on_hover_text("The prediction against the loaded dump, byte by byte, in the Diff view")
                    .clicked()
            {
                actions.push(Action::Diff(DiffAction::PatchDump));
            }
        }
        if st.job.is_some() {
            // No animation: the job wakes the UI when it is done, and nothing repaints meanwhile.
            ui.label("computing…");
        }
    });
    match &st.result {
        None => {
            if st.job.is_none() {
                actions.push(Action::Patch(PatchAction::Run));
            }
        }
        Some(Err(e)) => crate::gui::table::empty_note(ui, &format!("No plan: {e}")),
        Some(Ok(plan)) => {
            let r = ui.scope(|ui| summary(ui, plan, actions));
            crate::gui::tour::mark(ui, &r.response, || crate::gui::tour::Widget::PlanSummary);
        }
    }
    if let Some((path, v)) = &st.dump {
        let line = ui.horizontal_wrapped(|ui| match v {
            Ok(v) => {
                let text = format!(
                    "Dump {}: {} places checked, {} match, {} differ",
                    path.display(),
                    v.checked,
                    v.matched,
                    v.mismatches.len()
                );
                let color =
                    if v.mismatches.is_empty() { ui.visuals().text_color() } else { ui.visuals().error_fg_color };
                ui.colored_label(color, text);
                for m in v.mismatches.iter().take(8) {
                    if ui
                        .link(format!("{:#x} {}", m.rva, m.structure))
                        .on_hover_text(format!("expected {} actual {}", m.expected, m.actual))
                        .clicked()
                    {
                        actions.push(Action::Navigate { doc: None, target: Target::Rva(m.rva, m.len) });
                    }
                }
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Dump {}: {e}", path.display()));
            }
        });
        crate::gui::tour::mark(ui, &line.response, || crate::gui::tour::Widget::Verification);
    }
    ui.add_space(4.0);
    show_table(ui, cx, TableId::Patch, actions);
}

fn summary(ui: &mut egui::Ui, plan: &PatchPlan, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Bases:");
        for (k, m) in plan.modules.iter().enumerate() {
            let key = if k == 0 { String::new() } else { m.name.clone() };
            super::base_field(ui, &m.name, &key, Some(m.base), actions).on_hover_text(format!(
                "{}{}. Type an address and press Enter; empty resets it.",
                m.placement,
                if m.relocated { " (moved from its preferred base)" } else { "" }
            ));
            ui.separator();
        }
        let bound = plan.bindings.iter().filter(|b| b.value.is_some()).count();
        ui.label(format!("IAT {bound}/{} bound", plan.bindings.len()));
        ui.separator();
        ui.label(format!("{}: {}", plan.scheme.name(), crate::report::patch::counts_text(plan)));
    });
    let mut missing: Vec<&str> = Vec::new();
    for u in &plan.unresolved {
        let dll = u.import.split('!').next().unwrap_or("");
        if u.reason.ends_with("was not given") && !missing.contains(&dll) {
            missing.push(dll);
        }
    }
    if !missing.is_empty() {
        ui.label(
            egui::RichText::new(format!("Not given (their imports stay unresolved): {}", missing.join(", ")))
                .color(ui.visuals().weak_text_color()),
        );
    }
    match &plan.failure {
        Some(f) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                egui::RichText::new(format!("The runtime aborts:\nMingw-w64 runtime failure:\n{f}")).monospace(),
            );
        }
        None => {
            ui.label("No abort predicted.");
        }
    }
    for n in plan.notes.iter().take(4) {
        ui.label(egui::RichText::new(format!("Note: {n}")).color(ui.visuals().weak_text_color()));
    }
}
