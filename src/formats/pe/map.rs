//! RVA → file-offset mapping for PE images, following what the Windows loader does.

use crate::formats::bytes::slice_at;

/// One mapped section.
#[derive(Debug, Clone, Copy)]
struct MapSection {
    rva: u64,
    vsize: u64,
    raw_off: u64,
    raw_size: u64,
    /// `raw_size` before rounding up to FileAlignment: file bytes past the end of the file are
    /// missing below it, zero-filled above it.
    raw_declared: u64,
    /// The raw size rounded up to FileAlignment, not capped at the virtual size.
    raw_rounded: u64,
}

/// Where the byte at an RVA comes from once the loader has mapped the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// This file offset.
    File(u64),
    /// Mapped, but not backed by the file: the loader's zero fill (a section's virtual tail, or
    /// the part of a flat low-alignment image past the end of the file).
    Zero,
    /// Not mapped (or backed by bytes the file does not have).
    Unmapped,
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
                // The loader reads SizeOfRawData rounded up to FileAlignment (never past the
                // virtual size): bytes a tool cuts off at the unrounded end are in the image.
                let declared = u64::from(s.size_of_raw_data);
                let rounded = if file_alignment.is_power_of_two() {
                    declared.checked_next_multiple_of(file_alignment).unwrap_or(declared)
                } else {
                    declared
                };
                MapSection {
                    rva: u64::from(s.virtual_address),
                    vsize,
                    raw_off,
                    raw_size: rounded.min(vsize),
                    raw_declared: declared.min(vsize),
                    raw_rounded: rounded,
                }
            })
            .collect();
        secs.sort_by_key(|s| s.rva);
        PeMap { data, secs, headers_size, identity, image_base, is_64, size_of_image }
    }

    /// The map of an image read earlier, from the layout its [`crate::model::PeInfo`] keeps.
    pub fn from_layout(data: &'a [u8], layout: &crate::model::PeLayout, image_base: u64, is_64: bool) -> Self {
        PeMap::new(
            data,
            &layout.sections,
            layout.size_of_headers,
            layout.section_alignment,
            layout.file_alignment,
            image_base,
            is_64,
            layout.size_of_image,
        )
    }

    /// The first `len` bytes of the image as the loader maps it: headers and section data from
    /// the file, zeros for the virtual tails and for what is not mapped at all. `len` is
    /// normally SizeOfImage.
    pub fn materialise(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let file_len = self.data.len() as u64;
        self.mapped_runs(|rva, off, n| {
            let n = n.min(file_len.saturating_sub(off)).min((len as u64).saturating_sub(rva));
            if n > 0 {
                let (r, o, n) = (rva as usize, off as usize, n as usize);
                out[r..r + n].copy_from_slice(&self.data[o..o + n]);
            }
        });
        out
    }

    /// Each run of file bytes the loader maps, as `(rva, file offset, length)` before clipping to
    /// the file and the image: the whole image of a low-alignment one, else the headers and each
    /// section's raw data. A byte belongs to the last section starting at or below it (as
    /// `source_run` reads it), and the loader maps whole pages: raw bytes past VirtualSize up to
    /// its page end are there too (LLD pads `.text` with 0xCC to SizeOfRawData; wine shows the
    /// padding).
    fn mapped_runs(&self, mut run: impl FnMut(u64, u64, u64)) {
        if self.identity {
            run(0, 0, self.size_of_image);
            return;
        }
        let first = self.secs.first().map_or(u64::MAX, |s| s.rva);
        run(0, 0, self.headers_size.min(first));
        for (i, s) in self.secs.iter().enumerate() {
            let limit = self.secs.get(i + 1).map_or(u64::MAX, |n| n.rva.saturating_sub(s.rva));
            let page_end = s.vsize.checked_next_multiple_of(0x1000).unwrap_or(s.vsize);
            run(s.rva, s.raw_off, s.raw_rounded.min(page_end).min(limit));
        }
    }

    /// The bytes `[start, start + out.len())` of what [`PeMap::materialise`] of `len` bytes
    /// gives, without materialising the rest (zeros past `len`).
    pub fn window(&self, start: u64, out: &mut [u8], len: usize) {
        out.fill(0);
        let file_len = self.data.len() as u64;
        let end = start.saturating_add(out.len() as u64).min(len as u64);
        self.mapped_runs(|rva, off, n| {
            let n = n.min(file_len.saturating_sub(off)).min((len as u64).saturating_sub(rva));
            let (s, e) = (rva.max(start), rva.saturating_add(n).min(end));
            if s < e {
                let (o, k) = ((off + (s - rva)) as usize, (e - s) as usize);
                let at = (s - start) as usize;
                out[at..at + k].copy_from_slice(&self.data[o..o + k]);
            }
        });
    }

    /// Where the byte at `rva` comes from, and how many bytes from there on come from the file
    /// contiguously (0 unless `File`).
    fn source_run(&self, rva: u64) -> (Source, u64) {
        let len = self.data.len() as u64;
        let file = |o: u64, run: u64| if o < len { (Source::File(o), run.min(len - o)) } else { (Source::Unmapped, 0) };
        if self.identity {
            // SectionAlignment below a page: the loader maps the file flat, SizeOfImage long.
            return if rva < len {
                (Source::File(rva), len - rva)
            } else if rva < self.size_of_image {
                (Source::Zero, 0)
            } else {
                (Source::Unmapped, 0)
            };
        }
        let i = self.secs.partition_point(|s| s.rva <= rva);
        if i > 0 {
            if let Some(s) = self.secs.get(i - 1) {
                let delta = rva - s.rva;
                if delta < s.vsize {
                    return if delta < s.raw_size {
                        match file(s.raw_off + delta, s.raw_size - delta) {
                            (Source::Unmapped, _) if delta >= s.raw_declared => (Source::Zero, 0),
                            found => found,
                        }
                    } else {
                        (Source::Zero, 0)
                    };
                }
            }
        }
        let first = self.secs.first().map_or(u64::MAX, |s| s.rva);
        if rva < self.headers_size && rva < first {
            file(rva, self.headers_size.min(first) - rva)
        } else {
            (Source::Unmapped, 0)
        }
    }

    /// Where the byte at `rva` comes from.
    fn source(&self, rva: u64) -> Source {
        self.source_run(rva).0
    }

    /// File offset of `rva`, when the byte there comes from the file.
    pub fn offset(&self, rva: u64) -> Option<u64> {
        match self.source(rva) {
            Source::File(o) => Some(o),
            Source::Zero | Source::Unmapped => None,
        }
    }

    /// File offset of `rva` and how many bytes from there on come from the file contiguously,
    /// when the byte there comes from the file.
    pub fn file_run(&self, rva: u64) -> Option<(u64, u64)> {
        match self.source_run(rva) {
            (Source::File(o), run) => Some((o, run)),
            _ => None,
        }
    }

    /// SizeOfHeaders.
    pub fn headers_size(&self) -> u64 {
        self.headers_size
    }

    /// Whether the loader maps a byte at `rva` (from the file or zero-filled).
    pub fn is_mapped(&self, rva: u64) -> bool {
        self.source(rva) != Source::Unmapped
    }

    /// Up to `len` bytes at `rva` (must all come from the file).
    pub fn bytes(&self, rva: u64, len: u64) -> Option<&'a [u8]> {
        slice_at(self.data, self.offset(rva)?, len)
    }

    /// `N` bytes at `rva` as the loaded image holds them: file bytes, or zeros where the loader
    /// zero-fills (a value may straddle the end of a section's raw data).
    fn image_bytes<const N: usize>(&self, rva: u64) -> Option<[u8; N]> {
        if let (Source::File(o), run) = self.source_run(rva) {
            if run >= N as u64 {
                return slice_at(self.data, o, N as u64)?.try_into().ok();
            }
        }
        let mut out = [0u8; N];
        for (k, b) in out.iter_mut().enumerate() {
            *b = match self.source(rva.checked_add(k as u64)?) {
                Source::File(o) => *self.data.get(usize::try_from(o).ok()?)?,
                Source::Zero => 0,
                Source::Unmapped => return None,
            };
        }
        Some(out)
    }

    /// A `u16` at `rva`.
    pub fn u16(&self, rva: u64) -> Option<u16> {
        self.image_bytes::<2>(rva).map(u16::from_le_bytes)
    }

    /// A `u32` at `rva`.
    pub fn u32(&self, rva: u64) -> Option<u32> {
        self.image_bytes::<4>(rva).map(u32::from_le_bytes)
    }

    /// A `u64` at `rva`.
    pub fn u64(&self, rva: u64) -> Option<u64> {
        self.image_bytes::<8>(rva).map(u64::from_le_bytes)
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

    /// A NUL-terminated string at `rva`, at most `max` bytes. As in the loaded image, a string
    /// that runs from the file into the loader's zero fill ends there.
    pub fn cstr(&self, rva: u64, max: usize) -> Option<&'a [u8]> {
        let (Source::File(o), mut run) = self.source_run(rva) else {
            return None;
        };
        let first = usize::try_from(o).ok()?;
        // A string may run on into the next section when both lie end to end in memory and in
        // the file; the bytes stay one slice of the file.
        loop {
            let avail = usize::try_from(run).ok()?.min(max);
            let bytes = self.data.get(first..first.checked_add(avail)?)?;
            if let Some(end) = bytes.iter().position(|&b| b == 0) {
                return bytes.get(..end);
            }
            if avail >= max {
                return None;
            }
            match self.source_run(rva.checked_add(run)?) {
                // The file's bytes end without a NUL; the loader's zero fill after them ends it.
                (Source::Zero, _) => return Some(bytes),
                (Source::File(next), more) if next == o.checked_add(run)? && more > 0 => run += more,
                _ => return None,
            }
        }
    }

    /// A name at `rva` as the loader compares it: the NUL-terminated string, or, when it is
    /// longer than `max` bytes, its first `max` bytes and `false` (the name is there, only too
    /// long to keep whole). None when the first byte is not in the image.
    pub fn name(&self, rva: u64, max: usize) -> Option<(&'a [u8], bool)> {
        if let Some(n) = self.cstr(rva, max) {
            return Some((n, true));
        }
        let (Source::File(o), run) = self.source_run(rva) else {
            return None;
        };
        // Only a prefix that is all file bytes, without a NUL, counts as a cut name.
        let bytes = slice_at(self.data, o, u64::try_from(max).ok()?.min(run))?;
        (bytes.len() == max && !bytes.contains(&0)).then_some((bytes, false))
    }

    /// Convert a VA to an RVA (None if below the image base, or beyond the 32-bit RVA range).
    pub fn va_to_rva(&self, va: u64) -> Option<u64> {
        va.checked_sub(self.image_base).filter(|&r| r <= u64::from(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::PeMap;
    use crate::formats::coff::header::RawSection;

    fn sec(rva: u32, vsize: u32, raw_off: u32, raw_size: u32) -> RawSection {
        RawSection {
            virtual_size: vsize,
            virtual_address: rva,
            size_of_raw_data: raw_size,
            pointer_to_raw_data: raw_off,
            pointer_to_relocations: 0,
            number_of_relocations: 0,
            characteristics: 0,
        }
    }

    #[test]
    fn reads_see_the_loaders_zero_fill() {
        // One section at RVA 0x1000: 0x10 raw bytes at 0x200 (FileAlignment 0x10), 0x100 in memory.
        let mut data = vec![0xaau8; 0x210];
        data[0x20c..0x210].copy_from_slice(b"abcd");
        let map = PeMap::new(&data, &[sec(0x1000, 0x100, 0x200, 0x10)], 0x200, 0x1000, 0x10, 0, false, 0x2000);
        // A string that ends with the raw data is ended by the zero fill.
        assert_eq!(map.cstr(0x100c, 64), Some(&b"abcd"[..]));
        // A value straddling the end of the raw data reads zeros for the virtual part.
        assert_eq!(map.u32(0x100e), Some(u32::from_le_bytes([b'c', b'd', 0, 0])));
        assert_eq!(map.u32(0x1010), Some(0));
        assert_eq!(map.offset(0x1010), None);
        // Past the section: not mapped.
        assert_eq!(map.u32(0x1100), None);
    }

    #[test]
    fn raw_size_is_rounded_up_to_file_alignment() {
        // SizeOfRawData 0x10 with FileAlignment 0x200: the loader reads 0x200 bytes.
        let mut data = vec![0u8; 0x400];
        data[0x210..0x216].copy_from_slice(b"msvcrt");
        data[0x216] = 0;
        let map = PeMap::new(&data, &[sec(0x1000, 0x1000, 0x200, 0x10)], 0x200, 0x1000, 0x200, 0, false, 0x2000);
        assert_eq!(map.cstr(0x1010, 64), Some(&b"msvcrt"[..]));
        assert_eq!(map.offset(0x11ff), Some(0x3ff));
        // Rounded past the end of the file: zero, not missing.
        let short = &data[..0x300];
        let map = PeMap::new(short, &[sec(0x1000, 0x1000, 0x200, 0x10)], 0x200, 0x1000, 0x200, 0, false, 0x2000);
        assert_eq!(map.u32(0x1180), Some(0));
    }

    #[test]
    fn flat_low_alignment_image_is_zero_filled_to_size_of_image() {
        let data = b"MZ\0\0msvcrt.dll".to_vec();
        let map = PeMap::new(&data, &[], 0x20, 4, 4, 0, false, 0x1000);
        assert_eq!(map.cstr(4, 64), Some(&b"msvcrt.dll"[..]));
        assert_eq!(map.u32(0x800), Some(0));
        assert_eq!(map.u32(0x1000), None);
    }
}
