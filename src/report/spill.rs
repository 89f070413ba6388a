//! A table's rows kept on disk between the pass that measures them and the pass that writes
//! them padded: a table of millions of rows (the `refs` table of a 120 MB DLL: 1.4 million rows,
//! 175 MB of text) made from one pass over its source, in bounded memory, instead of formatting
//! every row twice. The rows go to a temporary file, removed as soon as it is opened (Unix) or
//! when the spill is dropped.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::PathBuf;

use super::table::{chars, Table};

/// Rows written to a temporary file in blocks, read back in order.
pub struct Spill {
    file: BufWriter<File>,
    /// The file's path while it still has one (not Unix).
    path: Option<PathBuf>,
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
        Ok(Spill { file: BufWriter::with_capacity(1 << 20, file), path })
    }

    /// Add one row's cells to `block` (each cell: its length in bytes and in characters, then
    /// its text). The block goes to the file with [`Spill::append`].
    pub fn encode<'c>(block: &mut Vec<u8>, cells: impl Iterator<Item = &'c str>) {
        for c in cells {
            varint(block, c.len() as u64);
            varint(block, chars(c) as u64);
            block.extend_from_slice(c.as_bytes());
        }
    }

    /// Write a block of rows made by [`Spill::encode`].
    pub fn append(&mut self, block: &[u8]) -> io::Result<()> {
        self.file.write_all(&(block.len() as u64).to_le_bytes())?;
        self.file.write_all(block)
    }

    /// Read the rows back in order (`columns` cells each) and write each padded to `width` by `t`.
    pub fn write_rows(self, t: &Table, width: &[usize], columns: usize, w: &mut impl Write) -> io::Result<()> {
        let mut file = self.file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let (mut block, mut out) = (Vec::new(), Vec::new());
        let mut len = [0u8; 8];
        loop {
            match r.read_exact(&mut len) {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                other => other?,
            }
            block.clear();
            (&mut r).take(u64::from_le_bytes(len)).read_to_end(&mut block)?;
            let mut at = 0;
            let mut cells = Vec::with_capacity(columns);
            while at < block.len() {
                cells.clear();
                for _ in 0..columns {
                    let n = read_varint(&block, &mut at)? as usize;
                    let k = read_varint(&block, &mut at)? as usize;
                    let text = block.get(at..at + n).ok_or_else(corrupt)?;
                    cells.push((std::str::from_utf8(text).map_err(|_| corrupt())?, k));
                    at += n;
                }
                t.push_counted(&mut out, width, cells.iter().copied());
            }
            w.write_all(&out)?;
            out.clear();
        }
        if let Some(p) = self.path {
            let _ = std::fs::remove_file(p);
        }
        Ok(())
    }
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
                Spill::encode(&mut block, r.iter().copied());
            }
            spill.append(&block).unwrap();
        }
        let mut got = Vec::new();
        spill.write_rows(&t, &width, 3, &mut got).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
    }
}
