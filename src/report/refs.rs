//! `refs` and `disasm` output: the JSON shapes (a contract for scripts) and the text tables.

use std::io::{self, Write};

use serde::Serialize;

use crate::analysis::labels::Labels;
use crate::analysis::namer::signed_hex;
pub use crate::analysis::namer::{ImportJson, Namer};
use crate::analysis::stream::SiteSource;
use crate::analysis::{Mode, Reach, Refs, Site, Summary, TargetKind};
use crate::report::table::{measure_cells, RowBuf};

/// `--only` filters of `refs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefFilter {
    /// Sites that reach an import (IAT / GOT slot, thunk, or through a pseudo-relocation).
    Iat,
    /// Sites with a non-zero offset into their import or symbol.
    Offset,
    /// RIP-relative sites.
    RipRelative,
    /// Fields that cannot reach their target once the DLLs are placed.
    Unreachable,
    /// Sites where the naive reading disagrees with the pseudo-relocation list.
    Ambiguous,
}

impl RefFilter {
    /// Whether `s` passes the filter.
    pub fn keep(self, s: &Site) -> bool {
        match self {
            RefFilter::Iat => s.import.is_some(),
            RefFilter::Offset => s.offset.is_some_and(|o| o != 0) && (s.import.is_some() || s.symbol.is_some()),
            RefFilter::RipRelative => s.mode == Mode::RipRelative,
            RefFilter::Unreachable => s.reachable == Some(false),
            RefFilter::Ambiguous => s.ambiguous,
        }
    }
}

/// One site as JSON.
#[derive(Debug, Serialize)]
pub struct RefJson {
    site_rva: u64,
    field_rva: u64,
    width: u8,
    mode: Mode,
    target_rva: Option<u64>,
    target_va: u64,
    target_kind: TargetKind,
    import: Option<ImportJson>,
    symbol: Option<String>,
    offset: Option<i64>,
    base_reloc: Option<u32>,
    pseudo_reloc: Option<u32>,
    reloc: Option<u32>,
    ambiguous: bool,
    naive_import: Option<ImportJson>,
    reachable: Option<bool>,
    distance: Option<i64>,
    section: Option<String>,
    target_section: Option<String>,
    needs_import_fixup: bool,
}

/// A site as JSON, through `serde_json`: the reference [`write_ref_json`] writes the bytes of
/// (tests compare the two on every fixture).
pub fn ref_json(n: &Namer<'_>, s: &Site) -> RefJson {
    RefJson {
        site_rva: s.site_rva,
        field_rva: s.field_rva,
        width: s.width,
        mode: s.mode,
        target_rva: s.target_rva,
        target_va: s.target_va,
        target_kind: s.target_kind,
        import: s.import.and_then(|r| n.import(r)),
        symbol: s.symbol.and_then(|r| n.symbol(r)),
        offset: s.offset,
        base_reloc: s.base_reloc,
        pseudo_reloc: s.pseudo_reloc,
        reloc: s.reloc,
        ambiguous: s.ambiguous,
        naive_import: s.naive_import.and_then(|r| n.import(r)),
        reachable: s.reachable,
        distance: s.distance,
        section: n.section(s.section),
        target_section: s.target_section.and_then(|p| n.section(p)),
        needs_import_fixup: s.needs_import_fixup,
    }
}

