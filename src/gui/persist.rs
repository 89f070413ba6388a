//! Settings kept between runs through eframe's storage: recent files, the last view per file and
//! a few display choices. Stored state that cannot be read falls back to the defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::document::View;

/// Storage key (bump the suffix if the shape changes incompatibly).
pub const KEY: &str = "linkscope.settings.v1";

/// How many recent files are remembered.
pub const MAX_RECENT: usize = 12;

/// Everything persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Recently opened files, most recent first.
    pub recent: Vec<PathBuf>,
    /// Last view per file path (view names as in [`View::name`]).
    pub last_view: BTreeMap<String, String>,
    /// Show the hex pane under tables.
    pub hex_pane: bool,
    /// Show demangled names where there are some.
    pub demangle: bool,
    /// Dark, light, or follow the system.
    pub theme: ThemeChoice,
    /// Always use the built-in file browser instead of the system file dialog.
    pub builtin_browser: bool,
    /// The folder the built-in file browser showed last.
    pub last_dir: Option<PathBuf>,
}

/// The colour theme chosen in the View menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Follow the system's preference.
    #[default]
    System,
    /// Light text on a dark background.
    Dark,
    /// Dark text on a light background.
    Light,
}

impl ThemeChoice {
    /// Every choice, in menu order.
    pub const ALL: [ThemeChoice; 3] = [ThemeChoice::System, ThemeChoice::Dark, ThemeChoice::Light];

    /// The menu label.
    pub fn label(self) -> &'static str {
        match self {
            ThemeChoice::System => "Follow the system",
            ThemeChoice::Dark => "Dark",
            ThemeChoice::Light => "Light",
        }
    }

    /// egui's preference for this choice.
    pub fn preference(self) -> eframe::egui::ThemePreference {
        match self {
            ThemeChoice::System => eframe::egui::ThemePreference::System,
            ThemeChoice::Dark => eframe::egui::ThemePreference::Dark,
            ThemeChoice::Light => eframe::egui::ThemePreference::Light,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            recent: Vec::new(),
            last_view: BTreeMap::new(),
            hex_pane: true,
            demangle: true,
            theme: ThemeChoice::System,
            builtin_browser: false,
            last_dir: None,
        }
    }
}

impl Settings {
    /// Read the settings from `storage`; anything unreadable gives the defaults.
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Self {
        storage.and_then(|s| eframe::get_value::<Settings>(s, KEY)).unwrap_or_default()
    }

    /// Write the settings to `storage`.
    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, KEY, self);
    }

    /// Put `path` at the top of the recent list.
    pub fn add_recent(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }

    /// The last view shown for `path`.
    pub fn view_for(&self, path: &Path) -> Option<View> {
        self.last_view.get(&key_of(path)).and_then(|n| View::from_name(n))
    }

    /// Remember `view` for `path`.
    pub fn set_view_for(&mut self, path: &Path, view: View) {
        self.last_view.insert(key_of(path), view.name().to_string());
        // Keep the map from growing without bound: forget files no longer recent.
        if self.last_view.len() > 4 * MAX_RECENT {
            let keep: Vec<String> = self.recent.iter().map(|p| key_of(p)).collect();
            self.last_view.retain(|k, _| keep.contains(k));
        }
    }
}

fn key_of(path: &Path) -> String {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}
