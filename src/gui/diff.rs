//! The Diff view's state: a diff of this document against another open document, or of two
//! memory images of it (the Patch view's before / after, or its prediction against a dump),
//! computed on a worker thread.

use std::path::PathBuf;
use std::sync::{mpsc, Arc};

use super::document::DocCore;
use crate::diff::{self, Diff, Limits, Side};

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
    pub job: Option<mpsc::Receiver<DiffResult>>,
    /// The last diff.
    pub result: Option<DiffResult>,
}

fn side<'a>(core: &'a DocCore, bytes: &'a [u8]) -> Side<'a> {
    Side {
        bin: Some(&core.bin),
        data: bytes,
        file: &core.data,
        index: Some(&core.lookup.index),
        regions: Some(&core.regions),
        refs: Some(&core.refs),
    }
}

fn spawn(f: impl FnOnce() -> DiffResult + Send + 'static) -> mpsc::Receiver<DiffResult> {
    let (tx, rx) = mpsc::channel();
    let _ = std::thread::Builder::new().name("diff".into()).spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// Diff document `a` against document `b`, by file offset.
pub fn start_files(a: Arc<DocCore>, b: Arc<DocCore>) -> mpsc::Receiver<DiffResult> {
    spawn(move || {
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
) -> mpsc::Receiver<DiffResult> {
    spawn(move || {
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
        let b = Side { bin: None, data: &after, file: &[], index: None, regions: None, refs: None };
        let d = diff::diff_memory(side(&a, &before), b, Limits::default());
        Ok(Arc::new(DiffData { diff: d, label, a: Bytes::Owned(before), b: Bytes::Owned(after) }))
    })
}
