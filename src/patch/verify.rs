//! Compare a plan's prediction with the memory of a real process, at the places the loader and
//! the scheme write, nowhere else: every pseudo-relocation target, IAT slot, base-relocated field
//! (ELF: dynamic relocation) and data-reference site.

use serde::Serialize;

use super::{PatchPlan, Status};
use crate::analysis::stream::SiteSource;
use crate::analysis::Mode;
use crate::model::Binary;

/// One place whose bytes differ.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// RVA of the field.
    pub rva: u64,
    /// Its length in bytes.
    pub len: u64,
    /// The predicted bytes (hex, memory order; empty for an `ifunc-slot`, which nothing
    /// predicts: its `structure` says where its value lands instead).
    pub expected: String,
    /// The dump's bytes.
    pub actual: String,
    /// What the field is (`pseudo-reloc-item 3 (data.dll!arr)`, `iat-slot data.dll!pt`, …).
    pub structure: String,
}

/// The result of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Places compared.
    pub checked: u64,
    /// Places whose bytes all match.
    pub matched: u64,
    /// Bytes compared (each byte once, however many places cover it).
    pub checked_bytes: u64,
    /// Places not compared because the plan cannot predict them (an unbound import).
    pub unpredicted: u64,
    /// Places per kind: `(kind, checked, matched)`.
    pub by_kind: Vec<(String, u64, u64)>,
    /// Every place that differs.
    pub mismatches: Vec<Mismatch>,
    /// Places not compared because the source does not hold their bytes (pages a minidump, a
    /// core or a live process leaves out): unknown, never a mismatch.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_in_dump: u64,
    /// ELF slots ld.so filled from an IFUNC resolver whose value lies in a loaded module's code:
    /// not predictable from files, so neither compared nor matched, but checked to be code
    /// (one that is not is a mismatch: what a hooked slot looks like).
    pub ifunc_resolved: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A place to compare (its name is written only when it is reported): 24 bytes, as there is one
/// per data-reference site (1.5 million in a 120 MB DLL).
struct Place {
    rva: u64,
    /// Position in the list before sorting: the sort is unstable (no buffer the size of the
    /// list), this keeps it in a stable sort's order.
    seq: u32,
    from: Origin,
    len: u8,
    kind: PlaceKind,
    predictable: bool,
}

/// What a place is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PlaceKind {
    PseudoRelocItem,
    DynamicReloc,
    SchemeStep,
    IatSlot,
    BaseRelocEntry,
    DataRefSite,
    /// A slot written with an IFUNC resolver's value.
    IfuncSlot,
}

impl PlaceKind {
    fn name(self) -> &'static str {
        match self {
            PlaceKind::PseudoRelocItem => "pseudo-reloc-item",
            PlaceKind::DynamicReloc => "dynamic-reloc",
            PlaceKind::SchemeStep => "scheme-step",
            PlaceKind::IatSlot => "iat-slot",
            PlaceKind::BaseRelocEntry => "base-reloc-entry",
            PlaceKind::DataRefSite => "data-ref-site",
            PlaceKind::IfuncSlot => "ifunc-slot",
        }
    }
}

/// What a place comes from: by position in its list, or (a site) what names it.
#[derive(Clone, Copy)]
enum Origin {
    Step(u32),
    Binding(u32),
    Reloc(u32),
    /// A data-reference site: its mode and how far its instruction starts before the field.
    Site(Mode, u8),
}

impl Place {
    /// The place's name in a mismatch (`mingw 3 (data.dll!arr)`, the import of a slot, …).
    fn name(&self, plan: &PatchPlan, bin: &Binary) -> String {
        match self.from {
            Origin::Step(i) => {
                let s = &plan.steps[i as usize];
                format!(
                    "{} {}{}",
                    plan.scheme.name(),
                    s.index,
                    s.import.as_ref().map_or(String::new(), |i| format!(" ({i})"))
                )
            }
            Origin::Binding(i) => plan.bindings[i as usize].import.clone(),
            Origin::Reloc(i) => format!("{i} ({})", bin.base_relocations[i as usize].kind),
            Origin::Site(mode, back) => format!("{} at 0x{:x}", mode.name(), self.rva - u64::from(back)),
        }
    }
}

