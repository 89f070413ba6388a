//! SEGDEF (segment definitions with their ACBP attributes) and GRPDEF (groups of segments).

use super::names::{IndexKind, MAX_INDEX};
use super::record::Body;
use super::Module;
use crate::model::{OmfGroup, OmfSegment, Severity};

/// Alignment (the A field of ACBP) in words and bytes, as `dmpobj` names them.
pub fn alignment(a: u8) -> (&'static str, Option<u64>) {
    match a {
        0 => ("absolute", None),
        1 => ("byte", Some(1)),
        2 => ("word", Some(2)),
        3 => ("paragraph", Some(16)),
        4 => ("page", Some(256)),
        5 => ("dword", Some(4)),
        6 => ("4K page", Some(4096)),
        _ => ("invalid (7)", None),
    }
}

/// Combine type (the C field of ACBP) in words.
pub fn combine(c: u8) -> &'static str {
    match c {
        0 => "private",
        1 => "reserved (1)",
        2 => "public",
        3 => "reserved (3)",
        4 => "public (4)",
        5 => "stack",
        6 => "common",
        _ => "public (7)",
    }
}

/// SEGDEF: one logical segment.
pub fn segdef(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let index = m.omf.segments.len() as u32 + 1;
    let acbp = b.u8_with(
        "ACBP",
        "Segment attributes: A (alignment, bits 7–5), C (combine, bits 4–2), B (big: exactly 64 KiB / 4 GiB, bit 1), P (USE32, bit 0).",
        |v| {
            let (al, _) = alignment(v >> 5);
            format!(
                "0x{v:02x}: A={} {al}, C={} {}, B={}, P={} ({})",
                v >> 5,
                (v >> 2) & 7,
                combine((v >> 2) & 7),
                (v >> 1) & 1,
                v & 1,
                if v & 1 == 1 { "USE32" } else { "USE16" }
            )
        },
    )?;
    let a = acbp >> 5;
    let big = acbp & 2 != 0;
    let use32 = acbp & 1 != 0;
    let (align_name, align) = alignment(a);
    if a == 7 {
        let msg = format!("{}: alignment value 7 is not defined", m.here());
        m.diag(Severity::Warning, b.pos, msg);
    }
    let (mut frame, mut frame_offset) = (None, None);
    if a == 0 {
        frame = Some(
            b.uint("Frame number", 2, "Absolute segment: the paragraph number (address / 16) it lives at.")? as u16
        );
        let w = if m.easy_omf { 4 } else { 1 };
        frame_offset =
            Some(b.uint("Offset", w, "Absolute segment: offset within the frame (ignored by Microsoft LINK).")? as u32);
    }
    let w = m.off_width(t);
    let stored = b.uint_with(
        "Segment length",
        w,
        "Length of the segment in bytes (with the B bit: 0 here means 64 KiB or 4 GiB).",
        |v| format!("0x{v:x}"),
    )?;
    let length = if big {
        if stored != 0 {
            let msg = format!("{}: B bit set but the length field is 0x{stored:x} instead of 0", m.here());
            m.diag(Severity::Warning, b.pos, msg);
        }
        b.note(if w == 4 { " (B: 4 GiB)" } else { " (B: 64 KiB)" });
        if w == 4 {
            1u64 << 32
        } else {
            1u64 << 16
        }
    } else {
        stored
    };
    let (_, name) =
        m.read_index(b, "Segment name index", "LNAMES index of the segment name.", IndexKind::Name, false)?;
    let (_, class) = m.read_index(
        b,
        "Class name index",
        "LNAMES index of the class name (CODE, DATA, BSS, STACK, …) that orders segments in the image.",
        IndexKind::Name,
        true,
    )?;
    let (_, overlay) = m.read_index(
        b,
        "Overlay name index",
        "LNAMES index of the overlay name; ignored by modern linkers.",
        IndexKind::Name,
        true,
    )?;
    if m.easy_omf && !b.done() {
        b.u8_with("Access", "Phar Lap Easy OMF access byte: bits 0–1 protection, bit 2 USE32.", |v| {
            format!("0x{v:02x}")
        })?;
    }
    let name = name.unwrap_or_else(|| format!("#{index}"));
    let class = class.unwrap_or_default();
    let capped = m.at_cap("segments", m.omf.segments.len(), MAX_INDEX, b.pos);
    let summary = format!(
        "#{index} {name} class {} {align_name} {} {}{} length 0x{length:x}{}",
        if class.is_empty() { "\"\"" } else { &class },
        combine((acbp >> 2) & 7),
        if use32 { "USE32" } else { "USE16" },
        if big { " big" } else { "" },
        frame.map_or(String::new(), |f| format!(" at frame 0x{f:04x}"))
    );
    if capped {
        return Some(summary);
    }
    m.omf.segments.push(OmfSegment {
        index,
        name,
        class,
        overlay: overlay.unwrap_or_default(),
        acbp,
        alignment: align_name.to_string(),
        align,
        combine: combine((acbp >> 2) & 7).to_string(),
        big,
        use32,
        length,
        frame,
        frame_offset,
        group: None,
        record: m.rec,
        data: Vec::new(),
        image: Vec::new(),
    });
    Some(summary)
}

