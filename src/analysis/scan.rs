//! The data-reference scan of an image: the tables a worker reads (covering relocations,
//! pseudo-relocations, IAT slots, `jmp [IAT]` thunks, CFG pointers, GOT and COPY slots, a page
//! table), the classification of a site's target (kind, import, symbol, offset, the
//! pseudo-relocation's authority and the ambiguity of the naive reading), reach, and the data
//! pointers outside the code. The per-instruction visitor is in `sweeper.rs`.

use super::code::{self, CodeRegion};
use super::reach::Resolved;
use super::site::{runtime_fits, signed_fits, ImportRef, Mode, Site, Summary, SymRef, TargetKind};
use crate::model::index::{is_object, Index};
use crate::model::{Binary, RelocKind};

/// A relocation that covers a field in an image: a PE base relocation or an ELF dynamic one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cover {
    pub rva: u64,
    /// Field width in bytes.
    pub width: u8,
    /// Whether `idx` is into `relocations` (ELF) rather than `base_relocations`.
    pub dynamic: bool,
    pub idx: u32,
    /// The pointer the field holds (a PE site's stored value; an ELF `RELATIVE` addend).
    pub value: Option<u64>,
}

impl Cover {
    /// Record on `s` which relocation covers its field.
    pub(crate) fn mark(&self, s: &mut Site) {
        if self.dynamic {
            s.reloc = Some(self.idx);
        } else {
            s.base_reloc = Some(self.idx);
        }
    }
}

/// Everything a worker reads: the model, its index and the sorted tables.
pub(crate) struct Ctx<'a> {
    pub bin: &'a Binary,
    pub index: &'a Index,
    pub bitness: u32,
    pub ptr: u64,
    pub base: u64,
    pub image_end: u64,
    pub headers_end: u64,
    pub covers: Vec<Cover>,
    pub pseudo: Vec<(u64, u32)>,
    pub thunks: Vec<(u64, u32)>,
    pub cfg: Vec<u64>,
    pub got: Vec<(u64, u32)>,
    pub copies: Vec<(u64, u64, u32)>,
    pub resolved: Vec<Option<Resolved>>,
    pub regions: Vec<CodeRegion<'a>>,
    /// `[first IAT slot, end of the last)`, to skip the IAT lookups for most targets.
    pub iat_range: (u64, u64),
    /// First and last thunk RVA.
    pub thunk_range: (u64, u64),
    /// Per 4 KiB page of the image: its section and where its symbols start, so most targets
    /// are classified without a search (empty for absurdly large images: then every lookup searches).
    pub pages: Vec<Page>,
    /// Whether sites need their exact field (kept, or matched against pseudo-relocations or IAT
    /// slots in code); a count-only scan of RIP-relative operands can skip iced's constant offsets.
    pub need_fields: bool,
    pub starts: Vec<Vec<usize>>,
}

/// What one worker produces.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub summary: Summary,
    pub sites: Option<Vec<Site>>,
    /// The sites moved out of `sites` by [`Out::pack`], compact.
    pub packed: super::SiteTable,
    /// Which pseudo-relocation items some site covered.
    pub pseudo_seen: Vec<bool>,
    /// Instruction starts (offsets into their region), when the index is wanted.
    pub insns: Option<Vec<u32>>,
    /// `(region, first position in insns)` each time the region changes.
    pub insn_regions: Vec<(usize, usize)>,
    /// Which sites to keep (all when `None`).
    pub keep: Option<super::SiteFilter>,
    /// Direct `call`s and `jmp`s, when wanted (for labels and cross-references): see
    /// [`crate::analysis::Refs::branches`].
    pub branches: Option<Vec<(u32, u32)>>,
    /// Only the branches to these (sorted) are kept in `branches`.
    pub branch_targets: Option<std::sync::Arc<[u32]>>,
    /// The targets of direct calls, with `branches`.
    pub calls: Option<Vec<u32>>,
}

