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

mod claims;
mod hook;

use serde::Serialize;

pub use hook::{ImageNames, NoNames};

use self::claims::{Claim, From, Want};
use crate::formats::pe::map::PeMap;
use crate::model::index::{base_reloc_width, Index};
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
    /// A write at run time in a writable section.
    RuntimeWrite,
    /// Nothing explains it.
    Unexplained,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; 11] = [
        Cause::Header,
        Cause::BaseReloc,
        Cause::Iat,
        Cause::DelayIat,
        Cause::PseudoReloc,
        Cause::SchemeStep,
        Cause::DynamicReloc,
        Cause::LoadConfig,
        Cause::TlsIndex,
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
            } else {
                push_merged(&mut out.explained, r);
            }
        }
    }
    for (c, _) in places {
        counts[cause_pos(c)].places += 1;
    }
    for r in out.explained.iter().chain(&out.unexplained) {
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

/// Append `r`, joined with the last range when it continues it with the same cause and detail
/// (a table of relocated pointers is one range).
fn push_merged(list: &mut Vec<Range>, r: Range) {
    if let Some(last) = list.last_mut() {
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
            return;
        }
    }
    list.push(r);
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

/// The attribution's state: the claims and where to look things up.
struct Attr<'a> {
    plan: &'a PatchPlan,
    inp: &'a Inputs<'a>,
    file: &'a FileImage<'a>,
    mem: &'a ModuleMemory<'a>,
    delta: u64,
    claims: Vec<Claim>,
    /// Base relocations (positions in the model's list) sorted by RVA, when the image moved.
    relocs: Vec<u32>,
}

/// One claim over a byte, checked.
#[derive(Clone, Copy)]
struct Checked {
    claim: Claim,
    want: Want,
    holds: bool,
}

impl<'a> Attr<'a> {
    fn new(
        plan: &'a PatchPlan,
        inp: &'a Inputs<'a>,
        file: &'a FileImage<'a>,
        mem: &'a ModuleMemory<'a>,
        delta: u64,
    ) -> Self {
        let claims = claims::claims(plan, inp.bin, file);
        let mut relocs: Vec<u32> = Vec::new();
        if delta != 0 && inp.bin.format.is_pe() {
            relocs = (0..inp.bin.base_relocations.len() as u32)
                .filter(|&i| base_reloc_width(inp.bin.base_relocations[i as usize].raw_type) > 0)
                .collect();
            let r = &inp.bin.base_relocations;
            if !relocs.windows(2).all(|w| r[w[0] as usize].rva <= r[w[1] as usize].rva) {
                relocs.sort_by_key(|&i| r[i as usize].rva);
            }
        }
        Attr { plan, inp, file, mem, delta, claims, relocs }
    }

    /// The claims overlapping `[s, e)`, checked against the memory.
    fn over(&self, s: u64, e: u64) -> Vec<Checked> {
        let from = s.saturating_sub(8);
        let mut v: Vec<Claim> = Vec::new();
        let i = self.claims.partition_point(|c| c.rva < from);
        v.extend(self.claims[i..].iter().take_while(|c| c.rva < e).filter(|c| c.rva + u64::from(c.len) > s));
        let r = &self.inp.bin.base_relocations;
        let j = self.relocs.partition_point(|&k| r[k as usize].rva < from);
        for &k in self.relocs[j..].iter().take_while(|&&k| r[k as usize].rva < e) {
            let len = base_reloc_width(r[k as usize].raw_type) as u8;
            if r[k as usize].rva + u64::from(len) > s {
                v.push(Claim { rva: r[k as usize].rva, len, from: From::Reloc(k) });
            }
        }
        v.sort_by_key(|c| (c.rva, c.from.stage()));
        v.into_iter()
            .map(|c| {
                let want = claims::want(c.from, self.plan, self.inp.bin, self.file, self.inp.dlls, self.delta);
                let holds = match want {
                    Want::Any => true,
                    Want::Value(x) => (0..u64::from(c.len)).all(|k| {
                        let at = c.rva + k;
                        !self.mem.holds(at, 1) || self.mem.bytes.get(at as usize) == Some(&((x >> (8 * k)) as u8))
                    }),
                };
                Checked { claim: c, want, holds }
            })
            .collect()
    }

