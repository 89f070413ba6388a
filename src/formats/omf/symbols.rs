//! Symbol records: EXTDEF / LEXTDEF / CEXTDEF and COMDEF / LCOMDEF (external and communal names
//! sharing one index space), PUBDEF / LPUBDEF (public names), TYPDEF and ALIAS.

use super::names::{IndexKind, MAX_INDEX};
use super::record::Body;
use super::{Module, MAX_SYMBOLS};
use crate::demangle::demangle;
use crate::model::{Binding, OmfCommunal, OmfExternal, Severity, Span, SpecialSection, Symbol, SymbolKind};

impl Module<'_> {
    /// Define the next external index and its symbol.
    fn add_external(
        &mut self,
        name: String,
        kind: &str,
        type_index: u16,
        communal: Option<OmfCommunal>,
        span: Span,
    ) -> bool {
        let index = self.omf.externals.len() as u32 + 1;
        if self.at_cap("externals", self.omf.externals.len(), MAX_INDEX, span.offset)
            || self.at_cap("symbols", self.bin.symbols.len(), MAX_SYMBOLS, span.offset)
        {
            return false;
        }
        let local = kind.starts_with('L');
        let symbol = self.bin.symbols.len();
        let mut aux = vec![format!("{kind}, external index {index}")];
        if type_index != 0 {
            aux.push(format!("TYPDEF index {type_index}"));
        }
        if let Some(c) = &communal {
            aux.push(if c.far {
                format!("far communal: {} × {} bytes", c.count, c.element_size)
            } else if c.data_type == 0x62 {
                format!("near communal: {} bytes", c.size)
            } else {
                format!("communal in segment {}: {} bytes", c.data_type, c.size)
            });
        }
        self.bin.symbols.push(Symbol {
            index: symbol as u32,
            demangled: demangle(&name),
            name: name.clone(),
            value: 0,
            size: communal.as_ref().map(|c| c.size),
            section: None,
            section_kind: Some(if communal.is_some() { SpecialSection::Common } else { SpecialSection::Undefined }),
            kind: if communal.is_some() { SymbolKind::Data } else { SymbolKind::Unknown },
            binding: if local { Binding::Local } else { Binding::External },
            raw_type: u32::from(self.cur.1),
            aux_count: 0,
            aux,
            span,
        });
        self.omf.externals.push(OmfExternal {
            index,
            name,
            kind: kind.to_string(),
            type_index,
            local,
            communal,
            symbol,
            record: self.rec,
            span,
        });
        true
    }
}

impl Module<'_> {
    /// A Borland COMDEF with a segment-index data type defines a virtual segment: data and
    /// fixups refer to it by segment index `0x4000 | n`; it is lowered like a COMDAT.
    fn add_virtual_segment(&mut self, name: String, symbol: usize, seg: u8, type_index: u16) {
        let pos = self.omf.comdats.len();
        self.virdefs.push(pos);
        if let Some(s) = self.bin.symbols.get_mut(symbol) {
            s.aux.push(format!("Borland virtual segment, data by segment index 0x{:x}", 0x4000 + self.virdefs.len()));
        }
        self.omf.comdats.push(crate::model::OmfComdat {
            section: 0,
            name,
            name_index: 0,
            flags: 0,
            local: self.cur.1 == 0xb8,
            attributes: 0x10,
            selection: "any".into(),
            allocation: "explicit".into(),
            align_raw: 0,
            align: "from SEGDEF".into(),
            base_group: None,
            base_segment: (seg != 0).then_some(u32::from(seg)),
            base_frame: None,
            type_index,
            length: 0,
            records: vec![self.rec],
            data: Vec::new(),
            symbol,
            borland_virtual: true,
            image: Vec::new(),
        });
    }
}

fn list_summary(what: &str, first: usize, names: &[String], total: usize) -> String {
    let more = if total > names.len() { " …" } else { "" };
    format!("{total} {what} (#{first}–#{}): {}{more}", first + total.saturating_sub(1), names.join(" "))
}

