//! The Patch view's state: which scheme and bases, which steps are off, the plan computed on a
//! worker thread from the open DLLs (or those beside the image), and a loaded memory dump.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::patch::verify::Verification;
use crate::patch::{self, PatchOptions, PatchPlan, SchemeKind};
use crate::session::modules::{self, Folder, ModuleSource};
use crate::session::{self, place, Analyzed, Job, Waker};

use super::action::PatchAction;
use super::app::App;
use super::document::DocCore;

pub use crate::session::place::Preset;

/// The plan result: the plan, or why there is none.
pub type PlanResult = Result<Arc<PatchPlan>, String>;

/// What the worker sends back: the plan, and the verification when a dump was given.
pub type JobResult = (PlanResult, Option<Result<Verification, String>>);

/// The Patch view's state of one document.
#[derive(Debug, Default)]
pub struct PatchState {
    /// The scheme (None: the image's default).
    pub scheme: Option<SchemeKind>,
    /// Where the DLLs go.
    pub preset: Preset,
    /// Steps switched off.
    pub disabled: BTreeSet<usize>,
    /// The last plan.
    pub result: Option<PlanResult>,
    /// The plan being computed.
    pub job: Option<Job<JobResult>>,
    /// A memory dump to verify against, and the verification.
    pub dump: Option<(PathBuf, Result<Verification, String>)>,
    /// Bases typed by the user, by module name ("" = the image); they win over the preset.
    pub typed: Vec<(String, u64)>,
}

impl PatchState {
    /// The base typed for module `name`, if any.
    pub fn typed_base(&self, name: &str) -> Option<u64> {
        self.typed.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|&(_, b)| b)
    }

    /// Set (or, with None, clear) the typed base of module `name`.
    pub fn set_typed(&mut self, name: &str, base: Option<u64>) {
        self.typed.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if let Some(b) = base {
            self.typed.push((name.to_string(), b));
        }
    }
}

/// Compute a plan for `core` on a worker thread, with the DLLs it imports taken from the `open`
/// documents (itself excepted) first, then from the files beside it; `dump` is verified when given.
pub fn start(
    core: Arc<Analyzed>,
    open: Vec<Arc<Analyzed>>,
    st: &PatchState,
    dump: Option<PathBuf>,
    wake: Waker,
) -> Job<JobResult> {
    let (scheme, preset, disabled, mut typed) = (st.scheme, st.preset, st.disabled.clone(), st.typed.clone());
    Job::spawn("patch plan", Some(wake), move |_| {
        // A minidump or core file: the module is found in it, and every base comes from it (the
        // bases typed in the view still win).
        let process = dump.as_deref().filter(|p| session::dump::is_dump(p)).map(|p| in_process(&core, p));
        if let Some(Ok((_, _, bases))) = &process {
            typed.extend(bases.iter().cloned());
        }
        let result = compute(&core, open, Inputs { scheme, preset, disabled, typed });
        let verification = match (&result, dump, process) {
            (Ok(_), Some(_), Some(Err(e))) => Some(Err(e)),
            (Ok(plan), Some(_), Some(Ok((d, m, _)))) => Some(
                d.memory(m.base, m.size.min(plan.patched.len() as u64))
                    .map(|mem| patch::verify::verify_memory(plan, &core.bin, Some(&core.refs), &mem))
                    .map_err(|e| e.to_string()),
            ),
            (Ok(plan), Some(path), None) => Some(read_dump(&path).and_then(|d| {
                patch::verify::check_dump_len(d.len(), plan.patched.len()).map_err(|e| e.to_string())?;
                Ok(patch::verify::verify(plan, &core.bin, Some(&core.refs), &d))
            })),
            (Err(e), Some(_), _) => Some(Err(e.clone())),
            _ => None,
        };
        (result, verification)
    })
}

/// A process dump (minidump or ELF core) `core` is a module of: the dump, the module (by the
/// image's file name, else its headers), and the base of every module in it (the image's as
/// the unnamed one), for the placement.
type InProcess = (session::dump::OpenedDump, crate::model::dump::DumpModule, Vec<(String, u64)>);

fn in_process(core: &Analyzed, path: &std::path::Path) -> Result<InProcess, String> {
    let d = session::dump::OpenedDump::open(path).map_err(|e| e.to_string())?;
    let name = core.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (m, _) = session::dump::find_module(&d.dump, None, &name, &core.data, &|base, size| d.memory(base, size).ok())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let m = m.clone();
    let mut bases: Vec<(String, u64)> = d.dump.modules.iter().map(|x| (x.name.clone(), x.base)).collect();
    bases.push((String::new(), m.base));
    Ok((d, m, bases))
}

/// What the user chose.
struct Inputs {
    scheme: Option<SchemeKind>,
    preset: Preset,
    disabled: BTreeSet<usize>,
    typed: Vec<(String, u64)>,
}

