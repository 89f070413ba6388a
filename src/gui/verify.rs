//! The Verify view's state and job: an image linked to its module's memory in a process
//! ([`super::process::MemoryLink`]) checked and explained off the UI thread by
//! `session::verify` — the same calls `verify --explain` makes, so the counts are the CLI's.

use std::sync::Arc;

use crate::patch::explain::{Explanation, Range};
use crate::patch::verify::Verification;
use crate::patch::PatchOptions;
use crate::session::{self, Analysis, Analyzed, Job, JobCx, Scan, Waker};

use super::app::App;
use super::process::MemoryLink;

/// What the job is doing (its stage).
pub const STAGES: [&str; 3] = ["planning the load", "comparing the places", "explaining every byte"];

/// The outcome of a verification: the places compared and the explanation.
#[derive(Debug)]
pub struct VerifyData {
    /// The module's name in the process.
    pub module: String,
    /// Its base (from the dump).
    pub base: u64,
    /// Its size in memory.
    pub size: u64,
    /// Bytes of it the dump holds.
    pub held: u64,
    /// When a live process's memory was read (a snapshot: it may have changed since); None for
    /// a dump.
    pub read_at: Option<std::time::SystemTime>,
    /// The places compared.
    pub verification: Verification,
    /// ELF `JUMP_SLOT`s not yet bound (lazy binding), taken out of the mismatches.
    pub not_yet_bound: u64,
    /// Every differing range with its cause.
    pub explanation: Explanation,
    /// The ranges in RVA order: `(unexplained, index)` into the explanation's lists.
    rows: Vec<(bool, usize)>,
}

impl VerifyData {
    /// The ranges, explained and unexplained together.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Range `row` (in RVA order).
    pub fn range(&self, row: usize) -> Option<&Range> {
        let &(unexplained, i) = self.rows.get(row)?;
        let list = if unexplained { &self.explanation.unexplained } else { &self.explanation.explained };
        list.get(i)
    }

    /// Every range in RVA order.
    pub fn ranges(&self) -> impl Iterator<Item = &Range> {
        (0..self.rows.len()).filter_map(|r| self.range(r))
    }

    /// Whether any byte of `[rva, rva + len)` is unexplained.
    pub fn unexplained_in(&self, rva: u64, len: u64) -> bool {
        let u = &self.explanation.unexplained;
        let i = u.partition_point(|r| r.rva.saturating_add(r.len) <= rva);
        u.get(i).is_some_and(|r| r.rva < rva.saturating_add(len))
    }
}

/// The result a Verify job hands back.
pub type VerifyResult = Result<Arc<VerifyData>, String>;

/// The Verify view's state of one document.
#[derive(Debug, Default)]
pub struct VerifyState {
    /// The last result.
    pub result: Option<VerifyResult>,
    /// The verification being computed.
    pub job: Option<Job<VerifyResult>>,
}

/// Check `file` against its memory in `link`'s process, on a worker thread: the plan with every
/// base from the dump, the places compared, every differing byte explained.
pub fn start(file: Arc<Analyzed>, link: Arc<MemoryLink>, wake: Waker) -> Job<VerifyResult> {
    Job::spawn("verify", Some(wake), move |cx| run(&file, &link, cx))
}

fn run(file: &Analyzed, link: &MemoryLink, cx: &JobCx) -> VerifyResult {
    let src = link.source.memory().ok_or_else(|| {
        let why = link.source.live().and_then(|l| l.refused.clone());
        why.unwrap_or_else(|| format!("{}: its mappings could not be read", link.source.name()))
    })?;
    session::verify::usable(src).map_err(|notes| format!("the dump is damaged: {}", notes.join("; ")))?;
    // The image as the CLI reads it for `verify`: its sites streamed when the places are listed.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let image = file.rescan(&Analysis::scan(Scan::OnDemand, threads));
    let opts = PatchOptions { image_path: Some(file.path.display().to_string()), ..Default::default() };
    cx.set_stage(0);
    cx.progress(0, 3);
    // A live process's memory is read now, by `check_in`.
    let read_at = link.source.live().map(|_| std::time::SystemTime::now());
    let c = session::verify::check_in(&image, src, &link.module, Vec::new(), opts)?;
    if cx.cancelled() {
        return Err("cancelled".into());
    }
    cx.set_stage(1);
    cx.progress(1, 3);
    let explanation = session::verify::explain(&image, &c.plan, &c.modules, &c.memory);
    cx.set_stage(2);
    cx.progress(2, 3);
    let mut rows: Vec<(bool, usize)> = (0..explanation.explained.len())
        .map(|i| (false, i))
        .chain((0..explanation.unexplained.len()).map(|i| (true, i)))
        .collect();
    let rva = |&(u, i): &(bool, usize)| {
        if u {
            explanation.unexplained[i].rva
        } else {
            explanation.explained[i].rva
        }
    };
    rows.sort_by_key(|r| (rva(r), r.0));
    cx.progress(3, 3);
    Ok(Arc::new(VerifyData {
        module: link.module.name.clone(),
        base: c.base,
        size: c.memory.len() as u64,
        held: c.held(),
        read_at,
        verification: c.verification,
        not_yet_bound: c.not_yet_bound,
        explanation,
        rows,
    }))
}

impl App {
    /// Verify the active document against its memory (when it is linked to a process).
    pub(crate) fn verify_run(&mut self) {
        if let Some(id) = self.active {
            self.verify_start(id);
        }
    }

    /// Verify document `id` against its memory (when it is linked to a process).
    pub(crate) fn verify_start(&mut self, id: super::DocId) {
        let waker = self.waker();
        let Some(doc) = self.doc_mut(id) else { return };
        let Some(link) = doc.core.memory.clone() else { return };
        if let Some(old) = doc.verify.job.take() {
            old.cancel();
        }
        doc.verify.job = Some(start(doc.core.file.clone(), link, waker));
    }
}

impl super::Document {
    /// Take a finished verification: the table's rows and the layout map's lane follow it.
    pub(crate) fn take_verify(&mut self, r: VerifyResult) {
        if let Ok(d) = &r {
            self.results.verify = Some(d.clone());
            if let Some(mut latest) = self.core.memory.as_ref().and_then(|l| l.latest.lock().ok()) {
                *latest = Some(d.clone());
            }
            self.reset_table(super::TableId::Verify, true);
        }
        self.verify.result = Some(r);
    }
}
