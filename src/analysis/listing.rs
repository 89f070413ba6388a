//! The disassembly listing: an index of every instruction start (the same sweep as the scan), and
//! formatting of single instructions with operands that name imports, thunks, symbols and exports
//! (iced's `SymbolResolver`), so a listing shows `call [KERNEL32.dll!ExitProcess]`, not a number.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use iced_x86::{
    Decoder, DecoderOptions, Formatter, FormatterOutput, FormatterTextKind, Instruction, IntelFormatter, OpKind,
    SymbolResolver, SymbolResult,
};

use super::code::{self, Chunk, CodeRegion};
use super::labels::Labels;
use super::namer::{with_offset, OperandName};
use super::offsets::PackedOffsets;
use super::{reach, scan, Placement, RefOptions, Refs, Site};
use crate::model::index::{import_name, is_object, Index};
use crate::model::Binary;

/// Flag on an [`InsnIndex`] offset: the row is a relocated pointer in code, not an instruction.
pub const DATA_ROW: u32 = 1 << 31;
/// With [`DATA_ROW`]: the pointer is 8 bytes (else 4).
pub const DATA_QUAD: u32 = 1 << 30;
/// Mask of the offset bits of an [`InsnIndex`] entry.
pub const OFFSET_MASK: u32 = DATA_QUAD - 1;

/// One decoded code region of the instruction index.
#[derive(Debug, Clone)]
pub struct IndexedRegion {
    /// Position of the section in `bin.sections`.
    pub section: usize,
    /// RVA of the region's first byte (section offset 0 in objects).
    pub rva: u64,
    /// File offset of the region's first byte.
    pub file_offset: u64,
    /// Region length in bytes.
    pub len: u64,
    /// First row of this region in [`InsnIndex::offsets`].
    pub first_row: usize,
}

/// Every instruction start of a file, in region order: row `i` is the instruction at
/// `regions[r].rva + offsets[i]`.
#[derive(Debug, Clone, Default)]
pub struct InsnIndex {
    /// The decoded regions.
    pub regions: Vec<IndexedRegion>,
    /// Instruction offsets into their region ([`DATA_ROW`] marks a pointer in code), about a
    /// byte a row.
    pub offsets: PackedOffsets,
    /// Decoder bitness.
    pub bitness: u32,
    /// Rows that are pointers in code ([`DATA_ROW`]): the other rows are the scan's
    /// `Summary::instructions`.
    pub data_rows: usize,
}

impl InsnIndex {
    /// Append one worker's instruction starts: `marks` are `(region, first position in offsets)`.
    pub(crate) fn append(
        &mut self,
        bin: &Binary,
        regions: &[CodeRegion<'_>],
        marks: &[(usize, usize)],
        offsets: Vec<u32>,
    ) {
        let base_row = self.offsets.len();
        for &(ri, first) in marks {
            let Some(r) = regions.get(ri) else { continue };
            if self.regions.last().is_some_and(|l| l.section == r.section && l.rva == r.rva) {
                continue;
            }
            self.regions.push(IndexedRegion {
                section: r.section,
                rva: r.rva,
                file_offset: bin.sections.get(r.section).map_or(0, |s| s.file_offset),
                len: r.bytes.len() as u64,
                first_row: base_row + first,
            });
        }
        self.data_rows += offsets.iter().filter(|&&o| o & DATA_ROW != 0).count();
        self.offsets.extend(offsets);
    }

    /// Number of rows: instructions and pointers in code.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The region and RVA of row `row`.
    pub fn at(&self, row: usize) -> Option<(&IndexedRegion, u64)> {
        let off = self.offsets.get(row)? & OFFSET_MASK;
        let r = self.regions.partition_point(|r| r.first_row <= row);
        let reg = self.regions.get(r.checked_sub(1)?)?;
        Some((reg, reg.rva + u64::from(off)))
    }

    /// For a row that is a pointer in code (not an instruction): its width in bytes.
    pub fn data_width(&self, row: usize) -> Option<u8> {
        let v = self.offsets.get(row)?;
        (v & DATA_ROW != 0).then_some(if v & DATA_QUAD != 0 { 8 } else { 4 })
    }

    /// The row of the instruction at or just before `rva` in section position `section` (any
    /// section when `None`).
    pub fn row_of(&self, rva: u64, section: Option<usize>) -> Option<usize> {
        // Regions are in section order; in images that is nearly always RVA order too.
        let inside = |r: &IndexedRegion| r.rva <= rva && rva < r.rva.saturating_add(r.len.max(1));
        let hit = match section {
            Some(s) => {
                let i = self.regions.partition_point(|r| r.section < s);
                self.regions.get(i).filter(|r| r.section == s && inside(r)).map(|r| (i, r))
            }
            None => {
                let i = self.regions.partition_point(|r| r.rva <= rva);
                match self.regions.get(i.wrapping_sub(1)).filter(|r| inside(r)) {
                    Some(r) => Some((i - 1, r)),
                    None => self.regions.iter().enumerate().find(|(_, r)| inside(r)),
                }
            }
        };
        let (ri, reg) = hit?;
        let end = self.regions.get(ri + 1).map_or(self.offsets.len(), |n| n.first_row);
        let off = rva - reg.rva;
        let i = self.offsets.partition_point(reg.first_row..end, |o| u64::from(o) <= off);
        i.checked_sub(1).filter(|&r| r >= reg.first_row)
    }
}

/// Names for addresses, owned (the formatter wants a `'static` resolver): IAT slots, thunks,
/// symbols and exports, sorted by VA.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// `(va, size, name)` sorted by VA; `size` 0 means "up to the next name in the section".
    entries: Vec<(u64, u64, String)>,
    /// `[lo, hi)`: the addresses some name covers lie inside (most operands lie outside).
    span: (u64, u64),
    /// Objects (whose sections all start at 0): each section's labels, `(offset, end, name)`,
    /// for the branches inside it.
    sections: Vec<Vec<(u64, u64, String)>>,
}

