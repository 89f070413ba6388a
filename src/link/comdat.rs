//! Which COMDAT copy prevails, per linker: lld's `handleComdatSelection` (with its ANY+LARGEST
//! and, in MinGW mode, ANY+SAME_SIZE merges) and GNU ld's link-once duplicates
//! (`_bfd_handle_already_linked`).

use super::resolve::{ChunkId, World};

/// lld's decision for a second copy of a COMDAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The leader stays; the new copy is not read.
    Keep,
    /// The link fails with `duplicate symbol`.
    Duplicate,
    /// The new copy becomes the leader (LARGEST and bigger).
    Replace,
}

/// Size of a section as the COFF header gives it (SizeOfRawData).
pub fn size(w: &World, c: ChunkId) -> u64 {
    w.objs[c.obj].section(c.section).map_or(0, |s| s.virtual_size)
}

/// The section-definition aux length (what lld compares in MinGW mode).
fn aux_length(w: &World, c: ChunkId) -> Option<u64> {
    let o = &w.objs[c.obj];
    let pos = o
        .bin
        .symbols
        .iter()
        .position(|s| s.section == Some(c.section) && s.kind == crate::model::SymbolKind::Section)?;
    crate::formats::bytes::u32_at(o.bin.aux(o.data(), pos)?, 0).map(u64::from)
}

/// Whether two copies have the same bytes.
pub fn same_contents(w: &World, a: ChunkId, b: ChunkId) -> bool {
    w.objs[a.obj].section_bytes(a.section) == w.objs[b.obj].section_bytes(b.section) && size(w, a) == size(w, b)
}

/// lld 14: `leader` (selection `leader_sel`) meets `new` (selection `sel`).
pub fn lld(w: &World, leader: ChunkId, leader_sel: u8, new: ChunkId, sel: u8) -> Verdict {
    const NODUP: u8 = 1;
    const ANY: u8 = 2;
    const SAME_SIZE: u8 = 3;
    const EXACT: u8 = 4;
    const LARGEST: u8 = 6;
    let (mut a, mut b) = (leader_sel, sel);
    if (b == ANY && a == LARGEST) || (b == LARGEST && a == ANY) {
        a = LARGEST;
        b = LARGEST;
    }
    if w.cfg.mingw && ((b == ANY && a == SAME_SIZE) || (b == SAME_SIZE && a == ANY)) {
        a = SAME_SIZE;
        b = SAME_SIZE;
    }
    if a != b {
        return Verdict::Duplicate;
    }
    match b {
        NODUP => Verdict::Duplicate,
        SAME_SIZE => {
            let same_aux =
                w.cfg.mingw && aux_length(w, leader).is_some() && aux_length(w, leader) == aux_length(w, new);
            if size(w, leader) == size(w, new) || same_aux {
                Verdict::Keep
            } else {
                Verdict::Duplicate
            }
        }
        EXACT => {
            if w.objs[leader.obj].section_bytes(leader.section) == w.objs[new.obj].section_bytes(new.section) {
                Verdict::Keep
            } else {
                Verdict::Duplicate
            }
        }
        LARGEST if size(w, leader) < size(w, new) => Verdict::Replace,
        _ => Verdict::Keep,
    }
}

/// GNU ld: the warning a second link-once copy earns (None: discarded silently).
pub fn gnu_warning(w: &World, first: ChunkId, new: ChunkId, sel: u8) -> Option<&'static str> {
    match sel {
        3 if size(w, first) != size(w, new) => Some("has different size"),
        4 if size(w, first) != size(w, new) => Some("has different size"),
        4 if !same_contents(w, first, new) => Some("has different contents"),
        _ => None,
    }
}
