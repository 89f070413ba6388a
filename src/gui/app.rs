//! The application: open documents as tabs, the loads in progress, history, settings, and the
//! window chrome (menu, tabs, view list, status line, prompts). State changes only in
//! [`App::apply`] (see `apply.rs`).

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers, RichText};

use super::action::{Action, DiffAction, ExportFormat, PatchAction, TableAction};
use super::browser::{self, Browser, Purpose};
use super::document::{DocId, Document, TableId, View};
use super::loader::{LoadJob, Phase};
use super::nav::{History, Resolved};
use super::persist::Settings;
use super::screenshot::Screenshot;
use super::theme;
use super::views::{self, ModelOpts, ViewCtx};
use crate::session::{Job, Waker};

/// A message in the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The text.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
}

/// The export prompt's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPrompt {
    /// Table to export.
    pub table: TableId,
    /// Format.
    pub format: ExportFormat,
    /// Suggested path.
    pub suggested: PathBuf,
}

/// Results of system dialogs, which run on their own threads.
#[derive(Debug)]
pub enum DialogResult {
    /// Files picked to open.
    Open(Vec<PathBuf>),
    /// A path picked to export a table of a document to.
    Export(DocId, TableId, ExportFormat, PathBuf),
    /// A memory dump picked to verify a document's plan against.
    Dump(DocId, PathBuf),
    /// A file picked to diff a document against.
    Compare(DocId, PathBuf),
}

/// A system dialog open on its own thread.
pub(crate) struct PendingDialog {
    /// The dialog's thread; `None` is "cancelled".
    pub job: Job<Option<DialogResult>>,
    /// What it picks for (the built-in browser takes over with it if the dialog never showed).
    pub purpose: Purpose,
    /// When it was asked for.
    pub started: Instant,
}

/// The linkscope desktop app.
pub struct App {
    /// Open documents, in tab order.
    pub docs: Vec<Document>,
    /// The active tab.
    pub active: Option<DocId>,
    /// Loads in progress.
    pub loads: Vec<LoadJob>,
    /// Back/forward history.
    pub history: History,
    /// Status line.
    pub status: Option<Status>,
    /// Persisted settings.
    pub settings: Settings,
    /// Whether the Go-to prompt is open.
    pub goto_open: bool,
    /// The last Go-to that succeeded.
    pub last_goto: Option<Resolved>,
    /// The built-in file browser, when open.
    pub browser: Option<Browser>,
    /// The export prompt, when open.
    pub export_prompt: Option<ExportPrompt>,
    /// The last text put on the clipboard.
    pub last_copied: Option<String>,
    /// The last file written by an export.
    pub last_export: Option<PathBuf>,
    /// Load errors, by path, for display.
    pub load_errors: Vec<(PathBuf, String)>,
    pub(crate) pending_copy: Option<String>,
    pub(crate) focus_filter: Cell<bool>,
    pub(crate) focus_goto: Cell<bool>,
    /// Select the Go-to text when it next takes the focus (the prompt was just opened).
    pub(crate) select_goto: Cell<bool>,
    /// Open the Help menu at the next frame (screenshot mode, `LINKSCOPE_MENU=help`).
    pub(crate) open_help: Cell<bool>,
    /// System dialogs open on their own threads.
    pub(crate) dialogs: Vec<PendingDialog>,
    /// Diff this document (second) against the one being loaded (first) when it arrives.
    pub(crate) compare_after_load: Option<(DocId, DocId)>,
    pub(crate) next_id: u64,
    /// The context background work wakes (set at the first frame; jobs started before it read
    /// it when they finish).
    pub(crate) ctx: Arc<OnceLock<egui::Context>>,
    pub(crate) screenshot: Option<Screenshot>,
    pub(crate) initial_view: Option<View>,
    pub(crate) follow_after_load: Option<(DocId, DocId, usize)>,
    /// Diff the first two documents once they are loaded (`--compare A B`).
    pub pending_compare: bool,
    /// The guided tour in progress.
    pub tour: Option<super::tour::TourState>,
    /// Whether the Welcome page is shown over the open documents (Help → Welcome and tours).
    pub welcome_open: bool,
    /// The process picker (File → Open process…), when it is shown.
    pub process_picker: Option<super::live::Picker>,
    /// Screenshot mode: walk the tour to this step (from 0) by its "Show me" and Next, and the
    /// frames walked so far (the walk gives up after [`super::tour::WALK_LIMIT`]).
    pub(crate) tour_goal: Option<(usize, u32)>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("docs", &self.docs.iter().map(|d| d.core.name.as_str()).collect::<Vec<_>>())
            .field("active", &self.active)
            .field("loads", &self.loads.len())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The bundled samples the Welcome page's "Open every sample" opens (the tours' extra samples,
/// `omf-comdat.obj` and `process/`, open with their tours).
pub fn sample_paths() -> Vec<PathBuf> {
    let names = [
        "autoimport.exe",
        "autoimport-small.exe",
        "data.dll",
        "comdat.obj",
        "omf32.obj",
        "main-nopie",
        "libdata.so",
        "link/crt0.obj",
        "link/a.obj",
        "link/b.obj",
        "link/odr1.obj",
        "link/odr2.obj",
        "link/cxx.exe",
    ];
    let Some(dir) = super::tour::samples_dir() else { return Vec::new() };
    names.iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect()
}

impl App {
    /// An app that opens `files` (loading starts at once, off the UI thread) with `settings`; it
    /// sets the allocator to return large freed blocks ([`super::memory::return_large_blocks`]).
    pub fn new(files: Vec<PathBuf>, settings: Settings) -> Self {
        super::memory::return_large_blocks();
        let mut app = App {
            docs: Vec::new(),
            active: None,
            loads: Vec::new(),
            history: History::default(),
            status: None,
            settings,
            goto_open: false,
            last_goto: None,
            browser: None,
            export_prompt: None,
            last_copied: None,
            last_export: None,
            load_errors: Vec::new(),
            pending_copy: None,
            focus_filter: Cell::new(false),
            focus_goto: Cell::new(false),
            select_goto: Cell::new(false),
            open_help: Cell::new(false),
            compare_after_load: None,
            dialogs: Vec::new(),
            next_id: 1,
            ctx: Arc::default(),
            screenshot: None,
            initial_view: None,
            follow_after_load: None,
            pending_compare: false,
            tour: None,
            welcome_open: false,
            process_picker: None,
            tour_goal: None,
        };
        if !files.is_empty() {
            app.apply(Action::OpenFiles(files));
        }
        app
    }

