//! The built-in file browser: an egui window that picks a file to open, a memory dump, a file to
//! compare with, or a path to save an export to. It works where the system dialog cannot open
//! (no XDG desktop portal, as in a plain X11 session) and whenever the user prefers it
//! (File → Use the built-in file browser). Its state lives in [`App`](super::App); clicks and
//! keys become [`BrowserAction`]s applied in `apply.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::{self, Key, RichText};

use super::action::{Action, BrowserAction, ExportFormat};
use super::document::{DocId, TableId};
use super::theme;

/// What a picked path is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// Open files in tabs.
    Open,
    /// Export a table of a document (a path to save to).
    Export(DocId, TableId, ExportFormat),
    /// A memory dump to verify a document's plan against.
    Dump(DocId),
    /// A file to diff a document against.
    Compare(DocId),
}

impl Purpose {
    /// The window title.
    pub fn title(&self) -> &'static str {
        match self {
            Purpose::Open => "Open a file",
            Purpose::Export(..) => "Export to",
            Purpose::Dump(_) => "Memory dump to verify",
            Purpose::Compare(_) => "Compare with a file",
        }
    }

    /// Whether the path is one to write (a file name is typed).
    pub fn saves(&self) -> bool {
        matches!(self, Purpose::Export(..))
    }
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// File name.
    pub name: String,
    /// Full path.
    pub path: PathBuf,
    /// Whether it is a folder (a link to a folder counts).
    pub dir: bool,
    /// Size in bytes (files).
    pub size: Option<u64>,
}

/// The browser's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Browser {
    /// What the picked path is for.
    pub purpose: Purpose,
    /// The folder listed.
    pub dir: PathBuf,
    /// The folder path as typed in its field.
    pub dir_text: String,
    /// The name filter (case-insensitive substring).
    pub filter: String,
    /// The file name to save as (save browsers).
    pub name: String,
    /// The folder's entries, folders first, each group by name.
    pub entries: Vec<Entry>,
    /// Why the folder could not be read.
    pub error: Option<String>,
    /// The selected entry (index into `entries`).
    pub selected: Option<usize>,
    /// Why the browser opened instead of the system dialog, shown at its top.
    pub note: Option<String>,
}

impl Browser {
    /// A browser for `purpose` listing `dir`; `name` is the suggested file name (save browsers).
    pub fn new(purpose: Purpose, dir: PathBuf, name: String) -> Self {
        let mut b = Browser {
            purpose,
            dir: PathBuf::new(),
            dir_text: String::new(),
            filter: String::new(),
            name,
            entries: Vec::new(),
            error: None,
            selected: None,
            note: None,
        };
        b.cd(dir);
        b
    }

    /// List `dir` instead (the filter and selection are cleared).
    pub fn cd(&mut self, dir: PathBuf) {
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        match list(&dir) {
            Ok(entries) => {
                self.entries = entries;
                self.error = None;
            }
            Err(e) => {
                self.entries.clear();
                self.error = Some(format!("{}: {e}", dir.display()));
            }
        }
        self.dir_text = dir.display().to_string();
        self.dir = dir;
        self.filter.clear();
        self.selected = None;
    }

    /// Indices of the entries the filter keeps, in order.
    pub fn shown(&self) -> Vec<usize> {
        let f = self.filter.to_lowercase();
        (0..self.entries.len()).filter(|&i| f.is_empty() || self.entries[i].name.to_lowercase().contains(&f)).collect()
    }

    /// The entry Enter opens: the selected one if the filter keeps it, else the only one kept.
    pub fn enter_target(&self) -> Option<&Entry> {
        let shown = self.shown();
        match self.selected.filter(|s| shown.contains(s)) {
            Some(s) => self.entries.get(s),
            None if shown.len() == 1 => self.entries.get(shown[0]),
            None => None,
        }
    }
}

/// The entries of `dir`: folders first, then files, each sorted by name (case-insensitive);
/// hidden entries (a leading dot) are kept, since build folders often hold them.
pub fn list(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            // Follow links: a link to a folder is listed as a folder.
            let meta = std::fs::metadata(&path).ok();
            let dir = meta.as_ref().is_some_and(std::fs::Metadata::is_dir);
            let size = meta.filter(|m| m.is_file()).map(|m| m.len());
            Entry { name: e.file_name().to_string_lossy().into_owned(), path, dir, size }
        })
        .collect();
    entries.sort_by(|a, b| b.dir.cmp(&a.dir).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase())));
    Ok(entries)
}

