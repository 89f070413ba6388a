//! Guided tours: each a list of steps ([`StepDef`]) on bundled samples — the text (with the open
//! file's numbers filled in from [`facts`]), the widget it points at ([`Point`], highlighted and
//! scrolled into view), and the state that completes it ([`Done`]). The engine never does the
//! user's action for them, except on "Show me", which performs exactly the step's action.
//!
//! Views mark the widgets a step can point at with [`mark`]; the mark records the target's rect
//! for the frame (what [`overlay`] highlights and tests click on).

pub mod facts;
pub mod overlay;
pub mod tours;

use std::path::PathBuf;

use eframe::egui;

use super::action::{Action, PatchAction, Target};
use super::app::App;
use super::document::{DocId, Document, TableId, View};
use crate::patch::SchemeKind;
use crate::session::place::Preset;

pub use facts::Facts;
pub use tours::TOURS;

/// A widget a step points at, as the views mark it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Widget {
    /// A document's tab.
    Tab(DocId),
    /// A view's entry in the sidebar.
    Sidebar(View),
    /// A table row (model order).
    Row(TableId, usize),
    /// A link cell of a table row (model row, column).
    Cell(TableId, usize, usize),
    /// A DLL-placement preset of the Patch view.
    Preset(Preset),
    /// The Patch view's scheme menu.
    SchemeMenu,
    /// The Patch view's "Load dump…" button.
    LoadDump,
    /// A COMDAT leader's header in the COMDATs view (by section index).
    Comdat(u32),
    /// The Patch view's verification line (a loaded dump's result).
    Verification,
    /// The Patch view's plan summary (bases, counts, the runtime's abort).
    PlanSummary,
    /// The OMF COMDAT view's note on associative COMDATs.
    OmfNote,
}