    /// Show `view` (instead of the remembered one) in the first document that loads.
    pub fn with_initial_view(mut self, view: Option<View>) -> Self {
        self.initial_view = view;
        self
    }

    /// Give the app a context to wake when background work finishes.
    pub fn set_context(&mut self, ctx: egui::Context) {
        let _ = self.ctx.set(ctx);
    }

    /// What a background job calls when it has a result: a repaint of the app's context.
    pub fn waker(&self) -> Waker {
        let ctx = self.ctx.clone();
        Arc::new(move || {
            if let Some(c) = ctx.get() {
                c.request_repaint();
            }
        })
    }

    /// The active document.
    pub fn active_doc(&self) -> Option<&Document> {
        self.active.and_then(|id| self.doc(id))
    }

    /// The document with `id`.
    pub fn doc(&self, id: DocId) -> Option<&Document> {
        self.docs.iter().find(|d| d.id == id)
    }

    /// The document with `id`, for changing it.
    pub fn doc_mut(&mut self, id: DocId) -> Option<&mut Document> {
        self.docs.iter_mut().find(|d| d.id == id)
    }

    /// The first document whose tab title is `name`.
    pub fn doc_named(&self, name: &str) -> Option<&Document> {
        self.docs.iter().find(|d| d.core.name == name)
    }

    /// Display options for table models.
    pub fn model_opts(&self) -> ModelOpts {
        ModelOpts { demangle: self.settings.demangle }
    }

    /// Block until every load has finished (or `timeout` passed); returns whether all finished.
    pub fn wait_for_loads(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.loads.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let Some(job) = self.loads.first_mut() else { break };
            if let Some(result) = job.wait(deadline - now) {
                let job = self.loads.remove(0);
                self.finish_load(job, result);
            }
            self.poll();
        }
        true
    }

