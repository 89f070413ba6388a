//! The hex view: every byte of the file, tinted by the structure it belongs to, the selection
//! highlighted, and hovering a byte explaining which structure and field it is part of. Used as a
//! full view and as the pane under tables.

use eframe::egui::{self, pos2, vec2, Align2, Color32, Rect, RichText, Sense, Stroke, TextStyle};

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::lookup::is_object;
use crate::gui::regions::{Region, RegionKind, What};
use crate::gui::theme::{self, RefKind};
use crate::model::Span;

use super::{intro, ViewCtx};

/// Bytes per row.
pub const ROW_BYTES: u64 = 16;

/// The table row a region is listed in, for double-click navigation.
pub fn target_of(what: What, core: &DocCore) -> Option<Target> {
    let nb = core.bin.base_relocations.len();
    Some(match what {
        What::Field(g, f) => Target::Row(TableId::Headers, super::headers::row_of(core, g as usize, f as usize)),
        What::SectionHeader(p) => Target::Row(TableId::Sections, p as usize),
        What::SegmentHeader(p) => Target::Row(TableId::Segments, p as usize),
        What::Symbol(p) => Target::Row(TableId::Symbols, p as usize),
        What::ExportSlot(p) => Target::Row(TableId::Exports, p as usize),
        What::IatSlot { delay, module, entry } => {
            let row =
                core.index.imports.iter().position(|r| r.delay == delay && r.module == module && r.entry == entry)?;
            Target::Row(TableId::Imports, row)
        }
        What::BaseRelocEntry(p) | What::BaseRelocSite(p) => Target::Row(TableId::Relocations, p as usize),
        What::Reloc(p) | What::RelocSite(p) => Target::Row(TableId::Relocations, nb + p as usize),
        What::PseudoEntry(p) | What::PseudoSite(p) => Target::Row(TableId::PseudoRelocs, p as usize),
        What::DataDirectory(p) => Target::Row(TableId::DataDirs, p as usize),
        What::Member(p) => Target::Row(TableId::Members, p as usize),
        What::SectionBody(p) => Target::Section(core.bin.sections.get(p as usize)?.index),
        What::OmfRecord(r) | What::OmfField(r, _) => Target::Row(TableId::OmfRecords, r as usize),
        _ => return None,
    })
}

/// Geometry of one hex row.
struct Geo {
    cw: f32,
    x_rva: Option<f32>,
    x_hex: f32,
    x_asc: f32,
    width: f32,
}

impl Geo {
    fn new(left: f32, cw: f32, with_rva: bool) -> Self {
        let x_rva = with_rva.then_some(left + 10.0 * cw);
        let x_hex = left + if with_rva { 20.0 } else { 10.0 } * cw;
        let x_asc = x_hex + 50.0 * cw;
        Geo { cw, x_rva, x_hex, x_asc, width: x_asc + 17.0 * cw - left }
    }
    fn hex_x(&self, i: u64) -> f32 {
        self.x_hex + (i as f32 * 3.0 + if i >= 8 { 1.0 } else { 0.0 }) * self.cw
    }
    fn byte_at(&self, x: f32) -> Option<u64> {
        if x >= self.x_hex - 0.5 * self.cw && x < self.x_asc - self.cw {
            let rel = (x - self.x_hex + 0.5 * self.cw) / self.cw;
            let rel = if rel >= 24.5 { rel - 1.0 } else { rel };
            let i = (rel / 3.0).floor();
            (0.0..16.0).contains(&i).then_some(i as u64)
        } else if x >= self.x_asc && x < self.x_asc + 16.0 * self.cw {
            Some(((x - self.x_asc) / self.cw).floor() as u64)
        } else {
            None
        }
    }
}

fn hover_id(core: &DocCore, pane: bool) -> egui::Id {
    egui::Id::unique(("hex-hover", core.path.display().to_string(), core.name.as_str(), pane))
}

/// Describe the bytes at `off` in one line (innermost structure first).
pub fn describe_at(core: &DocCore, off: u64) -> String {
    let regions: Vec<Region> = core.regions().all_at(off);
    let mut parts: Vec<String> = regions
        .iter()
        .take(3)
        .map(|r| {
            let d = r.what.describe(&core.bin, &core.index);
            if d.detail.is_empty() {
                d.structure
            } else {
                format!("{}: {}", d.structure, d.detail)
            }
        })
        .collect();
    if parts.is_empty() {
        parts.push("not part of any structure the reader decoded (padding, code or data)".into());
    }
    let mut s = format!("file {off:#x}");
    if let Some(rva) = core.index.offset_to_rva(off, &core.bin) {
        s.push_str(&format!("  rva {rva:#x}"));
    }
    format!("{s}  ·  {}", parts.join("  ›  "))
}

