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

    /// Print a table whose rows `rows` produces twice, once to measure the columns and once to
    /// write them, so no row is kept (a million-row table in bounded memory). Rows added with
    /// [`Table::row`] are ignored.
    pub fn print_streamed<I: Iterator<Item = Vec<String>>>(
        &self,
        w: &mut impl Write,
        rows: impl Fn() -> I,
    ) -> std::io::Result<()> {
        let widths = self.widths(rows());
        self.print_rows(w, &widths, rows())
    }

    /// Each column's width: the widest of its header and its cells.
    fn widths<R: AsRef<[String]>>(&self, rows: impl Iterator<Item = R>) -> Vec<usize> {
        let n = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (i, c) in r.as_ref().iter().enumerate().take(n) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        width
    }

    fn print_rows<R: AsRef<[String]>>(
        &self,
        w: &mut impl Write,
        width: &[usize],
        rows: impl Iterator<Item = R>,
    ) -> std::io::Result<()> {
        let n = self.headers.len();
        let line = |cells: &[&str], w: &mut dyn Write| -> std::io::Result<()> {
            let mut out = String::new();
            for (i, c) in cells.iter().enumerate().take(n) {
                let pad = width[i].saturating_sub(c.chars().count());
                let last = i + 1 == n;
                if self.align[i] == Align::Right {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    if !last {
                        out.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    out.push_str("  ");
                }
            }
            writeln!(w, "{}", out.trim_end())
        };
        line(&self.headers, w)?;
        let rule: Vec<String> = width.iter().map(|&x| "-".repeat(x)).collect();
        line(&rule.iter().map(String::as_str).collect::<Vec<_>>(), w)?;
        for r in rows {
            line(&r.as_ref().iter().map(String::as_str).collect::<Vec<_>>(), w)?;
        }
        Ok(())
    }
}