impl Out {
    /// Move the sites kept so far into [`Out::packed`] (a collecting scan does so after each
    /// piece, so the whole sites of only one piece are held at a time).
    pub(crate) fn pack(&mut self) {
        // Taken, not drained: the whole sites' memory goes with them.
        if let Some(v) = self.sites.as_mut().map(std::mem::take) {
            self.packed.extend(v);
        }
    }

    /// Record the start of a region's instructions.
    pub(crate) fn enter_region(&mut self, region: usize) {
        if let Some(v) = &self.insns {
            if self.insn_regions.last().is_none_or(|&(r, _)| r != region) {
                self.insn_regions.push((region, v.len()));
            }
        }
    }

    /// Count a site (and keep it, when sites are collected).
    pub(crate) fn push(&mut self, s: Site) {
        self.summary.add(&s);
        if let Some(p) = s.pseudo_reloc.and_then(|p| self.pseudo_seen.get_mut(p as usize)) {
            *p = true;
        }
        if let Some(v) = &mut self.sites {
            if self.keep.as_ref().is_none_or(|k| (k.0)(&s)) {
                v.push(s);
            }
        }
    }
}

impl<'a> Ctx<'a> {
    /// Build the tables for an image.
    pub fn new(bin: &'a Binary, data: &'a [u8], index: &'a Index, resolved: Vec<Option<Resolved>>) -> Option<Self> {
        let bitness = code::bitness(bin)?;
        let ptr = if bin.is_64 { 8 } else { 4 };
        let base = bin.image_base.unwrap_or(0);
        let image_end = bin
            .sections
            .iter()
            .filter(|s| s.is_alloc)
            .map(|s| s.rva.saturating_add(s.virtual_size.max(s.file_size)))
            .max()
            .unwrap_or(0);
        let headers_end = bin.sections.iter().filter(|s| s.is_alloc).map(|s| s.rva).min().unwrap_or(0);
        let dynamic = if bin.format.is_elf() { bin.relocations.iter().filter(|r| r.dynamic).count() } else { 0 };
        let mut covers: Vec<Cover> = Vec::with_capacity(bin.base_relocations.len() + dynamic);
        for (i, r) in bin.base_relocations.iter().enumerate() {
            let width = match r.raw_type {
                3 => 4,
                10 => 8,
                _ => continue,
            };
            covers.push(Cover { rva: r.rva, width, dynamic: false, idx: i as u32, value: r.value });
        }
        if bin.format.is_elf() {
            for (i, r) in bin.relocations.iter().enumerate().filter(|(_, r)| r.dynamic) {
                if matches!(r.normalized, RelocKind::Relative | RelocKind::Absolute) && (r.width == 32 || r.width == 64)
                {
                    let value = (r.normalized == RelocKind::Relative).then_some(r.addend as u64);
                    covers.push(Cover { rva: r.offset, width: r.width / 8, dynamic: true, idx: i as u32, value });
                }
            }
        }
        covers.sort_by_key(|c| c.rva);
        let mut pseudo: Vec<(u64, u32)> =
            bin.pseudo_relocations.entries.iter().enumerate().map(|(i, e)| (e.target_rva, i as u32)).collect();
        pseudo.sort_unstable();
        let regions = code::code_regions(bin, data);
        let starts = code::known_starts(bin, index, &regions);
        let mut cx = Ctx {
            bin,
            index,
            bitness,
            ptr,
            base,
            image_end,
            headers_end,
            covers,
            pseudo,
            thunks: Vec::new(),
            cfg: Vec::new(),
            got: Vec::new(),
            copies: Vec::new(),
            resolved,
            regions,
            starts,
            iat_range: (0, 0),
            thunk_range: (1, 0),
            pages: Vec::new(),
            need_fields: true,
        };
        if let (Some(first), Some(last)) = (index.iat_sorted.first(), index.iat_sorted.last()) {
            cx.iat_range = (first.0, last.0.saturating_add(ptr));
        }
        cx.thunks = cx.find_thunks();
        if let (Some(first), Some(last)) = (cx.thunks.first(), cx.thunks.last()) {
            cx.thunk_range = (first.0, last.0);
        }
        cx.pages = cx.build_pages();
        if let Some(lc) = bin.pe.as_ref().and_then(|p| p.load_config.as_ref()) {
            for (name, v) in &lc.fields {
                if (name == "GuardCFCheckFunctionPointer" || name == "GuardCFDispatchFunctionPointer") && *v != 0 {
                    cx.cfg.push(v.wrapping_sub(base));
                }
            }
            cx.cfg.sort_unstable();
        }
        if let Some(elf) = &bin.elf {
            cx.got = elf.got_slots.iter().enumerate().map(|(i, g)| (g.rva, i as u32)).collect();
            cx.got.sort_unstable();
            cx.copies =
                elf.copy_relocations.iter().enumerate().map(|(i, c)| (c.rva, c.size.unwrap_or(0), i as u32)).collect();
            cx.copies.sort_unstable();
        }
        Some(cx)
    }