    /// Block until every table order being computed has arrived (tests, benchmarks).
    pub fn wait_for_orders(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            self.poll();
            let pending = self.docs.iter().any(|d| TableId::ALL.iter().any(|t| d.table(*t).pending.is_some()));
            if !pending {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Whether background work is still running.
    pub fn busy(&self) -> bool {
        !self.loads.is_empty() || self.docs.iter().any(Document::busy)
    }

    /// Draw everything and apply what the user did. [`eframe::App::ui`] calls this; so do tests.
    pub fn ui_contents(&mut self, ui: &mut egui::Ui) {
        if self.ctx.get().is_none() {
            theme::install(ui.ctx());
            let _ = self.ctx.set(ui.ctx().clone());
        }
        let want = self.settings.theme.preference();
        if ui.ctx().options(|o| o.theme_preference) != want {
            ui.ctx().set_theme(want);
        }
        self.poll();
        let mut actions = Vec::new();
        self.shortcuts(ui.ctx(), &mut actions);
        self.dropped_files(ui.ctx(), &mut actions);
        self.draw(ui, &mut actions);
        for a in actions {
            self.apply(a);
        }
        if let Some(text) = self.pending_copy.take() {
            ui.ctx().copy_text(text);
        }
    }

    fn shortcuts(&self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        let text_focused = ctx.memory(|m| m.focused().is_some());
        ctx.input_mut(|i| {
            let cmd = |k| KeyboardShortcut::new(Modifiers::COMMAND, k);
            if i.consume_shortcut(&cmd(Key::G)) {
                actions.push(Action::ShowGoto(true));
            }
            if i.consume_shortcut(&cmd(Key::F)) {
                actions.push(Action::FocusFilter);
            }
            if i.consume_shortcut(&cmd(Key::O)) {
                actions.push(Action::OpenDialog);
            }
            // Shift first: Ctrl+Tab also matches Ctrl+Shift+Tab (shift is ignored when unasked).
            let cmd_shift = |k| KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, k);
            if i.consume_shortcut(&cmd_shift(Key::Tab)) || i.consume_shortcut(&cmd(Key::PageUp)) {
                actions.push(Action::CycleDoc(false));
            }
            if i.consume_shortcut(&cmd(Key::Tab)) || i.consume_shortcut(&cmd(Key::PageDown)) {
                actions.push(Action::CycleDoc(true));
            }
            if i.consume_shortcut(&cmd(Key::W)) {
                if let Some(id) = self.active {
                    actions.push(Action::CloseDoc(id));
                }
            }
            if i.consume_key(Modifiers::ALT, Key::ArrowLeft) || i.pointer.button_pressed(egui::PointerButton::Extra1) {
                actions.push(Action::Back);
            }
            if i.consume_key(Modifiers::ALT, Key::ArrowRight) || i.pointer.button_pressed(egui::PointerButton::Extra2) {
                actions.push(Action::Forward);
            }
            if i.consume_key(Modifiers::NONE, Key::Escape) {
                // The topmost thing closes: a dialog, else the tour.
                let dialog = self.goto_open
                    || self.browser.is_some()
                    || self.export_prompt.is_some()
                    || self.process_picker.is_some();
                if !dialog && self.tour.is_some() {
                    actions.push(Action::Tour(super::tour::TourAction::Skip));
                }
                actions.push(Action::ShowGoto(false));
                actions.push(Action::Browser(super::action::BrowserAction::Close));
                actions.push(Action::ShowExport(None));
                actions.push(Action::Live(super::live::LiveAction::ShowPicker(false)));
            }
            if !text_focused {
                let copy = i.events.iter().any(|e| matches!(e, egui::Event::Copy));
                if copy {
                    if let Some((t, row)) = self.selected_row() {
                        actions.push(Action::Table(t, TableAction::CopyRow(row)));
                    }
                }
                for (key, delta) in [(Key::ArrowDown, 1i64), (Key::ArrowUp, -1i64)] {
                    if i.consume_key(Modifiers::NONE, key) {
                        if let Some(a) = self.step_selection(delta) {
                            actions.push(a);
                        }
                    }
                }
            }
        });
    }

    /// The selected row of the current view's table.
    pub fn selected_row(&self) -> Option<(TableId, usize)> {
        let doc = self.active_doc()?;
        let t = doc.current_table()?;
        doc.table(t).selected.map(|r| (t, r))
    }

    fn step_selection(&self, delta: i64) -> Option<Action> {
        let doc = self.active_doc()?;
        let t = doc.current_table()?;
        let state = doc.table(t);
        let len = views::model(&doc.core, &doc.results, t, self.model_opts()).len();
        let shown = state.shown(len);
        if shown == 0 {
            return None;
        }
        let pos = state.selected.and_then(|r| state.position_of(r, len));
        let next = match pos {
            Some(p) => (p as i64 + delta).clamp(0, shown as i64 - 1) as usize,
            None => 0,
        };
        let row = state.row_at(next)?;
        state.scroll_to.set(Some(row));
        Some(Action::Table(t, TableAction::Select(Some(row))))
    }

    fn dropped_files(&self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        let dropped: Vec<PathBuf> = dropped.into_iter().filter(|p| !p.as_os_str().is_empty()).collect();
        // On the Patch view, a memory dump of the image verifies it instead of opening.
        let (dumps, files): (Vec<PathBuf>, Vec<PathBuf>) = dropped.into_iter().partition(|p| {
            self.active_doc().is_some_and(|d| d.view == View::Patch && crate::gui::patch::looks_like_dump(&d.core, p))
        });
        if let Some(p) = dumps.into_iter().next() {
            actions.push(Action::Patch(PatchAction::Dump(p)));
        }
        if !files.is_empty() {
            actions.push(Action::OpenFiles(files));
        }
    }

    fn draw(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        // The tour's step, resolved once per frame; the views mark the widget it points at.
        let step = self.tour.as_ref().and_then(|_| self.tour_step());
        super::tour::begin_frame(ui.ctx(), step.as_ref().and_then(|s| s.widget.clone()));
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui, actions));
        egui::Panel::top("tabs").show(ui, |ui| self.tab_bar(ui, actions));
        egui::Panel::bottom("status").show(ui, |ui| self.status_line(ui, actions));
        match self.active_doc().filter(|_| !self.welcome_open) {
            Some(doc) => {
                egui::Panel::left("views").resizable(true).default_size(180.0).size_range(140.0..=320.0).show(
                    ui,
                    |ui| {
                        self.sidebar(ui, doc, actions);
                    },
                );
                let cx = ViewCtx {
                    doc,
                    docs: &self.docs,
                    opts: self.model_opts(),
                    hex_pane: self.settings.hex_pane,
                    focus_filter: self.focus_filter.take(),
                };
                // Per-document ids: each tab keeps its own scroll positions and panel sizes.
                ui.push_id(("doc", doc.id.0), |ui| views::show(ui, &cx, actions));
            }
            None => {
                egui::CentralPanel::default_margins().show(ui, |ui| super::welcome::show(ui, self, actions));
            }
        }
        self.prompts(ui.ctx(), actions);
        self.tour_scroll_rows(ui.ctx());
        super::tour::overlay::show(ui.ctx(), self, step.as_ref(), actions);
        let hovering = ui.ctx().input(|i| !i.raw.hovered_files.is_empty());
        if hovering {
            let screen = ui.ctx().content_rect();
            let painter = ui.ctx().layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("drop")));
            painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                screen.center(),
                egui::Align2::CENTER_CENTER,
                "Drop to open",
                egui::FontId::proportional(28.0),
                egui::Color32::WHITE,
            );
        }
    }

    fn menu_bar(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.add(egui::Button::new("Open…").shortcut_text("Ctrl+O")).clicked() {
                    actions.push(Action::OpenDialog);
                }
                if ui.button("Open path…").on_hover_text("The built-in file browser: type or pick a path").clicked() {
                    actions.push(Action::ShowOpenPath(true));
                }
                if ui.button("Open process…").on_hover_text(super::live::MENU_TIP).clicked() {
                    actions.push(Action::Live(super::live::LiveAction::ShowPicker(true)));
                }
                let mut builtin = self.settings.builtin_browser;
                if ui
                    .checkbox(&mut builtin, "Use the built-in file browser")
                    .on_hover_text(
                        "Instead of the system file dialog (which needs an XDG desktop portal; without one the built-in browser opens anyway)",
                    )
                    .changed()
                {
                    actions.push(Action::SetBuiltinBrowser(builtin));
                }
                ui.menu_button("Recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.weak("(none yet)");
                    }
                    for p in &self.settings.recent {
                        if ui.button(p.display().to_string()).clicked() {
                            actions.push(Action::OpenFiles(vec![p.clone()]));
                        }
                    }
                    ui.separator();
                    if ui.button("Clear").clicked() {
                        actions.push(Action::ClearRecent);
                    }
                });
                ui.separator();
                ui.menu_button("Compare with", |ui| {
                    // A Process document is no file to compare (nor to compare with).
                    let comparable = self.active_doc().is_some_and(|a| a.core.process.is_none());
                    let others: Vec<&Document> = self
                        .docs
                        .iter()
                        .filter(|d| comparable && Some(d.id) != self.active && d.core.process.is_none())
                        .collect();
                    for d in others {
                        if ui.button(&d.core.name).clicked() {
                            actions.push(Action::Diff(DiffAction::With(d.id)));
                        }
                    }
                    if ui.add_enabled(comparable, egui::Button::new("A file…")).clicked() {
                        actions.push(Action::CompareDialog);
                    }
                });
                ui.separator();
                if let Some(id) = self.active {
                    if ui.add(egui::Button::new("Close tab").shortcut_text("Ctrl+W")).clicked() {
                        actions.push(Action::CloseDoc(id));
                    }
                }
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Go", |ui| {
                if ui
                    .add_enabled(!self.history.back.is_empty(), egui::Button::new("Back").shortcut_text("Alt+←"))
                    .clicked()
                {
                    actions.push(Action::Back);
                }
                if ui
                    .add_enabled(!self.history.forward.is_empty(), egui::Button::new("Forward").shortcut_text("Alt+→"))
                    .clicked()
                {
                    actions.push(Action::Forward);
                }
                ui.separator();
                if ui.add(egui::Button::new("Go to address…").shortcut_text("Ctrl+G")).clicked() {
                    actions.push(Action::ShowGoto(true));
                }
                if ui.add(egui::Button::new("Filter table").shortcut_text("Ctrl+F")).clicked() {
                    actions.push(Action::FocusFilter);
                }
            });
            ui.menu_button("View", |ui| {
                if let Some(doc) = self.active_doc() {
                    for v in View::ALL {
                        if views::applies(&doc.core, v) && ui.selectable_label(doc.view == v, v.title()).clicked() {
                            actions.push(Action::Navigate { doc: None, target: super::action::Target::View(v) });
                        }
                    }
                    ui.separator();
                }
                let mut pane = self.settings.hex_pane;
                if ui.checkbox(&mut pane, "Hex pane under tables").changed() {
                    actions.push(Action::SetHexPane(pane));
                }
                let mut dm = self.settings.demangle;
                if ui.checkbox(&mut dm, "Demangle names").changed() {
                    actions.push(Action::SetDemangle(dm));
                }
                ui.separator();
                ui.label("Theme");
                for t in super::persist::ThemeChoice::ALL {
                    if ui.radio(self.settings.theme == t, t.label()).clicked() {
                        actions.push(Action::SetTheme(t));
                    }
                }
            });
            let menu = ui.menu_button("Help", |ui| {
                if ui.button("Welcome and tours").on_hover_text("The Welcome page: guided tours, the samples, recent files").clicked() {
                    actions.push(Action::ShowWelcome(true));
                }
                ui.separator();
                help(ui);
            });
            if self.open_help.take() {
                egui::Popup::open_id(ui.ctx(), egui::Popup::default_response_id(&menu.response));
            }
        });
    }

    fn tab_bar(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        ui.horizontal_wrapped(|ui| {
            let back = ui
                .add_enabled(!self.history.back.is_empty(), egui::Button::new("◀ Back").small())
                .on_hover_text("Back (Alt+←, or the mouse's back button)");
            if back.clicked() {
                actions.push(Action::Back);
            }
            let fwd = ui
                .add_enabled(!self.history.forward.is_empty(), egui::Button::new("Forward ▶").small())
                .on_hover_text("Forward (Alt+→, or the mouse's forward button)");
            if fwd.clicked() {
                actions.push(Action::Forward);
            }
            ui.separator();
            for doc in &self.docs {
                let active = self.active == Some(doc.id);
                let resp = ui
                    .add(egui::Button::selectable(active, RichText::new(&doc.core.name).strong()))
                    .on_hover_text(doc.core.path.display().to_string());
                super::tour::mark(ui, &resp, || super::tour::Widget::Tab(doc.id));
                if resp.clicked() && !active {
                    actions.push(Action::ActivateDoc(doc.id));
                }
                if resp.middle_clicked() {
                    actions.push(Action::CloseDoc(doc.id));
                }
                if ui
                    .add(egui::Button::new("×").small().frame(false))
                    .on_hover_text(format!("Close {}", doc.core.name))
                    .clicked()
                {
                    actions.push(Action::CloseDoc(doc.id));
                }
                ui.add_space(4.0);
            }
            for job in &self.loads {
                ui.group(|ui| {
                    ui.label(&job.name);
                    let (phase, fraction) = job.progress();
                    let (frac, text) = match phase {
                        Phase::Reading => (fraction, format!("reading {:.0}%", fraction * 100.0)),
                        Phase::Parsing => (1.0, "parsing…".to_string()),
                        Phase::Indexing => (1.0, "indexing…".to_string()),
                    };
                    ui.add(egui::ProgressBar::new(frac).desired_width(110.0).text(text).animate(true));
                    if ui.small_button("Cancel").clicked() {
                        actions.push(Action::CancelLoad(job.id));
                    }
                });
            }
            if ui.button("+").on_hover_text("Open files (Ctrl+O)").clicked() {
                actions.push(Action::OpenDialog);
            }
        });
    }

    fn sidebar(&self, ui: &mut egui::Ui, doc: &Document, actions: &mut Vec<Action>) {
        ui.add_space(4.0);
        ui.label(RichText::new(doc.core.kind_name()).monospace().color(ui.visuals().weak_text_color()));
        ui.add_space(2.0);
        for v in View::ALL {
            if !views::applies(&doc.core, v) {
                continue;
            }
            let n = views::count(&doc.core, v);
            let empty = n == Some(0);
            let mut label = RichText::new(v.title());
            if empty {
                label = label.color(ui.visuals().weak_text_color());
            }
            let diag_color = (v == View::Diagnostics && !empty)
                .then(|| doc.core.bin.diagnostics.iter().map(|d| d.severity).max())
                .flatten()
                .map(|s| theme::severity_color(s, ui.visuals()));
            let count = n.map(|n| {
                let t = RichText::new(n.to_string()).monospace().small();
                match diag_color {
                    Some(c) => t.color(c),
                    None => t.color(ui.visuals().weak_text_color()),
                }
            });
            let mut button =
                egui::Button::selectable(doc.view == v, label).min_size(egui::vec2(ui.available_width(), 22.0));
            if let Some(c) = count {
                button = button.right_text(c);
            }
            let resp = ui.add(button);
            super::tour::mark(ui, &resp, || super::tour::Widget::Sidebar(v));
            if resp.clicked() {
                actions.push(Action::Navigate { doc: None, target: super::action::Target::View(v) });
            }
        }
    }

    fn status_line(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            match &self.status {
                Some(s) => {
                    let color = if s.error {
                        theme::severity_color(crate::model::Severity::Error, ui.visuals())
                    } else {
                        ui.visuals().text_color()
                    };
                    ui.label(RichText::new(&s.text).color(color));
                    if ui.small_button("×").clicked() {
                        actions.push(Action::DismissStatus);
                    }
                }
                None => {
                    ui.weak("Ctrl+G go to · Ctrl+F filter · Alt+←/→ back/forward · Ctrl+Tab next tab · drop files to open · Help lists every key");
                }
            }
            if let Some(doc) = self.active_doc() {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let b = &doc.core.bin;
                    ui.label(theme::mono(format!("{} · {} · {} bytes", doc.core.kind_name(), b.arch, b.file_size)).small());
                });
            }
        });
    }

    fn prompts(&self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        if self.goto_open {
            let id = egui::Id::unique("goto-text");
            egui::Window::new("Go to")
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 80.0))
                .show(ctx, |ui| {
                    ui.label("0x… is a VA (image base + RVA); rva:… an RVA; file:… a file offset. Numbers are hex.");
                    let mut text: String = ui.data(|d| d.get_temp(id)).unwrap_or_default();
                    let resp = ui.add(
                        egui::TextEdit::singleline(&mut text)
                            .id(id.with("edit"))
                            .hint_text("0x140001000, rva:1000, file:400")
                            .desired_width(320.0),
                    );
                    if self.focus_goto.take() {
                        resp.request_focus();
                        if self.select_goto.take() {
                            // Opened again: the old text is selected, so typing replaces it.
                            let mut state = egui::TextEdit::load_state(ui.ctx(), resp.id).unwrap_or_default();
                            state.cursor.set_char_range(Some(egui::text::CCursorRange::select_all_str(&text)));
                            state.store(ui.ctx(), resp.id);
                        }
                    }
                    let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                    ui.data_mut(|d| d.insert_temp(id, text.clone()));
                    ui.horizontal(|ui| {
                        if ui.button("Go").clicked() || enter {
                            actions.push(Action::GoTo(text.clone()));
                        }
                        if ui.button("Cancel").clicked() {
                            actions.push(Action::ShowGoto(false));
                        }
                    });
                });
        }
        if let Some(b) = &self.browser {
            browser::show(ctx, b, actions);
        }
        if let Some(p) = &self.process_picker {
            super::live_picker::show(ctx, p, actions);
        }
        // While the browser picks its path, the export prompt waits behind it.
        let browsing = self.browser.as_ref().is_some_and(|b| b.purpose.saves());
        if let Some(p) = self.export_prompt.as_ref().filter(|_| !browsing) {
            let id = egui::Id::unique(("export-path", p.table.name(), p.format.ext()));
            egui::Window::new(format!("Export {} as {}", p.table.name(), p.format.ext().to_uppercase()))
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 80.0))
                .show(ctx, |ui| {
                    let label = ui.label("The rows shown (filtered and sorted as in the table) are written to:");
                    let mut text: String =
                        ui.data(|d| d.get_temp(id)).unwrap_or_else(|| p.suggested.display().to_string());
                    ui.add(egui::TextEdit::singleline(&mut text).desired_width(460.0)).labelled_by(label.id);
                    ui.data_mut(|d| d.insert_temp(id, text.clone()));
                    ui.horizontal(|ui| {
                        if ui.button("Save").clicked() && !text.trim().is_empty() {
                            actions.push(Action::Table(
                                p.table,
                                TableAction::Export(p.format, PathBuf::from(text.trim())),
                            ));
                        }
                        if ui.button("Browse…").clicked() {
                            actions.push(Action::Table(p.table, TableAction::ExportDialog(p.format)));
                        }
                        if ui.button("Cancel").clicked() {
                            actions.push(Action::ShowExport(None));
                        }
                    });
                });
        }
    }

    /// Drop finished background work into place: loads, table orders, plans, diffs, links,
    /// dialog results. Every job wakes the UI when it finishes, so this runs once per frame and
    /// nothing polls on a timer.
    pub fn poll(&mut self) {
        let mut i = 0;
        while i < self.loads.len() {
            match self.loads[i].poll() {
                Some(result) => {
                    let job = self.loads.remove(i);
                    self.finish_load(job, result);
                }
                None => i += 1,
            }
        }
        for doc in &mut self.docs {
            doc.take_results();
        }
        self.take_rescans();
        if self.pending_compare && self.loads.is_empty() {
            self.pending_compare = false;
            if let [a, b, ..] = &self.docs[..] {
                let (a, b) = (a.id, b.id);
                self.active = Some(a);
                self.apply(Action::Diff(DiffAction::With(b)));
            }
        }
        let (mut picked, mut unseen) = (Vec::new(), Vec::new());
        self.dialogs.retain_mut(|d| match d.job.try_take() {
            Some(Ok(Some(r))) => {
                picked.push(r);
                false
            }
            Some(Ok(None)) if d.started.elapsed() >= browser::TOO_FAST => false,
            Some(r) => {
                // Failed, or "cancelled" before anyone could see it: the dialog never showed.
                let why = match r {
                    Err(e) => format!("the system file dialog failed ({e})"),
                    Ok(_) => "no system file dialog appeared (no XDG desktop portal?)".to_string(),
                };
                unseen.push((d.purpose.clone(), why));
                false
            }
            None => true,
        });
        for (purpose, why) in unseen {
            self.show_browser(purpose, Some(format!("Using the built-in file browser: {why}.")));
        }
        for r in picked {
            self.dialog_done(r);
        }
    }

    /// Do what a path picked in a dialog (system or built-in) was for.
    pub(crate) fn dialog_done(&mut self, r: DialogResult) {
        match r {
            DialogResult::Open(paths) => self.apply(Action::OpenFiles(paths)),
            DialogResult::Export(doc, t, f, path) => {
                if self.active == Some(doc) {
                    self.apply(Action::Table(t, TableAction::Export(f, path)));
                }
            }
            DialogResult::Dump(doc, path) => {
                if self.active == Some(doc) {
                    self.apply(Action::Patch(PatchAction::Dump(path)));
                }
            }
            DialogResult::Compare(doc, path) => self.compare_with_file(doc, path),
        }
    }
}

