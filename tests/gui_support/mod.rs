//! Helpers shared by the headless GUI tests (tests/gui*.rs).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use linkscope::gui::{App, Settings, View};

/// An app that has loaded `paths` (off the UI thread, waited for).
pub fn loaded_paths(paths: &[PathBuf]) -> App {
    let mut app = App::new(paths.to_vec(), Settings::default());
    assert!(app.wait_for_loads(Duration::from_secs(60)), "loading timed out");
    assert!(app.load_errors.is_empty(), "load errors: {:?}", app.load_errors);
    app
}

/// A 1280×800 harness drawing the whole app.
pub fn harness(app: App) -> Harness<'static, App> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        // Plans and diffs finish on worker threads at any frame; their results settle in a few.
        .with_max_steps(16)
        .with_context_setup(linkscope::gui::theme::install)
        .build_ui_state(|ui, app: &mut App| app.ui_contents(ui), app);
    h.run();
    h
}

/// The active document.
pub fn active<'a>(h: &'a Harness<'_, App>) -> &'a linkscope::gui::Document {
    h.state().active_doc().expect("an active document")
}

/// Click the sidebar entry of `view` (its label starts with the view's title), then step frames
/// until the document's jobs are done (a view showing a spinner meanwhile, as Strings does while
/// its job runs, never settles for [`Harness::run`]), and settle.
pub fn click_view(h: &mut Harness<'_, App>, view: View) {
    let title = view.title();
    h.get_by(|n| {
        n.role() == egui::accesskit::Role::Button
            && n.label().is_some_and(|l| l == title || l.starts_with(&format!("{title} ")))
    })
    .click();
    h.step();
    for _ in 0..2000 {
        if !active(h).busy() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    h.run();
}

/// Settings storage in memory (what eframe keeps on disk), for round trips.
#[derive(Default)]
pub struct MemStorage(pub std::collections::HashMap<String, String>);

impl eframe::Storage for MemStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.into(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// A file dropped onto the window (`input_mut().dropped_files`), read from disk when asked.
#[derive(Debug)]
pub struct Dropped(pub PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Step `app` (no frame drawn) until no document has a job running and nothing is loading.
pub fn settle_jobs(app: &mut App) {
    let start = std::time::Instant::now();
    loop {
        app.poll();
        if !app.busy() {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the app's jobs did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
}
