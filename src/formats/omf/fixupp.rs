//! FIXUPP: THREAD subrecords (frames and targets remembered across records) and FIXUP
//! subrecords (Locat, Fix Data, frame and target datums, displacement), each explained in words.
//!
//! Bit layouts (TIS OMF 1.1, as Open Watcom's `dmpobj` reads them):
//! * THREAD: `0 D 0 Method(3) Thred(2)`; D=1 frame thread.
//! * Locat (two bytes, first byte high): `1 M Location(4) DataRecordOffset(10)`; M=1 segment-relative.
//! * Fix Data: `F Frame(3) T P Targt(2)`; F / T: frame / target from a thread; P=1: no displacement.

use super::names::IndexKind;
use super::record::Body;
use super::{Module, Owner, ThreadDef, MAX_FIXUPS};
use crate::model::{OmfFixup, OmfReference, OmfThread, Severity, Span};

/// Location type in words, or None for an undefined value.
pub fn location_name(loc: u8) -> Option<&'static str> {
    Some(match loc {
        0 => "low byte",
        1 => "16-bit offset",
        2 => "16-bit segment base",
        3 => "16:16 far pointer",
        4 => "high byte",
        5 => "16-bit loader-resolved offset",
        9 => "32-bit offset",
        11 => "16:32 far pointer",
        13 => "32-bit loader-resolved offset",
        _ => return None,
    })
}

/// `dmpobj`'s short name for a location type (used as the relocation kind).
pub fn location_kind(loc: u8) -> &'static str {
    match loc {
        0 => "LOBYTE",
        1 => "OFFSET",
        2 => "BASE",
        3 => "POINTER",
        4 => "HIBYTE",
        5 => "LROFFSET",
        9 => "OFFSET386",
        11 => "POINTER386",
        13 => "LROFFSET386",
        _ => "INVALID",
    }
}

fn frame_method_word(method: u8) -> &'static str {
    match method {
        0 => "F0 SEGDEF",
        1 => "F1 GRPDEF",
        2 => "F2 EXTDEF",
        3 => "F3 frame number",
        4 => "F4 location",
        5 => "F5 target",
        6 => "F6 none",
        _ => "F7 invalid",
    }
}

fn target_method_word(method: u8) -> &'static str {
    match method {
        0 => "T0 SEGDEF",
        1 => "T1 GRPDEF",
        2 => "T2 EXTDEF",
        3 => "T3 frame number",
        4 => "T4 SEGDEF, no displacement",
        5 => "T5 GRPDEF, no displacement",
        6 => "T6 EXTDEF, no displacement",
        _ => "T7 frame number, no displacement",
    }
}

