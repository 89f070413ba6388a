//! Process documents: a minidump or an ELF core opened (File → Open, a drop, the command line),
//! or a running process (File → Open process…, [`super::live`]), lists the process's modules and
//! memory ranges; each module opens as an image document linked to its memory ([`MemoryLink`]),
//! whose Verify view checks and explains it against the dump or the live process.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::model::dump::{DumpModule, ProcessDump};
use crate::model::{Binary, Format};
use crate::session::dump::{ModuleImage, OpenedDump};
use crate::session::verify::ProcessMemory;
use crate::session::{Analysis, Analyzed, JobCx, Scan};

use super::app::App;
use super::document::{DocCore, DocId, View};
use super::loader::LoadJob;

/// One module of a process, as the Process view lists it.
#[derive(Debug, Clone)]
pub struct ModuleRow {
    /// The module as the dump records it.
    pub module: DumpModule,
    /// Its file, found as the CLI finds it (its recorded path, else its name beside the dump).
    pub file: Option<PathBuf>,
    /// Whether the dump holds every byte of it.
    pub complete: bool,
    /// Bytes of it the dump holds.
    pub held: u64,
}

/// Where a Process document's memory is: a dump file, or a running process.
#[derive(Clone)]
pub enum Source {
    /// A minidump or an ELF core (mapped, shared with the modules opened from it).
    Dump(Arc<OpenedDump>),
    /// A running process, its mappings read (its memory is read by each verification).
    Live(Arc<super::live::Live>),
}

impl Source {
    /// The modules and memory ranges as read (a live process whose mappings were refused: none).
    pub fn dump(&self) -> Option<&ProcessDump> {
        match self {
            Source::Dump(d) => Some(&d.dump),
            Source::Live(l) => l.process.as_ref().map(|p| &p.dump),
        }
    }

    /// The process's memory as a verification reads it (the same source the CLI's `verify
    /// --dump` / `--pid` reads); None when a live process's mappings were refused.
    pub fn memory(&self) -> Option<&dyn ProcessMemory> {
        match self {
            Source::Dump(d) => Some(d.as_ref()),
            Source::Live(l) => l.process.as_ref().map(|p| p as &dyn ProcessMemory),
        }
    }

    /// Whether both are the same dump, or the same running process (read at any time).
    pub fn same(&self, other: &Source) -> bool {
        match (self, other) {
            (Source::Dump(a), Source::Dump(b)) => Arc::ptr_eq(a, b),
            (Source::Live(a), Source::Live(b)) => a.pid == b.pid,
            _ => false,
        }
    }

    /// Its name for titles: the dump's file name, or `name (pid N)`.
    pub fn name(&self) -> String {
        match self {
            Source::Dump(d) => crate::session::analyzed::display_name(&d.path),
            Source::Live(l) => l.title(),
        }
    }

    /// The running process, when it is one.
    pub fn live(&self) -> Option<&super::live::Live> {
        match self {
            Source::Live(l) => Some(l),
            Source::Dump(_) => None,
        }
    }

    /// A module's memory image from its base, when every byte of it is held (read now for a
    /// live process).
    fn module_image(&self, m: &DumpModule) -> Option<Vec<u8>> {
        match self {
            Source::Dump(d) => d.module_image(m),
            Source::Live(l) => l.process.as_ref()?.module_image(m),
        }
    }

    /// Where a module read from memory is said to be: beside the dump, or at its path.
    fn image_path(&self, m: &DumpModule) -> PathBuf {
        match self {
            Source::Dump(d) => d.path.with_file_name(&m.name),
            Source::Live(_) => PathBuf::from(&m.path),
        }
    }
}

/// What a Process document shows: where its memory is, its modules and its memory ranges.
pub struct ProcessData {
    /// The dump or the running process.
    pub source: Source,
    /// Its modules, in the dump's (or `/proc/PID/maps`') order.
    pub modules: Vec<ModuleRow>,
    /// Its memory ranges `(start, size)`: those a dump holds, or a live process's mappings.
    pub ranges: Vec<(u64, u64)>,
}

impl std::fmt::Debug for ProcessData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessData")
            .field("source", &self.source.name())
            .field("modules", &self.modules.len())
            .finish()
    }
}

/// An image document's link to its module's memory in a process: the Verify view compares the
/// two, and the layout map draws the explanation.
pub struct MemoryLink {
    /// The dump or the running process holding the memory.
    pub source: Source,
    /// The module.
    pub module: DumpModule,
    /// The Process document it was opened from.
    pub process: DocId,
    /// The latest verification (the layout map's "memory vs file" lane reads it).
    pub latest: Mutex<Option<Arc<super::verify::VerifyData>>>,
}

