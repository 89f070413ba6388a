//! Where the code is and where instructions are known to start: the executable sections of a file
//! with their bytes and bitness, the known starts that re-synchronise a linear sweep (entry point,
//! exports, function symbols, x64 `.pdata` starts, TLS callbacks), chunks split at those starts for
//! threads, and the sweep itself.

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic};

use crate::model::index::{is_object, Index};
use crate::model::{Arch, Binary, SymbolKind};

/// One executable section to decode.
#[derive(Debug, Clone, Copy)]
pub struct CodeRegion<'a> {
    /// Position of the section in `bin.sections`.
    pub section: usize,
    /// RVA of the first byte (section offset 0 in objects).
    pub rva: u64,
    /// The section's bytes in the file (uninitialised tail excluded; an OMF segment's bytes as
    /// its data records assembled them).
    pub bytes: &'a [u8],
    /// Decoder bitness of this code (16, 32 or 64: an OMF segment says its own).
    pub bitness: u32,
    /// Whether jump tables of 32-bit RVAs may sit between functions (x64 PE images: MSVC puts
    /// a `switch`'s table right after the function, as image-relative offsets no base relocation
    /// marks).
    pub rva_tables: bool,
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

/// Decoder bitness of the code in section position `p`: an OMF segment's USE16 / USE32 (one
/// module may hold both), else the machine's ([`bitness`]).
pub fn section_bitness(bin: &Binary, p: usize) -> Option<u32> {
    match (&bin.omf, bin.sections.get(p)) {
        (Some(omf), Some(s)) => super::omf::section_bitness(omf, s.index),
        _ => bitness(bin),
    }
}

/// The bytes of section position `p`: its range of the file, or for an OMF segment or COMDAT the
/// bytes its data records assembled (LIDATA expanded), which no one range of the file holds.
pub fn section_code<'a>(bin: &'a Binary, data: &'a [u8], p: usize) -> &'a [u8] {
    match (&bin.omf, bin.sections.get(p)) {
        (Some(omf), Some(s)) => super::omf::section_bytes(omf, s.index),
        (None, Some(s)) => s.bytes(data),
        _ => &[],
    }
}

/// Where `len` bytes at section offset `off` of section position `p` lie in the file (`None`
/// where no file range holds them: an OMF segment's iterated data).
pub fn file_span(bin: &Binary, p: usize, off: u64, len: u64) -> Option<crate::model::Span> {
    let s = bin.sections.get(p)?;
    match &bin.omf {
        Some(omf) => super::omf::file_span(omf, s.index, off, len),
        None => Some(crate::model::Span::new(s.file_offset.checked_add(off)?, len)),
    }
}

/// The executable sections of `bin` that have bytes, in section order (OMF: the code segments
/// and COMDATs with the bytes their data records assembled).
pub fn code_regions<'a>(bin: &'a Binary, data: &'a [u8]) -> Vec<CodeRegion<'a>> {
    if bitness(bin).is_none() {
        return Vec::new();
    }
    let omf = bin.omf.is_some();
    bin.sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_exec && (s.file_size > 0 || omf) && (s.is_alloc || is_object(bin)))
        .filter_map(|(p, s)| {
            let bytes = section_code(bin, data, p);
            let bitness = section_bitness(bin, p)?;
            // A section's file data past its virtual size is not mapped (images only).
            let mapped = if is_object(bin) || s.virtual_size == 0 {
                bytes.len()
            } else {
                bytes.len().min(usize::try_from(s.virtual_size).unwrap_or(usize::MAX))
            };
            let rva_tables = bin.format.is_pe() && bin.is_64 && !is_object(bin);
            Some(CodeRegion { section: p, rva: s.rva, bytes: &bytes[..mapped], bitness, rva_tables })
        })
        .filter(|r| !r.bytes.is_empty())
        .collect()
}