impl Module<'_> {
    /// Read a frame datum for `method` (F0–F3 carry one).
    fn frame_datum(&mut self, b: &mut Body<'_>, method: u8, field: &str) -> Option<Option<u32>> {
        Some(match method {
            0 => Some(u32::from(self.read_index(b, field, "SEGDEF index of the frame.", IndexKind::Segment, false)?.0)),
            1 => Some(u32::from(self.read_index(b, field, "GRPDEF index of the frame.", IndexKind::Group, false)?.0)),
            2 => Some(u32::from(
                self.read_index(b, field, "External index whose frame is used.", IndexKind::External, false)?.0,
            )),
            3 => Some(b.uint(field, 2, "Frame number (paragraph).")? as u32),
            _ => None,
        })
    }

    /// Read a target datum for `method` (low two bits: T0–T3).
    fn target_datum(&mut self, b: &mut Body<'_>, method: u8, field: &str) -> Option<Option<u32>> {
        Some(match method & 3 {
            0 => {
                Some(u32::from(self.read_index(b, field, "SEGDEF index of the target.", IndexKind::Segment, false)?.0))
            }
            1 => Some(u32::from(self.read_index(b, field, "GRPDEF index of the target.", IndexKind::Group, false)?.0)),
            2 => Some(u32::from(
                self.read_index(b, field, "External index of the target symbol.", IndexKind::External, false)?.0,
            )),
            _ => Some(b.uint(field, 2, "Frame number (paragraph) of the target.")? as u32),
        })
    }

    /// A frame in words.
    pub fn frame_words(&self, method: u8, datum: Option<u32>) -> String {
        let d = datum.unwrap_or(0) as u16;
        match method {
            0 => format!("segment `{}`", self.lookup(IndexKind::Segment, d).unwrap_or("?")),
            1 => format!("group {}", self.lookup(IndexKind::Group, d).unwrap_or("?")),
            2 => format!("frame of {}", self.describe(IndexKind::External, d)),
            3 => format!("frame number 0x{d:04x}"),
            4 => "location (the segment being patched)".into(),
            5 => "target".into(),
            6 => "none (F6: location and target within 32K)".into(),
            _ => "invalid".into(),
        }
    }

    /// A target in words, and its name.
    pub fn target_words(&self, method: u8, datum: Option<u32>) -> (String, Option<String>) {
        let d = datum.unwrap_or(0) as u16;
        match method & 3 {
            0 => (self.describe(IndexKind::Segment, d), self.lookup(IndexKind::Segment, d).map(str::to_string)),
            1 => (self.describe(IndexKind::Group, d), self.lookup(IndexKind::Group, d).map(str::to_string)),
            2 => (self.describe(IndexKind::External, d), self.lookup(IndexKind::External, d).map(str::to_string)),
            _ => (format!("frame number 0x{d:04x}"), None),
        }
    }

    /// Read the frame datum, target datum and displacement that follow a Fix Data byte `fd`
    /// (FIXUP subrecords and MODEND), resolving threads.
    pub fn read_reference(&mut self, b: &mut Body<'_>, fd: u8, disp_width: u32) -> Option<OmfReference> {
        let at = b.pos;
        let mut r = OmfReference::default();
        if fd & 0x80 != 0 {
            let n = (fd >> 4) & 3;
            r.frame_thread = Some(n);
            match self.frame_threads[usize::from(n)] {
                Some(t) => {
                    r.frame_method = t.method;
                    r.frame_datum = t.datum;
                }
                None => {
                    r.frame_method = 5;
                    let msg = format!(
                        "{}: the fixup uses frame thread {n}, which no THREAD subrecord has defined",
                        self.here()
                    );
                    self.diag(Severity::Error, at, msg);
                }
            }
        } else {
            r.frame_method = (fd >> 4) & 7;
            if r.frame_method == 7 {
                let msg = format!(
                    "{}: frame method F{} is not valid; the rest of the record is not read",
                    self.here(),
                    r.frame_method
                );
                self.diag(Severity::Error, at, msg);
                return None;
            }
            r.frame_datum = self.frame_datum(b, r.frame_method, "Frame datum")?;
        }
        let p = (fd >> 2) & 1;
        if fd & 0x08 != 0 {
            let n = fd & 3;
            r.target_thread = Some(n);
            match self.target_threads[usize::from(n)] {
                Some(t) => {
                    r.target_method = (t.method & 3) | (p << 2);
                    r.target_datum = t.datum;
                }
                None => {
                    r.target_method = p << 2;
                    let msg = format!(
                        "{}: the fixup uses target thread {n}, which no THREAD subrecord has defined",
                        self.here()
                    );
                    self.diag(Severity::Error, at, msg);
                }
            }
        } else {
            r.target_method = (fd & 3) | (p << 2);
            r.target_datum = self.target_datum(b, r.target_method, "Target datum")?;
        }
        if p == 0 {
            r.displacement =
                Some(b.uint("Target displacement", disp_width, "Added to the target address (present when P = 0).")?
                    as u32);
        }
        r.frame = self.frame_words(r.frame_method, r.frame_datum);
        if let Some(n) = r.frame_thread {
            r.frame.push_str(&format!(" (frame thread {n})"));
        }
        let (t, name) = self.target_words(r.target_method, r.target_datum);
        r.target = t;
        r.target_name = name;
        Some(r)
    }
}

