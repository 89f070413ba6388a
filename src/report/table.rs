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
            for (i, c) in r.as_ref().iter().enumerate().take(width.len()) {
                let chars = if c.is_ascii() { c.len() } else { c.chars().count() };
                width[i] = width[i].max(chars);
            }
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
        let n = self.headers.len();
        let mut out = String::with_capacity(width.iter().sum::<usize>() + 2 * n + 1);
        let pad = |out: &mut String, k: usize| out.extend(std::iter::repeat_n(' ', k));
        for (i, c) in cells.iter().map(AsRef::as_ref).enumerate().take(n) {
            let chars = if c.is_ascii() { c.len() } else { c.chars().count() };
            let room = width[i].saturating_sub(chars);
            let last = i + 1 == n;
            if self.align[i] == Align::Right {
                pad(&mut out, room);
                out.push_str(c);
            } else {
                out.push_str(c);
                if !last {
                    pad(&mut out, room);
                }
            }
            if !last {
                out.push_str("  ");
            }
        }
        let end = out.trim_end().len();
        out.truncate(end);
        out.push('\n');
        w.write_all(out.as_bytes())
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