/// The places of `bin` that loading and the scheme write, other than data-reference sites:
/// steps, IAT slots and base-relocated fields, sorted (their `seq` from 0).
fn fixed_places(plan: &PatchPlan, bin: &Binary) -> Vec<Place> {
    let mut v = Vec::with_capacity(plan.steps.len() + plan.bindings.len() + bin.base_relocations.len());
    let ptr = if plan.is_64 { 8 } else { 4 };
    for (i, s) in plan.steps.iter().enumerate() {
        if s.width == 0 {
            continue;
        }
        let predictable = s.status != Status::Unresolved && s.enabled;
        v.push(Place {
            rva: s.target_rva,
            seq: 0,
            len: (s.width / 8) as u8,
            kind: match plan.scheme {
                _ if s.ifunc.is_some() => PlaceKind::IfuncSlot,
                super::SchemeKind::Mingw => PlaceKind::PseudoRelocItem,
                super::SchemeKind::Elf => PlaceKind::DynamicReloc,
                _ => PlaceKind::SchemeStep,
            },
            from: Origin::Step(i as u32),
            predictable,
        });
    }
    for (i, b) in plan.bindings.iter().enumerate() {
        v.push(Place {
            rva: b.slot_rva,
            seq: 0,
            len: ptr,
            kind: PlaceKind::IatSlot,
            from: Origin::Binding(i as u32),
            predictable: b.value.is_some(),
        });
    }
    for (i, r) in bin.base_relocations.iter().enumerate() {
        let len = crate::model::index::base_reloc_width(r.raw_type) as u8;
        if len > 0 {
            let from = Origin::Reloc(i as u32);
            v.push(Place { rva: r.rva, seq: 0, len, kind: PlaceKind::BaseRelocEntry, from, predictable: true });
        }
    }
    sorted(v)
}

/// `v` numbered in its order and sorted by [`Place::key`].
fn sorted(mut v: Vec<Place>) -> Vec<Place> {
    for (seq, p) in v.iter_mut().enumerate() {
        p.seq = seq as u32;
    }
    v.sort_unstable_by_key(Place::key);
    v
}

/// The places of one piece of data-reference sites (those of 8 bits and more, not at an IFUNC
/// slot, which is checked as such: a resolver's value, not a site's), sorted, numbered from 0
/// in the piece. `unbound` and `resolved`: the sorted fields of unbound and IFUNC steps.
fn site_places(piece: &[crate::analysis::Site], unbound: &[u64], resolved: &[u64]) -> Vec<Place> {
    let kept = |s: &&crate::analysis::Site| s.width >= 8 && resolved.binary_search(&s.field_rva).is_err();
    let mut mine = Vec::with_capacity(piece.iter().filter(kept).count());
    mine.extend(piece.iter().filter(kept).map(|s| Place {
        rva: s.field_rva,
        seq: 0,
        len: s.width / 8,
        kind: PlaceKind::DataRefSite,
        from: Origin::Site(s.mode, s.field_rva.saturating_sub(s.site_rva).min(255) as u8),
        predictable: unbound.binary_search(&s.field_rva).is_err(),
    }));
    sorted(mine)
}

/// A piece of site places and its floor (no later piece has a place below it).
type Piece = (Vec<Place>, u64);

/// Every place in key order: the fixed ones merged with the site places as the scan hands them
/// over. A place is given out once the floor has passed it, so only the pieces around the
/// floor are held, not the 1.5 million places of a big image.
struct Streamed {
    merged: Merged,
    /// The scan's pieces (`None`: no more).
    pieces: Option<std::sync::mpsc::Receiver<Piece>>,
    floor: u64,
    /// The next piece's first number.
    seq: u32,
}

impl Iterator for Streamed {
    type Item = Place;
    fn next(&mut self) -> Option<Place> {
        loop {
            let open = self.pieces.is_some();
            if self.merged.peek().map_or(!open, |k| !open || k.0 < self.floor) {
                return self.merged.pop();
            }
            match self.pieces.as_ref().map(std::sync::mpsc::Receiver::recv) {
                Some(Ok((mut list, floor))) => {
                    for p in &mut list {
                        p.seq += self.seq;
                    }
                    self.seq += list.len() as u32;
                    self.floor = floor;
                    self.merged.push(list);
                }
                _ => self.pieces = None,
            }
        }
    }
}