/// Append `s` as JSON to `buf`: the bytes `serde_json` writes for [`ref_json`], written by hand
/// (numbers and literals directly, strings through `serde_json` for their escaping), about twice
/// as fast, for the 1.4 million sites of a large DLL.
pub fn write_ref_json(buf: &mut Vec<u8>, n: &Namer<'_>, s: &Site) -> io::Result<()> {
    fn num(buf: &mut Vec<u8>, key: &[u8], v: impl itoa::Integer) {
        buf.extend_from_slice(key);
        buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
    fn opt(buf: &mut Vec<u8>, key: &[u8], v: Option<impl itoa::Integer>) {
        match v {
            Some(v) => num(buf, key, v),
            None => {
                buf.extend_from_slice(key);
                buf.extend_from_slice(b"null");
            }
        }
    }
    fn flag(buf: &mut Vec<u8>, key: &[u8], v: Option<bool>) {
        buf.extend_from_slice(key);
        buf.extend_from_slice(match v {
            Some(true) => b"true",
            Some(false) => b"false",
            None => b"null",
        });
    }
    fn text(buf: &mut Vec<u8>, key: &[u8], v: Option<&str>) -> io::Result<()> {
        buf.extend_from_slice(key);
        match v {
            Some(v) => serde_json::to_writer(&mut *buf, v).map_err(io::Error::from),
            None => {
                buf.extend_from_slice(b"null");
                Ok(())
            }
        }
    }
    fn import(buf: &mut Vec<u8>, key: &[u8], v: Option<ImportJson>) -> io::Result<()> {
        match v {
            Some(i) => {
                buf.extend_from_slice(key);
                text(buf, b"{\"dll\":", i.dll.as_deref())?;
                text(buf, b",\"name\":", Some(&i.name))?;
                opt(buf, b",\"slot_rva\":", i.slot_rva);
                buf.push(b'}');
                Ok(())
            }
            None => text(buf, key, None),
        }
    }
    num(buf, b"{\"site_rva\":", s.site_rva);
    num(buf, b",\"field_rva\":", s.field_rva);
    num(buf, b",\"width\":", s.width);
    text(buf, b",\"mode\":", Some(s.mode.name()))?;
    opt(buf, b",\"target_rva\":", s.target_rva);
    num(buf, b",\"target_va\":", s.target_va);
    text(buf, b",\"target_kind\":", Some(s.target_kind.name()))?;
    import(buf, b",\"import\":", s.import.and_then(|r| n.import(r)))?;
    text(buf, b",\"symbol\":", s.symbol.and_then(|r| n.symbol(r)).as_deref())?;
    opt(buf, b",\"offset\":", s.offset);
    opt(buf, b",\"base_reloc\":", s.base_reloc);
    opt(buf, b",\"pseudo_reloc\":", s.pseudo_reloc);
    opt(buf, b",\"reloc\":", s.reloc);
    flag(buf, b",\"ambiguous\":", Some(s.ambiguous));
    import(buf, b",\"naive_import\":", s.naive_import.and_then(|r| n.import(r)))?;
    flag(buf, b",\"reachable\":", s.reachable);
    opt(buf, b",\"distance\":", s.distance);
    let label = |p: u32| (p != u32::MAX).then(|| n.index.section_label_at(p as usize));
    text(buf, b",\"section\":", label(s.section))?;
    text(buf, b",\"target_section\":", s.target_section.and_then(label))?;
    flag(buf, b",\"needs_import_fixup\":", Some(s.needs_import_fixup));
    buf.push(b'}');
    Ok(())
}

/// The summary as JSON: counts per mode and per target kind as objects.
pub fn summary_json(s: &Summary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        let modes: serde_json::Map<String, serde_json::Value> =
            Mode::ALL.iter().zip(s.by_mode).map(|(m, c)| (m.name().to_string(), c.into())).collect();
        let kinds: serde_json::Map<String, serde_json::Value> =
            TargetKind::ALL.iter().zip(s.by_target_kind).map(|(k, c)| (k.name().to_string(), c.into())).collect();
        o.insert("by_mode".into(), modes.into());
        o.insert("by_target_kind".into(), kinds.into());
    }
    v
}

/// A DLL placement as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleJson {
    /// The DLL's name as imported.
    pub name: String,
    /// Where it is placed (`null`: unknown, reach of its imports is unknown).
    pub base: Option<u64>,
    /// `file` (its file was read: exports known), `given` (a base alone) or `unknown`.
    pub source: &'static str,
    /// The file read, if any.
    pub path: Option<String>,
}

/// What the `refs` JSON document holds besides its head: the sites (unless `summary_only`) and
/// `extra` keys after them (`refs --to`'s `branches`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Doc<'a> {
    /// Only the head and the summary, no `refs[]`.
    pub summary_only: bool,
    /// Keys written after `refs[]`.
    pub extra: &'a [(&'a str, serde_json::Value)],
}

/// Write the `refs` JSON document.
pub fn write_refs_json(
    w: &mut impl Write,
    n: &Namer<'_>,
    refs: &Refs,
    sites: &(impl SiteSource + ?Sized),
    modules: &[ModuleJson],
    keep: &(dyn Fn(&Site) -> bool + Sync),
    doc: &Doc<'_>,
) -> io::Result<()> {
    let Doc { summary_only, extra } = *doc;
    // Written field by field, each site as it is formatted: no tree of the whole document.
    super::write_json_head(
        w,
        &[
            ("schema_version", 1.into()),
            ("format", n.bin.format.name().into()),
            ("arch", n.bin.arch.to_string().into()),
            ("image_base", n.bin.image_base.into()),
            ("summary", summary_json(&refs.summary)),
            ("modules", serde_json::to_value(modules).unwrap_or_default()),
            ("note", refs.note.clone().into()),
        ],
    )?;
    if !summary_only {
        write!(w, ",\"refs\":[")?;
        // Each piece formatted on the scan's workers, written in order.
        let piece = |b: &[Site]| {
            let mut buf = Vec::with_capacity(b.len() * 400);
            for s in b.iter().filter(|s| keep(s)) {
                buf.push(b',');
                write_ref_json(&mut buf, n, s)?;
            }
            Ok::<_, io::Error>(buf)
        };
        let mut first = true;
        sites.each_piece(piece, |buf| {
            let buf = buf?;
            let skip = usize::from(first && !buf.is_empty());
            first &= buf.is_empty();
            w.write_all(&buf[skip..])
        })?;
        w.write_all(b"]")?;
    }
    for (k, v) in extra {
        write!(w, ",{}:", serde_json::Value::from(*k))?;
        serde_json::to_writer(&mut *w, v)?;
    }
    writeln!(w, "}}")
}

