//! The layout map: the address space (images) or the file (objects) drawn to scale in lanes —
//! sections, the objects of a PDB ([`super::map_objects`]), data directories, IAT,
//! base-relocation pages, pseudo-relocation sites, segments.
//! Scroll to zoom around the pointer, drag to pan; click a region to go to it.

use eframe::egui::{self, pos2, vec2, Align2, Color32, CornerRadius, FontId, Rect, RichText, Sense, Stroke};

use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::lookup::is_object;
use crate::gui::theme::{self, RefKind};
use crate::session::analyzed::SitePage;

use super::{intro, ViewCtx};

/// One box on the map.
#[derive(Debug, Clone)]
pub struct Item {
    /// First address (RVA, or file offset for objects).
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Short label drawn inside when it fits.
    pub label: String,
    /// Colour kind.
    pub kind: RefKind,
    /// Where clicking goes.
    pub target: Option<Target>,
}

/// A horizontal lane of boxes.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Lane title.
    pub name: &'static str,
    /// What the lane shows.
    pub help: &'static str,
    /// Its boxes.
    pub items: Vec<Item>,
}

/// Whether the map is of RVAs (images) or file offsets (objects).
pub fn uses_rva(core: &DocCore) -> bool {
    !is_object(&core.bin) && !core.bin.sections.is_empty() && core.bin.image_base.is_some()
}