    fn build_pages(&self) -> Vec<Page> {
        let n = self.image_end.div_ceil(PAGE);
        if n > MAX_PAGES {
            return Vec::new();
        }
        let syms = &self.index.symbols_sorted;
        let exps = &self.index.exports_sorted;
        let (mut si, mut ei) = (0usize, 0usize);
        let mut pages = Vec::with_capacity(n as usize);
        for p in 0..n {
            let (start, end) = (p * PAGE, (p + 1) * PAGE);
            let first = self.index.section_pos_by_rva(start);
            let last = self.index.section_pos_by_rva(end - 1);
            let (s0, e0) = (si, ei);
            while syms.get(si).is_some_and(|&(r, _)| r < end) {
                si += 1;
            }
            while exps.get(ei).is_some_and(|&(r, _)| r < end) {
                ei += 1;
            }
            pages.push(Page {
                section: first.map_or(u32::MAX, |p| p as u32),
                special: if first != last { SPECIAL } else { 0 },
                sym: (s0 as u32, si as u32),
                exp: (e0 as u32, ei as u32),
            });
        }
        let mut mark = |rva: u64, len: u64, flag: u8| {
            for p in rva / PAGE..=(rva.saturating_add(len.max(1)) - 1) / PAGE {
                if let Some(pg) = pages.get_mut(p as usize) {
                    pg.special |= flag;
                }
            }
        };
        for &(r, _) in &self.index.iat_sorted {
            mark(r, self.ptr, SPECIAL);
        }
        // A thunk is an exact address: its page keeps the fast path with one more search.
        for &(r, _) in &self.thunks {
            mark(r, 1, THUNKS);
        }
        for &r in &self.cfg {
            mark(r, self.ptr, SPECIAL);
        }
        for &(r, _) in &self.got {
            mark(r, self.ptr, SPECIAL);
        }
        for &(r, size, _) in &self.copies {
            mark(r, size, SPECIAL);
        }
        pages
    }

    /// `jmp [IAT slot]` thunks: `FF 25` whose operand names the start of an IAT slot.
    fn find_thunks(&self) -> Vec<(u64, u32)> {
        if self.index.iat_sorted.is_empty() {
            return Vec::new();
        }
        let iat = &self.index.iat_sorted;
        let mut out: Vec<(u64, u32)> = code::slot_jumps(&self.regions, self.base)
            .filter_map(|(rva, slot)| Some((rva, iat[iat.binary_search_by_key(&slot, |&(s, _)| s).ok()?].1)))
            .collect();
        out.sort_unstable();
        out
    }

