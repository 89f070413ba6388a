//! The views of a document, one file each. Every view draws from a [`ViewCtx`] (read-only) and
//! pushes [`Action`]s; none changes state itself.

pub mod comdats;
pub mod contributions;
pub mod diagnostics;
pub mod diff;
pub mod disasm;
pub mod exports;
pub mod headers;
pub mod hex;
pub mod hex_search;
pub mod imports;
pub mod link;
pub mod map;
pub mod map_memory;
pub mod map_objects;
pub mod members;
pub mod overview;
pub mod patch;
pub mod process;
pub mod pseudo;
pub mod record_lists;
pub mod records;
pub mod refs;
pub mod relocations;
pub mod sections;
pub mod strings;
pub mod symbols;
pub mod verify;

use eframe::egui;

use super::action::Action;
use super::document::{DocCore, Document, Results, TableId, View};
use super::table::{self, TableModel};

/// Display options that change what table cells say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelOpts {
    /// Show demangled names where there are some.
    pub demangle: bool,
}

/// What a view may read while drawing.
pub struct ViewCtx<'a> {
    /// The document shown.
    pub doc: &'a Document,
    /// Every open document (for cross-document links).
    pub docs: &'a [Document],
    /// Display options.
    pub opts: ModelOpts,
    /// Show the hex pane under tables.
    pub hex_pane: bool,
    /// Move keyboard focus to the table filter this frame.
    pub focus_filter: bool,
}

/// The table model of table `t` of `core` (the Patch, Diff and Link tables read `results`).
pub fn model<'a>(core: &'a DocCore, results: &Results, t: TableId, opts: ModelOpts) -> Box<dyn TableModel + 'a> {
    match t {
        TableId::Headers => Box::new(headers::HeaderModel::new(core)),
        TableId::Sections => Box::new(sections::SectionModel::new(core)),
        TableId::Segments => Box::new(sections::SegmentModel { core }),
        TableId::DataDirs => Box::new(sections::DataDirModel { core }),
        TableId::Symbols => Box::new(symbols::SymbolModel { core, opts }),
        TableId::Imports => Box::new(imports::ImportModel { core, opts }),
        TableId::Exports => Box::new(exports::ExportModel { core, opts }),
        TableId::Relocations => Box::new(relocations::RelocModel::new(core, opts)),
        TableId::PseudoRelocs => Box::new(pseudo::PseudoModel { core }),
        TableId::Diagnostics => Box::new(diagnostics::DiagModel { core }),
        TableId::Members => Box::new(members::MemberModel { core }),
        TableId::OmfRecords => Box::new(records::RecordModel { core }),
        TableId::OmfGroups => Box::new(sections::OmfGroupModel { core }),
        TableId::Refs => Box::new(refs::RefsModel { core }),
        TableId::Strings => Box::new(strings::StringModel { core }),
        TableId::Disasm => Box::new(disasm::DisasmModel { core }),
        TableId::Patch => Box::new(patch::PatchModel { plan: results.plan.clone() }),
        TableId::Diff => Box::new(diff::DiffModel { data: results.diff.clone() }),
        TableId::Link => Box::new(link::LinkModel { data: results.link.clone() }),
        TableId::Contributions => Box::new(contributions::ContribModel { core }),
        TableId::Modules => Box::new(process::ModuleModel { core }),
        TableId::MemoryRanges => Box::new(process::RangeModel { core }),
        TableId::Verify => Box::new(verify::VerifyModel { core, data: results.verify.clone() }),
    }
}

