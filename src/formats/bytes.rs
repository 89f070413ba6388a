//! Bounds-checked little-endian reads over a byte slice, and a builder for header field tables.

use crate::model::{Field, HeaderGroup, Span};

/// Read a `u8` at `off`.
pub fn u8_at(d: &[u8], off: u64) -> Option<u8> {
    d.get(usize::try_from(off).ok()?).copied()
}

/// Read `N` bytes at `off`.
pub fn array_at<const N: usize>(d: &[u8], off: u64) -> Option<[u8; N]> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(N)?;
    d.get(start..end)?.try_into().ok()
}

/// Read a little-endian `u16` at `off`.
pub fn u16_at(d: &[u8], off: u64) -> Option<u16> {
    array_at::<2>(d, off).map(u16::from_le_bytes)
}

/// Read a little-endian `u32` at `off`.
pub fn u32_at(d: &[u8], off: u64) -> Option<u32> {
    array_at::<4>(d, off).map(u32::from_le_bytes)
}

/// Read a little-endian `u64` at `off`.
pub fn u64_at(d: &[u8], off: u64) -> Option<u64> {
    array_at::<8>(d, off).map(u64::from_le_bytes)
}

/// Read a little-endian unsigned integer of `width` bytes (1, 2, 4 or 8).
pub fn uint_at(d: &[u8], off: u64, width: u32) -> Option<u64> {
    match width {
        1 => u8_at(d, off).map(u64::from),
        2 => u16_at(d, off).map(u64::from),
        4 => u32_at(d, off).map(u64::from),
        8 => u64_at(d, off),
        _ => None,
    }
}

/// Sign-extend the low `bits` bits of `v`.
pub fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits == 0 || bits >= 64 {
        return v as i64;
    }
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// A slice of `len` bytes at `off`.
pub fn slice_at(d: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    d.get(start..end)
}

/// The bytes from `off` up to (not including) the first NUL, at most `max` bytes; None if `off`
/// is outside the data or no NUL is found within `max` bytes and the data.
pub fn cstr_at(d: &[u8], off: u64, max: usize) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let rest = d.get(start..)?;
    let rest = &rest[..rest.len().min(max)];
    let end = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..end])
}

/// Lossy UTF-8 text of a byte string, with control characters escaped.
pub fn text(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    // C0 controls (ESC among them) are escaped so names are safe to print on a terminal.
    let unsafe_char = |c: char| (c as u32) < 0x20;
    if s.chars().any(unsafe_char) {
        s.chars().map(|c| if unsafe_char(c) { format!("\\x{:02x}", c as u32) } else { c.to_string() }).collect()
    } else {
        s.into_owned()
    }
}

/// A flags value in hex (`digits` wide) followed by its decoded names, `0x0226 (A | B)`.
pub fn flags_display(v: u64, digits: usize, names: &[String]) -> String {
    if names.is_empty() {
        format!("0x{v:0digits$x}")
    } else {
        format!("0x{v:0digits$x} ({})", names.join(" | "))
    }
}

/// Builds a [`HeaderGroup`] field by field from a structure at a base offset.
pub struct GroupBuilder<'a> {
    data: &'a [u8],
    base: u64,
    group: HeaderGroup,
    /// Whether a field was cut off by the end of the data.
    pub truncated: bool,
}

impl<'a> GroupBuilder<'a> {
    /// Start a group called `name` at `base`.
    pub fn new(data: &'a [u8], name: &str, base: u64) -> Self {
        GroupBuilder {
            data,
            base,
            group: HeaderGroup { name: name.to_string(), span: Span::new(base, 0), fields: Vec::new() },
            truncated: false,
        }
    }

    /// Add an integer field of `width` bytes at `rel` (relative to the base) and return its value.
    pub fn int(&mut self, name: &str, rel: u64, width: u32, help: &'static str) -> Option<u64> {
        self.int_with(name, rel, width, help, |v| format!("0x{v:x}"))
    }

    /// Add an integer field shown in decimal.
    pub fn dec(&mut self, name: &str, rel: u64, width: u32, help: &'static str) -> Option<u64> {
        self.int_with(name, rel, width, help, |v| v.to_string())
    }

    /// Add an integer field with a custom rendering.
    pub fn int_with(
        &mut self,
        name: &str,
        rel: u64,
        width: u32,
        help: &'static str,
        render: impl Fn(u64) -> String,
    ) -> Option<u64> {
        let off = self.base.saturating_add(rel);
        let v = uint_at(self.data, off, width);
        if v.is_none() {
            self.truncated = true;
            return None;
        }
        let val = v?;
        self.push(name, Some(val), render(val), off, u64::from(width), help);
        Some(val)
    }

    /// Add a byte-string field.
    pub fn bytes(&mut self, name: &str, rel: u64, len: u64, help: &'static str) -> Option<&'a [u8]> {
        let off = self.base.saturating_add(rel);
        let Some(b) = slice_at(self.data, off, len) else {
            self.truncated = true;
            return None;
        };
        // Text (printable bytes, then only NUL padding) is shown quoted; anything else as hex.
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        let is_text =
            end > 0 && b[..end].iter().all(|&c| c.is_ascii_graphic() || c == b' ') && b[end..].iter().all(|&c| c == 0);
        let shown = if is_text {
            let pad = if end < b.len() { format!(" + {} NUL", b.len() - end) } else { String::new() };
            format!("\"{}\"{pad}", text(&b[..end]))
        } else {
            b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
        };
        self.push(name, None, shown, off, len, help);
        Some(b)
    }

    /// Add a field whose value was computed elsewhere.
    pub fn push(&mut self, name: &str, value: Option<u64>, display: String, off: u64, len: u64, help: &'static str) {
        self.group.fields.push(Field { name: name.to_string(), value, display, span: Span::new(off, len), help });
        let end = off.saturating_add(len);
        if end > self.group.span.end() {
            self.group.span.len = end - self.group.span.offset;
        }
    }

    /// Finish the group.
    pub fn finish(self) -> HeaderGroup {
        self.group
    }
}