    /// Fill a site's target kind, import, symbol and offset from its `target_va`.
    pub(crate) fn classify(&self, s: &mut Site) {
        let t = s.target_va.checked_sub(self.base);
        s.target_rva = t;
        let Some(t) = t.filter(|&t| t < self.image_end) else {
            s.target_kind = TargetKind::Outside;
            return;
        };
        // The common case: a page with no IAT, CFG, GOT or COPY slot (a thunk on a page with
        // thunks takes the full lookup below).
        let page = self.pages.get((t / PAGE) as usize).filter(|p| {
            p.special & SPECIAL == 0
                && (p.special & THUNKS == 0 || self.thunks.binary_search_by_key(&t, |&(r, _)| r).is_err())
        });
        if let Some(pg) = page {
            let sec = self.bin.sections.get(pg.section as usize);
            s.target_kind = self.section_kind(sec, t);
            let sym = sec.and_then(|sec| self.symbol_below(t, sec.rva, pg.sym, pg.exp));
            s.symbol = sym.map(|(r, _)| r);
            s.offset = sym.map(|(_, at)| t.wrapping_sub(at) as i64);
            self.apply_pseudo(s, t);
            return;
        }
        let mut slot_start = None;
        let in_iat = t >= self.iat_range.0 && t < self.iat_range.1;
        let in_thunks = t >= self.thunk_range.0 && t <= self.thunk_range.1;
        if let Some((slot, row)) = self.index.iat_slot_at(t, self.ptr).filter(|_| in_iat) {
            s.target_kind = TargetKind::Iat;
            s.import = Some(ImportRef::Row(row as u32));
            slot_start = Some(slot);
        } else if let Some(i) = in_thunks.then(|| self.thunks.binary_search_by_key(&t, |&(r, _)| r).ok()).flatten() {
            s.target_kind = TargetKind::Thunk;
            s.import = Some(ImportRef::Row(self.thunks[i].1));
            slot_start = Some(t);
        } else if !self.cfg.is_empty() && self.cfg.binary_search(&t).is_ok() {
            s.target_kind = TargetKind::CfgPointer;
        } else if let Some(&(slot, i)) = lookup_range(&self.got, t, self.ptr).filter(|_| !self.got.is_empty()) {
            s.target_kind = TargetKind::Got;
            s.import = Some(ImportRef::Got(i));
            slot_start = Some(slot);
        } else if let Some(&(start, _, i)) = self.copy_at(t) {
            s.target_kind = TargetKind::Copy;
            s.import = Some(ImportRef::Copy(i));
            slot_start = Some(start);
        } else {
            s.target_kind =
                self.section_kind(self.index.section_pos_by_rva(t).and_then(|p| self.bin.sections.get(p)), t);
        }
        // An import names the target; a count-only scan looks a symbol up only for the rest.
        let sym = if s.import.is_none() || self.need_fields { self.symbol_at(t) } else { None };
        s.symbol = sym.map(|(r, _)| r);
        s.offset = match (slot_start, sym) {
            (Some(slot), _) => Some(t.wrapping_sub(slot) as i64),
            (None, Some((_, at))) => Some(t.wrapping_sub(at) as i64),
            (None, None) => None,
        };
        self.apply_pseudo(s, t);
    }

    /// The kind of a target in section `sec` (none: the headers or outside).
    fn section_kind(&self, sec: Option<&crate::model::Section>, t: u64) -> TargetKind {
        match sec {
            Some(sec) if sec.is_exec => TargetKind::Code,
            Some(_) => TargetKind::Data,
            None if t < self.headers_end => TargetKind::Header,
            None => TargetKind::Outside,
        }
    }

    fn copy_at(&self, t: u64) -> Option<&(u64, u64, u32)> {
        let i = self.copies.partition_point(|&(r, _, _)| r <= t);
        self.copies.get(i.checked_sub(1)?).filter(|&&(r, size, _)| t < r.saturating_add(size.max(1)))
    }

    /// The pseudo-relocation list is authoritative for the fields it covers; a field that is itself
    /// an IAT slot (GNU ld's v1 extra import descriptors put their IAT inside `.text` / `.data`) is
    /// bound to that slot's import by the loader, whatever it held on disk.
    fn apply_pseudo(&self, s: &mut Site, t: u64) {
        let field_in_iat = s.field_rva >= self.iat_range.0 && s.field_rva < self.iat_range.1;
        let field_slot = field_in_iat.then(|| self.index.import_at_slot(s.field_rva)).flatten();
        if let Some(row) = field_slot {
            settle(s, row, 0);
        }
        if self.pseudo.is_empty() {
            return;
        }
        let Ok(i) = self.pseudo.binary_search_by_key(&s.field_rva, |&(r, _)| r) else { return };
        let p = self.pseudo[i].1;
        s.pseudo_reloc = Some(p);
        let Some(e) = self.bin.pseudo_relocations.entries.get(p as usize) else { return };
        match (e.sym_rva, field_slot) {
            (Some(slot), _) => {
                if let Some(row) = self.index.import_at_slot(slot) {
                    settle(s, row, t.wrapping_sub(slot) as i64);
                }
            }
            // v1: the field is itself an IAT slot of an extra descriptor (settled above); the
            // addend is the offset into the imported object.
            (None, Some(_)) => s.offset = e.signed_addend(),
            (None, None) => {}
        }
    }

