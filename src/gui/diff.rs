//! The Diff view's state: a diff of this document against another open document, or of two
//! memory images of it (the Patch view's before / after, or its prediction against a dump),
//! computed on a worker thread.

use std::path::PathBuf;
use std::sync::Arc;

use super::action::DiffAction;
use super::app::App;
use super::document::{DocCore, TableId, View};
use crate::diff::{self, Diff, Limits, Side};
use crate::session::{Job, Waker};

/// A finished diff with the bytes of both sides (for the side-by-side bytes).
#[derive(Debug)]
pub struct DiffData {
    /// The diff.
    pub diff: Diff,
    /// What was compared, in words ("autoimport.exe ↔ autoimport-small.exe").
    pub label: String,
    /// The first side's bytes (file, or memory image).
    pub a: Bytes,
    /// The second side's bytes.
    pub b: Bytes,
}

/// Bytes of one side: a document's file, or a memory image.
#[derive(Debug)]
pub enum Bytes {
    /// The file of this document.
    Doc(Arc<DocCore>),
    /// A memory image.
    Owned(Vec<u8>),
}

impl Bytes {
    /// The bytes.
    pub fn get(&self) -> &[u8] {
        match self {
            Bytes::Doc(c) => &c.data,
            Bytes::Owned(v) => v,
        }
    }
}

/// The result of a diff job.
pub type DiffResult = Result<Arc<DiffData>, String>;

/// The Diff view's state of one document.
#[derive(Debug, Default)]
pub struct DiffState {
    /// The diff being computed.
    pub job: Option<Job<DiffResult>>,
    /// The last diff.
    pub result: Option<DiffResult>,
}

fn side<'a>(core: &'a DocCore, bytes: &'a [u8]) -> Side<'a> {
    Side {
        bin: Some(&core.bin),
        data: bytes,
        file: &core.data,
        index: Some(&core.index),
        regions: Some(core.regions()),
        refs: Some(&core.refs),
        pdb: core.pdb.as_deref(),
    }
}

fn spawn(wake: Waker, f: impl FnOnce() -> DiffResult + Send + 'static) -> Job<DiffResult> {
    Job::spawn("diff", Some(wake), move |_| f())
}

/// Diff document `a` against document `b`, by file offset.
pub fn start_files(a: Arc<DocCore>, b: Arc<DocCore>, wake: Waker) -> Job<DiffResult> {
    spawn(wake, move || {
        let d = diff::diff_files(side(&a, &a.data), side(&b, &b.data), Limits::default());
        let label = format!("{} ↔ {}", a.name, b.name);
        Ok(Arc::new(DiffData { diff: d, label, a: Bytes::Doc(a), b: Bytes::Doc(b) }))
    })
}

/// What the second memory image is.
pub enum After {
    /// These bytes (the patch engine's result).
    Bytes(Vec<u8>),
    /// A dump file to read.
    Dump(PathBuf),
}

/// Diff two memory images of document `a` (offset = RVA); `before` None is the file as the
/// loader maps it, before relocating and binding.
pub fn start_memory(
    a: Arc<DocCore>,
    before: Option<Vec<u8>>,
    after: After,
    label: String,
    wake: Waker,
) -> Job<DiffResult> {
    spawn(wake, move || {
        let before = match before {
            Some(b) => b,
            None => crate::patch::load::map(&a.bin, &a.data).map_err(|e| e.to_string())?,
        };
        let after = match after {
            After::Bytes(b) => b,
            After::Dump(p) => super::patch::read_dump(&p)?,
        };
        crate::patch::verify::check_dump_len(after.len(), before.len()).map_err(|e| e.to_string())?;
        let after = after[..before.len()].to_vec();
        let b = Side { bin: None, data: &after, file: &[], index: None, regions: None, refs: None, pdb: None };
        let d = diff::diff_memory(side(&a, &before), b, Limits::default());
        Ok(Arc::new(DiffData { diff: d, label, a: Bytes::Owned(before), b: Bytes::Owned(after) }))
    })
}

impl App {
    /// Apply a Diff view action to the active document.
    pub(crate) fn apply_diff(&mut self, action: DiffAction) {
        match action {
            DiffAction::With(other) => {
                let Some(b) = self.doc(other).map(|d| d.core.clone()) else { return };
                // A process (a dump or a running one) is no file: its modules are.
                let a = self.active_doc().map(|d| d.core.clone());
                if let Some(p) = [a.as_ref(), Some(&b)].into_iter().flatten().find(|c| c.process.is_some()) {
                    let name = p.name.clone();
                    self.set_status(
                        format!("{name} is a process, not a file to compare: open one of its modules and compare that"),
                        true,
                    );
                    return;
                }
                let waker = self.waker();
                if let Some(doc) = self.active_mut() {
                    doc.diff.job = Some(crate::gui::diff::start_files(doc.core.clone(), b, waker));
                    doc.view = View::Diff;
                }
            }
            DiffAction::PatchApply | DiffAction::PatchDump => {
                let dump = matches!(action, DiffAction::PatchDump);
                let waker = self.waker();
                let Some(doc) = self.active_mut() else { return };
                let Some(Ok(plan)) = doc.patch.result.clone() else { return };
                let job = if dump {
                    let Some((path, _)) = doc.patch.dump.as_ref().map(|(p, _)| (p.clone(), ())) else { return };
                    let label = format!("prediction ↔ {}", path.display());
                    let after = crate::gui::diff::After::Dump(path);
                    crate::gui::diff::start_memory(doc.core.clone(), Some(plan.patched.clone()), after, label, waker)
                } else {
                    let label =
                        format!("{}: the file as mapped ↔ after the loader and {}", doc.core.name, plan.scheme.name());
                    let after = crate::gui::diff::After::Bytes(plan.patched.clone());
                    crate::gui::diff::start_memory(doc.core.clone(), None, after, label, waker)
                };
                doc.diff.job = Some(job);
                doc.view = View::Diff;
            }
            DiffAction::Step(forward) => {
                let Some(doc) = self.active_doc() else { return };
                let len = doc.results.diff.as_ref().map_or(0, |d| d.diff.changes.len());
                let st = doc.table(TableId::Diff);
                let shown = st.shown(len);
                if shown == 0 {
                    return;
                }
                let pos = st.selected.and_then(|r| st.position_of(r, len));
                let next = match (pos, forward) {
                    (None, true) => 0,
                    (None, false) => shown - 1,
                    (Some(p), true) => (p + 1).min(shown - 1),
                    (Some(p), false) => p.saturating_sub(1),
                };
                if let Some(row) = st.row_at(next) {
                    self.select_row(TableId::Diff, Some(row));
                }
            }
        }
    }
}
