//! Base-relocation blocks and entries, padding and malformed blocks included.

use super::map::PeMap;
use crate::formats::bytes::{u16_at, u32_at};
use crate::model::{BaseReloc, BaseRelocBlock, Binary, Location, Severity, Span};

/// Name after `IMAGE_REL_BASED_` for a base-relocation type on `machine`-less images.
pub fn kind_name(t: u8) -> &'static str {
    match t {
        0 => "ABSOLUTE",
        1 => "HIGH",
        2 => "LOW",
        3 => "HIGHLOW",
        4 => "HIGHADJ",
        5 => "MACHINE_SPECIFIC_5",
        6 => "RESERVED",
        7 => "MACHINE_SPECIFIC_7",
        8 => "MACHINE_SPECIFIC_8",
        9 => "MACHINE_SPECIFIC_9",
        10 => "DIR64",
        _ => "UNKNOWN",
    }
}

/// Entry slots in the blocks of the directory at `start` (`size` bytes, within `data`), read
/// from the block headers alone, as the walk steps through them: the most entries the walk can
/// list, so the list is sized once instead of grown by doubling (131,728 entries of 72 bytes
/// in a 120 MB DLL).
fn entry_slots(data: &[u8], start: u64, size: u64) -> usize {
    let (mut off, mut n) = (0u64, 0u64);
    while off + 8 <= size {
        let Some(bsize) = u32_at(data, start + off + 4).filter(|&b| b >= 8) else { break };
        let eff = u64::from(bsize).min(size - off);
        n += (eff - 8) / 2;
        off += eff;
    }
    n as usize
}

/// Width in bytes of the value a base relocation patches.
pub fn kind_width(t: u8) -> u32 {
    match t {
        1 | 2 | 4 => 2,
        3 => 4,
        10 => 8,
        _ => 0,
    }
}

/// Read the base-relocation directory.
pub fn read_base_relocs(bin: &mut Binary, map: &PeMap, (rva, size): (u64, u64)) {
    if rva == 0 || size == 0 {
        return;
    }
    let data = map.data;
    let Some(start) = map.offset(rva) else {
        bin.diag(Severity::Error, Location::rva(rva), "base-relocation directory is not in the file");
        return;
    };
    let avail = (data.len() as u64).saturating_sub(start);
    let size = if size > avail {
        bin.diag(
            Severity::Error,
            Location::both(Some(start), Some(rva)),
            format!("base-relocation directory (0x{size:x} bytes) runs past the end of the file"),
        );
        avail
    } else {
        size
    };
    bin.base_relocations.reserve_exact(entry_slots(data, start, size));
    let mut pages: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    let mut off = 0u64;
    while off + 8 <= size {
        let b = start + off;
        let (Some(page), Some(bsize)) = (u32_at(data, b), u32_at(data, b + 4)) else {
            break;
        };
        let page = u64::from(page);
        let block_index = bin.base_reloc_blocks.len() as u32;
        let loc = Location::both(Some(b), Some(rva + off));
        if bsize < 8 {
            bin.diag(Severity::Error, loc, format!("base-relocation block {block_index} has SizeOfBlock {bsize} (< 8); the rest of the directory is unreadable"));
            break;
        }
        let mut bsize_eff = u64::from(bsize);
        if off + bsize_eff > size {
            bin.diag(Severity::Error, loc, format!("base-relocation block {block_index} (page 0x{page:x}, size {bsize}) runs past the end of the directory"));
            bsize_eff = size - off;
        }
        if bsize == 8 {
            bin.diag(Severity::Warning, loc, format!("base-relocation block {block_index} (page 0x{page:x}) is empty"));
        }
        if bsize % 2 != 0 {
            bin.diag(
                Severity::Warning,
                loc,
                format!("base-relocation block {block_index} (page 0x{page:x}) has odd SizeOfBlock {bsize}"),
            );
        } else if bsize % 4 != 0 {
            bin.diag(
                Severity::Warning,
                loc,
                format!(
                    "base-relocation block {block_index} (page 0x{page:x}) is not 32-bit aligned (SizeOfBlock {bsize})"
                ),
            );
        }
        if map.size_of_image != 0 && page >= map.size_of_image {
            bin.diag(
                Severity::Warning,
                loc,
                format!(
                    "base-relocation block {block_index} page 0x{page:x} lies outside the image (SizeOfImage 0x{:x})",
                    map.size_of_image
                ),
            );
        }
        if let Some(prev) = pages.insert(page, block_index) {
            bin.diag(
                Severity::Warning,
                loc,
                format!("base-relocation block {block_index} covers page 0x{page:x} again (also block {prev})"),
            );
        }
        let n = (bsize_eff - 8) / 2;
        // Where the page's bytes are in the file, found once for the block's entries.
        let page_run = map.file_run(page);
        let mut k = 0u64;
        while k < n {
            let e = b + 8 + k * 2;
            let Some(v) = u16_at(data, e) else { break };
            let t = (v >> 12) as u8;
            let site = page + u64::from(v & 0xfff);
            let mut param = None;
            let mut len = 2;
            if t == 4 {
                if k + 1 < n {
                    param = u16_at(data, e + 2);
                    k += 1;
                    len = 4;
                } else {
                    bin.diag(
                        Severity::Warning,
                        Location::both(Some(e), Some(site)),
                        "HIGHADJ entry is missing its parameter slot",
                    );
                }
            }
            let w = kind_width(t);
            let in_page = site - page;
            let at = match page_run {
                Some((o, run)) if in_page + u64::from(w) <= run => Some(o + in_page),
                _ => map.offset(site),
            };
            let value = if w > 0 { at.and_then(|o| crate::formats::bytes::uint_at(data, o, w)) } else { None };
            bin.base_relocations.push(BaseReloc {
                rva: site,
                kind: kind_name(t),
                raw_type: t,
                value,
                param,
                block: block_index,
                span: Span::new(e, len),
            });
            k += 1;
        }
        bin.base_reloc_blocks.push(BaseRelocBlock {
            page_rva: page,
            size: bsize,
            entry_count: n as u32,
            span: Span::new(b, bsize_eff),
        });
        // The loader steps by SizeOfBlock as stored, whatever its alignment; so do we.
        off += bsize_eff;
    }
    if off < size && off + 8 > size {
        bin.diag(
            Severity::Info,
            Location::both(Some(start + off), Some(rva + off)),
            format!("{} trailing byte(s) after the last base-relocation block", size - off),
        );
    }
}