/// Build the lanes of `core` and the size of the space they live in.
pub fn lanes(core: &DocCore) -> (Vec<Lane>, u64) {
    let bin = &core.bin;
    let l = &core.index;
    let rva = uses_rva(core);
    let mut lanes = Vec::new();
    let mut sections = Vec::new();
    for (p, s) in bin.sections.iter().enumerate() {
        let (start, len) = if rva {
            if !s.is_alloc {
                continue;
            }
            (s.rva, if s.virtual_size == 0 { s.file_size } else { s.virtual_size })
        } else {
            if s.file_size == 0 {
                continue;
            }
            (s.file_offset, s.file_size)
        };
        sections.push(Item {
            start,
            end: start.saturating_add(len.max(1)),
            label: l.section_label_at(p).to_string(),
            kind: RefKind::Section,
            target: Some(Target::Row(TableId::Sections, p)),
        });
    }
    lanes.push(Lane {
        name: "Sections",
        help: if rva {
            "Each section where the loader maps it (RVA, virtual size)."
        } else {
            "Each section's bytes in the file."
        },
        items: sections,
    });
    lanes.extend(super::map_objects::lane(core));
    if !rva {
        let mut headers = Vec::new();
        for (g, h) in bin.headers.iter().enumerate() {
            if h.span.len > 0 {
                headers.push(Item {
                    start: h.span.offset,
                    end: h.span.end(),
                    label: h.name.clone(),
                    kind: RefKind::Header,
                    target: Some(Target::Row(TableId::Headers, super::headers::row_of(core, g, 0))),
                });
            }
        }
        let table = bin.sections.iter().filter(|s| s.header_span.len > 0).map(|s| s.header_span);
        let start = table.clone().map(|h| h.offset).min();
        let end = table.map(|h| h.end()).max();
        if let (Some(start), Some(end)) = (start, end) {
            headers.push(Item {
                start,
                end,
                label: format!("section headers ({})", bin.sections.len()),
                kind: RefKind::Header,
                target: Some(Target::Row(TableId::Sections, 0)),
            });
        }
        lanes.push(Lane { name: "Headers", help: "Header structures in the file.", items: headers });
        let mut relocs: Vec<Item> = Vec::new();
        let mut last_section = None;
        for (p, r) in bin.relocations.iter().enumerate() {
            let same = last_section == Some(r.section);
            last_section = Some(r.section);
            match relocs.last_mut() {
                Some(last) if same && last.end == r.span.offset => last.end = r.span.end(),
                _ => relocs.push(Item {
                    start: r.span.offset,
                    end: r.span.end(),
                    label: match r.section.and_then(|s| l.section_label(s)) {
                        Some(sec) => format!("relocs of {sec}"),
                        None => "relocs".into(),
                    },
                    kind: RefKind::Reloc,
                    target: Some(Target::Row(TableId::Relocations, bin.base_relocations.len() + p)),
                }),
            }
        }
        lanes.push(Lane {
            name: "Relocation records",
            help: "Where the relocation tables sit in the file.",
            items: relocs,
        });
        let mut syms: Vec<Item> = Vec::new();
        for (p, s) in bin.symbols.iter().enumerate() {
            match syms.last_mut() {
                Some(last) if last.end == s.span.offset => last.end = s.span.end(),
                _ => syms.push(Item {
                    start: s.span.offset,
                    end: s.span.end(),
                    label: "symbol table".into(),
                    kind: RefKind::Symbol,
                    target: Some(Target::Row(TableId::Symbols, p)),
                }),
            }
        }
        lanes.push(Lane { name: "Symbols", help: "Where the symbol table sits in the file.", items: syms });
        return (lanes, bin.file_size.max(1));
    }
    if !bin.segments.is_empty() {
        let base = bin.image_base.unwrap_or(0);
        let items = bin
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == crate::model::SegmentKind::Load)
            .map(|(p, s)| Item {
                start: s.vaddr.wrapping_sub(base),
                end: s.vaddr.wrapping_sub(base).saturating_add(s.mem_size.max(1)),
                label: format!("LOAD {}", s.flag_names.join("")),
                kind: RefKind::Section,
                target: Some(Target::Row(TableId::Segments, p)),
            })
            .collect();
        lanes.push(Lane {
            name: "Segments",
            help: "LOAD segments: what the ELF loader maps, with their permissions.",
            items,
        });
    }
    if let Some(pe) = &bin.pe {
        let items = pe
            .data_directories
            .iter()
            .enumerate()
            .filter(|(_, d)| d.rva != 0 && d.size != 0 && d.index != 4)
            .map(|(p, d)| Item {
                start: d.rva,
                end: d.rva.saturating_add(d.size),
                label: d.name.clone(),
                kind: RefKind::DataDir,
                target: Some(Target::Row(TableId::DataDirs, p)),
            })
            .collect();
        lanes.push(Lane {
            name: "Data directories",
            help: "Tables the loader and tools find through the optional header.",
            items,
        });
    }
    let mut iat = Vec::new();
    let ptr = if bin.is_64 { 8 } else { 4 };
    let mut row = 0usize;
    for (delay, list) in [(false, &bin.imports), (true, &bin.delay_imports)] {
        for m in list {
            let first = m.entries.first().map(|e| e.iat_rva);
            let last = m.entries.iter().map(|e| e.iat_rva).max();
            if let (Some(a), Some(b)) = (first, last) {
                iat.push(Item {
                    start: a.min(b),
                    end: b.saturating_add(ptr),
                    label: format!("{}{}", if delay { "delay " } else { "" }, m.dll),
                    kind: RefKind::Import,
                    target: Some(Target::Row(TableId::Imports, row)),
                });
            }
            row += m.entries.len();
        }
    }
    if !iat.is_empty() {
        lanes.push(Lane {
            name: "IAT",
            help: "Each DLL's run of import address table slots (the loader writes addresses here).",
            items: iat,
        });
    }
    let mut pages = Vec::new();
    let mut first_entry = 0usize;
    for b in &bin.base_reloc_blocks {
        pages.push(Item {
            start: b.page_rva,
            end: b.page_rva.saturating_add(0x1000),
            label: format!("{} entries", b.entry_count),
            kind: RefKind::Reloc,
            target: Some(Target::Row(TableId::Relocations, first_entry)),
        });
        first_entry += b.entry_count as usize;
    }
    if !pages.is_empty() {
        lanes.push(Lane {
            name: "Base-reloc pages",
            help: "The 4 KiB pages that hold base-relocation sites (one block each).",
            items: pages,
        });
    }
    let dynamic: Vec<Item> = bin
        .relocations
        .iter()
        .enumerate()
        .filter(|(_, r)| r.dynamic)
        .map(|(p, r)| Item {
            start: r.offset,
            end: r.offset.saturating_add((u64::from(r.width) / 8).max(1)),
            label: r.normalized.to_string(),
            kind: RefKind::Reloc,
            target: Some(Target::Row(TableId::Relocations, bin.base_relocations.len() + p)),
        })
        .collect();
    if !dynamic.is_empty() {
        lanes.push(Lane {
            name: "Dynamic relocs",
            help: "Sites the ELF dynamic loader patches (GOT slots, COPY targets, …).",
            items: dynamic,
        });
    }
    let pseudo: Vec<Item> = bin
        .pseudo_relocations
        .entries
        .iter()
        .enumerate()
        .map(|(p, e)| Item {
            start: e.target_rva,
            end: e.target_rva.saturating_add(u64::from(e.width / 8).max(1)),
            label: e.import.clone().unwrap_or_default(),
            kind: RefKind::PseudoReloc,
            target: Some(Target::Row(TableId::PseudoRelocs, p)),
        })
        .collect();
    if !pseudo.is_empty() {
        lanes.push(Lane {
            name: "Pseudo-reloc sites",
            help: "Sites the MinGW runtime patches at start-up with an imported address.",
            items: pseudo,
        });
    }
    let sites: Vec<Item> = core
        .site_pages()
        .iter()
        .map(|&SitePage { rva, sites: n, at_risk: bad, first: row }| Item {
            start: rva,
            end: rva.saturating_add(0x1000),
            label: if bad > 0 { format!("{n} import sites, {bad} at risk") } else { format!("{n} import sites") },
            kind: if bad > 0 { RefKind::PseudoReloc } else { RefKind::Import },
            target: Some(Target::Row(TableId::Refs, row as usize)),
        })
        .collect();
    if !sites.is_empty() {
        lanes.push(Lane {
            name: "Import sites",
            help: "Pages of code and data whose sites reach an import (from the data-reference scan); orange where one is out of reach, wraps or is ambiguous. Click: the first in the Data references table.",
            items: sites,
        });
    }
    lanes.extend(super::map_memory::lane(core));
    let mut size = lanes.iter().flat_map(|l| l.items.iter().map(|i| i.end)).max().unwrap_or(1);
    if let Some(size_of_image) =
        bin.headers.iter().flat_map(|h| h.fields.iter()).find(|f| f.name == "SizeOfImage").and_then(|f| f.value)
    {
        size = size.max(size_of_image);
    }
    (lanes, size.max(1))
}

