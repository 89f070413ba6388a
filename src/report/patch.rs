//! `linkscope patch` / `verify` output: the plan and the verification as JSON or text.

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::analysis::namer::with_offset;
use crate::patch::verify::Verification;
use crate::patch::{PatchPlan, Status, Step};

/// JSON schema version of `patch` and `verify`.
pub const SCHEMA_VERSION: u32 = 1;

/// Hex of the low `width` bits of `v`, in memory (little-endian) order.
pub fn value_bytes(v: u64, width: u32) -> String {
    (0..(width / 8).min(8)).map(|k| format!("{:02x}", (v >> (8 * k)) as u8)).collect()
}

fn step_json(s: &Step) -> Value {
    let mut v = json!({
        "index": s.index,
        "target_rva": s.target_rva,
        "section": s.section,
        "width": s.width,
        "before": s.before,
        "after": s.after,
        "before_bytes": value_bytes(s.before, s.width),
        "after_bytes": value_bytes(s.after, s.width),
        "status": s.status.name(),
        "import": s.import,
        "offset": s.offset,
        "reason": s.reason,
        "source": s.source,
        "enabled": s.enabled,
        "reached": s.reached,
        "written": s.written,
        "insn_rva": s.insn_rva,
        "insn_before": s.insn_before,
        "insn_after": s.insn_after,
    });
    if let (Some(f), Some(o)) = (&s.ifunc, v.as_object_mut()) {
        o.insert("ifunc".into(), json!(f));
    }
    v
}

/// The plan as one JSON document.
pub fn plan_json(plan: &PatchPlan, out: Option<&str>) -> Value {
    let counts = plan.counts();
    let by_status: serde_json::Map<String, Value> =
        Status::ALL.iter().zip(counts).map(|(s, n)| (s.name().to_string(), json!(n))).collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "scheme": plan.scheme.name(),
        "detected": plan.detected.iter().map(|k| k.name()).collect::<Vec<_>>(),
        "modules": plan.modules,
        "bindings": plan.bindings,
        "steps": plan.steps.iter().map(step_json).collect::<Vec<_>>(),
        "unresolved": plan.unresolved,
        "failure": plan.failure,
        "notes": plan.notes,
        "summary": { "steps": plan.steps.len(), "by_status": by_status, "switched_off": plan.switched_off(),
                     "bindings": plan.bindings.len(),
                     "bound": plan.bindings.iter().filter(|b| b.value.is_some()).count() },
        "out": out,
    })
}

/// The steps counted by status in words (`1 out-of-range, 20 not-reached; 1 switched off`), the
/// statuses without a step left out; the Patch view's summary says the same.
pub fn counts_text(plan: &PatchPlan) -> String {
    let parts: Vec<String> = Status::ALL
        .iter()
        .zip(plan.counts())
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {}", s.name()))
        .collect();
    let mut t = if parts.is_empty() { "no steps".to_string() } else { parts.join(", ") };
    match plan.switched_off() {
        0 => {}
        n => t.push_str(&format!("; {n} switched off")),
    }
    t
}

/// The plan as text: modules, the counts, a step table, the failure.
pub fn write_plan_text(w: &mut dyn Write, plan: &PatchPlan) -> io::Result<()> {
    writeln!(w, "scheme: {}{}", plan.scheme.name(), detected_text(plan))?;
    writeln!(w, "modules:")?;
    for m in &plan.modules {
        writeln!(
            w,
            "  {:<20} base 0x{:x}{}  {}",
            m.name,
            m.base,
            m.preferred_base.map_or(String::new(), |p| if p == m.base {
                String::new()
            } else {
                format!(" (preferred 0x{p:x})")
            }),
            m.placement
        )?;
    }
    let bound = plan.bindings.iter().filter(|b| b.value.is_some()).count();
    writeln!(w, "IAT: {bound} of {} slots bound", plan.bindings.len())?;
    writeln!(w, "steps: {}", counts_text(plan))?;
    writeln!(
        w,
        "\n{:>4}  {:>10}  {:<8} {:>3}  {:<18} {:<18} {:<19} {:<28} reason",
        "#", "rva", "section", "w", "before", "after", "status", "import"
    )?;
    for s in &plan.steps {
        writeln!(
            w,
            "{:>4}  0x{:08x}  {:<8} {:>3}  {:<18} {:<18} {:<19} {:<28} {}",
            s.index,
            s.target_rva,
            s.section.as_deref().unwrap_or("?"),
            s.width,
            format!("0x{:x}", s.before),
            format!("0x{:x}", s.after),
            s.status.name(),
            s.import.as_deref().map_or_else(|| "-".into(), |i| with_offset(i, s.offset)),
            s.reason
        )?;
        if let (Some(b), Some(a)) = (&s.insn_before, &s.insn_after) {
            writeln!(w, "{:>34}{b}  →  {a}", "")?;
        }
    }
    if !plan.unresolved.is_empty() {
        writeln!(w, "\nunresolved: {} imports", plan.unresolved.len())?;
        for u in plan.unresolved.iter().take(20) {
            writeln!(w, "  0x{:x} {}: {}", u.slot_rva, u.import, u.reason)?;
        }
        if plan.unresolved.len() > 20 {
            writeln!(w, "  … {} more", plan.unresolved.len() - 20)?;
        }
    }
    for n in &plan.notes {
        writeln!(w, "note: {n}")?;
    }
    match &plan.failure {
        Some(f) => writeln!(w, "\nthe runtime aborts:\nMingw-w64 runtime failure:\n{f}"),
        None => writeln!(w, "\nno abort predicted"),
    }
}

