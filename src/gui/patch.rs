//! The Patch view's state: which scheme and bases, which steps are off, the plan computed on a
//! worker thread from the open DLLs (or those beside the image), and a loaded memory dump.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};

use super::document::DocCore;
use crate::model::index::Index;
use crate::patch::verify::Verification;
use crate::patch::{self, DllInput, PatchOptions, PatchPlan, SchemeKind};

/// Where the DLLs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// Their preferred bases.
    #[default]
    Preferred,
    /// Right after the image (within 2 GiB).
    Near,
    /// More than 4 GiB above the image (x64; i386: as high as a 32-bit process allows).
    Far,
    /// At the image's own base: the loader has to move them.
    Collide,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [Preset::Preferred, Preset::Near, Preset::Far, Preset::Collide];
    /// Button label.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Preferred => "Preferred",
            Preset::Near => "Near",
            Preset::Far => "Far (> 4 GiB away)",
            Preset::Collide => "Collide with the image",
        }
    }
}

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
    pub job: Option<mpsc::Receiver<JobResult>>,
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

/// Compute a plan for `core` with `dlls` (open documents first, then files beside the image),
/// on a worker thread; `dump` is verified when given.
pub fn start(
    core: Arc<DocCore>,
    open: Vec<Arc<DocCore>>,
    st: &PatchState,
    dump: Option<PathBuf>,
) -> mpsc::Receiver<JobResult> {
    let (tx, rx) = mpsc::channel();
    let (scheme, preset, disabled, typed) = (st.scheme, st.preset, st.disabled.clone(), st.typed.clone());
    let _ = std::thread::Builder::new().name("patch plan".into()).spawn(move || {
        let result = compute(&core, &open, Inputs { scheme, preset, disabled, typed });
        let verification = match (&result, dump) {
            (Ok(plan), Some(path)) => Some(read_dump(&path).and_then(|d| {
                patch::verify::check_dump_len(d.len(), plan.patched.len()).map_err(|e| e.to_string())?;
                Ok(patch::verify::verify(plan, &core.bin, Some(&core.refs), &d))
            })),
            (Err(e), Some(_)) => Some(Err(e.clone())),
            _ => None,
        };
        // The view polls while the job runs (a delayed repaint), so no wake-up is needed here.
        let _ = tx.send((result, verification));
    });
    rx
}

/// What the user chose.
struct Inputs {
    scheme: Option<SchemeKind>,
    preset: Preset,
    disabled: BTreeSet<usize>,
    typed: Vec<(String, u64)>,
}

fn compute(core: &DocCore, open: &[Arc<DocCore>], inputs: Inputs) -> PlanResult {
    let Inputs { scheme, preset, disabled, typed } = inputs;
    let names = patch::load::imported_names(&core.bin);
    let mut beside: Vec<(String, Vec<u8>, crate::Binary)> = Vec::new();
    let mut chosen: Vec<&DocCore> = Vec::new();
    for n in &names {
        if let Some(d) = open.iter().find(|d| d.file_name_lower() == n.to_ascii_lowercase()) {
            chosen.push(d);
        } else if let Some(p) = crate::cli::refs::dll_beside(&core.path, n) {
            if let Ok(data) = std::fs::read(&p) {
                if let Ok(bin) = crate::load(&data) {
                    beside.push((p.display().to_string(), data, bin));
                }
            }
        }
    }
    let paths: Vec<String> = chosen.iter().map(|d| d.path.display().to_string()).collect();
    let mut dlls: Vec<DllInput<'_>> =
        chosen.iter().zip(&paths).map(|(d, p)| DllInput { path: p, data: &d.data, bin: &d.bin }).collect();
    dlls.extend(beside.iter().map(|(p, d, b)| DllInput { path: p, data: d, bin: b }));
    let base = core.bin.image_base.unwrap_or(0);
    let size = patch::load::image_size(&core.bin);
    let mut bases = Vec::new();
    let mut at = match preset {
        Preset::Preferred => None,
        Preset::Near => Some((base + size).div_ceil(0x10000) * 0x10000),
        Preset::Far if core.bin.is_64 => Some(base + (8 << 30)),
        Preset::Far => Some(0x7000_0000u64.max(base + size)),
        Preset::Collide => Some(base),
    };
    for d in &dlls {
        let name = names.iter().find(|n| patch::load::dll_name_matches(d, n)).cloned().unwrap_or_default();
        if let Some(&(_, b)) = typed.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            bases.push((name, b));
        } else if let Some(a) = at {
            bases.push((name, a));
            if preset != Preset::Collide {
                at = Some((a + patch::load::image_size(d.bin)).div_ceil(0x10000) * 0x10000);
            }
        }
    }
    // Typed bases of DLLs without a file (their imports stay unresolved).
    for (n, b) in &typed {
        if !n.is_empty() && !bases.iter().any(|(x, _)| x.eq_ignore_ascii_case(n)) {
            bases.push((n.clone(), *b));
        }
    }
    let image_base = typed.iter().find(|(n, _)| n.is_empty()).map(|&(_, b)| b);
    let opts = PatchOptions { scheme, bases, disabled, image_base, image_path: Some(core.path.display().to_string()) };
    let index: &Index = &core.lookup.index;
    let mut plan = patch::plan(&core.bin, &core.data, index, &dlls, &opts).map_err(|e| e.to_string())?;
    patch::insn::annotate(&mut plan, &core.bin, &core.refs, core.names.clone());
    Ok(Arc::new(plan))
}

/// Whether a dropped file is meant as a memory dump of `core` rather than a file to open: its
/// name says so (`.mem`, `.mem.gz`, `.dmp`) or its size is the image's memory size.
pub fn looks_like_dump(core: &DocCore, path: &std::path::Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let size = patch::load::image_size(&core.bin);
    name.ends_with(".mem")
        || name.ends_with(".mem.gz")
        || name.ends_with(".dmp")
        || (size > 0 && std::fs::metadata(path).is_ok_and(|m| m.len() == size))
}

/// A dump file, gunzipped when it is gzip.
pub fn read_dump(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).and_then(patch::verify::dump_bytes).map_err(|e| format!("{}: {e}", path.display()))
}
