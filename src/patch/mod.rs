//! The patching engine: map an image and its DLLs as the loader does ([`load`]), bind the IAT
//! ([`bind`]), then apply one fix-up [`Scheme`] (MinGW pseudo-relocations, the 2013 base
//! relocation walk, the explicit `.reldata` / `_dllra` lists, ELF dynamic relocations) and record
//! every write as a [`Step`] of a [`PatchPlan`]. [`verify`] compares a plan with the memory of a
//! real process. Pure: no I/O, no egui.

pub mod bind;
pub mod dllra;
pub mod elf;
pub mod explain;
pub mod ifunc;
pub mod insn;
pub mod load;
pub mod mingw;
pub mod reldata;
pub mod verify;
pub mod walk;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::index::Index;
use crate::model::Binary;

pub use bind::Binding;
pub use load::LoadedModule;

/// The fix-up schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SchemeKind {
    /// MinGW runtime pseudo-relocations (v1 and v2), as `_pei386_runtime_relocator`.
    Mingw,
    /// The 2013 D proposal: redirect base-relocated pointers into the IAT.
    BaserelWalk,
    /// D `.reldata` `{adr, symbolOff}` pairs (i386 only).
    Reldata,
    /// `_dllra_beg` / `_dllra_end` records (Win32 `{address, offset}`, Win64 `{rel, offset}`).
    Dllra,
    /// ELF dynamic relocations as ld.so applies them.
    Elf,
}

impl SchemeKind {
    /// Every scheme.
    pub const ALL: [SchemeKind; 5] =
        [SchemeKind::Mingw, SchemeKind::BaserelWalk, SchemeKind::Reldata, SchemeKind::Dllra, SchemeKind::Elf];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::Mingw => "mingw",
            SchemeKind::BaserelWalk => "baserel-walk",
            SchemeKind::Reldata => "reldata",
            SchemeKind::Dllra => "dllra",
            SchemeKind::Elf => "elf",
        }
    }

    /// Whether the scheme applies to this kind of file at all.
    pub fn fits(self, bin: &Binary) -> bool {
        match self {
            SchemeKind::Elf => bin.format.is_elf(),
            SchemeKind::Reldata => bin.format.is_pe() && bin.arch == crate::model::Arch::X86,
            _ => bin.format.is_pe(),
        }
    }
}

/// What happened to one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Written as the scheme computes it.
    Applied,
    /// The new value does not fit the field: the runtime aborts here.
    OutOfRange,
    /// The import (or symbol) it needs is not bound: its DLL was not given.
    Unresolved,
    /// The scheme wrote a value that differs from the truth (the pseudo-relocation list).
    Misidentified,
    /// A site the truth patches and the scheme never sees.
    Missed,
    /// Applied, in a page that is not writable: the runtime must change its protection.
    NeedsWritablePage,
    /// After the runtime's abort: it never gets here, so nothing is written (the reason says
    /// what the step would have been).
    NotReached,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 7] = [
        Status::Applied,
        Status::NeedsWritablePage,
        Status::OutOfRange,
        Status::Unresolved,
        Status::Misidentified,
        Status::Missed,
        Status::NotReached,
    ];

    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::OutOfRange => "out-of-range",
            Status::Unresolved => "unresolved",
            Status::Misidentified => "misidentified",
            Status::Missed => "missed",
            Status::NeedsWritablePage => "needs-writable-page",
            Status::NotReached => "not-reached",
        }
    }

    /// Whether a step with this status writes (when enabled and reached).
    pub fn wrote(self) -> bool {
        matches!(self, Status::Applied | Status::NeedsWritablePage | Status::Misidentified)
    }
}

/// One write (or would-be write) of a scheme.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Position in the plan's steps.
    pub index: usize,
    /// RVA of the patched field.
    pub target_rva: u64,
    /// Section holding the field.
    pub section: Option<String>,
    /// Width of the field in bits.
    pub width: u32,
    /// The field's value before the step (after the loader: relocated and bound).
    pub before: u64,
    /// The value the scheme computes (for `missed`: the truth it should have written).
    pub after: u64,
    /// What happened (`not-reached` after the runtime's abort, whatever the step would have been).
    pub status: Status,
    /// The import the step targets (`dll!name`).
    pub import: Option<String>,
    /// The offset into the imported object (`&arr[3]` → 12).
    pub offset: Option<i64>,
    /// Why, in words.
    pub reason: String,
    /// Where the step comes from: pseudo-relocation item, base-relocation entry, record index.
    pub source: Option<usize>,
    /// For a field inside an instruction: that instruction before the step.
    pub insn_before: Option<String>,
    /// … and after it.
    pub insn_after: Option<String>,
    /// RVA of that instruction.
    pub insn_rva: Option<u64>,
    /// False when the user switched the step off (it is computed, not written).
    pub enabled: bool,
    /// False after the runtime's abort: the runtime never gets here (status `not-reached`).
    pub reached: bool,
    /// Whether the step changed memory.
    pub written: bool,
    /// An ELF slot ld.so fills with what an IFUNC resolver returns: the step writes nothing
    /// predicted (the value depends on the CPU); the checks accept a value in a loaded module's
    /// code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ifunc: Option<ifunc::Ifunc>,
}

