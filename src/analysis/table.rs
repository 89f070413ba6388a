//! The kept sites of a scan in compact form: [`SiteTable`] stores a [`Site`] in 36 bytes
//! (addresses as 32-bit offsets, the enums and flags packed in bits, indices as `u32`) instead of
//! 144, and gives each back by value when it is read. A site that does not fit the compact row
//! (an address past 4 GiB, a value wider than 32 bits, two relocations on one field, a naive
//! import reading) is kept whole beside the rows, so the table holds any site exactly.

use std::io;

use super::site::{ImportRef, Mode, Site, SymRef, TargetKind};
use super::stream::SiteSource;

/// Sites handed to [`SiteSource`] work at once (the sites of one instruction stay together).
const BATCH: usize = 8192;

/// No section / no index (`u16` fields).
const NONE16: u16 = u16::MAX;
/// No index (`u32` fields).
const NONE32: u32 = u32::MAX;

// Bit fields of `Row::flags`.
const MODE: (u32, u32) = (0, 3);
const KIND: (u32, u32) = (3, 4);
const IMPORT: (u32, u32) = (7, 3);
const SYMBOL: (u32, u32) = (10, 2);
const RELOC: (u32, u32) = (12, 2);
const HAS_RVA: (u32, u32) = (14, 1);
const AMBIGUOUS: (u32, u32) = (15, 1);
const WRAPS: (u32, u32) = (16, 1);
const FIXUP: (u32, u32) = (17, 1);
const REACHABLE: (u32, u32) = (18, 2);
const OFFSET: (u32, u32) = (20, 2);
/// 1: the distance is [`rip_distance`] of the row.
const DISTANCE: (u32, u32) = (22, 2);
const SPILLED: (u32, u32) = (24, 1);

fn get(flags: u32, (at, bits): (u32, u32)) -> u32 {
    (flags >> at) & ((1 << bits) - 1)
}

fn set(flags: &mut u32, (at, bits): (u32, u32), v: u32) {
    *flags |= (v & ((1 << bits) - 1)) << at;
}

/// One site in 36 bytes. `site` is the site's RVA, or for a spilled row the position of the
/// whole site in [`SiteTable::spill`] (the other fields are then unused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    site: u32,
    /// `target_va` minus `SiteTable::bases[base]`; the target RVA when it has one.
    target: u32,
    /// The import's position ([`IMPORT`] says which list).
    import: u32,
    /// The symbol's position ([`SYMBOL`] says which list).
    symbol: u32,
    /// The base relocation, relocation or pseudo-relocation ([`RELOC`] says which).
    reloc: u32,
    /// The offset's low 32 bits ([`OFFSET`]: none, sign- or zero-extended).
    offset: u32,
    section: u16,
    target_section: u16,
    /// `field_rva - site_rva`.
    field: u8,
    width: u8,
    instr_len: u8,
    /// Position in `SiteTable::bases`.
    base: u8,
    flags: u32,
}

/// The sites of a scan, kept compact ([`super::Refs::sites`]): 36 bytes a site where the scan's
/// [`Site`] takes 144. Read a site by value with [`SiteTable::get`] or [`SiteTable::iter`].
#[derive(Debug, Clone, Default)]
pub struct SiteTable {
    rows: Vec<Row>,
    /// Sites that do not fit a row, whole.
    spill: Vec<Site>,
    /// `target_va - target RVA` (or the high half of a target with no RVA) of the rows: a few
    /// values per file (the image base, 0).
    bases: Vec<u64>,
}

/// A value of at most 32 significant bits: `(low bits, 1 sign-extended / 2 zero-extended)`.
fn narrow(v: Option<i64>) -> Option<(u32, u32)> {
    match v {
        None => Some((0, 0)),
        Some(v) if i64::from(v as i32) == v => Some((v as u32, 1)),
        Some(v) if (0..=i64::from(u32::MAX)).contains(&v) => Some((v as u32, 2)),
        Some(_) => None,
    }
}

fn widen(low: u32, how: u32) -> Option<i64> {
    match how {
        1 => Some(i64::from(low as i32)),
        2 => Some(i64::from(low)),
        _ => None,
    }
}

/// The distance of a RIP-relative field: its target's RVA minus the next instruction's.
fn rip_distance(target: u32, site: u32, instr_len: u8) -> i64 {
    u64::from(target).wrapping_sub(u64::from(site) + u64::from(instr_len)) as i64
}

fn index16(v: Option<u32>, none: u16) -> Option<u16> {
    match v {
        None => Some(none),
        Some(x) => u16::try_from(x).ok().filter(|&x| x != none),
    }
}

