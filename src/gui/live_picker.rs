//! The process picker (File → Open process…): the running processes (id, name, executable),
//! filtered by text, sorted by name or id, this app's own marked. A click selects, a double
//! click or Enter (or Open) opens the process as a Process document. Its state is
//! [`super::live::Picker`]; clicks and keys become [`LiveAction`]s.

use eframe::egui::{self, Key, RichText};

use super::action::Action;
use super::live::{clock, LiveAction, Picker};
use super::theme;

/// Widths of the id and name columns.
const PID_WIDTH: f32 = 70.0;
const NAME_WIDTH: f32 = 170.0;

/// Draw the picker window.
pub fn show(ctx: &egui::Context, p: &Picker, actions: &mut Vec<Action>) {
    let mut open = true;
    egui::Window::new("Open a running process")
        .id(egui::Id::unique("process-picker"))
        .collapsible(false)
        .open(&mut open)
        .default_size(egui::vec2(720.0, 480.0))
        .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 60.0))
        .show(ctx, |ui| body(ui, p, actions));
    if !open {
        actions.push(Action::Live(LiveAction::ShowPicker(false)));
    }
}

/// `widget` left-aligned in a cell `w` wide and `h` high.
fn cell(ui: &mut egui::Ui, w: f32, h: f32, widget: impl egui::Widget) {
    ui.allocate_ui_with_layout(egui::vec2(w, h), egui::Layout::left_to_right(egui::Align::Center), |ui| {
        ui.set_min_width(w);
        ui.add(widget);
    });
}

