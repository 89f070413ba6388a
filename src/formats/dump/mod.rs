//! Process dumps: a minidump ([`minidump`]) or an ELF core file ([`core`]), read into one
//! [`ProcessDump`] (format, architecture, modules, the memory ranges held). Pure on bytes; a
//! damaged file gives a typed error or a diagnostic in the model, never a panic, and nothing is
//! allocated in proportion to a count the file claims beyond what its length can hold.

pub mod core;
pub mod minidump;

use crate::model::dump::ProcessDump;

/// The largest dump decompressed from gzip (a bound, so a hostile archive cannot grow forever).
pub const MAX_GUNZIPPED: u64 = 4 << 30;

/// Why a dump could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Neither a minidump nor an ELF core.
    #[error("not a minidump (MDMP) or an ELF core file (ET_CORE)")]
    NotADump,
    /// The minidump reader refused it.
    #[error("minidump: {0}")]
    Minidump(String),
    /// The ELF core reader refused it.
    #[error("ELF core: {0}")]
    Core(String),
    /// Decompressing failed or passed the bound.
    #[error("gzip: {0}")]
    Gzip(String),
}

/// What kind of dump `data` looks like, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `MDMP`.
    Minidump,
    /// An ELF file of type `ET_CORE`.
    ElfCore,
}

/// The kind of dump `data` is (by its first bytes), or None.
pub fn sniff(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"MDMP") {
        return Some(Kind::Minidump);
    }
    if data.starts_with(b"\x7fELF") {
        // e_type at 16, in the file's byte order (EI_DATA at 5: 1 little, 2 big).
        let t = data.get(16..18)?;
        let e_type = match data.get(5) {
            Some(2) => u16::from_be_bytes([t[0], t[1]]),
            _ => u16::from_le_bytes([t[0], t[1]]),
        };
        if e_type == object::elf::ET_CORE.0 {
            return Some(Kind::ElfCore);
        }
    }
    None
}

/// Whether `data` is gzip.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

/// `data` gunzipped, at most `max` bytes (more is an error).
pub fn gunzip(data: &[u8], max: u64) -> Result<Vec<u8>, DumpError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DumpError::Gzip(e.to_string()))?;
    if out.len() as u64 > max {
        return Err(DumpError::Gzip(format!("more than {max} bytes decompressed")));
    }
    Ok(out)
}

/// Read a dump of either kind (not gzipped: see [`gunzip`]).
pub fn read(data: &[u8]) -> Result<ProcessDump, DumpError> {
    match sniff(data) {
        Some(Kind::Minidump) => minidump::read(data),
        Some(Kind::ElfCore) => core::read(data),
        None => Err(DumpError::NotADump),
    }
}

/// The last part of a path, Windows or Unix.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// A PE module's memory image turned back into a file the PE reader maps the same way: every
/// section's `PointerToRawData` := `VirtualAddress` and `SizeOfRawData` := its virtual size
/// (clipped to the image), so file offset = RVA. None when `image` is not a PE image.
pub fn pe_file_from_memory(mut image: Vec<u8>) -> Option<Vec<u8>> {
    use crate::formats::bytes::{u16_at, u32_at};
    if !image.starts_with(b"MZ") {
        return None;
    }
    let nt = u64::from(u32_at(&image, 0x3c)?);
    if image.get(nt as usize..nt as usize + 4)? != b"PE\0\0" {
        return None;
    }
    let count = u64::from(u16_at(&image, nt + 6)?);
    let opt_size = u64::from(u16_at(&image, nt + 20)?);
    let table = nt + 24 + opt_size;
    let len = image.len() as u64;
    for i in 0..count.min(96) {
        let h = table + 40 * i;
        let (Some(vsize), Some(va)) = (u32_at(&image, h + 8), u32_at(&image, h + 12)) else { break };
        let size = u64::from(vsize).min(len.saturating_sub(u64::from(va))) as u32;
        let at = h as usize;
        image.get_mut(at + 16..at + 24)?.copy_from_slice(&[size.to_le_bytes(), va.to_le_bytes()].concat());
    }
    Some(image)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sniffing_and_unmapping_take_any_bytes() {
        assert_eq!(sniff(b"MDMP\x93\xa7"), Some(Kind::Minidump));
        assert_eq!(sniff(b"\x7fELF"), None);
        assert!(matches!(read(b"MDMP"), Err(DumpError::Minidump(_))));
        assert!(matches!(read(b"nothing"), Err(DumpError::NotADump)));
        for n in 0..0x200 {
            let mut v = vec![0u8; n];
            if n >= 2 {
                v[..2].copy_from_slice(b"MZ");
            }
            if n >= 0x48 {
                v[0x3c] = 0x40;
                v[0x40..0x44].copy_from_slice(b"PE\0\0");
                v[0x46] = 0xff; // 255 sections claimed
            }
            let _ = pe_file_from_memory(v);
        }
        assert!(gunzip(&[0x1f, 0x8b, 0, 0], 16).is_err());
    }
}