const LANE_H: f32 = 30.0;
const LABEL_W: f32 = 130.0;

/// Draw the Layout map.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let rva = uses_rva(core);
    intro(
        ui,
        "Layout map",
        if rva {
            "The image as the loader lays it out, to scale (RVA from left to right). Scroll to zoom, drag to pan, click a box to go to it."
        } else {
            "An object file has no addresses yet, so this is the file itself, to scale (file offset from left to right). Scroll to zoom, drag to pan, click a box to go to it."
        },
    );
    let (lanes, size) = lanes(core);
    let st = cx.doc.map;
    ui.horizontal(|ui| {
        let set = |zoom: f64, start: f64| Action::SetMap(zoom, start);
        let width = 1.0 / st.zoom;
        let center = st.start + width / 2.0;
        if ui.button("−").on_hover_text("Zoom out").clicked() {
            let z = (st.zoom / 2.0).max(1.0);
            actions.push(set(z, center - 0.5 / z));
        }
        if ui.button("+").on_hover_text("Zoom in").clicked() {
            let z = (st.zoom * 2.0).min(1.0e7);
            actions.push(set(z, center - 0.5 / z));
        }
        if ui.button("Fit").on_hover_text("Show the whole address space").clicked() {
            actions.push(set(1.0, 0.0));
        }
        let left = (st.start * size as f64) as u64;
        let right = ((st.start + width) * size as f64) as u64;
        ui.label(theme::mono(format!("{} {left:#x} – {right:#x}   ×{:.1}", if rva { "RVA" } else { "file" }, st.zoom)));
    });
    ui.add_space(4.0);
    let height = LANE_H * lanes.len() as f32 + 24.0;
    let avail = ui.available_width();
    let (rect, resp) = ui.allocate_exact_size(vec2(avail, height), Sense::click_and_drag());
    let plot =
        Rect::from_min_max(pos2(rect.left() + LABEL_W, rect.top()), pos2(rect.right() - 4.0, rect.bottom() - 22.0));
    let visuals = ui.visuals().clone();
    let painter = ui.painter_at(rect);
    painter.rect_filled(plot, 4.0, visuals.extreme_bg_color);
    let view_w = 1.0 / st.zoom;
    let to_x = |addr: u64| -> f32 {
        let frac = addr as f64 / size as f64;
        plot.left() + ((frac - st.start) / view_w) as f32 * plot.width()
    };
    // Zoom and pan.
    if resp.hovered() {
        let (scroll, zoom_delta) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = if zoom_delta != 1.0 { f64::from(zoom_delta) } else { (f64::from(scroll) / 200.0).exp() };
        if (factor - 1.0).abs() > 1e-4 {
            if let Some(p) = resp.hover_pos() {
                let at = st.start + f64::from((p.x - plot.left()) / plot.width()) * view_w;
                let z = (st.zoom * factor).clamp(1.0, 1.0e7);
                let start = at - f64::from((p.x - plot.left()) / plot.width()) / z;
                actions.push(Action::SetMap(z, clamp_start(start, z)));
            }
        }
    }
    if resp.dragged() {
        let dx = f64::from(resp.drag_delta().x / plot.width()) * view_w;
        if dx != 0.0 {
            actions.push(Action::SetMap(st.zoom, clamp_start(st.start - dx, st.zoom)));
        }
    }
    let font = FontId::proportional(11.0);
    let mut hovered: Option<(&Lane, &Item)> = None;
    let pointer = resp.hover_pos();
    for (li, lane) in lanes.iter().enumerate() {
        let y0 = plot.top() + li as f32 * LANE_H + 3.0;
        let lane_rect = Rect::from_min_size(pos2(rect.left(), y0), vec2(LABEL_W - 6.0, LANE_H - 6.0));
        painter.text(
            lane_rect.left_center(),
            Align2::LEFT_CENTER,
            lane.name,
            FontId::proportional(12.5),
            visuals.text_color(),
        );
        if li > 0 {
            painter.hline(plot.x_range(), y0 - 3.0, Stroke::new(1.0, visuals.faint_bg_color));
        }
        let mut last_x = f32::NEG_INFINITY;
        for item in &lane.items {
            let x0 = to_x(item.start).max(plot.left());
            let x1 = to_x(item.end).min(plot.right());
            if x1 < plot.left() || x0 > plot.right() {
                continue;
            }
            let x1 = x1.max(x0 + 2.0);
            // Skip boxes that would be drawn on the same pixel as the previous one.
            if x1 <= last_x + 0.5 && x1 - x0 <= 2.0 {
                continue;
            }
            last_x = x1;
            let r = Rect::from_min_max(pos2(x0, y0), pos2(x1, y0 + LANE_H - 8.0));
            let is_hover = pointer.is_some_and(|p| r.expand2(vec2(1.5, 0.0)).contains(p));
            let fill = item.kind.tint(&visuals, if is_hover { 0.75 } else { 0.45 });
            painter.rect(
                r,
                CornerRadius::same(3),
                fill,
                Stroke::new(1.0, item.kind.color(&visuals)),
                egui::StrokeKind::Inside,
            );
            if r.width() > 30.0 {
                let galley = painter.layout_no_wrap(item.label.clone(), font.clone(), visuals.strong_text_color());
                if galley.size().x + 6.0 < r.width() {
                    painter.galley(
                        pos2(r.left() + 3.0, r.center().y - galley.size().y / 2.0),
                        galley,
                        Color32::PLACEHOLDER,
                    );
                }
            }
            if is_hover {
                hovered = Some((lane, item));
            }
        }
    }
    // Axis.
    let ticks = 8;
    for t in 0..=ticks {
        let frac = st.start + view_w * f64::from(t) / f64::from(ticks);
        let addr = (frac * size as f64) as u64;
        let x = plot.left() + plot.width() * t as f32 / ticks as f32;
        painter.vline(x, plot.bottom()..=plot.bottom() + 4.0, Stroke::new(1.0, visuals.weak_text_color()));
        let align = if t == 0 {
            Align2::LEFT_TOP
        } else if t == ticks {
            Align2::RIGHT_TOP
        } else {
            Align2::CENTER_TOP
        };
        painter.text(
            pos2(x, plot.bottom() + 5.0),
            align,
            format!("{addr:#x}"),
            FontId::monospace(11.0),
            visuals.weak_text_color(),
        );
    }
    if let Some((lane, item)) = hovered {
        let what = if rva { "RVA" } else { "file" };
        let text = super::map_objects::tooltip(core, lane, item).unwrap_or_else(|| {
            format!(
                "{}: {}\n{what} {:#x} – {:#x} ({:#x} bytes)\n{}\nClick to go there.",
                lane.name,
                item.label,
                item.start,
                item.end,
                item.end.saturating_sub(item.start),
                lane.help
            )
        });
        let resp = resp.on_hover_text(text);
        if resp.clicked() {
            if let Some(target) = &item.target {
                actions.push(Action::Navigate { doc: None, target: target.clone() });
            }
        }
    }
    ui.add_space(8.0);
    index(ui, &lanes, size, &st, rva, actions);
}

