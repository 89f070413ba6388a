//! The desktop app (eframe/egui): every view of the model, navigable and explained.
//!
//! Shape: views draw from read-only state and return [`Action`]s; [`App::apply`] is the one place
//! that changes state (tests call it directly). Loading, and filtering or sorting big tables, run
//! on worker threads. Only this module uses egui.

pub mod action;
pub mod app;
pub mod apply;
pub mod browser;
pub mod diff;
pub mod document;
pub mod link;
pub mod live;
pub mod live_picker;
pub mod loader;
pub mod lookup;
pub mod memory;
pub mod nav;
pub mod omf;
pub mod patch;
pub mod persist;
pub mod process;
pub mod regions;
pub mod screenshot;
pub mod table;
pub mod theme;
pub mod tour;
pub mod verify;
pub mod views;
pub mod welcome;
pub mod xrefs;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui;

pub use action::{Action, ExportFormat, Target};
pub use app::App;
pub use document::{DocId, Document, RecordTab, TableId, View};
pub use persist::Settings;

/// Window size in screenshot mode.
pub const SCREENSHOT_SIZE: [f32; 2] = [1280.0, 800.0];

/// Run the desktop app on `files` (the Welcome page when empty). With `screenshot`, render the
/// window once (showing `view` if given), save it as PNG and exit. With `compare`, show the Diff
/// view of the first file against the second. With `tour` (a tour's name or number, and a step
/// from 1), start that tour and walk to the step. Returns the exit code.
pub fn run(
    files: Vec<PathBuf>,
    screenshot: Option<PathBuf>,
    view: Option<String>,
    compare: bool,
    tour: Option<(String, usize)>,
) -> i32 {
    if compare && files.len() != 2 {
        eprintln!("linkscope: --compare takes two files");
        return 2;
    }
    let view = match view.as_deref().map(|v| (v, View::from_name(v))) {
        Some((_, Some(v))) => Some(v),
        Some((name, None)) => {
            let names: Vec<&str> = View::ALL.iter().map(|v| v.name()).collect();
            eprintln!("linkscope: unknown view {name:?}; one of: {}", names.join(", "));
            return 2;
        }
        None => None,
    };
    let tour = match tour {
        Some((name, step)) => match tour::find(&name) {
            Some(t) if (1..=tour::TOURS[t].steps.len()).contains(&step) => Some((t, step - 1)),
            Some(t) => {
                eprintln!("linkscope: the tour {name:?} has steps 1 to {}", tour::TOURS[t].steps.len());
                return 2;
            }
            None => {
                let names: Vec<&str> = tour::TOURS.iter().map(|t| t.name).collect();
                eprintln!("linkscope: unknown tour {name:?}; one of: {} (or 1–{})", names.join(", "), names.len());
                return 2;
            }
        },
        None => None,
    };
    let shot_result: Arc<Mutex<Option<Result<(), String>>>> = Arc::new(Mutex::new(None));
    let mut viewport =
        egui::ViewportBuilder::default().with_title("linkscope").with_app_id("linkscope").with_drag_and_drop(true);
    viewport = if screenshot.is_some() {
        viewport.with_inner_size(SCREENSHOT_SIZE).with_resizable(false)
    } else {
        viewport.with_inner_size([1280.0, 820.0]).with_min_inner_size([640.0, 400.0])
    };
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        persist_window: screenshot.is_none(),
        ..Default::default()
    };
    let shot_for_app = screenshot.clone().map(|out| screenshot::Screenshot::new(out, shot_result.clone()));
    // In screenshot mode a fresh context keeps saved egui memory (panel sizes etc.) out of the picture.
    let ctx = screenshot.as_ref().map(|_| egui::Context::default());
    let result = eframe::run_native_ext(
        "linkscope",
        options,
        ctx,
        Box::new(move |cc| {
            let settings = if shot_for_app.is_some() { Settings::default() } else { Settings::load(cc.storage) };
            let mut settings = settings;
            theme::install(&cc.egui_ctx);
            if shot_for_app.is_some() {
                if let Ok(t) = std::env::var("LINKSCOPE_THEME") {
                    match t.as_str() {
                        "light" => settings.theme = persist::ThemeChoice::Light,
                        "dark" => settings.theme = persist::ThemeChoice::Dark,
                        _ => {}
                    }
                }
            }
            cc.egui_ctx.set_theme(settings.theme.preference());
            let mut app = App::new(Vec::new(), settings).with_initial_view(view);
            app.pending_compare = compare;
            app.set_context(cc.egui_ctx.clone());
            if let Some(shot) = shot_for_app {
                app.set_screenshot(shot);
            }
            if !files.is_empty() {
                app.apply(Action::OpenFiles(files));
            }
            if let Some((t, step)) = tour {
                app.apply(Action::Tour(tour::TourAction::Start(t)));
                app.tour_goal = Some((step, 0));
            }
            Ok(Box::new(app))
        }),
    );
    if let Err(e) = result {
        eprintln!("linkscope: could not start the window: {e}");
        return 1;
    }
    match screenshot {
        None => 0,
        Some(out) => match shot_result.lock().map(|r| r.clone()) {
            Ok(Some(Ok(()))) => {
                println!("{}", out.display());
                0
            }
            Ok(Some(Err(e))) => {
                eprintln!("linkscope: screenshot: {e}");
                1
            }
            _ => {
                eprintln!("linkscope: the window closed before the screenshot was taken");
                1
            }
        },
    }
}