    /// Nearest symbol (else export) at or below `t` in the same section, with its RVA.
    fn symbol_at(&self, t: u64) -> Option<(SymRef, u64)> {
        let sec = self.index.section_pos_by_rva(t).and_then(|p| self.bin.sections.get(p))?;
        let all = |v: &[(u64, u32)]| (0, v.len() as u32);
        self.symbol_below(t, sec.rva, all(&self.index.symbols_sorted), all(&self.index.exports_sorted))
    }

    /// Nearest symbol (else export) at or below `t` and not below `sec_rva`, searching only
    /// `symbols_sorted[sym.0..sym.1]` and `exports_sorted[exp.0..exp.1]` (and the entry just
    /// before each range).
    fn symbol_below(&self, t: u64, sec_rva: u64, sym: (u32, u32), exp: (u32, u32)) -> Option<(SymRef, u64)> {
        let below = |v: &[(u64, u32)], (lo, hi): (u32, u32)| {
            let slice = v.get(lo as usize..hi as usize)?;
            let i = slice.partition_point(|&(r, _)| r <= t);
            let at = if i > 0 { slice.get(i - 1) } else { v.get((lo as usize).checked_sub(1)?) };
            at.filter(|&&(r, _)| r >= sec_rva).copied()
        };
        below(&self.index.symbols_sorted, sym)
            .map(|(r, i)| (SymRef::Symbol(i), r))
            .or_else(|| below(&self.index.exports_sorted, exp).map(|(r, i)| (SymRef::Export(i), r)))
    }

    /// Reach of a field narrower than a pointer, once the DLLs are placed.
    pub(crate) fn reach(&self, s: &mut Site, next_va: u64, out: &mut Summary) {
        if u64::from(s.width) >= self.ptr * 8 {
            return;
        }
        let via_pseudo = s.pseudo_reloc.is_some();
        match (s.import, via_pseudo) {
            (Some(ImportRef::Row(row)), true) => match self.resolved.get(row as usize).copied().flatten() {
                Some(r) => {
                    let target = r.va.wrapping_add(s.offset.unwrap_or(0) as u64);
                    let value = if s.mode == Mode::RipRelative { target.wrapping_sub(next_va) } else { target } as i64;
                    s.distance = Some(value);
                    s.reachable = Some(runtime_fits(value, s.width));
                    // The runtime accepts unsigned values too, but the CPU sign-extends a
                    // displacement: such a site silently reaches the wrong address.
                    s.wraps =
                        s.mode == Mode::RipRelative && runtime_fits(value, s.width) && !signed_fits(value, s.width);
                }
                None => out.reach_unknown += 1,
            },
            _ if s.mode == Mode::RipRelative => {
                let d = s.target_va.wrapping_sub(next_va) as i64;
                s.distance = Some(d);
                s.reachable = Some(signed_fits(d, s.width));
            }
            _ => {
                // An absolute field narrower than a pointer holds the address itself (sign-extended
                // by the CPU for a 32-bit displacement in 64-bit code).
                let v = s.target_va as i64;
                s.distance = Some(v);
                s.reachable = Some(signed_fits(v, s.width));
            }
        }
    }

    /// A site for a pointer field covered by `c` (data, or bytes in code outside any instruction).
    pub(crate) fn data_pointer(&self, c: &Cover, section: u32, out: &mut Out) {
        let Some(value) = c.value else { return };
        let mut s = blank(c.rva, c.rva, c.width * 8, Mode::DataPointer, section);
        s.target_va = value;
        c.mark(&mut s);
        self.classify(&mut s);
        out.push(s);
    }

