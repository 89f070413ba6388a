//! RVA → file-offset mapping for PE images, following what the Windows loader does.

use crate::formats::bytes::{cstr_at, slice_at, u16_at, u32_at, u64_at};

/// One mapped section.
#[derive(Debug, Clone, Copy)]
struct MapSection {
    rva: u64,
    vsize: u64,
    raw_off: u64,
    raw_size: u64,
}

/// Maps RVAs of an image to file offsets.
#[derive(Debug)]
pub struct PeMap<'a> {
    /// The whole file.
    pub data: &'a [u8],
    secs: Vec<MapSection>,
    headers_size: u64,
    identity: bool,
    /// Preferred image base.
    pub image_base: u64,
    /// Whether pointers are 8 bytes.
    pub is_64: bool,
    /// SizeOfImage.
    pub size_of_image: u64,
}

impl<'a> PeMap<'a> {
    /// Build the map from section header values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        data: &'a [u8],
        sections: &[crate::formats::coff::header::RawSection],
        headers_size: u64,
        section_alignment: u64,
        file_alignment: u64,
        image_base: u64,
        is_64: bool,
        size_of_image: u64,
    ) -> Self {
        let identity = section_alignment < 0x1000 && section_alignment == file_alignment;
        let mut secs: Vec<MapSection> = sections
            .iter()
            .map(|s| {
                let raw_off = if file_alignment >= 0x200 {
                    u64::from(s.pointer_to_raw_data) & !0x1ff
                } else {
                    u64::from(s.pointer_to_raw_data)
                };
                let vsize = if s.virtual_size == 0 { u64::from(s.size_of_raw_data) } else { u64::from(s.virtual_size) };
                MapSection {
                    rva: u64::from(s.virtual_address),
                    vsize,
                    raw_off,
                    raw_size: u64::from(s.size_of_raw_data).min(vsize),
                }
            })
            .collect();
        secs.sort_by_key(|s| s.rva);
        PeMap { data, secs, headers_size, identity, image_base, is_64, size_of_image }
    }

    /// File offset of `rva`, when the byte there comes from the file.
    pub fn offset(&self, rva: u64) -> Option<u64> {
        if self.identity {
            return (rva < self.data.len() as u64).then_some(rva);
        }
        let i = self.secs.partition_point(|s| s.rva <= rva);
        if i > 0 {
            let s = &self.secs[i - 1];
            let delta = rva - s.rva;
            if delta < s.vsize {
                return (delta < s.raw_size).then(|| s.raw_off + delta);
            }
        }
        let first = self.secs.first().map_or(u64::MAX, |s| s.rva);
        (rva < self.headers_size && rva < first).then_some(rva)
    }

    /// Up to `len` bytes at `rva` (must all come from the file).
    pub fn bytes(&self, rva: u64, len: u64) -> Option<&'a [u8]> {
        slice_at(self.data, self.offset(rva)?, len)
    }

    /// A `u16` at `rva`.
    pub fn u16(&self, rva: u64) -> Option<u16> {
        u16_at(self.data, self.offset(rva)?)
    }

    /// A `u32` at `rva`.
    pub fn u32(&self, rva: u64) -> Option<u32> {
        u32_at(self.data, self.offset(rva)?)
    }

    /// A `u64` at `rva`.
    pub fn u64(&self, rva: u64) -> Option<u64> {
        u64_at(self.data, self.offset(rva)?)
    }

    /// A pointer-sized value at `rva`.
    pub fn ptr(&self, rva: u64) -> Option<u64> {
        if self.is_64 {
            self.u64(rva)
        } else {
            self.u32(rva).map(u64::from)
        }
    }

    /// Pointer size in bytes.
    pub fn ptr_size(&self) -> u64 {
        if self.is_64 {
            8
        } else {
            4
        }
    }

    /// A NUL-terminated string at `rva`, at most `max` bytes.
    pub fn cstr(&self, rva: u64, max: usize) -> Option<&'a [u8]> {
        cstr_at(self.data, self.offset(rva)?, max)
    }

    /// Convert a VA to an RVA (None if below the image base, or beyond the 32-bit RVA range).
    pub fn va_to_rva(&self, va: u64) -> Option<u64> {
        va.checked_sub(self.image_base).filter(|&r| r <= u64::from(u32::MAX))
    }
}
