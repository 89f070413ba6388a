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

/// One string found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Position of its section in `bin.sections`.
    pub section: u32,
    /// Offset in the section.
    pub section_offset: u64,
    /// File offset.
    pub offset: u64,
    /// RVA (images only).
    pub rva: Option<u64>,
    /// Its bytes' length in the file.
    pub len: u64,
    /// How it is stored.
    pub encoding: Encoding,
    /// The characters.
    pub text: String,
}

/// A byte GNU `strings` counts as printable.
fn printable(b: u8) -> bool {
    b == b'\t' || (0x20..=0x7e).contains(&b)
}

/// Every string of at least `min` characters (1 when 0) in the file bytes of `bin`'s sections,
/// in section order, then offset (ASCII before UTF-16LE at one offset).
pub fn find(bin: &Binary, data: &[u8], min: usize) -> Vec<Found> {
    let min = min.max(1);
    let image = !is_object(bin);
    let mut out = Vec::new();
    for (p, sec) in bin.sections.iter().enumerate() {
        let bytes = sec.bytes(data);
        let file_off = sec.file_offset;
        let mut mine = Vec::new();
        let mut push = |start: usize, len: usize, encoding: Encoding, text: String| {
            mine.push(Found {
                section: p as u32,
                section_offset: start as u64,
                offset: file_off + start as u64,
                rva: image.then_some(sec.rva + start as u64),
                len: len as u64,
                encoding,
                text,
            });
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
                push(s, i - s, Encoding::Ascii, String::from_utf8_lossy(&bytes[s..i]).into_owned());
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
                    let text: String = bytes[s..i].iter().step_by(2).map(|&b| b as char).collect();
                    push(s, i - s, Encoding::Utf16Le, text);
                }
            }
        }
        mine.sort_by_key(|f| (f.section_offset, f.encoding));
        out.extend(mine);
    }
    out
}

/// The strings' `(rva, end, position)` sorted by RVA, for [`referenced`] (images only).
pub fn by_rva(strings: &[Found]) -> Vec<(u64, u64, u32)> {
    let mut v: Vec<(u64, u64, u32)> =
        strings.iter().enumerate().filter_map(|(k, f)| Some((f.rva?, f.rva? + f.len, k as u32))).collect();
    v.sort_unstable();
    v
}

/// The sites among `sites` whose target lies in a string of `by_rva` ([`by_rva`]): `(string
/// position, site RVA)` pairs, to be gathered by the caller.
pub fn referenced(by_rva: &[(u64, u64, u32)], sites: &[Site]) -> Vec<(u32, u64)> {
    let mut hits = Vec::new();
    for s in sites {
        let Some(t) = s.target_rva else { continue };
        let i = by_rva.partition_point(|&(start, _, _)| start <= t);
        if let Some(&(start, end, k)) = i.checked_sub(1).and_then(|i| by_rva.get(i)) {
            if start <= t && t < end {
                hits.push((k, s.site_rva));
            }
        }
    }
    hits
}

/// A file's strings with the sites that reference each (positions in a kept site list), for the
/// app's Strings view.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The strings, as [`find`] returns them.
    pub found: Vec<Found>,
    /// `sites[starts[k]..starts[k + 1]]` are string k's.
    starts: Vec<u32>,
    sites: Vec<u32>,
}

impl Table {
    /// The strings of at least `min` characters of `bin`, each with the sites of `sites` (sorted
    /// as a scan keeps them) whose target lies in it.
    pub fn new(bin: &Binary, data: &[u8], min: usize, sites: &[Site]) -> Self {
        let found = find(bin, data, min);
        let by = by_rva(&found);
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (i, s) in sites.iter().enumerate() {
            let Some(t) = s.target_rva else { continue };
            let p = by.partition_point(|&(start, _, _)| start <= t);
            if let Some(&(start, end, k)) = p.checked_sub(1).and_then(|p| by.get(p)) {
                if start <= t && t < end {
                    pairs.push((k, i as u32));
                }
            }
        }
        pairs.sort_unstable();
        let mut starts = Vec::with_capacity(found.len() + 1);
        let mut at = 0;
        for k in 0..found.len() as u32 {
            starts.push(at as u32);
            while pairs.get(at).is_some_and(|p| p.0 == k) {
                at += 1;
            }
        }
        starts.push(at as u32);
        Table { found, starts, sites: pairs.into_iter().map(|p| p.1).collect() }
    }

    /// The positions (in the site list given to [`Table::new`]) of the sites that reference
    /// string `k`.
    pub fn sites_of(&self, k: usize) -> &[u32] {
        match (self.starts.get(k), self.starts.get(k + 1)) {
            (Some(&a), Some(&b)) => self.sites.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }
}