    /// Data-pointer sites outside the decoded code (data sections, and fields in no section).
    pub(crate) fn data_sites(&self, out: &mut Out) {
        for (section, c) in self.outside_covers() {
            self.data_pointer(&self.covers[c as usize], section, out);
        }
    }

    /// The covers outside the decoded code, as `(section position or u32::MAX, index into
    /// covers)`, in cover order.
    pub(crate) fn outside_covers(&self) -> Vec<(u32, u32)> {
        let mut code: Vec<(u64, u64)> =
            self.regions.iter().map(|r| (r.rva, r.rva.saturating_add(r.bytes.len() as u64))).collect();
        code.sort_unstable();
        let mut v = Vec::new();
        for (k, c) in self.covers.iter().enumerate() {
            let i = code.partition_point(|&(s, _)| s <= c.rva);
            let in_code = code.get(i.wrapping_sub(1)).is_some_and(|&(s, e)| s <= c.rva && c.rva < e);
            if !in_code {
                let p = self.index.section_pos_by_rva(c.rva);
                v.push((p.map_or(u32::MAX, |p| p as u32), k as u32));
            }
        }
        v
    }
}

/// Give `s` the import of row `row` at `offset`: the truth, over what the address alone said (the
/// naive reading, when it named another IAT slot, makes the site ambiguous).
fn settle(s: &mut Site, row: usize, offset: i64) {
    let truth = ImportRef::Row(row as u32);
    let naive = s.import.filter(|_| s.target_kind == TargetKind::Iat);
    s.import = Some(truth);
    s.offset = Some(offset);
    if naive.is_some_and(|n| n != truth) {
        s.ambiguous = true;
        s.naive_import = naive;
    }
}

/// [`Page::special`]: take the full lookup.
const SPECIAL: u8 = 1;
/// [`Page::special`]: look for a thunk first.
const THUNKS: u8 = 2;

/// Page size of [`Ctx::pages`].
const PAGE: u64 = 4096;
/// Images larger than this many pages (4 GiB) get no page table.
const MAX_PAGES: u64 = 1 << 20;

/// What [`Ctx::classify`] needs to know about one page of the image.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    /// Position of the section holding the page (`u32::MAX`: none).
    section: u32,
    /// [`SPECIAL`]: the page holds an IAT, CFG, GOT or COPY slot, or two sections (use the full
    /// lookup); [`THUNKS`]: it holds a `jmp [IAT]` thunk (one more search).
    special: u8,
    /// `symbols_sorted[sym.0..sym.1]` lie in the page.
    sym: (u32, u32),
    /// `exports_sorted[exp.0..exp.1]` lie in the page.
    exp: (u32, u32),
}

fn lookup_range(v: &[(u64, u32)], t: u64, width: u64) -> Option<&(u64, u32)> {
    let i = v.partition_point(|&(r, _)| r <= t);
    v.get(i.checked_sub(1)?).filter(|&&(r, _)| t < r.saturating_add(width))
}

/// An empty site.
pub(crate) fn blank(site_rva: u64, field_rva: u64, width: u8, mode: Mode, section: u32) -> Site {
    Site {
        site_rva,
        field_rva,
        width,
        instr_len: 0,
        mode,
        section,
        target_va: 0,
        target_rva: None,
        target_section: None,
        target_kind: TargetKind::Outside,
        import: None,
        naive_import: None,
        symbol: None,
        offset: None,
        base_reloc: None,
        reloc: None,
        pseudo_reloc: None,
        ambiguous: false,
        reachable: None,
        distance: None,
        wraps: false,
        needs_import_fixup: false,
    }
}

/// Whether `bin` is scanned as an image (sites by decoding) rather than an object.
pub(crate) fn is_image(bin: &Binary) -> bool {
    !is_object(bin) && (bin.format.is_pe() || bin.format.is_elf())
}