/// Number of items a view lists (for the sidebar), or `None` for views that are not lists.
pub fn count(core: &DocCore, view: View) -> Option<usize> {
    let b = &core.bin;
    Some(match view {
        View::Overview | View::Map | View::Hex => return None,
        // Strings are found when the view is first shown.
        View::Strings => return core.strings_found().map(|t| t.found.len()),
        View::Headers => b.headers.iter().map(|h| h.fields.len()).sum(),
        View::Records => b.omf_records.len(),
        View::Sections => b.sections.len().max(b.segments.len()),
        View::Comdats => b.comdats.len() + b.groups.len(),
        View::Imports => core.index.imports.len(),
        View::Exports => b.exports.len(),
        View::Symbols => b.symbols.len(),
        View::Relocations => b.base_relocations.len() + b.relocations.len(),
        View::PseudoRelocs => b.pseudo_relocations.entries.len(),
        View::Refs => core.refs.sites.len(),
        View::Disassembly => core.refs.insns.len(),
        View::Diagnostics => b.diagnostics.len(),
        View::Members => b.members.len(),
        View::Contributions => core.pdb.as_ref().map_or(0, |p| p.contributions.len()),
        View::Process => core.process.as_ref().map_or(0, |p| p.modules.len()),
        View::Patch | View::Diff | View::Link | View::Verify => return None,
    })
}

/// Whether a view applies to this document at all (Members only for archives). The OMF Records
/// view is listed for every document (greyed, with a note, where there are no records), like the
/// other format-specific views.
pub fn applies(core: &DocCore, view: View) -> bool {
    // A Process document is its modules and ranges (and what reading the dump noted).
    if core.process.is_some() {
        return matches!(view, View::Process | View::Diagnostics);
    }
    match view {
        View::Process => false,
        View::Verify => core.memory.is_some(),
        View::Members => !core.bin.members.is_empty(),
        View::Records => !core.bin.omf_records.is_empty(),
        View::Contributions => core.pdb.is_some(),
        _ => true,
    }
}

/// Draw the document's current view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let doc = cx.doc;
    let has_rows = count(&doc.core, doc.view).is_some_and(|n| n > 0);
    let with_pane = cx.hex_pane && has_rows && doc.current_table().is_some() && !doc.core.data.is_empty();
    if with_pane {
        egui::Panel::bottom("hex-pane")
            .resizable(true)
            .default_size((ui.available_height() * 0.25).clamp(90.0, 190.0))
            .size_range(90.0..=600.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                hex::show(ui, cx, actions, true);
            });
    }
    if let Some(panel) = &doc.refs_panel {
        egui::Panel::right("refs-panel")
            .resizable(true)
            .default_size(340.0)
            .size_range(220.0..=700.0)
            .show(ui, |ui| crate::gui::xrefs::show(ui, &doc.core, panel, actions));
    }
    egui::CentralPanel::default_margins().show(ui, |ui| match doc.view {
        View::Overview => overview::show(ui, cx, actions),
        View::Headers => headers::show(ui, cx, actions),
        View::Records => records::show(ui, cx, actions),
        View::Sections => sections::show(ui, cx, actions),
        View::Map => map::show(ui, cx, actions),
        View::Comdats => comdats::show(ui, cx, actions),
        View::Imports => imports::show(ui, cx, actions),
        View::Exports => exports::show(ui, cx, actions),
        View::Symbols => symbols::show(ui, cx, actions),
        View::Relocations => relocations::show(ui, cx, actions),
        View::PseudoRelocs => pseudo::show(ui, cx, actions),
        View::Refs => refs::show(ui, cx, actions),
        View::Strings => strings::show(ui, cx, actions),
        View::Disassembly => disasm::show(ui, cx, actions),
        View::Hex => hex::show(ui, cx, actions, false),
        View::Diagnostics => diagnostics::show(ui, cx, actions),
        View::Members => members::show(ui, cx, actions),
        View::Patch => patch::show(ui, cx, actions),
        View::Diff => diff::show(ui, cx, actions),
        View::Link => link::show(ui, cx, actions),
        View::Contributions => contributions::show(ui, cx, actions),
        View::Process => process::show(ui, cx, actions),
        View::Verify => verify::show(ui, cx, actions),
    });
}