/// EXTDEF / LEXTDEF: names the module refers to but does not define.
pub fn extdef(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let kind = if t == 0x8c { "EXTDEF" } else { "LEXTDEF" };
    let first = m.omf.externals.len() + 1;
    let mut shown = Vec::new();
    let mut total = 0;
    while !b.done() {
        let start = b.pos;
        let idx = m.omf.externals.len() + 1;
        let name = b.name(
            &format!("Name {idx}"),
            "External symbol name; externals are numbered from 1 across EXTDEF, LEXTDEF, CEXTDEF, COMDEF and LCOMDEF.",
        )?;
        let ty = b.index("Type index", "TYPDEF index (0: no type).")?;
        if shown.len() < 6 {
            shown.push(name.clone());
        }
        total += 1;
        let _ = m.add_external(name, kind, ty, None, Span::new(start, b.pos - start));
    }
    let what = if t == 0x8c { "external(s)" } else { "local external(s)" };
    Some(list_summary(what, first, &shown, total))
}

/// CEXTDEF: externals named by an LNAMES index, used to refer to COMDAT symbols.
pub fn cextdef(m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    let first = m.omf.externals.len() + 1;
    let mut shown = Vec::new();
    let mut total = 0;
    while !b.done() {
        let start = b.pos;
        let (ni, name) = m.read_index(
            b,
            "Name index",
            "LNAMES index of the COMDAT symbol this external refers to.",
            IndexKind::Name,
            false,
        )?;
        let ty = b.index("Type index", "TYPDEF index (0: no type).")?;
        let name = name.unwrap_or_else(|| format!("LNAMES #{ni}"));
        if shown.len() < 6 {
            shown.push(name.clone());
        }
        total += 1;
        let _ = m.add_external(name, "CEXTDEF", ty, None, Span::new(start, b.pos - start));
    }
    Some(list_summary("COMDAT external(s)", first, &shown, total))
}

/// COMDEF / LCOMDEF: communal variables (near: a size; far: element count × element size).
pub fn comdef(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let kind = if t == 0xb0 { "COMDEF" } else { "LCOMDEF" };
    let first = m.omf.externals.len() + 1;
    let mut shown = Vec::new();
    let mut total = 0;
    while !b.done() {
        let start = b.pos;
        let idx = m.omf.externals.len() + 1;
        let name = b.name(&format!("Name {idx}"), "Communal variable name; it takes the next external index.")?;
        let ty = b.index("Type index", "TYPDEF index (0: no type).")?;
        let dt = b.u8_with("Data type", "0x61: far (element count and element size follow); 0x62: near (a size follows); below 0x60: Borland segment index.", |v| {
            match v {
                0x61 => "0x61 (far)".into(),
                0x62 => "0x62 (near)".into(),
                0..=0x5f => format!("0x{v:02x} (Borland: segment index {v})"),
                _ => format!("0x{v:02x} (invalid)"),
            }
        })?;
        let communal = match dt {
            0x61 => {
                let count = b.comdef_number("Number of elements", "Far communal: how many elements (1-byte value up to 0x80, or 0x81/0x84/0x88 followed by 2/3/4 bytes).")?;
                let elem = b.comdef_number("Element size", "Far communal: size of one element in bytes.")?;
                OmfCommunal { far: true, data_type: dt, count, element_size: elem, size: count.saturating_mul(elem) }
            }
            0x62 | 0..=0x5f => {
                let size = b.comdef_number(
                    "Size",
                    "Communal size in bytes (1-byte value up to 0x80, or 0x81/0x84/0x88 followed by 2/3/4 bytes).",
                )?;
                OmfCommunal { far: false, data_type: dt, count: 1, element_size: size, size }
            }
            other => {
                let msg = format!(
                    "{}: communal data type 0x{other:02x} is not defined; the rest of the record is not read",
                    m.here()
                );
                m.diag(Severity::Error, b.pos, msg);
                b.rest("Unread entries", "Entries after an invalid communal data type.");
                break;
            }
        };
        if shown.len() < 6 {
            shown.push(format!("{name}[{}]", communal.size));
        }
        total += 1;
        let borland = communal.data_type < 0x60;
        let symbol = m.bin.symbols.len();
        let kept = m.add_external(name.clone(), kind, ty, Some(communal), Span::new(start, b.pos - start));
        if borland && kept {
            m.add_virtual_segment(name, symbol, dt, ty);
        }
    }
    let what = if t == 0xb0 { "communal(s)" } else { "local communal(s)" };
    Some(list_summary(what, first, &shown, total))
}