/// The boxes in the visible range, as a clickable list (the map's index).
fn index(
    ui: &mut egui::Ui,
    lanes: &[Lane],
    size: u64,
    st: &crate::gui::document::MapState,
    rva: bool,
    actions: &mut Vec<Action>,
) {
    let left = (st.start * size as f64) as u64;
    let right = ((st.start + 1.0 / st.zoom) * size as f64).ceil() as u64;
    let mut items: Vec<(&Lane, &Item)> = lanes
        .iter()
        .flat_map(|l| l.items.iter().map(move |i| (l, i)))
        .filter(|(_, i)| i.end > left && i.start < right)
        .collect();
    items.sort_by_key(|(_, i)| (i.start, i.end));
    let shown = items.len().min(2000);
    ui.horizontal(|ui| {
        ui.strong("In view");
        ui.weak(format!(
            "{} box(es){}; click a name to go there",
            items.len(),
            if shown < items.len() { ", first 2000 listed" } else { "" }
        ));
    });
    let visuals = ui.visuals().clone();
    egui::ScrollArea::vertical().id_salt("map-index").auto_shrink(false).show(ui, |ui| {
        egui::Grid::new("map-index-grid").num_columns(5).striped(true).spacing([18.0, 3.0]).show(ui, |ui| {
            for h in ["Lane", "Name", if rva { "RVA" } else { "Offset" }, "End", "Size"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for (lane, item) in items.into_iter().take(shown) {
                ui.label(RichText::new(lane.name).color(item.kind.color(&visuals))).on_hover_text(lane.help);
                let label = if item.label.is_empty() { "(unnamed)" } else { item.label.as_str() };
                if theme::link(ui, label, item.kind).clicked() {
                    if let Some(t) = &item.target {
                        actions.push(Action::Navigate { doc: None, target: t.clone() });
                    }
                }
                ui.label(theme::mono(format!("{:#x}", item.start)));
                ui.label(theme::mono(format!("{:#x}", item.end)));
                ui.label(theme::mono(format!("{:#x}", item.end.saturating_sub(item.start))));
                ui.end_row();
            }
        });
    });
}

/// Keep the left edge inside the space at zoom `z`.
pub fn clamp_start(start: f64, z: f64) -> f64 {
    start.clamp(0.0, (1.0 - 1.0 / z).max(0.0))
}
