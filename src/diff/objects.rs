//! Which objects changed between two builds, from their PDBs' section contributions: an input
//! section whose data CRC (or size) differs, or that appeared or went away. Contributions are
//! matched by object (module and archive as stored) and input-section characteristics, the
//! n-th of a kind in one build with the n-th in the other (the linker lays an object's sections
//! out in its input order); size-0 contributions and the linker's own are left out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::pdb::{LoadedPdb, PdbContribution};
use crate::model::Binary;

/// One changed input section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectChange {
    /// The object (module name as stored).
    pub module: String,
    /// Its archive ("obj file name" as stored).
    pub archive: String,
    /// RVA in the second build (the first, for one that went away).
    pub rva: Option<u64>,
    /// Size in the second build (the first, for one that went away).
    pub size: u32,
    /// `data crc differs`, `size differs`, `appeared` or `went away`.
    pub why: &'static str,
}

type Key<'a> = (&'a str, &'a str, u32);

fn grouped(list: &[PdbContribution]) -> BTreeMap<Key<'_>, Vec<&PdbContribution>> {
    let mut m: BTreeMap<Key<'_>, Vec<&PdbContribution>> = BTreeMap::new();
    for c in list.iter().filter(|c| c.size > 0) {
        let (Some(module), Some(archive)) = (c.module.as_deref(), c.archive.as_deref()) else { continue };
        if module == "* Linker *" {
            continue;
        }
        m.entry((module, archive, c.characteristics)).or_default().push(c);
    }
    m
}

/// The input sections that differ between the contributions `a` (first build) and `b`, by
/// object, then in the second build's order.
pub fn compare(a: &[PdbContribution], b: &[PdbContribution]) -> Vec<ObjectChange> {
    let (ga, gb) = (grouped(a), grouped(b));
    let mut out = Vec::new();
    let row = |c: &PdbContribution, why| ObjectChange {
        module: c.module.clone().unwrap_or_default(),
        archive: c.archive.clone().unwrap_or_default(),
        rva: c.rva,
        size: c.size,
        why,
    };
    let empty = Vec::new();
    let keys: std::collections::BTreeSet<&Key<'_>> = ga.keys().chain(gb.keys()).collect();
    for k in keys {
        let (xa, xb) = (ga.get(k).unwrap_or(&empty), gb.get(k).unwrap_or(&empty));
        for i in 0..xa.len().max(xb.len()) {
            match (xa.get(i), xb.get(i)) {
                (Some(x), Some(y)) if x.data_crc != y.data_crc => out.push(row(y, "data crc differs")),
                (Some(x), Some(y)) if x.size != y.size => out.push(row(y, "size differs")),
                (Some(_), Some(_)) | (None, None) => {}
                (None, Some(y)) => out.push(row(y, "appeared")),
                (Some(x), None) => out.push(row(x, "went away")),
            }
        }
    }
    out
}

/// The object a change's bytes came from (JSON `object` of a change): the module and archive
/// as stored, as in `objects_changed[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// The object (module name as stored).
    pub module: String,
    /// Its archive ("obj file name" as stored).
    pub archive: String,
}

impl ObjectRef {
    fn of(c: &PdbContribution) -> Self {
        ObjectRef { module: c.module.clone().unwrap_or_default(), archive: c.archive.clone().unwrap_or_default() }
    }
}

/// How a side's positions become RVAs: positions are RVAs (a memory image), or file offsets of
/// this image.
#[derive(Clone, Copy)]
pub(crate) enum Place<'a> {
    /// Positions are RVAs.
    Rva,
    /// Positions are file offsets of this image.
    File(&'a Binary),
}

/// One side's contributions and how to reach them from a position.
#[derive(Clone, Copy)]
pub(crate) struct ObjectSide<'a> {
    /// The side's PDB.
    pub pdb: &'a LoadedPdb,
    /// How its positions are placed.
    pub place: Place<'a>,
}

impl ObjectSide<'_> {
    /// The RVA of position `pos`, and how many bytes from it keep the same mapping (to the end of
    /// its section's file data); None when no section maps it.
    fn rva(&self, pos: u64) -> Option<(u64, u64)> {
        match self.place {
            Place::Rva => Some((pos, u64::MAX - pos)),
            Place::File(bin) => bin.sections.iter().find_map(|s| {
                let end = s.file_offset.saturating_add(s.file_size);
                (s.is_alloc && s.file_size > 0 && s.file_offset <= pos && pos < end)
                    .then(|| (s.rva + (pos - s.file_offset), end - pos))
            }),
        }
    }

    /// The object of the byte at `pos` and how many bytes from it (at most `max`) share it: the
    /// contribution's run, or the gap to the next one (object None).
    pub fn object_run(&self, pos: u64, max: u64) -> (Option<ObjectRef>, u64) {
        let Some((rva, left)) = self.rva(pos) else { return (None, max.max(1)) };
        let max = max.min(left);
        let (object, end) = match self.pdb.by_rva().run_at(rva) {
            Ok((p, end)) => (self.pdb.contributions.get(p).map(ObjectRef::of), end),
            Err(next) => (None, next),
        };
        (object, max.min(end.saturating_sub(rva)).max(1))
    }
}

/// The objects of a diff's changed bytes: the second build's contribution holding each byte,
/// the first build's for bytes only the first has (a range that went away or shrank). Each
/// lookup is a binary search in the PDB's [`crate::model::pdb::ContributionIndex`].
#[derive(Clone, Copy)]
pub(crate) struct Objects<'a> {
    /// The first build's.
    pub a: ObjectSide<'a>,
    /// The second build's.
    pub b: ObjectSide<'a>,
}
