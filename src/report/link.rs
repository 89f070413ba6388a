//! The printers of `link`: the simulated link as text (outcome, sections, layout, COMDATs,
//! discarded sections, messages, the comparison) or as one JSON document.

use std::io::Write;

use crate::link::compare::Comparison;
use crate::link::Report;

/// The JSON document: the report, and `compare` with `--compare`.
#[derive(serde::Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<&'a Comparison>,
}

/// The report (and the comparison) as one JSON document.
pub fn write_json(out: &mut impl Write, rep: &Report, cmp: Option<&Comparison>) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &Document { report: rep, compare: cmp }).map_err(std::io::Error::other)?;
    writeln!(out)
}

/// The text report: outcome, sections, the layout map, COMDATs, discarded sections, messages.
pub fn write_text(out: &mut impl Write, rep: &Report, cmp: Option<&Comparison>) -> std::io::Result<()> {
    writeln!(
        out,
        "{} link ({}): {}; image base 0x{:x}; entry {}",
        rep.flavor,
        rep.machine,
        if rep.succeeds { "succeeds" } else { "REFUSED" },
        rep.image_base,
        rep.entry.as_ref().map_or("none".into(), |e| match e.rva {
            Some(r) => format!("{} at 0x{r:x}", e.symbol),
            None => format!("{} (undefined)", e.symbol),
        })
    )?;
    for d in &rep.diagnostics {
        match d.severity {
            crate::link::resolve::LinkSeverity::Note => writeln!(out, "note: {}", d.message)?,
            _ => writeln!(out, "{}", d.message)?,
        }
    }
    if !rep.ignored_options.is_empty() {
        writeln!(out, "ignored options (not modelled): {}", rep.ignored_options.join(" "))?;
    }
    if !rep.output_sections.is_empty() {
        writeln!(out, "\nOutput sections\n  {:<10} {:>10} {:>10} {:>10}", "name", "rva", "size", "chars")?;
        for s in &rep.output_sections {
            writeln!(out, "  {:<10} {:>#10x} {:>#10x} {:>#10x}", s.name, s.rva, s.virtual_size, s.characteristics)?;
        }
        writeln!(out, "\nLayout\n  {:>10} {:>8} {:>5}  {:<8} input", "rva", "size", "align", "out")?;
        for p in &rep.placements {
            writeln!(
                out,
                "  {:>#10x} {:>#8x} {:>5}  {:<8} {}:({}) [{}]{}",
                p.rva,
                p.size,
                p.align,
                p.output_section,
                p.file,
                p.name,
                p.section,
                if p.merged { " in the merged string literals" } else { "" }
            )?;
        }
        for s in &rep.synthetic {
            writeln!(out, "  {:>#10x} {:>#8x} {:>5}  {:<8} <linker> {}", s.rva, s.size, "", s.output_section, s.name)?;
        }
    }
    if !rep.comdats.is_empty() {
        writeln!(out, "\nCOMDATs")?;
        for c in &rep.comdats {
            let kept =
                c.kept.as_ref().map_or("none".to_string(), |k| format!("{}:({}) [{}]", k.file, k.name, k.section));
            let shown = c.demangled.as_deref().unwrap_or(&c.symbol);
            let odr = if c.copies_differ && c.copies.len() > 1 { "  copies differ" } else { "" };
            writeln!(out, "  {shown} ({}, {} copies): kept {kept}{odr}", c.selection, c.copies.len())?;
        }
    }
    if !rep.discarded.is_empty() {
        writeln!(out, "\nDiscarded")?;
        for d in &rep.discarded {
            let kept =
                d.kept.as_ref().map_or(String::new(), |k| format!(" (kept {}:({}) [{}])", k.file, k.name, k.section));
            writeln!(out, "  {:<11} {}:({}) [{}]{kept}: {}", d.reason, d.file, d.name, d.section, d.detail)?;
        }
    }
    if !rep.delay_imports.is_empty() {
        writeln!(out, "\nDelay-load imports\n  {:>10}  import", "slot_rva")?;
        for d in &rep.delay_imports {
            writeln!(out, "  {:>#10x}  {}", d.iat_rva, d.import)?;
        }
    }
    if !rep.pseudo_relocs.is_empty() {
        writeln!(
            out,
            "\nRuntime pseudo-relocations (automatic imports)\n  {:>10} {:>10} bits",
            "sym_rva", "target_rva"
        )?;
        for p in &rep.pseudo_relocs {
            writeln!(out, "  {:>#10x} {:>#10x} {}", p.sym_rva, p.target_rva, p.bits)?;
        }
    }
    if !rep.exports.is_empty() {
        writeln!(out, "\nExports\n  {:>7} {:>10}  name (symbol)", "ordinal", "rva")?;
        for e in &rep.exports {
            let rva = e.rva.map_or("undefined".to_string(), |r| format!("{r:#x}"));
            let flags = format!("{}{}", if e.data { " DATA" } else { "" }, if e.private { " PRIVATE" } else { "" });
            let name = e.name.as_deref().unwrap_or("(NONAME)");
            writeln!(out, "  {:>7} {rva:>10}  {name} ({}){flags}", e.ordinal, e.symbol)?;
        }
    }
    if let Some(l) = &rep.import_library {
        writeln!(out, "\nImport library {} (for {}), listed, not written", l.path, l.dll)?;
        for m in &l.members {
            let what = match (m.import_type, m.name_type) {
                (Some(t), Some(n)) => {
                    let name = m.import_name.clone().unwrap_or_else(|| format!("#{}", m.ordinal_or_hint.unwrap_or(0)));
                    format!("{t} {n} {name}")
                }
                _ => m.kind.to_string(),
            };
            let what = match &m.member {
                Some(member) => format!("{member} {what}"),
                None => what,
            };
            let symbols: Vec<String> = m.symbols.iter().map(|s| s.escape_debug().to_string()).collect();
            writeln!(out, "  {what:<32} {}", symbols.join(" "))?;
        }
    }
    if let Some(c) = cmp {
        writeln!(
            out,
            "\nCompared: {} output sections, {} input sections; {} differences",
            c.sections_compared,
            c.placements_compared,
            c.differences.len()
        )?;
        for d in &c.differences {
            writeln!(
                out,
                "  {:<9} {}: predicted {}, actual {}",
                d.kind,
                d.what,
                d.predicted.as_deref().unwrap_or("nothing"),
                d.actual.as_deref().unwrap_or("nothing")
            )?;
        }
    }
    Ok(())
}