fn body(ui: &mut egui::Ui, p: &Picker, actions: &mut Vec<Action>) {
    ui.label(
        RichText::new(
            "Its modules are listed from /proc/PID/maps; a module opened from it is verified against the process's memory, read then (nothing is ever written to it).",
        )
        .color(ui.visuals().weak_text_color()),
    );
    ui.horizontal(|ui| {
        let label = ui.label("Filter:");
        let mut filter = p.filter.clone();
        let resp = ui
            .add(
                egui::TextEdit::singleline(&mut filter)
                    .id(egui::Id::unique("process-filter"))
                    .hint_text("part of an id, a name or a path; Enter opens the only match")
                    .desired_width(440.0),
            )
            .labelled_by(label.id);
        if resp.changed() {
            actions.push(Action::Live(LiveAction::Filter(filter)));
        }
        if resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            if let Some(pid) = p.enter_target() {
                actions.push(Action::Live(LiveAction::Open(pid)));
            }
        }
        // The filter takes the keyboard when the picker opens (a field focused before it keeps
        // it otherwise), and whenever nothing else has it; ↑ / ↓ move the selection.
        let opened = egui::Id::unique("process-filter-opened");
        let first = ui.data_mut(|d| {
            let first = d.get_temp::<std::time::SystemTime>(opened) != Some(p.listed_at);
            d.insert_temp(opened, p.listed_at);
            first
        });
        if first || ui.memory(|m| m.focused().is_none()) {
            resp.request_focus();
        }
        if resp.has_focus() {
            let shown = p.shown();
            let pos = p.selected.and_then(|s| shown.iter().position(|r| r.pid == s));
            let step = ui.input_mut(|i| {
                if i.consume_key(egui::Modifiers::NONE, Key::ArrowDown) {
                    Some(pos.map_or(0, |x| (x + 1).min(shown.len().saturating_sub(1))))
                } else if i.consume_key(egui::Modifiers::NONE, Key::ArrowUp) {
                    Some(pos.map_or(0, |x| x.saturating_sub(1)))
                } else {
                    None
                }
            });
            if let Some(r) = step.and_then(|x| shown.get(x)) {
                actions.push(Action::Live(LiveAction::Select(r.pid)));
            }
        }
        if ui.button("Refresh").on_hover_text("List the running processes again").clicked() {
            actions.push(Action::Live(LiveAction::Refresh));
        }
    });
    if let Some(e) = &p.error {
        ui.label(RichText::new(e).color(theme::severity_color(crate::model::Severity::Error, ui.visuals())));
    }
    let shown = p.shown();
    ui.horizontal(|ui| {
        ui.weak(format!("{} of {} processes, listed at {}", shown.len(), p.entries.len(), clock(p.listed_at)));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.selectable_label(p.by_pid, "by id").clicked() {
                actions.push(Action::Live(LiveAction::SortByPid(true)));
            }
            if ui.selectable_label(!p.by_pid, "by name").clicked() {
                actions.push(Action::Live(LiveAction::SortByPid(false)));
            }
            ui.weak("Sort:");
        });
    });
    // The column heads.
    ui.horizontal(|ui| {
        let head =
            |ui: &mut egui::Ui, text: &str, w: f32| cell(ui, w, 18.0, egui::Label::new(RichText::new(text).strong()));
        ui.add_space(4.0);
        head(ui, "PID", PID_WIDTH);
        head(ui, "Name", NAME_WIDTH);
        ui.label(RichText::new("Executable").strong());
    });
    let height = (ui.available_height() - 36.0).max(120.0);
    let row_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    egui::ScrollArea::vertical().max_height(height).auto_shrink([false, false]).show_rows(
        ui,
        row_h,
        shown.len(),
        |ui, range| {
            for r in &shown[range] {
                let selected = p.selected == Some(r.pid);
                let resp = ui
                    .horizontal(|ui| {
                        ui.set_min_height(row_h - 2.0);
                        let rect = ui.max_rect();
                        let resp = ui.interact(rect, egui::Id::unique(("process-row", r.pid)), egui::Sense::click());
                        if selected || resp.hovered() {
                            let fill = if selected {
                                ui.visuals().selection.bg_fill
                            } else {
                                ui.visuals().widgets.hovered.weak_bg_fill
                            };
                            ui.painter().rect_filled(rect, 2.0, fill);
                        }
                        ui.add_space(4.0);
                        let pid = theme::mono(r.pid.to_string());
                        cell(ui, PID_WIDTH, row_h - 2.0, egui::Label::new(pid).selectable(false));
                        let name = if r.own {
                            RichText::new(format!("{} (this app)", r.name)).strong()
                        } else {
                            RichText::new(&r.name)
                        };
                        cell(ui, NAME_WIDTH, row_h - 2.0, egui::Label::new(name).truncate().selectable(false));
                        match &r.exe {
                            Some(e) => {
                                ui.add(
                                    egui::Label::new(theme::mono(e.display().to_string())).truncate().selectable(false),
                                );
                            }
                            None => {
                                ui.add(
                                    egui::Label::new(
                                        RichText::new("(not readable: a kernel thread, or another user's)").weak(),
                                    )
                                    .selectable(false),
                                );
                            }
                        }
                        resp
                    })
                    .inner;
                // Read out (and found by tests) as "process PID NAME", "(this app)" added for its own.
                let label = format!("process {} {}{}", r.pid, r.name, if r.own { " (this app)" } else { "" });
                resp.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &label));
                let resp = resp.on_hover_text(format!(
                    "pid {} · {}{}",
                    r.pid,
                    r.exe.as_ref().map_or_else(|| "executable not readable".to_string(), |e| e.display().to_string()),
                    if r.own { " · this app itself" } else { "" }
                ));
                if resp.double_clicked() {
                    actions.push(Action::Live(LiveAction::Open(r.pid)));
                } else if resp.clicked() {
                    actions.push(Action::Live(LiveAction::Select(r.pid)));
                }
            }
        },
    );
    if shown.is_empty() && p.error.is_none() {
        ui.weak("(nothing matches the filter)");
    }
    ui.separator();
    ui.horizontal(|ui| {
        let target = p.selected.filter(|s| shown.iter().any(|r| r.pid == *s));
        let label = match target {
            Some(pid) => format!("Open process {pid}"),
            None => "Open".to_string(),
        };
        if ui.add_enabled(target.is_some(), egui::Button::new(label)).clicked() {
            if let Some(pid) = target {
                actions.push(Action::Live(LiveAction::Open(pid)));
            }
        }
        if ui.button("Cancel").clicked() {
            actions.push(Action::Live(LiveAction::ShowPicker(false)));
        }
        ui.weak("Double-click or Enter opens.");
    });
}