/// Where a place sorts: field, length, position in the lists.
type Key = (u64, u8, u32);

/// Sorted lists of places merged into one sorted sequence; a list is let go once it is used up.
#[derive(Default)]
struct Merged {
    lists: Vec<std::vec::IntoIter<Place>>,
    /// Each list's next key and the list, smallest first.
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(Key, usize)>>,
    next: Vec<Option<Place>>,
}

impl Merged {
    fn push(&mut self, list: Vec<Place>) {
        let mut it = list.into_iter();
        if let Some(p) = it.next() {
            self.heads.push(std::cmp::Reverse((p.key(), self.lists.len())));
            self.next.push(Some(p));
            self.lists.push(it);
        }
    }

    /// The next place's key.
    fn peek(&self) -> Option<Key> {
        self.heads.peek().map(|std::cmp::Reverse((k, _))| *k)
    }

    fn pop(&mut self) -> Option<Place> {
        let std::cmp::Reverse((_, i)) = self.heads.pop()?;
        let p = self.next[i].take();
        self.next[i] = self.lists[i].next();
        match &self.next[i] {
            Some(n) => self.heads.push(std::cmp::Reverse((n.key(), i))),
            None => self.lists[i] = Vec::new().into_iter(),
        }
        p
    }
}

impl Place {
    /// The order places are compared in: by field, shorter first, then as listed.
    fn key(&self) -> Key {
        (self.rva, self.len, self.seq)
    }
}

/// Compare `plan.patched` with `dump` (the module's memory from its base, offset = RVA).
pub fn verify<S: SiteSource + ?Sized>(plan: &PatchPlan, bin: &Binary, sites: Option<&S>, dump: &[u8]) -> Verification {
    compare(plan, bin, sites, &mut Whole(dump))
}

/// [`verify`] against a module's memory from any source: places whose bytes the source does not
/// hold are counted in [`Verification::not_in_dump`], never compared.
pub fn verify_memory<S: SiteSource + ?Sized>(
    plan: &PatchPlan,
    bin: &Binary,
    sites: Option<&S>,
    memory: &crate::model::memory::ModuleMemory<'_>,
) -> Verification {
    let mut src = Held { memory, not_held: 0 };
    let mut v = compare(plan, bin, sites, &mut src);
    v.not_in_dump = src.not_held;
    v
}

/// [`verify`] reading the dump from `reader` once, front to back (the places are visited in RVA
/// order), holding a small window of it instead of the whole: the result is the same as
/// [`verify`] on the bytes `reader` gives. A read error ends the dump there and is returned.
pub fn verify_stream<S: SiteSource + ?Sized>(
    plan: &PatchPlan,
    bin: &Binary,
    sites: Option<&S>,
    reader: impl std::io::Read,
) -> (Verification, Option<std::io::Error>) {
    let mut src = Stream { reader, buf: Vec::new(), start: 0, eof: false, error: None };
    let v = compare(plan, bin, sites, &mut src);
    (v, src.error)
}

/// Where the compared bytes of a dump come from.
trait Dump {
    /// Bytes `s..e` of the dump; `s` never decreases from one call to the next.
    fn get(&mut self, s: usize, e: usize) -> Option<&[u8]>;
}

/// A dump in memory.
struct Whole<'a>(&'a [u8]);

impl Dump for Whole<'_> {
    fn get(&mut self, s: usize, e: usize) -> Option<&[u8]> {
        self.0.get(s..e)
    }
}

/// A module's memory, some of it perhaps not held.
struct Held<'a, 'b> {
    memory: &'a crate::model::memory::ModuleMemory<'b>,
    not_held: u64,
}

impl Dump for Held<'_, '_> {
    fn get(&mut self, s: usize, e: usize) -> Option<&[u8]> {
        let bytes = self.memory.bytes.get(s..e)?;
        if !self.memory.holds(s as u64, (e - s) as u64) {
            self.not_held += 1;
            return None;
        }
        Some(bytes)
    }
}

