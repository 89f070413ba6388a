//! The Process view: a minidump's, an ELF core's or a running process's modules (name, path,
//! base, size, whether the file is at hand, whether the dump holds — or the process maps — all of
//! it) and its memory ranges (a live process: its mappings), as tables. A module's row opens it
//! as an image linked to its memory.

use eframe::egui;

use crate::gui::action::Action;
use crate::gui::document::{DocCore, TableId};
use crate::gui::process::ProcessData;
use crate::gui::table::{columns, Cell, Column, ColumnEnum, Facet, TableModel, Tone};
use crate::gui::theme::RefKind;

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the modules table.
    enum ModuleCol {
        Name => Column::text("Name", 150.0, "The module's file name, as the dump records it."),
        Base => Column::num("Base", 130.0, "Where the process had it loaded: every base of a verification comes from here (a running process: from /proc/PID/maps)."),
        Size => Column::num("Size", 90.0, "Its size in memory (SizeOfImage; for a core or a running process the span of its mappings)."),
        File => Column::text("File", 70.0, "Whether its file is at hand: at its recorded path, else of its name beside the dump. Without it, a PE module is read from its image in the dump (or the process's memory)."),
        Memory => Column::text("Memory", 80.0, "Whether the dump holds (a running process: maps) every byte of it, else the share it holds (pages left out are not compared, never mismatches)."),
        Path => Column::text("Path", 420.0, "The path the process had it at."),
    }
}

columns! {
    /// Columns of the memory-ranges table.
    enum RangeCol {
        Start => Column::num("Start", 130.0, "The range's first address."),
        End => Column::num("End", 130.0, "One past its last address."),
        Size => Column::num("Size", 100.0, "Bytes the dump holds there (a running process: the mapping's size)."),
        Module => Column::text("Module", 160.0, "The module the range lies in, if any."),
    }
}

fn data(core: &DocCore) -> Option<&ProcessData> {
    core.process.as_deref()
}

/// The modules table.
pub struct ModuleModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl ModuleModel<'_> {
    /// Whether module `row` can be opened: its file is at hand, or the dump holds some of it.
    fn openable(&self, row: usize) -> bool {
        data(self.core).and_then(|p| p.modules.get(row)).is_some_and(|m| m.file.is_some() || m.held > 0)
    }
}

