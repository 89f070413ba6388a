//! Compare a plan's prediction with the memory of a real process, at the places the loader and
//! the scheme write, nowhere else: every pseudo-relocation target, IAT slot, base-relocated field
//! (ELF: dynamic relocation) and data-reference site.

use serde::Serialize;

use super::{PatchPlan, Status};
use crate::analysis::Refs;
use crate::model::Binary;

/// One place whose bytes differ.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// RVA of the field.
    pub rva: u64,
    /// Its length in bytes.
    pub len: u64,
    /// The predicted bytes (hex, memory order).
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
}

/// A place to compare (its name is written only when it is reported).
struct Place {
    rva: u64,
    len: u64,
    kind: &'static str,
    from: Origin,
    predictable: bool,
}

/// What a place comes from, by position in its list.
#[derive(Clone, Copy)]
enum Origin {
    Step(usize),
    Binding(usize),
    Reloc(usize),
    Site(usize),
}

impl Place {
    /// The place's name in a mismatch (`mingw 3 (data.dll!arr)`, the import of a slot, …).
    fn name(&self, plan: &PatchPlan, bin: &Binary, refs: Option<&Refs>) -> String {
        match self.from {
            Origin::Step(i) => {
                let s = &plan.steps[i];
                format!(
                    "{} {}{}",
                    plan.scheme.name(),
                    s.index,
                    s.import.as_ref().map_or(String::new(), |i| format!(" ({i})"))
                )
            }
            Origin::Binding(i) => plan.bindings[i].import.clone(),
            Origin::Reloc(i) => format!("{i} ({})", bin.base_relocations[i].kind),
            Origin::Site(i) => match refs.and_then(|r| r.sites.get(i)) {
                Some(s) => format!("{} at 0x{:x}", s.mode.name(), s.site_rva),
                None => String::new(),
            },
        }
    }
}

/// The places of `bin` that loading and the scheme write.
fn places(plan: &PatchPlan, bin: &Binary, refs: Option<&Refs>) -> Vec<Place> {
    let mut v = Vec::new();
    let ptr = if plan.is_64 { 8 } else { 4 };
    for (i, s) in plan.steps.iter().enumerate() {
        if s.width == 0 {
            continue;
        }
        let predictable = s.status != Status::Unresolved && s.enabled;
        v.push(Place {
            rva: s.target_rva,
            len: u64::from(s.width / 8),
            kind: match plan.scheme {
                super::SchemeKind::Mingw => "pseudo-reloc-item",
                super::SchemeKind::Elf => "dynamic-reloc",
                _ => "scheme-step",
            },
            from: Origin::Step(i),
            predictable,
        });
    }
    for (i, b) in plan.bindings.iter().enumerate() {
        v.push(Place {
            rva: b.slot_rva,
            len: ptr,
            kind: "iat-slot",
            from: Origin::Binding(i),
            predictable: b.value.is_some(),
        });
    }
    for (i, r) in bin.base_relocations.iter().enumerate() {
        let len = crate::model::index::base_reloc_width(r.raw_type);
        if len > 0 {
            v.push(Place { rva: r.rva, len, kind: "base-reloc-entry", from: Origin::Reloc(i), predictable: true });
        }
    }
    if let Some(refs) = refs {
        // The fields of steps the plan cannot predict (an unbound import).
        let mut unbound: Vec<u64> =
            plan.steps.iter().filter(|s| s.status == Status::Unresolved).map(|s| s.target_rva).collect();
        unbound.sort_unstable();
        for (i, s) in refs.sites.iter().enumerate() {
            let len = u64::from(s.width / 8);
            if len == 0 {
                continue;
            }
            let predictable = unbound.binary_search(&s.field_rva).is_err();
            v.push(Place { rva: s.field_rva, len, kind: "data-ref-site", from: Origin::Site(i), predictable });
        }
    }
    v.sort_by_key(|p| (p.rva, p.len));
    v
}

/// Compare `plan.patched` with `dump` (the module's memory from its base, offset = RVA).
pub fn verify(plan: &PatchPlan, bin: &Binary, refs: Option<&Refs>, dump: &[u8]) -> Verification {
    compare(plan, bin, refs, &mut Whole(dump))
}

/// [`verify`] reading the dump from `reader` once, front to back (the places are visited in RVA
/// order), holding a small window of it instead of the whole: the result is the same as
/// [`verify`] on the bytes `reader` gives. A read error ends the dump there and is returned.
pub fn verify_stream(
    plan: &PatchPlan,
    bin: &Binary,
    refs: Option<&Refs>,
    reader: impl std::io::Read,
) -> (Verification, Option<std::io::Error>) {
    let mut src = Stream { reader, buf: Vec::new(), start: 0, eof: false, error: None };
    let v = compare(plan, bin, refs, &mut src);
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
fn compare(plan: &PatchPlan, bin: &Binary, refs: Option<&Refs>, dump: &mut impl Dump) -> Verification {
    let expected = &plan.patched;
    let mut out = Verification {
        checked: 0,
        matched: 0,
        checked_bytes: 0,
        unpredicted: 0,
        by_kind: Vec::new(),
        mismatches: Vec::new(),
    };
    let mut covered_to = 0u64;
    let mut reported: Vec<(u64, u64)> = Vec::new();
    for p in places(plan, bin, refs) {
        if !p.predictable {
            out.unpredicted += 1;
            continue;
        }
        let (s, e) = (p.rva as usize, (p.rva + p.len) as usize);
        let Some(want) = expected.get(s..e) else { continue };
        let Some(got) = dump.get(s, e) else {
            continue;
        };
        out.checked += 1;
        let start = p.rva.max(covered_to);
        if p.rva + p.len > start {
            out.checked_bytes += p.rva + p.len - start;
            covered_to = p.rva + p.len;
        }
        let k = match out.by_kind.iter().position(|(n, _, _)| n == p.kind) {
            Some(k) => k,
            None => {
                out.by_kind.push((p.kind.to_string(), 0, 0));
                out.by_kind.len() - 1
            }
        };
        out.by_kind[k].1 += 1;
        if want == got {
            out.matched += 1;
            out.by_kind[k].2 += 1;
        } else if !reported.contains(&(p.rva, p.len)) {
            reported.push((p.rva, p.len));
            out.mismatches.push(Mismatch {
                rva: p.rva,
                len: p.len,
                expected: hex(want),
                actual: hex(got),
                structure: format!("{} {}", p.kind, p.name(plan, bin, refs)),
            });
        }
    }
    out
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