/// GRPDEF: a group of segments addressed through one frame (DGROUP, FLAT).
pub fn grpdef(m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    let index = m.omf.groups.len() as u32 + 1;
    let (_, name) = m.read_index(b, "Group name index", "LNAMES index of the group name.", IndexKind::Name, false)?;
    let name = name.unwrap_or_else(|| format!("#{index}"));
    let mut segs = Vec::new();
    let mut shown = Vec::new();
    while !b.done() {
        let kind = b.u8_with(
            "Component type",
            "0xFF: a segment index follows (the only type TIS OMF defines).",
            |v| match v {
                0xff => "0xff (segment)".into(),
                0xfe => "0xfe (external, Intel)".into(),
                0xfd => "0xfd (segment/class/overlay names, Intel)".into(),
                0xfb => "0xfb (LTL data, Intel)".into(),
                0xfa => "0xfa (absolute frame and offset, Intel)".into(),
                _ => format!("0x{v:02x} (invalid)"),
            },
        )?;
        match kind {
            0xff => {
                let (idx, n) =
                    m.read_index(b, "Segment index", "SEGDEF index of a member segment.", IndexKind::Segment, false)?;
                if idx != 0 {
                    segs.push(u32::from(idx));
                    if let Some(s) = m.omf.segments.get_mut(usize::from(idx) - 1) {
                        if s.group.is_none() {
                            s.group = Some(index);
                        }
                    }
                }
                shown.push(n.unwrap_or_else(|| format!("#{idx}")));
            }
            0xfe => {
                let (idx, _) = m.read_index(
                    b,
                    "External index",
                    "Intel OMF-86: an external whose segment joins the group.",
                    IndexKind::External,
                    false,
                )?;
                shown.push(format!("ext #{idx}"));
            }
            0xfd => {
                m.read_index(
                    b,
                    "Segment name index",
                    "Intel OMF-86: LNAMES index of the segment name.",
                    IndexKind::Name,
                    true,
                )?;
                m.read_index(
                    b,
                    "Class name index",
                    "Intel OMF-86: LNAMES index of the class name.",
                    IndexKind::Name,
                    true,
                )?;
                m.read_index(
                    b,
                    "Overlay name index",
                    "Intel OMF-86: LNAMES index of the overlay name.",
                    IndexKind::Name,
                    true,
                )?;
                shown.push("(by name)".into());
            }
            0xfb => {
                b.raw("LTL data", 5, "Intel OMF-86: load-time-locatable group data.")?;
            }
            0xfa => {
                b.raw("Frame and offset", 3, "Intel OMF-86: absolute frame number and offset.")?;
            }
            other => {
                let msg = format!(
                    "{}: group component type 0x{other:02x} is not defined; the rest of the record is not read",
                    m.here()
                );
                m.diag(Severity::Error, b.pos, msg);
                b.rest("Unread components", "Components after an invalid component type.");
                break;
            }
        }
    }
    let summary =
        format!("#{index} {name}: {}", if shown.is_empty() { "no segments".to_string() } else { shown.join(" ") });
    if m.at_cap("groups", m.omf.groups.len(), MAX_INDEX, b.pos) {
        return Some(summary);
    }
    m.omf.groups.push(OmfGroup { index, name, segments: segs, record: m.rec });
    Some(summary)
}