/// The README's sections, as (heading, anchor, whether it is a subsection of the one before).
const README_SECTIONS: [(&str, &str, bool); 10] = [
    ("Set up", "set-up", false),
    ("The app", "the-app", false),
    ("The CLI", "the-cli", false),
    ("Data references", "data-references", true),
    ("Patch and verify", "patch-and-verify", true),
    ("Link", "link", true),
    ("Diff", "diff", true),
    ("JSON", "json", true),
    ("Performance", "performance", false),
    ("How it is checked", "how-it-is-checked", false),
];

/// Every keyboard shortcut, as (keys, what they do).
pub const SHORTCUTS: [(&str, &str); 15] = [
    ("Ctrl+O", "open files"),
    ("Ctrl+G", "go to 0x… (VA), rva:… or file:…"),
    ("Ctrl+F", "filter the current table"),
    ("Alt+← / Alt+→", "back / forward (also the mouse's side buttons)"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "next / previous tab"),
    ("Ctrl+PgDn / Ctrl+PgUp", "next / previous tab"),
    ("Ctrl+W", "close the tab (also a middle click on it)"),
    ("Ctrl+C", "copy the selected row"),
    ("↑ / ↓", "move the selection"),
    ("F8 / Shift+F8", "next / previous change (Diff view)"),
    ("Enter", "Patch view: apply a typed base; prompts: go / open"),
    ("Esc", "close the Go-to prompt, the file browser, the process picker or the export prompt; else leave the tour"),
    ("Scroll / drag", "zoom / pan the layout map (Sections view)"),
    ("Double-click", "open a file or folder in the file browser"),
    ("Drop files", "open them (a memory dump on the Patch view verifies it)"),
];

