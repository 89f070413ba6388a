//! The diff: two files by file offset ([`diff_files`]), or two memory images of one image by RVA
//! ([`diff_memory`]: the file as the loader maps it against a process dump, or the patch
//! engine's before / after), every changed byte attributed to the structures it belongs to
//! ([`attribute`]), plus the structural changes between two builds ([`structural`]). Pure.

pub mod attribute;
pub mod objects;
pub mod structural;

use serde::Serialize;

use crate::model::index::Index;
use crate::model::regions::Regions;
use crate::model::{Binary, SymbolKind};

pub use attribute::Structure;
pub use structural::StructuralChange;

/// Hex strings of a change keep at most this many bytes (`truncated` says when cut).
pub const MAX_HEX_BYTES: u64 = 256;
/// Differing bytes closer than this inside one container are one change.
const MERGE_GAP: u64 = 8;

/// One side of a diff.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    /// The model (None: the file could not be read as any format).
    pub bin: Option<&'a Binary>,
    /// The bytes compared (the file, or a memory image).
    pub data: &'a [u8],
    /// The file's bytes (for the attribution of memory images: the sections' file backing).
    pub file: &'a [u8],
    /// Its index.
    pub index: Option<&'a Index>,
    /// Its byte regions (file offsets).
    pub regions: Option<&'a Regions>,
    /// Its data-reference sites (for `data-ref-site` attributions), when scanned.
    pub refs: Option<&'a crate::analysis::Refs>,
    /// Its PDB, for the object of each changed byte (two files: both sides need one; a memory
    /// image: the first side's serves both when the second has none).
    pub pdb: Option<&'a crate::model::pdb::LoadedPdb>,
}

/// How much work a diff may do.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Changes kept (the rest are counted in the summary).
    pub max_changes: usize,
    /// Changes whose instruction is decoded.
    pub max_instructions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_changes: 100_000, max_instructions: 20_000 }
    }
}

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Two files, by file offset.
    Files,
    /// Two memory images of one image, by RVA.
    Image,
}

/// One changed range.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Files: offset in the first file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Files whose layouts differ: offset of the same bytes in the second file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_b: Option<u64>,
    /// Image mode: the RVA (files: the RVA of `offset`, when it is mapped).
    pub rva: Option<u64>,
    /// Bytes in the change (the longer side, when a section grew or shrank).
    pub len: u64,
    /// The first side's bytes (hex, at most [`MAX_HEX_BYTES`]).
    pub before: String,
    /// The second side's bytes.
    pub after: String,
    /// Whether `before` / `after` were cut.
    pub truncated: bool,
    /// Every structure the change overlaps, innermost first.
    pub structures: Vec<Structure>,
    /// The change in words.
    pub words: String,
    /// The object (and archive) whose contribution holds the bytes, from the PDBs: the second
    /// side's, the first's for bytes only the first has; `Some(None)` (JSON null) when no
    /// contribution holds them; absent without the PDBs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Option<objects::ObjectRef>>,
}

/// Counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Whether the compared bytes are identical (and, for files, the models too).
    pub identical: bool,
    /// Changes found (also those past the limit).
    pub changes: u64,
    /// Changes kept in `changes[]`.
    pub listed: u64,
    /// Bytes that differ.
    pub bytes_changed: u64,
    /// Bytes compared.
    pub bytes_compared: u64,
    /// Changes per innermost structure kind.
    pub by_kind: Vec<(String, u64)>,
    /// Whether the two files share a layout (compared positionally) or were aligned by section.
    pub aligned_by: &'static str,
    /// Structural changes.
    pub structural: u64,
}

/// A diff.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// What was compared.
    pub mode: Mode,
    /// The changes, in address order.
    pub changes: Vec<Change>,
    /// Sections, imports, exports, relocations, symbols, COMDATs added / removed / changed.
    pub structural: Vec<StructuralChange>,
    /// Counts.
    pub summary: Summary,
    /// What could not be compared or attributed.
    pub notes: Vec<String>,
    /// With both builds' PDBs: the input sections that changed (none without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects_changed: Option<Vec<objects::ObjectChange>>,
}

impl Diff {
    /// Whether nothing differs.
    pub fn identical(&self) -> bool {
        self.summary.identical
    }
}

/// A range of `a` to compare with a range of `b`.
#[derive(Debug, Clone, Copy)]
struct Pair {
    a: u64,
    b: u64,
    len_a: u64,
    len_b: u64,
}