fn detected_text(plan: &PatchPlan) -> String {
    if plan.detected.is_empty() {
        " (the image carries no fix-up list)".into()
    } else {
        format!(" (the image carries: {})", plan.detected.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "))
    }
}

/// A verification as JSON.
pub fn verify_json(plan: &PatchPlan, v: &Verification) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "scheme": plan.scheme.name(),
        "modules": plan.modules,
        "checked": v.checked,
        "matched": v.matched,
        "checked_bytes": v.checked_bytes,
        "unpredicted": v.unpredicted,
        "ifunc_resolved": v.ifunc_resolved,
        "by_kind": v.by_kind.iter().map(|(k, c, m)| json!({"kind": k, "checked": c, "matched": m})).collect::<Vec<_>>(),
        "mismatches": v.mismatches,
        "failure": plan.failure,
    })
}

/// The module a verification found in a dump or a process.
pub struct InDump<'a> {
    /// The source's kind (`minidump`, `elf-core`, `process`).
    pub source: &'a str,
    /// The module's name there.
    pub module: &'a str,
    /// How it was found (`name`, `file-name`, `headers`).
    pub found_by: &'a str,
    /// Its base.
    pub base: u64,
    /// Bytes of its memory the source holds.
    pub held: u64,
    /// Its memory's size.
    pub size: u64,
}

/// The keys a verification against a dump or a process adds to [`verify_json`]: `base_from`
/// in each of `modules[]` (`dump`, `given`, `preferred`), `not_in_dump`, and `dump`.
pub fn add_process_keys(doc: &mut Value, from: &[&str], not_in_dump: u64, d: &InDump<'_>) {
    if let Some(mods) = doc.get_mut("modules").and_then(Value::as_array_mut) {
        for (m, f) in mods.iter_mut().zip(from) {
            if let Some(o) = m.as_object_mut() {
                o.insert("base_from".into(), json!(f));
            }
        }
    }
    if let Some(o) = doc.as_object_mut() {
        o.insert("not_in_dump".into(), json!(not_in_dump));
        o.insert(
            "dump".into(),
            json!({"format": d.source, "module": d.module, "found_by": d.found_by, "base": d.base,
                   "held": d.held, "size": d.size}),
        );
    }
}

/// A verification as text.
pub fn write_verify_text(w: &mut dyn Write, v: &Verification) -> io::Result<()> {
    writeln!(
        w,
        "checked {} places ({} bytes): {} match, {} differ; {} not predictable (unbound imports)",
        v.checked,
        v.checked_bytes,
        v.matched,
        v.mismatches.len(),
        v.unpredicted
    )?;
    for (k, c, m) in &v.by_kind {
        writeln!(w, "  {k:<18} {m}/{c}")?;
    }
    if v.ifunc_resolved > 0 {
        writeln!(
            w,
            "{} IFUNC slots hold a resolver's choice in a loaded module's code (not predictable from files, not compared)",
            v.ifunc_resolved
        )?;
    }
    for m in &v.mismatches {
        writeln!(w, "0x{:08x} +{}  expected {}  actual {}  {}", m.rva, m.len, m.expected, m.actual, m.structure)?;
    }
    Ok(())
}