    /// The ranges of `[s, e)` (differing bytes) by cause.
    fn attribute(&self, s: u64, e: u64, decoded: &mut usize) -> Vec<Range> {
        let over = self.over(s, e);
        // Per byte: the claim that explains it (a value that holds, the latest writer first;
        // else one that accepts any value), as a position in `over`.
        let best = |b: u64| -> Option<usize> {
            let lo = over.partition_point(|c| c.claim.rva < b.saturating_sub(7));
            let hi = over.partition_point(|c| c.claim.rva <= b);
            let covering = over[lo..hi.max(lo)]
                .iter()
                .enumerate()
                .map(|(k, c)| (k + lo, c))
                .filter(|(_, c)| b < c.claim.rva + u64::from(c.claim.len));
            let exact = covering
                .clone()
                .filter(|(_, c)| c.holds && c.want != Want::Any)
                .max_by_key(|(_, c)| c.claim.from.stage());
            exact
                .or_else(|| covering.filter(|(_, c)| c.holds).max_by_key(|(_, c)| c.claim.from.stage()))
                .map(|(i, _)| i)
        };
        let mut out = Vec::new();
        let mut b = s;
        while b < e {
            let who = best(b);
            let mut n = b + 1;
            while n < e && best(n) == who && self.section_pos(n) == self.section_pos(b) {
                n += 1;
            }
            match who {
                Some(i) => {
                    out.push(self.explained(b, n, &over[i]));
                }
                None => out.push(self.unexplained(b, n, &over, decoded)),
            }
            b = n;
        }
        out
    }

    fn section_pos(&self, rva: u64) -> Option<usize> {
        self.inp.index.section_pos_by_rva(rva)
    }

    fn section(&self, rva: u64) -> Option<String> {
        self.section_pos(rva).map(|p| self.inp.bin.sections[p].name.clone())
    }

    /// Whether `rva` lies in a writable section (ELF: or a writable `PT_LOAD` segment outside
    /// every section).
    fn writable(&self, rva: u64) -> bool {
        let bin = self.inp.bin;
        match self.section_pos(rva) {
            Some(p) => bin.sections[p].is_write,
            None if bin.format.is_elf() => {
                let low =
                    bin.segments.iter().filter(|s| s.kind == crate::model::SegmentKind::Load).map(|s| s.vaddr).min();
                let va = rva.wrapping_add(low.unwrap_or(0));
                bin.segments.iter().any(|s| {
                    s.kind == crate::model::SegmentKind::Load
                        && s.flags & 2 != 0
                        && va >= s.vaddr
                        && va - s.vaddr < s.mem_size
                })
            }
            None => false,
        }
    }

    /// A range with no explanation yet: the bytes and where it lies.
    fn range(&self, s: u64, e: u64, cause: Cause, detail: String) -> Range {
        let n = ((e - s) as usize).min(MAX_SHOWN);
        let mut f = vec![0u8; n];
        self.file.window(s, &mut f);
        let m = self.mem.bytes.get(s as usize..s as usize + n).unwrap_or(&[]);
        Range {
            rva: s,
            len: e - s,
            section: self.section(s),
            cause,
            detail,
            place: None,
            writable: self.writable(s),
            file: hex(&f),
            memory: hex(m),
            insn_rva: None,
            before: None,
            after: None,
            target: None,
            target_va: None,
        }
    }

    fn explained(&self, s: u64, e: u64, c: &Checked) -> Range {
        let cause = c.claim.from.cause(self.plan.scheme);
        let mut r = self.range(s, e, cause, self.detail(c));
        r.place = Some(c.claim.rva);
        if let (From::Binding(_) | From::Delay(..), Some(v)) = (c.claim.from, self.value_at(c.claim.rva, c.claim.len)) {
            r.target_va = Some(v);
            r.target = Some(hook::name_va(v, self.plan, self.inp.dlls, self.inp.names));
        }
        r
    }

