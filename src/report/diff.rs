//! The printers of `diff`: the change list as text, and the JSON document (the diff with the
//! names of what was compared).

use std::io::Write;

use serde_json::json;

use crate::diff::{Change, Diff, Mode};

/// JSON schema version of `diff`.
pub const SCHEMA_VERSION: u32 = 1;

/// The `diff` JSON document written as the diff runs: the diff's own fields (`mode`,
/// `changes[]` each as it is handed over, `structural`, `summary`, `notes`), then
/// `schema_version`, `a`, the second side under `b_key` (`b`, or `dump` for a memory image), and
/// `image_base` when one was given. Nothing is written before the first change, so a diff that
/// fails before it leaves no output; a write error is kept and returned by [`JsonStream::finish`].
pub struct JsonStream<'w, W: Write> {
    out: &'w mut W,
    mode: Mode,
    written: u64,
    error: Option<std::io::Error>,
}

impl<'w, W: Write> JsonStream<'w, W> {
    /// A document about to list the changes of a diff of `mode`.
    pub fn new(out: &'w mut W, mode: Mode) -> Self {
        JsonStream { out, mode, written: 0, error: None }
    }

    /// Write one change.
    pub fn change(&mut self, c: &Change) {
        if self.error.is_none() {
            if let Err(e) = self.write_change(c) {
                self.error = Some(e);
            }
        }
    }

    fn write_change(&mut self, c: &Change) -> std::io::Result<()> {
        if self.written == 0 {
            self.head()?;
        } else {
            self.out.write_all(b",")?;
        }
        self.written += 1;
        serde_json::to_writer(&mut *self.out, c).map_err(std::io::Error::from)
    }

    fn head(&mut self) -> std::io::Result<()> {
        self.out.write_all(b"{\"mode\":")?;
        serde_json::to_writer(&mut *self.out, &self.mode)?;
        self.out.write_all(b",\"changes\":[")
    }

    /// Write the rest of `d` (its `changes` are the ones already written) and the names.
    pub fn finish(mut self, d: &Diff, names: &(String, String), b_key: &str, base: Option<u64>) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.written == 0 {
            self.head()?;
        }
        let w = &mut *self.out;
        w.write_all(b"],\"structural\":")?;
        serde_json::to_writer(&mut *w, &d.structural)?;
        w.write_all(b",\"summary\":")?;
        serde_json::to_writer(&mut *w, &d.summary)?;
        w.write_all(b",\"notes\":")?;
        serde_json::to_writer(&mut *w, &d.notes)?;
        if let Some(o) = &d.objects_changed {
            w.write_all(b",\"objects_changed\":")?;
            serde_json::to_writer(&mut *w, o)?;
        }
        let mut tail = serde_json::Map::new();
        tail.insert("schema_version".into(), json!(SCHEMA_VERSION));
        tail.insert("a".into(), json!(names.0));
        tail.insert(b_key.into(), json!(names.1));
        if let Some(b) = base {
            tail.insert("image_base".into(), json!(b));
        }
        for (k, v) in &tail {
            w.write_all(b",")?;
            serde_json::to_writer(&mut *w, k)?;
            w.write_all(b":")?;
            serde_json::to_writer(&mut *w, v)?;
        }
        w.write_all(b"}\n")
    }
}

/// The change list as text.
pub fn write_text(w: &mut impl Write, d: &Diff, base: Option<u64>) -> std::io::Result<()> {
    let s = &d.summary;
    if s.identical {
        writeln!(w, "identical ({} bytes compared)", s.bytes_compared)?;
        return Ok(());
    }
    writeln!(
        w,
        "{} changes, {} bytes differ of {} compared (aligned by {}); {} structural",
        s.changes, s.bytes_changed, s.bytes_compared, s.aligned_by, s.structural
    )?;
    for c in &d.changes {
        let at = match (c.offset, c.rva) {
            (Some(o), Some(r)) => format!("offset {o:#x} (rva {r:#x})"),
            (Some(o), None) => format!("offset {o:#x}"),
            (None, Some(r)) => match base {
                Some(b) => format!("rva {r:#x} (va {:#x})", b + r),
                None => format!("rva {r:#x}"),
            },
            _ => String::new(),
        };
        writeln!(w, "{at}: {}", c.words)?;
        let cut = if c.truncated { "…" } else { "" };
        writeln!(w, "    {}{cut} → {}{cut}", c.before, c.after)?;
        let chain: Vec<String> = c.structures.iter().map(|s| format!("{} {}", s.kind, s.name)).collect();
        if !chain.is_empty() {
            writeln!(w, "    in: {}", chain.join(" < "))?;
        }
        match &c.object {
            Some(Some(o)) if o.archive != o.module && !o.archive.is_empty() => {
                writeln!(w, "    object: {} ({})", o.module, o.archive)?
            }
            Some(Some(o)) => writeln!(w, "    object: {}", o.module)?,
            Some(None) => writeln!(w, "    object: none (no contribution of the PDB holds these bytes)")?,
            None => {}
        }
    }
    for st in &d.structural {
        let fields: Vec<String> = st.fields.iter().map(|f| format!("{} {} → {}", f.field, f.before, f.after)).collect();
        writeln!(
            w,
            "{} {} {}{}",
            st.change,
            st.kind,
            st.name,
            if fields.is_empty() { String::new() } else { format!(": {}", fields.join(", ")) }
        )?;
    }
    if let Some(objects) = &d.objects_changed {
        writeln!(w, "objects changed ({}), from the PDBs:", objects.len())?;
        for o in objects {
            let rva = o.rva.map_or_else(|| "-".into(), |r| format!("{r:#x}"));
            let archive = if o.archive == o.module { String::new() } else { format!(" ({})", o.archive) };
            writeln!(w, "  {}{archive} at rva {rva}, {:#x} bytes: {}", o.module, o.size, o.why)?;
        }
    }
    for n in &d.notes {
        writeln!(w, "note: {n}")?;
    }
    Ok(())
}