/// Differing runs of `a[pa..]` against `b[pb..]` over `len` bytes: `(offset in a, len)`, with
/// gaps shorter than [`MERGE_GAP`] merged.
fn runs(a: &[u8], b: &[u8], len: usize, mut push: impl FnMut(u64, u64) -> bool) {
    const BLOCK: usize = 4096;
    let mut cur: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < len {
        let n = BLOCK.min(len - i);
        if a[i..i + n] == b[i..i + n] {
            i += n;
            continue;
        }
        for k in i..i + n {
            if a[k] != b[k] {
                cur = match cur {
                    Some((s, e)) if k - e < MERGE_GAP as usize => Some((s, k + 1)),
                    Some((s, e)) => {
                        if !push(s as u64, (e - s) as u64) {
                            return;
                        }
                        Some((k, k + 1))
                    }
                    None => Some((k, k + 1)),
                };
            }
        }
        i += n;
    }
    if let Some((s, e)) = cur {
        push(s as u64, (e - s) as u64);
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().take(MAX_HEX_BYTES as usize).map(|x| format!("{x:02x}")).collect()
}

/// Whether both files have the same layout: same size and the same section table.
fn same_layout(a: &Side<'_>, b: &Side<'_>) -> bool {
    if a.data.len() != b.data.len() {
        return false;
    }
    match (a.bin, b.bin) {
        (Some(x), Some(y)) => {
            x.sections.len() == y.sections.len()
                && x.sections
                    .iter()
                    .zip(&y.sections)
                    .all(|(s, t)| s.name == t.name && s.file_offset == t.file_offset && s.file_size == t.file_size)
        }
        _ => true,
    }
}

/// The ranges to compare when the layouts differ: the bytes before the first section, each
/// section matched by name (the n-th of that name), and what follows the last section.
fn aligned_pairs(a: &Side<'_>, b: &Side<'_>, notes: &mut Vec<String>) -> Vec<Pair> {
    let (Some(x), Some(y)) = (a.bin, b.bin) else {
        return vec![Pair { a: 0, b: 0, len_a: a.data.len() as u64, len_b: b.data.len() as u64 }];
    };
    let body = |bin: &Binary| {
        bin.sections
            .iter()
            .filter(|s| s.file_size > 0)
            .map(|s| (s.file_offset, s.file_offset + s.file_size))
            .fold((u64::MAX, 0u64), |(lo, hi), (s, e)| (lo.min(s), hi.max(e)))
    };
    let ((lo_a, hi_a), (lo_b, hi_b)) = (body(x), body(y));
    let lo_a = lo_a.min(a.data.len() as u64);
    let lo_b = lo_b.min(b.data.len() as u64);
    let mut v = vec![Pair { a: 0, b: 0, len_a: lo_a, len_b: lo_b }];
    for (i, s) in x.sections.iter().enumerate() {
        if s.file_size == 0 {
            continue;
        }
        let nth = x.sections[..i].iter().filter(|t| t.name == s.name).count();
        match y.sections.iter().filter(|t| t.name == s.name).nth(nth) {
            Some(t) if t.file_size > 0 => {
                let whole = Pair { a: s.file_offset, b: t.file_offset, len_a: s.file_size, len_b: t.file_size };
                match by_symbols(x, s, y, t) {
                    Some(parts) => v.extend(parts),
                    None => v.push(whole),
                }
            }
            _ => notes.push(format!("section {} is only in the first file", s.name)),
        }
    }
    let tail_a = (a.data.len() as u64).saturating_sub(hi_a.max(lo_a));
    let tail_b = (b.data.len() as u64).saturating_sub(hi_b.max(lo_b));
    if tail_a > 0 || tail_b > 0 {
        v.push(Pair { a: hi_a.max(lo_a), b: hi_b.max(lo_b), len_a: tail_a, len_b: tail_b });
    }
    v
}

/// The named pieces of a section: `(file offset, length, symbol name)` from each symbol to the
/// next, in address order.
fn pieces(bin: &Binary, s: &crate::model::Section) -> Vec<(u64, u64, String)> {
    let image = !crate::model::index::is_object(bin);
    let base = if image && bin.format.is_elf() { bin.image_base.unwrap_or(0) } else { 0 };
    let mut at: Vec<(u64, &str)> = bin
        .symbols
        .iter()
        .filter(|y| {
            y.section == Some(s.index)
                && !y.name.is_empty()
                && !matches!(y.kind, SymbolKind::Section | SymbolKind::File)
        })
        .map(|y| (if image { y.value.wrapping_sub(base).wrapping_sub(s.rva) } else { y.value }, y.name.as_str()))
        .filter(|&(o, _)| o < s.file_size)
        .collect();
    at.sort_unstable();
    at.dedup_by_key(|p| p.0);
    let mut out = Vec::with_capacity(at.len() + 1);
    let first = at.first().map_or(s.file_size, |p| p.0);
    if first > 0 {
        out.push((s.file_offset, first, String::new()));
    }
    for (i, &(o, n)) in at.iter().enumerate() {
        let end = at.get(i + 1).map_or(s.file_size, |p| p.0);
        out.push((s.file_offset + o, end - o, n.to_string()));
    }
    out
}

/// Pairs of a section's pieces matched by symbol name (the unnamed head with the unnamed
/// head), when both files name what is in it; pieces only in the first are compared with
/// nothing (they count as changed).
fn by_symbols(x: &Binary, s: &crate::model::Section, y: &Binary, t: &crate::model::Section) -> Option<Vec<Pair>> {
    let (pa, pb) = (pieces(x, s), pieces(y, t));
    if pa.len() < 2 || pb.len() < 2 || pa.len() > 1_000_000 {
        return None;
    }
    let mut by_name: std::collections::HashMap<&str, (u64, u64)> = std::collections::HashMap::new();
    for (o, l, n) in &pb {
        by_name.entry(n.as_str()).or_insert((*o, *l));
    }
    Some(
        pa.iter()
            .map(|(o, l, n)| match by_name.get(n.as_str()) {
                Some(&(ob, lb)) => Pair { a: *o, b: ob, len_a: *l, len_b: lb },
                None => Pair { a: *o, b: 0, len_a: *l, len_b: 0 },
            })
            .collect(),
    )
}

/// The diff of two identical inputs of `len` bytes.
pub fn identical(len: u64) -> Diff {
    Diff {
        mode: Mode::Files,
        changes: Vec::new(),
        structural: Vec::new(),
        summary: Summary { identical: true, bytes_compared: len, aligned_by: "offset", ..Summary::default() },
        notes: Vec::new(),
        objects_changed: None,
    }
}

/// Diff two files by file offset.
pub fn diff_files(a: Side<'_>, b: Side<'_>, limits: Limits) -> Diff {
    kept(|sink| diff_files_to(a, b, limits, sink))
}

/// Diff two memory images of the image `a` describes (offset = RVA): `a.data` before,
/// `b.data` after. `b.bin` may be None (a dump).
pub fn diff_memory(a: Side<'_>, b: Side<'_>, limits: Limits) -> Diff {
    kept(|sink| diff_memory_to(a, b, limits, sink))
}

/// A diff whose changes `run` hands to a sink, with the changes kept in it.
fn kept(run: impl FnOnce(&mut dyn FnMut(Change)) -> Diff) -> Diff {
    let mut changes = Vec::new();
    let mut d = run(&mut |c| changes.push(c));
    d.changes = changes;
    d
}

/// [`diff_files`] handing each change to `sink` in address order as it is found, without
/// keeping it (the returned diff's `changes` is empty): a diff of any number of changes in
/// bounded memory.
pub fn diff_files_to(a: Side<'_>, b: Side<'_>, limits: Limits, sink: &mut dyn FnMut(Change)) -> Diff {
    let mut notes = Vec::new();
    let same = same_layout(&a, &b);
    let pairs = if same {
        vec![Pair { a: 0, b: 0, len_a: a.data.len() as u64, len_b: b.data.len() as u64 }]
    } else {
        aligned_pairs(&a, &b, &mut notes)
    };
    let structural = match (a.bin, b.bin) {
        (Some(x), Some(y)) => structural::compare(x, y),
        _ => Vec::new(),
    };
    if a.bin.map(|x| x.format) != b.bin.map(|y| y.format) {
        notes.push("the two files are not of the same format: only their bytes are compared".into());
    }
    let mut d = collect(Mode::Files, &a, &b, &pairs, limits, &mut notes, sink);
    d.summary.aligned_by = if same { "offset" } else { "section" };
    d.summary.structural = structural.len() as u64;
    d.summary.identical = d.summary.bytes_changed == 0 && structural.is_empty();
    d.structural = structural;
    d.notes = notes;
    d
}

/// [`diff_memory`] handing each change to `sink` as [`diff_files_to`] does.
pub fn diff_memory_to(a: Side<'_>, b: Side<'_>, limits: Limits, sink: &mut dyn FnMut(Change)) -> Diff {
    let mut notes = Vec::new();
    let (la, lb) = (a.data.len() as u64, b.data.len() as u64);
    if la != lb {
        notes.push(format!("the memory images differ in size: {la:#x} and {lb:#x} bytes; the common part is compared"));
    }
    let pairs = vec![Pair { a: 0, b: 0, len_a: la, len_b: lb }];
    let mut d = collect(Mode::Image, &a, &b, &pairs, limits, &mut notes, sink);
    d.summary.aligned_by = "rva";
    d.summary.identical = d.summary.bytes_changed == 0 && la == lb;
    d.notes = notes;
    d
}

fn collect(
    mode: Mode,
    a: &Side<'_>,
    b: &Side<'_>,
    pairs: &[Pair],
    limits: Limits,
    notes: &mut Vec<String>,
    sink: &mut dyn FnMut(Change),
) -> Diff {
    let mut at = attribute::Attributor::new(mode, a, limits.max_instructions);
    let objects = objects_of(mode, a, b);
    let mut summary = Summary::default();
    // The last change, which the next may extend; the ones before it are handed over.
    let mut last: Option<Change> = None;
    let mut listed = 0u64;
    let mut by_kind: Vec<(String, u64)> = Vec::new();
    let mut hand = |c: Change, by_kind: &mut Vec<(String, u64)>| {
        let k = c.structures.first().map_or("bytes", |s| s.kind);
        match by_kind.iter_mut().find(|(n, _)| n == k) {
            Some(e) => e.1 += 1,
            None => by_kind.push((k.to_string(), 1)),
        }
        sink(c);
    };
    // (a offset, b offset, len, bytes A has, bytes B has): a grown or shrunk tail has bytes on
    // one side only.
    let mut raw: Vec<(u64, u64, u64, u64, u64)> = Vec::new();
    let mut unlisted = 0u64;
    for p in pairs {
        let n = p.len_a.min(p.len_b);
        let (Some(sa), Some(sb)) =
            (a.data.get(p.a as usize..(p.a + n) as usize), b.data.get(p.b as usize..(p.b + n) as usize))
        else {
            continue;
        };
        summary.bytes_compared += n;
        runs(sa, sb, n as usize, |s, len| {
            summary.bytes_changed += len;
            raw.push((p.a + s, p.b + s, len, len, len));
            true
        });
        if p.len_a != p.len_b {
            // A section that grew or shrank: its tail is one change.
            let (ta, tb) = (p.a + n, p.b + n);
            let len = p.len_a.max(p.len_b) - n;
            summary.bytes_changed += len;
            raw.push((ta, tb, len, p.len_a - n, p.len_b - n));
        }
    }
    // Split each run where the structure changes, then merge neighbours of one structure.
    for (oa, ob, len, has_a, has_b) in raw {
        let mut pos = 0;
        while pos < len {
            // Bytes only in B (a grown tail) belong to no structure of A.
            let mut piece = if pos < has_a { at.piece(oa + pos, has_a.min(len) - pos) } else { len - pos };
            // One object per change: cut where the contribution holding the bytes ends.
            let object = objects.map(|o| {
                let (object, n) =
                    if pos < has_b { o.b.object_run(ob + pos, piece) } else { o.a.object_run(oa + pos, piece) };
                piece = n;
                object
            });
            let start = oa + pos;
            let (ra, rb) =
                ((start as usize)..((start + piece) as usize), ((ob + pos) as usize)..((ob + pos + piece) as usize));
            // A piece of a merged run may hold only equal bytes (the gap between two changes).
            if has_a == has_b && a.data.get(ra.clone()).is_some() && a.data.get(ra) == b.data.get(rb) {
                pos += piece;
                continue;
            }
            if listed as usize >= limits.max_changes {
                unlisted += 1;
                pos += piece;
                continue;
            }
            {
                // Each side shows only the bytes it has.
                let bytes = |d: &[u8], o: u64, has: u64| {
                    let n = piece.min(has.saturating_sub(pos));
                    let s = (o as usize).min(d.len());
                    let e = (o.saturating_add(n) as usize).min(d.len());
                    hex(&d[s..e])
                };
                let structures = if pos < has_a {
                    at.structures(start, b, ob + pos)
                } else {
                    vec![Structure {
                        kind: "section-data",
                        name: "bytes only in the second file".into(),
                        detail: Some(format!("the range grew by {} bytes", has_b - has_a)),
                        before: None,
                        after: None,
                        leaf: false,
                        start,
                    }]
                };
                let words = attribute::words(&structures, piece);
                let c = Change {
                    offset: (mode == Mode::Files).then_some(start),
                    offset_b: (mode == Mode::Files && ob != oa).then_some(ob + pos),
                    rva: if mode == Mode::Image { Some(start) } else { at.rva_of(start) },
                    len: piece,
                    before: bytes(a.data, start, has_a),
                    after: bytes(b.data, ob + pos, has_b),
                    truncated: piece > MAX_HEX_BYTES,
                    structures,
                    words,
                    object,
                };
                match &mut last {
                    Some(l) if mergeable(l, &c, mode) => merge(l, c, a, b, mode),
                    _ => {
                        if let Some(l) = last.replace(c) {
                            hand(l, &mut by_kind);
                        }
                        listed += 1;
                    }
                }
            }
            pos += piece;
        }
    }
    if let Some(l) = last {
        hand(l, &mut by_kind);
    }
    summary.listed = listed;
    summary.changes = summary.listed + unlisted;
    if unlisted > 0 {
        notes.push(format!("{unlisted} more changes are counted but not listed (limit {})", limits.max_changes));
    }
    summary.by_kind = by_kind;
    notes.extend(at.notes());
    Diff { mode, changes: Vec::new(), structural: Vec::new(), summary, notes: Vec::new(), objects_changed: None }
}

/// Two changes of the same innermost leaf structure (a field whose bytes 0 and 2 changed) are one.
fn mergeable(last: &Change, c: &Change, mode: Mode) -> bool {
    let key = |x: &Change| x.structures.first().filter(|s| s.leaf).map(|s| (s.kind, s.name.clone(), s.start));
    let end = |x: &Change| if mode == Mode::Files { x.offset.unwrap_or(0) } else { x.rva.unwrap_or(0) } + x.len;
    let start = |x: &Change| if mode == Mode::Files { x.offset.unwrap_or(0) } else { x.rva.unwrap_or(0) };
    key(last).is_some()
        && key(last) == key(c)
        && start(c) >= end(last)
        && last.offset_b.is_none()
        && c.offset_b.is_none()
        && last.object == c.object
}

/// How the objects of changed bytes are found, when the PDBs are there: two files by their file
/// offsets, each through its own PDB; two memory images by RVA, the second through the first's
/// PDB when it has none (the same image).
fn objects_of<'a>(mode: Mode, a: &Side<'a>, b: &Side<'a>) -> Option<objects::Objects<'a>> {
    use objects::{ObjectSide, Objects, Place};
    match mode {
        Mode::Files => {
            let (pa, pb, xa, xb) = (a.pdb?, b.pdb?, a.bin?, b.bin?);
            Some(Objects {
                a: ObjectSide { pdb: pa, place: Place::File(xa) },
                b: ObjectSide { pdb: pb, place: Place::File(xb) },
            })
        }
        Mode::Image => {
            let pa = a.pdb?;
            Some(Objects {
                a: ObjectSide { pdb: pa, place: Place::Rva },
                b: ObjectSide { pdb: b.pdb.unwrap_or(pa), place: Place::Rva },
            })
        }
    }
}

fn merge(last: &mut Change, c: Change, a: &Side<'_>, b: &Side<'_>, mode: Mode) {
    let s = if mode == Mode::Files { last.offset.unwrap_or(0) } else { last.rva.unwrap_or(0) };
    let e = if mode == Mode::Files { c.offset.unwrap_or(0) } else { c.rva.unwrap_or(0) } + c.len;
    last.len = e - s;
    let slice = |d: &[u8]| hex(&d[(s as usize).min(d.len())..(e as usize).min(d.len())]);
    last.before = slice(a.data);
    last.after = slice(b.data);
    last.truncated = last.len > MAX_HEX_BYTES;
    // Instructions are re-described over the whole range.
    for (x, y) in last.structures.iter_mut().zip(c.structures) {
        if x.kind == "instruction" && y.kind == "instruction" {
            x.after = y.after;
        }
    }
    last.words = attribute::words(&last.structures, last.len);
}
