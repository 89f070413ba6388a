//! An image checked against a process's memory, as `verify --dump FILE|--pid N [--explain]` and
//! the app's Verify view both do it: the plan with every base taken from the process, the module's
//! memory, the places compared, and the explanation of every differing byte. Written once here;
//! the faces only print or draw what it returns.

use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::listing::Names;
use crate::model::dump::{DumpModule, ProcessDump};
use crate::model::memory::ModuleMemory;
use crate::patch::explain::{self, Explanation, ImageNames, Inputs, Range};
use crate::patch::verify::Verification;
use crate::patch::{self, DllInput, PatchOptions, PatchPlan, SchemeKind};

use super::dump::{DumpFiles, OpenedDump};
use super::modules::{self, Folder, Module};
use super::Analyzed;

impl ImageNames for Analyzed {
    fn operand_names(&self) -> Option<Arc<Names>> {
        Some(self.names().clone())
    }

    fn function(&self, rva: u64) -> Option<(String, u64)> {
        self.labels().before(rva).map(|(l, _)| (l.name.clone(), l.rva))
    }
}

/// What a process offers a verification: its modules, their memory and their files.
pub trait ProcessMemory {
    /// The modules and memory ranges.
    fn dump(&self) -> &ProcessDump;
    /// `size` bytes of memory from `base`; Err is the message.
    fn memory(&self, base: u64, size: u64) -> Result<ModuleMemory<'_>, String>;
    /// The modules' files, found by the names an image imports.
    fn files(&self) -> DumpFiles<'_>;
    /// The file of the process's executable, when at hand.
    fn executable(&self) -> Option<PathBuf>;
}

impl ProcessMemory for OpenedDump {
    fn dump(&self) -> &ProcessDump {
        &self.dump
    }
    fn memory(&self, base: u64, size: u64) -> Result<ModuleMemory<'_>, String> {
        OpenedDump::memory(self, base, size).map_err(|e| format!("{}: {e}", self.path.display()))
    }
    fn files(&self) -> DumpFiles<'_> {
        OpenedDump::files(self)
    }
    fn executable(&self) -> Option<PathBuf> {
        OpenedDump::executable(self)
    }
}

/// Where a process had its modules: the image's base and every module's by file name, and
/// where their files are.
pub struct InProcess<'a> {
    /// The image's base.
    pub image_base: u64,
    /// Every module's (file name, base).
    pub bases: Vec<(String, u64)>,
    /// The modules' files.
    pub files: DumpFiles<'a>,
}

impl<'a> InProcess<'a> {
    /// `found` in `src`: its base, every module's, their files.
    pub fn of(src: &'a dyn ProcessMemory, found: &DumpModule) -> Self {
        InProcess {
            image_base: found.base,
            bases: src.dump().modules.iter().map(|m| (m.name.clone(), m.base)).collect(),
            files: src.files(),
        }
    }
}

/// The plan of `image` with the DLL files `given`: in a process (`in_process`), the image's base
/// and those of the DLLs it imports come from the process unless `opts` gives them, and the DLL
/// files not given or beside the image from where the process had them. Returns the plan and
/// the DLL files it was given.
pub fn plan_in(
    image: &Analyzed,
    given: Vec<Module>,
    mut opts: PatchOptions,
    in_process: Option<&InProcess<'_>>,
) -> Result<(PatchPlan, Vec<Module>), super::PlanError> {
    let beside = Folder::beside(&image.path);
    let modules = match in_process {
        Some(p) => {
            if opts.image_base.is_none() {
                opts.image_base = Some(p.image_base);
            }
            let given_names: Vec<String> = given.iter().map(module_file_name).collect();
            for name in patch::load::imported_names(&image.bin).into_iter().chain(given_names) {
                let typed = opts.bases.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name));
                if let Some(&(_, b)) = p.bases.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                    if !typed {
                        opts.bases.push((name, b));
                    }
                }
            }
            modules::gather(&image.bin, given, &[&beside, &p.files])
        }
        None => modules::gather(&image.bin, given, &[&beside]),
    };
    let plan = super::plan(image, &modules, &opts)?;
    Ok((plan, modules))
}

/// A module's file name (the last part of its path).
fn module_file_name(m: &Module) -> String {
    let p = m.path();
    p.rsplit(['/', '\\']).next().unwrap_or(&p).to_string()
}

/// The process's executable, when it joins the plan of `image`: a shared object's symbols bind
/// to the executable's copies first, so the executable (its first module: the lowest mapping of
/// a file at offset 0, or /proc/PID/exe) is a DLL of the plan when the image is an ELF shared
/// object and not the executable itself, and was not given (`given_names`: file names).
pub fn executable_for(src: &dyn ProcessMemory, image: &Analyzed, given_names: &[String]) -> Option<PathBuf> {
    let exe = src.executable()?;
    let exe_name = exe.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase());
    let image_name = image.path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase());
    let given = given_names.iter().any(|n| Some(n.to_ascii_lowercase()) == exe_name);
    let shared_object = image.bin.elf.as_ref().is_some_and(|e| e.interpreter.is_none());
    (exe_name != image_name && !given && shared_object).then_some(exe)
}

