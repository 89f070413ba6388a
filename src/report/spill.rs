//! A table's rows kept on disk between the pass that measures them and the pass that writes
//! them padded: a table of millions of rows (the `refs` table of a 120 MB DLL: 1.4 million rows,
//! 175 MB of text) made from one pass over its source, in bounded memory, instead of formatting
//! every row twice. The rows go to a temporary file, removed as soon as it is opened (Unix) or
//! when the spill is dropped.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::PathBuf;

use super::table::{chars, Table};

/// Rows written to a temporary file in blocks, read back in order.
pub struct Spill {
    /// The file (taken when the rows are read back).
    file: Option<BufWriter<File>>,
    /// The file's path while it still has one (not Unix).
    path: Option<PathBuf>,
    /// Each block's offset and length.
    blocks: Vec<(u64, usize)>,
    /// Bytes written.
    len: u64,
}

impl Spill {
    /// A new, empty spill in the system's temporary directory.
    pub fn new() -> io::Result<Self> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("linkscope-{}-{}.rows", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        let file = File::options().read(true).write(true).create_new(true).open(&path)?;
        // Unix: nothing is left behind, whatever happens next.
        let path = if cfg!(unix) && std::fs::remove_file(&path).is_ok() { None } else { Some(path) };
        Ok(Spill { file: Some(BufWriter::with_capacity(1 << 20, file)), path, blocks: Vec::new(), len: 0 })
    }

    /// Add one row's cells to `block` (each cell: its length in bytes and in characters, then
    /// its text) and widen `width` to fit them. The block goes to the file with
    /// [`Spill::append`].
    pub fn encode<'c>(block: &mut Vec<u8>, width: &mut [usize], cells: impl Iterator<Item = &'c str>) {
        for (w, c) in width.iter_mut().zip(cells) {
            let k = chars(c);
            *w = (*w).max(k);
            varint(block, c.len() as u64);
            varint(block, k as u64);
            block.extend_from_slice(c.as_bytes());
        }
    }

    /// Write a block of rows made by [`Spill::encode`].
    pub fn append(&mut self, block: &[u8]) -> io::Result<()> {
        self.file.as_mut().ok_or_else(corrupt)?.write_all(block)?;
        self.blocks.push((self.len, block.len()));
        self.len += block.len() as u64;
        Ok(())
    }

    /// Read the rows back in order (`columns` cells each) and write each padded to `width` by
    /// `t`: the blocks read and padded on `threads` threads, written in order.
    pub fn write_rows(
        mut self,
        t: &Table,
        width: &[usize],
        columns: usize,
        threads: usize,
        w: &mut impl Write,
    ) -> io::Result<()> {
        let file = self.file.take().ok_or_else(corrupt)?;
        let file = std::sync::Mutex::new(file.into_inner().map_err(io::IntoInnerError::into_error)?);
        let blocks = &self.blocks;
        let job = |i: usize| -> io::Result<Vec<u8>> {
            let (at, len) = blocks[i];
            let mut block = vec![0; len];
            {
                let mut f = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                f.seek(io::SeekFrom::Start(at))?;
                f.read_exact(&mut block)?;
            }
            pad_block(t, width, columns, &block)
        };
        crate::analysis::stream::run_ordered(blocks.len(), threads, &job, &mut |r| w.write_all(&r?))
    }
}

impl Drop for Spill {
    /// Where the file could not be removed when it was opened, it goes now.
    fn drop(&mut self) {
        drop(self.file.take());
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A block's rows (`columns` cells each) padded to `width` by `t`.
fn pad_block(t: &Table, width: &[usize], columns: usize, block: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(block.len() * 2);
    let mut cells = Vec::with_capacity(columns);
    let mut at = 0;
    while at < block.len() {
        cells.clear();
        for _ in 0..columns {
            let n = read_varint(block, &mut at)? as usize;
            let k = read_varint(block, &mut at)? as usize;
            // The text as `encode` wrote it (whole UTF-8 cells): not checked again.
            cells.push((block.get(at..at + n).ok_or_else(corrupt)?, k));
            at += n;
        }
        t.push_counted(&mut out, width, cells.iter().copied());
    }
    Ok(out)
}

/// The spill read back is not what was written (another process changed the file).
fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "the table's temporary file was changed while it was written")
}

/// `v` in LEB128.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(b: &[u8], at: &mut usize) -> io::Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at).ok_or_else(corrupt)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err(corrupt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_as_the_table_writes_them() {
        let t = Table::new(&["a", "b>", "c"]);
        let rows = [["x", "12", "é long"], ["", "", ""], ["ü\u{3000}", "3", "€ \u{a0}"], [&"n".repeat(300), "1", ""]];
        let width = [300, 2, 6];
        let mut want = Vec::new();
        let mut spill = Spill::new().unwrap();
        for pair in rows.chunks(2) {
            let mut block = Vec::new();
            for r in pair {
                t.push_row(&mut want, &width, r.iter().copied());
                Spill::encode(&mut block, &mut [0; 3], r.iter().copied());
            }
            spill.append(&block).unwrap();
        }
        let mut got = Vec::new();
        spill.write_rows(&t, &width, 3, 2, &mut got).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
    }
}