impl Names {
    /// The names of `bin` (VAs; section offsets in objects), code addresses named by `labels`
    /// first (each up to the next label), then IAT slots, symbols and exports.
    pub fn new(bin: &Binary, index: &Index, labels: Option<&Labels>) -> Self {
        let base = if is_object(bin) { 0 } else { bin.image_base.unwrap_or(0) };
        let ptr = if bin.is_64 { 8 } else { 4 };
        // `(va, rank, size, name)`: at one address the lowest rank wins, then the larger size.
        let mut entries: Vec<(u64, u8, u64, String)> = Vec::new();
        for &(rva, row) in &index.iat_sorted {
            let (Some(m), Some(e)) = (index.import_module(bin, row as usize), index.import_entry(bin, row as usize))
            else {
                continue;
            };
            entries.push((base + rva, 0, ptr, format!("{}!{}", m.dll, import_name(e))));
        }
        if !is_object(bin) {
            for l in labels.into_iter().flat_map(Labels::iter) {
                entries.push((base + l.rva, 1, l.end - l.rva, l.name.clone()));
            }
            for &(rva, sym) in &index.symbols_sorted {
                if let Some(s) = bin.symbols.get(sym as usize) {
                    let name = s.demangled.clone().unwrap_or_else(|| s.name.clone());
                    entries.push((base + rva, 2, s.size.unwrap_or(0), name));
                }
            }
            for &(rva, e) in &index.exports_sorted {
                if let Some(n) = bin.exports.get(e as usize).and_then(|e| e.name.clone()) {
                    entries.push((base + rva, 2, 0, n));
                }
            }
        }
        entries.sort_by_key(|e| (e.0, e.1, std::cmp::Reverse(e.2)));
        entries.dedup_by_key(|e| e.0);
        let entries: Vec<(u64, u64, String)> =
            entries.into_iter().map(|(va, _, size, name)| (va, size, name)).collect();
        let lo = entries.first().map_or(0, |e| e.0);
        let hi = entries.iter().map(|e| e.0.saturating_add(if e.1 > 0 { e.1 } else { 0x1_0000 })).max().unwrap_or(0);
        let mut sections: Vec<Vec<(u64, u64, String)>> = Vec::new();
        if is_object(bin) {
            sections = vec![Vec::new(); bin.sections.len()];
            for l in labels.into_iter().flat_map(Labels::iter) {
                if let Some(v) = sections.get_mut(l.section as usize) {
                    v.push((l.rva, l.end, l.name.clone()));
                }
            }
        }
        Names { entries, span: (lo, hi), sections }
    }

    /// In an object: the label of section position `section` that `offset` lies in, with the
    /// offset into it.
    pub fn lookup_in(&self, section: usize, offset: u64) -> Option<(&str, u64)> {
        let v = self.sections.get(section)?;
        let (start, end, name) = v.get(v.partition_point(|e| e.0 <= offset).checked_sub(1)?)?;
        (offset < *end).then(|| (name.as_str(), offset - start))
    }

