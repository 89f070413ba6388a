//! The Link view: the open objects and archives (and those beside them on disk) linked as a
//! chosen linker would link them. The inputs in order (move them, switch them off), the linker and
//! its options, or a pasted command line (whose program name picks the linker and whose inputs the
//! inputs row then shows); the outcome in the linker's own words; the output sections; every input section with
//! where it lands or why it is gone; each COMDAT with its copies, the winner and why, copies that
//! differ; ICF folds; the `.CRT$X*` initialisers in the order they run; and, against an open
//! image (with its map from beside it) or a map alone, every difference.

use std::sync::Arc;

use eframe::egui::{self, RichText};

use crate::gui::action::{Action, LinkAction};
use crate::gui::document::{DocCore, TableId};
use crate::gui::link::{is_input, LinkData};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::link::Flavor;

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the link-section table.
    enum LinkCol {
        Fate => Column::text("Fate", 80.0, "placed, or why not: another copy won (of its COMDAT), associative (its leader is gone), gc (nothing live refers to it), icf (folded into an identical section), not linked."),
        Out => Column::text("Out", 60.0, "The output section it lands in."),
        Rva => Column::num("RVA", 80.0, "Where it lands."),
        Size => Column::num("Size", 60.0, "Bytes."),
        Align => Column::num("Align", 44.0, "Its alignment (IMAGE_SCN_ALIGN_*)."),
        File => Column::text("File", 130.0, "The input: an object, or lib(member)."),
        Index => Column::num("#", 36.0, "Section index in the file."),
        Section => Column::text("Section", 170.0, "The input section's name."),
        Why => Column::text("Why", 520.0, "Why it is here, or why not and which copy is kept instead."),
    }
}

/// The rows of the current simulation.
pub struct LinkModel {
    /// The result (None: none yet).
    pub data: Option<Arc<LinkData>>,
}

impl LinkModel {}

/// A fate as the table shows it (and its Fate facet offers it): `comdat` reads "another copy won".
pub fn fate_label(fate: &str) -> &str {
    match fate {
        "comdat" => "another copy won",
        other => other,
    }
}

fn fate_kind(fate: &str) -> RefKind {
    match fate {
        "placed" => RefKind::Section,
        "comdat" | "associative" => RefKind::Symbol,
        "icf" => RefKind::Reloc,
        "gc" => RefKind::Other,
        _ => RefKind::Header,
    }
}