/// The direct calls and jumps to `starts` (RVAs), as `refs --to` lists them: `(target, site, is
/// jmp)` in order of target then site.
pub fn branches_to(refs: &Refs, starts: &[u64]) -> Vec<(u64, u64, bool)> {
    starts.iter().flat_map(|&t| refs.branches_to(t).map(move |(site, jmp)| (t, site, jmp))).collect()
}

/// `branches[]` of `refs --to --json`: `{target_rva, site_rva, site_va, kind, function}` (`kind`
/// `call` or `jmp`; `function` the label the site lies in, with its offset).
pub fn branches_json(n: &Namer<'_>, labels: &Labels, branches: &[(u64, u64, bool)]) -> serde_json::Value {
    let base = n.bin.image_base.unwrap_or(0);
    branches
        .iter()
        .map(|&(t, site, jmp)| {
            serde_json::json!({
                "target_rva": t,
                "site_rva": site,
                "site_va": base.wrapping_add(site),
                "kind": if jmp { "jmp" } else { "call" },
                "function": labels.function_of(site),
            })
        })
        .collect()
}

/// The text form of [`branches_json`]: a heading and one line per call or jump.
pub fn write_branches_text(
    w: &mut impl Write,
    n: &Namer<'_>,
    labels: &Labels,
    branches: &[(u64, u64, bool)],
) -> io::Result<()> {
    let base = n.bin.image_base.unwrap_or(0);
    writeln!(w, "\n{} direct calls and jumps to the target", branches.len())?;
    for &(t, site, jmp) in branches {
        let from = labels.function_of(site);
        let kind = if jmp { "jmp " } else { "call" };
        let (va, to) = (base.wrapping_add(site), base.wrapping_add(t));
        writeln!(w, "  {va:#x}  {kind} {to:#x}  in {}", from.unwrap_or_else(|| "?".into()))?;
    }
    Ok(())
}

/// The reach column: `ok +0x1234`, `OUT 7.4 GiB`, `WRAPS 3.0 GiB` (the runtime accepts the value,
/// the CPU sign-extends it), `?` (unknown), or empty (pointer-wide, or a field that reaches inside
/// its own image).
pub fn reach_text(s: &Site, pointer_bits: u8) -> String {
    // A field inside the image reaches: say so only for imports and for fields that do not.
    match (s.reach(pointer_bits), s.distance) {
        (Some(Reach::Wraps), Some(d)) => format!("WRAPS {}", human(d)),
        (Some(Reach::Ok), Some(d)) => format!("ok {}", signed_hex(d)),
        (Some(Reach::Out), Some(d)) => format!("OUT {}", human(d)),
        (Some(Reach::Unknown), _) => "?".into(),
        _ => String::new(),
    }
}

/// A distance in words (`7.4 GiB`).
pub fn human(v: i64) -> String {
    let a = v.unsigned_abs() as f64;
    let (n, u) = if a >= (1u64 << 30) as f64 {
        (a / (1u64 << 30) as f64, "GiB")
    } else if a >= (1u64 << 20) as f64 {
        (a / (1u64 << 20) as f64, "MiB")
    } else {
        (a / 1024.0, "KiB")
    };
    format!("{}{n:.1} {u}", if v < 0 { "-" } else { "" })
}

