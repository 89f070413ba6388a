//! A module's memory as a process held it: what `verify`, `verify --explain` and `diff --dump` compare
//! an image with, whatever it came from (a raw SizeOfImage dump, a minidump, an ELF core, a live
//! process).

use std::borrow::Cow;

/// One module's memory: `size` bytes from its load base, some of which the source may not hold.
#[derive(Debug, Clone)]
pub struct ModuleMemory<'a> {
    /// Where the module was loaded, when the source says (a raw dump does not).
    pub base: Option<u64>,
    /// The module's memory from its base (SizeOfImage, or the ELF `PT_LOAD` span). Bytes the
    /// source does not hold read as zero; [`ModuleMemory::held`] says which those are. Borrowed
    /// when the source holds the module as one run of bytes (a raw dump, a full minidump whose
    /// ranges follow one another), else joined into a copy.
    pub bytes: Cow<'a, [u8]>,
    /// The RVA ranges `[start, end)` the source holds, sorted, disjoint, not touching, within
    /// `bytes`. Everything else is `not_in_dump`: unknown, never a mismatch.
    pub held: Vec<(u64, u64)>,
}

impl<'a> ModuleMemory<'a> {
    /// Memory the source holds completely (a raw image dump).
    pub fn whole(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        let bytes = bytes.into();
        let held = if bytes.is_empty() { Vec::new() } else { vec![(0, bytes.len() as u64)] };
        ModuleMemory { base: None, bytes, held }
    }

    /// Memory of `size` bytes assembled from pieces `(rva, bytes)` (any order, may overlap: a
    /// later piece wins where two overlap), clipped to `size`.
    pub fn from_pieces<'p>(base: Option<u64>, size: usize, pieces: impl IntoIterator<Item = (u64, &'p [u8])>) -> Self {
        let mut bytes = vec![0u8; size];
        let mut held = Vec::new();
        for (rva, piece) in pieces {
            let Ok(start) = usize::try_from(rva) else { continue };
            if start >= size {
                continue;
            }
            let n = piece.len().min(size - start);
            bytes[start..start + n].copy_from_slice(&piece[..n]);
            if n > 0 {
                held.push((rva, rva + n as u64));
            }
        }
        ModuleMemory { base, bytes: Cow::Owned(bytes), held: normalise(held) }
    }

    /// The module's size in memory.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the memory is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether every byte of `[rva, rva + len)` is held.
    pub fn holds(&self, rva: u64, len: u64) -> bool {
        let end = rva.saturating_add(len);
        let i = self.held.partition_point(|&(_, e)| e <= rva);
        self.held.get(i).is_some_and(|&(s, e)| s <= rva && end <= e)
    }

    /// Whether any byte of `[rva, rva + len)` is held.
    pub fn touches(&self, rva: u64, len: u64) -> bool {
        let end = rva.saturating_add(len);
        let i = self.held.partition_point(|&(_, e)| e <= rva);
        self.held.get(i).is_some_and(|&(s, _)| s < end)
    }

    /// Bytes not held, in total.
    pub fn not_held(&self) -> u64 {
        let held: u64 = self.held.iter().map(|&(s, e)| e - s).sum();
        (self.bytes.len() as u64).saturating_sub(held)
    }
}

/// Sort ranges, drop empty ones and join the ones that overlap or touch.
fn normalise(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.retain(|&(s, e)| s < e);
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_and_holes_stay_unknown() {
        let a = [1u8; 4];
        let b = [2u8; 4];
        let m = ModuleMemory::from_pieces(Some(0x1000), 16, [(8u64, &b[..]), (0, &a[..]), (4, &a[..]), (14, &b[..])]);
        assert_eq!(m.held, vec![(0, 12), (14, 16)]);
        assert!(m.holds(0, 12));
        assert!(!m.holds(10, 4));
        assert!(m.touches(10, 4));
        assert!(!m.touches(12, 2));
        assert_eq!(m.not_held(), 2);
        assert_eq!(&m.bytes[12..16], &[0, 0, 2, 2]);
    }
}