impl TableModel for LinkModel {
    fn columns(&self) -> &'static [Column] {
        LinkCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.rows.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(r) = self.data.as_ref().and_then(|d| d.rows.get(row)) else { return String::new() };
        let Some(col) = LinkCol::from_index(col) else { return String::new() };
        match col {
            LinkCol::Fate => fate_label(r.fate).to_string(),
            LinkCol::Out => r.out.clone(),
            LinkCol::Rva => r.rva.map_or(String::new(), |v| format!("{v:#x}")),
            LinkCol::Size => format!("{:#x}", r.size),
            LinkCol::Align => {
                if r.rva.is_some() {
                    r.align.to_string()
                } else {
                    String::new()
                }
            }
            LinkCol::File => r.file.clone(),
            LinkCol::Index => r.section.to_string(),
            LinkCol::Section => r.name.clone(),
            LinkCol::Why => r.why.clone(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        let fate = self.data.as_ref().and_then(|d| d.rows.get(row)).map_or("", |r| r.fate);
        let Some(col) = LinkCol::from_index(col) else { return Cell::plain(text) };
        match col {
            LinkCol::Fate => Cell::plain(text).tone(Tone::Kind(fate_kind(fate))),
            LinkCol::Rva | LinkCol::Size | LinkCol::Align | LinkCol::Index => Cell::mono(text),
            LinkCol::Why => Cell::plain(text.clone()).tip(text),
            LinkCol::Out | LinkCol::File | LinkCol::Section => Cell::plain(text),
        }
    }
    fn facets(&self) -> Vec<Facet> {
        Facet::each_distinct(&[("Fate", LinkCol::Fate), ("Out", LinkCol::Out), ("File", LinkCol::File)], self)
    }
}

/// Draw the Link view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Link",
        "What a linker would make of the open objects and archives and those beside them: which COMDAT copy survives and why, what is discarded (another copy won, its leader is gone, garbage-collected, folded), and where every input section lands. Change the order or an option and see what moves; pick the real image or its map to compare.",
    );
    let st = &cx.doc.link;
    let open: Vec<Arc<DocCore>> = cx.docs.iter().map(|d| d.core.clone()).collect();
    inputs_row(ui, cx, &open, actions);
    options_row(ui, cx, actions);
    if st.job.is_some() {
        // No animation: the job wakes the UI when it is done, and nothing repaints meanwhile.
        ui.label("linking…");
    }
    let data = match &st.result {
        None => {
            if st.job.is_none() {
                actions.push(Action::Link(LinkAction::Run));
            }
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("Cannot link: {e}"));
            return;
        }
        Some(Ok(d)) => d.clone(),
    };
    outcome(ui, &data, actions);
    // One panel at a time: the input sections (the table), the COMDATs, or the image's layout.
    let id = egui::Id::unique(TAB_ID);
    let mut tab = ui.data_mut(|d| d.get_temp::<u8>(id)).unwrap_or(0);
    ui.horizontal(|ui| {
        let r = &data.report;
        for (k, label) in [
            (0u8, format!("Input sections ({})", data.rows.len())),
            (1, format!("COMDATs ({})", r.comdats.len())),
            (2, format!("Image: sections, .CRT order, ICF folds ({})", r.folds.len())),
        ] {
            if ui.selectable_label(tab == k, label).clicked() {
                tab = k;
            }
        }
    });
    ui.data_mut(|d| d.insert_temp(id, tab));
    ui.separator();
    match tab {
        1 => comdats(ui, &data),
        2 => side_panels(ui, &data),
        _ => show_table(ui, cx, TableId::Link, actions),
    }
}

/// Where the Link view keeps its panel (0 input sections, 1 COMDATs, 2 the image).
const TAB_ID: &str = "link-tab";

/// Show panel `tab` of the Link view (0 input sections, 1 COMDATs, 2 the image).
pub fn set_tab(ctx: &egui::Context, tab: u8) {
    ctx.data_mut(|d| d.insert_temp(egui::Id::unique(TAB_ID), tab.min(2)));
}

fn inputs_row(ui: &mut egui::Ui, cx: &ViewCtx<'_>, open: &[Arc<DocCore>], actions: &mut Vec<Action>) {
    let st = &cx.doc.link;
    let entries = st.entries(open, &cx.doc.core);
    ui.horizontal_wrapped(|ui| {
        ui.label("Inputs:");
        if st.pasted.is_some() {
            // The pasted line names the inputs, in its order: edit it to change them.
            if entries.is_empty() {
                ui.label(RichText::new("none on the command line").weak());
            }
            for e in &entries {
                ui.label(RichText::new(&e.name).monospace()).on_hover_text("An input the pasted command line names");
                ui.separator();
            }
            ui.label(RichText::new("(from the command line; edit it to change them)").weak());
            return;
        }
        if entries.is_empty() {
            ui.label(RichText::new("none open: open COFF objects or archives").weak());
        }
        let inputs: Vec<&String> = entries.iter().map(|e| &e.name).collect();
        for (i, e) in entries.iter().enumerate() {
            let name = &e.name;
            let mut on = e.on;
            let tip = if e.beside {
                "Take part in the link (a file beside it on disk, not open: read from disk)"
            } else {
                "Take part in the link"
            };
            if ui.checkbox(&mut on, name.as_str()).on_hover_text(tip).changed() {
                actions.push(Action::Link(LinkAction::Include(name.clone(), on)));
            }
            if i > 0 && ui.small_button("◀").on_hover_text(format!("Move {name} earlier")).clicked() {
                actions.push(Action::Link(LinkAction::Move(name.clone(), true)));
            }
            if i + 1 < inputs.len() && ui.small_button("▶").on_hover_text(format!("Move {name} later")).clicked() {
                actions.push(Action::Link(LinkAction::Move(name.clone(), false)));
            }
            ui.separator();
        }
    });
    let images: Vec<_> = cx.docs.iter().filter(|d| d.core.bin.format.is_pe() && !is_input(&d.core)).collect();
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Compare with:");
        let map = st.compare_map.as_ref();
        let chosen = if map.is_some() { None } else { crate::gui::link::link_compare_target(cx.doc, cx.docs) };
        let file_name = |p: &std::path::Path| p.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let text = match map {
            Some(m) => format!("{} (map alone)", file_name(m)),
            None => chosen
                .and_then(|id| cx.docs.iter().find(|d| d.id == id))
                .map_or("nothing".into(), |d| d.core.name.clone()),
        };
        ui.label_inputs_by(label.id, |ui| {
            egui::ComboBox::from_id_salt("link-compare").selected_text(text).show_ui(ui, |ui| {
                if ui.selectable_label(chosen.is_none() && map.is_none(), "nothing").clicked() {
                    actions.push(Action::Link(LinkAction::CompareWith(None)));
                }
                for d in &images {
                    if ui.selectable_label(chosen == Some(d.id), d.core.name.as_str()).clicked() {
                        actions.push(Action::Link(LinkAction::CompareWith(Some(d.id))));
                    }
                }
                for m in &st.maps {
                    let label = format!("{} (map alone)", file_name(m));
                    if ui.selectable_label(map == Some(m), label).clicked() {
                        actions.push(Action::Link(LinkAction::CompareMap(m.clone())));
                    }
                }
            });
        });
        ui.label(
            RichText::new("(an open image, with its map read from beside it: NAME.lldmap, NAME.gnumap, NAME.map; or a map beside the inputs alone)").weak(),
        );
    });
}