    /// The name at or just below `va` with the offset into it, when `va` is inside it (a sized
    /// name) or close after it (within 64 KiB, for unsized names).
    pub fn lookup(&self, va: u64) -> Option<(&str, u64)> {
        if va < self.span.0 || va >= self.span.1 {
            return None;
        }
        let i = self.entries.partition_point(|e| e.0 <= va);
        let (start, size, name) = self.entries.get(i.checked_sub(1)?)?;
        let off = va - start;
        let inside = if *size > 0 { off < *size } else { off < 0x1_0000 };
        inside.then_some((name.as_str(), off))
    }
}

/// The names the sites of the instruction being formatted give its operands: the label, and the
/// address it requires, if any.
#[derive(Default)]
struct Known {
    /// The memory operand's displacement.
    displacement: Option<(String, Option<u64>)>,
    /// The immediate (or branch target).
    immediate: Option<(String, Option<u64>)>,
    /// A far branch's selector (OMF: a segment-base fixup, `seg name`).
    selector: Option<(String, Option<u64>)>,
}

struct Resolver {
    names: Arc<Names>,
    known: Rc<RefCell<Known>>,
    /// The section being listed (objects: its labels name the branches inside it).
    section: Rc<Cell<Option<usize>>>,
    /// Names of recent addresses, direct-mapped by address (a listing names the same calls and
    /// globals over and over): `(address, name)`, `None` when nothing is named there.
    cache: Vec<(u64, Option<String>)>,
}

/// Slots of [`Resolver::cache`] (a power of two).
const NAME_CACHE: usize = 1 << 12;

impl SymbolResolver for Resolver {
    fn symbol(
        &mut self,
        instruction: &Instruction,
        operand: u32,
        instruction_operand: Option<u32>,
        address: u64,
        _address_size: u32,
    ) -> Option<SymbolResult<'_>> {
        // What the instruction's sites say the operand names comes first: the address may land
        // on another slot (a pseudo-relocated field holds an offset from the wrong one) or, after
        // patching, outside the image.
        let known = self.known.borrow();
        let site = match instruction_operand.map(|o| instruction.op_kind(o)) {
            Some(OpKind::Memory) => known.displacement.as_ref(),
            // iced asks for a far branch's offset (operand 0), then its selector (operand 1).
            Some(OpKind::FarBranch16 | OpKind::FarBranch32) if operand == 1 => known.selector.as_ref(),
            Some(_) => known.immediate.as_ref(),
            None => None,
        };
        if let Some((label, _)) = site.filter(|(_, want)| want.is_none_or(|w| w == address)) {
            return Some(SymbolResult::with_string(address, label.clone()));
        }
        drop(known);
        let branch = instruction_operand
            .map(|o| instruction.op_kind(o))
            .is_some_and(|k| matches!(k, OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64));
        if let Some(sec) = self.section.get().filter(|_| branch) {
            let (name, off) = self.names.lookup_in(sec, address)?;
            return Some(SymbolResult::with_string(address, with_offset(name, i64::try_from(off).ok())));
        }
        if address < self.names.span.0 || address >= self.names.span.1 {
            return None;
        }
        let slot = (address ^ (address >> 12)) as usize & (NAME_CACHE - 1);
        let names = &self.names;
        let entry = self.cache.get_mut(slot)?;
        if entry.0 != address || address == u64::MAX {
            *entry = (address, names.lookup(address).map(|(name, off)| with_offset(name, i64::try_from(off).ok())));
        }
        Some(SymbolResult::with_str(address, entry.1.as_deref()?))
    }
}

/// Formats instructions with names.
pub struct Lister {
    formatter: IntelFormatter,
    bitness: u32,
    known: Rc<RefCell<Known>>,
    /// Objects: the section being formatted, shared with the resolver.
    section: Option<Rc<Cell<Option<usize>>>>,
}

impl Lister {
    /// A lister for code of `bitness` naming addresses through `names`.
    pub fn new(bitness: u32, names: Arc<Names>) -> Self {
        let known = Rc::new(RefCell::new(Known::default()));
        // `u64::MAX` marks an empty slot (that address is looked up every time).
        let cache = vec![(u64::MAX, None); NAME_CACHE];
        let section = Rc::new(Cell::new(None));
        let objects = !names.sections.is_empty();
        let resolver = Resolver { names, known: known.clone(), section: section.clone(), cache };
        let mut formatter = IntelFormatter::with_options(Some(Box::new(resolver)), None);
        let o = formatter.options_mut();
        o.set_hex_prefix("0x");
        o.set_hex_suffix("");
        o.set_uppercase_hex(false);
        o.set_rip_relative_addresses(false);
        o.set_show_branch_size(false);
        o.set_space_after_operand_separator(true);
        Lister { formatter, bitness, known, section: objects.then_some(section) }
    }

