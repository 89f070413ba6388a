//! The remaining records: MODEND (module end and start address), LINNUM / LINSYM (line numbers),
//! BAKPAT / NBKPAT (back-patches), VERNUM and VENDEXT.

use super::names::IndexKind;
use super::record::Body;
use super::symbols::read_base;
use super::Module;
use crate::model::Severity;

/// MODEND: end of the module, main-module flag and optional start address.
pub fn modend(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    if b.done() {
        return Some("end of module".into());
    }
    let mt = b.u8_with(
        "Module type",
        "Bit 7: main module; bit 6: a start address follows; bit 0: the start address is logical (frame/target like a fixup) rather than physical.",
        |v| {
            format!(
                "0x{v:02x}: {}{}{}",
                if v & 0x80 != 0 { "main module" } else { "not a main module" },
                if v & 0x40 != 0 { ", with start address" } else { "" },
                if v & 0x40 != 0 && v & 1 == 0 { " (physical)" } else { "" }
            )
        },
    )?;
    m.omf.main_module = mt & 0x80 != 0;
    if mt & 0x40 == 0 {
        return Some(if mt & 0x80 != 0 {
            "end of main module, no start address".into()
        } else {
            "end of module".into()
        });
    }
    if mt & 1 == 0 {
        let frame = b.uint("Start frame", 2, "Physical start address: frame number.")?;
        let off = b.uint("Start offset", 2, "Physical start address: offset.")?;
        return Some(format!("end of module, physical start address {frame:04x}:{off:04x}"));
    }
    let fd = b.u8_with(
        "End data",
        "Like a fixup's Fix Data: `F Frame(3) T P Targt(2)`; the start address is frame + target + displacement.",
        |v| format!("0x{v:02x}: frame method F{}, target method T{}", (v >> 4) & 7, (v & 3) | ((v >> 2) & 1) << 2),
    )?;
    let w = m.off_width(t);
    let r = m.read_reference(b, fd, w)?;
    let s = format!(
        "end of {}module, start address {}{}, frame: {}",
        if mt & 0x80 != 0 { "main " } else { "" },
        r.target,
        r.displacement.filter(|&d| d != 0).map_or(String::new(), |d| format!(" + 0x{d:x}")),
        r.frame
    );
    m.omf.start = Some(r);
    Some(s)
}

/// Read `line number / offset` pairs to the end of the body.
fn line_pairs(b: &mut Body<'_>, w: u32) -> Option<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    while !b.done() {
        let line =
            b.uint_with("Line number", 2, "Source line number (0: end of a function, for some producers).", |v| {
                v.to_string()
            })?;
        let off = b.uint("Line offset", w, "Offset of the line's first instruction in the segment.")?;
        out.push((line, off));
    }
    Some(out)
}

fn pairs_summary(pairs: &[(u64, u64)]) -> String {
    let shown: Vec<String> = pairs.iter().take(4).map(|(l, o)| format!("{l}@0x{o:x}")).collect();
    format!("{} line(s): {}{}", pairs.len(), shown.join(" "), if pairs.len() > 4 { " …" } else { "" })
}

/// LINNUM: line numbers for a segment.
pub fn linnum(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    if m.omf.debug_style.as_deref() == Some("HLL") {
        let raw = b.rest("HLL line-number data", "IBM HLL-style line-number table (not decoded).");
        return Some(format!("HLL line numbers, {} byte(s) (not decoded)", raw.len()));
    }
    let (_, seg, _) = read_base(m, b)?;
    let pairs = line_pairs(b, m.off_width(t))?;
    Some(format!("{} in {}", pairs_summary(&pairs), m.describe(IndexKind::Segment, seg)))
}

/// LINSYM: line numbers for a COMDAT.
pub fn linsym(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let flags = b.u8_with("Flags", "Bit 0: continuation of the previous LINSYM for this symbol.", |v| {
        format!("0x{v:02x}{}", if v & 1 != 0 { " (continuation)" } else { "" })
    })?;
    let (_, name) = m.read_index(
        b,
        "Public name index",
        "LNAMES index of the COMDAT the lines belong to.",
        IndexKind::Name,
        false,
    )?;
    let pairs = line_pairs(b, m.off_width(t))?;
    Some(format!(
        "{} in COMDAT `{}`{}",
        pairs_summary(&pairs),
        name.unwrap_or_default(),
        if flags & 1 != 0 { " (continued)" } else { "" }
    ))
}

fn patch_type(b: &mut Body<'_>) -> Option<u8> {
    let v = b.u8_with(
        "Location type",
        "Size of each patched value: 0 byte, 1 word, 2 dword (32-bit records only).",
        |v| match v {
            0 => "0 (byte)".into(),
            1 => "1 (word)".into(),
            2 => "2 (dword)".into(),
            n => format!("{n} (invalid)"),
        },
    )?;
    Some(v)
}

fn patch_pairs(b: &mut Body<'_>, w: u32) -> Option<usize> {
    let mut n = 0;
    while !b.done() {
        b.uint("Offset", w, "Offset of the location to patch.")?;
        b.uint("Value", w, "Value added to the location.")?;
        n += 1;
    }
    Some(n)
}

/// BAKPAT: values to add to locations in a segment after the data was written.
pub fn bakpat(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let (seg, _) =
        m.read_index(b, "Segment index", "SEGDEF index of the segment to patch.", IndexKind::Segment, false)?;
    let lt = patch_type(b)?;
    if lt > 2 || (lt == 2 && t & 1 == 0) {
        let msg = format!("{}: location type {lt} is not valid here", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    let n = patch_pairs(b, m.off_width(t))?;
    Some(format!("{n} back-patch(es) in {}", m.describe(IndexKind::Segment, seg)))
}

/// NBKPAT: back-patches for a COMDAT named by an LNAMES index.
pub fn nbkpat(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let lt = patch_type(b)?;
    if lt > 2 {
        let msg = format!("{}: location type {lt} is not valid", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    let (_, name) =
        m.read_index(b, "Public name index", "LNAMES index of the COMDAT to patch.", IndexKind::Name, false)?;
    let n = patch_pairs(b, m.off_width(t))?;
    Some(format!("{n} back-patch(es) in COMDAT `{}`", name.unwrap_or_default()))
}

/// VERNUM: the OMF version the module follows.
pub fn vernum(_m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    let v = b.name("Version", "TIS base version, vendor number and vendor version, e.g. \"1.0.0\".")?;
    Some(format!("OMF version \"{v}\""))
}

/// VENDEXT: a vendor-specific extension.
pub fn vendext(_m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    let v = b.uint("Vendor number", 2, "Vendor number assigned by the TIS committee.")?;
    let raw = b.rest("Extension bytes", "Vendor-specific bytes; shown raw.");
    Some(format!("vendor {v}, {} byte(s)", raw.len()))
}
