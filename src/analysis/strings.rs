//! Printable strings in a file's sections, as GNU `strings -a` finds them (runs of printable ASCII
//! and tab, at least `min` long) and as `strings -el` finds UTF-16LE ones (runs of printable ASCII
//! code units), with the sites that reference each.

use serde::Serialize;

use super::Site;
use crate::model::index::is_object;
use crate::model::Binary;

/// How a string's characters are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Encoding {
    /// One byte per character.
    #[serde(rename = "ascii")]
    Ascii,
    /// Two bytes per character, little-endian.
    #[serde(rename = "utf-16le")]
    Utf16Le,
}

impl Encoding {
    /// The name in the JSON (`ascii`, `utf-16le`).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Ascii => "ascii",
            Encoding::Utf16Le => "utf-16le",
        }
    }
}

/// One string found: where, how long, how stored (16 bytes; the text is read from the file when
/// shown, as a large DLL has millions of strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// File offset.
    pub offset: u64,
    /// Its bytes' length in the file.
    pub len: u32,
    /// Position of its section in `bin.sections`, and [`UTF16`] when it is UTF-16LE.
    section_encoding: u32,
}

/// [`Found::section_encoding`]'s bit for UTF-16LE.
const UTF16: u32 = 1 << 31;

impl Found {
    /// The string of `len` bytes at file offset `offset` in section position `section` (below
    /// 2^31), stored as `encoding`.
    pub fn new(offset: u64, len: u32, section: u32, encoding: Encoding) -> Self {
        let bit = if encoding == Encoding::Utf16Le { UTF16 } else { 0 };
        Found { offset, len, section_encoding: (section & !UTF16) | bit }
    }

    /// Position of its section in `bin.sections`.
    pub fn section(&self) -> u32 {
        self.section_encoding & !UTF16
    }

    /// How it is stored.
    pub fn encoding(&self) -> Encoding {
        if self.section_encoding & UTF16 != 0 {
            Encoding::Utf16Le
        } else {
            Encoding::Ascii
        }
    }

    /// Offset in its section.
    pub fn section_offset(&self, bin: &Binary) -> u64 {
        bin.sections.get(self.section() as usize).map_or(0, |s| self.offset - s.file_offset)
    }

    /// RVA (images only).
    pub fn rva(&self, bin: &Binary) -> Option<u64> {
        let s = bin.sections.get(self.section() as usize)?;
        (!is_object(bin)).then(|| s.rva + (self.offset - s.file_offset))
    }

    /// The characters, read from `data` (the file).
    pub fn text(&self, data: &[u8]) -> String {
        let bytes =
            usize::try_from(self.offset).ok().and_then(|o| data.get(o..o + self.len as usize)).unwrap_or_default();
        match self.encoding() {
            Encoding::Ascii => bytes.iter().map(|&b| b as char).collect(),
            Encoding::Utf16Le => bytes.iter().step_by(2).map(|&b| b as char).collect(),
        }
    }
}

/// A byte GNU `strings` counts as printable.
fn printable(b: u8) -> bool {
    b == b'\t' || (0x20..=0x7e).contains(&b)
}