impl SiteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of sites.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes the table holds on the heap (rows, whole sites and bases).
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<Row>()
            + self.spill.capacity() * std::mem::size_of::<Site>()
            + self.bases.capacity() * 8
    }

    /// Sites kept whole because they do not fit the compact row.
    pub fn spilled(&self) -> usize {
        self.spill.len()
    }

    /// Add a site at the end.
    pub fn push(&mut self, s: Site) {
        let row = self.pack(&s).unwrap_or_else(|| {
            let mut flags = 0;
            set(&mut flags, SPILLED, 1);
            let at = self.spill.len() as u32;
            self.spill.push(s);
            Row {
                site: at,
                target: 0,
                import: 0,
                symbol: 0,
                reloc: 0,
                offset: 0,
                section: 0,
                target_section: 0,
                field: 0,
                width: 0,
                instr_len: 0,
                base: 0,
                flags,
            }
        });
        self.rows.push(row);
    }

    /// Make room for `n` more sites.
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
    }

    /// Add every site of `other` after these.
    pub fn append(&mut self, other: SiteTable) {
        if self.rows.is_empty() && self.rows.capacity() <= other.rows.len() {
            *self = other;
        } else {
            self.rows.reserve(other.len());
            other.iter().for_each(|s| self.push(s));
        }
    }

    /// Free the spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
        self.spill.shrink_to_fit();
    }

    /// The site at `i`.
    pub fn get(&self, i: usize) -> Option<Site> {
        self.rows.get(i).map(|r| self.unpack(r))
    }

    /// Every site, in order, by value.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Site> + ExactSizeIterator + Clone + '_ {
        self.rows.iter().map(|r| self.unpack(r))
    }

    /// The sites at positions `range` (clamped to the table).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Vec<Site> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        self.rows[start..end].iter().map(|r| self.unpack(r)).collect()
    }

    /// The first position whose site `pred` rejects, the table being partitioned by `pred` (as
    /// `slice::partition_point`).
    pub fn partition_point(&self, mut pred: impl FnMut(&Site) -> bool) -> usize {
        self.rows.partition_point(|r| pred(&self.unpack(r)))
    }

    /// Section position, site and field of row `r` (the order of [`super::Refs::sites`]), read
    /// without building the whole site.
    fn key_of(spill: &[Site], r: &Row) -> (bool, u32, u64, u64) {
        let (section, site, field) = if get(r.flags, SPILLED) == 1 {
            let s = &spill[r.site as usize];
            (s.section, s.site_rva, s.field_rva)
        } else {
            let sec = if r.section == NONE16 { u32::MAX } else { u32::from(r.section) };
            (sec, u64::from(r.site), u64::from(r.site) + u64::from(r.field))
        };
        (section == u32::MAX, section, site, field)
    }

    /// Sort in the order of [`super::Refs::sites`]: section (sites in no section last), site,
    /// field; stable.
    pub(crate) fn sort(&mut self) {
        let spill = &self.spill;
        if !self.rows.is_sorted_by_key(|r| Self::key_of(spill, r)) {
            self.rows.sort_by_key(|r| Self::key_of(spill, r));
        }
    }

    /// The positions of the sites whose instruction (or field) starts at `rva` in section
    /// position `section` (the table being sorted by section, then site).
    pub fn range_at(&self, section: u32, rva: u64) -> std::ops::Range<usize> {
        let key = |r: &Row| {
            let (_, sec, site, _) = Self::key_of(&self.spill, r);
            (sec, site)
        };
        let i = self.rows.partition_point(|r| key(r) < (section, rva));
        let n = self.rows[i..].iter().take_while(|r| key(r) == (section, rva)).count();
        i..i + n
    }

    /// The sites whose instruction (or field) starts at `rva` in section position `section`.
    pub fn at(&self, section: u32, rva: u64) -> Vec<Site> {
        self.slice(self.range_at(section, rva))
    }

    fn base_of(&mut self, delta: u64) -> Option<u8> {
        if let Some(i) = self.bases.iter().position(|&b| b == delta) {
            return u8::try_from(i).ok();
        }
        let i = u8::try_from(self.bases.len()).ok()?;
        self.bases.push(delta);
        Some(i)
    }

    /// The compact row of `s`, when it fits one.
    fn pack(&mut self, s: &Site) -> Option<Row> {
        let site = u32::try_from(s.site_rva).ok()?;
        let field = u8::try_from(s.field_rva.checked_sub(s.site_rva)?).ok()?;
        let section = if s.section == u32::MAX { NONE16 } else { index16(Some(s.section), NONE16)? };
        let target_section = index16(s.target_section, NONE16)?;
        if s.naive_import.is_some() {
            return None;
        }
        let relocs = [s.base_reloc, s.reloc, s.pseudo_reloc];
        let (which, reloc) = match relocs.iter().filter(|r| r.is_some()).count() {
            0 => (0, NONE32),
            1 => relocs.iter().enumerate().find_map(|(k, r)| r.map(|r| (k as u32 + 1, r)))?,
            _ => return None,
        };
        let (target, delta) = match s.target_rva {
            Some(r) => (u32::try_from(r).ok()?, s.target_va.wrapping_sub(r)),
            None => (s.target_va as u32, s.target_va & !u64::from(u32::MAX)),
        };
        let (offset, offset_how) = narrow(s.offset)?;
        // A distance is kept only as the RIP-relative one the row gives (the target RVA minus
        // the next instruction's): any other is spilled.
        let distance_how = match s.distance {
            None => 0,
            Some(d) if s.target_rva.is_some() && d == rip_distance(target, site, s.instr_len) => 1,
            Some(_) => return None,
        };
        let base = self.base_of(delta)?;
        let (itag, import) = match s.import {
            None => (0, NONE32),
            Some(ImportRef::Row(i)) => (1, i),
            Some(ImportRef::Symbol(i)) => (2, i),
            Some(ImportRef::Got(i)) => (3, i),
            Some(ImportRef::Copy(i)) => (4, i),
        };
        let (stag, symbol) = match s.symbol {
            None => (0, NONE32),
            Some(SymRef::Symbol(i)) => (1, i),
            Some(SymRef::Export(i)) => (2, i),
        };
        let mut flags = 0;
        set(&mut flags, MODE, s.mode as u32);
        set(&mut flags, KIND, s.target_kind as u32);
        set(&mut flags, IMPORT, itag);
        set(&mut flags, SYMBOL, stag);
        set(&mut flags, RELOC, which);
        set(&mut flags, HAS_RVA, u32::from(s.target_rva.is_some()));
        set(&mut flags, AMBIGUOUS, u32::from(s.ambiguous));
        set(&mut flags, WRAPS, u32::from(s.wraps));
        set(&mut flags, FIXUP, u32::from(s.needs_import_fixup));
        set(&mut flags, REACHABLE, s.reachable.map_or(0, |r| 1 + u32::from(r)));
        set(&mut flags, OFFSET, offset_how);
        set(&mut flags, DISTANCE, distance_how);
        Some(Row {
            site,
            target,
            import,
            symbol,
            reloc,
            offset,
            section,
            target_section,
            field,
            width: s.width,
            instr_len: s.instr_len,
            base,
            flags,
        })
    }

    /// The site a row holds.
    fn unpack(&self, r: &Row) -> Site {
        let f = r.flags;
        if get(f, SPILLED) == 1 {
            return self.spill[r.site as usize];
        }
        let site_rva = u64::from(r.site);
        let reloc = |k: u32| (get(f, RELOC) == k).then_some(r.reloc);
        Site {
            site_rva,
            field_rva: site_rva + u64::from(r.field),
            width: r.width,
            instr_len: r.instr_len,
            mode: Mode::ALL[get(f, MODE) as usize % Mode::ALL.len()],
            section: if r.section == NONE16 { u32::MAX } else { u32::from(r.section) },
            target_va: self.bases.get(usize::from(r.base)).copied().unwrap_or(0).wrapping_add(u64::from(r.target)),
            target_rva: (get(f, HAS_RVA) == 1).then_some(u64::from(r.target)),
            target_section: (r.target_section != NONE16).then_some(u32::from(r.target_section)),
            target_kind: TargetKind::ALL[get(f, KIND) as usize % TargetKind::ALL.len()],
            import: match get(f, IMPORT) {
                1 => Some(ImportRef::Row(r.import)),
                2 => Some(ImportRef::Symbol(r.import)),
                3 => Some(ImportRef::Got(r.import)),
                4 => Some(ImportRef::Copy(r.import)),
                _ => None,
            },
            naive_import: None,
            symbol: match get(f, SYMBOL) {
                1 => Some(SymRef::Symbol(r.symbol)),
                2 => Some(SymRef::Export(r.symbol)),
                _ => None,
            },
            offset: widen(r.offset, get(f, OFFSET)),
            base_reloc: reloc(1),
            reloc: reloc(2),
            pseudo_reloc: reloc(3),
            ambiguous: get(f, AMBIGUOUS) == 1,
            reachable: match get(f, REACHABLE) {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            },
            distance: (get(f, DISTANCE) == 1).then(|| rip_distance(r.target, r.site, r.instr_len)),
            wraps: get(f, WRAPS) == 1,
            needs_import_fixup: get(f, FIXUP) == 1,
        }
    }

    /// The table cut into pieces of about [`BATCH`] sites; the sites of one instruction stay in
    /// one piece.
    fn pieces(&self) -> Vec<std::ops::Range<usize>> {
        let key = |i: usize| {
            let (_, sec, site, _) = Self::key_of(&self.spill, &self.rows[i]);
            (sec, site)
        };
        let mut v = Vec::new();
        let mut at = 0;
        let len = self.len();
        while at < len {
            let mut n = (len - at).min(BATCH);
            while at + n < len && key(at + n - 1) == key(at + n) {
                n += 1;
            }
            v.push(at..at + n);
            at += n;
        }
        v
    }
}

