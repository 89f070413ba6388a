//! What the code analysis needs to know about OMF beyond the common model: the decoder bitness of
//! a segment (its SEGDEF's USE32 bit: one module may hold use16 and use32 code), the assembled
//! bytes of a segment or COMDAT (OMF scatters them over LEDATA / LIDATA records, so they are not
//! a range of the file), where an offset of them lies in the file, and what each fixup targets
//! (an external, an offset in a segment, a group or a frame), so the listing names the operand
//! a fixup patches as the source did.

use crate::model::{Binary, OmfInfo, RelocKind, Span};

/// What an OMF fixup (lowered as `relocations[i]`) refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixupTarget {
    /// An offset in a segment or COMDAT (the lowered addend: the target displacement plus the
    /// addend stored in the patched bytes): the section's position in `bin.sections`.
    Segment(usize),
    /// An external (EXTDEF, COMDEF, …): the lowered relocation's symbol names it.
    External,
    /// A group, a frame number, or a target the module does not define: only the name the
    /// lowered relocation keeps (if any) says what it is.
    Other,
}

/// The 16 or 32 bits of a segment or COMDAT lowered as section `index` (format numbering):
/// a SEGDEF's USE32 bit; a COMDAT's allocation (`code32` 32, `far-code` 16) or else the
/// SEGDEF it is placed in. `None` when the section is neither.
pub fn section_bitness(omf: &OmfInfo, index: u32) -> Option<u32> {
    let use32 = |seg: u32| omf.segments.iter().find(|s| s.index == seg).map(|s| if s.use32 { 32 } else { 16 });
    if let Some(b) = use32(index) {
        return Some(b);
    }
    let c = omf.comdats.iter().find(|c| c.section == index)?;
    match c.attributes & 0xf {
        3 | 4 => Some(32),
        1 | 2 => Some(16),
        _ => c.base_segment.and_then(use32).or(Some(32)),
    }
}

/// The assembled bytes of section `index` (a SEGDEF or COMDAT), as the data records wrote them.
pub fn section_bytes(omf: &OmfInfo, index: u32) -> &[u8] {
    omf.section_bytes(index).unwrap_or_default()
}

/// Where `len` bytes at `offset` in section `index` lie in the file: inside the data of the
/// enumerated record (LEDATA, COMDAT) that wrote them. `None` for bytes an iterated record
/// (LIDATA) expanded, which no file range holds, or bytes no record wrote.
pub fn file_span(omf: &OmfInfo, index: u32, offset: u64, len: u64) -> Option<Span> {
    let chunks = match omf.segments.iter().find(|s| s.index == index) {
        Some(s) => &s.data,
        None => &omf.comdats.iter().find(|c| c.section == index)?.data,
    };
    // A later record may overwrite an earlier one: the last that covers the offset wrote it.
    let c = chunks.iter().rev().find(|c| c.offset <= offset && offset < c.offset.saturating_add(c.len))?;
    if c.iterated {
        return None;
    }
    let start = c.span.offset.checked_add(offset - c.offset)?;
    let len = len.min(c.offset.saturating_add(c.len) - offset);
    Some(Span::new(start, len))
}

/// What the fixup lowered as relocation `reloc` targets (`None` when `bin` is not OMF or there
/// is no such fixup).
pub fn fixup_target(bin: &Binary, section_pos: impl Fn(u32) -> Option<usize>, reloc: usize) -> Option<FixupTarget> {
    let f = bin.omf.as_ref()?.fixups.get(reloc)?;
    let r = bin.relocations.get(reloc)?;
    Some(match (f.reference.target_method & 3, f.reference.target_datum) {
        (0, Some(seg)) => match section_pos(seg) {
            Some(section) if r.normalized != RelocKind::SectionIndex => FixupTarget::Segment(section),
            _ => FixupTarget::Other,
        },
        (2, _) if r.symbol_index.is_some() => FixupTarget::External,
        _ => FixupTarget::Other,
    })
}

/// Whether relocation `r` of an OMF module stores a segment base (a paragraph or selector), not
/// an offset: `seg name` in the source.
pub fn is_segment_base(bin: &Binary, reloc: usize) -> bool {
    bin.omf.is_some() && bin.relocations.get(reloc).is_some_and(|r| r.normalized == RelocKind::SectionIndex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OmfDataChunk, OmfSegment};

    fn segment(index: u32, use32: bool, data: Vec<OmfDataChunk>) -> OmfSegment {
        OmfSegment {
            index,
            name: format!("s{index}"),
            class: "CODE".into(),
            overlay: String::new(),
            acbp: 0,
            alignment: "byte".into(),
            align: Some(1),
            combine: "public".into(),
            big: false,
            use32,
            length: 0x20,
            frame: None,
            frame_offset: None,
            group: None,
            record: 0,
            data,
            image: vec![0x90; 0x20],
        }
    }

    fn chunk(offset: u64, len: u64, iterated: bool, file: u64) -> OmfDataChunk {
        OmfDataChunk { record: 0, offset, len, iterated, span: Span::new(file, len) }
    }

    #[test]
    fn bitness_follows_each_segments_use32_bit() {
        let omf = OmfInfo { segments: vec![segment(1, false, vec![]), segment(2, true, vec![])], ..OmfInfo::default() };
        assert_eq!(section_bitness(&omf, 1), Some(16));
        assert_eq!(section_bitness(&omf, 2), Some(32));
        assert_eq!(section_bitness(&omf, 3), None);
    }

    #[test]
    fn file_spans_lie_in_enumerated_records_only() {
        let data = vec![chunk(0, 0x10, false, 0x100), chunk(0x10, 0x8, true, 0x200), chunk(0x18, 0x8, false, 0x300)];
        let omf = OmfInfo { segments: vec![segment(1, true, data)], ..OmfInfo::default() };
        assert_eq!(file_span(&omf, 1, 4, 2), Some(Span::new(0x104, 2)));
        assert_eq!(file_span(&omf, 1, 0xe, 5), Some(Span::new(0x10e, 2)), "cut at the record's end");
        assert_eq!(file_span(&omf, 1, 0x12, 2), None, "LIDATA bytes have no file range");
        assert_eq!(file_span(&omf, 1, 0x1a, 1), Some(Span::new(0x302, 1)));
        assert_eq!(file_span(&omf, 1, 0x20, 1), None);
        assert_eq!(file_span(&omf, 2, 0, 1), None);
    }
}