/// Whether a system file dialog can be expected to appear. rfd's xdg-portal backend talks to
/// `org.freedesktop.portal.Desktop` over the D-Bus session bus; asking the bus whether that name
/// has an owner would mean a D-Bus client here, so the rule is practical: without a session bus
/// address in the environment no portal is reachable. The other case (a bus without a portal) is
/// caught after the fact: a dialog that answers "cancelled" faster than [`TOO_FAST`] never
/// showed, since no person can cancel a dialog that quickly.
pub fn portal_expected() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
}

/// A system dialog that returns "cancelled" sooner than this after it was asked for never
/// appeared (see [`portal_expected`]).
pub const TOO_FAST: Duration = Duration::from_millis(200);

/// Draw the browser window.
pub fn show(ctx: &egui::Context, b: &Browser, actions: &mut Vec<Action>) {
    let mut open = true;
    egui::Window::new(b.purpose.title())
        .id(egui::Id::unique("file-browser"))
        .collapsible(false)
        .open(&mut open)
        .default_size(egui::vec2(640.0, 460.0))
        .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 60.0))
        .show(ctx, |ui| body(ui, b, actions));
    if !open {
        actions.push(Action::Browser(BrowserAction::Close));
    }
}

fn body(ui: &mut egui::Ui, b: &Browser, actions: &mut Vec<Action>) {
    if let Some(note) = &b.note {
        ui.label(RichText::new(note).italics());
    }
    ui.horizontal(|ui| {
        if ui.button("↑ Up").on_hover_text("The parent folder").clicked() {
            actions.push(Action::Browser(BrowserAction::Up));
        }
        let label = ui.label("Folder:");
        let mut text = b.dir_text.clone();
        let resp = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .id(egui::Id::unique("browser-dir"))
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id)
            .on_hover_text("Type a folder (or a file) and press Enter");
        if resp.changed() {
            actions.push(Action::Browser(BrowserAction::DirText(text.clone())));
        }
        if resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            actions.push(Action::Browser(BrowserAction::Pick(PathBuf::from(text.trim()))));
        }
    });
    let filter_id = egui::Id::unique("browser-filter");
    ui.horizontal(|ui| {
        let label = ui.label("Filter:");
        let mut filter = b.filter.clone();
        let resp = ui
            .add(
                egui::TextEdit::singleline(&mut filter)
                    .id(filter_id)
                    .hint_text("part of a name; Enter opens the only match")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
        if resp.changed() {
            actions.push(Action::Browser(BrowserAction::Filter(filter)));
        }
        if resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            if let Some(e) = b.enter_target() {
                actions.push(Action::Browser(BrowserAction::Pick(e.path.clone())));
            }
        }
        // The filter has the keyboard when nothing else does: typing filters at once, and
        // ↑ / ↓ move the selection among the entries it keeps.
        if ui.memory(|m| m.focused().is_none()) {
            resp.request_focus();
        }
        if resp.has_focus() {
            let shown = b.shown();
            let pos = b.selected.and_then(|s| shown.iter().position(|&i| i == s));
            let step = ui.input_mut(|i| {
                if i.consume_key(egui::Modifiers::NONE, Key::ArrowDown) {
                    Some(pos.map_or(0, |p| (p + 1).min(shown.len().saturating_sub(1))))
                } else if i.consume_key(egui::Modifiers::NONE, Key::ArrowUp) {
                    Some(pos.map_or(0, |p| p.saturating_sub(1)))
                } else {
                    None
                }
            });
            if let Some(&i) = step.and_then(|p| shown.get(p)) {
                actions.push(Action::Browser(BrowserAction::Select(Some(i))));
            }
        }
    });
    if let Some(e) = &b.error {
        ui.label(RichText::new(e).color(theme::severity_color(crate::model::Severity::Error, ui.visuals())));
    }
    let shown = b.shown();
    let footer = if b.purpose.saves() { 64.0 } else { 36.0 };
    let height = (ui.available_height() - footer).max(120.0);
    egui::ScrollArea::vertical().max_height(height).auto_shrink([false, false]).show_rows(
        ui,
        ui.text_style_height(&egui::TextStyle::Body) + 4.0,
        shown.len(),
        |ui, range| {
            for &i in &shown[range] {
                let Some(e) = b.entries.get(i) else { continue };
                // Folders end in a slash and stand out; no icon font is assumed.
                let label = if e.dir { RichText::new(format!("{}/", e.name)).strong() } else { RichText::new(&e.name) };
                let mut button = egui::Button::selectable(b.selected == Some(i), label.monospace())
                    .min_size(egui::vec2(ui.available_width(), 0.0));
                if let Some(size) = e.size {
                    button = button.right_text(RichText::new(size.to_string()).monospace().small());
                }
                let resp = ui.add(button);
                if resp.double_clicked() {
                    actions.push(Action::Browser(BrowserAction::Pick(e.path.clone())));
                } else if resp.clicked() {
                    actions.push(Action::Browser(BrowserAction::Select(Some(i))));
                    if b.purpose.saves() && !e.dir {
                        actions.push(Action::Browser(BrowserAction::Name(e.name.clone())));
                    }
                }
            }
        },
    );
    if shown.is_empty() && b.error.is_none() {
        ui.weak(if b.entries.is_empty() { "(empty folder)" } else { "(nothing matches the filter)" });
    }
    ui.separator();
    if b.purpose.saves() {
        ui.horizontal(|ui| {
            let label = ui.label("File name:");
            let mut name = b.name.clone();
            let resp = ui
                .add(egui::TextEdit::singleline(&mut name).id(egui::Id::unique("browser-name")).desired_width(360.0))
                .labelled_by(label.id);
            if resp.changed() {
                actions.push(Action::Browser(BrowserAction::Name(name.clone())));
            }
            if resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) && !name.trim().is_empty() {
                actions.push(Action::Browser(BrowserAction::Pick(b.dir.join(name.trim()))));
            }
        });
    }
    ui.horizontal(|ui| {
        let (label, target) = if b.purpose.saves() {
            ("Save", (!b.name.trim().is_empty()).then(|| b.dir.join(b.name.trim())))
        } else {
            ("Open", b.selected.and_then(|s| b.entries.get(s)).map(|e| e.path.clone()))
        };
        if ui.add_enabled(target.is_some(), egui::Button::new(label)).clicked() {
            if let Some(p) = target {
                actions.push(Action::Browser(BrowserAction::Pick(p)));
            }
        }
        if ui.button("Cancel").clicked() {
            actions.push(Action::Browser(BrowserAction::Close));
        }
        ui.weak("Double-click or Enter opens; a folder opens in place.");
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::gui::app::{App, DialogResult};
    use crate::gui::Settings;

    fn wait_for_dialogs(app: &mut App) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !app.dialogs.is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
            app.poll();
        }
    }

    #[test]
    fn a_system_dialog_that_answers_at_once_never_showed_and_the_browser_takes_over() {
        let mut app = App::new(Vec::new(), Settings::default());
        app.dialog("test dialog", Purpose::Open, || None);
        wait_for_dialogs(&mut app);
        let b = app.browser.as_ref().expect("the built-in browser opened instead");
        assert_eq!(b.purpose, Purpose::Open);
        assert!(b.note.as_deref().is_some_and(|n| n.contains("no system file dialog appeared")), "{:?}", b.note);
        assert!(app.status.as_ref().is_some_and(|s| s.text.contains("built-in file browser")));
    }

    #[test]
    fn a_dialog_cancelled_after_a_while_was_seen_and_nothing_happens() {
        let mut app = App::new(Vec::new(), Settings::default());
        app.dialog("test dialog", Purpose::Open, || {
            std::thread::sleep(TOO_FAST + Duration::from_millis(50));
            None
        });
        wait_for_dialogs(&mut app);
        assert!(app.browser.is_none());
        // A picked path is used as it is.
        app.dialog("test dialog", Purpose::Open, || Some(DialogResult::Open(Vec::new())));
        wait_for_dialogs(&mut app);
        assert!(app.browser.is_none());
    }

    #[test]
    fn a_folder_lists_folders_first_and_an_unreadable_one_says_why() {
        let dir = std::env::temp_dir().join(format!("linkscope-browser-unit-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b-folder")).unwrap();
        std::fs::write(dir.join("A.txt"), "x").unwrap();
        std::fs::write(dir.join("c.txt"), "xy").unwrap();
        let names: Vec<(String, bool, Option<u64>)> =
            list(&dir).unwrap().into_iter().map(|e| (e.name, e.dir, e.size)).collect();
        assert_eq!(
            names,
            [("b-folder".into(), true, None), ("A.txt".into(), false, Some(1)), ("c.txt".into(), false, Some(2))]
        );
        let b = Browser::new(Purpose::Open, dir.join("missing"), String::new());
        assert!(b.entries.is_empty() && b.error.is_some());
        std::fs::remove_dir_all(&dir).ok();
    }
}