fn tooltip(ui: &mut egui::Ui, core: &DocCore, off: u64) {
    ui.label(theme::mono(format!("file offset {off:#x}")));
    if let Some(rva) = core.index.offset_to_rva(off, &core.bin) {
        let va = core.bin.image_base.map_or_else(String::new, |b| format!("  VA {:#x}", b.wrapping_add(rva)));
        ui.label(theme::mono(format!("RVA {rva:#x}{va}")));
        // The object (and archive) the PDB says these bytes came from.
        if let Some(c) = core.pdb.as_deref().and_then(|p| p.contribution_at(rva)) {
            let module = c.module.as_deref().unwrap_or("?");
            let archive = c.archive.as_deref().filter(|a| *a != module).map_or(String::new(), |a| format!(" ({a})"));
            ui.label(format!("from {module}{archive}"));
        }
    }
    let regions = core.regions().all_at(off);
    if regions.is_empty() {
        ui.weak("Not part of any structure the reader decoded.");
    }
    for r in regions.iter().take(5) {
        let d = r.what.describe(&core.bin, &core.index);
        ui.horizontal(|ui| {
            ui.label(RichText::new(&d.structure).color(r.what.kind_in(&core.bin).color(ui.visuals())).strong());
            ui.label(&d.detail);
        });
        let help = match r.what {
            What::Field(g, f) => {
                core.bin.headers.get(g as usize).and_then(|h| h.fields.get(f as usize)).map(|f| f.help)
            }
            What::OmfField(rec, f) => {
                core.bin.omf_records.get(rec as usize).and_then(|r| r.fields.get(f as usize)).map(|f| f.help)
            }
            _ => None,
        };
        if let Some(help) = help {
            ui.add(egui::Label::new(RichText::new(help).italics()).wrap());
        }
    }
    ui.weak("Click: select this structure. Double-click: show it in its table.");
}