impl Step {
    /// A step of `index` at `target_rva`; the rest filled in by the scheme.
    pub fn new(index: usize, target_rva: u64, width: u32, status: Status, reason: String) -> Self {
        Step {
            index,
            target_rva,
            section: None,
            width,
            before: 0,
            after: 0,
            status,
            import: None,
            offset: None,
            reason,
            source: Some(index),
            insn_before: None,
            insn_after: None,
            insn_rva: None,
            enabled: true,
            reached: true,
            written: false,
            ifunc: None,
        }
    }
}

/// An import the plan could not bind.
#[derive(Debug, Clone, Serialize)]
pub struct Unresolved {
    /// `dll!name` (or `dll!#ordinal`).
    pub import: String,
    /// RVA of its IAT slot (ELF: of its GOT slot or relocated field).
    pub slot_rva: u64,
    /// Why.
    pub reason: String,
}

/// One DLL (or shared object) given to the plan.
#[derive(Debug, Clone, Copy)]
pub struct DllInput<'a> {
    /// The file's path as given.
    pub path: &'a str,
    /// Its bytes.
    pub data: &'a [u8],
    /// Its model.
    pub bin: &'a Binary,
}

/// How to run the plan.
#[derive(Debug, Clone, Default)]
pub struct PatchOptions {
    /// The image's path (names it in the plan).
    pub image_path: Option<String>,
    /// Base of the image (default: its preferred base).
    pub image_base: Option<u64>,
    /// Bases of DLLs by the name the image imports them by (case-insensitive).
    pub bases: Vec<(String, u64)>,
    /// The scheme (default: the one the image carries).
    pub scheme: Option<SchemeKind>,
    /// Steps switched off (by index).
    pub disabled: BTreeSet<usize>,
}

/// Everything a plan predicts.
#[derive(Debug, Clone)]
pub struct PatchPlan {
    /// The scheme run.
    pub scheme: SchemeKind,
    /// The schemes the image carries data for.
    pub detected: Vec<SchemeKind>,
    /// The image first, then the DLLs.
    pub modules: Vec<LoadedModule>,
    /// IAT slots bound by the loader (PE).
    pub bindings: Vec<Binding>,
    /// The scheme's steps.
    pub steps: Vec<Step>,
    /// Imports left unbound.
    pub unresolved: Vec<Unresolved>,
    /// The runtime's abort message, when the plan predicts one.
    pub failure: Option<String>,
    /// Notes on the plan (collisions, refused relocations, a scheme without data).
    pub notes: Vec<String>,
    /// The image's memory after the scheme (the memory after the loader, before the scheme, is
    /// [`PatchPlan::loaded_bytes`] / [`PatchPlan::loaded_image`], rebuilt from this and the
    /// scheme's writes).
    pub patched: Vec<u8>,
    /// The bytes each of the scheme's writes replaced, in write order.
    undo: Writes,
    /// Whether pointers are 8 bytes.
    pub is_64: bool,
}

impl PatchPlan {
    /// The image's module.
    pub fn image(&self) -> &LoadedModule {
        &self.modules[0]
    }

    /// Steps per status, in [`Status::ALL`] order (a step switched off counts by the status it
    /// computes; one after the runtime's abort is `not-reached`).
    pub fn counts(&self) -> [usize; Status::ALL.len()] {
        let mut c = [0; Status::ALL.len()];
        for s in &self.steps {
            if let Some(i) = Status::ALL.iter().position(|x| *x == s.status) {
                c[i] += 1;
            }
        }
        c
    }

    /// Steps the user switched off.
    pub fn switched_off(&self) -> usize {
        self.steps.iter().filter(|s| !s.enabled).count()
    }

