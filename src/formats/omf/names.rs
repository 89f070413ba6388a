//! Module names and OMF indices: THEADR / LHEADR, LNAMES / LLNAMES, and resolving the LNAMES,
//! SEGDEF, GRPDEF and external indices that later records use, with diagnostics for bad ones.

use super::record::Body;
use super::Module;
use crate::model::Severity;

/// Most entries an OMF index can address (indices are 15 bits).
pub const MAX_INDEX: usize = 0x7fff;

/// Which table an index refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// LNAMES / LLNAMES.
    Name,
    /// SEGDEF.
    Segment,
    /// GRPDEF.
    Group,
    /// EXTDEF / LEXTDEF / CEXTDEF / COMDEF / LCOMDEF.
    External,
}

impl IndexKind {
    fn word(self) -> &'static str {
        match self {
            IndexKind::Name => "LNAMES",
            IndexKind::Segment => "SEGDEF",
            IndexKind::Group => "GRPDEF",
            IndexKind::External => "external",
        }
    }
}

impl Module<'_> {
    /// Number of entries defined so far in a table.
    pub fn count(&self, kind: IndexKind) -> usize {
        match kind {
            IndexKind::Name => self.omf.names.len(),
            IndexKind::Segment => self.omf.segments.len(),
            IndexKind::Group => self.omf.groups.len(),
            IndexKind::External => self.omf.externals.len(),
        }
    }

    /// The name an index refers to, if defined.
    pub fn lookup(&self, kind: IndexKind, idx: u16) -> Option<&str> {
        if kind == IndexKind::Segment {
            if let Some(c) = self.virtual_segment(idx) {
                return self.omf.comdats.get(c).map(|c| c.name.as_str());
            }
        }
        let i = usize::from(idx).checked_sub(1)?;
        match kind {
            IndexKind::Name => self.omf.names.get(i).map(String::as_str),
            IndexKind::Segment => self.omf.segments.get(i).map(|s| s.name.as_str()),
            IndexKind::Group => self.omf.groups.get(i).map(|g| g.name.as_str()),
            IndexKind::External => self.omf.externals.get(i).map(|e| e.name.as_str()),
        }
    }

    /// The COMDAT position of a Borland virtual segment index (`0x4000 | n`, n from 1).
    pub fn virtual_segment(&self, idx: u16) -> Option<usize> {
        if idx & 0x4000 == 0 {
            return None;
        }
        let n = usize::from(idx & 0x3fff).checked_sub(1)?;
        self.virdefs.get(n).copied()
    }

    /// A short description of an index target: ``SEGDEF `_TEXT` ``, ``EXTDEF `_printf` ``, or
    /// `SEGDEF #7 (undefined)`.
    pub fn describe(&self, kind: IndexKind, idx: u16) -> String {
        let prefix = match kind {
            IndexKind::External => usize::from(idx)
                .checked_sub(1)
                .and_then(|i| self.omf.externals.get(i))
                .map_or("EXTDEF", |e| e.kind.as_str()),
            IndexKind::Segment if self.virtual_segment(idx).is_some() => "Borland virtual segment",
            other => other.word(),
        };
        match self.lookup(kind, idx) {
            Some(n) => format!("{prefix} `{n}`"),
            None => format!("{prefix} #{idx} (undefined)"),
        }
    }

    /// Read an index field, resolve it against `kind`, annotate the field and diagnose an
    /// undefined index (0 is allowed when `zero_ok`). Returns the index and the name.
    pub fn read_index(
        &mut self,
        b: &mut Body<'_>,
        field: &str,
        help: &'static str,
        kind: IndexKind,
        zero_ok: bool,
    ) -> Option<(u16, Option<String>)> {
        let at = b.pos;
        let idx = b.index(field, help)?;
        if idx == 0 {
            if zero_ok {
                b.note(" (none)");
            } else {
                b.note(" (invalid: indices start at 1)");
                let msg = format!("{}: {field} is 0, but {} indices start at 1", self.here(), kind.word());
                self.diag(Severity::Warning, at, msg);
            }
            return Some((idx, None));
        }
        match self.lookup(kind, idx).map(str::to_string) {
            Some(n) => {
                let shown = if kind == IndexKind::Name {
                    format!(" → \"{n}\"")
                } else {
                    format!(" → {}", self.describe(kind, idx))
                };
                b.note(&shown);
                Some((idx, Some(n)))
            }
            None => {
                b.note(" (undefined)");
                let msg = format!(
                    "{}: {field} {idx} refers to {} entry {idx}, but only {} are defined",
                    self.here(),
                    kind.word(),
                    self.count(kind)
                );
                self.diag(Severity::Error, at, msg);
                Some((idx, None))
            }
        }
    }
}

/// THEADR / LHEADR: the module name.
pub fn theadr(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let help = if t == 0x80 {
        "Name of the translated module (often the source file name)."
    } else {
        "Name of the library module (LHEADR)."
    };
    let name = b.name("Module name", help)?;
    if m.omf.module_name.is_none() {
        m.omf.module_name = Some(name.clone());
    } else if m.rec > 0 {
        let msg = format!("{}: a second module header inside one module", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    Some(format!("module \"{name}\""))
}

/// LNAMES / LLNAMES: names that SEGDEF, GRPDEF and COMDAT records refer to by index.
pub fn lnames(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let first = m.omf.names.len() + 1;
    let mut shown = Vec::new();
    while !b.done() {
        let idx = m.omf.names.len() + 1;
        let field = format!("Name {idx}");
        let n = b.name(
            &field,
            "A name; LNAMES and LLNAMES entries are numbered from 1 in order of appearance across the module.",
        )?;
        if m.at_cap("names", m.omf.names.len(), MAX_INDEX, b.pos) {
            continue;
        }
        if shown.len() < 6 {
            shown.push(if n.is_empty() { "\"\"".to_string() } else { n.clone() });
        }
        m.omf.names.push(n);
    }
    let count = m.omf.names.len() + 1 - first;
    let more = if count > shown.len() { " …" } else { "" };
    let what = if t == 0xca { "local names" } else { "names" };
    Some(format!("{count} {what} (#{first}–#{}): {}{more}", m.omf.names.len(), shown.join(" ")))
}