/// A fixup in words: "32-bit offset of EXTDEF `_printf`, frame: group FLAT". `stored` is the
/// addend already in the data (added to the displacement); `symbol` names the public at the
/// target offset, when there is one.
pub fn describe(seg_rel: bool, loc: u8, r: &OmfReference, stored: i64, symbol: Option<&str>, iterated: bool) -> String {
    let mut d = format!(
        "{}{} of {}",
        if seg_rel { "" } else { "self-relative " },
        location_name(loc).unwrap_or("invalid location"),
        r.target
    );
    let total = i64::from(r.displacement.unwrap_or(0)).saturating_add(stored);
    if total > 0 {
        d.push_str(&format!(" + 0x{total:x}"));
    } else if total < 0 {
        d.push_str(&format!(" - 0x{:x}", total.unsigned_abs()));
    }
    if let Some(s) = symbol {
        d.push_str(&format!(" (`{s}`)"));
    }
    if let Some(n) = r.target_thread {
        d.push_str(&format!(" (target thread {n})"));
    }
    d.push_str(", frame: ");
    d.push_str(&r.frame);
    if stored != 0 {
        d.push_str(&format!("; {stored:#x} of that is stored at the location"));
    }
    if iterated {
        d.push_str(" (in iterated data: applies to every copy)");
    }
    d
}

fn fix_data_display(fd: u8) -> String {
    let frame = if fd & 0x80 != 0 {
        format!("frame thread {}", (fd >> 4) & 3)
    } else {
        format!("frame {}", frame_method_word((fd >> 4) & 7))
    };
    let p = (fd >> 2) & 1;
    let target = if fd & 0x08 != 0 {
        format!("target thread {}{}", fd & 3, if p == 1 { ", no displacement" } else { "" })
    } else {
        format!("target {}", target_method_word((fd & 3) | (p << 2)))
    };
    format!("0x{fd:02x}: F={} {frame}; T={} P={p} {target}", fd >> 7, (fd >> 3) & 1)
}

const HELP_THREAD: &str = "THREAD subrecord `0 D 0 Method(3) Thred(2)`: remembers a frame (D=1) or target (D=0) under a number 0–3 for later fixups, across FIXUPP records.";
const HELP_LOCAT: &str = "Locat, first byte high: `1 M Location(4) DataRecordOffset(10)`. M=1 segment-relative, M=0 self-relative; the offset is within the preceding LEDATA/LIDATA/COMDAT data.";
const HELP_FIXDAT: &str = "Fix Data `F Frame(3) T P Targt(2)`: F=1 / T=1 take the frame / target from a thread; P=1 means there is no target displacement field.";

