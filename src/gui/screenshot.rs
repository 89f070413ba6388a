//! `--screenshot OUT.png [--view NAME]`: open the files in a real window, wait until they are
//! loaded, render a few frames, save the window as PNG and exit. Pointer moves are ignored (Xvfb
//! parks the pointer mid-screen) and saved state is neither read nor written.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use eframe::egui;

use super::action::{Action, Target};
use super::app::App;

/// Frames rendered after loading finishes before the screenshot is taken.
pub const SETTLE_FRAMES: u32 = 5;

/// Screenshot-mode state.
#[derive(Debug)]
pub struct Screenshot {
    /// Where to write the PNG.
    pub out: PathBuf,
    /// Frames rendered since loading finished.
    pub frames: u32,
    /// Whether the screenshot was requested.
    pub requested: bool,
    /// Set by the screenshot callback: Ok, or why saving failed.
    pub result: Arc<Mutex<Option<Result<(), String>>>>,
}

impl Screenshot {
    /// A screenshot to be written to `out`; `result` receives the outcome.
    pub fn new(out: PathBuf, result: Arc<Mutex<Option<Result<(), String>>>>) -> Self {
        Screenshot { out, frames: 0, requested: false, result }
    }
}

/// Encode `image` as PNG at `path` (written atomically).
pub fn save_png(image: &egui::ColorImage, path: &Path) -> Result<(), String> {
    let [w, h] = image.size;
    let mut rgba = Vec::with_capacity(w * h * 4);
    for p in &image.pixels {
        let [r, g, b, _] = p.to_srgba_unmultiplied();
        rgba.extend_from_slice(&[r, g, b, 255]);
    }
    let (w32, h32) = (u32::try_from(w).map_err(|e| e.to_string())?, u32::try_from(h).map_err(|e| e.to_string())?);
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    );
    image::ImageEncoder::write_image(encoder, &rgba, w32, h32, image::ExtendedColorType::Rgba8)
        .map_err(|e| e.to_string())?;
    super::apply::write_atomically(path, &png).map_err(|e| format!("{}: {e}", path.display()))
}

impl App {
    /// Screenshot-mode extras for the screenshot script: `LINKSCOPE_GOTO` (an address as Ctrl+G
    /// takes it), `LINKSCOPE_SELECT_ROW` (a row of the current view's table to select),
    /// `LINKSCOPE_BROWSER` (a folder to show in the built-in file browser), `LINKSCOPE_MAP`
    /// (the layout map's zoom and left edge) and
    /// `LINKSCOPE_MENU=help` (the Help menu, open) and `LINKSCOPE_MENU=open` (File → Open…, to
    /// see what appears where no desktop portal runs), and `LINKSCOPE_OPEN_MODULE` (a module of
    /// the Process document shown, opened and verified; see [`App::screenshot_module_view`]),
    /// and `LINKSCOPE_MENU=process` (File → Open process…, its filter set to
    /// `LINKSCOPE_PROCESS_FILTER` and the first process kept selected), and `LINKSCOPE_LINK` (a
    /// command line pasted into the Link view; `LINKSCOPE_LINK_TAB` picks its panel once linked,
    /// `LINKSCOPE_LINK_LOAD` then loads the written image in the Patch view).
    fn screenshot_setup(&mut self) {
        if let Ok(cmd) = std::env::var("LINKSCOPE_LINK") {
            self.apply(Action::Link(super::action::LinkAction::Paste(cmd)));
        }
        if let Ok(name) = std::env::var("LINKSCOPE_OPEN_MODULE") {
            let row = self
                .active_doc()
                .and_then(|d| d.core.process.as_ref())
                .and_then(|p| p.modules.iter().position(|m| m.module.name.eq_ignore_ascii_case(&name)));
            if let Some(row) = row {
                self.apply(Action::OpenModule(row));
            }
        }
        if std::env::var("LINKSCOPE_MENU").is_ok_and(|m| m.eq_ignore_ascii_case("open")) {
            self.apply(Action::OpenDialog);
        }
        if std::env::var("LINKSCOPE_MENU").is_ok_and(|m| m.eq_ignore_ascii_case("process")) {
            use super::live::LiveAction;
            self.apply(Action::Live(LiveAction::ShowPicker(true)));
            if let Ok(f) = std::env::var("LINKSCOPE_PROCESS_FILTER") {
                self.apply(Action::Live(LiveAction::Filter(f)));
            }
            if let Some(pid) = self.process_picker.as_ref().and_then(|p| p.shown().first().map(|r| r.pid)) {
                self.apply(Action::Live(LiveAction::Select(pid)));
            }
        }
        if let Ok(dir) = std::env::var("LINKSCOPE_BROWSER") {
            self.settings.last_dir = Some(PathBuf::from(dir));
            self.apply(Action::ShowOpenPath(true));
        }
        if std::env::var("LINKSCOPE_MENU").is_ok_and(|m| m.eq_ignore_ascii_case("help")) {
            self.open_help.set(true);
        }
        if let Ok(addr) = std::env::var("LINKSCOPE_GOTO") {
            self.apply(Action::GoTo(addr));
        }
        // The layout map's zoom and left edge (a fraction of the space): `LINKSCOPE_MAP=16,0.16`.
        let map = std::env::var("LINKSCOPE_MAP").ok().and_then(|v| {
            let (z, s) = v.split_once(',')?;
            Some((z.trim().parse::<f64>().ok()?, s.trim().parse::<f64>().ok()?))
        });
        if let Some((zoom, start)) = map {
            self.apply(Action::SetMap(zoom.clamp(1.0, 1.0e7), crate::gui::views::map::clamp_start(start, zoom)));
        }
        let row = std::env::var("LINKSCOPE_SELECT_ROW").ok().and_then(|r| r.parse::<usize>().ok());
        if let (Some(row), Some(t)) = (row, self.active_doc().and_then(|d| d.current_table())) {
            self.apply(Action::Navigate { doc: None, target: Target::Row(t, row) });
        }
    }