/// Every `FF 25` (`jmp [mem]`, a thunk's one instruction) in `regions`, with the RVA of the slot
/// it jumps through: RIP-relative in 64-bit code, absolute (less `base`) in 32-bit code. A byte
/// search: callers keep the ones whose slot is an import's.
pub fn slot_jumps<'r>(regions: &'r [CodeRegion<'_>], base: u64) -> impl Iterator<Item = (u64, u64)> + 'r {
    regions.iter().flat_map(move |r| {
        memchr::memmem::find_iter(r.bytes, b"\xff\x25").filter_map(move |at| {
            let &[a, b, c, d] = r.bytes.get(at + 2..at + 6)? else { return None };
            let d = u32::from_le_bytes([a, b, c, d]);
            let rva = r.rva + at as u64;
            let slot = if r.bitness == 64 {
                rva.wrapping_add(6).wrapping_add(i64::from(d as i32) as u64)
            } else {
                u64::from(d).wrapping_sub(base)
            };
            Some((rva, slot))
        })
    })
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

/// Entries a run of RVAs needs before it is taken for a jump table.
const MIN_TABLE_ENTRIES: usize = 4;

/// After an instruction that ends the flow of control, a jump table of 32-bit RVAs that point
/// into this region, behind `int3` / `nop` padding: `(first entry, entries)`, as region offsets,
/// not past `limit`. Four entries at least, 4-aligned, each inside the region's code.
fn rva_table(region: &CodeRegion<'_>, from: usize, limit: usize) -> Option<(usize, usize)> {
    let b = region.bytes;
    let mut p = from;
    // Padding: int3, nop and the multi-byte nops compilers align with, one alignment's worth.
    while p < limit && p < from + 16 {
        match padding_len(b.get(p..).unwrap_or_default()) {
            0 => break,
            n => p += n,
        }
    }
    if !p.is_multiple_of(4) {
        return None;
    }
    let (lo, hi) = (region.rva, region.rva.saturating_add(b.len() as u64));
    let mut n = 0;
    while let Some(e) = b.get(p + 4 * n..p + 4 * n + 4).filter(|_| p + 4 * n + 4 <= limit) {
        let v = u64::from(u32::from_le_bytes([e[0], e[1], e[2], e[3]]));
        if !(lo..hi).contains(&v) {
            break;
        }
        n += 1;
    }
    (n >= MIN_TABLE_ENTRIES).then_some((p, n))
}

/// Length of the padding instruction at the start of `b`: `int3`, `nop`, `66 90`, or a `0f 1f /0`
/// multi-byte nop (with an optional `66` prefix); 0 for anything else.
fn padding_len(b: &[u8]) -> usize {
    let (prefix, rest) = match b {
        [0x66, rest @ ..] => (1, rest),
        _ => (0, b),
    };
    match rest {
        [0xcc | 0x90, ..] => prefix + 1,
        [0x0f, 0x1f, modrm, ..] if modrm & 0x38 == 0 => {
            // ModRM with reg = 0: no SIB/displacement, disp8, or disp32 (a SIB byte when rm = 4).
            let sib = usize::from(modrm & 7 == 4 && modrm >> 6 != 3);
            let disp = match modrm >> 6 {
                1 => 1,
                2 => 4,
                _ => 0,
            };
            prefix + 3 + sib + disp
        }
        _ => 0,
    }
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
                    // A table follows the end of a function's flow, or alignment padding (after
                    // another table's bytes, decoded as whatever they spell).
                    let before_table = matches!(
                        ins.mnemonic(),
                        Mnemonic::Ret | Mnemonic::Jmp | Mnemonic::Int3 | Mnemonic::Ud2 | Mnemonic::Nop
                    );
                    if region.rva_tables && before_table {
                        if let Some((first, n)) = rva_table(region, pos, end.min(next_known)) {
                            // A jump table: its entries are data, not instructions.
                            v.skipped(pos, first + 4 * n - pos, false);
                            if let Some(r) = rows.as_deref_mut() {
                                r.extend((0..n).map(|i| (first + 4 * i) as u32 | super::listing::DATA_ROW));
                            }
                            pos = first + 4 * n;
                            if !reposition(&mut decoder, pos) {
                                return count;
                            }
                        }
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn region(bytes: &[u8]) -> CodeRegion<'_> {
        CodeRegion { section: 0, rva: 0x1000, bytes, bitness: 64, rva_tables: true }
    }

    #[test]
    fn padding_is_int3_nop_and_the_multi_byte_nops() {
        assert_eq!(padding_len(&[0xcc]), 1);
        assert_eq!(padding_len(&[0x66, 0x90]), 2);
        assert_eq!(padding_len(&[0x0f, 0x1f, 0x00]), 3);
        assert_eq!(padding_len(&[0x0f, 0x1f, 0x40, 0x00]), 4);
        assert_eq!(padding_len(&[0x0f, 0x1f, 0x44, 0x00, 0x00]), 5);
        assert_eq!(padding_len(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00]), 6);
        assert_eq!(padding_len(&[0x0f, 0x1f, 0x80, 0, 0, 0, 0]), 7);
        assert_eq!(padding_len(&[0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]), 8);
        assert_eq!(padding_len(&[0x48, 0x8b, 0xc3]), 0);
        assert_eq!(padding_len(&[0x0f, 0x1f]), 0, "a cut-off nop is no padding");
        assert_eq!(padding_len(&[]), 0);
    }

    #[test]
    fn a_table_of_rvas_after_padding_is_found_and_code_is_not() {
        // jmp rax; int3; 66 90; int3 × 3 (to offset 8); five RVAs into this region; code.
        let mut b = vec![0xff, 0xe0, 0xcc, 0x66, 0x90, 0xcc, 0xcc, 0xcc];
        for r in [0x1000u32, 0x1010, 0x1020, 0x1004, 0x1030] {
            b.extend(r.to_le_bytes());
        }
        b.extend([0x48, 0x8b, 0xc3, 0xc3]);
        b.resize(0x40, 0xcc);
        let reg = region(&b);
        assert_eq!(rva_table(&reg, 2, b.len()), Some((8, 5)));
        // Not 4-aligned after the padding, too few entries, values outside the region, a limit.
        assert_eq!(rva_table(&reg, 1, b.len()), None, "starts inside the jmp");
        assert_eq!(rva_table(&reg, 2, 8 + 12), None, "three entries before the limit");
        let outside: Vec<u8> = [0x9000u32; 6].iter().flat_map(|r| r.to_le_bytes()).collect();
        assert_eq!(rva_table(&region(&outside), 0, outside.len()), None);
    }
}
