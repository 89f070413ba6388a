//! Loading off the UI thread: read the file in chunks (progress, cancel), parse it into the model,
//! build the GUI's indexes, and hand the finished [`DocCore`] back (a [`Job`] that wakes the UI).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::session::{Job, JobCx, JobError, Waker};

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

impl Phase {
    fn of(stage: u64) -> Phase {
        match stage {
            0 => Phase::Reading,
            1 => Phase::Parsing,
            _ => Phase::Indexing,
        }
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
    /// The module's memory in a process, for a module opened from a Process document.
    pub link: Option<std::sync::Arc<super::process::MemoryLink>>,
    /// The view the document opens in (None: the remembered or first one).
    pub view: Option<super::View>,
    job: Job<Result<DocCore, String>>,
}

pub use crate::session::analyzed::display_name;

impl LoadJob {
    /// Start reading `path` on a new thread; `wake` is called when it is done.
    pub fn start(id: DocId, path: PathBuf, activate: bool, wake: Option<Waker>) -> Self {
        let name = display_name(&path);
        Self::spawn(id, path, name, None, activate, wake)
    }

    /// Start reading running process `pid` (its mappings, Linux) as a Process document
    /// ([`super::live::load`]); `id` may be that of its document read again.
    pub fn start_process(id: DocId, pid: u32, activate: bool, wake: Option<Waker>) -> Self {
        let path = super::live::proc_path(pid);
        let name = format!("process {pid}");
        let job = Job::spawn(&format!("read {name}"), wake, move |cx| super::live::load(pid, cx));
        LoadJob { id, path, name, activate, link: None, view: None, job }
    }

    /// Start parsing bytes already in memory (an archive member) on a new thread.
    pub fn start_bytes(
        id: DocId,
        path: PathBuf,
        name: String,
        data: Vec<u8>,
        activate: bool,
        wake: Option<Waker>,
    ) -> Self {
        Self::spawn(id, path, name, Some(data), activate, wake)
    }

    fn spawn(
        id: DocId,
        path: PathBuf,
        name: String,
        data: Option<Vec<u8>>,
        activate: bool,
        wake: Option<Waker>,
    ) -> Self {
        let (path2, name2) = (path.clone(), name.clone());
        let job = Job::spawn(&format!("load {name}"), wake, move |cx| load(path2, name2, data, cx));
        LoadJob { id, path, name, activate, link: None, view: None, job }
    }

    /// What the load is doing, and the fraction of the bytes read.
    pub fn progress(&self) -> (Phase, f32) {
        (Phase::of(self.job.cx().stage()), self.job.cx().fraction())
    }

    /// Ask the thread to stop; its result will be dropped.
    pub fn cancel(&self) {
        self.job.cancel();
    }

    /// The result, if it has arrived.
    pub fn poll(&mut self) -> Option<Result<DocCore, String>> {
        self.job.try_take().map(flatten)
    }

    /// Wait up to `timeout` for the result. Once it is in, the loader thread is joined, so its
    /// last act (waking the UI) has happened when this returns: a headless caller sees a settled UI.
    pub fn wait(&mut self, timeout: Duration) -> Option<Result<DocCore, String>> {
        self.job.wait(timeout).map(flatten)
    }
}

fn flatten(r: Result<Result<DocCore, String>, JobError>) -> Result<DocCore, String> {
    match r {
        Ok(r) => r,
        Err(JobError::Panicked(_)) => Err("internal error while reading this file (the reader panicked)".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn load(path: PathBuf, name: String, data: Option<Vec<u8>>, cx: &JobCx) -> Result<DocCore, String> {
    // A minidump or an ELF core (gzip or not) is a Process document: its modules and ranges.
    if data.is_none() && crate::session::dump::is_dump(&path) {
        return super::process::load(path, name, cx);
    }
    let data = match data {
        Some(d) => {
            cx.progress(d.len() as u64, d.len() as u64);
            d
        }
        None => read_chunked(&path, cx)?,
    };
    cx.set_stage(1);
    let bin = crate::load(&data).map_err(|e| e.to_string())?;
    if cx.cancelled() {
        return Err("cancelled".into());
    }
    cx.set_stage(2);
    Ok(DocCore::analyse(path, name, data, bin))
}

fn read_chunked(path: &Path, cx: &JobCx) -> Result<Vec<u8>, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    cx.progress(0, len);
    let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut buf = vec![0u8; CHUNK];
    loop {
        if cx.cancelled() {
            return Err("cancelled".into());
        }
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        cx.progress(data.len() as u64, len);
    }
    Ok(data)
}
