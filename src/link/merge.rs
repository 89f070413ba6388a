//! lld's tail merging of string literals (`MergeChunk`): with ICF on (or `/opt:lldtailmerge`),
//! a kept `.rdata` COMDAT without relocations whose leader is an MSVC string literal (`??_C@…`)
//! is not a chunk of its own. lld puts it in one merged chunk per alignment, at the end of
//! `.rdata` before the debug directory, holding every live literal once, a literal that ends
//! another at an aligned place sharing its bytes (LLVM's `StringTableBuilder`, RAW, optimised).
//! lld's map lists the merged chunk under no object, so a comparison counts it through the
//! output section's size, as the other chunks the linker makes itself.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::live::Live;
use super::resolve::{ChunkId, World};
use crate::formats::coff::header::scn;

/// The literals merged into one chunk.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// The chunk's alignment (that of every literal in it).
    pub align: u64,
    /// Its size after merging.
    pub size: u64,
    /// Each live literal and its offset in the chunk, in input order.
    pub pieces: Vec<(ChunkId, u64)>,
}

/// The sections lld reads into a merged chunk (live or not: a chunk exists for an alignment
/// once a literal of it was read).
pub fn candidates(w: &World) -> HashSet<ChunkId> {
    if !w.cfg.tail_merge {
        return HashSet::new();
    }
    let leaders: HashMap<ChunkId, &str> =
        w.comdats.iter().filter_map(|g| g.kept.map(|k| (k, g.symbol.as_str()))).collect();
    let mut out = HashSet::new();
    for (oi, o) in w.objs.iter().enumerate() {
        for &sec in &w.read_order[oi] {
            let id = ChunkId::new(oi, sec);
            let Some(s) = o.section(sec) else { continue };
            if s.name == ".rdata"
                && s.flags as u32 & scn::LNK_COMDAT != 0
                && o.relocs(sec).next().is_none()
                && leaders.get(&id).is_some_and(|l| l.starts_with("??_C@"))
            {
                out.insert(id);
            }
        }
    }
    out
}

/// The merged chunks, by alignment (smallest first, as lld adds them), of the `candidates`
/// still live and not folded.
pub fn chunks(w: &World, live: &Live, candidates: &HashSet<ChunkId>) -> Vec<Merged> {
    let mut by_align: BTreeMap<u64, Vec<ChunkId>> = BTreeMap::new();
    for (oi, order) in w.read_order.iter().enumerate() {
        for &sec in order {
            let id = ChunkId::new(oi, sec);
            if !candidates.contains(&id) {
                continue;
            }
            let align = w.objs[oi].section(sec).map_or(1, |s| super::layout::chunk_align(s.flags as u32));
            let list = by_align.entry(align).or_default();
            if live.get(oi).and_then(|l| l.get(sec as usize - 1)).copied().unwrap_or(false) {
                list.push(id);
            }
        }
    }
    by_align
        .into_iter()
        .map(|(align, ids)| {
            let strings: Vec<&[u8]> = ids.iter().map(|c| w.objs[c.obj].section_bytes(c.section)).collect();
            let (size, offsets) = tail_merge(&strings, align);
            Merged { align, size, pieces: ids.into_iter().zip(offsets).collect() }
        })
        .collect()
}

/// `StringTableBuilder` (RAW, alignment `align`, optimised): the size of the table holding
/// every string once, and each string's offset. The distinct strings are sorted by their
/// reversed bytes, descending (a string right after the longer ones it ends), and a string that
/// ends the one placed before it, at an aligned offset, shares its bytes.
pub fn tail_merge(strings: &[&[u8]], align: u64) -> (u64, Vec<u64>) {
    let align = align.max(1);
    let mut distinct: Vec<&[u8]> = strings.to_vec();
    distinct.sort_unstable_by(|a, b| b.iter().rev().cmp(a.iter().rev()));
    distinct.dedup();
    let mut offset: HashMap<&[u8], u64> = HashMap::with_capacity(distinct.len());
    let mut size = 0u64;
    let mut previous: &[u8] = &[];
    for s in distinct {
        let len = s.len() as u64;
        if previous.ends_with(s) {
            let pos = size - len;
            if pos & (align - 1) == 0 {
                offset.insert(s, pos);
                continue;
            }
        }
        size = size.div_ceil(align) * align;
        offset.insert(s, size);
        size += len;
        previous = s;
    }
    let offsets = strings.iter().map(|s| offset.get(s).copied().unwrap_or(0)).collect();
    (size, offsets)
}

#[cfg(test)]
mod tests {
    use super::tail_merge;

    #[test]
    fn a_literal_ending_another_shares_its_bytes_when_aligned() {
        let (size, off) = tail_merge(&[b"literal\0", b"shared literal\0", b"other\0", b"literal\0"], 1);
        // Sorted by reversed bytes, descending: "other\0", "shared literal\0", "literal\0",
        // which ends the one before it and shares its last eight bytes.
        assert_eq!(size, 6 + 15);
        assert_eq!(off, vec![13, 6, 0, 13]);
        // Aligned to 2, "literal\0" would start at 7: it gets its own place.
        let (size, off) = tail_merge(&[b"literal\0", b"shared literal\0"], 2);
        assert_eq!(off, vec![16, 0]);
        assert_eq!(size, 24);
    }

    #[test]
    fn order_and_sharing_follow_the_reversed_bytes() {
        // Sorted by reversed bytes descending: "bz\0", "az\0", "z\0" (z shares az's tail).
        let (size, off) = tail_merge(&[b"z\0", b"az\0", b"bz\0"], 1);
        assert_eq!(off, vec![4, 3, 0]);
        assert_eq!(size, 6);
        assert_eq!(tail_merge(&[], 16), (0, vec![]));
    }
}
