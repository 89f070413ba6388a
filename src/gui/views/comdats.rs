//! COMDATs: each leader with its selection rule and the sections associated with it, as a tree;
//! associations that point nowhere valid are listed with their diagnostic. For ELF: section groups
//! and `SHF_LINK_ORDER` ties.

use eframe::egui::{self, RichText};

use crate::gui::action::{Action, Target};
use crate::gui::document::DocCore;
use crate::gui::theme::{self, RefKind};
use crate::model::{Comdat, Diagnostic, Span};

use super::{intro, ViewCtx};

/// What each COMDAT selection rule tells the linker.
pub fn selection_help(name: &str) -> &'static str {
    match name {
        "NODUPLICATES" => "Only one definition may exist; a second one is a link error.",
        "ANY" => "Keep any one of the copies and drop the rest (inline functions, templates).",
        "SAME_SIZE" => "Keep one copy; all copies must have the same size.",
        "EXACT_MATCH" => "Keep one copy; all copies must have identical contents (checksum).",
        "ASSOCIATIVE" => "Kept or dropped together with its leader section.",
        "LARGEST" => "Keep the largest copy.",
        "NEWEST" => "Keep the newest copy (unused by modern linkers).",
        _ => "Unknown selection value.",
    }
}

/// What a section associated with a COMDAT leader usually holds, by its name.
pub fn section_role(name: &str) -> &'static str {
    let base = name.split('$').next().unwrap_or(name);
    match base {
        ".xdata" => "unwind information for the leader's code",
        ".pdata" => "the leader's function-table entry (start, end, unwind info)",
        ".debug" if name.starts_with(".debug$S") => "CodeView debug symbols for the leader",
        ".debug" => "debug information for the leader",
        ".CRT" => "a pointer the C runtime calls at start-up to run the leader's dynamic initialiser",
        ".rdata" => "read-only data belonging to the leader",
        ".text" => "code that belongs with the leader",
        _ => "kept and dropped together with the leader",
    }
}

/// Diagnostics about a COMDAT section (they point at its section header).
pub fn diagnostics_for(core: &DocCore, section: u32) -> Vec<&Diagnostic> {
    let Some(s) = core.lookup.section_pos(section).and_then(|p| core.bin.sections.get(p)) else { return Vec::new() };
    core.bin
        .diagnostics
        .iter()
        .filter(|d| {
            d.location.file_offset == Some(s.header_span.offset) && d.message.to_ascii_lowercase().contains("comdat")
        })
        .collect()
}

fn section_link(ui: &mut egui::Ui, core: &DocCore, index: u32, actions: &mut Vec<Action>) {
    let label = match core.lookup.section_label(index) {
        Some(l) if l.contains('#') => l.to_string(),
        Some(l) => format!("{l} (#{index})"),
        None => format!("section {index}"),
    };
    let resp = theme::link(ui, label, RefKind::Section);
    let body = core.lookup.section_pos(index).and_then(|p| core.bin.sections.get(p)).map(|s| {
        if s.file_size > 0 {
            Span::new(s.file_offset, s.file_size)
        } else {
            s.header_span
        }
    });
    if resp.on_hover_text("Show this section's bytes").clicked() {
        if let Some(span) = body {
            actions.push(Action::Navigate { doc: None, target: Target::Bytes(span) });
        }
    }
}

fn name_of(c: &Comdat, demangle: bool, core: &DocCore) -> String {
    let pos = core.lookup.comdat_by_section.get(&c.section).copied();
    match pos.and_then(|p| core.lookup.comdat_demangled.get(p)).cloned().flatten() {
        Some(d) if demangle => d,
        _ => c.symbol.clone().unwrap_or_default(),
    }
}

fn diag_lines(ui: &mut egui::Ui, diags: &[&Diagnostic]) {
    for d in diags {
        ui.label(
            RichText::new(format!("{}: {}", d.severity.name(), d.message))
                .color(theme::severity_color(d.severity, ui.visuals())),
        );
    }
}

