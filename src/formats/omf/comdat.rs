//! COMDAT (C2/C3): initialised communal data with a selection (no-match, any, same-size, exact)
//! and an allocation (explicit segment, or far code / far data / code32 / data32 segments the
//! linker makes). Continuation records append to the COMDAT of the same name.

use super::data::parse_iterated;
use super::names::IndexKind;
use super::record::Body;
use super::symbols::read_base;
use super::{DataCtx, Module, Owner, MAX_SYMBOLS};
use crate::demangle::demangle;
use crate::model::{Binding, OmfComdat, Severity, Span, Symbol, SymbolKind};

/// Selection (high nibble of Attributes) in the JSON's words.
pub fn selection_word(sel: u8) -> String {
    match sel {
        0 => "no-match".into(),
        1 => "any".into(),
        2 => "same-size".into(),
        3 => "exact".into(),
        n => format!("reserved ({n})"),
    }
}

/// Allocation (low nibble of Attributes) in the JSON's words.
pub fn allocation_word(alloc: u8) -> String {
    match alloc {
        0 => "explicit".into(),
        1 => "far-code".into(),
        2 => "far-data".into(),
        3 => "code32".into(),
        4 => "data32".into(),
        n => format!("reserved ({n})"),
    }
}

/// COMDAT Align byte in words and bytes.
pub fn align_word(a: u8) -> (String, Option<u64>) {
    match a {
        0 => ("from SEGDEF".into(), None),
        1 => ("byte".into(), Some(1)),
        2 => ("word".into(), Some(2)),
        3 => ("paragraph".into(), Some(16)),
        4 => ("page".into(), Some(256)),
        5 => ("dword".into(), Some(4)),
        n => (format!("invalid ({n})"), None),
    }
}

/// COMDAT: one piece of a COMDAT symbol's data.
pub fn comdat(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let flags = b.u8_with(
        "Flags",
        "0x01 continuation of the previous COMDAT of this name; 0x02 iterated data; 0x04 local; 0x08 data in a code segment.",
        |v| {
            let mut w = Vec::new();
            if v & 1 != 0 {
                w.push("continuation");
            }
            w.push(if v & 2 != 0 { "iterated" } else { "enumerated" });
            if v & 4 != 0 {
                w.push("local");
            }
            if v & 8 != 0 {
                w.push("data in code segment");
            }
            format!("0x{v:02x}: {}", w.join(", "))
        },
    )?;
    let attrs = b.u8_with(
        "Attributes",
        "High nibble: selection (0 no match, 1 pick any, 2 same size, 3 exact match). Low nibble: allocation (0 explicit, 1 far code, 2 far data, 3 code32, 4 data32).",
        |v| format!("0x{v:02x}: selection {}, allocation {}", selection_word(v >> 4), allocation_word(v & 0xf)),
    )?;
    let (sel, alloc) = (attrs >> 4, attrs & 0xf);
    if sel > 3 || alloc > 4 {
        let msg = format!("{}: attributes 0x{attrs:02x} use a reserved selection or allocation", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    let align =
        b.u8_with("Align", "0 use the SEGDEF's alignment, 1 byte, 2 word, 3 paragraph, 4 page, 5 dword.", |v| {
            format!("{v} ({})", align_word(v).0)
        })?;
    if align > 5 {
        let msg = format!("{}: alignment value {align} is not defined", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    let w = m.off_width(t);
    let off = b.uint("Enumerated data offset", w, "Offset within the COMDAT of the first data byte of this record.")?;
    let ty = b.index("Type index", "TYPDEF index (0: no type).")?;
    let base = if alloc == 0 { Some(read_base(m, b)?) } else { None };
    let (ni, name) =
        m.read_index(b, "Public name index", "LNAMES index of the COMDAT symbol's name.", IndexKind::Name, false)?;
    let name = name.unwrap_or_else(|| format!("LNAMES #{ni}"));
    let continuation = flags & 1 != 0;
    let existing = if continuation { m.comdat_by_name.get(&ni).copied() } else { None };
    if continuation && existing.is_none() {
        let msg = format!("{}: continuation of COMDAT `{name}`, but no earlier COMDAT record has that name", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    let capped = existing.is_none()
        && (m.at_cap("COMDATs", m.omf.comdats.len(), MAX_SYMBOLS, b.pos)
            || m.at_cap("symbols", m.bin.symbols.len(), MAX_SYMBOLS, b.pos));
    let pos = match existing {
        _ if capped => usize::MAX,
        Some(p) => {
            if let Some(c) = m.omf.comdats.get_mut(p) {
                c.records.push(m.rec);
            }
            p
        }
        None => {
            let pos = m.omf.comdats.len();
            let symbol = m.bin.symbols.len();
            let local = flags & 4 != 0;
            let code = matches!(alloc, 1 | 3) || flags & 8 != 0;
            m.bin.symbols.push(Symbol {
                index: symbol as u32,
                demangled: demangle(&name),
                name: name.clone(),
                value: 0,
                size: None,
                section: None,
                section_kind: None,
                kind: if code { SymbolKind::Function } else { SymbolKind::Data },
                binding: if local { Binding::Local } else { Binding::Global },
                raw_type: u32::from(t),
                aux_count: 0,
                aux: vec![format!("COMDAT, selection {}, allocation {}", selection_word(sel), allocation_word(alloc))],
                span: Span::new(b.pos, 0),
            });
            let (g, s, f) = base.unwrap_or((0, 0, None));
            m.omf.comdats.push(OmfComdat {
                section: 0,
                name: name.clone(),
                name_index: ni,
                flags,
                local,
                attributes: attrs,
                selection: selection_word(sel),
                allocation: allocation_word(alloc),
                align_raw: align,
                align: align_word(align).0,
                base_group: (g != 0).then_some(u32::from(g)),
                base_segment: (s != 0).then_some(u32::from(s)),
                base_frame: f,
                type_index: ty,
                length: 0,
                records: vec![m.rec],
                data: Vec::new(),
                symbol,
                borland_virtual: false,
                image: Vec::new(),
            });
            m.comdat_by_name.insert(ni, pos);
            pos
        }
    };
    let owner = if capped { Owner::None } else { Owner::Comdat(pos) };
    let (len, leaves) = if flags & 2 != 0 {
        let rw = if t & 1 == 1 { 4 } else { 2 };
        let mut it = parse_iterated(m, b, rw)?;
        m.put_iterated(owner, off, &mut it);
        (it.span.len, Some(it.leaves))
    } else {
        let start = b.pos;
        let bytes = b.rest("Data", "The COMDAT's data bytes; a FIXUPP record that follows patches them.");
        let n = bytes.len() as u64;
        m.put(owner, off, n, Some(bytes), false, Span::new(start, n));
        (n, None)
    };
    m.last_data = Some(DataCtx { record: m.rec, rtype: t, owner, base: off, len, leaves });
    let place = match base {
        Some((g, s, _)) if s != 0 || g != 0 => format!(
            " in {}{}",
            m.describe(IndexKind::Segment, s),
            if g != 0 { format!(" ({})", m.describe(IndexKind::Group, g)) } else { String::new() }
        ),
        Some((_, _, Some(f))) => format!(" at frame 0x{f:04x}"),
        _ => String::new(),
    };
    Some(format!(
        "{}`{name}` {}, {}{place}, {len} byte(s) at 0x{off:x}",
        if continuation { "continues " } else { "" },
        selection_word(sel),
        allocation_word(alloc)
    ))
}
