//! Process documents: a minidump or an ELF core opened (File → Open, a drop, the command line)
//! lists the process's modules and memory ranges; each module opens as an image document linked
//! to its memory ([`MemoryLink`]), whose Verify view checks and explains it against the dump.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::model::dump::DumpModule;
use crate::model::{Binary, Format};
use crate::session::dump::OpenedDump;
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

/// What a Process document shows: the dump (mapped, shared with the modules opened from it) and
/// its modules.
pub struct ProcessData {
    /// The dump.
    pub dump: Arc<OpenedDump>,
    /// Its modules, in the dump's order.
    pub modules: Vec<ModuleRow>,
}

impl std::fmt::Debug for ProcessData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessData").field("path", &self.dump.path).field("modules", &self.modules.len()).finish()
    }
}

/// An image document's link to its module's memory in a process: the Verify view compares the
/// two, and the layout map draws the explanation.
pub struct MemoryLink {
    /// The dump holding the memory.
    pub dump: Arc<OpenedDump>,
    /// The module.
    pub module: DumpModule,
    /// The Process document it was opened from.
    pub process: DocId,
    /// The latest verification (the layout map's "memory vs file" lane reads it).
    pub latest: Mutex<Option<Arc<super::verify::VerifyData>>>,
}

impl std::fmt::Debug for MemoryLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLink").field("dump", &self.dump.path).field("module", &self.module.name).finish()
    }
}

impl MemoryLink {
    /// The latest verification, if one finished.
    pub fn latest(&self) -> Option<Arc<super::verify::VerifyData>> {
        self.latest.lock().ok().and_then(|l| l.clone())
    }

    /// The process's name for titles: the dump's file name.
    pub fn process_name(&self) -> String {
        crate::session::analyzed::display_name(&self.dump.path)
    }
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
    let mut bin = Binary::new(Format::ProcessDump, len);
    if let Some(a) = &d.arch {
        bin.arch = a.clone();
    }
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
    core.process = Some(Arc::new(ProcessData { dump: Arc::new(dump), modules }));
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
            d.core.memory.as_ref().is_some_and(|l| Arc::ptr_eq(&l.dump, &p.dump) && l.module.base == m.module.base)
        }) {
            let id = open.id;
            self.apply(super::Action::ActivateDoc(id));
            return;
        }
        if let Some(reason) = p.dump.dump.diagnostics.first() {
            self.set_status(
                format!("{}: the dump is damaged ({reason}); its modules are not verified", p.dump.path.display()),
                true,
            );
            return;
        }
        let link =
            Arc::new(MemoryLink { dump: p.dump.clone(), module: m.module.clone(), process, latest: Mutex::new(None) });
        let id = self.alloc_id();
        let wake = Some(self.waker());
        let mut job = match &m.file {
            Some(f) => LoadJob::start(id, f.clone(), true, wake),
            None => {
                let image = crate::session::dump::ModuleImage::module_image(p.dump.as_ref(), &m.module)
                    .and_then(crate::formats::dump::pe_file_from_memory);
                let Some(bytes) = image else {
                    self.set_status(
                        format!(
                            "{}: its file is not at hand (not at {} nor beside the dump), and the dump does not hold a PE image of it to read",
                            m.module.name, m.module.path
                        ),
                        true,
                    );
                    return;
                };
                let path = p.dump.path.with_file_name(&m.module.name);
                let name = format!("{} (from the dump)", m.module.name);
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
