//! COMDATs: each leader with its selection rule and the sections associated with it, as a tree;
//! associations that point nowhere valid are listed with their diagnostic. For ELF: section groups
//! and `SHF_LINK_ORDER` ties. For OMF: every COMDAT with its selection and allocation, and why OMF
//! has no associative selection.

use eframe::egui::{self, RichText};
use egui_extras::{Column as EColumn, TableBuilder};

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
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
    let Some(s) = core.index.section_pos(section).and_then(|p| core.bin.sections.get(p)) else { return Vec::new() };
    core.bin
        .diagnostics
        .iter()
        .filter(|d| {
            d.location.file_offset == Some(s.header_span.offset) && d.message.to_ascii_lowercase().contains("comdat")
        })
        .collect()
}

fn section_link(ui: &mut egui::Ui, core: &DocCore, index: u32, actions: &mut Vec<Action>) {
    let label = match core.index.section_label(index) {
        Some(l) if l.contains('#') => l.to_string(),
        Some(l) => format!("{l} (#{index})"),
        None => format!("section {index}"),
    };
    let resp = theme::link(ui, label, RefKind::Section);
    let body = core.index.section_pos(index).and_then(|p| core.bin.sections.get(p)).map(|s| {
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
    let pos = core.index.comdat_by_section.get(&c.section).copied();
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

/// What each OMF COMDAT selection (high nibble of the attributes byte) tells the linker.
pub fn omf_selection_help(name: &str) -> &'static str {
    match name {
        "no-match" => "Only one module may define it: a second definition is an error (like an ordinary public).",
        "any" => "Keep any one of the copies and drop the rest (inline functions, templates, vtables).",
        "same-size" => "Keep one copy; all copies must have the same size.",
        "exact" => "Keep one copy; all copies must have identical contents.",
        _ => "A reserved selection value.",
    }
}

/// Where each OMF COMDAT allocation (low nibble of the attributes byte) puts the data.
pub fn omf_allocation_help(name: &str) -> &'static str {
    match name {
        "explicit" => "Placed in the segment (or group, or frame) the record names.",
        "far-code" => "The linker makes a 16-bit far code segment for it (CODE16).",
        "far-data" => "The linker makes a 16-bit far data segment for it (DATA16).",
        "code32" => "The linker puts it in a 32-bit code segment (CODE32).",
        "data32" => "The linker puts it in a 32-bit data segment (DATA32).",
        _ => "A reserved allocation value.",
    }
}

fn omf_legend(ui: &mut egui::Ui, id: &str, title: &str, mut names: Vec<&str>, help: fn(&str) -> &'static str) {
    // In the order the specification numbers them.
    const ORDER: [&str; 9] =
        ["no-match", "any", "same-size", "exact", "explicit", "far-code", "far-data", "code32", "data32"];
    names.sort_unstable_by_key(|n| (ORDER.iter().position(|o| o == n).unwrap_or(ORDER.len()), *n));
    names.dedup();
    ui.vertical(|ui| {
        ui.strong(title);
        egui::Grid::new(id).num_columns(2).spacing([10.0, 2.0]).show(ui, |ui| {
            for n in names {
                ui.label(RichText::new(n).monospace().color(RefKind::Comdat.color(ui.visuals())));
                ui.label(RichText::new(help(n)).color(ui.visuals().weak_text_color()));
                ui.end_row();
            }
        });
    });
}

/// The COMDAT view of an OMF module: every COMDAT with its selection and allocation, and why
/// OMF has no associative selection.
fn show_omf(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let bin = &core.bin;
    intro(
        ui,
        "COMDATs",
        "An OMF COMDAT record holds a named piece of code or data that many modules may define; the linker keeps one copy by its selection and places it by its allocation. Continuation records add bytes to the one before.",
    );
    let note = egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.0, RefKind::Comdat.tint(ui.visuals(), 0.6)))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new("Why OMF has no associative COMDATs").strong());
            ui.add(egui::Label::new(crate::model::OMF_NO_ASSOCIATIVE_NOTE).wrap());
        });
    crate::gui::tour::mark(ui, &note.response, || crate::gui::tour::Widget::OmfNote);
    ui.add_space(6.0);
    let comdats = bin.omf.as_ref().map_or(&[][..], |o| o.comdats.as_slice());
    if comdats.is_empty() {
        crate::gui::table::empty_note(ui, "This module has no COMDAT records.");
        return;
    }
    ui.horizontal_top(|ui| {
        let half = (ui.available_width() / 2.0 - 8.0).max(200.0);
        ui.allocate_ui(egui::vec2(half, 0.0), |ui| {
            ui.set_width(half);
            omf_legend(
                ui,
                "omf-selection-legend",
                "Selection (omf_selection): what the linker does with several copies",
                comdats.iter().map(|c| c.selection.as_str()).collect(),
                omf_selection_help,
            );
        });
        ui.allocate_ui(egui::vec2(half, 0.0), |ui| {
            omf_legend(
                ui,
                "omf-allocation-legend",
                "Allocation (omf_allocation): where it goes",
                comdats.iter().map(|c| c.allocation.as_str()).collect(),
                omf_allocation_help,
            );
        });
    });
    ui.add_space(4.0);
    let visuals = ui.visuals().clone();
    let weak = visuals.weak_text_color();
    let row_h =
        ui.text_style_height(&egui::TextStyle::Body).max(ui.text_style_height(&egui::TextStyle::Monospace)) + 4.0;
    let mut builder = TableBuilder::new(ui)
        .id_salt("omf-comdats")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .animate_scrolling(false)
        .auto_shrink([false, false])
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(EColumn::initial(104.0).at_least(30.0).clip(true))
        .column(EColumn::initial(130.0).at_least(50.0).clip(true))
        .column(EColumn::initial(86.0).at_least(40.0).clip(true))
        .column(EColumn::initial(90.0).at_least(40.0).clip(true))
        .column(EColumn::initial(86.0).at_least(40.0).clip(true))
        .column(EColumn::initial(120.0).at_least(40.0).clip(true))
        .column(EColumn::initial(64.0).at_least(30.0).clip(true))
        .column(EColumn::initial(130.0).at_least(40.0).clip(true))
        .column(EColumn::remainder().at_least(80.0).clip(true));
    let selected_pos = cx.doc.comdat_selected.and_then(|s| comdats.iter().position(|c| c.section == s));
    if let (Some(p), true) = (selected_pos, cx.doc.comdat_scroll.get()) {
        cx.doc.comdat_scroll.set(false);
        builder = builder.scroll_to_row(p, Some(egui::Align::Center));
    }
    let head = |ui: &mut egui::Ui, name: &str, help: &str| {
        ui.label(RichText::new(name).strong()).on_hover_text(help);
    };
    builder
        .header(row_h, |mut h| {
            h.col(|ui| head(ui, "Section", "The lowered section number (after the SEGDEFs). Click to see its bytes."));
            h.col(|ui| head(ui, "Name", "The COMDAT symbol: copies in different modules are matched by this name."));
            h.col(|ui| {
                head(ui, "Selection", "omf_selection: what the linker does with several copies (high nibble of the attributes byte).")
            });
            h.col(|ui| {
                head(ui, "Allocation", "omf_allocation: where the linker puts it (low nibble of the attributes byte).")
            });
            h.col(|ui| head(ui, "Align", "The Align byte: 0 takes the alignment of the base segment."));
            h.col(|ui| head(ui, "Base", "Explicit allocation: the group and segment (or frame) the data goes into."));
            h.col(|ui| head(ui, "Length", "Bytes the COMDAT's records put there (continuations included)."));
            h.col(|ui| head(ui, "Records", "The COMDAT records (first, then continuations). Click to show the first."));
            h.col(|ui| head(ui, "Flags", "local: static to the module; iterated: LIDATA-style blocks; data-in-code; VIRDEF: a Borland virtual segment."));
        })
        .body(|body| {
            body.rows(row_h, comdats.len(), |mut row| {
                let Some(c) = comdats.get(row.index()) else { return };
                row.set_selected(cx.doc.comdat_selected == Some(c.section));
                row.col(|ui| section_link(ui, core, c.section, actions));
                row.col(|ui| {
                    ui.add(egui::Label::new(theme::mono_kind(&c.name, RefKind::Symbol, &visuals)).truncate());
                });
                row.col(|ui| {
                    ui.label(theme::mono_kind(&c.selection, RefKind::Comdat, &visuals))
                        .on_hover_text(omf_selection_help(&c.selection));
                });
                row.col(|ui| {
                    ui.label(theme::mono(&c.allocation)).on_hover_text(omf_allocation_help(&c.allocation));
                });
                row.col(|ui| {
                    ui.label(theme::mono(&c.align));
                });
                row.col(|ui| {
                    let seg = c.base_segment.and_then(|s| crate::gui::omf::segment_of(bin, s)).map(|s| s.name.clone());
                    let grp = c.base_group.and_then(|g| crate::gui::omf::group_name(bin, g)).map(str::to_string);
                    let text = match (grp, seg, c.base_frame) {
                        (Some(g), Some(s), _) => format!("{g}:{s}"),
                        (None, Some(s), _) => s,
                        (Some(g), None, _) => g,
                        (None, None, Some(f)) => format!("frame {f:#06x}"),
                        (None, None, None) => String::new(),
                    };
                    ui.label(theme::mono(text));
                });
                row.col(|ui| {
                    ui.label(theme::mono(format!("{:#x}", c.length)));
                });
                row.col(|ui| {
                    let first = c.records.first().copied();
                    let text = match c.records.len() {
                        0 => "-".to_string(),
                        1 => format!("#{}", c.records[0]),
                        n => format!("#{} +{} cont.", c.records[0], n - 1),
                    };
                    match first {
                        Some(r) => {
                            if theme::link(ui, text, RefKind::Address).on_hover_text("Show the COMDAT record").clicked() {
                                actions.push(Action::Navigate { doc: None, target: Target::Row(TableId::OmfRecords, r) });
                            }
                        }
                        None => {
                            ui.label(RichText::new(text).color(weak));
                        }
                    }
                });
                row.col(|ui| {
                    let mut flags = Vec::new();
                    if c.local {
                        flags.push("local");
                    }
                    if c.flags & 2 != 0 {
                        flags.push("iterated");
                    }
                    if c.flags & 8 != 0 {
                        flags.push("data-in-code");
                    }
                    if c.borland_virtual {
                        flags.push("VIRDEF");
                    }
                    ui.label(RichText::new(flags.join(" ")).color(weak));
                    diag_lines(ui, &diagnostics_for(core, c.section));
                });
                if row.response().clicked() {
                    actions.push(Action::Navigate { doc: None, target: Target::Comdat(c.section) });
                }
            });
        });
}

/// Draw the COMDAT view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let bin = &core.bin;
    if bin.omf.is_some() {
        show_omf(ui, cx, actions);
        return;
    }
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
            let label = core.index.section_label(c.section).unwrap_or("?");
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
                                .index
                                .section_pos(a)
                                .and_then(|p| bin.sections.get(p))
                                .map_or("", |s| s.name.as_str());
                            ui.label(RichText::new(section_role(name)).color(ui.visuals().weak_text_color()));
                        });
                        diag_lines(ui, &diagnostics_for(core, a));
                    }
                });
            crate::gui::tour::mark(ui, &resp.header_response, || crate::gui::tour::Widget::Comdat(c.section));
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