/// Draw the COMDAT view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let bin = &core.bin;
    intro(
        ui,
        "COMDATs",
        "A COMDAT section may be defined in many object files; the linker keeps one copy by its selection rule. Associative sections (unwind data, debug info, initialiser pointers) follow their leader: kept when it is kept, dropped when it is dropped.",
    );
    if bin.comdats.is_empty() && bin.groups.is_empty() && bin.link_order.is_empty() {
        crate::gui::table::empty_note(ui, "No COMDATs here: they exist only in object files (and libraries of them); an image has already been linked.");
        return;
    }
    let listed: std::collections::HashSet<u32> =
        bin.comdats.iter().flat_map(|c| c.associated_by.iter().copied()).collect();
    egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
        let leaders: Vec<&Comdat> = bin.comdats.iter().filter(|c| c.associated_section.is_none()).collect();
        if !leaders.is_empty() {
            ui.strong(format!("Leaders ({})", leaders.len()));
            let mut kinds: Vec<&str> = bin.comdats.iter().map(|c| c.selection_name.as_str()).collect();
            kinds.sort_unstable();
            kinds.dedup();
            for k in kinds {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(k).monospace().color(RefKind::Comdat.color(ui.visuals())));
                    ui.label(RichText::new(selection_help(k)).color(ui.visuals().weak_text_color()));
                });
            }
            ui.add_space(4.0);
        }
        for c in leaders {
            let selected = cx.doc.comdat_selected == Some(c.section);
            let label = core.lookup.section_label(c.section).unwrap_or("?");
            let title = format!("{label:<12} {:<12} {}", c.selection_name, name_of(c, cx.opts.demangle, core));
            let mut text = RichText::new(title).monospace();
            if selected {
                text = text.strong().background_color(theme::selection_fill(ui.visuals()));
            }
            let resp =
                egui::CollapsingHeader::new(text).id_salt(("comdat", c.section)).default_open(true).show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new("leader").color(ui.visuals().weak_text_color()));
                        section_link(ui, core, c.section, actions);
                        if let Some(sym) = &c.symbol {
                            ui.label(RichText::new(sym).monospace().small().color(RefKind::Symbol.color(ui.visuals())))
                                .on_hover_text(
                                    "The COMDAT symbol: copies in different objects are matched by this name.",
                                );
                        }
                    });
                    diag_lines(ui, &diagnostics_for(core, c.section));
                    for &a in &c.associated_by {
                        ui.horizontal(|ui| {
                            ui.label(RichText::new("└ follows it").color(ui.visuals().weak_text_color()));
                            section_link(ui, core, a, actions);
                            let name = core
                                .lookup
                                .section_pos(a)
                                .and_then(|p| bin.sections.get(p))
                                .map_or("", |s| s.name.as_str());
                            ui.label(RichText::new(section_role(name)).color(ui.visuals().weak_text_color()));
                        });
                        diag_lines(ui, &diagnostics_for(core, a));
                    }
                });
            resp.header_response.clone().on_hover_text(selection_help(&c.selection_name));
            if selected && cx.doc.comdat_scroll.take() {
                resp.header_response.scroll_to_me(Some(egui::Align::Center));
            }
        }
        let orphans: Vec<&Comdat> =
            bin.comdats.iter().filter(|c| c.associated_section.is_some() && !listed.contains(&c.section)).collect();
        if !orphans.is_empty() {
            ui.add_space(8.0);
            ui.label(
                RichText::new(format!("Invalid associations ({})", orphans.len()))
                    .strong()
                    .color(theme::severity_color(crate::model::Severity::Error, ui.visuals())),
            );
            for c in orphans {
                let selected = cx.doc.comdat_selected == Some(c.section);
                let frame = egui::Frame::group(ui.style()).stroke(egui::Stroke::new(
                    1.0,
                    theme::severity_color(crate::model::Severity::Warning, ui.visuals()),
                ));
                let resp = frame.show(ui, |ui| {
                    ui.horizontal(|ui| {
                        section_link(ui, core, c.section, actions);
                        ui.label(format!("ASSOCIATIVE → section {}", c.associated_section.unwrap_or(0)));
                    });
                    let diags = diagnostics_for(core, c.section);
                    if diags.is_empty() {
                        ui.weak("Its leader is not a COMDAT the reader could match.");
                    }
                    diag_lines(ui, &diags);
                });
                if selected && cx.doc.comdat_scroll.take() {
                    resp.response.scroll_to_me(Some(egui::Align::Center));
                }
            }
        }
        if !bin.groups.is_empty() {
            ui.add_space(8.0);
            ui.strong(format!("ELF section groups ({})", bin.groups.len()));
            for g in &bin.groups {
                let title = format!("#{} [{}]{}", g.section, g.signature, if g.comdat { "  COMDAT" } else { "" });
                egui::CollapsingHeader::new(RichText::new(title).monospace())
                    .id_salt(("group", g.section))
                    .default_open(true)
                    .show(ui, |ui| {
                        ui.horizontal(|ui| {
                            ui.label("group section:");
                            section_link(ui, core, g.section, actions);
                        });
                        for &m in &g.members {
                            ui.horizontal(|ui| {
                                ui.label("  └ member:");
                                section_link(ui, core, m, actions);
                            });
                        }
                    });
            }
        }
        if !bin.link_order.is_empty() {
            ui.add_space(8.0);
            ui.strong("SHF_LINK_ORDER");
            for l in &bin.link_order {
                ui.horizontal(|ui| {
                    section_link(ui, core, l.section, actions);
                    ui.label("is placed in the order of");
                    section_link(ui, core, l.linked_section, actions);
                });
            }
        }
    });
}
