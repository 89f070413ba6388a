//! Which objects changed between two builds, from their PDBs' section contributions: an input
//! section whose data CRC (or size) differs, or that appeared or went away. Contributions are
//! matched by object (module and archive as stored) and input-section characteristics, the
//! n-th of a kind in one build with the n-th in the other (the linker lays an object's sections
//! out in its input order); size-0 contributions and the linker's own are left out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::pdb::PdbContribution;

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