fn options_row(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let st = &cx.doc.link;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Linker:");
        ui.label_inputs_by(label.id, |ui| {
            egui::ComboBox::from_id_salt("link-flavor").selected_text(st.flavor().name()).show_ui(ui, |ui| {
                for f in [Flavor::LldLink, Flavor::LldMingw, Flavor::GnuLd] {
                    if ui.selectable_label(st.flavor() == f, f.name()).clicked() {
                        actions.push(Action::Link(LinkAction::Flavor(f)));
                    }
                }
            });
        });
        if let Some(program) = st.pasted_command().filter(|c| c.flavor.is_some()).and_then(|c| c.program) {
            ui.label(RichText::new(format!("(picked from `{program}` on the command line)")).weak())
                .on_hover_text("The pasted command line's program name says which linker it is");
        }
        ui.separator();
        for (name, value, gc) in [("GC", st.gc, true), ("ICF", st.icf, false)] {
            let text = match value {
                None => format!("{name}: default"),
                Some(true) => format!("{name}: on"),
                Some(false) => format!("{name}: off"),
            };
            let tip = if gc {
                "/opt:ref, --gc-sections (click: default → on → off)"
            } else {
                "/opt:icf, --icf=all (click: default → on → off)"
            };
            if ui.button(text).on_hover_text(tip).clicked() {
                let next = match value {
                    None => Some(true),
                    Some(true) => Some(false),
                    Some(false) => None,
                };
                actions.push(if gc { Action::Link(LinkAction::Gc(next)) } else { Action::Link(LinkAction::Icf(next)) });
            }
        }
        ui.separator();
        text_field(
            ui,
            "Entry:",
            "link-entry",
            &st.entry,
            110.0,
            "The entry symbol (empty: the one an input defines)",
            |t| Action::Link(LinkAction::Entry(t)),
            actions,
        );
        text_field(
            ui,
            "More options:",
            "link-extra",
            &st.extra,
            220.0,
            "e.g. /merge:.CRT=.rdata /include:sym",
            |t| Action::Link(LinkAction::Extra(t)),
            actions,
        );
    });
    ui.horizontal(|ui| {
        let current = st.pasted.clone().unwrap_or_default();
        text_field(
            ui,
            "Command line:",
            "link-pasted",
            &current,
            ui.available_width() - 260.0,
            "Paste the linker's command line as typed, program name included or not (lld-link, ld.lld, x86_64-w64-mingw32-ld, a clang / gcc driver line: it picks the linker); inputs are found among the open files, else beside the document; empty: use the inputs and options above",
            |t| Action::Link(LinkAction::Paste(t)),
            actions,
        );
    });
}