/// Every string of at least `min` characters (1 when 0) in the file bytes of `bin`'s sections,
/// in section order, then offset (ASCII before UTF-16LE at one offset).
pub fn find(bin: &Binary, data: &[u8], min: usize) -> Vec<Found> {
    let min = min.max(1);
    let mut out = Vec::new();
    for (p, sec) in bin.sections.iter().enumerate() {
        let bytes = sec.bytes(data);
        let file_off = sec.file_offset;
        let mut mine = Vec::new();
        let mut push = |start: usize, len: usize, encoding: Encoding| {
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            mine.push(Found::new(file_off + start as u64, len, p as u32, encoding));
        };
        // ASCII runs.
        let mut i = 0;
        while i < bytes.len() {
            if !printable(bytes[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < bytes.len() && printable(bytes[i]) {
                i += 1;
            }
            if i - s >= min {
                push(s, i - s, Encoding::Ascii);
            }
        }
        // UTF-16LE runs, at even and odd offsets.
        for parity in 0..2 {
            let mut i = parity;
            while i + 1 < bytes.len() {
                let unit = |k: usize| printable(bytes[k]) && bytes[k + 1] == 0;
                if !unit(i) {
                    i += 2;
                    continue;
                }
                let s = i;
                while i + 1 < bytes.len() && unit(i) {
                    i += 2;
                }
                if (i - s) / 2 >= min {
                    push(s, i - s, Encoding::Utf16Le);
                }
            }
        }
        mine.sort_by_key(|f| (f.offset, f.encoding()));
        out.extend(mine);
    }
    out
}

/// The strings' `(rva, end, position)` sorted by RVA, for [`referenced`] (images only).
pub fn by_rva(bin: &Binary, strings: &[Found]) -> Vec<(u64, u64, u32)> {
    let mut v: Vec<(u64, u64, u32)> = strings
        .iter()
        .enumerate()
        .filter_map(|(k, f)| {
            let r = f.rva(bin)?;
            Some((r, r + u64::from(f.len), k as u32))
        })
        .collect();
    v.sort_unstable();
    v
}

/// The sites among `sites` whose target lies in a string of `by_rva` ([`by_rva`]): `(string
/// position, site RVA)` pairs, to be gathered by the caller.
pub fn referenced<S: std::borrow::Borrow<Site>>(
    by_rva: &[(u64, u64, u32)],
    sites: impl IntoIterator<Item = S>,
) -> Vec<(u32, u64)> {
    sites
        .into_iter()
        .filter_map(|s| {
            let s = s.borrow();
            Some((containing(by_rva, s.target_rva?)?, s.site_rva))
        })
        .collect()
}

/// The position of the string of `by_rva` ([`by_rva`]) that holds address `t`.
fn containing(by_rva: &[(u64, u64, u32)], t: u64) -> Option<u32> {
    let i = by_rva.partition_point(|&(start, _, _)| start <= t);
    let &(start, end, k) = by_rva.get(i.checked_sub(1)?)?;
    (start <= t && t < end).then_some(k)
}

/// A file's strings with the sites that reference each (positions in a kept site list), for the
/// app's Strings view.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The strings, as [`find`] returns them.
    pub found: Vec<Found>,
    /// The referenced strings' positions, sorted, once per site that references each: `sites[i]`
    /// references string `strings[i]` (the few strings with sites, not one entry per string).
    strings: Vec<u32>,
    sites: Vec<u32>,
}

impl Table {
    /// The strings of at least `min` characters of `bin`, each with the sites of `sites` (sorted
    /// as a scan keeps them) whose target lies in it.
    pub fn new<S: std::borrow::Borrow<Site>>(
        bin: &Binary,
        data: &[u8],
        min: usize,
        sites: impl IntoIterator<Item = S>,
    ) -> Self {
        let found = find(bin, data, min);
        let by = by_rva(bin, &found);
        let mut pairs: Vec<(u32, u32)> = sites
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| Some((containing(&by, s.borrow().target_rva?)?, i as u32)))
            .collect();
        pairs.sort_unstable();
        let (strings, sites) = pairs.into_iter().unzip();
        Table { found, strings, sites }
    }

    /// The positions (in the site list given to [`Table::new`]) of the sites that reference
    /// string `k`.
    pub fn sites_of(&self, k: usize) -> &[u32] {
        let Ok(k) = u32::try_from(k) else { return &[] };
        let a = self.strings.partition_point(|&s| s < k);
        let b = a + self.strings[a..].partition_point(|&s| s == k);
        self.sites.get(a..b).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_is_16_bytes_and_keeps_its_section_and_encoding() {
        assert_eq!(std::mem::size_of::<Found>(), 16);
        for (sec, enc) in [(0, Encoding::Ascii), (7, Encoding::Utf16Le), ((1 << 31) - 1, Encoding::Utf16Le)] {
            let f = Found::new(0x1234, 9, sec, enc);
            assert_eq!((f.offset, f.len, f.section(), f.encoding()), (0x1234, 9, sec, enc));
        }
    }
}
