//! Lowering a read OMF module into the common model: SEGDEFs and COMDATs become sections (with
//! their assembled bytes kept in [`crate::model::OmfInfo`]), COMDATs get `comdats` rows with the
//! OMF selection and allocation, fixups become relocations (one per fixup, same order) and the
//! module header becomes a header group.

use std::borrow::Cow;
use std::collections::HashMap;

use super::fixupp::{describe, location_kind};
use super::Module;
use crate::formats::bytes::{sign_extend, uint_at};
use crate::model::{
    Binary, Binding, Comdat, HeaderGroup, RelocKind, Relocation, Section, SectionKind, Span, SymbolKind,
};

/// Whether a segment class names debug information rather than program contents.
fn is_debug_class(class: &str) -> bool {
    let c = class.to_ascii_uppercase();
    c.starts_with("DEB") || c == "DWARF"
}

fn record_span(bin: &Binary, record: usize) -> Span {
    bin.omf_records
        .get(record)
        .map_or(Span::default(), |r| Span::new(r.offset, u64::from(r.length) + 3))
        .clamp_to(bin.file_size)
}

trait Clamp {
    fn clamp_to(self, size: u64) -> Self;
}

impl Clamp for Span {
    fn clamp_to(self, size: u64) -> Span {
        let end = self.end().min(size);
        Span::new(self.offset.min(size), end.saturating_sub(self.offset.min(size)))
    }
}