/// A dump read front to back through a window.
struct Stream<R> {
    reader: R,
    /// The window.
    buf: Vec<u8>,
    /// Offset of `buf[0]` in the dump.
    start: usize,
    eof: bool,
    error: Option<std::io::Error>,
}

impl<R: std::io::Read> Dump for Stream<R> {
    fn get(&mut self, s: usize, e: usize) -> Option<&[u8]> {
        const CHUNK: usize = 1 << 16;
        if s < self.start || e < s {
            return None;
        }
        if s >= self.start + self.buf.len() {
            // Skip to `s` without keeping what lies before it.
            let mut skip = (s - self.start - self.buf.len()) as u64;
            self.buf.clear();
            while skip > 0 && !self.eof {
                let n = skip.min(CHUNK as u64) as usize;
                self.buf.resize(n, 0);
                match self.reader.read(&mut self.buf) {
                    Ok(0) => self.eof = true,
                    Ok(k) => skip -= k as u64,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        self.error = Some(err);
                        self.eof = true;
                    }
                }
            }
            self.buf.clear();
            if skip > 0 {
                return None;
            }
            self.start = s;
        } else if s - self.start >= CHUNK {
            self.buf.drain(..s - self.start);
            self.start = s;
        }
        while self.start + self.buf.len() < e && !self.eof {
            let have = self.buf.len();
            self.buf.resize(have + CHUNK, 0);
            match self.reader.read(&mut self.buf[have..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.buf.truncate(have + k),
                Err(err) => {
                    self.buf.truncate(have);
                    if err.kind() != std::io::ErrorKind::Interrupted {
                        self.error = Some(err);
                        self.eof = true;
                    }
                }
            }
            if self.eof {
                self.buf.truncate(have);
            }
        }
        self.buf.get(s - self.start..e - self.start)
    }
}

/// Compare `plan.patched` with the dump, place by place in RVA order.
fn compare<S: SiteSource + ?Sized>(
    plan: &PatchPlan,
    bin: &Binary,
    sites: Option<&S>,
    dump: &mut impl Dump,
) -> Verification {
    let mut out = Verification {
        checked: 0,
        matched: 0,
        checked_bytes: 0,
        unpredicted: 0,
        by_kind: Vec::new(),
        mismatches: Vec::new(),
        not_in_dump: 0,
        ifunc_resolved: 0,
    };
    let fixed = fixed_places(plan, bin);
    let seq = fixed.len() as u32;
    let mut merged = Merged::default();
    merged.push(fixed);
    let Some(sites) = sites else {
        let all = Streamed { merged, pieces: None, floor: u64::MAX, seq: 0 };
        compare_places(plan, bin, all, dump, &mut out);
        return out;
    };
    // The fields of steps the plan cannot predict (an unbound import).
    let mut unbound: Vec<u64> =
        plan.steps.iter().filter(|s| s.status == Status::Unresolved).map(|s| s.target_rva).collect();
    unbound.sort_unstable();
    let mut resolved: Vec<u64> = plan.steps.iter().filter(|s| s.ifunc.is_some()).map(|s| s.target_rva).collect();
    resolved.sort_unstable();
    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(2);
        let (unbound, resolved) = (&unbound, &resolved);
        sc.spawn(move || {
            // Only the hand-over can fail: the comparison stopped reading.
            let _ = sites.each_piece_floored(
                |b| site_places(b, unbound, resolved),
                |p, floor| tx.send((p, floor)).map_err(|_| std::io::Error::other("the comparison stopped")),
            );
        });
        let all = Streamed { merged, pieces: Some(rx), floor: 0, seq };
        compare_places(plan, bin, all, dump, &mut out);
    });
    out
}