/// The document's DLL placement applied: the modules `file` imports, from the `open` documents
/// (itself excepted) then the files beside it, and where the preset and typed bases put them.
fn placement(
    file: &Analyzed,
    open: Vec<Arc<Analyzed>>,
    preset: Preset,
    typed: &[(String, u64)],
) -> Result<(Vec<modules::Module>, place::Bases), String> {
    let others: Vec<Arc<Analyzed>> = open.into_iter().filter(|o| !std::ptr::eq(o.as_ref(), file)).collect();
    let sources: [&dyn ModuleSource; 2] = [&modules::Open(others), &Folder::beside(&file.path)];
    let modules = modules::gather(&file.bin, Vec::new(), &sources);
    let bases = place::bases(&file.bin, &modules, preset, typed).map_err(|e| e.to_string())?;
    Ok((modules, bases))
}

fn compute(core: &Analyzed, open: Vec<Arc<Analyzed>>, inputs: Inputs) -> PlanResult {
    let Inputs { scheme, preset, disabled, typed } = inputs;
    let (modules, bases) = placement(core, open, preset, &typed)?;
    let opts = PatchOptions {
        scheme,
        bases: bases.dlls,
        disabled,
        image_base: bases.image,
        image_path: Some(core.path.display().to_string()),
    };
    session::plan(core, &modules, &opts).map(Arc::new).map_err(|e| e.to_string())
}

/// Whether a dropped file is meant as a memory dump of `core` rather than a file to open: its
/// name says so (`.mem`, `.mem.gz`, `.dmp`), it is a minidump or core file, or its size is the
/// image's memory size.
pub fn looks_like_dump(core: &Analyzed, path: &std::path::Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let size = patch::load::image_size(&core.bin);
    name.ends_with(".mem")
        || name.ends_with(".mem.gz")
        || name.ends_with(".dmp")
        || session::dump::is_dump(path)
        || (size > 0 && std::fs::metadata(path).is_ok_and(|m| m.len() == size))
}

/// A dump file, gunzipped when it is gzip.
pub fn read_dump(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).and_then(patch::verify::dump_bytes).map_err(|e| format!("{}: {e}", path.display()))
}

impl App {
    /// Apply a Patch view action to the active document.
    pub(crate) fn apply_patch(&mut self, action: PatchAction) {
        match action {
            PatchAction::Run => self.patch_run(),
            PatchAction::Preset(p) => self.placement_change(|st| st.preset = p),
            PatchAction::Scheme(k) => self.patch_change(|st| {
                st.scheme = k;
                st.disabled.clear();
            }),
            PatchAction::Toggle(i) => self.patch_change(|st| {
                if !st.disabled.remove(&i) {
                    st.disabled.insert(i);
                }
            }),
            PatchAction::DumpDialog => {
                let Some(id) = self.active else { return };
                self.pick(crate::gui::browser::Purpose::Dump(id));
            }
            PatchAction::Base(name, text) => {
                let t = text.trim();
                let value = if t.is_empty() { Some(None) } else { crate::analysis::reach::parse_addr(t).map(Some) };
                match value {
                    Some(v) => self.placement_change(|st| st.set_typed(&name, v)),
                    None => self.set_status(format!("{t}: not an address (hex with 0x, or decimal)"), true),
                }
            }
            PatchAction::Dump(path) => {
                if let Some(doc) = self.active_mut() {
                    doc.patch.dump = Some((path, Err("verifying…".into())));
                }
                self.patch_run();
            }
        }
    }

    /// Change the active document's DLL placement: plan again, and scan the sites' reach again
    /// (Data references, Disassembly and the layout map follow the placement too).
    fn placement_change(&mut self, f: impl FnOnce(&mut crate::gui::patch::PatchState)) {
        self.patch_change(f);
        self.rescan();
    }

    /// Scan the active document again with its DLL placement, on a worker thread; the result
    /// replaces the document's analysed file in [`App::poll`].
    fn rescan(&mut self) {
        let open: Vec<Arc<Analyzed>> = self.docs.iter().map(|d| d.core.file.clone()).collect();
        let waker = self.waker();
        let Some(doc) = self.active_mut() else { return };
        let (file, preset, typed) = (doc.core.file.clone(), doc.patch.preset, doc.patch.typed.clone());
        let memory = doc.core.memory.clone();
        if let Some(old) = doc.rescan.take() {
            old.cancel();
        }
        doc.rescan = Some(Job::spawn("rescan", Some(waker), move |_| {
            let (_, bases) = placement(&file, open, preset, &typed)?;
            let mut core = DocCore::prepared(file.rescan(&DocCore::analysis(bases.dlls)));
            core.memory = memory;
            Ok(core)
        }));
    }

    /// Change the active document's Patch inputs and recompute.
    fn patch_change(&mut self, f: impl FnOnce(&mut crate::gui::patch::PatchState)) {
        if let Some(doc) = self.active_mut() {
            f(&mut doc.patch);
        }
        self.patch_run();
    }

    /// Start computing the active document's plan (with the other open documents as DLLs).
    fn patch_run(&mut self) {
        let open: Vec<Arc<Analyzed>> = self.docs.iter().map(|d| d.core.file.clone()).collect();
        let waker = self.waker();
        let Some(doc) = self.active_mut() else { return };
        let dump = doc.patch.dump.as_ref().map(|(p, _)| p.clone());
        doc.patch.job = Some(crate::gui::patch::start(doc.core.file.clone(), open, &doc.patch, dump, waker));
    }
}