#[allow(clippy::too_many_arguments)]
fn text_field(
    ui: &mut egui::Ui,
    label: &str,
    salt: &str,
    value: &str,
    width: f32,
    tip: &str,
    make: impl Fn(String) -> Action,
    actions: &mut Vec<Action>,
) {
    let l = ui.label(label);
    let id = egui::Id::unique(("link-field", salt));
    let mut text = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| value.to_string());
    let r = ui
        .add(egui::TextEdit::singleline(&mut text).desired_width(width.max(80.0)).font(egui::TextStyle::Monospace))
        .labelled_by(l.id)
        .on_hover_text(format!("{tip}. Enter applies."));
    if r.changed() {
        ui.data_mut(|d| d.insert_temp(id, text.clone()));
    }
    if r.lost_focus() {
        if ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            actions.push(make(text));
        }
        ui.data_mut(|d| d.remove::<String>(id));
    }
}

fn outcome(ui: &mut egui::Ui, data: &LinkData, actions: &mut Vec<Action>) {
    let r = &data.report;
    ui.horizontal_wrapped(|ui| {
        let (text, color) = if r.succeeds {
            (format!("{} would link it", r.flavor), ui.visuals().text_color())
        } else {
            (format!("{} refuses it", r.flavor), ui.visuals().error_fg_color)
        };
        ui.label(RichText::new(text).strong().color(color));
        ui.separator();
        ui.label(format!("{} · image base {:#x}", r.machine, r.image_base));
        if let Some(e) = &r.entry {
            ui.separator();
            ui.label(match e.rva {
                Some(v) => format!("entry {} at {v:#x}", e.symbol),
                None => format!("entry {} undefined", e.symbol),
            });
        }
        ui.separator();
        let counts =
            format!("{} placed, {} discarded, {} folded", r.placements.len(), r.discarded.len(), r.folds.len());
        ui.label(if r.succeeds { counts } else { format!("had it linked: {counts}") });
        if let (true, Some((out, Ok(image)))) = (r.succeeds, &data.image) {
            ui.separator();
            let unknown: u64 = image.unknown.iter().map(|u| u.size).sum();
            let tip = format!(
                "Write the image this link makes ({} bytes: every input section relocated, the import tables, the runtime pseudo-relocation list, the base relocations) and open it in the Patch view, with the DLLs beside the inputs: objects → link → load → patch, without a linker. {unknown} bytes the simulation cannot know (time stamps, hashes, tables not yet written) stay zero.",
                image.bytes.len()
            );
            if ui.button(format!("Load {out} in the Patch view")).on_hover_text(tip).clicked() {
                actions.push(Action::Link(LinkAction::LoadImage));
            }
        }
    });
    ui.label(RichText::new(&data.command).monospace().weak()).on_hover_text("The command line simulated");
    for d in r.diagnostics.iter().take(12) {
        let color = match d.severity.name() {
            "error" => ui.visuals().error_fg_color,
            "warning" => ui.visuals().warn_fg_color,
            _ => ui.visuals().weak_text_color(),
        };
        let text = if d.severity == "note" { format!("Note: {}", d.message) } else { d.message.clone() };
        ui.label(RichText::new(text).monospace().color(color));
    }
    for n in &data.notes {
        ui.label(RichText::new(format!("Note: {n}")).weak());
    }
    if !r.ignored_options.is_empty() {
        ui.label(RichText::new(format!("Not modelled (ignored): {}", r.ignored_options.join(" "))).weak());
    }
    if let Some((name, c)) = &data.compare {
        match c {
            Ok(c) if c.differences.is_empty() => {
                ui.label(format!(
                    "Same as {name}: {} output sections and {} input sections compared, no difference",
                    c.sections_compared, c.placements_compared
                ));
            }
            Ok(c) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "{} differences from {name} ({} input sections compared):",
                        c.differences.len(),
                        c.placements_compared
                    ),
                );
                for d in c.differences.iter().take(8) {
                    ui.label(
                        RichText::new(format!(
                            "{} {}: predicted {}, actual {}",
                            d.kind,
                            d.what,
                            d.predicted.as_deref().unwrap_or("nothing"),
                            d.actual.as_deref().unwrap_or("nothing")
                        ))
                        .monospace(),
                    );
                }
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Cannot compare with {name}: {e}"));
            }
        }
    }
}