/// Compare each of `places` (in key order) with the dump, counting into `out`.
fn compare_places(
    plan: &PatchPlan,
    bin: &Binary,
    places: impl Iterator<Item = Place>,
    dump: &mut impl Dump,
    out: &mut Verification,
) {
    let expected = &plan.patched;
    let mut covered_to = 0u64;
    // Places of equal (rva, len) are neighbours in the sorted list: the last one reported is
    // the only one to check against.
    let mut reported: Option<(u64, u64)> = None;
    for p in places {
        if !p.predictable {
            out.unpredicted += 1;
            continue;
        }
        let len = u64::from(p.len);
        let (s, e) = (p.rva as usize, (p.rva + len) as usize);
        let Some(want) = expected.get(s..e) else { continue };
        let Some(got) = dump.get(s, e) else {
            continue;
        };
        if p.kind == PlaceKind::IfuncSlot {
            match ifunc_mismatch(plan, bin, &p, got) {
                None => out.ifunc_resolved += 1,
                Some(m) => {
                    out.checked += 1;
                    out.mismatches.push(m);
                }
            }
            continue;
        }
        out.checked += 1;
        let start = p.rva.max(covered_to);
        if p.rva + len > start {
            out.checked_bytes += p.rva + len - start;
            covered_to = p.rva + len;
        }
        let k = match out.by_kind.iter().position(|(n, _, _)| n == p.kind.name()) {
            Some(k) => k,
            None => {
                out.by_kind.push((p.kind.name().to_string(), 0, 0));
                out.by_kind.len() - 1
            }
        };
        out.by_kind[k].1 += 1;
        if want == got {
            out.matched += 1;
            out.by_kind[k].2 += 1;
        } else if reported != Some((p.rva, len)) {
            reported = Some((p.rva, len));
            out.mismatches.push(Mismatch {
                rva: p.rva,
                len,
                expected: hex(want),
                actual: hex(got),
                structure: format!("{} {}", p.kind.name(), p.name(plan, bin)),
            });
        }
    }
}

/// The slot of an IFUNC step holding `got`: None when the value lies in a loaded module's code
/// (a resolver's choice), else the mismatch. A `JUMP_SLOT` still pointing into the image itself,
/// for an IFUNC another module defines, is reported too: a lazily binding process has not bound
/// it yet (`session::verify::lazy_slots` takes those out).
fn ifunc_mismatch(plan: &PatchPlan, bin: &Binary, p: &Place, got: &[u8]) -> Option<Mismatch> {
    let Origin::Step(i) = p.from else { return None };
    let step = &plan.steps[i as usize];
    let f = step.ifunc.as_ref()?;
    let value = got.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x));
    let target = value.wrapping_sub(f.addend as u64);
    let l = super::ifunc::landing(&plan.modules, target);
    let unbound = l.module == Some(0) && l.in_code && f.module_index != 0 && step.reason.contains("JUMP_SLOT");
    if l.plausible() && !unbound {
        return None;
    }
    let at = match l.module {
        Some(m) if unbound => format!("still in {}'s code, at its PLT (not bound yet)", plan.modules[m].name),
        Some(m) => format!("in {} but not in its code", plan.modules[m].name),
        None => "in no loaded module".to_string(),
    };
    Some(Mismatch {
        rva: p.rva,
        len: u64::from(p.len),
        expected: String::new(),
        actual: hex(got),
        structure: format!("ifunc-slot {}: holds 0x{value:x}, {at}; a resolver returns code", p.name(plan, bin)),
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A dump's bytes as read from a file: gunzipped when they are gzip (at most the largest image
/// the engine maps, plus one byte, so a hostile archive cannot grow without bound).
pub fn dump_bytes(raw: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&raw[..]).take(super::load::MAX_IMAGE + 1).read_to_end(&mut out)?;
    Ok(out)
}

/// A dump shorter than the module's memory image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the dump has {dump} bytes, the image's memory {memory} (SizeOfImage / the PT_LOAD span): not a dump of this module"
)]
pub struct DumpTooShort {
    /// The dump's size.
    pub dump: usize,
    /// The memory image's size.
    pub memory: usize,
}

/// Whether a dump of `dump` bytes can be a memory image of `memory` bytes (it must hold at
/// least the whole image); the error says why not.
pub fn check_dump_len(dump: usize, memory: usize) -> Result<(), DumpTooShort> {
    if dump < memory {
        return Err(DumpTooShort { dump, memory });
    }
    Ok(())
}