impl TableModel for ModuleModel<'_> {
    fn columns(&self) -> &'static [Column] {
        ModuleCol::COLUMNS
    }
    fn len(&self) -> usize {
        data(self.core).map_or(0, |p| p.modules.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(m) = data(self.core).and_then(|p| p.modules.get(row)) else { return String::new() };
        match ModuleCol::from_index(col) {
            Some(ModuleCol::Name) => m.module.name.clone(),
            Some(ModuleCol::Base) => format!("{:#x}", m.module.base),
            Some(ModuleCol::Size) => format!("{:#x}", m.module.size),
            Some(ModuleCol::File) => if m.file.is_some() { "found" } else { "missing" }.to_string(),
            Some(ModuleCol::Memory) if m.complete => "complete".to_string(),
            Some(ModuleCol::Memory) => format!("{}%", m.held.saturating_mul(100) / m.module.size.max(1)),
            Some(ModuleCol::Path) => m.module.path.clone(),
            None => String::new(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        match ModuleCol::from_index(col) {
            // A module neither at hand nor held cannot be opened.
            Some(ModuleCol::Name) if self.openable(row) => Cell::link(text, RefKind::Section, Action::OpenModule(row))
                .tip("Open it as an image linked to its memory here (Verify view)"),
            Some(ModuleCol::Name) => {
                Cell::plain(text).tone(Tone::Weak).tip("Neither its file nor its memory is at hand: nothing to open")
            }
            Some(ModuleCol::File) if text == "missing" => Cell::plain(text).tone(Tone::Weak),
            Some(ModuleCol::Memory) if text != "complete" => Cell::plain(text).tone(Tone::Weak),
            Some(ModuleCol::Path) => Cell::plain(text.clone()).tip(text),
            Some(ModuleCol::Base | ModuleCol::Size) => Cell::mono(text),
            _ => Cell::plain(text),
        }
    }
    fn activate(&self, row: usize) -> Option<Action> {
        self.openable(row).then_some(Action::OpenModule(row))
    }
    fn facets(&self) -> Vec<Facet> {
        Facet::each_distinct(&[("File", ModuleCol::File), ("Memory", ModuleCol::Memory)], self)
    }
}

/// The memory-ranges table.
pub struct RangeModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl TableModel for RangeModel<'_> {
    fn columns(&self) -> &'static [Column] {
        RangeCol::COLUMNS
    }
    fn len(&self) -> usize {
        data(self.core).map_or(0, |p| p.ranges.len())
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(p) = data(self.core) else { return String::new() };
        let Some(&(start, size)) = p.ranges.get(row) else { return String::new() };
        match RangeCol::from_index(col) {
            Some(RangeCol::Start) => format!("{start:#x}"),
            Some(RangeCol::End) => format!("{:#x}", start.saturating_add(size)),
            Some(RangeCol::Size) => format!("{size:#x}"),
            Some(RangeCol::Module) => p
                .modules
                .iter()
                .find(|m| start >= m.module.base && start < m.module.base.saturating_add(m.module.size))
                .map(|m| m.module.name.clone())
                .unwrap_or_default(),
            None => String::new(),
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        match RangeCol::from_index(col) {
            Some(RangeCol::Module) => Cell::plain(text),
            _ => Cell::mono(text),
        }
    }
    fn facets(&self) -> Vec<Facet> {
        vec![Facet::distinct("Module", RangeCol::Module, self)]
    }
}

/// Draw the Process view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let Some(p) = data(&cx.doc.core) else { return };
    let text = if p.source.live().is_some() {
        "A running process: its modules, each where it is loaded, and its mappings, as /proc/PID/maps lists them. Click a module's name (or double-click its row) to open it as an image linked to the process's memory: its Verify view reads that memory, compares it with the file and explains every byte that differs, all bases taken from here."
    } else {
        "What a process left behind: its modules, each where it was loaded, and the memory the dump holds. Click a module's name (or double-click its row) to open it as an image linked to its memory: its Verify view compares the two and explains every byte that differs, all bases taken from here."
    };
    intro(ui, "Process", text);
    let held: u64 = p.ranges.iter().map(|r| r.1).sum();
    if let Some(live) = p.source.live() {
        live_header(ui, cx, p, live, held, actions);
    }
    let Some(d) = p.source.dump() else { return };
    if p.source.live().is_none() {
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(d.format.name()).strong());
            if let Some(a) = &d.arch {
                ui.label(format!("· {a}"));
            }
            ui.label(format!(
                "· {} modules, {} of them with their file at hand · {} memory ranges, {} bytes",
                p.modules.len(),
                p.modules.iter().filter(|m| m.file.is_some()).count(),
                p.ranges.len(),
                held
            ));
        });
    }
    if !d.diagnostics.is_empty() {
        ui.colored_label(
            crate::gui::theme::severity_color(crate::model::Severity::Error, ui.visuals()),
            format!(
                "The dump is damaged ({}): its modules are listed as far as they read, and not verified.",
                d.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ),
        );
    }
    ui.add_space(4.0);
    let avail = ui.available_height();
    ui.label(egui::RichText::new("Modules").strong());
    ui.allocate_ui(egui::vec2(ui.available_width(), (avail * 0.55).max(120.0)), |ui| {
        show_table(ui, cx, TableId::Modules, actions);
    });
    ui.separator();
    let ranges = if p.source.live().is_some() { "Mappings (/proc/PID/maps)" } else { "Memory ranges" };
    ui.label(egui::RichText::new(ranges).strong());
    ui.push_id("memory-ranges", |ui| show_table(ui, cx, TableId::MemoryRanges, actions));
}

/// A running process: its id, name and executable, when its mappings were read ("Read again"),
/// and the kernel's refusal in full when it refused.
fn live_header(
    ui: &mut egui::Ui,
    cx: &ViewCtx<'_>,
    p: &ProcessData,
    live: &crate::gui::live::Live,
    held: u64,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(format!("running process {}", live.pid)).strong());
        ui.label(format!("· {}", if live.comm.is_empty() { "?" } else { &live.comm }));
        if let Some(exe) = &live.exe {
            ui.label(crate::gui::theme::mono(exe.display().to_string()));
        }
        ui.label(format!(
            "· {} modules, {} of them with their file at hand · {} mappings, {} bytes",
            p.modules.len(),
            p.modules.iter().filter(|m| m.file.is_some()).count(),
            p.ranges.len(),
            held
        ));
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Mappings read at {}.", crate::gui::live::clock(live.read_at)));
        // Asked again while a reading runs, it is ignored.
        if ui
            .button("Read again")
            .on_hover_text("Read /proc/PID/maps again: modules loaded or unloaded since show")
            .clicked()
        {
            actions.push(Action::Live(crate::gui::live::LiveAction::Reread(cx.doc.id)));
        }
        ui.weak("Its memory is read when a module is verified (a snapshot, its time shown there); nothing is written to it.");
    });
    if let Some(why) = &live.refused {
        ui.colored_label(crate::gui::theme::severity_color(crate::model::Severity::Error, ui.visuals()), why);
    }
}