/// FIXUPP: threads and fixups for the preceding data record.
pub fn fixupp(m: &mut Module<'_>, b: &mut Body<'_>, t: u8) -> Option<String> {
    let disp_width = m.off_width(t);
    let (mut nfix, mut nthread) = (0usize, 0usize);
    if m.last_data.is_none() && b.peek().is_some_and(|x| x & 0x80 != 0) {
        let msg = format!("{}: fixups before any LEDATA, LIDATA or COMDAT record have nothing to patch", m.here());
        m.diag(Severity::Error, b.pos, msg);
    }
    while let Some(first) = b.peek() {
        let start = b.pos;
        if first & 0x80 == 0 {
            let is_frame = first & 0x40 != 0;
            let method = (first >> 2) & 7;
            let number = first & 3;
            b.u8_with("Thread", HELP_THREAD, |v| {
                format!(
                    "0x{v:02x}: {} thread {number}, method {}",
                    if is_frame { "frame" } else { "target" },
                    if is_frame { frame_method_word(method) } else { target_method_word(method & 3) }
                )
            })?;
            if first & 0x20 != 0 {
                let msg = format!("{}: THREAD subrecord at 0x{start:x} has bit 5 set (it must be 0)", m.here());
                m.diag(Severity::Warning, start, msg);
            }
            if is_frame && method == 7 {
                let msg = format!(
                    "{}: frame thread method F{method} is not valid; the rest of the record is not read",
                    m.here()
                );
                m.diag(Severity::Error, start, msg);
                return None;
            }
            let datum = if is_frame {
                m.frame_datum(b, method, "Thread datum")?
            } else {
                m.target_datum(b, method, "Thread datum")?
            };
            let description = if is_frame {
                format!("frame thread {number} = {}", m.frame_words(method, datum))
            } else {
                format!("target thread {number} = {}", m.target_words(method, datum).0)
            };
            let def = ThreadDef { method: if is_frame { method } else { method & 3 }, datum };
            if is_frame {
                m.frame_threads[usize::from(number)] = Some(def);
            } else {
                m.target_threads[usize::from(number)] = Some(def);
            }
            if m.at_cap("threads", m.omf.threads.len(), MAX_FIXUPS, start) {
                continue;
            }
            m.omf.threads.push(OmfThread {
                record: m.rec,
                span: Span::new(start, b.pos - start),
                frame: is_frame,
                number,
                method: def.method,
                datum,
                description,
            });
            nthread += 1;
            continue;
        }
        let locat = b.uint_with("Locat", 2, HELP_LOCAT, |_| String::new())?;
        let locat = ((locat & 0xff) << 8 | locat >> 8) as u16;
        let seg_rel = locat & 0x4000 != 0;
        let loc = ((locat >> 10) & 0xf) as u8;
        let dro = locat & 0x3ff;
        let loc_name = location_name(loc);
        if let Some(f) = b.fields.last_mut() {
            f.value = Some(u64::from(locat));
            f.display = format!(
                "0x{locat:04x}: M={} ({}), location {loc} ({}), data offset 0x{dro:03x}",
                u8::from(seg_rel),
                if seg_rel { "segment-relative" } else { "self-relative" },
                loc_name.unwrap_or("invalid")
            );
        }
        if loc_name.is_none() {
            let msg = format!("{}: fixup at 0x{start:x} has undefined location type {loc}", m.here());
            m.diag(Severity::Warning, start, msg);
        }
        let fd = b.u8_with("Fix data", HELP_FIXDAT, fix_data_display)?;
        let reference = m.read_reference(b, fd, disp_width)?;
        let span = Span::new(start, b.pos - start);
        // Place the location in the patched segment or COMDAT.
        let ctx = m.last_data.clone();
        let width = crate::model::omf_location_width(loc);
        let (mut segment, mut comdat, mut offset) = (None, None, None);
        if let Some(ctx) = &ctx {
            match ctx.owner {
                Owner::Segment(s) => segment = Some(s),
                Owner::Comdat(c) => comdat = Some(c as u32),
                Owner::None => {}
            }
            let d = u64::from(dro);
            match &ctx.leaves {
                None => {
                    if d + width > ctx.len {
                        let msg = format!(
                            "{}: fixup at 0x{start:x} patches {width} byte(s) at data offset 0x{d:x}, past the {} data byte(s) of the {} record at its left",
                            m.here(),
                            ctx.len,
                            super::record::display_name(ctx.rtype)
                        );
                        m.diag(Severity::Warning, start, msg);
                    }
                    offset = Some(ctx.base + d);
                }
                Some(leaves) => match leaves.iter().find(|l| d >= l.rel && d < l.rel + l.len) {
                    Some(l) => offset = l.out.map(|o| o + (d - l.rel)),
                    None => {
                        let msg = format!(
                            "{}: fixup at 0x{start:x} points at iterated-data offset 0x{d:x}, which is not inside a data leaf",
                            m.here()
                        );
                        m.diag(Severity::Warning, start, msg);
                    }
                },
            }
        }
        if m.at_cap("fixups", m.omf.fixups.len(), MAX_FIXUPS, start) {
            continue;
        }
        let iterated = ctx.as_ref().is_some_and(|c| c.leaves.is_some());
        let description = describe(seg_rel, loc, &reference, 0, None, iterated);
        m.omf.fixups.push(OmfFixup {
            record: m.rec,
            span,
            locat,
            fix_data: fd,
            segment_relative: seg_rel,
            location: loc,
            location_name: loc_name.unwrap_or("invalid").to_string(),
            data_offset: dro,
            data_record: ctx.as_ref().map(|c| c.record),
            segment,
            comdat,
            section: None,
            offset,
            reference,
            description,
        });
        nfix += 1;
    }
    let target = m.last_data.as_ref().map_or_else(String::new, |c| {
        let owner = m.owner_name(c.owner);
        format!(" for {} at 0x{:x}", owner, c.base)
    });
    Some(match (nfix, nthread) {
        (f, 0) => format!("{f} fixup(s){target}"),
        (0, t) => format!("{t} thread(s)"),
        (f, t) => format!("{f} fixup(s), {t} thread(s){target}"),
    })
}