    /// The section whose code is formatted next (objects name the branches inside a section by
    /// its labels; images ignore it).
    pub fn set_section(&self, section: usize) {
        if let Some(s) = &self.section {
            s.set(Some(section));
        }
    }

    /// Decode and format the instruction at the start of `bytes`, whose address is `va`, its
    /// operands named by their addresses.
    pub fn format(&mut self, bytes: &[u8], va: u64) -> Option<(Instruction, String)> {
        self.format_named(bytes, va, &[])
    }

    /// Decode and format the instruction at the start of `bytes`, whose address is `va`: an
    /// operand whose field one of `operands` covers is named by that site's target (the same
    /// name before and after patching), the others by their addresses.
    pub fn format_named(&mut self, bytes: &[u8], va: u64, operands: &[OperandName]) -> Option<(Instruction, String)> {
        let mut s = String::new();
        let ins = self.format_into(bytes, va, operands, &mut s);
        Some((ins, s))
    }

    /// [`Lister::format_named`] appending the text to `s` (a listing reuses one buffer): returns
    /// the decoded instruction (invalid bytes append `(bad)`).
    pub fn format_into(&mut self, bytes: &[u8], va: u64, operands: &[OperandName], s: &mut String) -> Instruction {
        let mut d = Decoder::with_ip(self.bitness, bytes, va, DecoderOptions::NONE);
        self.format_next(&mut d, operands, s)
    }

    /// A decoder of this lister's bitness over `bytes` from `va` (for [`Lister::format_next`] and
    /// [`Lister::format_decoded`]).
    pub fn decoder<'b>(&self, bytes: &'b [u8], va: u64) -> Decoder<'b> {
        Decoder::with_ip(self.bitness, bytes, va, DecoderOptions::NONE)
    }

    /// [`Lister::format_into`] of the instruction at `d`'s position and IP (a listing moves one
    /// decoder over a section instead of making one per instruction).
    pub fn format_next(&mut self, d: &mut Decoder<'_>, operands: &[OperandName], s: &mut String) -> Instruction {
        let ins = d.decode();
        self.format_decoded(d, &ins, operands, s);
        ins
    }

    /// Format `ins`, the instruction `d` decoded last, into `out` (`(bad)` when invalid): the
    /// operands `operands` cover named by their sites, the others by their addresses.
    pub fn format_decoded(
        &mut self,
        d: &Decoder<'_>,
        ins: &Instruction,
        operands: &[OperandName],
        out: &mut dyn FormatterOutput,
    ) {
        if ins.is_invalid() {
            out.write("(bad)", FormatterTextKind::Text);
            return;
        }
        let mut known = Known::default();
        if !operands.is_empty() {
            let co = d.get_constant_offsets(ins);
            for o in operands {
                let f = usize::from(o.field);
                if co.has_displacement() && co.displacement_offset() == f {
                    known.displacement = Some((o.label.clone(), o.address));
                } else if co.has_immediate() && co.immediate_offset() == f {
                    known.immediate = Some((o.label.clone(), o.address));
                } else if co.has_immediate2() && co.immediate_offset2() == f {
                    known.selector = Some((o.label.clone(), o.address));
                }
            }
        }
        let named = known.displacement.is_some() || known.immediate.is_some() || known.selector.is_some();
        if named {
            *self.known.borrow_mut() = known;
        }
        self.formatter.format(ins, out);
        if named {
            *self.known.borrow_mut() = Known::default();
        }
    }
}

/// `dd 0x…` / `dq 0x…` for a pointer in code.
pub fn data_text(bytes: &[u8], width: u8) -> String {
    let v = match (width, bytes) {
        (8, [a, b, c, d, e, f, g, h, ..]) => u64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h]),
        (_, [a, b, c, d, ..]) => u64::from(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => 0,
    };
    format!("{} {v:#x}", if width == 8 { "dq" } else { "dd" })
}

/// Code bytes of one listing piece at least (the sweep cuts pieces at known function starts, so
/// a piece's instructions are those of one sweep over the whole region).
pub const PIECE_BYTES: usize = 1 << 16;

/// The code of a file cut into pieces at function starts (`.pdata` starts, symbols, exports: the
/// scan's re-synchronisation points), each swept on its own when it is listed: a listing holds
/// the instructions and sites of the pieces being formatted, never the whole file's.
pub struct PieceSweep<'a> {
    how: How<'a>,
    bitness: u32,
}