/// The README on disk, if the app runs from its source tree.
fn readme_path() -> Option<PathBuf> {
    [PathBuf::from("README.md"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))]
        .into_iter()
        .find(|p| p.is_file())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
}

/// The Help menu: what the app is, every shortcut, and the README's sections.
fn help(ui: &mut egui::Ui) {
    ui.label(RichText::new("linkscope").strong());
    ui.label("Look inside executables, DLLs and object files.");
    ui.separator();
    ui.label(RichText::new("Keyboard").strong());
    egui::Grid::new("help-keys").num_columns(2).spacing(egui::vec2(12.0, 2.0)).show(ui, |ui| {
        for (k, v) in SHORTCUTS {
            ui.label(theme::mono(k));
            ui.label(v);
            ui.end_row();
        }
    });
    ui.separator();
    ui.label(RichText::new("The README").strong());
    match readme_path() {
        Some(readme) => {
            // Opened with the system (a Markdown viewer or the browser); the anchor is the
            // heading's, which renderers of Markdown follow.
            let url = format!("file://{}", readme.display());
            ui.hyperlink_to("README.md", &url).on_hover_text(readme.display().to_string());
            for (title, anchor, sub) in README_SECTIONS {
                ui.horizontal(|ui| {
                    ui.add_space(if sub { 24.0 } else { 8.0 });
                    ui.hyperlink_to(format!("§ {title}"), format!("{url}#{anchor}"));
                });
            }
        }
        None => {
            ui.label("README.md, next to the program's sources; its sections:");
            for (title, _, sub) in README_SECTIONS {
                ui.horizontal(|ui| {
                    ui.add_space(if sub { 24.0 } else { 8.0 });
                    ui.label(format!("§ {title}"));
                });
            }
        }
    }
}

