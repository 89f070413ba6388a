//! `verify --explain`: compare the **whole** module (headers and every byte of every section)
//! with its file as the loader maps it, find every differing range, and attribute each to its
//! cause: a base relocation, an IAT binding, a delay-load slot, a step of the scheme
//! (pseudo-relocation, dynamic relocation), a load-configuration pointer, the TLS index, the
//! optional header's ImageBase, a write at run time in a writable section — or nothing
//! (`unexplained`: what a hook or a patch looks like).
//!
//! A byte is explained only by a writer whose place covers it and whose value the memory holds
//! there (a base-relocated slot must hold the file's value plus the delta); a slot holding
//! another value is a run-time write in a writable section and unexplained elsewhere, and the
//! detail says what was predicted. An IAT slot holding anything but its binding is unexplained
//! wherever it lies (an IAT hook). Bytes the memory does not hold are never differences.
//!
//! The file is read through its section map a window at a time and the prediction comes from
//! the plan's bindings and steps, not from [`PatchPlan::patched`]: the caller may drop that
//! copy of the image before it maps the memory.

mod attr;
mod claims;
mod hook;

use serde::Serialize;

pub use hook::{ImageNames, NoNames};

use self::attr::Attr;
use crate::formats::pe::map::PeMap;
use crate::model::index::Index;
use crate::model::memory::ModuleMemory;
use crate::model::Binary;
use crate::patch::{DllInput, PatchPlan};

/// Bytes compared a window at a time.
const WINDOW: usize = 1 << 20;
/// Unexplained ranges in code whose instructions are decoded (the rest keep the bytes only).
const MAX_DECODED: usize = 1000;
/// Bytes of a range shown in `expected` / `actual`.
const MAX_SHOWN: usize = 64;

/// Why a byte of the memory differs from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The optional header's ImageBase, set to the load base.
    Header,
    /// A base-relocated field, moved by the delta.
    BaseReloc,
    /// An IAT slot the loader bound.
    Iat,
    /// A delay-load IAT slot the program bound.
    DelayIat,
    /// A MinGW pseudo-relocation item.
    PseudoReloc,
    /// A step of another scheme (base-relocation walk, `.reldata`, `_dllra`).
    SchemeStep,
    /// An ELF dynamic relocation as ld.so applied it.
    DynamicReloc,
    /// A place a load-configuration field points at (CFG pointers, the security cookie).
    LoadConfig,
    /// The TLS directory's index slot.
    TlsIndex,
    /// An ELF `.dynamic` entry ld.so rewrites (an address moved by the load bias, `DT_DEBUG`).
    DynamicSection,
    /// An ELF slot ld.so filled with what an IFUNC resolver returned (`STT_GNU_IFUNC`,
    /// `IRELATIVE`): a value in a loaded module's code.
    Ifunc,
    /// A write at run time in a writable section.
    RuntimeWrite,
    /// Nothing explains it.
    Unexplained,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; 13] = [
        Cause::Header,
        Cause::BaseReloc,
        Cause::Iat,
        Cause::DelayIat,
        Cause::PseudoReloc,
        Cause::SchemeStep,
        Cause::DynamicReloc,
        Cause::LoadConfig,
        Cause::TlsIndex,
        Cause::DynamicSection,
        Cause::Ifunc,
        Cause::RuntimeWrite,
        Cause::Unexplained,
    ];

    /// The name in JSON and text.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Header => "header",
            Cause::BaseReloc => "base-reloc",
            Cause::Iat => "iat",
            Cause::DelayIat => "delay-iat",
            Cause::PseudoReloc => "pseudo-reloc",
            Cause::SchemeStep => "scheme-step",
            Cause::DynamicReloc => "dynamic-reloc",
            Cause::LoadConfig => "load-config",
            Cause::TlsIndex => "tls-index",
            Cause::DynamicSection => "dynamic-section",
            Cause::Ifunc => "ifunc",
            Cause::RuntimeWrite => "runtime-write",
            Cause::Unexplained => "unexplained",
        }
    }
}

