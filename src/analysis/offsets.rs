//! The rows of the instruction index in about one byte each: [`PackedOffsets`] keeps, per row,
//! the distance from the row before (an instruction's length, mostly) and the row's
//! [`DATA_ROW`] / [`DATA_QUAD`] flags, with the full offset of every 64th row so any row is read
//! back with at most 63 additions. A distance that does not fit (a new region, bytes skipped) is
//! kept whole beside the rows.

use super::listing::{DATA_QUAD, DATA_ROW, OFFSET_MASK};

/// Rows per stored full offset.
const BLOCK: usize = 64;
/// The code's distance bits.
const DELTA: u8 = 0x3f;
/// Distance code: the offset is in `far`.
const FAR: u8 = DELTA;
/// The flags' bits of an offset, moved to the top two bits of a code.
const FLAGS: u32 = DATA_ROW | DATA_QUAD;

/// A list of instruction-index offsets ([`super::listing::InsnIndex::offsets`]), one byte a row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackedOffsets {
    /// Per row: flags in bits 7–6, the distance from the row before in bits 5–0 ([`FAR`]: the
    /// offset is in `far`).
    codes: Vec<u8>,
    /// The offset (without flags) of rows 0, 64, 128, …
    marks: Vec<u32>,
    /// `(row, offset)` of the rows coded [`FAR`], in row order.
    far: Vec<(u32, u32)>,
    /// The offset of the last row.
    last: u32,
}

impl PackedOffsets {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Make room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.codes.reserve_exact(n);
        self.marks.reserve_exact(n / BLOCK + 1);
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.codes.capacity() + 4 * self.marks.capacity() + 8 * self.far.capacity()
    }

    /// Add a row: an offset with its flags, as [`super::listing::InsnIndex::offsets`] holds it.
    pub fn push(&mut self, v: u32) {
        let row = self.codes.len();
        let off = v & OFFSET_MASK;
        let flags = ((v & FLAGS) >> 24) as u8;
        if row.is_multiple_of(BLOCK) {
            self.marks.push(off);
        }
        let delta = off.checked_sub(self.last).filter(|&d| d < u32::from(FAR));
        let code = match delta {
            // A block's first row is read from its mark.
            _ if row.is_multiple_of(BLOCK) => 0,
            Some(d) => d as u8,
            None => {
                self.far.push((row as u32, off));
                FAR
            }
        };
        self.codes.push(flags | code);
        self.last = off;
    }

    /// The row at `i`, flags included.
    pub fn get(&self, i: usize) -> Option<u32> {
        let code = *self.codes.get(i)?;
        let b = i / BLOCK * BLOCK;
        let mut off = self.marks[i / BLOCK];
        for row in b + 1..=i {
            off = self.step(row, self.codes[row], off);
        }
        Some(off | (u32::from(code & !DELTA) << 24))
    }

    /// The offset of row `row` coded `c`, the row before being at `prev`.
    fn step(&self, row: usize, c: u8, prev: u32) -> u32 {
        match c & DELTA {
            FAR => {
                let i = self.far.partition_point(|&(r, _)| (r as usize) < row);
                self.far.get(i).map_or(prev, |&(_, o)| o)
            }
            d => prev + u32::from(d),
        }
    }

    /// The rows at `range` (clamped), flags included.
    pub fn range(&self, range: std::ops::Range<usize>) -> Vec<u32> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        let mut v = Vec::with_capacity(end - start);
        let Some(first) = self.get(start).filter(|_| start < end) else { return v };
        v.push(first);
        let mut off = first & OFFSET_MASK;
        for (k, &c) in self.codes[start + 1..end].iter().enumerate() {
            let row = start + 1 + k;
            off = if row.is_multiple_of(BLOCK) { self.marks[row / BLOCK] } else { self.step(row, c, off) };
            v.push(off | (u32::from(c & !DELTA) << 24));
        }
        v
    }

    /// The first row of `range` whose offset (without flags) `pred` rejects, the rows of
    /// `range` being partitioned by `pred` (one region's rows, whose offsets increase).
    pub fn partition_point(&self, range: std::ops::Range<usize>, pred: impl Fn(u32) -> bool) -> usize {
        let end = range.end.min(self.len());
        let (mut lo, mut hi) = (range.start.min(end), end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.get(mid).is_some_and(|v| pred(v & OFFSET_MASK)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Rows flagged [`DATA_ROW`].
    pub fn data_rows(&self) -> usize {
        self.codes.iter().filter(|&&c| u32::from(c) << 24 & DATA_ROW != 0).count()
    }
}

impl Extend<u32> for PackedOffsets {
    fn extend<I: IntoIterator<Item = u32>>(&mut self, iter: I) {
        iter.into_iter().for_each(|v| self.push(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_comes_back() {
        // Two regions (the second restarts at 0), a skip past what a code holds, data rows.
        let mut want: Vec<u32> = Vec::new();
        let mut off = 0;
        for i in 0..1000u32 {
            off += 1 + i % 15;
            if i % 97 == 0 {
                off += 5000;
            }
            let flags = match i % 50 {
                7 => DATA_ROW,
                8 => DATA_ROW | DATA_QUAD,
                _ => 0,
            };
            want.push(off | flags);
        }
        want.extend([0, 3, 10, OFFSET_MASK, 2]);
        let mut p = PackedOffsets::default();
        p.extend(want.iter().copied());
        assert_eq!(p.len(), want.len());
        for (i, &w) in want.iter().enumerate() {
            assert_eq!(p.get(i), Some(w), "row {i}");
        }
        assert_eq!(p.get(want.len()), None);
        assert_eq!(p.range(0..want.len()), want);
        assert_eq!(p.range(63..130), want[63..130]);
        assert_eq!(p.range(5..5), Vec::<u32>::new());
        assert_eq!(p.data_rows(), want.iter().filter(|&&w| w & DATA_ROW != 0).count());
        assert!(p.heap_bytes() < want.len() * 2);
        // Offsets increase over the first region.
        let t = want[500] & OFFSET_MASK;
        assert_eq!(p.partition_point(0..1000, |o| o <= t), 501);
    }
}
