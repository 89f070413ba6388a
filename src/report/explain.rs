//! `linkscope verify --explain` output: the verification (every key of `verify`'s JSON) with
//! the explanation of every differing byte.

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::patch::explain::{Cause, Explanation, Range};
use crate::patch::verify::Verification;
use crate::patch::PatchPlan;

/// Unexplained ranges listed in the text output (all are in the JSON).
const TEXT_UNEXPLAINED: usize = 200;

/// The verification and the explanation as one JSON document: `verify`'s keys, then
/// `explained[]`, `unexplained[]` and `explain` (the counts).
pub fn explain_json(plan: &PatchPlan, v: &Verification, e: &Explanation) -> Value {
    let mut doc = super::patch::verify_json(plan, v);
    if let Value::Object(m) = &mut doc {
        m.insert("explained".into(), json!(e.explained));
        m.insert("unexplained".into(), json!(e.unexplained));
        m.insert("explain".into(), explain_json_counts(e));
    }
    doc
}

/// [`explain_json`] written as it is formatted, range by range, followed by a newline: no tree
/// of the whole document (a moved image has a range per relocated field). The keys are those of
/// [`explain_json`], `explained`, `unexplained` and `explain` last.
pub fn write_explain_json(w: &mut dyn Write, plan: &PatchPlan, v: &Verification, e: &Explanation) -> io::Result<()> {
    let head = serde_json::to_string(&super::patch::verify_json(plan, v))?;
    let head = head.strip_suffix('}').unwrap_or(&head);
    w.write_all(head.as_bytes())?;
    for (key, list) in [("explained", &e.explained), ("unexplained", &e.unexplained)] {
        write!(w, "{}\"{key}\":[", if head.len() > 1 { "," } else { "" })?;
        for (i, r) in list.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            serde_json::to_writer(&mut *w, r)?;
        }
        w.write_all(b"]")?;
    }
    let whole = explain_json_counts(e);
    w.write_all(b",\"explain\":")?;
    serde_json::to_writer(&mut *w, &whole)?;
    w.write_all(b"}\n")
}

/// [`write_explain_json`] with each explained range written as `explain` finds it and hands it
/// to the sink it is given (see `patch::explain::explain_to`), never held: the same document.
pub fn write_explain_json_streamed(
    w: &mut dyn Write,
    plan: &PatchPlan,
    v: &Verification,
    explain: impl FnOnce(&mut dyn FnMut(Range)) -> Explanation,
) -> io::Result<()> {
    let head = serde_json::to_string(&super::patch::verify_json(plan, v))?;
    let head = head.strip_suffix('}').unwrap_or(&head);
    w.write_all(head.as_bytes())?;
    write!(w, "{}\"explained\":[", if head.len() > 1 { "," } else { "" })?;
    let mut first = true;
    let mut failed: Option<io::Error> = None;
    let e = explain(&mut |r: Range| {
        if failed.is_some() {
            return;
        }
        let sep = if first { Ok(()) } else { w.write_all(b",") };
        first = false;
        if let Err(err) = sep.and_then(|()| serde_json::to_writer(&mut *w, &r).map_err(io::Error::from)) {
            failed = Some(err);
        }
    });
    if let Some(err) = failed {
        return Err(err);
    }
    w.write_all(b"],\"unexplained\":[")?;
    for (i, r) in e.unexplained.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, r)?;
    }
    w.write_all(b"],\"explain\":")?;
    serde_json::to_writer(&mut *w, &explain_json_counts(&e))?;
    w.write_all(b"}\n")
}

/// The `explain` object: the counts.
fn explain_json_counts(e: &Explanation) -> Value {
    let by_cause: serde_json::Map<String, Value> = e
        .by_cause
        .iter()
        .map(|(c, n)| (c.name().to_string(), json!({"ranges": n.ranges, "places": n.places, "bytes": n.bytes})))
        .collect();
    json!({
        "by_cause": by_cause,
        "bytes_compared": e.bytes_compared,
        "bytes_differing": e.bytes_differing,
        "not_in_dump": e.not_in_dump,
        "unexplained_bytes": e.count(Cause::Unexplained).bytes,
        "unexplained_protected_bytes": e.unexplained_protected,
        "delta": e.delta,
    })
}

/// The explanation as text, after `verify`'s: the counts by cause, then every unexplained range
/// with its instructions and target.
pub fn write_explain_text(w: &mut dyn Write, v: &Verification, e: &Explanation) -> io::Result<()> {
    super::patch::write_verify_text(w, v)?;
    writeln!(
        w,
        "\nexplain: {} bytes compared, {} differ from the file (delta 0x{:x}); {} not in the dump",
        e.bytes_compared, e.bytes_differing, e.delta, e.not_in_dump
    )?;
    for (c, n) in &e.by_cause {
        writeln!(w, "  {:<14} {:>9} bytes in {:>7} ranges ({} places)", c.name(), n.bytes, n.ranges, n.places)?;
    }
    if e.unexplained.is_empty() {
        return writeln!(w, "every differing byte is explained");
    }
    writeln!(
        w,
        "\nunexplained: {} ranges, {} bytes ({} in code, read-only data or the headers)",
        e.unexplained.len(),
        e.count(Cause::Unexplained).bytes,
        e.unexplained_protected
    )?;
    for r in e.unexplained.iter().take(TEXT_UNEXPLAINED) {
        write_range(w, r)?;
    }
    if e.unexplained.len() > TEXT_UNEXPLAINED {
        writeln!(w, "  … {} more (see --json)", e.unexplained.len() - TEXT_UNEXPLAINED)?;
    }
    Ok(())
}

fn write_range(w: &mut dyn Write, r: &Range) -> io::Result<()> {
    writeln!(
        w,
        "0x{:08x} +{:<4} {:<8} file {}  memory {}\n    {}",
        r.rva,
        r.len,
        r.section.as_deref().unwrap_or("-"),
        r.file,
        r.memory,
        r.detail
    )?;
    if let (Some(at), Some(b), Some(a)) = (r.insn_rva, &r.before, &r.after) {
        writeln!(w, "    at 0x{at:x} before: {b}\n    {:>10}after:  {a}", "")?;
    }
    if let Some(t) = &r.target {
        writeln!(w, "    target: {t}")?;
    }
    Ok(())
}
