//! [`App::apply`]: the one place where state changes. Every click, key and drop becomes an
//! [`Action`] that lands here; tests call it directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::time::Instant;

use super::action::{Action, BrowserAction, DiffAction, ExportFormat, TableAction, Target};
use super::app::{App, DialogResult, ExportPrompt, PendingDialog, Status};
use super::browser::{self, Browser, Purpose};
use super::document::{DocCore, DocId, Document, TableId, View};
use super::loader::LoadJob;
use super::lookup::member_data_span;
use super::nav::{self, Place};
use super::table::{self, PendingOrder, SYNC_ORDER_LIMIT};
use super::views::{self, ModelOpts};
use crate::model::{Binding, Span};
use crate::session::Job;

impl App {
    /// Apply one action.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::OpenFiles(paths) => self.open_files(paths),
            Action::Live(a) => self.apply_live(a),
            Action::OpenDialog => self.pick(Purpose::Open),
            Action::ShowOpenPath(true) => self.show_browser(Purpose::Open, None),
            Action::ShowOpenPath(false) => self.close_browser(Purpose::Open),
            Action::CompareDialog => {
                if let Some(id) = self.active {
                    self.pick(Purpose::Compare(id));
                }
            }
            Action::Browser(a) => self.apply_browser(a),
            Action::SetBuiltinBrowser(on) => self.settings.builtin_browser = on,
            Action::SetTheme(t) => self.settings.theme = t,
            Action::CycleDoc(forward) => {
                let n = self.docs.len();
                let pos = self.active.and_then(|id| self.docs.iter().position(|d| d.id == id));
                if let (Some(p), true) = (pos, n > 1) {
                    let next = if forward { (p + 1) % n } else { (p + n - 1) % n };
                    let id = self.docs[next].id;
                    self.apply(Action::ActivateDoc(id));
                }
            }
            Action::CancelLoad(id) => {
                if let Some(pos) = self.loads.iter().position(|j| j.id == id) {
                    let job = self.loads.remove(pos);
                    job.cancel();
                    self.set_status(format!("Cancelled loading {}", job.name), false);
                }
            }
            Action::CloseDoc(id) => self.close(id),
            Action::ActivateDoc(id) => {
                if self.doc(id).is_some() && self.active != Some(id) {
                    if let Some(here) = self.here() {
                        self.history.push(here);
                    }
                    self.active = Some(id);
                }
            }
            Action::Navigate { doc, target } => self.navigate(doc, target),
            Action::Back => {
                while let Some(place) = self.history.back.pop() {
                    if self.doc(place.doc).is_none() {
                        continue;
                    }
                    if let Some(here) = self.here() {
                        self.history.forward.push(here);
                    }
                    self.restore(&place);
                    break;
                }
            }
            Action::Forward => {
                while let Some(place) = self.history.forward.pop() {
                    if self.doc(place.doc).is_none() {
                        continue;
                    }
                    if let Some(here) = self.here() {
                        self.history.back.push(here);
                    }
                    self.restore(&place);
                    break;
                }
            }
            Action::ShowGoto(open) => {
                self.goto_open = open;
                if open {
                    self.focus_goto.set(true);
                    self.select_goto.set(true);
                }
            }
            Action::GoTo(text) => self.goto(&text),
            Action::Table(t, action) => self.apply_table(t, action),
            Action::FocusFilter => self.focus_filter.set(true),
            Action::Copy(text) => self.copy(text),
            Action::ShowExport(p) => {
                self.export_prompt = p.and_then(|(t, format)| {
                    let doc = self.active_doc()?;
                    let dir = doc.core.path.parent().map(Path::to_path_buf).unwrap_or_default();
                    let stem = doc.core.name.replace(['(', ')', '/', '\\'], "_");
                    Some(ExportPrompt {
                        table: t,
                        format,
                        suggested: dir.join(format!("{stem}.{}.{}", t.name(), format.ext())),
                    })
                });
            }
            Action::FollowImport(row) => self.follow_import(row),
            Action::ShowRefs(to) => {
                if let Some(doc) = self.active_mut() {
                    doc.refs_panel = Some(crate::gui::xrefs::RefsPanel::new(&doc.core, to));
                }
            }
            Action::FindStrings => {
                let waker = self.waker();
                let Some(doc) = self.active_mut() else { return };
                let key = Arc::as_ptr(&doc.core) as usize;
                if doc.core.strings_found().is_none() && doc.strings_job.as_ref().is_none_or(|(k, _)| *k != key) {
                    let core = doc.core.clone();
                    let job = crate::session::Job::spawn("strings", Some(waker), move |_| {
                        core.strings();
                    });
                    doc.strings_job = Some((key, job));
                }
            }
            Action::CloseRefs => {
                if let Some(doc) = self.active_mut() {
                    doc.refs_panel = None;
                }
            }
            Action::RefsToImport(row) => {
                let Some(doc) = self.active_doc() else { return };
                let n = crate::analysis::namer::Namer { bin: &doc.core.bin, index: &doc.core.index };
                let label = n.import_label(crate::analysis::ImportRef::Row(row as u32));
                let facet = TableAction::Facet(views::refs::IMPORT_FACET, Some(label));
                self.apply_table(TableId::Refs, facet);
                self.navigate(None, Target::View(View::Refs));
            }
            Action::FollowExport(row) => self.follow_export(row),
            Action::FollowSymbol(name) => self.follow_symbol(&name),
            Action::HexSelect(span) => {
                if let Some(doc) = self.active_mut() {
                    doc.hex.selection = span;
                }
            }
            Action::HexShow(span) => {
                if let Some(doc) = self.active_mut() {
                    if span.offset < doc.core.data.len() as u64 {
                        doc.hex.selection = Some(span);
                        doc.hex.scroll_to.set(Some(span.offset));
                    }
                }
            }
            Action::HexSearch(a) => {
                if let Some(doc) = self.active_mut() {
                    let selection = doc.hex.selection;
                    if let Some(span) = doc.hex.search.apply(a, &doc.core.data, selection) {
                        doc.hex.selection = Some(span);
                        doc.hex.scroll_to.set(Some(span.offset));
                    }
                }
            }
            Action::SetRecordTab(tab) => {
                if let Some(doc) = self.active_mut() {
                    doc.record_tab = Some(tab);
                }
            }
            Action::SetSectionsTable(t) => {
                if let Some(doc) = self.active_mut() {
                    doc.sections_table = t;
                }
            }
            Action::SetMap(zoom, start) => {
                if let Some(doc) = self.active_mut() {
                    doc.map.zoom = zoom.clamp(1.0, 1.0e7);
                    doc.map.start = views::map::clamp_start(start, doc.map.zoom);
                }
            }
            Action::SetHexPane(on) => self.settings.hex_pane = on,
            Action::SetDemangle(on) => {
                self.settings.demangle = on;
                // Name columns changed: recompute filtered/sorted orders.
                let ids: Vec<DocId> = self.docs.iter().map(|d| d.id).collect();
                for id in ids {
                    for t in TableId::ALL {
                        self.refresh_order(id, t);
                    }
                }
            }
            Action::OpenMember(i) => self.open_member(i),
            Action::ClearRecent => self.settings.recent.clear(),
            Action::DismissStatus => self.status = None,
            Action::Patch(a) => self.apply_patch(a),
            Action::Link(a) => self.apply_link(a),
            Action::Diff(a) => self.apply_diff(a),
            Action::OpenModule(row) => self.open_module(row),
            Action::VerifyRun => self.verify_run(),
            Action::Tour(a) => self.apply_tour(a),
            Action::ShowWelcome(on) => self.welcome_open = on,
        }
    }

    /// Apply an action to table `t` of the active document.
    fn apply_table(&mut self, t: TableId, action: TableAction) {
        match action {
            TableAction::Select(row) => self.select_row(t, row),
            TableAction::Filter(text) => self.update_table(t, |s| s.filter = text),
            TableAction::FilterColumn(col) => self.update_table(t, |s| s.filter_col = col),
            TableAction::Facet(i, value) => self.update_table(t, |s| {
                if s.facets.len() <= i {
                    s.facets.resize(i + 1, None);
                }
                s.facets[i] = value;
            }),
            TableAction::SortBy(col) => self.update_table(t, |s| {
                s.sort = match s.sort {
                    Some((c, true)) if c == col => Some((col, false)),
                    Some((c, false)) if c == col => None,
                    _ => Some((col, true)),
                }
            }),
            TableAction::CopyRow(row) => {
                let text = self.active_doc().map(|doc| {
                    let m = views::model(&doc.core, &doc.results, t, self.model_opts());
                    table::row_text(m.as_ref(), row)
                });
                if let Some(text) = text {
                    self.copy(text);
                }
            }
            TableAction::CopyAddress(row) => {
                let text = self.active_doc().and_then(|doc| {
                    let m = views::model(&doc.core, &doc.results, t, self.model_opts());
                    let off = m.row_span(row)?.offset;
                    let (bin, index) = (&doc.core.bin, &doc.core.index);
                    Some(match (index.offset_to_rva(off, bin), bin.image_base) {
                        (Some(rva), Some(base)) => format!("{:#x}", base.wrapping_add(rva)),
                        (Some(rva), None) => format!("rva:{rva:#x}"),
                        _ => format!("file:{off:#x}"),
                    })
                });
                match text {
                    Some(text) => self.copy(text),
                    None => self.set_status("This row has no bytes of its own to give an address of", true),
                }
            }
            TableAction::ExportDialog(format) => self.export_dialog(t, format),
            TableAction::Export(format, path) => self.export(t, format, &path),
        }
    }

    pub(crate) fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status { text: text.into(), error });
    }

    fn copy(&mut self, text: String) {
        self.set_status(format!("Copied: {}", text.chars().take(80).collect::<String>().replace('\t', "  ")), false);
        self.last_copied = Some(text.clone());
        self.pending_copy = Some(text);
    }

    pub(crate) fn active_mut(&mut self) -> Option<&mut Document> {
        let id = self.active?;
        self.doc_mut(id)
    }

    pub(crate) fn alloc_id(&mut self) -> DocId {
        let id = DocId(self.next_id);
        self.next_id += 1;
        id
    }

    fn open_files(&mut self, paths: Vec<PathBuf>) {
        let mut first = true;
        for path in paths {
            let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            let already = self.docs.iter().find(|d| {
                std::fs::canonicalize(&d.core.path).unwrap_or_else(|_| d.core.path.clone()) == canon
                    && !d.core.name.contains('(')
            });
            if let Some(doc) = already {
                let id = doc.id;
                if first {
                    self.apply(Action::ActivateDoc(id));
                }
                first = false;
                continue;
            }
            if self.loads.iter().any(|j| j.path == path) {
                continue;
            }
            let id = self.alloc_id();
            self.loads.push(LoadJob::start(id, path, first, Some(self.waker())));
            first = false;
        }
    }

    /// Run a system dialog for `purpose` on its own thread; its answer arrives through
    /// [`App::poll`], which opens the built-in browser instead if the dialog never showed.
    pub(crate) fn dialog(
        &mut self,
        name: &str,
        purpose: Purpose,
        f: impl FnOnce() -> Option<DialogResult> + Send + 'static,
    ) {
        let job = Job::spawn(name, Some(self.waker()), move |_| f());
        self.dialogs.push(PendingDialog { job, purpose, started: Instant::now() });
    }

    /// Pick a path for `purpose`: the system dialog where one can appear, else (or when the user
    /// prefers it) the built-in browser.
    pub(crate) fn pick(&mut self, purpose: Purpose) {
        if self.settings.builtin_browser {
            self.show_browser(purpose, None);
            return;
        }
        if !browser::portal_expected() {
            let note = "Using the built-in file browser: no D-Bus session, so no desktop portal for the system dialog.";
            self.show_browser(purpose, Some(note.into()));
            return;
        }
        let (dir, name) = self.suggestion(&purpose);
        let p = purpose.clone();
        self.dialog("file dialog", purpose, move || {
            let dialog = rfd::FileDialog::new().set_title(p.title()).set_directory(&dir);
            match p {
                Purpose::Open => Some(DialogResult::Open(dialog.pick_files()?)),
                Purpose::Dump(id) => Some(DialogResult::Dump(id, dialog.pick_file()?)),
                Purpose::Compare(id) => Some(DialogResult::Compare(id, dialog.pick_file()?)),
                Purpose::Export(id, t, format) => {
                    let dialog = dialog.add_filter(format.ext(), &[format.ext()]).set_file_name(name);
                    Some(DialogResult::Export(id, t, format, dialog.save_file()?))
                }
            }
        });
    }

    /// Where a dialog for `purpose` starts, and the file name it suggests.
    fn suggestion(&self, purpose: &Purpose) -> (PathBuf, String) {
        let doc_dir = self.active_doc().and_then(|d| d.core.path.parent().map(Path::to_path_buf));
        let last = self.settings.last_dir.clone().filter(|d| d.is_dir());
        let cwd = || std::env::current_dir().unwrap_or_default();
        match purpose {
            Purpose::Export(..) => {
                let suggested = self.export_prompt.as_ref().map(|p| p.suggested.clone()).unwrap_or_default();
                let dir = suggested.parent().filter(|d| d.is_dir()).map(Path::to_path_buf);
                let name = suggested.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                (dir.or(last).or(doc_dir).unwrap_or_else(cwd), name)
            }
            Purpose::Dump(_) | Purpose::Compare(_) => (doc_dir.or(last).unwrap_or_else(cwd), String::new()),
            Purpose::Open => (last.or(doc_dir).unwrap_or_else(cwd), String::new()),
        }
    }

    /// Open the built-in browser for `purpose`, with a note saying why if it replaces the system
    /// dialog (also put on the status line).
    pub(crate) fn show_browser(&mut self, purpose: Purpose, note: Option<String>) {
        let (dir, name) = self.suggestion(&purpose);
        let mut b = Browser::new(purpose, dir, name);
        if let Some(n) = &note {
            self.set_status(n.clone(), false);
        }
        b.note = note;
        self.browser = Some(b);
    }

    fn close_browser(&mut self, purpose: Purpose) {
        if self.browser.as_ref().is_some_and(|b| b.purpose == purpose) {
            self.browser = None;
        }
    }

    fn apply_browser(&mut self, action: BrowserAction) {
        let Some(b) = self.browser.as_mut() else { return };
        match action {
            BrowserAction::Up => {
                if let Some(parent) = b.dir.parent() {
                    let parent = parent.to_path_buf();
                    b.cd(parent);
                }
            }
            BrowserAction::DirText(t) => b.dir_text = t,
            BrowserAction::Filter(f) => b.filter = f,
            BrowserAction::Name(n) => b.name = n,
            BrowserAction::Select(i) => b.selected = i,
            BrowserAction::Close => self.browser = None,
            BrowserAction::Pick(path) => {
                // A relative path is taken from the folder shown.
                let path = if path.is_absolute() { path } else { b.dir.join(path) };
                if path.is_dir() {
                    b.cd(path);
                    self.settings.last_dir = Some(b.dir.clone());
                    return;
                }
                let saves = b.purpose.saves();
                let usable = if saves { path.parent().is_some_and(Path::is_dir) } else { path.is_file() };
                if !usable {
                    b.error = Some(format!("{}: no such {}", path.display(), if saves { "folder" } else { "file" }));
                    return;
                }
                let purpose = b.purpose.clone();
                self.settings.last_dir = path.parent().map(Path::to_path_buf);
                self.browser = None;
                let r = match purpose {
                    Purpose::Open => DialogResult::Open(vec![path]),
                    Purpose::Export(id, t, f) => DialogResult::Export(id, t, f, path),
                    Purpose::Dump(id) => DialogResult::Dump(id, path),
                    Purpose::Compare(id) => DialogResult::Compare(id, path),
                };
                self.dialog_done(r);
            }
        }
    }

    /// Diff document `doc` against the file at `path`, opening it first if needed.
    pub(crate) fn compare_with_file(&mut self, doc: DocId, path: PathBuf) {
        if self.doc(doc).is_none() {
            return;
        }
        let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let open = self.docs.iter().find(|d| {
            d.id != doc
                && !d.core.name.contains('(')
                && std::fs::canonicalize(&d.core.path).unwrap_or_else(|_| d.core.path.clone()) == canon
        });
        match open {
            Some(other) => {
                let other = other.id;
                self.active = Some(doc);
                self.apply(Action::Diff(DiffAction::With(other)));
            }
            None => {
                let id = self.alloc_id();
                self.set_status(format!("Opening {} to compare with it…", path.display()), false);
                self.loads.push(LoadJob::start(id, path, false, Some(self.waker())));
                self.compare_after_load = Some((id, doc));
            }
        }
    }

    fn export_dialog(&mut self, t: TableId, format: ExportFormat) {
        let Some(doc) = self.active_doc() else { return };
        let id = doc.id;
        self.pick(Purpose::Export(id, t, format));
    }

    pub(crate) fn finish_load(&mut self, job: LoadJob, result: Result<DocCore, String>) {
        match result {
            // A live Process document read again: the new reading replaces it in place.
            Ok(core) if self.doc(job.id).is_some() => {
                if let Some(doc) = self.doc_mut(job.id) {
                    doc.replace_core(core);
                }
            }
            Ok(mut core) => {
                // A module opened from a Process document: linked to its memory, and verified.
                let linked = job.link.is_some();
                if linked {
                    core.memory = job.link.clone();
                }
                let from_member = core.name.contains('(');
                if !from_member {
                    self.settings.add_recent(&core.path);
                }
                let becomes_active = job.activate || (self.active.is_none() && !self.loads.iter().any(|j| j.activate));
                let remembered = if from_member { None } else { self.settings.view_for(&core.path) };
                let view = match self.initial_view {
                    Some(v) if becomes_active => {
                        self.initial_view = None;
                        v
                    }
                    _ => remembered.unwrap_or(View::Overview),
                };
                let view = if linked { View::Verify } else { job.view.unwrap_or(view) };
                let view = if views::applies(&core, view) { view } else { crate::gui::process::home(&core) };
                let doc = Document::new(job.id, Arc::new(core), view);
                // A new document may be a DLL another document's plan was missing, or an input (or
                // the image to compare with) of a link: those views compute again when shown.
                for d in &mut self.docs {
                    d.forget_open_set_results();
                }
                let pos = self.docs.partition_point(|d| d.id < job.id);
                self.docs.insert(pos, doc);
                if becomes_active {
                    if let (Some(here), true) = (self.here(), self.active.is_some()) {
                        self.history.push(here);
                    }
                    self.active = Some(job.id);
                }
                if let Some((waiting, src)) = self.compare_after_load {
                    if waiting == job.id {
                        self.compare_after_load = None;
                        if self.doc(src).is_some() {
                            self.active = Some(src);
                            self.apply(Action::Diff(DiffAction::With(waiting)));
                        }
                    }
                }
                if let Some((waiting, src, row)) = self.follow_after_load {
                    if waiting == job.id {
                        self.follow_after_load = None;
                        self.active = Some(src);
                        self.follow_import(row);
                    }
                }
                if linked {
                    self.verify_start(job.id);
                }
            }
            Err(e) => {
                self.set_status(format!("{}: {e}", job.path.display()), true);
                self.load_errors.push((job.path, e));
            }
        }
    }

    fn close(&mut self, id: DocId) {
        let Some(pos) = self.docs.iter().position(|d| d.id == id) else { return };
        let doc = self.docs.remove(pos);
        if !doc.core.name.contains('(') {
            self.settings.set_view_for(&doc.core.path, doc.view);
        }
        self.history.forget(id);
        if self.active == Some(id) {
            self.active = self.docs.get(pos).or_else(|| self.docs.last()).map(|d| d.id);
        }
        for d in &mut self.docs {
            d.forget_open_set_results();
        }
    }

    /// Where the user is now.
    pub fn here(&self) -> Option<Place> {
        let doc = self.active_doc()?;
        let row = doc.current_table().and_then(|t| doc.table(t).selected.map(|r| (t, r)));
        Some(Place { doc: doc.id, view: doc.view, row, bytes: doc.hex.selection, comdat: doc.comdat_selected })
    }

    fn restore(&mut self, place: &Place) {
        self.active = Some(place.doc);
        let opts = self.model_opts();
        let Some(doc) = self.doc_mut(place.doc) else { return };
        doc.view = place.view;
        if let Some((t, row)) = place.row {
            if t.view() == View::Sections {
                doc.sections_table = t;
            }
            let _ = opts;
            let state = doc.table_mut(t);
            state.selected = Some(row);
            state.scroll_to.set(Some(row));
        }
        doc.hex.selection = place.bytes;
        if let Some(span) = place.bytes {
            doc.hex.scroll_to.set(Some(span.offset));
        }
        doc.comdat_selected = place.comdat;
        doc.comdat_scroll.set(place.comdat.is_some());
    }

    fn navigate(&mut self, doc: Option<DocId>, target: Target) {
        let Some(id) = doc.or(self.active) else { return };
        if self.doc(id).is_none() {
            return;
        }
        let before = self.here();
        if self.go(id, target) {
            self.active = Some(id);
            if let Some(here) = before {
                if self.here().as_ref() != Some(&here) {
                    self.history.push(here);
                }
            }
        }
    }

    /// Move document `id` to `target`; false when the target does not exist.
    fn go(&mut self, id: DocId, target: Target) -> bool {
        let opts = self.model_opts();
        let Some(doc) = self.doc(id) else { return false };
        let (core, results) = (doc.core.clone(), doc.results.clone());
        match target {
            Target::View(v) => {
                if !views::applies(&core, v) {
                    return false;
                }
                if let Some(d) = self.doc_mut(id) {
                    d.view = v;
                }
                self.settings.set_view_for(&core.path, v);
                true
            }
            Target::Row(t, row) => {
                let model = views::model(&core, &results, t, opts);
                let (span, len) = (model.row_span(row), model.len());
                drop(model);
                if row >= len {
                    return false;
                }
                let Some(d) = self.doc_mut(id) else { return false };
                d.view = t.view();
                if t.view() == View::Sections {
                    d.sections_table = t;
                }
                // Make sure the row is shown: drop a filter that hides it.
                let hidden = d.table(t).position_of(row, len).is_none();
                if hidden {
                    let s = d.table_mut(t);
                    s.filter.clear();
                    s.facets.clear();
                    s.order = None;
                    s.generation += 1;
                    if let Some(old) = s.pending.take() {
                        old.job.cancel();
                    }
                    let sort = s.sort.is_some();
                    if sort {
                        self.refresh_order(id, t);
                    }
                }
                let Some(d) = self.doc_mut(id) else { return false };
                let s = d.table_mut(t);
                s.selected = Some(row);
                s.scroll_to.set(Some(row));
                if let Some(span) = span {
                    d.hex.selection = Some(span);
                    d.hex.scroll_to.set(Some(span.offset));
                }
                true
            }
            Target::Bytes(span) => {
                let Some(d) = self.doc_mut(id) else { return false };
                if span.offset >= d.core.data.len() as u64 {
                    return false;
                }
                d.view = View::Hex;
                d.hex.selection = Some(span);
                d.hex.scroll_to.set(Some(span.offset));
                true
            }
            Target::Rva(rva, len) => {
                match core.index.rva_span(rva, len, &core.bin) {
                    Some(span) => self.go(id, Target::Bytes(span)),
                    None => {
                        let sec = core.index.section_pos_by_rva(rva).and_then(|p| core.bin.sections.get(p));
                        match sec {
                            Some(s) => {
                                self.set_status(format!("RVA {rva:#x} is in {}, which has no bytes in the file there; showing the section", s.name), false);
                                let index = s.index;
                                self.go(id, Target::Section(index))
                            }
                            None => {
                                self.set_status(format!("RVA {rva:#x} is not inside any section"), true);
                                false
                            }
                        }
                    }
                }
            }
            Target::Section(index) => match core.index.section_pos(index) {
                Some(p) => self.go(id, Target::Row(TableId::Sections, p)),
                None => false,
            },
            Target::Comdat(section) => {
                let Some(d) = self.doc_mut(id) else { return false };
                d.view = View::Comdats;
                d.comdat_selected = Some(section);
                d.comdat_scroll.set(true);
                if let Some(s) = core.index.section_pos(section).and_then(|p| core.bin.sections.get(p)) {
                    d.hex.selection = Some(s.header_span);
                }
                true
            }
        }
    }

    fn goto(&mut self, text: &str) {
        let Some(doc) = self.active_doc() else {
            self.set_status("Open a file first", true);
            return;
        };
        let core = doc.core.clone();
        let in_disasm = doc.view == View::Disassembly;
        match nav::resolve(text, &core) {
            Ok(r) => {
                // In the disassembly, an address inside code lands on its instruction.
                let insn = in_disasm.then(|| nav::instruction_row(&core, &r)).flatten();
                let target = match (r.offset, r.section) {
                    _ if insn.is_some() => Target::Row(TableId::Disasm, insn.unwrap_or_default()),
                    (Some(off), _) => {
                        let span = core
                            .regions()
                            .leaf_at(off)
                            .filter(|l| l.span.offset == off)
                            .map_or(Span::new(off, 1), |l| l.span);
                        Target::Bytes(span)
                    }
                    (None, Some(sec)) => Target::Section(sec),
                    (None, None) => {
                        self.set_status(r.message.clone(), true);
                        return;
                    }
                };
                self.set_status(format!("Go to: {}", r.message), false);
                self.last_goto = Some(r);
                self.goto_open = false;
                self.navigate(None, target);
            }
            Err(e) => {
                self.last_goto = None;
                self.set_status(format!("Go to: {e}"), true);
                // The prompt stays open with its text and keeps the keyboard, to correct it.
                self.focus_goto.set(true);
            }
        }
    }

    pub(crate) fn select_row(&mut self, t: TableId, row: Option<usize>) {
        let opts = self.model_opts();
        let Some(doc) = self.active_mut() else { return };
        let span = row.and_then(|r| views::model(&doc.core, &doc.results, t, opts).row_span(r));
        doc.table_mut(t).selected = row;
        if let Some(span) = span {
            doc.hex.selection = Some(span);
            doc.hex.scroll_to.set(Some(span.offset));
        }
    }

    fn update_table(&mut self, t: TableId, f: impl FnOnce(&mut table::TableState)) {
        let Some(id) = self.active else { return };
        let Some(doc) = self.doc_mut(id) else { return };
        f(doc.table_mut(t));
        self.refresh_order(id, t);
    }

    /// Recompute the display order of table `t` of document `id` (on a worker thread for big tables).
    pub fn refresh_order(&mut self, id: DocId, t: TableId) {
        let opts = self.model_opts();
        let waker = self.waker();
        let Some(doc) = self.doc_mut(id) else { return };
        let (core, results) = (doc.core.clone(), doc.results.clone());
        let model = views::model(&core, &results, t, opts);
        let spec = doc.table(t).spec(&model.facets());
        let len = model.len();
        let state = doc.table_mut(t);
        state.generation += 1;
        if let Some(old) = state.pending.take() {
            old.job.cancel();
        }
        if spec.is_identity() {
            state.order = None;
            return;
        }
        if len <= SYNC_ORDER_LIMIT {
            state.order = table::compute_order(model.as_ref(), &spec, &|| false).map(Arc::new);
            return;
        }
        drop(model);
        let generation = state.generation;
        let job = Job::spawn("table order", Some(waker), move |cx| {
            let model = views::model(&core, &results, t, opts);
            table::compute_order(model.as_ref(), &spec, &|| cx.cancelled())
        });
        state.pending = Some(PendingOrder { generation, job });
    }

    fn export(&mut self, t: TableId, format: ExportFormat, path: &Path) {
        let Some(doc) = self.active_doc() else { return };
        let (n, text) = {
            let model = views::model(&doc.core, &doc.results, t, self.model_opts());
            let state = doc.table(t);
            let n = state.shown(model.len());
            let rows = (0..n).filter_map(|p| state.row_at(p));
            let text = match format {
                ExportFormat::Csv => table::to_csv(model.as_ref(), rows),
                ExportFormat::Json => table::to_json(model.as_ref(), rows),
            };
            (n, text)
        };
        match write_atomically(path, text.as_bytes()) {
            Ok(()) => {
                self.set_status(format!("Exported {n} rows to {}", path.display()), false);
                self.last_export = Some(path.to_path_buf());
                self.export_prompt = None;
            }
            Err(e) => self.set_status(format!("Could not write {}: {e}", path.display()), true),
        }
    }

    fn follow_import(&mut self, row: usize) {
        let Some(doc) = self.active_doc() else { return };
        let Some((_, module, entry)) = views::imports::import_at(&doc.core, row) else { return };
        let dll = module.dll.to_ascii_lowercase();
        let (name, ordinal) = (entry.name.clone(), entry.ordinal);
        let label = format!("{}!{}", module.dll, super::regions::import_name(entry));
        let src = doc.id;
        let src_path = doc.core.path.clone();
        let target = self.docs.iter().find(|d| d.id != src && d.core.file_name_lower() == dll);
        match target {
            Some(t) => {
                let pos = match (&name, ordinal) {
                    (Some(n), _) => t.core.index.export_by_name.get(n).copied(),
                    (None, Some(o)) => t.core.bin.exports.iter().position(|e| e.ordinal == u32::from(o)),
                    _ => None,
                };
                let tid = t.id;
                match pos {
                    Some(p) => {
                        // The export's ordinal, not its row.
                        let ordinal = t.core.bin.exports.get(p).map_or(0, |e| e.ordinal);
                        self.navigate(Some(tid), Target::Row(TableId::Exports, p));
                        self.set_status(format!("{label} → export #{ordinal} of {}", module_name(&dll)), false);
                    }
                    None => {
                        self.navigate(Some(tid), Target::View(View::Exports));
                        self.set_status(format!("{} is open but does not export {label}", module_name(&dll)), true);
                    }
                }
            }
            None => {
                let sibling = src_path.parent().map(|d| d.join(&module.dll)).filter(|p| p.is_file());
                let sibling = sibling.or_else(|| {
                    let dir = src_path.parent()?;
                    std::fs::read_dir(dir)
                        .ok()?
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().to_ascii_lowercase() == dll))
                });
                match sibling {
                    Some(path) => {
                        let id = self.alloc_id();
                        self.set_status(format!("Opening {} to follow {label}…", path.display()), false);
                        self.loads.push(LoadJob::start(id, path, false, Some(self.waker())));
                        self.follow_after_load = Some((id, src, row));
                    }
                    None => self.set_status(
                        format!("{label}: {} is not open (open it to follow imports into it)", module.dll),
                        true,
                    ),
                }
            }
        }
    }

    fn follow_export(&mut self, row: usize) {
        let Some(doc) = self.active_doc() else { return };
        let Some(e) = doc.core.bin.exports.get(row) else { return };
        let me = doc.core.file_name_lower();
        let src = doc.id;
        let (name, ordinal) = (e.name.clone(), e.ordinal);
        let mut hits = Vec::new();
        for d in self.docs.iter().filter(|d| d.id != src) {
            for (r, _) in d.core.index.imports.iter().enumerate() {
                let Some((_, m, ie)) = views::imports::import_at(&d.core, r) else { continue };
                if m.dll.to_ascii_lowercase() != me {
                    continue;
                }
                let same = match (&ie.name, &name) {
                    (Some(a), Some(b)) => a == b,
                    _ => ie.ordinal.map(u32::from) == Some(ordinal),
                };
                if same {
                    hits.push((d.id, d.core.name.clone(), r));
                }
            }
        }
        let label = name.unwrap_or_else(|| format!("#{ordinal}"));
        match hits.first() {
            Some((id, file, r)) => {
                let (id, file, r) = (*id, file.clone(), *r);
                self.navigate(Some(id), Target::Row(TableId::Imports, r));
                let more =
                    if hits.len() > 1 { format!(" (imported by {} open files)", hits.len()) } else { String::new() };
                self.set_status(format!("{label} is imported by {file}{more}"), false);
            }
            None => self.set_status(format!("No open file imports {label} from {me}"), true),
        }
    }

    fn follow_symbol(&mut self, name: &str) {
        let Some(src) = self.active else { return };
        let mut found = None;
        for d in self.docs.iter().filter(|d| d.id != src) {
            if let Some(&p) = d.core.index.export_by_name.get(name) {
                found = Some((d.id, d.core.name.clone(), Target::Row(TableId::Exports, p)));
                break;
            }
            let sym = d.core.bin.symbols.iter().position(|s| {
                s.name == name && s.section.is_some() && !matches!(s.binding, Binding::Local | Binding::Static)
            });
            if let Some(p) = sym {
                found = Some((d.id, d.core.name.clone(), Target::Row(TableId::Symbols, p)));
                break;
            }
        }
        match found {
            Some((id, file, target)) => {
                self.navigate(Some(id), target);
                self.set_status(format!("{name} is defined in {file}"), false);
            }
            None => self.set_status(format!("No other open file defines {name}"), true),
        }
    }

    fn open_member(&mut self, i: usize) {
        let Some(doc) = self.active_doc() else { return };
        let Some(m) = doc.core.bin.members.get(i) else { return };
        let span = member_data_span(&doc.core.bin, &doc.core.data, m);
        let (s, e) =
            (usize::try_from(span.offset).unwrap_or(usize::MAX), usize::try_from(span.end()).unwrap_or(usize::MAX));
        let Some(bytes) = doc.core.data.get(s..e.min(doc.core.data.len())) else {
            self.set_status(format!("member {} lies outside the file", m.member_name), true);
            return;
        };
        let name = format!("{}({})", doc.core.name, m.member_name);
        let (path, data) = (doc.core.path.clone(), bytes.to_vec());
        let id = self.alloc_id();
        self.loads.push(LoadJob::start_bytes(id, path, name, data, true, Some(self.waker())));
    }

    /// Open an already-built document (tests, benchmarks, synthetic models) and make it active.
    pub fn add_core(&mut self, core: DocCore, view: View) -> DocId {
        let id = self.alloc_id();
        self.docs.push(Document::new(id, Arc::new(core), view));
        self.active = Some(id);
        id
    }

    /// Document ids in tab order.
    pub fn doc_ids(&self) -> Vec<DocId> {
        self.docs.iter().map(|d| d.id).collect()
    }

    /// The current display options, for building models outside the app.
    pub fn opts(&self) -> ModelOpts {
        self.model_opts()
    }
}

fn module_name(lower: &str) -> String {
    lower.to_string()
}

pub use crate::input::write_atomically;