/// Write the `refs` text table. Its counts open it: those of `refs`, unless the sites come from
/// a scan run for the table ([`SiteSource::each_piece_counted`]), which counts them on the way —
/// the column widths and the counts from one sweep, the rows from a second.
pub fn write_refs_text(
    w: &mut impl Write,
    n: &Namer<'_>,
    refs: &Refs,
    sites: &(impl SiteSource + ?Sized),
    modules: &[ModuleJson],
    keep: &(dyn Fn(&Site) -> bool + Sync),
    summary_only: bool,
) -> io::Result<()> {
    if summary_only {
        return write_refs_head(w, n, &refs.summary, refs.note.as_deref(), modules);
    }
    let ptr_bits = if n.bin.is_64 { 64 } else { 32 };
    let t = crate::report::table::Table::new(&[
        "site>",
        "field",
        "w>",
        "mode",
        "target>",
        "kind",
        "import / symbol",
        "offset>",
        "reach",
        "notes",
    ]);
    let mut width = t.header_widths();
    let columns = width.len();
    // One sweep: each piece's rows formatted on the scan's workers, measured and spilled to a
    // temporary file, then read back padded.
    if let Ok(mut spill) = crate::report::spill::Spill::new() {
        let totals = sites.each_piece_counted(
            |b| {
                let (mut mine, mut row, mut block) = (vec![0; columns], RowBuf::default(), Vec::new());
                for s in b.iter().filter(|s| keep(s)) {
                    site_cells(n, s, ptr_bits, &mut row);
                    crate::report::spill::Spill::encode(&mut block, &mut mine, row.cells());
                }
                (mine, block)
            },
            |(mine, block)| {
                width.iter_mut().zip(mine).for_each(|(a, b)| *a = (*a).max(b));
                spill.append(&block)
            },
        )?;
        write_table_top(w, n, refs, totals.as_ref(), modules, &t, &width)?;
        return spill.write_rows(&t, &width, columns, sites.threads(), w);
    }
    // No temporary file: rows are formatted twice (widths, then text) rather than kept, in
    // bounded memory.
    let totals = sites.each_piece_counted(
        |b| {
            let (mut mine, mut row) = (vec![0; columns], RowBuf::default());
            for s in b.iter().filter(|s| keep(s)) {
                site_cells(n, s, ptr_bits, &mut row);
                measure_cells(&mut mine, row.cells());
            }
            mine
        },
        |mine| {
            width.iter_mut().zip(mine).for_each(|(a, b)| *a = (*a).max(b));
            Ok(())
        },
    )?;
    write_table_top(w, n, refs, totals.as_ref(), modules, &t, &width)?;
    sites.each_piece(
        |b| {
            let (mut buf, mut row) = (Vec::new(), RowBuf::default());
            for s in b.iter().filter(|s| keep(s)) {
                site_cells(n, s, ptr_bits, &mut row);
                t.push_row(&mut buf, &width, row.cells());
            }
            buf
        },
        |buf| w.write_all(&buf),
    )
}

/// What comes before the table's rows: the head with the counts a streamed scan gave (else
/// `refs`'), the title and the column heads.
fn write_table_top(
    w: &mut impl Write,
    n: &Namer<'_>,
    refs: &Refs,
    counted: Option<&crate::analysis::stream::Totals>,
    modules: &[ModuleJson],
    t: &crate::report::table::Table,
    width: &[usize],
) -> io::Result<()> {
    match counted {
        Some(c) => write_refs_head(w, n, &c.summary, c.note.as_deref(), modules)?,
        None => write_refs_head(w, n, &refs.summary, refs.note.as_deref(), modules)?,
    }
    writeln!(w, "\n== data references ==")?;
    t.write_head(w, width)
}

/// The lines before the `refs` table: the file, the DLLs' bases, the counts.
fn write_refs_head(
    w: &mut impl Write,
    n: &Namer<'_>,
    s: &Summary,
    note: Option<&str>,
    modules: &[ModuleJson],
) -> io::Result<()> {
    writeln!(w, "format: {}   arch: {}", n.bin.format.name(), n.bin.arch)?;
    if let Some(note) = note {
        writeln!(w, "note: {note}")?;
    }
    for m in modules {
        let base = m.base.map_or_else(|| "unknown (reach of its imports is unknown)".into(), |b| format!("{b:#x}"));
        writeln!(w, "dll {}: {} ({})", m.name, base, m.source)?;
    }
    writeln!(
        w,
        "\n{} instructions, {} RIP-relative operands, {} call [IAT], {} jmp [IAT]; {} sites: {} with an import, {} with an offset, {} unreachable, {} ambiguous",
        s.instructions, s.rip_relative_operands, s.iat_calls, s.iat_jumps, s.sites, s.with_import, s.with_offset, s.unreachable, s.ambiguous
    )?;
    let modes: Vec<String> =
        Mode::ALL.iter().zip(s.by_mode).filter(|(_, c)| *c > 0).map(|(m, c)| format!("{} {c}", m.name())).collect();
    let kinds: Vec<String> = TargetKind::ALL
        .iter()
        .zip(s.by_target_kind)
        .filter(|(_, c)| *c > 0)
        .map(|(k, c)| format!("{} {c}", k.name()))
        .collect();
    writeln!(w, "by mode: {}\nby target: {}", modes.join(", "), kinds.join(", "))
}

