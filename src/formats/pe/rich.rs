//! The Rich header (MSVC linker build inventory) and the PE image checksum.

use crate::formats::bytes::{u32_at, u8_at};
use crate::model::{RichEntry, RichHeader, Span};

/// Find and decode the Rich header between the DOS header and `e_lfanew`.
pub fn read_rich(data: &[u8], lfanew: u32) -> Option<RichHeader> {
    let limit = (lfanew as usize).min(data.len());
    let area = data.get(0x40..limit)?;
    let pos = area.windows(4).rposition(|w| w == b"Rich")? + 0x40;
    let key = u32_at(data, pos as u64 + 4)?;
    // Walk back to "DanS" ^ key.
    let mut p = pos;
    let mut start = None;
    while p >= 0x40 + 4 {
        p -= 4;
        if u32_at(data, p as u64)? ^ key == 0x536e_6144 {
            start = Some(p);
            break;
        }
    }
    let start = start?;
    let mut entries = Vec::new();
    let mut q = start + 16;
    while q + 8 <= pos {
        let id = u32_at(data, q as u64)? ^ key;
        let count = u32_at(data, q as u64 + 4)? ^ key;
        entries.push(RichEntry { product: (id >> 16) as u16, build: id as u16, count });
        q += 8;
    }
    // Checksum as the linker computes it.
    let mut csum: u32 = start as u32;
    for i in 0..start {
        if (0x3c..0x40).contains(&i) {
            continue;
        }
        let b = u32::from(u8_at(data, i as u64)?);
        csum = csum.wrapping_add(b.rotate_left(i as u32));
    }
    for e in &entries {
        let id = (u32::from(e.product) << 16) | u32::from(e.build);
        csum = csum.wrapping_add(id.rotate_left(e.count));
    }
    Some(RichHeader {
        key,
        span: Span::new(start as u64, (pos + 8 - start) as u64),
        entries,
        checksum_valid: csum == key,
    })
}

/// Recompute the PE checksum, skipping the 4-byte CheckSum field at `checksum_off`.
///
/// The algorithm adds the file as 16-bit little-endian words with end-around carry, which is
/// addition modulo 0xFFFF. Since 2^16 ≡ 1 (mod 0xFFFF), a 32-bit word contributes the same as its
/// two halves, so the file is summed as 32-bit words in bulk (a u64 cannot overflow below 2^34
/// bytes of input) and folded once at the end.
pub fn pe_checksum(data: &[u8], checksum_off: u64) -> u32 {
    let words = data.chunks_exact(4);
    let rest = words.remainder();
    let mut sum: u64 = words.map(|w| u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))).sum();
    for (k, pair) in rest.chunks(2).enumerate() {
        let lo = u64::from(pair[0]);
        let hi = pair.get(1).map_or(0, |&b| u64::from(b));
        sum += (lo | (hi << 8)) << (16 * (k % 2));
    }
    // Take the CheckSum field back out (it is word-aligned in every real image).
    if checksum_off.is_multiple_of(2) {
        for k in [0, 2] {
            if let Some(w) = crate::formats::bytes::u16_at(data, checksum_off + k) {
                sum -= u64::from(w);
            }
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    (sum as u32).wrapping_add(data.len() as u32)
}
