//! OMF record framing: record type names, the `type / length / body / checksum` envelope with
//! checksum verification, and a bounds-checked body cursor that records every field it reads
//! with its byte range and an explanation.

use crate::formats::bytes::{text, u16_at, u8_at};
use crate::model::{Field, Span};

/// The name of a record type, or None for a type OMF does not define.
pub fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0x6e => "RHEADR",
        0x70 => "REGINT",
        0x72 => "REDATA",
        0x74 => "RIDATA",
        0x76 => "OVLDEF",
        0x78 => "ENDREC",
        0x7a => "BLKDEF",
        0x7c => "BLKEND",
        0x7e => "DEBSYM",
        0x80 => "THEADR",
        0x82 => "LHEADR",
        0x84 => "PEDATA",
        0x86 => "PIDATA",
        0x88 => "COMENT",
        0x8a | 0x8b => "MODEND",
        0x8c => "EXTDEF",
        0x8e => "TYPDEF",
        0x90 | 0x91 => "PUBDEF",
        0x92 | 0x93 => "LOCSYM",
        0x94 | 0x95 => "LINNUM",
        0x96 => "LNAMES",
        0x98 | 0x99 => "SEGDEF",
        0x9a => "GRPDEF",
        0x9c | 0x9d => "FIXUPP",
        0xa0 | 0xa1 => "LEDATA",
        0xa2 | 0xa3 => "LIDATA",
        0xa4 => "LIBHED",
        0xa6 => "LIBNAM",
        0xa8 => "LIBLOC",
        0xaa => "LIBDIC",
        0xb0 => "COMDEF",
        0xb2 | 0xb3 => "BAKPAT",
        0xb4 | 0xb5 => "LEXTDEF",
        0xb6 | 0xb7 => "LPUBDEF",
        0xb8 => "LCOMDEF",
        0xbc => "CEXTDEF",
        0xc2 | 0xc3 => "COMDAT",
        0xc4 | 0xc5 => "LINSYM",
        0xc6 => "ALIAS",
        0xc8 | 0xc9 => "NBKPAT",
        0xca => "LLNAMES",
        0xcc => "VERNUM",
        0xce => "VENDEXT",
        0xf0 => "LIBHDR",
        0xf1 => "LIBEND",
        _ => return None,
    })
}

/// The display name of a record type: `FIXUPP`, `FIXUPP32`, or `unknown (0x..)`.
pub fn display_name(t: u8) -> String {
    match type_name(t) {
        Some(n) if t & 1 == 1 && t < 0xf0 => format!("{n}32"),
        Some(n) => n.to_string(),
        None => format!("unknown (0x{t:02x})"),
    }
}

/// What the record type byte means, for the field help.
pub const HELP_TYPE: &str = "Record type. Odd types are the 32-bit variants whose offset fields are 4 bytes wide.";
/// Help text of the record length field.
pub const HELP_LENGTH: &str = "Number of bytes that follow: the record body plus the checksum byte.";
/// Help text of the checksum field.
pub const HELP_CHECKSUM: &str =
    "Makes all bytes of the record sum to 0 modulo 256. A checksum byte of 0 means \"not computed\" and is accepted.";

/// Checksum verification result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// All bytes sum to zero.
    Ok,
    /// The checksum byte is 0 (not computed).
    Zero,
    /// Wrong checksum: the stored byte and the one that would be correct.
    Bad {
        /// Stored byte.
        stored: u8,
        /// Correct byte.
        expected: u8,
    },
    /// No checksum byte (length 0 or record cut off by the end of the data).
    Missing,
}

impl Checksum {
    /// The JSON / table word.
    pub fn word(self) -> &'static str {
        match self {
            Checksum::Ok => "ok",
            Checksum::Zero => "zero",
            Checksum::Bad { .. } => "bad",
            Checksum::Missing => "missing",
        }
    }
}

/// One record's envelope.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Offset of the type byte.
    pub offset: u64,
    /// Record type.
    pub rtype: u8,
    /// Length field.
    pub length: u16,
    /// First body byte.
    pub body_start: u64,
    /// One past the last body byte (the checksum byte is not part of the body).
    pub body_end: u64,
    /// Checksum status.
    pub checksum: Checksum,
    /// Offset of the next record (clamped to the data).
    pub end: u64,
    /// Whether the data ends before the record does.
    pub truncated: bool,
}