enum How<'a> {
    /// An image: the scan's tables, and the pieces.
    Image { cx: Box<scan::Ctx<'a>>, chunks: Vec<Chunk> },
    /// An object (or no code): one scan of everything, listed region by region.
    Whole(Box<Refs>),
}

/// The rows of one piece: instruction starts (and pointers in code) of one region, with the
/// sites they hold.
#[derive(Debug, Clone, Default)]
pub struct Piece {
    /// Position of the region's section in `bin.sections`.
    pub section: usize,
    /// RVA of the region's first byte.
    pub region_rva: u64,
    /// Offsets into the region, as [`InsnIndex::offsets`] ([`DATA_ROW`] marks a pointer).
    pub offsets: Vec<u32>,
    /// The sites of these rows, sorted by site then field address.
    pub sites: Vec<Site>,
}

impl Piece {
    /// The sites whose instruction (or field) starts at `rva`, from `*cursor` on when `rva` is
    /// not below the last one asked for (the rows come in address order), else by a search;
    /// the cursor moves to them.
    pub fn sites_at(&self, rva: u64, cursor: &mut usize) -> &[Site] {
        let sites = &self.sites;
        let mut i = (*cursor).min(sites.len());
        if i > 0 && sites[i - 1].site_rva >= rva {
            i = sites.partition_point(|s| s.site_rva < rva);
        } else {
            while sites.get(i).is_some_and(|s| s.site_rva < rva) {
                i += 1;
            }
        }
        *cursor = i;
        let n = sites[i..].iter().take_while(|s| s.site_rva == rva).count();
        &sites[i..i + n]
    }
}

impl<'a> PieceSweep<'a> {
    /// The pieces of `bin` (at least `piece_bytes` of code each), its DLLs placed by `placements`
    /// for the sites' reach.
    pub fn new(
        bin: &'a Binary,
        data: &'a [u8],
        index: &'a Index,
        placements: Vec<Placement>,
        piece_bytes: usize,
    ) -> Self {
        let bitness = code::bitness(bin).unwrap_or(0);
        if scan::is_image(bin) && bitness != 0 {
            let resolved = reach::resolve(bin, index, &placements);
            if let Some(mut cx) = scan::Ctx::new(bin, data, index, resolved) {
                cx.need_fields = true;
                let chunks = code::chunks(&cx.regions, &cx.starts, usize::MAX, piece_bytes.max(1));
                return PieceSweep { how: How::Image { cx: Box::new(cx), chunks }, bitness };
            }
        }
        let opts = RefOptions { threads: 1, placements, collect: true, instructions: true, ..RefOptions::default() };
        let refs = super::scan_refs(bin, data, index, &opts);
        PieceSweep { how: How::Whole(Box::new(refs)), bitness }
    }

    /// Decoder bitness (0: no x86 code).
    pub fn bitness(&self) -> u32 {
        self.bitness
    }

    /// Number of pieces.
    pub fn len(&self) -> usize {
        match &self.how {
            How::Image { chunks, .. } => chunks.len(),
            How::Whole(refs) => refs.insns.regions.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sweep piece `i` (out of range: `None`).
    pub fn piece(&self, i: usize) -> Option<Piece> {
        match &self.how {
            How::Image { cx, chunks } => {
                let c = *chunks.get(i)?;
                let region = cx.regions.get(c.region)?;
                let mut out = scan::Out { sites: Some(Vec::new()), insns: Some(Vec::new()), ..scan::Out::default() };
                cx.sweep_chunk(c, &mut out);
                let mut sites = out.sites.unwrap_or_default();
                // The scan's order (stable, as its sort of every piece's sites together).
                sites.sort_by_key(|s| (s.section, s.site_rva, s.field_rva));
                let section = region.section;
                sites.retain(|s| s.section as usize == section);
                Some(Piece { section, region_rva: region.rva, offsets: out.insns.unwrap_or_default(), sites })
            }
            How::Whole(refs) => {
                let ix = &refs.insns;
                let reg = ix.regions.get(i)?;
                let end = ix.regions.get(i + 1).map_or(ix.offsets.len(), |n| n.first_row);
                let offsets = ix.offsets.range(reg.first_row..end);
                // The scan sorts its sites by section first (those in no section last).
                let key = |s: &Site| (s.section == u32::MAX, s.section as usize);
                let lo = refs.sites.partition_point(|s| key(s) < (false, reg.section));
                let hi = refs.sites.partition_point(|s| key(s) <= (false, reg.section));
                let sites = refs.sites.slice(lo..hi);
                Some(Piece { section: reg.section, region_rva: reg.rva, offsets, sites })
            }
        }
    }
}
