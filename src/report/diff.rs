//! The printers of `diff`: the change list as text, and the JSON document (the diff with the
//! names of what was compared).

use std::io::Write;

use serde_json::json;

use crate::diff::Diff;

/// JSON schema version of `diff`.
pub const SCHEMA_VERSION: u32 = 1;

/// The diff as one JSON document: the diff's own fields, `schema_version`, `a`, the second side
/// under `b_key` (`b`, or `dump` for a memory image), and `image_base` when one was given.
pub fn write_json(
    out: &mut impl Write,
    d: &Diff,
    names: &(String, String),
    b_key: &str,
    base: Option<u64>,
) -> std::io::Result<()> {
    let mut doc = serde_json::to_value(d).unwrap_or_default();
    if let Some(o) = doc.as_object_mut() {
        o.insert("schema_version".into(), json!(SCHEMA_VERSION));
        o.insert("a".into(), json!(names.0));
        o.insert(b_key.into(), json!(names.1));
        if let Some(b) = base {
            o.insert("image_base".into(), json!(b));
        }
    }
    serde_json::to_writer(&mut *out, &doc)?;
    writeln!(out)
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
    for n in &d.notes {
        writeln!(w, "note: {n}")?;
    }
    Ok(())
}