    /// The memory's little-endian value of `len` bytes at `rva`.
    fn value_at(&self, rva: u64, len: u8) -> Option<u64> {
        let s = usize::try_from(rva).ok()?;
        let b = self.mem.bytes.get(s..s.checked_add(usize::from(len))?)?;
        Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    }

    /// What a claim that holds says.
    fn detail(&self, c: &Checked) -> String {
        let plan = self.plan;
        let bin = self.inp.bin;
        let width = u32::from(c.claim.len) * 8;
        match c.claim.from {
            From::Header => format!("OptionalHeader.ImageBase set to the load base 0x{:x}", plan.image().base),
            From::Reloc(i) => {
                let kind = bin.base_relocations.get(i as usize).map_or("?", |r| r.kind);
                format!("base relocation {i} ({kind}): file value + delta 0x{:x}", self.delta)
            }
            From::Binding(i) => {
                let Some(b) = plan.bindings.get(i as usize) else { return String::new() };
                match (&b.bound_to, b.value) {
                    (Some(to), Some(v)) => {
                        let named = if b.forwarded.is_empty() && !same_import(&b.import, to) {
                            format!(" (not the export the import names, {})", b.import)
                        } else if !b.forwarded.is_empty() {
                            format!(" (forwarded: {})", b.forwarded.join(" → "))
                        } else {
                            String::new()
                        };
                        format!("IAT slot of {} bound to {to} = 0x{v:x}{named}", b.import)
                    }
                    _ => format!(
                        "IAT slot of {}: not predicted ({}); the loader's value is taken as it is",
                        b.import,
                        b.note.as_deref().unwrap_or("unbound")
                    ),
                }
            }
            From::Delay(m, e) => {
                let module = &bin.delay_imports[m as usize];
                let name = crate::model::index::import_name(&module.entries[e as usize]);
                match c.want {
                    Want::Value(v) => format!("delay-load slot of {}!{name} bound to 0x{v:x}", module.dll),
                    Want::Any => {
                        format!(
                            "delay-load slot of {}!{name}, bound at run time (its DLL's exports are not at hand)",
                            module.dll
                        )
                    }
                }
            }
            From::LoadConfig(n) => format!("load config {n}: {}", claims::load_config_words(n)),
            From::TlsIndex => "the TLS directory's AddressOfIndex: the loader writes the module's TLS index".into(),
            From::Step(i) => {
                let Some(s) = plan.steps.get(i as usize) else { return String::new() };
                let what = match plan.scheme {
                    crate::patch::SchemeKind::Mingw => "pseudo-relocation item",
                    crate::patch::SchemeKind::Elf => "dynamic relocation",
                    _ => "scheme step",
                };
                let import = s.import.as_deref().map_or(String::new(), |i| format!(" {i}"));
                match c.want {
                    Want::Value(v) => format!("{what} {}{import}: 0x{:x} → 0x{v:x} ({width}-bit)", s.index, s.before),
                    Want::Any => format!("{what} {}{import}: not predicted ({}); taken as it is", s.index, s.reason),
                }
            }
        }
    }