    /// The image's memory after the loader (mapped, relocated, bound), before the scheme, at
    /// `len` bytes from `rva`: the patched bytes with every write of the scheme undone. None
    /// when the window is not inside the image.
    pub fn loaded_bytes(&self, rva: u64, len: usize) -> Option<Vec<u8>> {
        let s = usize::try_from(rva).ok()?;
        let mut v = self.patched.get(s..s.checked_add(len)?)?.to_vec();
        self.undo.apply_window(rva, &mut v);
        Some(v)
    }

    /// The image's whole memory after the loader, before the scheme (a new copy: for the few
    /// callers that need all of it at once).
    pub fn loaded_image(&self) -> Vec<u8> {
        let mut v = self.patched.clone();
        self.undo.apply_all(&mut v);
        v
    }
}

/// A sparse list of byte runs written over an image: `(rva, bytes)` in the order they were
/// recorded, with an index by RVA so a window finds its runs without a walk of the list.
#[derive(Debug, Clone, Default)]
pub struct Writes {
    /// `(rva, start in pool, length)` in record order.
    runs: Vec<(u64, usize, usize)>,
    /// Every run's bytes, one after another.
    pool: Vec<u8>,
    /// `(rva, position in runs)` of every run.
    by_rva: BTreeSet<(u64, usize)>,
    /// The longest run.
    max_len: usize,
}

impl Writes {
    /// Record `bytes` at `rva`.
    pub fn push(&mut self, rva: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.by_rva.insert((rva, self.runs.len()));
        self.runs.push((rva, self.pool.len(), bytes.len()));
        self.pool.extend_from_slice(bytes);
        self.max_len = self.max_len.max(bytes.len());
    }

    /// `(rva, length)` of every run, in record order.
    pub fn spans(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.runs.iter().map(|&(rva, _, len)| (rva, len))
    }

    /// Lay every run over `mem` (offset = RVA), the last recorded first, so the first recorded
    /// run wins where runs overlap (an undo log: memory before the first write).
    pub fn apply_all(&self, mem: &mut [u8]) {
        for &(rva, at, len) in self.runs.iter().rev() {
            lay(mem, 0, rva, &self.pool[at..at + len]);
        }
    }

    /// Lay the runs that overlap `window` (which starts at `start`) over it, the last recorded
    /// first, as [`Writes::apply_all`] does.
    pub fn apply_window(&self, start: u64, window: &mut [u8]) {
        if self.runs.is_empty() || window.is_empty() {
            return;
        }
        let end = start.saturating_add(window.len() as u64);
        let from = start.saturating_sub(self.max_len as u64);
        let mut hit: Vec<usize> = self
            .by_rva
            .range((from, 0)..(end, 0))
            .map(|&(_, k)| k)
            .filter(|&k| self.runs[k].0.saturating_add(self.runs[k].2 as u64) > start)
            .collect();
        hit.sort_unstable_by(|a, b| b.cmp(a));
        for k in hit {
            let (rva, at, len) = self.runs[k];
            lay(window, start, rva, &self.pool[at..at + len]);
        }
    }
}

/// Copy the part of `run` (at `rva`) that falls inside `buf` (which starts at `start`).
fn lay(buf: &mut [u8], start: u64, rva: u64, run: &[u8]) {
    let end = start.saturating_add(buf.len() as u64);
    let (s, e) = (rva.max(start), rva.saturating_add(run.len() as u64).min(end));
    if s >= e {
        return;
    }
    let (bs, rs, n) = ((s - start) as usize, (s - rva) as usize, (e - s) as usize);
    buf[bs..bs + n].copy_from_slice(&run[rs..rs + n]);
}

/// What a scheme works on: the image's memory after the loader, and what the loader bound.
pub struct Cx<'a> {
    /// The image.
    pub bin: &'a Binary,
    /// Its index.
    pub index: &'a Index,
    /// Its memory (SizeOfImage bytes, offset = RVA); the scheme writes here.
    pub mem: Vec<u8>,
    /// Where it is loaded.
    pub base: u64,
    /// Pointer size in bytes.
    pub ptr: usize,
    /// The loader's IAT bindings, sorted by slot.
    pub bindings: &'a [Binding],
    /// The loaded modules (image first).
    pub modules: &'a [LoadedModule],
    /// The DLL files, aligned with `modules[1..]` (None: only a base was given).
    pub dlls: &'a [Option<DllInput<'a>>],
    /// Steps switched off.
    pub disabled: &'a BTreeSet<usize>,
    /// The bytes every write replaced, in write order (write through [`Cx::write`] or
    /// [`Cx::write_bytes`] so that the memory before the scheme can be rebuilt).
    pub undo: Writes,
}