/// One differing range and its cause.
#[derive(Debug, Clone, Serialize)]
pub struct Range {
    /// RVA of the first differing byte.
    pub rva: u64,
    /// Number of bytes.
    pub len: u64,
    /// The section holding it (None: the headers, or no section).
    pub section: Option<String>,
    /// The cause.
    pub cause: Cause,
    /// What wrote it, or what was expected there, in words.
    pub detail: String,
    /// RVA of the field (slot, relocated field, pseudo-relocation target) whose writer explains
    /// the range (None: `runtime-write`, `unexplained`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<u64>,
    /// Whether the range lies in a writable section.
    pub writable: bool,
    /// The file's bytes (hex, memory order; the first 64).
    pub file: String,
    /// The memory's bytes (hex, memory order; the first 64).
    pub memory: String,
    /// Unexplained code: RVA of the first instruction shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insn_rva: Option<u64>,
    /// … the instructions there in the file (relocated), `; `-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// … and in the memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Where a branch written there (or a slot's value) goes, named (`data.dll!arr+0x0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// … its address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_va: Option<u64>,
}

/// Counts of one cause.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct CauseCount {
    /// Ranges reported.
    pub ranges: u64,
    /// Places (slots, fields) that explain at least one byte (unexplained: the ranges).
    pub places: u64,
    /// Bytes.
    pub bytes: u64,
}

/// The explanation of a module's memory.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Every differing range with a cause (`runtime-write` included), in RVA order.
    pub explained: Vec<Range>,
    /// Every range nothing explains, in RVA order.
    pub unexplained: Vec<Range>,
    /// Counts per cause, in [`Cause::ALL`] order, the causes without a byte left out.
    pub by_cause: Vec<(Cause, CauseCount)>,
    /// Bytes compared (held by the memory, inside the module).
    pub bytes_compared: u64,
    /// Bytes that differ from the file.
    pub bytes_differing: u64,
    /// Bytes of the module the memory does not hold (unknown, never differences).
    pub not_in_dump: u64,
    /// Unexplained bytes in code, read-only data or the headers.
    pub unexplained_protected: u64,
    /// The load base minus the file's preferred base (mod 2⁶⁴).
    pub delta: u64,
}

impl Explanation {
    /// The counts of `cause`.
    pub fn count(&self, cause: Cause) -> CauseCount {
        self.by_cause.iter().find(|(c, _)| *c == cause).map_or_else(CauseCount::default, |(_, n)| *n)
    }
}

/// The module's file as the loader maps it (before relocation), read a window at a time.
pub enum FileImage<'a> {
    /// A PE image through its section map.
    Pe(PeMap<'a>, usize),
    /// Anything else, materialised (ELF `PT_LOAD` spans are small).
    Whole(Vec<u8>),
}

impl<'a> FileImage<'a> {
    /// The file of `bin`; None when the loader does not map it.
    pub fn new(bin: &Binary, data: &'a [u8]) -> Option<Self> {
        if let Some(pe) = &bin.pe {
            let size = usize::try_from(pe.layout.size_of_image).ok()?;
            let map = PeMap::from_layout(data, &pe.layout, bin.image_base.unwrap_or(0), bin.is_64);
            return Some(FileImage::Pe(map, size));
        }
        if bin.format.is_elf() {
            return elf_pages(bin, data).map(FileImage::Whole);
        }
        crate::patch::load::map(bin, data).ok().map(FileImage::Whole)
    }