fn comdats(ui: &mut egui::Ui, data: &LinkData) {
    let weak = ui.visuals().weak_text_color();
    let warn = ui.visuals().warn_fg_color;
    egui::ScrollArea::vertical().id_salt("link-comdats").auto_shrink([false, false]).show(ui, |ui| {
        for c in &data.report.comdats {
            let shown = c.demangled.as_deref().unwrap_or(&c.symbol);
            let differ = c.copies_differ && c.copies.len() > 1;
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(shown).monospace().strong()).on_hover_text(&c.symbol);
                ui.label(RichText::new(c.selection).color(weak));
                let kept =
                    c.kept.as_ref().map_or("nothing kept".into(), |k| format!("kept {} [{}]", k.file, k.section));
                ui.label(kept);
                ui.label(RichText::new(&c.why).color(weak));
                if differ {
                    ui.label(RichText::new("copies differ (an ODR violation if nothing complains)").color(warn));
                }
            });
            if c.copies.len() > 1 {
                for x in &c.copies {
                    let is_kept = c.kept.as_ref().is_some_and(|k| k.file == x.file && k.section == x.section);
                    let text = format!(
                        "    {} {} [{}] {}, {} bytes{}",
                        if is_kept { "●" } else { "○" },
                        x.file,
                        x.section,
                        x.name,
                        x.size,
                        if x.differs { ", not the kept copy's bytes" } else { "" }
                    );
                    ui.label(RichText::new(text).monospace().color(if x.differs { warn } else { weak }));
                }
            }
        }
    });
}

fn side_panels(ui: &mut egui::Ui, data: &LinkData) {
    let r = &data.report;
    match &data.image {
        Some((out, Ok(image))) => written_image(ui, out, image),
        Some((_, Err(e))) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
        }
        None => {}
    }
    if data.image.is_some() {
        ui.separator();
    }
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.label(RichText::new("Output sections").strong());
            egui::Grid::new("link-out").striped(true).show(ui, |ui| {
                for s in &r.output_sections {
                    ui.label(RichText::new(&s.name).monospace());
                    ui.label(RichText::new(format!("{:#x}", s.rva)).monospace());
                    ui.label(RichText::new(format!("{:#x}", s.virtual_size)).monospace());
                    ui.label(RichText::new(format!("{:#010x}", s.characteristics)).monospace().weak());
                    ui.end_row();
                }
            });
        });
        ui.separator();
        ui.vertical(|ui| {
            ui.label(RichText::new(".CRT initialisers, in the order they run").strong());
            if r.crt.is_empty() {
                ui.label(RichText::new("none").weak());
            }
            for p in r.crt.iter().take(12) {
                ui.label(RichText::new(format!("{:#x} {} {}", p.rva, p.file, p.name)).monospace());
            }
        });
        ui.separator();
        ui.vertical(|ui| {
            ui.label(RichText::new(format!("ICF folds ({})", r.folds.len())).strong());
            for f in r.folds.iter().take(10) {
                ui.label(
                    RichText::new(format!(
                        "{} [{}] {} → {} [{}]",
                        f.folded.file, f.folded.section, f.folded.name, f.into.file, f.into.section
                    ))
                    .monospace(),
                );
            }
            if !r.members_loaded.is_empty() {
                ui.label(RichText::new("Archive members loaded").strong());
                for m in r.members_loaded.iter().take(10) {
                    ui.label(RichText::new(format!("{} for {}", m.file, m.symbol)).monospace());
                }
            }
        });
        if !r.pseudo_relocs.is_empty() {
            ui.separator();
            ui.vertical(|ui| pseudo_relocs(ui, r));
        }

        if !r.exports.is_empty() || r.import_library.is_some() {
            ui.separator();
            ui.vertical(|ui| exports(ui, r));
        }
    });
}

