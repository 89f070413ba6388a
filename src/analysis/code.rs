//! Where the code is and where instructions are known to start: the executable sections of a file
//! with their bytes and bitness, the known starts that re-synchronise a linear sweep (entry point,
//! exports, function symbols, x64 `.pdata` starts, TLS callbacks), chunks split at those starts for
//! threads, and the sweep itself.

use iced_x86::{Decoder, DecoderOptions, Instruction};

use crate::model::index::{is_object, Index};
use crate::model::{Arch, Binary, SymbolKind};

/// One executable section to decode.
#[derive(Debug, Clone, Copy)]
pub struct CodeRegion<'a> {
    /// Position of the section in `bin.sections`.
    pub section: usize,
    /// RVA of the first byte (section offset 0 in objects).
    pub rva: u64,
    /// The section's bytes in the file (uninitialised tail excluded).
    pub bytes: &'a [u8],
}

/// A piece of a code region that one worker sweeps: `[start, end)` as offsets into the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Index into the region list.
    pub region: usize,
    /// First byte (an offset into the region's bytes).
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Decoder bitness for `bin`'s machine, or `None` when it is not x86 or x64.
pub fn bitness(bin: &Binary) -> Option<u32> {
    match bin.arch {
        Arch::X86_64 => Some(64),
        Arch::X86 => Some(32),
        _ => None,
    }
}

/// The executable sections of `bin` that have bytes, in section order. OMF segment data is not
/// contiguous in the file, so OMF objects have none (their sites come from fixups alone).
pub fn code_regions<'a>(bin: &Binary, data: &'a [u8]) -> Vec<CodeRegion<'a>> {
    if bin.omf.is_some() || bitness(bin).is_none() {
        return Vec::new();
    }
    bin.sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_exec && s.file_size > 0 && (s.is_alloc || is_object(bin)))
        .map(|(p, s)| {
            let bytes = s.bytes(data);
            // A section's file data past its virtual size is not mapped (images only).
            let mapped = if is_object(bin) || s.virtual_size == 0 {
                bytes.len()
            } else {
                bytes.len().min(usize::try_from(s.virtual_size).unwrap_or(usize::MAX))
            };
            CodeRegion { section: p, rva: s.rva, bytes: &bytes[..mapped] }
        })
        .filter(|r| !r.bytes.is_empty())
        .collect()
}

