//! The tour on screen: the highlight around the step's widget and the panel with the step's
//! text, its progress and Back / Show me / Next / Skip. Colours come from the theme.

use eframe::egui::{self, RichText};

use crate::gui::action::Action;
use crate::gui::app::App;

use super::{target_rect, Resolved, TourAction};

/// The panel's width.
const WIDTH: f32 = 380.0;

/// Draw the tour's highlight and panel (nothing when no tour runs).
pub fn show(ctx: &egui::Context, app: &App, step: Option<&Resolved>, actions: &mut Vec<Action>) {
    let Some((def, st)) = app.tour_def() else { return };
    let visuals = ctx.global_style().visuals.clone();
    let target = target_rect(ctx);
    if let Some(rect) = target {
        let painter =
            ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("tour-highlight")));
        let r = rect.expand(3.0);
        painter.rect_stroke(r, 4.0, egui::Stroke::new(4.0, visuals.selection.bg_fill), egui::StrokeKind::Outside);
        painter.rect_stroke(r, 4.0, egui::Stroke::new(1.5, visuals.strong_text_color()), egui::StrokeKind::Outside);
    }
    // Out of the way of the widget it points at: the bottom right corner, or the top right one
    // when the widget sits low on the right.
    let screen = ctx.content_rect();
    let low_right = target.is_some_and(|r| r.max.y > screen.center().y && r.max.x > screen.max.x - WIDTH - 40.0);
    let (align, offset) = if low_right {
        (egui::Align2::RIGHT_TOP, egui::vec2(-14.0, 64.0))
    } else {
        (egui::Align2::RIGHT_BOTTOM, egui::vec2(-14.0, -36.0))
    };
    egui::Window::new(RichText::new(format!("Tour: {}", def.title)).strong())
        .id(egui::Id::unique("tour-panel"))
        .collapsible(false)
        .resizable(false)
        .anchor(align, offset)
        .default_width(WIDTH)
        .max_width(WIDTH)
        .show(ctx, |ui| panel(ui, app, def.steps.len(), st.step, step, actions));
}

fn panel(ui: &mut egui::Ui, app: &App, len: usize, at: usize, step: Option<&Resolved>, actions: &mut Vec<Action>) {
    ui.set_width(WIDTH);
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{} of {len}", at + 1)).strong());
        ui.add(egui::ProgressBar::new((at + 1) as f32 / len.max(1) as f32).desired_width(120.0).desired_height(6.0));
    });
    ui.add_space(4.0);
    let Some(step) = step else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(if app.loads.is_empty() { "Waiting for the samples…" } else { "Opening the samples…" });
        });
        buttons(ui, false, false, at, len, actions);
        return;
    };
    ui.add(egui::Label::new(&step.text).wrap());
    if let Some(d) = &step.detour {
        ui.add_space(2.0);
        ui.label(RichText::new(d).italics().color(ui.visuals().warn_fg_color));
    }
    ui.add_space(4.0);
    if step.done && !step.complete {
        ui.label(RichText::new("Computing…").color(ui.visuals().weak_text_color()));
    } else if step.done {
        ui.label(RichText::new("Done. Next when you are ready.").color(ui.visuals().weak_text_color()));
    } else {
        ui.label(
            RichText::new("Your turn: the highlighted widget (or Show me).").color(ui.visuals().weak_text_color()),
        );
    }
    buttons(ui, true, step.done, at, len, actions);
}

fn buttons(ui: &mut egui::Ui, ready: bool, done: bool, at: usize, len: usize, actions: &mut Vec<Action>) {
    ui.separator();
    ui.horizontal(|ui| {
        if ui.add_enabled(at > 0, egui::Button::new("◀ Previous")).clicked() {
            actions.push(Action::Tour(TourAction::Back));
        }
        if ui
            .add_enabled(ready && !done, egui::Button::new("Show me"))
            .on_hover_text("Do this step's action for you")
            .clicked()
        {
            actions.push(Action::Tour(TourAction::ShowMe));
        }
        let next = if at + 1 == len { "Finish" } else { "Next ▶" };
        if ui.add_enabled(done, egui::Button::new(RichText::new(next).strong())).clicked() {
            actions.push(Action::Tour(TourAction::Next));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Skip tour").on_hover_text("Leave the tour (Help → Welcome and tours has it again)").clicked()
            {
                actions.push(Action::Tour(TourAction::Skip));
            }
        });
    });
}