/// Draw the hex view (`pane`: the compact pane under tables).
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>, pane: bool) {
    let doc = cx.doc;
    let core = &doc.core;
    let data = &core.data;
    if !pane {
        intro(
            ui,
            "Hex",
            "Bytes tinted by the structure they belong to (colours as in the legend). Hover a byte to see what it is; click to select its structure; Ctrl+G to go to an address; Ctrl+F to search bytes or text. In a module opened from a process, bytes of its memory nothing explains are underlined in red (Verify view).",
        );
        legend(ui, !core.bin.omf_records.is_empty());
        super::hex_search::bar(ui, cx, actions);
    }
    let hid = hover_id(core, pane);
    let hovered: Option<u64> = ui.data(|d| d.get_temp(hid));
    selection_bar(ui, cx, actions, pane, hovered);
    ui.separator();

    let font = TextStyle::Monospace.resolve(ui.style());
    let cw = ui.ctx().fonts_mut(|f| f.glyph_width(&font, '0'));
    let row_h = ui.text_style_height(&TextStyle::Monospace) + 2.0;
    let total_rows = (data.len() as u64).div_ceil(ROW_BYTES) as usize;
    let with_rva = !is_object(&core.bin) && core.bin.image_base.is_some();
    let visuals = ui.visuals().clone();
    column_header(ui, &font, cw, row_h, with_rva);
    let sel_fill = theme::selection_fill(&visuals);
    let sel_fill_alt = theme::selection_fill_alt(&visuals);
    let text_color = visuals.text_color();
    let weak = visuals.weak_text_color();
    let mut new_hover = None;
    let unexplained = core.memory.as_ref().and_then(|l| l.latest()).filter(|d| !d.explanation.unexplained.is_empty());
    let red = RefKind::Unexplained.color(&visuals);
    ui.scope(|ui| {
        ui.spacing_mut().item_spacing.y = 0.0;
        let mut area = egui::ScrollArea::vertical().id_salt(("hex", pane)).auto_shrink(false);
        if let Some(off) = doc.hex.scroll_to.take() {
            // Clamp, or the scroll area springs back from past the end for many frames.
            let max = (total_rows as f32 * row_h - ui.available_height()).max(0.0);
            let y = (off / ROW_BYTES) as f32 * row_h - ui.available_height() / 3.0;
            area = area.vertical_scroll_offset(y.clamp(0.0, max));
        }
        area.show_rows(ui, row_h, total_rows, |ui, range| {
            let left = ui.max_rect().left() + 4.0;
            let geo = Geo::new(left, cw, with_rva);
            for r in range {
                let base = r as u64 * ROW_BYTES;
                let (rect, resp) =
                    ui.allocate_exact_size(vec2(geo.width.max(ui.available_width()), row_h), Sense::click());
                if !ui.is_rect_visible(rect) {
                    continue;
                }
                let painter = ui.painter_at(rect);
                let y = rect.top() + 1.0;
                let n = (data.len() as u64).saturating_sub(base).min(ROW_BYTES);
                // Backgrounds: selection, then structure tint.
                for i in 0..n {
                    let off = base + i;
                    let leaf = core.regions().leaf_with_index(off);
                    let fill = match (doc.hex.selection.filter(|s| s.contains(off)), leaf) {
                        // A selected structure made of smaller fields (an OMF record, a header):
                        // alternate two selection shades so the field boundaries still show.
                        (Some(sel), Some((i, leaf))) if leaf.span.len < sel.len && sel.contains(leaf.span.offset) => {
                            if leaf.what.shade(i) % 2 == 0 {
                                sel_fill
                            } else {
                                sel_fill_alt
                            }
                        }
                        (Some(_), _) => sel_fill,
                        (None, Some((i, leaf))) => {
                            // Alternate fields get slightly different strengths so boundaries show.
                            let strength = match (visuals.dark_mode, leaf.what.shade(i) % 2 == 0) {
                                (true, true) => 0.20,
                                (true, false) => 0.32,
                                (false, true) => 0.14,
                                (false, false) => 0.24,
                            };
                            leaf.what.kind_in(&core.bin).tint(&visuals, strength)
                        }
                        (None, None) => Color32::TRANSPARENT,
                    };
                    if fill != Color32::TRANSPARENT {
                        let hx = geo.hex_x(i) - 0.5 * cw;
                        let wide = if i == 7 { 4.0 } else { 3.0 };
                        painter.rect_filled(
                            Rect::from_min_size(pos2(hx, rect.top()), vec2(wide * cw, row_h)),
                            0.0,
                            fill,
                        );
                        painter.rect_filled(
                            Rect::from_min_size(pos2(geo.x_asc + i as f32 * cw, rect.top()), vec2(cw, row_h)),
                            0.0,
                            fill,
                        );
                    }
                    // Bytes of a module's memory nothing explains (the Verify view's latest run):
                    // underlined in red.
                    if let Some(u) = &unexplained {
                        if core.index.offset_to_rva(off, &core.bin).is_some_and(|rva| u.unexplained_in(rva, 1)) {
                            let bar = |x: f32, w: f32| Rect::from_min_size(pos2(x, rect.bottom() - 2.0), vec2(w, 2.0));
                            painter.rect_filled(bar(geo.hex_x(i), 2.0 * cw), 0.0, red);
                            painter.rect_filled(bar(geo.x_asc + i as f32 * cw, cw), 0.0, red);
                        }
                    }
                }
                painter.text(pos2(left, y), Align2::LEFT_TOP, format!("{base:08x}"), font.clone(), weak);
                if let Some(x) = geo.x_rva {
                    if let Some(rva) = core.index.offset_to_rva(base, &core.bin) {
                        painter.text(
                            pos2(x, y),
                            Align2::LEFT_TOP,
                            format!("{rva:08x}"),
                            font.clone(),
                            RefKind::Address.tint(&visuals, 0.75),
                        );
                    }
                }
                let start = usize::try_from(base).unwrap_or(usize::MAX);
                let bytes = data.get(start..start.saturating_add(n as usize)).unwrap_or(&[]);
                let mut hex = String::with_capacity(50);
                let mut asc = String::with_capacity(16);
                for (i, b) in bytes.iter().enumerate() {
                    if i == 8 {
                        hex.push(' ');
                    }
                    hex.push_str(&format!("{b:02x} "));
                    asc.push(if b.is_ascii_graphic() || *b == b' ' { *b as char } else { '·' });
                }
                painter.text(pos2(geo.x_hex, y), Align2::LEFT_TOP, hex, font.clone(), text_color);
                painter.text(pos2(geo.x_asc, y), Align2::LEFT_TOP, asc, font.clone(), text_color);
                if let Some(pos) = resp.hover_pos() {
                    if let Some(i) = geo.byte_at(pos.x).filter(|&i| i < n) {
                        let off = base + i;
                        new_hover = Some(off);
                        let stroke = Stroke::new(1.0, text_color);
                        let hx = geo.hex_x(i) - 0.25 * cw;
                        painter.rect_stroke(
                            Rect::from_min_size(pos2(hx, rect.top()), vec2(2.5 * cw, row_h)),
                            2.0,
                            stroke,
                            egui::StrokeKind::Inside,
                        );
                        painter.rect_stroke(
                            Rect::from_min_size(pos2(geo.x_asc + i as f32 * cw, rect.top()), vec2(cw, row_h)),
                            2.0,
                            stroke,
                            egui::StrokeKind::Inside,
                        );
                        let span = core.regions().leaf_at(off).map_or(Span::new(off, 1), |l| l.span);
                        if resp.double_clicked() {
                            let target = core.regions().leaf_at(off).and_then(|l| target_of(l.what, core));
                            if let Some(target) = target {
                                actions.push(Action::Navigate { doc: None, target });
                            }
                        } else if resp.clicked() {
                            actions.push(Action::HexSelect(Some(span)));
                        }
                        resp.on_hover_ui(|ui| tooltip(ui, core, off));
                    }
                }
            }
        });
    });
    ui.data_mut(|d| {
        if hovered != new_hover {
            match new_hover {
                Some(o) => {
                    d.insert_temp(hid, o);
                }
                None => d.remove::<u64>(hid),
            }
        }
    });
}