/// What a step points at, before the open file's facts resolve it to a [`Widget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// The tab of the step's document.
    Tab,
    /// A view's sidebar entry.
    Sidebar(View),
    /// A table row whose model index is the named fact.
    Row(TableId, &'static str),
    /// A link cell (column) of the row whose model index is the named fact.
    Cell(TableId, &'static str, usize),
    /// A DLL-placement preset.
    Preset(Preset),
    /// The scheme menu.
    SchemeMenu,
    /// The "Load dump…" button.
    LoadDump,
    /// The COMDAT leader whose section index is the named fact.
    Comdat(&'static str),
    /// The verification line.
    Verification,
    /// The plan summary.
    PlanSummary,
    /// The OMF COMDAT view's note on associative COMDATs.
    OmfNote,
}

/// The state that completes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Nothing to do: read, then Next.
    Read,
    /// The step's document is the active tab.
    Doc,
    /// The step's document shows this view.
    View(View),
    /// The row whose model index is the named fact is selected.
    Selected(TableId, &'static str),
    /// The DLLs are placed with this preset and the plan is computed.
    Preset(Preset),
    /// This scheme is chosen and the plan is computed.
    Scheme(SchemeKind),
    /// The plan step whose index is the named fact is switched off (and the plan recomputed).
    StepOff(&'static str),
    /// This dump (a path under the samples folder) is loaded and verified.
    Dump(&'static str),
}

/// One step of a tour.
#[derive(Debug, Clone, Copy)]
pub struct StepDef {
    /// The document the step is about (its path under `assets/samples`).
    pub doc: &'static str,
    /// The view the widget is in (None: the window's chrome, as a tab or the sidebar).
    pub view: Option<View>,
    /// The text, `{fact}` placeholders filled from the open file.
    pub text: &'static str,
    /// What it points at.
    pub point: Point,
    /// What completes it.
    pub done: Done,
}

/// A tour: its samples and its steps.
#[derive(Debug, Clone, Copy)]
pub struct TourDef {
    /// Its name on the command line (`--tour NAME`).
    pub name: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The question it answers, in one line.
    pub question: &'static str,
    /// The samples it opens (paths under `assets/samples`), the first step's document first.
    pub files: &'static [&'static str],
    /// The steps.
    pub steps: &'static [StepDef],
    /// The numbers its text names, computed from the open documents.
    pub facts: fn(&App) -> Facts,
}

/// A tour in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TourState {
    /// Index into [`TOURS`].
    pub tour: usize,
    /// The current step (from 0).
    pub step: usize,
}

/// What the tour panel asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TourAction {
    /// Start tour `n` (index into [`TOURS`]): open its samples, show its first step.
    Start(usize),
    /// The next step (only once the current one is done).
    Next,
    /// The previous step.
    Back,
    /// Leave the tour.
    Skip,
    /// Perform the current step's action for the user.
    ShowMe,
}

/// Frames the screenshot walk (`--tour NAME --step N`) takes at most before it gives up and
/// shows where it got to.
pub const WALK_LIMIT: u32 = 3000;

/// The tour named `name` (its name, or its number 1–5), as an index into [`TOURS`].
pub fn find(name: &str) -> Option<usize> {
    if let Ok(n) = name.trim().parse::<usize>() {
        return (1..=TOURS.len()).contains(&n).then(|| n - 1);
    }
    TOURS.iter().position(|t| t.name.eq_ignore_ascii_case(name.trim()))
}

/// The folder of the bundled samples (run from the source tree or beside it).
pub fn samples_dir() -> Option<PathBuf> {
    [PathBuf::from("assets/samples"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/samples"))]
        .into_iter()
        .find(|p| p.is_dir())
}

/// The per-frame record of the target widget: what the current step points at, where it was
/// drawn this frame, and whether it was scrolled into view already.
#[derive(Debug, Clone, Default)]
struct Registry {
    target: Option<Widget>,
    rect: Option<egui::Rect>,
    /// The target was drawn cut off by its scroll area.
    partial: bool,
    scrolled: bool,
    row_scroll_asked: bool,
}

fn registry_id() -> egui::Id {
    egui::Id::unique("linkscope-tour-registry")
}

/// Start a frame: the widget the current step points at (None: no tour, or nothing to point at).
pub fn begin_frame(ctx: &egui::Context, target: Option<Widget>) {
    ctx.data_mut(|d| {
        let r = d.get_temp_mut_or_default::<Registry>(registry_id());
        if r.target != target {
            *r = Registry { target, ..Registry::default() };
        }
        r.rect = None;
        r.partial = false;
    });
}

/// The widget the current step points at, if any.
pub fn target(ctx: &egui::Context) -> Option<Widget> {
    ctx.data(|d| d.get_temp::<Registry>(registry_id()).and_then(|r| r.target))
}

/// Where the current step's widget was drawn this frame (the part of it on screen), if it was.
pub fn target_rect(ctx: &egui::Context) -> Option<egui::Rect> {
    ctx.data(|d| d.get_temp::<Registry>(registry_id()).and_then(|r| r.rect))
}

/// Mark `resp` as `widget` (only compared when a tour points somewhere): the tour's target is
/// recorded for the highlight and scrolled into view once.
pub fn mark(ui: &egui::Ui, resp: &egui::Response, widget: impl FnOnce() -> Widget) {
    mark_in(ui.ctx(), ui.clip_rect(), resp, widget);
}

/// [`mark`] where the widget's visible part is `resp`'s rect inside `clip`.
pub fn mark_in(ctx: &egui::Context, clip: egui::Rect, resp: &egui::Response, widget: impl FnOnce() -> Widget) {
    let Some(target) = target(ctx) else { return };
    if target != widget() {
        return;
    }
    let shown = resp.rect.intersect(clip);
    let first = ctx.data_mut(|d| {
        let r = d.get_temp_mut_or_default::<Registry>(registry_id());
        if shown.is_positive() {
            r.rect = Some(shown);
        }
        r.partial = shown.height() + 0.5 < resp.rect.height();
        !std::mem::replace(&mut r.scrolled, true)
    });
    // Table rows scroll with their table's own scroll_to (see `tour_scroll_rows`).
    if first && !matches!(target, Widget::Row(..) | Widget::Cell(..)) {
        resp.scroll_to_me(Some(egui::Align::Center));
    }
}

/// Ask once per step whether a table row target not drawn (virtualised away) should be scrolled to.
fn ask_row_scroll(ctx: &egui::Context) -> bool {
    ctx.data_mut(|d| {
        let r = d.get_temp_mut_or_default::<Registry>(registry_id());
        (r.rect.is_none() || r.partial) && !std::mem::replace(&mut r.row_scroll_asked, true)
    })
}

/// A step resolved against the open documents: its text filled in, its widget, whether it is done.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The text, with the open file's numbers.
    pub text: String,
    /// Whether every number was known (a plan still computing leaves some out).
    pub complete: bool,
    /// The widget it points at (on the way to the step's own: its document's tab or its view).
    pub widget: Option<Widget>,
    /// Why it points elsewhere first.
    pub detour: Option<String>,
    /// Whether its state is reached.
    pub done: bool,
}

impl App {
    /// The open document of the sample at `path` (under `assets/samples`).
    pub fn tour_doc(&self, path: &str) -> Option<&Document> {
        let want = samples_dir()?.join(path);
        let name = want.file_name()?.to_owned();
        let want = std::fs::canonicalize(&want).unwrap_or(want);
        // The name first: canonical paths only for the few tabs that could be it.
        self.docs.iter().find(|d| {
            d.core.path.file_name() == Some(name.as_os_str())
                && std::fs::canonicalize(&d.core.path).is_ok_and(|p| p == want)
        })
    }

    /// The current tour's definition and state.
    pub fn tour_def(&self) -> Option<(&'static TourDef, &TourState)> {
        let t = self.tour.as_ref()?;
        Some((TOURS.get(t.tour)?, t))
    }

    /// The current step, resolved against the open documents.
    pub fn tour_step(&self) -> Option<Resolved> {
        let (def, st) = self.tour_def()?;
        let step = def.steps.get(st.step)?;
        let facts = (def.facts)(self);
        let (text, complete) = facts.fill(step.text);
        let (widget, detour) = self.resolve_point(step, &facts);
        Some(Resolved { text, complete, widget, detour, done: self.step_done(step, &facts) })
    }

    /// The widget to point at: the step's own, or first the way to it (the document's tab, the
    /// view's sidebar entry) with a word on it.
    fn resolve_point(&self, step: &StepDef, facts: &Facts) -> (Option<Widget>, Option<String>) {
        let Some(doc) = self.tour_doc(step.doc) else { return (None, Some(format!("{} is not open", step.doc))) };
        if step.point != Point::Tab && step.done != Done::Doc && self.active != Some(doc.id) {
            return (Some(Widget::Tab(doc.id)), Some(format!("First click the tab of {}.", doc.core.name)));
        }
        if let Some(v) = step.view.filter(|v| doc.view != *v) {
            return (Some(Widget::Sidebar(v)), Some(format!("First open the {} view.", v.title())));
        }
        (self.step_widget(step, facts), None)
    }

    fn step_widget(&self, step: &StepDef, facts: &Facts) -> Option<Widget> {
        Some(match step.point {
            Point::Tab => Widget::Tab(self.tour_doc(step.doc)?.id),
            Point::Sidebar(v) => Widget::Sidebar(v),
            Point::Row(t, key) => Widget::Row(t, facts.num(key)?),
            Point::Cell(t, key, col) => Widget::Cell(t, facts.num(key)?, col),
            Point::Preset(p) => Widget::Preset(p),
            Point::SchemeMenu => Widget::SchemeMenu,
            Point::LoadDump => Widget::LoadDump,
            Point::Comdat(key) => Widget::Comdat(u32::try_from(facts.num(key)?).ok()?),
            Point::Verification => Widget::Verification,
            Point::PlanSummary => Widget::PlanSummary,
            Point::OmfNote => Widget::OmfNote,
        })
    }

    fn step_done(&self, step: &StepDef, facts: &Facts) -> bool {
        let Some(doc) = self.tour_doc(step.doc) else { return false };
        let active = self.active == Some(doc.id);
        let plan_ready = doc.patch.job.is_none() && matches!(doc.patch.result, Some(Ok(_)));
        match step.done {
            Done::Read => true,
            Done::Doc => active,
            Done::View(v) => active && doc.view == v,
            Done::Selected(t, key) => active && facts.num(key).is_some() && doc.table(t).selected == facts.num(key),
            Done::Preset(p) => doc.patch.preset == p && plan_ready,
            Done::Scheme(k) => doc.patch.scheme == Some(k) && plan_ready,
            Done::StepOff(key) => facts.num(key).is_some_and(|i| doc.patch.disabled.contains(&i)) && plan_ready,
            Done::Dump(path) => {
                plan_ready
                    && doc
                        .patch
                        .dump
                        .as_ref()
                        .is_some_and(|(p, v)| v.is_ok() && p.ends_with(path.rsplit('/').next().unwrap_or(path)))
            }
        }
    }

    /// Do what the tour panel asked.
    pub(crate) fn apply_tour(&mut self, action: TourAction) {
        match action {
            TourAction::Start(n) => self.start_tour(n),
            TourAction::Next => {
                if self.tour_step().is_some_and(|s| s.done) {
                    let len = self.tour_def().map_or(0, |(d, _)| d.steps.len());
                    if let Some(t) = self.tour.as_mut() {
                        if t.step + 1 < len {
                            t.step += 1;
                        } else {
                            self.tour = None;
                            self.set_status("Tour finished. Help → Welcome and tours has the others.", false);
                        }
                    }
                }
            }
            TourAction::Back => {
                if let Some(t) = self.tour.as_mut() {
                    t.step = t.step.saturating_sub(1);
                }
            }
            TourAction::Skip => self.tour = None,
            TourAction::ShowMe => self.show_me(),
        }
    }

    fn start_tour(&mut self, n: usize) {
        let Some(def) = TOURS.get(n) else { return };
        let Some(dir) = samples_dir() else {
            self.set_status("The bundled samples (assets/samples) are not beside the program", true);
            return;
        };
        let paths: Vec<PathBuf> = def.files.iter().map(|f| dir.join(f)).collect();
        if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
            self.set_status(format!("The tour needs {}, which is missing", missing.display()), true);
            return;
        }
        self.welcome_open = false;
        self.tour = Some(TourState { tour: n, step: 0 });
        // Its samples open (the first step's document first, which becomes the active tab).
        self.apply(Action::OpenFiles(paths));
    }

    /// "Show me": perform the current step's action (bring its document and view up, then do
    /// what the step asks).
    fn show_me(&mut self) {
        let Some((def, st)) = self.tour_def() else { return };
        let Some(step) = def.steps.get(st.step).copied() else { return };
        let facts = (def.facts)(self);
        let Some(doc) = self.tour_doc(step.doc) else { return };
        let id = doc.id;
        if self.active != Some(id) {
            self.apply(Action::ActivateDoc(id));
        }
        let view = match step.done {
            Done::View(v) => Some(v),
            _ => step.view,
        };
        if let Some(v) = view {
            if self.active_doc().is_some_and(|d| d.view != v) {
                self.apply(Action::Navigate { doc: None, target: Target::View(v) });
            }
        }
        match step.done {
            Done::Read | Done::Doc | Done::View(_) => {}
            Done::Selected(t, key) => {
                if let Some(row) = facts.num(key) {
                    self.apply(Action::Navigate { doc: None, target: Target::Row(t, row) });
                }
            }
            Done::Preset(p) => self.apply(Action::Patch(PatchAction::Preset(p))),
            Done::Scheme(k) => self.apply(Action::Patch(PatchAction::Scheme(Some(k)))),
            Done::StepOff(key) => {
                let off = facts.num(key).filter(|i| !self.active_doc().is_some_and(|d| d.patch.disabled.contains(i)));
                if let Some(i) = off {
                    self.apply(Action::Patch(PatchAction::Toggle(i)));
                }
            }
            Done::Dump(path) => {
                if let Some(dir) = samples_dir() {
                    self.apply(Action::Patch(PatchAction::Dump(dir.join(path))));
                }
            }
        }
    }

    /// Screenshot mode (`--tour NAME --step N`): one move towards the goal step — "Show me" on a
    /// step not done, Next on a done one. Returns whether the walk goes on (call again once the
    /// app is no longer busy).
    pub(crate) fn tour_walk(&mut self) -> bool {
        let Some((goal, frames)) = self.tour_goal else { return false };
        if self.tour.is_none() || frames >= WALK_LIMIT {
            self.tour_goal = None;
            return false;
        }
        self.tour_goal = Some((goal, frames + 1));
        let Some(step) = self.tour_step() else { return true };
        let at = self.tour.as_ref().map_or(0, |t| t.step);
        if at >= goal {
            // Its numbers may come from its own action (a plan the view computes once shown).
            if step.complete || !step.done {
                self.tour_goal = None;
                return false;
            }
            return true;
        }
        if step.done && step.complete {
            self.apply(Action::Tour(TourAction::Next));
        } else if step.complete || !step.done {
            self.apply(Action::Tour(TourAction::ShowMe));
        }
        true
    }

    /// A table row the step points at but the table has not drawn (scrolled away): ask the
    /// table to scroll to it, once per step.
    pub(crate) fn tour_scroll_rows(&self, ctx: &egui::Context) {
        let Some(Widget::Row(t, row) | Widget::Cell(t, row, _)) = target(ctx) else { return };
        let Some(doc) = self.active_doc() else { return };
        if doc.current_table() == Some(t) && ask_row_scroll(ctx) {
            doc.table(t).scroll_to.set(Some(row));
            ctx.request_repaint();
        }
    }
}