/// The result of `job` once it has finished (the job is then dropped), its own error and the
/// job's failure (a panic, a lost thread) alike as a message.
fn finished<T>(job: &mut Option<Job<Result<T, String>>>) -> Option<Result<T, String>> {
    let r = job.as_mut()?.try_take()?;
    *job = None;
    Some(r.unwrap_or_else(|e| Err(e.to_string())))
}

impl App {
    /// Put each finished re-scan (the document's DLL placement changed) in place of the
    /// document's analysed file; the tables that show the scan are ordered again.
    fn take_rescans(&mut self) {
        let mut done = Vec::new();
        for doc in &mut self.docs {
            let Some(r) = finished(&mut doc.rescan) else { continue };
            match r {
                Ok(core) => {
                    doc.core = Arc::new(core);
                    done.push((doc.id, None));
                }
                Err(e) => done.push((doc.id, Some(e))),
            }
        }
        for (id, err) in done {
            match err {
                None => {
                    for t in [TableId::Refs, TableId::Disasm] {
                        self.refresh_order(id, t);
                    }
                }
                Some(e) => self.set_status(format!("The DLLs could not be placed: {e}"), true),
            }
        }
    }
}

impl Document {
    /// Take the results of this document's finished jobs: table orders, the plan, the diff and
    /// the link; a table whose data changed is re-ordered from scratch.
    pub fn take_results(&mut self) {
        for t in TableId::ALL {
            let state = self.table_mut(t);
            let Some(p) = &mut state.pending else { continue };
            let Some(result) = p.job.try_take() else { continue };
            if p.generation == state.generation {
                if let Ok(Some(order)) = result {
                    state.order = Some(Arc::new(order));
                }
            }
            state.pending = None;
        }
        if let Some(r) = self.patch.job.as_mut().and_then(Job::try_take) {
            self.patch.job = None;
            let (result, verification) = r.unwrap_or_else(|e| (Err(e.to_string()), None));
            if let Ok(plan) = &result {
                self.results.plan = Some(plan.clone());
                self.reset_table(TableId::Patch, false);
            }
            if let (Some(v), Some((_, slot))) = (verification, self.patch.dump.as_mut()) {
                *slot = v;
            }
            self.patch.result = Some(result);
        }
        if let Some(r) = finished(&mut self.diff.job) {
            if let Ok(d) = &r {
                self.results.diff = Some(d.clone());
                self.reset_table(TableId::Diff, true);
            }
            self.diff.result = Some(r);
        }
        if let Some(r) = finished(&mut self.verify.job) {
            self.take_verify(r);
        }
        if let Some(r) = finished(&mut self.link.job) {
            if let Ok(d) = &r {
                self.results.link = Some(d.clone());
                self.reset_table(TableId::Link, false);
            }
            self.link.result = Some(r);
        }
    }