impl std::fmt::Debug for MemoryLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLink").field("source", &self.source.name()).field("module", &self.module.name).finish()
    }
}

impl MemoryLink {
    /// The latest verification, if one finished.
    pub fn latest(&self) -> Option<Arc<super::verify::VerifyData>> {
        self.latest.lock().ok().and_then(|l| l.clone())
    }

    /// The process's name for titles: the dump's file name, or `name (pid N)`.
    pub fn process_name(&self) -> String {
        self.source.name()
    }
}

/// The model behind a Process document (it has no file of its own to read): `len` bytes, the
/// process's architecture when its source says.
pub(super) fn process_binary(d: Option<&ProcessDump>, len: u64) -> Binary {
    let mut bin = Binary::new(Format::ProcessDump, len);
    if let Some(a) = d.and_then(|d| d.arch.as_ref()) {
        bin.arch = a.clone();
    }
    bin
}

/// Open the dump at `path` as a Process document (on the loader's thread).
pub fn load(path: PathBuf, name: String, cx: &JobCx) -> Result<DocCore, String> {
    cx.set_stage(1);
    let dump = OpenedDump::open(&path).map_err(|e| e.to_string())?;
    if cx.cancelled() {
        return Err("cancelled".into());
    }
    cx.set_stage(2);
    let d = &dump.dump;
    let modules = d
        .modules
        .iter()
        .map(|m| ModuleRow {
            file: dump.module_file(m),
            complete: d.complete(m.base, m.size),
            held: d.held_bytes(m.base, m.size),
            module: m.clone(),
        })
        .collect();
    let len = std::fs::metadata(&path).map_or(0, |m| m.len());
    let mut bin = process_binary(Some(d), len);
    for n in &d.diagnostics {
        bin.diag(
            crate::model::Severity::Error,
            crate::model::Location::both(None, None),
            format!("{n} (the dump is damaged: its modules are not verified)"),
        );
    }
    let file =
        Analyzed::from_parts(path, name, crate::input::Input::Owned(Vec::new()), bin, &Analysis::scan(Scan::None, 1));
    let mut core = DocCore::new(Arc::new(file));
    let ranges = d.memory.iter().map(|r| (r.start, r.size)).collect();
    core.process = Some(Arc::new(ProcessData { source: Source::Dump(Arc::new(dump)), modules, ranges }));
    Ok(core)
}

impl App {
    /// Open module `row` of the active Process document as an image linked to its memory (its
    /// file as the CLI finds it; a PE module whose file is not at hand from its image in the
    /// dump), or show it when it is open already.
    pub(crate) fn open_module(&mut self, row: usize) {
        let Some(doc) = self.active_doc() else { return };
        let (process, Some(p)) = (doc.id, doc.core.process.clone()) else { return };
        let Some(m) = p.modules.get(row) else { return };
        if let Some(open) = self.docs.iter().find(|d| {
            d.core.memory.as_ref().is_some_and(|l| l.source.same(&p.source) && l.module.base == m.module.base)
        }) {
            let id = open.id;
            self.apply(super::Action::ActivateDoc(id));
            return;
        }
        if let Some(reason) = p.source.dump().and_then(|d| d.diagnostics.first()) {
            self.set_status(
                format!("{}: the dump is damaged ({reason}); its modules are not verified", p.source.name()),
                true,
            );
            return;
        }
        let link = Arc::new(MemoryLink {
            source: p.source.clone(),
            module: m.module.clone(),
            process,
            latest: Mutex::new(None),
        });
        let id = self.alloc_id();
        let wake = Some(self.waker());
        let mut job = match &m.file {
            Some(f) => LoadJob::start(id, f.clone(), true, wake),
            None => {
                let image = p.source.module_image(&m.module).and_then(crate::formats::dump::pe_file_from_memory);
                let Some(bytes) = image else {
                    let (beside, held) = match p.source {
                        Source::Dump(_) => (" nor beside the dump", "the dump does not hold"),
                        Source::Live(_) => ("", "the process's memory does not hold"),
                    };
                    self.set_status(
                        format!(
                            "{}: its file is not at hand (not at {}{beside}), and {held} a PE image of it to read",
                            m.module.name, m.module.path
                        ),
                        true,
                    );
                    return;
                };
                let path = p.source.image_path(&m.module);
                let from = if p.source.live().is_some() { "from its memory" } else { "from the dump" };
                let name = format!("{} ({from})", m.module.name);
                LoadJob::start_bytes(id, path, name, bytes, true, wake)
            }
        };
        job.link = Some(link);
        self.loads.push(job);
    }
}

/// The view a document of `core` shows when none was asked for.
pub fn home(core: &DocCore) -> View {
    if core.process.is_some() {
        View::Process
    } else {
        View::Overview
    }
}