/// One site as the cells of the `refs` text table, written into `row`.
fn site_cells(n: &Namer<'_>, s: &Site, ptr_bits: u8, row: &mut RowBuf) {
    use std::fmt::Write as _;
    row.clear();
    let _ = write!(row.text(), "{:#x}", s.site_rva);
    row.end_cell();
    let _ = write!(row.text(), "+{}", s.field_rva.wrapping_sub(s.site_rva));
    row.end_cell();
    let _ = write!(row.text(), "{}", s.width);
    row.end_cell();
    row.cell(s.mode.name());
    let _ = match s.target_rva {
        Some(t) => write!(row.text(), "{t:#x}"),
        None => write!(row.text(), "va {:#x}", s.target_va),
    };
    row.end_cell();
    row.cell(s.target_kind.name());
    if let Some(name) = n.site_name(s) {
        row.text().extend(name.chars().map(|c| if c.is_control() { '?' } else { c }));
    }
    row.end_cell();
    match s.offset {
        Some(0) => row.text().push('0'),
        Some(o) => row.text().push_str(&signed_hex(o)),
        None => {}
    }
    row.end_cell();
    row.cell(&reach_text(s, ptr_bits));
    let mut notes = Vec::new();
    if s.ambiguous {
        let naive = n.naive_label(s).unwrap_or_default();
        notes.push(format!("AMBIGUOUS: the naive reading lands on {naive}"));
    }
    if let Some(p) = s.pseudo_reloc {
        notes.push(format!("pseudo-reloc #{p}"));
    }
    if s.needs_import_fixup {
        notes.push("external data: needs an import fix-up".into());
    }
    row.cell(&notes.join("; "));
}

/// A site explained in words (the app's tooltip; `disasm --json` too).
pub fn explain(n: &Namer<'_>, s: &Site, modules: &[ModuleJson]) -> String {
    let at = s.field_rva.wrapping_sub(s.site_rva);
    let field = match s.mode {
        Mode::RipRelative => format!("RIP-relative disp{} at +{at}", s.width),
        Mode::Absolute => format!("Absolute {}-bit address at +{at}", s.width),
        Mode::AbsoluteIndexed => format!("{}-bit displacement (with a base/index register) at +{at}", s.width),
        Mode::Immediate => format!("{}-bit immediate at +{at}", s.width),
        Mode::DataPointer => format!("{}-bit pointer", s.width),
    };
    let what = n.site_label(s).unwrap_or_else(|| {
        format!("{} {}", s.target_kind.name(), s.target_rva.map_or_else(String::new, |t| format!("{t:#x}")))
    });
    let verb = if s.mode == Mode::DataPointer { "points at" } else { "reads" };
    let mut t = format!("{field} {verb} {what} ({})", s.target_kind.name());
    if let Some(p) = s.pseudo_reloc {
        let e = n.bin.pseudo_relocations.entries.get(p as usize);
        let place = e
            .and_then(|e| Some(format!("{}+{:#x}", e.target_section.as_deref()?, e.target_offset?)))
            .unwrap_or_default();
        t.push_str(&format!(" through pseudo-relocation #{p} {place}"));
    }
    if s.ambiguous {
        let naive = n.naive_label(s).unwrap_or_default();
        t.push_str(&format!(
            "; the stored address reads as {naive}, another slot, so a walk that guesses the import from the address picks the wrong one"
        ));
    }
    let dll = s.import.and_then(|i| n.import(i)).and_then(|i| i.dll);
    let module = dll.and_then(|d| modules.iter().find(|m| m.name.eq_ignore_ascii_case(&d)));
    match (s.reachable, s.distance, module) {
        (Some(ok), Some(d), Some(m)) if s.pseudo_reloc.is_some() => {
            let base = m.base.map_or_else(String::new, |b| format!("{b:#x}"));
            t.push_str(&format!("; with the DLL at {base} the new value is {} away: ", human(d)));
            t.push_str(if !ok {
                "out of reach (the runtime aborts)"
            } else if s.wraps {
                "the runtime accepts it, but the CPU sign-extends the displacement: it reaches a wrong address"
            } else {
                "within reach"
            });
        }
        (None, None, _) if s.pseudo_reloc.is_some() && s.width < if n.bin.is_64 { 64 } else { 32 } => {
            t.push_str("; reach unknown: the DLL's place is not known (open it beside the file, or give --base)");
        }
        _ => {}
    }
    if s.needs_import_fixup {
        t.push_str("; undefined external data: needs an import fix-up at link or load time");
    }
    t
}