    /// `LINKSCOPE_MODULE_VIEW=NAME`: once the module `LINKSCOPE_OPEN_MODULE` opened is loaded
    /// and verified (the app is idle again), show this view of it (`map`: its layout map with
    /// the "memory vs file" lane).
    fn screenshot_module_view(&mut self) {
        if let Some(v) = std::env::var("LINKSCOPE_MODULE_VIEW").ok().and_then(|v| super::View::from_name(&v)) {
            self.apply(Action::Navigate { doc: None, target: Target::View(v) });
        }
    }

    /// Put the app in screenshot mode. `LINKSCOPE_PID=N` opens running process N as a Process
    /// document first (as File → Open process… does).
    pub fn set_screenshot(&mut self, shot: Screenshot) {
        self.screenshot = Some(shot);
        if let Some(pid) = std::env::var("LINKSCOPE_PID").ok().and_then(|p| p.trim().parse::<u32>().ok()) {
            self.apply(Action::Live(super::live::LiveAction::Open(pid)));
        }
    }

    /// One frame of screenshot mode: wait for loads, settle, request, then close.
    pub(crate) fn screenshot_step(&mut self, ctx: &egui::Context) {
        // A system dialog still open (or failing) is waited for too.
        let busy = self.busy() || !self.dialogs.is_empty();
        let requested = self.screenshot.as_ref().is_some_and(|s| s.requested);
        if !busy && !requested && self.tour_walk() {
            ctx.request_repaint();
            return;
        }
        let Some(shot) = self.screenshot.as_mut() else { return };
        ctx.request_repaint();
        let done = shot.result.lock().map(|r| r.is_some()).unwrap_or(true);
        if done {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        if busy || shot.requested {
            return;
        }
        shot.frames += 1;
        if shot.frames == 1 {
            self.screenshot_setup();
            return;
        }
        if shot.frames == 2 {
            self.screenshot_module_view();
            if let Some(tab) = std::env::var("LINKSCOPE_LINK_TAB").ok().and_then(|t| t.parse::<u8>().ok()) {
                super::views::link::set_tab(ctx, tab);
            }
            if std::env::var("LINKSCOPE_LINK_LOAD").is_ok() {
                self.apply(Action::Link(super::action::LinkAction::LoadImage));
            }
        }
        let Some(shot) = self.screenshot.as_mut() else { return };
        if shot.frames >= SETTLE_FRAMES {
            shot.requested = true;
            let out = shot.out.clone();
            let result = shot.result.clone();
            ctx.request_screenshot(move |image| {
                let r = save_png(&image, &out);
                if let Ok(mut slot) = result.lock() {
                    *slot = Some(r);
                }
            });
        }
    }
}