/// The image the link writes: its size and the bytes the simulation cannot know.
fn written_image(ui: &mut egui::Ui, out: &str, image: &crate::link::image::Image) {
    ui.label(RichText::new(format!("{out}, as written ({} bytes)", image.bytes.len())).strong()).on_hover_text(
        "The image the simulation writes (link --write-image; \"Load … in the Patch view\" above): every input section relocated and the linker's own tables. The bytes below cannot be known without the linker's output and are left zero.",
    );
    if image.unknown.is_empty() {
        ui.label(RichText::new("every byte known").weak());
    }
    for u in image.unknown.iter().take(12) {
        ui.label(RichText::new(format!("{} {:#x}+{}: {}", u.section, u.rva, u.size, u.why)).monospace());
    }
    if image.unknown.len() > 12 {
        ui.label(RichText::new(format!("… {} more (link --write-image lists all)", image.unknown.len() - 12)).weak());
    }
}

/// The export table the link writes, and the import library lld-link writes beside the DLL.
fn exports(ui: &mut egui::Ui, r: &crate::link::Report) {
    ui.label(RichText::new(format!("Exports ({})", r.exports.len())).strong()).on_hover_text(
        "The DLL's export table, by ordinal: what the dllexport directives, /export:, a .def file or MinGW's export-everything default put there.",
    );
    for e in r.exports.iter().take(12) {
        let rva = e.rva.map_or_else(|| "undefined".to_string(), |v| format!("{v:#x}"));
        let name = e.name.as_deref().unwrap_or("(by ordinal only)");
        let what = match (&e.forwarder, e.data) {
            (Some(f), _) => format!(" → {f}"),
            (None, true) => " DATA".to_string(),
            (None, false) => String::new(),
        };
        ui.label(RichText::new(format!("{:>3} {rva} {name}{what}", e.ordinal)).monospace());
    }
    if r.exports.len() > 12 {
        ui.label(RichText::new(format!("… {} more (link --json lists all)", r.exports.len() - 12)).weak());
    }
    if let Some(l) = &r.import_library {
        let shorts = l.members.iter().filter(|m| m.import_type.is_some()).count();
        let gnu = l.members.iter().any(|m| m.member.is_some());
        ui.label(RichText::new(format!("Import library {} ({shorts} imports)", l.path)).strong()).on_hover_text(if gnu {
            "What GNU ld's --out-implib writes (listed, not written): the tail (the DLL's name), the head (the import descriptor), and one long-form member per export that is not PRIVATE, last export first."
        } else {
            "What lld-link writes beside the DLL (listed, not written): the import descriptor, the null descriptor and thunk, and one short import member per export that is not PRIVATE."
        });
        for m in l.members.iter().filter(|m| m.import_type.is_some()).take(8) {
            let name = m.import_name.clone().unwrap_or_else(|| format!("#{}", m.ordinal_or_hint.unwrap_or(0)));
            let how = m.name_type.map(|n| n.to_string()).or_else(|| m.member.clone()).unwrap_or_default();
            let imp = m.symbols.iter().find(|s| s.starts_with("__imp_")).map_or("?", String::as_str);
            ui.label(RichText::new(format!("{imp} → {l_dll}!{name} ({how})", l_dll = l.dll)).monospace());
        }
    }
}

/// The runtime pseudo-relocation list the link writes for automatic imports, each entry with the
/// import whose IAT slot it names.
fn pseudo_relocs(ui: &mut egui::Ui, r: &crate::link::Report) {
    ui.label(RichText::new(format!("Runtime pseudo-relocations ({})", r.pseudo_relocs.len())).strong()).on_hover_text(
        "Data used without dllimport: the linker points each reference at the IAT slot and lists it; at start-up the MinGW runtime adds the slot's value minus its address to the field.",
    );
    for p in r.pseudo_relocs.iter().take(12) {
        let import = r.imports.iter().find(|i| i.iat_rva == p.sym_rva).map_or("?", |i| i.import.as_str());
        ui.label(RichText::new(format!("{:#x} ← {import} ({} bits)", p.target_rva, p.bits)).monospace());
    }
    if r.pseudo_relocs.len() > 12 {
        ui.label(RichText::new(format!("… {} more (link --json lists all)", r.pseudo_relocs.len() - 12)).weak());
    }
}