impl Cx<'_> {
    /// Read a little-endian value of `bytes` bytes at `rva`.
    pub fn read(&self, rva: u64, bytes: usize) -> Option<u64> {
        read_le(&self.mem, rva, bytes)
    }

    /// Write a little-endian value of `bytes` bytes at `rva`; false when outside the image.
    pub fn write(&mut self, rva: u64, bytes: usize, value: u64) -> bool {
        let Some(old) = self.window(rva, bytes) else { return false };
        self.undo.push(rva, &old);
        write_le(&mut self.mem, rva, bytes, value)
    }

    /// Write `bytes` at `rva`; false (nothing written) when they do not fit inside the image.
    pub fn write_bytes(&mut self, rva: u64, bytes: &[u8]) -> bool {
        let Some(old) = self.window(rva, bytes.len()) else { return false };
        self.undo.push(rva, &old);
        let s = rva as usize;
        self.mem[s..s + bytes.len()].copy_from_slice(bytes);
        true
    }

    /// A copy of `len` bytes at `rva`, when inside the image.
    fn window(&self, rva: u64, len: usize) -> Option<Vec<u8>> {
        let s = usize::try_from(rva).ok()?;
        self.mem.get(s..s.checked_add(len)?).map(<[u8]>::to_vec)
    }

    /// The binding of the IAT slot at `rva`.
    pub fn binding_at(&self, rva: u64) -> Option<&Binding> {
        let i = self.bindings.partition_point(|b| b.slot_rva < rva);
        self.bindings.get(i).filter(|b| b.slot_rva == rva)
    }

    /// Name of the section holding `rva`.
    pub fn section_name(&self, rva: u64) -> Option<String> {
        self.index.section_pos_by_rva(rva).map(|s| self.bin.sections[s].name.clone())
    }

    /// Whether `rva` lies in a writable section.
    pub fn writable(&self, rva: u64) -> bool {
        self.index.section_pos_by_rva(rva).is_some_and(|s| self.bin.sections[s].is_write)
    }

    /// Whether the user switched step `index` off.
    pub fn is_disabled(&self, index: usize) -> bool {
        self.disabled.contains(&index)
    }

    /// Record `step` in `out` and write its `after` value (`bytes` wide) when it is enabled,
    /// reached (no abort before it) and its status writes. After an abort the step is
    /// `not-reached`, its reason keeping what it would have been.
    pub fn commit(&mut self, out: &mut Outcome, mut step: Step, bytes: usize) {
        step.enabled = !self.is_disabled(step.index);
        step.reached = out.aborted_at.is_none();
        if let Some(at) = out.aborted_at {
            step.reason = format!(
                "not reached: the runtime aborts at step {at}, before this one (had it got here: {}, {})",
                step.status.name(),
                step.reason
            );
            step.status = Status::NotReached;
        }
        step.written =
            step.enabled && step.reached && step.status.wrote() && self.write(step.target_rva, bytes, step.after);
        if step.section.is_none() {
            step.section = self.section_name(step.target_rva);
        }
        out.steps.push(step);
    }
}

/// What a scheme returns.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Its steps, in the order it runs them.
    pub steps: Vec<Step>,
    /// The runtime's abort message.
    pub failure: Option<String>,
    /// The index of the step the runtime aborts at: every step committed after it is
    /// `not-reached`.
    pub aborted_at: Option<usize>,
    /// Notes (what it found, what it could not do).
    pub notes: Vec<String>,
    /// Symbols it could not resolve (ELF; PE imports are the loader's, in the bindings).
    pub unresolved: Vec<Unresolved>,
}

impl Outcome {
    /// The runtime aborts at step `index` with `message`: the steps after it are not reached.
    pub fn abort(&mut self, index: usize, message: String) {
        self.failure = Some(message);
        self.aborted_at = Some(index);
    }
}