/// Known instruction starts per region (offsets into the region, sorted, deduplicated): the entry
/// point, exports, function symbols, `.pdata` function starts and TLS callbacks.
pub fn known_starts(bin: &Binary, index: &Index, regions: &[CodeRegion<'_>]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); regions.len()];
    let object = is_object(bin);
    // Region by section position, and regions by RVA (images), so a file with very many code
    // sections costs a lookup per start, not a scan.
    let mut by_section = vec![usize::MAX; bin.sections.len()];
    for (i, r) in regions.iter().enumerate() {
        if let Some(slot) = by_section.get_mut(r.section) {
            *slot = i;
        }
    }
    let mut by_rva: Vec<(u64, u64, usize)> =
        regions.iter().enumerate().map(|(i, r)| (r.rva, r.rva.saturating_add(r.bytes.len() as u64), i)).collect();
    by_rva.sort_unstable();
    let mut add = |section: Option<usize>, rva: u64| {
        let r = match section {
            Some(p) => by_section.get(p).copied().filter(|&i| i != usize::MAX),
            None => {
                let i = by_rva.partition_point(|&(s, _, _)| s <= rva);
                by_rva.get(i.wrapping_sub(1)).filter(|&&(s, e, _)| s <= rva && rva < e).map(|&(_, _, r)| r)
            }
        };
        let Some(r) = r else {
            return;
        };
        let reg = &regions[r];
        if let Some(off) = rva.checked_sub(reg.rva).and_then(|o| usize::try_from(o).ok()) {
            if off < reg.bytes.len() {
                out[r].push(off);
            }
        }
    };
    if !object {
        if let Some(e) = bin.entry_rva {
            add(None, e);
        }
        for e in bin.exports.iter().filter(|e| e.forwarder.is_none()) {
            add(None, e.rva);
        }
        if let Some(pe) = &bin.pe {
            for f in &pe.exceptions {
                add(None, u64::from(f.begin));
            }
            let base = bin.image_base.unwrap_or(0);
            for &cb in pe.tls.iter().flat_map(|t| &t.callbacks) {
                add(None, cb.wrapping_sub(base));
            }
        }
    }
    // Function symbols only: data symbols in code point at data (`___CTOR_LIST__`) or into the
    // middle of an instruction (GNU ld's v1 `__fu*` labels name a displacement field).
    for s in bin.symbols.iter().filter(|s| matches!(s.kind, SymbolKind::Function | SymbolKind::Label)) {
        let Some(p) = s.section.and_then(|i| index.section_pos(i)) else { continue };
        let Some(sec) = bin.sections.get(p) else { continue };
        let rva = if object {
            s.value
        } else if bin.format.is_elf() {
            s.value.wrapping_sub(bin.image_base.unwrap_or(0))
        } else {
            sec.rva.wrapping_add(s.value)
        };
        add(Some(p), if object { rva.wrapping_add(sec.rva) } else { rva });
    }
    for v in &mut out {
        v.sort_unstable();
        v.dedup();
    }
    out
}

/// Split the regions into about `n` chunks of similar size (at least `min` bytes), cutting only at
/// known starts, so that
/// sweeping the chunks one by one gives exactly the instructions of one sweep over each region.
pub fn chunks(regions: &[CodeRegion<'_>], starts: &[Vec<usize>], n: usize, min: usize) -> Vec<Chunk> {
    let total: usize = regions.iter().map(|r| r.bytes.len()).sum();
    let target = (total / n.max(1)).max(min.max(1));
    let mut out = Vec::new();
    for (ri, r) in regions.iter().enumerate() {
        let mut begin = 0usize;
        for &k in starts.get(ri).map_or(&[][..], Vec::as_slice) {
            if k > begin && k - begin >= target {
                out.push(Chunk { region: ri, start: begin, end: k });
                begin = k;
            }
        }
        out.push(Chunk { region: ri, start: begin, end: r.bytes.len() });
    }
    out
}

/// What a visitor makes of a decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An instruction: go on after it.
    Next,
    /// Not an instruction: a `width`-byte pointer at region offset `field` (a relocation says
    /// so); go on after the pointer.
    Data {
        /// Region offset of the pointer.
        field: usize,
        /// Its width in bytes.
        width: u8,
    },
}

/// What the sweep tells its visitor about each decoded instruction.
pub trait Visit {
    /// An instruction at region offset `off` (its `ip()` is its VA).
    fn instruction(&mut self, ins: &Instruction, off: usize, decoder: &Decoder<'_>) -> Step;
    /// Bytes `[off, off + len)` that did not decode (counted as invalid, skipped one at a time) or
    /// were skipped to re-synchronise at a known start.
    fn skipped(&mut self, _off: usize, _len: usize, _invalid: bool) {}
}

/// Linear sweep of `chunk`, re-synchronised at the region's known starts: an instruction that would
/// run over a known start is dropped and decoding restarts at that start; invalid bytes are skipped
/// one at a time. `va` is the virtual address of the region's first byte. Each instruction start
/// (and each pointer in code, flagged [`super::listing::DATA_ROW`]) is appended to `rows` when
/// given; returns the number of instructions.
pub fn sweep(
    bitness: u32,
    region: &CodeRegion<'_>,
    va: u64,
    starts: &[usize],
    chunk: Chunk,
    v: &mut impl Visit,
    mut rows: Option<&mut Vec<u32>>,
) -> u64 {
    let mut count = 0u64;
    // Decode from the whole region: a chunk ends at a known start (handled like any other known
    // start) or at the region's end, so both ways of cutting see the same bytes.
    let end = chunk.end.min(region.bytes.len());
    let mut decoder = Decoder::with_ip(bitness, region.bytes, va, DecoderOptions::NONE);
    let mut ins = Instruction::default();
    let mut pos = chunk.start;
    let mut ki = starts.partition_point(|&k| k <= pos);
    let reposition = |d: &mut Decoder<'_>, p: usize| {
        let ok = d.set_position(p).is_ok();
        d.set_ip(va.wrapping_add(p as u64));
        ok
    };
    if !reposition(&mut decoder, pos) {
        return count;
    }
    // Invariant at the top of the loop: `next_known` is the first known start after `pos`.
    let known_at = |ki: usize| starts.get(ki).copied().unwrap_or(usize::MAX);
    let mut next_known = known_at(ki);
    while pos < end {
        decoder.decode_out(&mut ins);
        let len = ins.len().max(1);
        let next = pos + len;
        if next > next_known {
            // The instruction runs over a known start: drop it and restart there.
            v.skipped(pos, next_known - pos, false);
            pos = next_known;
            ki += 1;
            next_known = known_at(ki);
            if !reposition(&mut decoder, pos) {
                return count;
            }
            continue;
        }
        if ins.is_invalid() {
            v.skipped(pos, 1, true);
            pos += 1;
            if !reposition(&mut decoder, pos) {
                return count;
            }
        } else {
            match v.instruction(&ins, pos, &decoder) {
                Step::Next => {
                    count += 1;
                    if let Some(r) = rows.as_deref_mut() {
                        r.push(pos as u32);
                    }
                    pos = next;
                }
                Step::Data { field, width } => {
                    if let Some(r) = rows.as_deref_mut() {
                        let wide = if width == 8 { super::listing::DATA_QUAD } else { 0 };
                        r.push(field as u32 | super::listing::DATA_ROW | wide);
                    }
                    // Never past the next known start: a chunk may end there.
                    pos = (field + usize::from(width)).max(pos + 1).min(end).min(next_known);
                    if !reposition(&mut decoder, pos) {
                        return count;
                    }
                }
            }
        }
        if pos >= next_known {
            while known_at(ki) <= pos {
                ki += 1;
            }
            next_known = known_at(ki);
        }
    }
    count
}