    /// A range nothing explains: a run-time write in a writable section, else unexplained
    /// (with its instructions in code); an IAT slot holding something else is unexplained
    /// anywhere.
    fn unexplained(&self, s: u64, e: u64, over: &[Checked], decoded: &mut usize) -> Range {
        let covering: Vec<&Checked> =
            over.iter().filter(|c| c.claim.rva < e && s < c.claim.rva + u64::from(c.claim.len)).collect();
        let mut why: Vec<String> = Vec::new();
        let mut iat_hook = None;
        for c in &covering {
            let held = self.value_at(c.claim.rva, c.claim.len).unwrap_or(0);
            let Want::Value(want) = c.want else { continue };
            let what = match c.claim.from {
                From::Binding(i) => {
                    let b = &self.plan.bindings[i as usize];
                    iat_hook = Some(held);
                    let other = hook::export_at(held, self.plan, self.inp.dlls)
                        .map_or(String::new(), |x| format!(" = {x}, not the export it names"));
                    format!("the IAT slot of {} holds 0x{held:x}{other}; bound, it holds 0x{want:x}", b.import)
                }
                From::Reloc(i) => format!(
                    "base relocation {i} at 0x{:x} predicts 0x{want:x} (file value + delta 0x{:x}), the memory holds 0x{held:x}",
                    c.claim.rva, self.delta
                ),
                From::Step(i) => format!(
                    "step {} at 0x{:x} predicts 0x{want:x}, the memory holds 0x{held:x}",
                    self.plan.steps.get(i as usize).map_or(i as usize, |x| x.index),
                    c.claim.rva
                ),
                From::Delay(..) => format!("the delay-load slot at 0x{:x} holds 0x{held:x}, not 0x{want:x}", c.claim.rva),
                From::Header => format!("ImageBase holds 0x{held:x}, not the load base 0x{want:x}"),
                From::LoadConfig(_) | From::TlsIndex => continue,
            };
            why.push(what);
        }
        let writable = self.writable(s);
        if writable && iat_hook.is_none() {
            let mut d = format!("written at run time (writable section {})", self.section(s).as_deref().unwrap_or("?"));
            if !why.is_empty() {
                d.push_str(": ");
                d.push_str(&why.join("; "));
            }
            return self.range(s, e, Cause::RuntimeWrite, d);
        }
        let place = match self.section_pos(s) {
            Some(p) if self.inp.bin.sections[p].is_exec => "code",
            Some(_) if writable => "writable data",
            Some(_) => "read-only data",
            None => "the headers or no section",
        };
        let mut d = format!("changed in {place}; nothing the loader or the runtime writes covers it");
        if !why.is_empty() {
            d = format!("changed in {place}: {}", why.join("; "));
        }
        let mut r = self.range(s, e, Cause::Unexplained, d);
        if let Some(v) = iat_hook {
            r.target_va = Some(v);
            r.target = Some(hook::name_va(v, self.plan, self.inp.dlls, self.inp.names));
            return r;
        }
        let exec = self.section_pos(s).is_some_and(|p| self.inp.bin.sections[p].is_exec);
        if let (true, Some(bits)) = (exec && *decoded < MAX_DECODED, crate::analysis::code::bitness(self.inp.bin)) {
            *decoded += 1;
            let base = self.plan.image().base;
            let win = self.inp.names.function(s).map(|(_, f)| f).filter(|&f| f <= s && s - f <= 1 << 16).unwrap_or(s);
            let end = e.saturating_add(64).min(self.file.len() as u64);
            let mut before = vec![0u8; (end - win) as usize];
            self.file.window(win, &mut before);
            self.relocate_window(win, &mut before);
            let ins = hook::instructions(bits, self.inp.names, base, win, &before, self.mem, s, e);
            r.insn_rva = ins.rva;
            r.before = ins.before;
            r.after = ins.after;
            if let Some(t) = ins.target_va {
                r.target_va = Some(t);
                r.target = Some(hook::name_va(t, self.plan, self.inp.dlls, self.inp.names));
            }
        }
        r
    }

    /// Apply the base relocations of `[win, win + buf.len())` to the file bytes `buf`.
    fn relocate_window(&self, win: u64, buf: &mut [u8]) {
        let r = &self.inp.bin.base_relocations;
        let end = win + buf.len() as u64;
        let j = self.relocs.partition_point(|&k| r[k as usize].rva < win);
        for &k in self.relocs[j..].iter().take_while(|&&k| r[k as usize].rva < end) {
            let x = &r[k as usize];
            let w = base_reloc_width(x.raw_type) as usize;
            let at = x.rva - win;
            if let Some(v) = crate::patch::read_le(buf, at, w) {
                crate::patch::write_le(buf, at, w, claims::relocated(x.raw_type, v, self.delta, x.param));
            }
        }
    }
}

/// Whether export `to` (`dll!name`) is the one `import` (`dll!name`) names.
fn same_import(import: &str, to: &str) -> bool {
    let tail = |s: &str| s.rsplit_once('!').map_or(s.to_string(), |(_, n)| n.to_string());
    tail(import) == tail(to)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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