/// Draw table `t` of the current document with its toolbar; focuses the filter on request.
pub fn show_table(ui: &mut egui::Ui, cx: &ViewCtx<'_>, t: TableId, actions: &mut Vec<Action>) {
    let m = model(&cx.doc.core, &cx.doc.results, t, cx.opts);
    if cx.focus_filter {
        ui.memory_mut(|mem| mem.request_focus(table::filter_id(t)));
    }
    table::show(ui, t, m.as_ref(), cx.doc.table(t), actions);
}

/// A heading with a short explanation under it (the teaching text of each view).
pub fn intro(ui: &mut egui::Ui, title: &str, text: &str) {
    ui.horizontal(|ui| {
        ui.heading(title);
    });
    ui.label(egui::RichText::new(text).color(ui.visuals().weak_text_color()));
    ui.add_space(4.0);
}

/// The document's DLL placement, one setting shared by Data references, Disassembly, Patch and
/// the layout map: the presets, and each imported DLL's base as an editable field (Enter applies,
/// empty resets). Changing it re-plans the load and re-scans the sites' reach.
pub fn placement_bar(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    use crate::gui::action::PatchAction;
    let st = &cx.doc.patch;
    let core = &cx.doc.core;
    ui.horizontal_wrapped(|ui| {
        ui.label("DLLs placed:").on_hover_text(
            "Where the imported DLLs load, for every view of this document: reach here, the plan in the Patch view, the layout map.",
        );
        for p in crate::session::place::Preset::ALL {
            if ui.selectable_label(st.preset == p, p.label()).clicked() {
                actions.push(Action::Patch(PatchAction::Preset(p)));
            }
        }
        if cx.doc.rescan.is_some() {
            ui.weak("re-scanning…");
        }
        // The placed DLLs inline; the others (often a dozen system DLLs with no file beside the
        // image) folded away, so the bar stays one or two lines.
        for m in core.modules.iter().filter(|m| m.base.is_some()) {
            ui.separator();
            module_base(ui, m, actions);
        }
    });
    let unplaced: Vec<_> = core.modules.iter().filter(|m| m.base.is_none()).collect();
    if !unplaced.is_empty() {
        egui::CollapsingHeader::new(format!("{} DLLs not placed (no file beside this one)", unplaced.len()))
            .id_salt("unplaced-dlls")
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for m in unplaced {
                        module_base(ui, m, actions);
                        ui.separator();
                    }
                });
            });
    }
}

/// One imported DLL's base field, with where its base comes from.
fn module_base(ui: &mut egui::Ui, m: &crate::report::refs::ModuleJson, actions: &mut Vec<Action>) {
    base_field(ui, &m.name, &m.name, m.base, actions).on_hover_text(format!(
        "{}. Type an address and press Enter; empty resets it.",
        match (m.source, &m.path) {
            ("file", Some(p)) => format!("Placed from its file {p}"),
            ("given", _) => "Placed where you put it".to_string(),
            _ => "Not placed: no file beside this one (the reach of its imports is unknown)".to_string(),
        }
    ));
}

/// A module's base as an editable field (`key`: the module as the placement names it, `""` for
/// the image): Enter applies the typed address, an empty field resets it.
pub fn base_field(
    ui: &mut egui::Ui,
    name: &str,
    key: &str,
    base: Option<u64>,
    actions: &mut Vec<Action>,
) -> egui::Response {
    use crate::gui::action::PatchAction;
    let label = ui.label(egui::RichText::new(name).monospace());
    let id = egui::Id::unique(("module-base", key));
    let shown = base.map_or_else(String::new, |b| format!("{b:#x}"));
    let mut text = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or(shown);
    let r = ui
        .add(
            egui::TextEdit::singleline(&mut text)
                .desired_width(140.0)
                .font(egui::TextStyle::Monospace)
                .hint_text("not placed"),
        )
        .labelled_by(label.id);
    if r.changed() {
        ui.data_mut(|d| d.insert_temp(id, text.clone()));
    }
    if r.lost_focus() {
        if ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            actions.push(Action::Patch(PatchAction::Base(key.to_string(), text)));
        }
        ui.data_mut(|d| d.remove::<String>(id));
    }
    r
}
