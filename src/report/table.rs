//! A plain aligned text table.

use std::io::Write;

/// Column alignment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left-aligned (text).
    Left,
    /// Right-aligned (numbers).
    Right,
}

/// An aligned table built row by row.
pub struct Table {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers; columns whose header ends in `>` are right-aligned.
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            align: headers.iter().map(|h| if h.ends_with('>') { Align::Right } else { Align::Left }).collect(),
            headers: headers.iter().map(|h| h.trim_end_matches('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Print the table.
    pub fn print(&self, w: &mut impl Write) -> std::io::Result<()> {
        let widths = self.widths(self.rows.iter());
        self.print_rows(w, &widths, self.rows.iter())
    }

    /// Each column's width: the widest of its header and its cells.
    fn widths<R: AsRef<[String]>>(&self, rows: impl Iterator<Item = R>) -> Vec<usize> {
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        self.measure(&mut width, rows);
        width
    }

    /// Widen `width` (one entry per column, e.g. from [`Table::header_widths`]) to fit `rows`.
    pub fn measure<R: AsRef<[String]>>(&self, width: &mut [usize], rows: impl Iterator<Item = R>) {
        for r in rows {
            measure_cells(width, r.as_ref().iter().map(String::as_str));
        }
    }

    /// Each column's width from its header alone.
    pub fn header_widths(&self) -> Vec<usize> {
        self.widths(std::iter::empty::<Vec<String>>())
    }

    /// Write the header line and the rule under it, for columns `width` wide.
    pub fn write_head(&self, w: &mut dyn Write, width: &[usize]) -> std::io::Result<()> {
        self.write_row(w, width, &self.headers)?;
        let rule: Vec<String> = width.iter().map(|&x| "-".repeat(x)).collect();
        self.write_row(w, width, &rule)
    }

    /// Write one row, its cells padded to `width`.
    pub fn write_row<S: AsRef<str>>(&self, w: &mut dyn Write, width: &[usize], cells: &[S]) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(width.iter().sum::<usize>() + 2 * self.headers.len() + 1);
        self.push_row(&mut out, width, cells.iter().map(AsRef::as_ref));
        w.write_all(&out)
    }

    /// Append one row to `out`, its cells padded to `width`, trailing blanks trimmed.
    pub fn push_row<'c>(&self, out: &mut Vec<u8>, width: &[usize], cells: impl Iterator<Item = &'c str>) {
        self.push_counted(out, width, cells.map(|c| (c.as_bytes(), chars(c))));
    }

    /// [`Table::push_row`] with each cell's text (UTF-8) and its width in characters already
    /// counted.
    pub fn push_counted<'c>(&self, out: &mut Vec<u8>, width: &[usize], cells: impl Iterator<Item = (&'c [u8], usize)>) {
        let n = self.headers.len();
        let start = out.len();
        let pad = |out: &mut Vec<u8>, k: usize| out.resize(out.len() + k, b' ');
        // Where the last non-empty cell ends: only blanks follow.
        let mut content = start;
        for (i, (c, k)) in cells.enumerate().take(n) {
            let room = width[i].saturating_sub(k);
            let last = i + 1 == n;
            if self.align[i] == Align::Right {
                pad(out, room);
            }
            out.extend_from_slice(c);
            if !c.is_empty() {
                content = out.len();
            }
            if self.align[i] == Align::Left && !last {
                pad(out, room);
            }
            if !last {
                out.extend_from_slice(b"  ");
            }
        }
        // Whitespace at the end of the row (blank last cells, or a cell's own) is trimmed.
        out.truncate(content);
        trim_end(out, start);
        out.push(b'\n');
    }

    fn print_rows<R: AsRef<[String]>>(
        &self,
        w: &mut impl Write,
        width: &[usize],
        rows: impl Iterator<Item = R>,
    ) -> std::io::Result<()> {
        self.write_head(w, width)?;
        for r in rows {
            self.write_row(w, width, r.as_ref())?;
        }
        Ok(())
    }
}

/// Drop the whitespace (`char::is_whitespace`, as `str::trim_end`) at the end of `out[start..]`,
/// which holds whole characters: ASCII blanks byte by byte, another character decoded only when
/// its last byte is not ASCII.
fn trim_end(out: &mut Vec<u8>, start: usize) {
    while out.len() > start {
        let last = out[out.len() - 1];
        if last.is_ascii() {
            if !last.is_ascii_whitespace() && last != 0x0b {
                return;
            }
            out.pop();
            continue;
        }
        let from = (start.max(out.len().saturating_sub(4))..out.len()).rfind(|&i| out[i] & 0xc0 != 0x80);
        let ch = from.and_then(|i| std::str::from_utf8(&out[i..]).ok()?.chars().next().map(|c| (i, c)));
        match ch {
            Some((i, c)) if c.is_whitespace() => out.truncate(i),
            _ => return,
        }
    }
}

/// A cell's width in characters.
pub fn chars(c: &str) -> usize {
    if c.is_ascii() {
        c.len()
    } else {
        c.chars().count()
    }
}

/// Widen `width` to fit one row's `cells`.
pub fn measure_cells<'c>(width: &mut [usize], cells: impl Iterator<Item = &'c str>) {
    for (w, c) in width.iter_mut().zip(cells) {
        *w = (*w).max(chars(c));
    }
}

/// One row's cells written into one reused buffer, for tables of millions of rows formatted
/// twice (widths, then text) without a `String` per cell.
#[derive(Default)]
pub struct RowBuf {
    text: String,
    ends: Vec<usize>,
}

impl RowBuf {
    /// Start a new row.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// The text of the cell being written (`write!` into it, or push).
    pub fn text(&mut self) -> &mut String {
        &mut self.text
    }

    /// End the cell being written; the next write starts the next cell.
    pub fn end_cell(&mut self) {
        self.ends.push(self.text.len());
    }

    /// Add a whole cell.
    pub fn cell(&mut self, c: &str) {
        self.text.push_str(c);
        self.end_cell();
    }

    /// The row's cells.
    pub fn cells(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.text[a..b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_trimmed_as_str_trim_end_trims() {
        let t = Table::new(&["a", "b>", "c"]);
        for cells in [["x", "1", ""], ["x\u{a0}", "", " \u{2003}\t\u{b}"], ["é", "ü", "ß\u{3000}"], ["", "", ""]] {
            let mut out = b"keep ".to_vec();
            let width = [3, 2, 4];
            t.push_row(&mut out, &width, cells.iter().copied());
            let mut full = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = " ".repeat(width[i] - c.chars().count().min(width[i]));
                if i == 1 {
                    full += &(pad + c)
                } else {
                    full += &(c.to_string() + &pad)
                }
                full += "  ";
            }
            let expected = format!("keep {}\n", full.trim_end());
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{cells:?}");
        }
    }
}