/// The line above the bytes: the selection and the structure it is, and what the hovered byte is.
fn selection_bar(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>, pane: bool, hovered: Option<u64>) {
    let (doc, core) = (cx.doc, &cx.doc.core);
    let data = &core.data;
    ui.horizontal(|ui| {
        if pane {
            ui.strong("Bytes");
        }
        match doc.hex.selection {
            Some(sel) => {
                ui.label(theme::mono(format!("selected {:#x}..{:#x} ({} bytes)", sel.offset, sel.end(), sel.len)));
                // Name the structure the selection is exactly, else the innermost one at its start.
                let exact = core.regions().all_at(sel.offset).into_iter().find(|r| r.span == sel);
                if let Some(r) = exact.or_else(|| core.regions().leaf_at(sel.offset).copied()) {
                    let d = r.what.describe(&core.bin, &core.index);
                    let color = r.what.kind_in(&core.bin).color(ui.visuals());
                    ui.label(RichText::new(format!("{} {}", d.structure, d.detail)).color(color));
                }
                if ui.small_button("clear").clicked() {
                    actions.push(Action::HexSelect(None));
                }
            }
            None => {
                ui.weak("Select a row or click a byte to highlight a structure.");
            }
        }
    });
    let status = hovered.filter(|&o| o < data.len() as u64).map(|o| describe_at(core, o));
    ui.label(
        RichText::new(status.unwrap_or_else(|| " ".into())).small().monospace().color(ui.visuals().weak_text_color()),
    );
}

/// The column titles: offset, rva (images), the byte columns and the text.
fn column_header(ui: &mut egui::Ui, font: &egui::FontId, cw: f32, row_h: f32, with_rva: bool) {
    let visuals = ui.visuals().clone();
    let font = font.clone();
    let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width(), row_h), Sense::hover());
    let geo = Geo::new(rect.left() + 4.0, cw, with_rva);
    let painter = ui.painter_at(rect);
    let c = visuals.weak_text_color();
    let y = rect.top() + 1.0;
    painter.text(pos2(rect.left() + 4.0, y), Align2::LEFT_TOP, "offset", font.clone(), c);
    if let Some(x) = geo.x_rva {
        painter.text(pos2(x, y), Align2::LEFT_TOP, "rva", font.clone(), c);
    }
    for i in 0..ROW_BYTES {
        painter.text(pos2(geo.hex_x(i), y), Align2::LEFT_TOP, format!("{i:02x}"), font.clone(), c);
    }
    painter.text(pos2(geo.x_asc, y), Align2::LEFT_TOP, "text", font.clone(), c);
}

fn legend(ui: &mut egui::Ui, omf: bool) {
    ui.horizontal_wrapped(|ui| {
        let kinds: &[RefKind] = if omf {
            // OMF records are tinted by type: envelope and module records as header, SEGDEF /
            // GRPDEF / data as section, names as symbol, FIXUPP as relocation, line numbers as
            // data directory.
            &[RefKind::Header, RefKind::Section, RefKind::Symbol, RefKind::Reloc, RefKind::Comdat, RefKind::DataDir]
        } else {
            &[
                RefKind::Header,
                RefKind::Section,
                RefKind::Symbol,
                RefKind::Import,
                RefKind::Reloc,
                RefKind::PseudoReloc,
                RefKind::DataDir,
            ]
        };
        for &k in kinds {
            let (rect, _) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
            ui.painter().rect_filled(rect, 2.0, k.tint(ui.visuals(), 0.6));
            ui.label(RichText::new(k.label()).small());
        }
        let (rect, _) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
        ui.painter().rect_filled(rect, 2.0, theme::selection_fill(ui.visuals()));
        ui.label(RichText::new("selection").small());
    });
}