impl Frame {
    /// Span of the whole record as present in the data.
    pub fn span(&self) -> Span {
        Span::new(self.offset, self.end.saturating_sub(self.offset))
    }
}

/// Read the record envelope at `off`; None if fewer than 3 bytes remain.
pub fn read_frame(data: &[u8], off: u64) -> Option<Frame> {
    let rtype = u8_at(data, off)?;
    let length = u16_at(data, off.checked_add(1)?)?;
    let len = data.len() as u64;
    let body_start = off + 3;
    if length == 0 {
        return Some(Frame {
            offset: off,
            rtype,
            length,
            body_start,
            body_end: body_start,
            checksum: Checksum::Missing,
            end: body_start,
            truncated: false,
        });
    }
    let end = body_start + u64::from(length);
    if end > len {
        return Some(Frame {
            offset: off,
            rtype,
            length,
            body_start,
            body_end: len,
            checksum: Checksum::Missing,
            end: len,
            truncated: true,
        });
    }
    let bytes = data.get(off as usize..end as usize)?;
    let stored = *bytes.last()?;
    let sum = bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    let checksum = if sum == 0 {
        Checksum::Ok
    } else if stored == 0 {
        Checksum::Zero
    } else {
        let without = sum.wrapping_sub(stored);
        Checksum::Bad { stored, expected: 0u8.wrapping_sub(without) }
    };
    Some(Frame { offset: off, rtype, length, body_start, body_end: end - 1, checksum, end, truncated: false })
}

/// A cursor over a record body that appends a [`Field`] for everything it reads.
pub struct Body<'a> {
    data: &'a [u8],
    /// Absolute offset of the next byte.
    pub pos: u64,
    /// One past the last body byte.
    pub end: u64,
    /// The fields read so far.
    pub fields: Vec<Field>,
    /// The field the body ran out in, if it did.
    pub short: Option<String>,
}

impl<'a> Body<'a> {
    /// A cursor over `data[start..end]`.
    pub fn new(data: &'a [u8], start: u64, end: u64) -> Self {
        Body { data, pos: start, end: end.min(data.len() as u64).max(start), fields: Vec::new(), short: None }
    }

    /// Bytes left in the body.
    pub fn left(&self) -> u64 {
        self.end.saturating_sub(self.pos)
    }

    /// Whether the body is consumed.
    pub fn done(&self) -> bool {
        self.pos >= self.end
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        if self.done() {
            None
        } else {
            u8_at(self.data, self.pos)
        }
    }

    fn take(&mut self, name: &str, n: u64) -> Option<u64> {
        if self.left() < n {
            if self.short.is_none() {
                self.short = Some(name.to_string());
            }
            self.pos = self.end;
            return None;
        }
        let at = self.pos;
        self.pos += n;
        Some(at)
    }

    /// Append a field.
    pub fn push(&mut self, name: &str, value: Option<u64>, display: String, off: u64, len: u64, help: &'static str) {
        self.fields.push(Field { name: name.to_string(), value, display, span: Span::new(off, len), help });
    }

    /// Append text to the display of the last field.
    pub fn note(&mut self, s: &str) {
        if let Some(f) = self.fields.last_mut() {
            f.display.push_str(s);
        }
    }

    /// Read an unsigned little-endian integer of `width` bytes (1, 2 or 4) rendered by `render`.
    pub fn uint_with(
        &mut self,
        name: &str,
        width: u32,
        help: &'static str,
        render: impl FnOnce(u64) -> String,
    ) -> Option<u64> {
        let at = self.take(name, u64::from(width))?;
        let v = crate::formats::bytes::uint_at(self.data, at, width)?;
        self.push(name, Some(v), render(v), at, u64::from(width), help);
        Some(v)
    }

    /// Read an unsigned integer shown in hex.
    pub fn uint(&mut self, name: &str, width: u32, help: &'static str) -> Option<u64> {
        self.uint_with(name, width, help, |v| format!("0x{v:x}"))
    }

