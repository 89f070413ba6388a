//! Loading off the UI thread: read the file in chunks (progress, cancel), parse it into the model,
//! build the GUI's indexes, and hand the finished [`DocCore`] back through a channel.

use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui;

use super::document::{DocCore, DocId};

const CHUNK: usize = 1 << 20;

/// What a load is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading bytes from disk.
    Reading,
    /// Parsing the format into the model.
    Parsing,
    /// Building the structure index and lookups.
    Indexing,
}

/// Progress shared between the loader thread and the UI.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    phase: AtomicU8,
}

impl Progress {
    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::Reading,
            1 => Phase::Parsing,
            _ => Phase::Indexing,
        }
    }
    /// Fraction of the bytes read (1.0 once reading is done).
    pub fn fraction(&self) -> f32 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.done.load(Ordering::Relaxed) as f64 / total as f64) as f32
    }
    fn set_phase(&self, p: Phase) {
        self.phase.store(p as u8, Ordering::Relaxed);
    }
}

/// A file being loaded.
#[derive(Debug)]
pub struct LoadJob {
    /// The id the document will get.
    pub id: DocId,
    /// The file.
    pub path: PathBuf,
    /// Tab title.
    pub name: String,
    /// Whether to make the document active when it arrives.
    pub activate: bool,
    /// Progress.
    pub progress: Arc<Progress>,
    cancel: Arc<AtomicBool>,
    rx: Receiver<Result<DocCore, String>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The name shown for `path`.
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

impl LoadJob {
    /// Start reading `path` on a new thread; `ctx` (if any) is asked to repaint when done.
    pub fn start(id: DocId, path: PathBuf, activate: bool, ctx: Option<egui::Context>) -> Self {
        let name = display_name(&path);
        Self::spawn(id, path, name, None, activate, ctx)
    }

    /// Start parsing bytes already in memory (an archive member) on a new thread.
    pub fn start_bytes(
        id: DocId,
        path: PathBuf,
        name: String,
        data: Vec<u8>,
        activate: bool,
        ctx: Option<egui::Context>,
    ) -> Self {
        Self::spawn(id, path, name, Some(data), activate, ctx)
    }

    fn spawn(
        id: DocId,
        path: PathBuf,
        name: String,
        data: Option<Vec<u8>>,
        activate: bool,
        ctx: Option<egui::Context>,
    ) -> Self {
        let progress = Arc::new(Progress::default());
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let (p, c, path2, name2) = (progress.clone(), cancel.clone(), path.clone(), name.clone());
        let spawned = std::thread::Builder::new().name(format!("load {name}")).spawn(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| load(&path2, name2, data, &p, &c)))
                .unwrap_or_else(|_| Err("internal error while reading this file (the reader panicked)".into()));
            if !c.load(Ordering::Relaxed) {
                let _ = tx.send(result);
            }
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        match spawned {
            Ok(thread) => LoadJob { id, path, name, activate, progress, cancel, rx, thread: Some(thread) },
            Err(e) => {
                let (tx, rx2) = mpsc::channel();
                let _ = tx.send(Err(format!("could not start a loader thread: {e}")));
                LoadJob { id, path, name, activate, progress, cancel, rx: rx2, thread: None }
            }
        }
    }

    /// Ask the thread to stop; its result will be dropped.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The result, if it has arrived.
    pub fn poll(&self) -> Option<Result<DocCore, String>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err("the loader stopped without a result".into())),
        }
    }

    /// Wait up to `timeout` for the result.
    ///
    /// Once the result is in, the loader thread is joined, so its last act (asking the UI to
    /// repaint) has happened when this returns: a headless caller sees a settled UI.
    pub fn wait(&mut self, timeout: Duration) -> Option<Result<DocCore, String>> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => {
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
                Some(r)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Err("the loader stopped without a result".into())),
        }
    }
}

fn load(
    path: &Path,
    name: String,
    data: Option<Vec<u8>>,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<DocCore, String> {
    let data = match data {
        Some(d) => {
            progress.total.store(d.len() as u64, Ordering::Relaxed);
            progress.done.store(d.len() as u64, Ordering::Relaxed);
            d
        }
        None => read_chunked(path, progress, cancel)?,
    };
    progress.set_phase(Phase::Parsing);
    let bin = crate::load(&data).map_err(|e| e.to_string())?;
    if cancel.load(Ordering::Relaxed) {
        return Err("cancelled".into());
    }
    progress.set_phase(Phase::Indexing);
    Ok(DocCore::new(path.to_path_buf(), name, data, bin))
}

fn read_chunked(path: &Path, progress: &Progress, cancel: &AtomicBool) -> Result<Vec<u8>, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    progress.total.store(len, Ordering::Relaxed);
    let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut buf = vec![0u8; CHUNK];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err("cancelled".into());
        }
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        progress.done.store(data.len() as u64, Ordering::Relaxed);
    }
    Ok(data)
}