    /// Its size (SizeOfImage, the `PT_LOAD` span).
    pub fn len(&self) -> usize {
        match self {
            FileImage::Pe(_, n) => *n,
            FileImage::Whole(v) => v.len(),
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes `[start, start + out.len())` (zeros past the end).
    pub fn window(&self, start: u64, out: &mut [u8]) {
        match self {
            FileImage::Pe(map, n) => map.window(start, out, *n),
            FileImage::Whole(v) => {
                out.fill(0);
                let s = usize::try_from(start).unwrap_or(usize::MAX).min(v.len());
                let e = s.saturating_add(out.len()).min(v.len());
                out[..e - s].copy_from_slice(&v[s..e]);
            }
        }
    }

    /// A little-endian value of `bytes` (1–8) bytes at `rva`, when inside.
    pub fn read(&self, rva: u64, bytes: usize) -> Option<u64> {
        if bytes == 0 || bytes > 8 || rva.checked_add(bytes as u64)? > self.len() as u64 {
            return None;
        }
        let mut b = [0u8; 8];
        self.window(rva, &mut b[..bytes]);
        Some(b[..bytes].iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    }
}

/// An ELF module's `PT_LOAD` span as ld.so maps it: whole pages of the file (the bytes of a
/// segment's first and last pages outside `[p_vaddr, p_vaddr + p_filesz)` are the file's
/// neighbouring bytes, not zeros), the tail of a page a segment's zero fill starts in zeroed.
fn elf_pages(bin: &Binary, data: &[u8]) -> Option<Vec<u8>> {
    use crate::model::SegmentKind;
    const PAGE: u64 = 0x1000;
    let size = usize::try_from(crate::patch::load::image_size(bin)).ok()?;
    if size == 0 || size as u64 > crate::patch::load::MAX_IMAGE {
        return None;
    }
    let loads = bin.segments.iter().filter(|s| s.kind == SegmentKind::Load);
    let low = loads.clone().map(|s| s.vaddr).min()?;
    let mut mem = vec![0u8; size];
    for s in loads {
        let head = s.vaddr % PAGE;
        let (va, off) = (s.vaddr - head, s.file_offset.checked_sub(head)?);
        let file_end = s.vaddr.saturating_add(s.file_size.min(s.mem_size));
        let map_end = if s.mem_size > s.file_size { file_end } else { file_end.div_ceil(PAGE).saturating_mul(PAGE) };
        for v in va.max(low)..map_end {
            let (Some(at), Some(o)) = ((v - low).try_into().ok(), usize::try_from(off + (v - va)).ok()) else { break };
            let (Some(dst), Some(&b)) = (mem.get_mut::<usize>(at), data.get(o)) else { break };
            *dst = b;
        }
    }
    Some(mem)
}

/// What the explanation reads besides the plan and the memory.
pub struct Inputs<'a> {
    /// The image.
    pub bin: &'a Binary,
    /// Its file.
    pub data: &'a [u8],
    /// Its index.
    pub index: &'a Index,
    /// The DLL files given to the plan (to name addresses and delay-load exports).
    pub dlls: &'a [DllInput<'a>],
    /// Names of the image's addresses.
    pub names: &'a dyn ImageNames,
}

/// Explain every byte in which `mem` differs from the module's file.
pub fn explain(plan: &PatchPlan, inp: &Inputs<'_>, mem: &ModuleMemory<'_>) -> Explanation {
    let mut explained = Vec::new();
    let mut e = explain_to(plan, inp, mem, &mut |r| explained.push(r));
    e.explained = explained;
    e
}

/// [`explain`] handing each explained range to `sink` as it is found, in RVA order, instead of
/// holding it (`Explanation::explained` is left empty; the counts include them): a moved image
/// has a range per relocated field, which a writer can put out one by one.
pub fn explain_to(
    plan: &PatchPlan,
    inp: &Inputs<'_>,
    mem: &ModuleMemory<'_>,
    sink: &mut dyn FnMut(Range),
) -> Explanation {
    let bin = inp.bin;
    let delta = plan.image().base.wrapping_sub(bin.image_base.unwrap_or(0));
    let mut out = Explanation {
        explained: Vec::new(),
        unexplained: Vec::new(),
        by_cause: Vec::new(),
        bytes_compared: 0,
        bytes_differing: 0,
        not_in_dump: 0,
        unexplained_protected: 0,
        delta,
    };
    let Some(file) = FileImage::new(bin, inp.data) else { return out };
    let size = file.len().min(mem.len());
    let held: u64 = mem.held.iter().map(|&(s, e)| e.min(size as u64).saturating_sub(s)).sum();
    out.not_in_dump = (file.len() as u64).saturating_sub(held);
    let runs = differing_runs(&file, mem, size, &mut out.bytes_compared);
    out.bytes_differing = runs.iter().map(|&(s, e)| e - s).sum();
    let cx = Attr::new(plan, inp, &file, mem, delta);
    let mut counts = vec![CauseCount::default(); Cause::ALL.len()];
    let mut decoded = 0usize;
    // The explained range not yet handed on: the next may continue it.
    let mut pending: Option<Range> = None;
    let mut emit = |r: Range, counts: &mut [CauseCount]| {
        let c = &mut counts[cause_pos(r.cause)];
        c.ranges += 1;
        c.bytes += r.len;
        sink(r);
    };
    // The places that explain a byte, each counted once however many runs it explains.
    let mut places: std::collections::BTreeSet<(Cause, u64)> = std::collections::BTreeSet::new();
    for &(s, e) in &runs {
        for r in cx.attribute(s, e, &mut decoded) {
            match r.place {
                Some(p) => {
                    places.insert((r.cause, p));
                }
                None => counts[cause_pos(r.cause)].places += 1,
            }
            if r.cause == Cause::Unexplained {
                if !r.writable {
                    out.unexplained_protected += r.len;
                }
                out.unexplained.push(r);
            } else if let Some(done) = merge(&mut pending, r) {
                emit(done, &mut counts);
            }
        }
    }
    if let Some(done) = pending.take() {
        emit(done, &mut counts);
    }
    for (c, _) in places {
        counts[cause_pos(c)].places += 1;
    }
    for r in &out.unexplained {
        let c = &mut counts[cause_pos(r.cause)];
        c.ranges += 1;
        c.bytes += r.len;
    }
    out.by_cause = Cause::ALL.iter().zip(counts).filter(|(_, n)| n.bytes > 0).map(|(c, n)| (*c, n)).collect();
    out
}

fn cause_pos(c: Cause) -> usize {
    Cause::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

/// Join `r` to the `pending` range when it continues it with the same cause and detail (a table
/// of relocated pointers is one range, its `place` the first field's); else make `r` pending and
/// return the range it replaces, which is complete.
fn merge(pending: &mut Option<Range>, r: Range) -> Option<Range> {
    if let Some(last) = pending.as_mut() {
        if last.rva + last.len == r.rva
            && last.cause == r.cause
            && last.detail == r.detail
            && last.section == r.section
            && r.cause == Cause::BaseReloc
        {
            last.len += r.len;
            if last.file.len() < 2 * MAX_SHOWN {
                last.file.push_str(&r.file);
                last.memory.push_str(&r.memory);
                last.file.truncate(2 * MAX_SHOWN);
                last.memory.truncate(2 * MAX_SHOWN);
            }
            return None;
        }
    }
    pending.replace(r)
}

/// The `[start, end)` runs of held bytes in which the memory differs from the file, in order.
fn differing_runs(file: &FileImage<'_>, mem: &ModuleMemory<'_>, size: usize, compared: &mut u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut buf = vec![0u8; WINDOW];
    for &(hs, he) in &mem.held {
        let he = he.min(size as u64);
        let mut at = hs;
        while at < he {
            let n = ((he - at) as usize).min(WINDOW);
            let w = &mut buf[..n];
            file.window(at, w);
            let Some(m) = mem.bytes.get(at as usize..at as usize + n) else { break };
            *compared += n as u64;
            diff_into(w, m, at, &mut runs);
            at += n as u64;
        }
    }
    runs
}

/// Append the runs where `a` and `b` (at `at`) differ, joined with the last run when touching.
fn diff_into(a: &[u8], b: &[u8], at: u64, runs: &mut Vec<(u64, u64)>) {
    const CHUNK: usize = 64;
    let mut k = 0;
    while k < a.len() {
        let e = (k + CHUNK).min(a.len());
        if a[k..e] == b[k..e] {
            k = e;
            continue;
        }
        for j in k..e {
            if a[j] != b[j] {
                let r = at + j as u64;
                match runs.last_mut() {
                    Some(last) if last.1 == r => last.1 = r + 1,
                    _ => runs.push((r, r + 1)),
                }
            }
        }
        k = e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_and_split() {
        let a = [0u8; 200];
        let mut b = a;
        b[3] = 1;
        b[4] = 1;
        b[70] = 2;
        b[199] = 3;
        let mut runs = vec![(0, 0x100)];
        diff_into(&a, &b, 0x100, &mut runs);
        assert_eq!(runs, vec![(0, 0x100), (0x103, 0x105), (0x146, 0x147), (0x1c7, 0x1c8)]);
        let mut runs = vec![(0, 0x100)];
        b[0] = 9;
        diff_into(&a, &b, 0x100, &mut runs);
        assert_eq!(runs[0], (0, 0x101), "a run touching the last one continues it");
    }

    #[test]
    fn relocated_values() {
        assert_eq!(claims::relocated(3, 0x1000, 0x10, None), 0x1010);
        assert_eq!(claims::relocated(1, 0x0040, 0x0001_0000, None), 0x41);
    }
}