/// Build the final document.
pub fn lower(m: Module<'_>) -> Binary {
    let Module { mut bin, mut omf, .. } = m;
    let nseg = omf.segments.len() as u32;
    // COMDAT section numbers come after the SEGDEFs.
    for (k, c) in omf.comdats.iter_mut().enumerate() {
        c.section = nseg + 1 + k as u32;
    }
    for f in omf.fixups.iter_mut() {
        f.section = match (f.segment, f.comdat) {
            (Some(s), _) => Some(s),
            (None, Some(c)) => omf.comdats.get(c as usize).map(|c| c.section),
            _ => None,
        };
    }
    let reloc_count = |sec: u32| omf.fixups.iter().filter(|f| f.section == Some(sec)).count() as u32;
    for s in &omf.segments {
        let (file_offset, file_size) = match s.data.as_slice() {
            [c] if !c.iterated && c.offset == 0 => (c.span.offset, c.span.len),
            [c, ..] => (c.span.offset, 0),
            [] => (0, 0),
        };
        let upper_class = s.class.to_ascii_uppercase();
        let upper_name = s.name.to_ascii_uppercase();
        let is_alloc = !is_debug_class(&s.class);
        let is_exec = is_alloc
            && (upper_class.ends_with("CODE")
                || (s.class.is_empty() && (upper_name.contains("TEXT") || upper_name.contains("CODE"))));
        let is_write = is_alloc && !is_exec && !upper_class.contains("CONST");
        let mut flag_names = vec![
            s.alignment.to_ascii_uppercase(),
            s.combine.to_ascii_uppercase(),
            if s.use32 { "USE32" } else { "USE16" }.to_string(),
        ];
        if s.big {
            flag_names.push("BIG".into());
        }
        flag_names.push(format!("class={}", s.class));
        if let Some(g) = s.group.and_then(|g| omf.groups.get((g as usize).wrapping_sub(1))) {
            flag_names.push(format!("group={}", g.name));
        }
        if let Some(f) = s.frame {
            flag_names.push(format!("at=0x{f:04x}"));
        }
        bin.sections.push(Section {
            index: s.index,
            name: s.name.clone(),
            rva: 0,
            virtual_size: s.length,
            file_offset,
            file_size,
            flags: u64::from(s.acbp),
            flag_names,
            kind: Some(SectionKind::Segdef),
            is_alloc,
            is_exec,
            is_write,
            align: s.align,
            header_span: record_span(&bin, s.record),
            reloc_count: reloc_count(s.index),
        });
    }
    for c in &omf.comdats {
        let base_class = c
            .base_segment
            .and_then(|s| omf.segments.get((s as usize).wrapping_sub(1)))
            .map(|s| s.class.to_ascii_uppercase())
            .unwrap_or_default();
        let alloc = c.attributes & 0xf;
        let is_exec = matches!(alloc, 1 | 3) || c.flags & 8 != 0 || base_class.ends_with("CODE");
        let (file_offset, file_size) = match c.data.as_slice() {
            [d] if !d.iterated && d.offset == 0 => (d.span.offset, d.span.len),
            [d, ..] => (d.span.offset, 0),
            [] => (0, 0),
        };
        let mut flag_names =
            vec![format!("select={}", c.selection), format!("alloc={}", c.allocation), format!("align={}", c.align)];
        if c.local {
            flag_names.push("LOCAL".into());
        }
        if c.flags & 2 != 0 {
            flag_names.push("ITERATED".into());
        }
        if c.borland_virtual {
            flag_names.push("BORLAND-VIRTUAL".into());
        }
        bin.sections.push(Section {
            index: c.section,
            name: c.name.clone(),
            rva: 0,
            virtual_size: c.length,
            file_offset,
            file_size,
            flags: u64::from(c.attributes),
            flag_names,
            kind: Some(if c.borland_virtual { SectionKind::Virdef } else { SectionKind::Comdat }),
            is_alloc: true,
            is_exec,
            is_write: !is_exec,
            align: super::comdat::align_word(c.align_raw).1.or_else(|| {
                c.base_segment.and_then(|s| omf.segments.get((s as usize).wrapping_sub(1))).and_then(|s| s.align)
            }),
            header_span: c.records.first().map_or(Span::default(), |&r| record_span(&bin, r)),
            reloc_count: reloc_count(c.section),
        });
        let first_span = c.records.first().map(|&r| record_span(&bin, r));
        if let Some(sym) = bin.symbols.get_mut(c.symbol) {
            if c.borland_virtual {
                sym.section_kind = None;
                sym.kind = if is_exec { SymbolKind::Function } else { SymbolKind::Data };
                if sym.binding == Binding::External {
                    sym.binding = Binding::Global;
                }
            }
            sym.section = Some(c.section);
            sym.size = Some(c.length);
            if let Some(sp) = first_span {
                sym.span = sp;
            }
        }
        bin.comdats.push(Comdat {
            section: c.section,
            selection: None,
            selection_name: c.selection.clone(),
            symbol: Some(c.name.clone()),
            associated_section: None,
            associated_by: Vec::new(),
            checksum: 0,
            omf_selection: Some(c.selection.clone()),
            omf_allocation: Some(c.allocation.clone()),
        });
    }
    let mut at_symbol: HashMap<(u32, u64), usize> = HashMap::new();
    for (i, s) in bin.symbols.iter().enumerate() {
        if let (Some(sec), Binding::Global | Binding::Local) = (s.section, s.binding) {
            at_symbol.entry((sec, s.value)).or_insert(i);
        }
    }
    for f in omf.fixups.iter_mut() {
        let width = crate::model::omf_location_width(f.location);
        let image = f.section.and_then(|s| {
            omf.segments
                .iter()
                .find(|x| x.index == s)
                .map(|x| x.image.as_slice())
                .or_else(|| omf.comdats.iter().find(|c| c.section == s).map(|c| c.image.as_slice()))
        });
        // The offset part of the location holds an addend; a segment base holds none.
        let stored_width = match f.location {
            3 => 2,
            11 => 4,
            2 => 0,
            _ => width as u32,
        };
        let stored = match (image, f.offset) {
            (Some(img), Some(off)) => uint_at(img, off, stored_width.max(1)).filter(|_| stored_width > 0),
            _ => None,
        };
        let stored_val =
            stored.map_or(0, |v| if f.segment_relative { v as i64 } else { sign_extend(v, stored_width * 8) });
        let addend = i64::from(f.reference.displacement.unwrap_or(0)).saturating_add(stored_val);
        // Name the public a segment-relative reference into a segment lands on.
        let symbol = match (f.segment_relative, f.reference.target_method & 3, f.reference.target_datum) {
            (true, 0, Some(seg)) if f.location != 2 => {
                u64::try_from(addend).ok().and_then(|a| at_symbol.get(&(seg, a)).copied())
            }
            _ => None,
        };
        let iterated = f.data_record.and_then(|r| bin.omf_records.get(r)).is_some_and(|r| {
            matches!(r.record_type, 0xa2 | 0xa3)
                || (matches!(r.record_type, 0xc2 | 0xc3)
                    && r.fields.iter().any(|x| x.name == "Flags" && x.value.is_some_and(|v| v & 2 != 0)))
        });
        f.description = describe(
            f.segment_relative,
            f.location,
            &f.reference,
            stored_val,
            symbol.and_then(|i| bin.symbols.get(i)).map(|s| s.name.as_str()),
            iterated,
        );
        let symbol_index = if f.reference.target_method & 3 == 2 {
            f.reference
                .target_datum
                .and_then(|d| (d as usize).checked_sub(1))
                .and_then(|i| omf.externals.get(i))
                .map(|e| e.symbol as u32)
        } else {
            None
        };
        bin.relocations.push(Relocation {
            section: f.section,
            offset: f.offset.unwrap_or(u64::from(f.data_offset)),
            kind: Cow::Borrowed(location_kind(f.location)),
            raw_type: u32::from(f.location),
            normalized: if !f.segment_relative {
                RelocKind::PcRelative
            } else if f.location == 2 {
                RelocKind::SectionIndex
            } else {
                RelocKind::Absolute
            },
            width: (width * 8) as u8,
            pc_relative: !f.segment_relative,
            symbol: f.reference.target_name.clone(),
            symbol_index,
            addend,
            dynamic: false,
            span: f.span,
        });
    }
    for rec in bin.omf_records.iter().filter(|r| matches!(r.record_type, 0x80 | 0x82 | 0x8a | 0x8b)) {
        bin.headers.push(HeaderGroup {
            name: format!("{} record", rec.type_name),
            span: Span::new(rec.offset, u64::from(rec.length) + 3).clamp_to(bin.file_size),
            fields: rec.fields.clone(),
        });
    }
    bin.is_64 = false;
    bin.omf = Some(omf);
    bin
}