    /// Drop table `t`'s order (its rows changed); `deselect` also clears the selection.
    pub(crate) fn reset_table(&mut self, t: TableId, deselect: bool) {
        let state = self.table_mut(t);
        state.order = None;
        state.generation += 1;
        if deselect {
            state.selected = None;
        }
    }

    /// Forget what depends on which documents are open (a document opened or closed): the plan
    /// (its DLLs) unless one is being computed, and the link (its inputs, the image compared
    /// with), whose job, started with the old set, is dropped. The views compute them again when
    /// shown.
    pub fn forget_open_set_results(&mut self) {
        if self.patch.job.is_none() {
            self.patch.result = None;
        }
        if self.link.result.is_some() || self.link.job.is_some() {
            self.link.job = None;
            self.link.result = None;
        }
    }

    /// Whether any of this document's jobs is running.
    pub fn busy(&self) -> bool {
        self.patch.job.is_some()
            || self.diff.job.is_some()
            || self.link.job.is_some()
            || self.verify.job.is_some()
            || self.rescan.is_some()
            || TableId::ALL.iter().any(|t| self.table(*t).pending.is_some())
            || (self.view == View::Strings && self.core.strings_found().is_none())
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_contents(ui);
        if self.screenshot.is_some() {
            self.screenshot_step(ui.ctx());
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.screenshot.is_none() {
            self.settings.save(storage);
        }
    }

    fn persist_egui_memory(&self) -> bool {
        self.screenshot.is_none()
    }

    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        if self.screenshot.is_some() {
            raw_input.events.retain(|e| {
                !matches!(e, egui::Event::PointerMoved(_) | egui::Event::MouseMoved(_) | egui::Event::PointerGone)
            });
        }
    }
}