/// An image checked against its module in a process.
pub struct Checked<'s> {
    /// The plan (bases from the process).
    pub plan: PatchPlan,
    /// The DLL files the plan was given.
    pub modules: Vec<Module>,
    /// The places compared.
    pub verification: Verification,
    /// ELF `JUMP_SLOT`s a lazily binding process has not bound yet (taken out of the mismatches).
    pub not_yet_bound: u64,
    /// The module's base.
    pub base: u64,
    /// Its memory.
    pub memory: ModuleMemory<'s>,
}

impl Checked<'_> {
    /// Bytes of the module the process holds.
    pub fn held(&self) -> u64 {
        self.memory.len() as u64 - self.memory.not_held()
    }
}

/// A damaged dump is not compared (what it holds cannot be trusted to be where it says): the
/// diagnostics, or Ok.
pub fn usable(src: &dyn ProcessMemory) -> Result<(), Vec<String>> {
    let d = &src.dump().diagnostics;
    if d.is_empty() {
        Ok(())
    } else {
        Err(d.iter().map(ToString::to_string).collect())
    }
}

/// Check `image`, the module `found` of `src`, with the DLL files `given` and the bases `opts`
/// gives (the others from the process): plan, memory, places compared, lazy slots counted.
pub fn check_in<'s>(
    image: &Analyzed,
    src: &'s dyn ProcessMemory,
    found: &DumpModule,
    mut given: Vec<Module>,
    opts: PatchOptions,
) -> Result<Checked<'s>, String> {
    let names: Vec<String> = given.iter().map(module_file_name).collect();
    if let Some(exe) = executable_for(src, image, &names) {
        given.push(Module::read(&exe).map_err(|e| e.to_string())?);
    }
    let in_process = InProcess::of(src, found);
    let (plan, modules) =
        plan_in(image, given, opts, Some(&in_process)).map_err(|e| format!("{}: {e}", image.path.display()))?;
    let base = plan.modules.first().map_or(found.base, |m| m.base);
    let memory = src.memory(base, plan.patched.len() as u64)?;
    let mut verification = patch::verify::verify_memory(&plan, &image.bin, Some(image), &memory);
    let not_yet_bound = lazy_slots(&plan, &mut verification, base, memory.len() as u64);
    Ok(Checked { plan, modules, verification, not_yet_bound, base, memory })
}

/// Explain every byte in which `mem` differs from `image`'s file, after `plan` (with the DLL
/// files `modules` naming addresses).
pub fn explain(image: &Analyzed, plan: &PatchPlan, modules: &[Module], mem: &ModuleMemory<'_>) -> Explanation {
    let mut explained = Vec::new();
    let mut e = explain_to(image, plan, modules, mem, &mut |r| explained.push(r));
    e.explained = explained;
    e
}

/// [`explain`] handing each explained range to `sink` as it is found instead of holding it
/// (`patch::explain::explain_to`).
pub fn explain_to(
    image: &Analyzed,
    plan: &PatchPlan,
    modules: &[Module],
    mem: &ModuleMemory<'_>,
    sink: &mut dyn FnMut(Range),
) -> Explanation {
    let paths: Vec<String> = modules.iter().map(Module::path).collect();
    let dlls: Vec<DllInput<'_>> =
        modules.iter().zip(&paths).map(|(m, path)| DllInput { path, data: m.data(), bin: m.bin() }).collect();
    let inputs = Inputs { bin: &image.bin, data: &image.data, index: &image.index, dlls: &dlls, names: image };
    explain::explain_to(plan, &inputs, mem, sink)
}

/// ELF `JUMP_SLOT`s a lazily binding process has not bound yet (their value still points into
/// the module's code, at its PLT): taken out of the mismatches and counted.
pub fn lazy_slots(plan: &PatchPlan, v: &mut Verification, base: u64, size: u64) -> u64 {
    if plan.scheme != SchemeKind::Elf {
        return 0;
    }
    let before = v.mismatches.len();
    v.mismatches.retain(|m| {
        let jump_slot = plan.steps.iter().any(|s| s.target_rva == m.rva && s.reason.contains("JUMP_SLOT"));
        let value = (0..m.actual.len() / 2)
            .filter_map(|i| u8::from_str_radix(m.actual.get(2 * i..2 * i + 2)?, 16).ok())
            .rev()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(b));
        // Its PLT: code of the module (a slot pointing at its data is no lazy slot).
        let in_code = plan.image().code.is_empty() || plan.image().in_code(value);
        !(jump_slot && value >= base && value < base.saturating_add(size) && in_code)
    });
    (before - v.mismatches.len()) as u64
}