impl PartialEq for SiteTable {
    /// The same sites in the same order (however they are stored).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl FromIterator<Site> for SiteTable {
    fn from_iter<I: IntoIterator<Item = Site>>(iter: I) -> Self {
        let mut t = SiteTable::new();
        t.extend(iter);
        t
    }
}

impl Extend<Site> for SiteTable {
    fn extend<I: IntoIterator<Item = Site>>(&mut self, iter: I) {
        let it = iter.into_iter();
        self.rows.reserve(it.size_hint().0);
        it.for_each(|s| self.push(s));
    }
}

impl<'a> IntoIterator for &'a SiteTable {
    type Item = Site;
    type IntoIter = Box<dyn Iterator<Item = Site> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl SiteSource for SiteTable {
    /// Pieces of about [`BATCH`] sites, each built for the work and dropped after it.
    fn each_piece<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        mut sink: impl FnMut(T) -> io::Result<()>,
    ) -> io::Result<()> {
        self.pieces().into_iter().try_for_each(|r| sink(work(&self.slice(r))))
    }

    /// The floors are the least fields of the pieces after each.
    fn each_piece_floored<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        mut sink: impl FnMut(T, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        let pieces = self.pieces();
        let least: Vec<u64> = pieces
            .iter()
            .map(|r| self.rows[r.clone()].iter().map(|row| Self::key_of(&self.spill, row).3).min().unwrap_or(u64::MAX))
            .collect();
        let floor = super::stream::floors(&least);
        pieces.into_iter().zip(floor).try_for_each(|(r, f)| sink(work(&self.slice(r)), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(site_rva: u64) -> Site {
        super::super::scan::blank(site_rva, site_rva + 3, 32, Mode::RipRelative, 1)
    }

    #[test]
    fn a_row_is_36_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 36);
    }

    #[test]
    fn every_site_comes_back_as_it_went_in() {
        let mut a = site(0x1000);
        a.instr_len = 7;
        a.target_va = 0x1_8000_2000;
        a.target_rva = Some(0x2000);
        a.target_kind = TargetKind::Iat;
        a.import = Some(ImportRef::Row(3));
        a.symbol = Some(SymRef::Export(9));
        a.offset = Some(-8);
        a.distance = Some(0x2000 - 0x1007);
        a.reachable = Some(true);
        a.base_reloc = Some(12);
        a.wraps = true;
        let mut b = site(0x1010);
        b.target_va = 0x10;
        b.section = u32::MAX;
        b.target_section = Some(4);
        b.pseudo_reloc = Some(2);
        b.needs_import_fixup = true;
        b.reachable = Some(false);
        // Spilled: a naive reading, two relocations, a distance that is not RIP-relative, a far
        // site, a far target.
        let mut c = site(0x1020);
        c.naive_import = Some(ImportRef::Got(1));
        c.ambiguous = true;
        let mut d = site(0x1030);
        d.base_reloc = Some(1);
        d.pseudo_reloc = Some(1);
        let mut e = site(0x1040);
        e.distance = Some(-(1 << 40));
        let f = site(0x1_0000_0000);
        let mut g = site(0x1050);
        g.target_va = 0x7fff_0000_1234;
        let all = [a, b, c, d, e, f, g];
        let t: SiteTable = all.iter().copied().collect();
        assert_eq!(t.iter().collect::<Vec<_>>(), all);
        assert_eq!(t.spilled(), 4);
        assert_eq!(t.get(1), Some(b));
        assert_eq!(t.get(7), None);
    }

    #[test]
    fn sorted_and_found_by_section_and_site() {
        let mut t: SiteTable = [site(0x30), site(0x10), site(0x1_0000_0000), site(0x10)].into_iter().collect();
        let mut far = site(5);
        far.section = u32::MAX;
        t.push(far);
        t.sort();
        let rvas: Vec<u64> = t.iter().map(|s| s.site_rva).collect();
        assert_eq!(rvas, [0x10, 0x10, 0x30, 0x1_0000_0000, 5]);
        assert_eq!(t.range_at(1, 0x10), 0..2);
        assert_eq!(t.at(1, 0x1_0000_0000).len(), 1);
        assert!(t.at(2, 0x10).is_empty());
    }
}