/// Read a "base group / base segment / [base frame]" triple (PUBDEF, LINNUM, COMDAT).
pub fn read_base(m: &mut Module<'_>, b: &mut Body<'_>) -> Option<(u16, u16, Option<u16>)> {
    let (g, _) = m.read_index(
        b,
        "Base group index",
        "GRPDEF index the offsets are relative to (0: none).",
        IndexKind::Group,
        true,
    )?;
    let (s, _) = m.read_index(
        b,
        "Base segment index",
        "SEGDEF index the offsets are relative to (0: absolute, a frame number follows).",
        IndexKind::Segment,
        true,
    )?;
    // As Intel OMF-86 and dmpobj read it: the frame is present iff both indices are 0.
    let frame = if s == 0 && g == 0 {
        Some(b.uint(
            "Base frame",
            2,
            "Frame number (paragraph) of an absolute address; present when both the base group and base segment indices are 0.",
        )? as u16)
    } else {
        None
    };
    if s == 0 && g != 0 {
        let msg = format!("{}: base segment index 0 with a base group: OMF allows segment 0 only without a group (no frame number follows)", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    Some((g, s, frame))
}

/// PUBDEF / LPUBDEF: names this module defines, at offsets in a segment.
pub fn pubdef(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let local = matches!(t, 0xb6 | 0xb7);
    let (grp, seg, frame) = read_base(m, b)?;
    let w = m.off_width(t);
    let seg_class_code = usize::from(seg)
        .checked_sub(1)
        .and_then(|i| m.omf.segments.get(i))
        .is_some_and(|s| s.class.to_ascii_uppercase().ends_with("CODE"));
    let mut shown = Vec::new();
    let mut total = 0usize;
    while !b.done() {
        let start = b.pos;
        let name = b.name("Public name", "Name of a symbol this module defines.")?;
        let off = b.uint("Public offset", w, "Offset of the symbol from the start of the base segment (or frame).")?;
        let ty = b.index("Type index", "TYPDEF index (0: no type).")?;
        let mut aux = Vec::new();
        if grp != 0 {
            aux.push(format!("base group {}", m.describe(IndexKind::Group, grp)));
        }
        if let Some(f) = frame {
            aux.push(format!("absolute: frame 0x{f:04x}"));
        }
        if ty != 0 {
            aux.push(format!("TYPDEF index {ty}"));
        }
        if shown.len() < 6 {
            shown.push(format!("{name}@0x{off:x}"));
        }
        total += 1;
        if m.at_cap("symbols", m.bin.symbols.len(), MAX_SYMBOLS, start) {
            continue;
        }
        let index = m.bin.symbols.len() as u32;
        m.bin.symbols.push(Symbol {
            index,
            demangled: demangle(&name),
            name,
            value: off,
            size: None,
            section: (seg != 0).then_some(u32::from(seg)),
            section_kind: (seg == 0).then_some(SpecialSection::Absolute),
            kind: if seg == 0 {
                SymbolKind::Absolute
            } else if seg_class_code {
                SymbolKind::Function
            } else {
                SymbolKind::Data
            },
            binding: if local { Binding::Local } else { Binding::Global },
            raw_type: u32::from(t),
            aux_count: 0,
            aux,
            span: Span::new(start, b.pos - start),
        });
    }
    let base =
        if seg != 0 { m.describe(IndexKind::Segment, seg) } else { format!("frame 0x{:04x}", frame.unwrap_or(0)) };
    let more = if total > shown.len() { " …" } else { "" };
    Some(format!("{total} {}public(s) in {base}: {}{more}", if local { "local " } else { "" }, shown.join(" ")))
}

/// TYPDEF: an obsolete type description (name and leaf descriptors, shown raw).
pub fn typdef(_m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    let name = b.name("Name", "Type name (usually empty); TYPDEF is obsolete and ignored by linkers.")?;
    let leaves = b.rest(
        "Leaf descriptors",
        "Eight-leaf type descriptors (Microsoft: 0x61 far / 0x62 near with sizes); shown raw.",
    );
    Some(format!("type \"{name}\", {} descriptor byte(s)", leaves.len()))
}

/// ALIAS: alias name / substitute name pairs.
pub fn alias(_m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    let mut shown = Vec::new();
    while !b.done() {
        let a = b.name("Alias name", "The name being defined as an alias.")?;
        let s = b.name("Substitute name", "The name the alias stands for.")?;
        if shown.len() < 4 {
            shown.push(format!("{a} = {s}"));
        }
    }
    Some(shown.join(", "))
}