    /// Read a byte rendered by `render`.
    pub fn u8_with(&mut self, name: &str, help: &'static str, render: impl FnOnce(u8) -> String) -> Option<u8> {
        self.uint_with(name, 1, help, |v| render(v as u8)).map(|v| v as u8)
    }

    /// Read an OMF index: 1 byte, or 2 when the high bit of the first is set (`(b0 & 0x7f) << 8 | b1`).
    pub fn index(&mut self, name: &str, help: &'static str) -> Option<u16> {
        let Some(first) = self.peek() else {
            self.take(name, 1);
            return None;
        };
        let width = if first & 0x80 != 0 { 2 } else { 1 };
        let at = self.take(name, width)?;
        let v = if width == 2 {
            (u16::from(first & 0x7f) << 8) | u16::from(u8_at(self.data, at + 1)?)
        } else {
            u16::from(first)
        };
        let display = if width == 2 { format!("{v} (2-byte index)") } else { v.to_string() };
        self.push(name, Some(u64::from(v)), display, at, width, help);
        Some(v)
    }

    /// Read a length-prefixed name.
    pub fn name(&mut self, name: &str, help: &'static str) -> Option<String> {
        let Some(n) = self.peek() else {
            self.take(name, 1);
            return None;
        };
        let n = u64::from(n);
        let start = self.take(name, 1 + n)?;
        let bytes = crate::formats::bytes::slice_at(self.data, start + 1, n)?;
        let s = text(bytes);
        self.push(name, Some(n), format!("\"{s}\""), start, 1 + n, help);
        Some(s)
    }

    /// Read `len` raw bytes, shown as a hex preview.
    pub fn raw(&mut self, name: &str, len: u64, help: &'static str) -> Option<&'a [u8]> {
        let at = self.take(name, len)?;
        let bytes = crate::formats::bytes::slice_at(self.data, at, len)?;
        self.push(name, None, hex_preview(bytes), at, len, help);
        Some(bytes)
    }

    /// Read the rest of the body as raw bytes (nothing if it is empty).
    pub fn rest(&mut self, name: &str, help: &'static str) -> &'a [u8] {
        let n = self.left();
        if n == 0 {
            return &[];
        }
        self.raw(name, n, help).unwrap_or(&[])
    }

    /// Read the rest of the body as text.
    pub fn rest_text(&mut self, name: &str, help: &'static str) -> String {
        let n = self.left();
        let Some(at) = self.take(name, n) else {
            return String::new();
        };
        let bytes = crate::formats::bytes::slice_at(self.data, at, n).unwrap_or(&[]);
        let s = text(bytes);
        self.push(name, None, format!("\"{s}\""), at, n, help);
        s
    }

    /// Read a COMDEF variable-length number: one byte up to 0x80, or 0x81 + u16, 0x84 + u24,
    /// 0x88 + u32.
    pub fn comdef_number(&mut self, name: &str, help: &'static str) -> Option<u64> {
        let Some(first) = self.peek() else {
            self.take(name, 1);
            return None;
        };
        let (width, extra) = match first {
            0..=0x80 => (1u64, 0u64),
            0x81 => (3, 2),
            0x84 => (4, 3),
            0x88 => (5, 4),
            _ => {
                let at = self.take(name, 1)?;
                self.push(name, Some(u64::from(first)), format!("0x{first:02x} (invalid length prefix)"), at, 1, help);
                return None;
            }
        };
        let at = self.take(name, width)?;
        let v = if extra == 0 {
            u64::from(first)
        } else {
            let mut v = 0u64;
            for i in 0..extra {
                v |= u64::from(u8_at(self.data, at + 1 + i)?) << (8 * i);
            }
            v
        };
        self.push(name, Some(v), format!("{v} (0x{v:x})"), at, width, help);
        Some(v)
    }
}

/// Hex of the first bytes, with the total length when longer.
pub fn hex_preview(b: &[u8]) -> String {
    const MAX: usize = 24;
    let mut s: Vec<String> = b.iter().take(MAX).map(|x| format!("{x:02x}")).collect();
    if b.len() > MAX {
        s.push(format!("… ({} bytes)", b.len()));
    }
    s.join(" ")
}