/// A fix-up scheme: one per file of this module.
pub trait Scheme {
    /// Which one.
    fn kind(&self) -> SchemeKind;
    /// Whether `bin` carries this scheme's data (its list, its records).
    fn detect(&self, bin: &Binary) -> bool;
    /// Run it on the loaded image, writing into `cx.mem`.
    fn run(&self, cx: &mut Cx<'_>) -> Outcome;
}

/// The scheme's implementation.
pub fn scheme(kind: SchemeKind) -> &'static dyn Scheme {
    match kind {
        SchemeKind::Mingw => &mingw::Mingw,
        SchemeKind::BaserelWalk => &walk::Walk,
        SchemeKind::Reldata => &reldata::Reldata,
        SchemeKind::Dllra => &dllra::Dllra,
        SchemeKind::Elf => &elf::Elf,
    }
}

/// The schemes `bin` carries data for, the default first.
pub fn detect(bin: &Binary) -> Vec<SchemeKind> {
    SchemeKind::ALL.into_iter().filter(|k| k.fits(bin) && scheme(*k).detect(bin)).collect()
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The scheme asked for does not apply to this kind of file.
    #[error("the {scheme} scheme does not apply to a {format} file")]
    SchemeDoesNotApply {
        /// The scheme's name.
        scheme: &'static str,
        /// The file's format.
        format: &'static str,
    },
    /// The image cannot be mapped.
    #[error(transparent)]
    Map(#[from] load::MapError),
    /// The base asked for puts the image past the end of the address space.
    #[error("base 0x{base:x} puts the image past the end of the address space")]
    PastAddressSpace {
        /// The base.
        base: u64,
    },
}

/// Simulate loading `bin` (at `opts.image_base`) with `dlls`, and apply the scheme.
pub fn plan(
    bin: &Binary,
    data: &[u8],
    index: &Index,
    dlls: &[DllInput<'_>],
    opts: &PatchOptions,
) -> Result<PatchPlan, PlanError> {
    let detected = detect(bin);
    let kind = match opts.scheme {
        Some(k) if !k.fits(bin) => {
            return Err(PlanError::SchemeDoesNotApply { scheme: k.name(), format: bin.format.name() });
        }
        Some(k) => k,
        None if bin.format.is_elf() => SchemeKind::Elf,
        None => detected.first().copied().unwrap_or(SchemeKind::Mingw),
    };
    let mut world = load::load_all(bin, data, dlls, opts)?;
    let mut notes = std::mem::take(&mut world.notes);
    let (bindings, mut unresolved) = if bin.format.is_pe() {
        bind::bind(bin, &mut world.memory, &world.modules, &world.dlls, world.ptr)
    } else {
        (Vec::new(), Vec::new())
    };
    if !scheme(kind).detect(bin) && kind != SchemeKind::BaserelWalk {
        notes.push(format!("the image carries no {} data: the scheme has nothing to do", kind.name()));
    }
    let mut cx = Cx {
        bin,
        index,
        mem: world.memory,
        base: world.modules[0].base,
        ptr: world.ptr,
        bindings: &bindings,
        modules: &world.modules,
        dlls: &world.dlls,
        disabled: &opts.disabled,
        undo: Writes::default(),
    };
    let outcome = scheme(kind).run(&mut cx);
    let patched = cx.mem;
    let undo = cx.undo;
    notes.extend(outcome.notes);
    unresolved.extend(outcome.unresolved);
    Ok(PatchPlan {
        scheme: kind,
        detected,
        modules: world.modules,
        bindings,
        steps: outcome.steps,
        unresolved,
        failure: outcome.failure,
        notes,
        patched,
        undo,
        is_64: bin.is_64,
    })
}

/// A little-endian value of `bytes` (1–8) bytes at `rva` of `mem`.
pub fn read_le(mem: &[u8], rva: u64, bytes: usize) -> Option<u64> {
    let start = usize::try_from(rva).ok()?;
    let b = mem.get(start..start.checked_add(bytes)?)?;
    Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// Write the low `bytes` bytes of `value` at `rva` of `mem`; false when outside.
pub fn write_le(mem: &mut [u8], rva: u64, bytes: usize, value: u64) -> bool {
    let Ok(start) = usize::try_from(rva) else {
        return false;
    };
    let Some(b) = start.checked_add(bytes).and_then(|end| mem.get_mut(start..end)) else {
        return false;
    };
    for (k, x) in b.iter_mut().enumerate() {
        *x = (value >> (8 * k)) as u8;
    }
    true
}

/// Format an address as the MinGW runtime's `%p` does: upper-case hex, zero-padded to the
/// pointer width.
pub fn runtime_ptr(v: u64, is_64: bool) -> String {
    if is_64 {
        format!("{v:016X}")
    } else {
        format!("{:08X}", v as u32)
    }
}
