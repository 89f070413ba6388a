//! COFF object relocations: type names per machine, normalised kind and width, implicit addends.

use std::borrow::Cow;

use super::header::RawSection;
use super::symbols::SymbolTable;
use crate::formats::bytes::{sign_extend, u16_at, u32_at, uint_at};
use crate::model::{Binary, Location, Relocation, Repeated, Severity, Span};

/// What a relocation type does: (name, normalised kind, width in bits, pc-relative).
pub fn reloc_info(machine: u16, t: u16) -> (Cow<'static, str>, &'static str, u8, bool) {
    let (name, norm, width, pc): (&str, &str, u8, bool) = match (machine, t) {
        (0x8664, 0) => ("IMAGE_REL_AMD64_ABSOLUTE", "none", 0, false),
        (0x8664, 1) => ("IMAGE_REL_AMD64_ADDR64", "absolute", 64, false),
        (0x8664, 2) => ("IMAGE_REL_AMD64_ADDR32", "absolute", 32, false),
        (0x8664, 3) => ("IMAGE_REL_AMD64_ADDR32NB", "image-relative", 32, false),
        (0x8664, 4) => ("IMAGE_REL_AMD64_REL32", "pc-relative", 32, true),
        (0x8664, 5) => ("IMAGE_REL_AMD64_REL32_1", "pc-relative", 32, true),
        (0x8664, 6) => ("IMAGE_REL_AMD64_REL32_2", "pc-relative", 32, true),
        (0x8664, 7) => ("IMAGE_REL_AMD64_REL32_3", "pc-relative", 32, true),
        (0x8664, 8) => ("IMAGE_REL_AMD64_REL32_4", "pc-relative", 32, true),
        (0x8664, 9) => ("IMAGE_REL_AMD64_REL32_5", "pc-relative", 32, true),
        (0x8664, 0xa) => ("IMAGE_REL_AMD64_SECTION", "section-index", 16, false),
        (0x8664, 0xb) => ("IMAGE_REL_AMD64_SECREL", "section-relative", 32, false),
        (0x8664, 0xc) => ("IMAGE_REL_AMD64_SECREL7", "section-relative", 7, false),
        (0x8664, 0xd) => ("IMAGE_REL_AMD64_TOKEN", "other", 32, false),
        (0x8664, 0xe) => ("IMAGE_REL_AMD64_SREL32", "other", 32, false),
        (0x8664, 0xf) => ("IMAGE_REL_AMD64_PAIR", "other", 0, false),
        (0x8664, 0x10) => ("IMAGE_REL_AMD64_SSPAN32", "other", 32, false),
        (0x14c, 0) => ("IMAGE_REL_I386_ABSOLUTE", "none", 0, false),
        (0x14c, 1) => ("IMAGE_REL_I386_DIR16", "absolute", 16, false),
        (0x14c, 2) => ("IMAGE_REL_I386_REL16", "pc-relative", 16, true),
        (0x14c, 6) => ("IMAGE_REL_I386_DIR32", "absolute", 32, false),
        (0x14c, 7) => ("IMAGE_REL_I386_DIR32NB", "image-relative", 32, false),
        (0x14c, 9) => ("IMAGE_REL_I386_SEG12", "other", 16, false),
        (0x14c, 0xa) => ("IMAGE_REL_I386_SECTION", "section-index", 16, false),
        (0x14c, 0xb) => ("IMAGE_REL_I386_SECREL", "section-relative", 32, false),
        (0x14c, 0xc) => ("IMAGE_REL_I386_TOKEN", "other", 32, false),
        (0x14c, 0xd) => ("IMAGE_REL_I386_SECREL7", "section-relative", 7, false),
        (0x14c, 0x14) => ("IMAGE_REL_I386_REL32", "pc-relative", 32, true),
        (0xaa64 | 0xa641 | 0xa64e, t) => match t {
            0 => ("IMAGE_REL_ARM64_ABSOLUTE", "none", 0, false),
            1 => ("IMAGE_REL_ARM64_ADDR32", "absolute", 32, false),
            2 => ("IMAGE_REL_ARM64_ADDR32NB", "image-relative", 32, false),
            3 => ("IMAGE_REL_ARM64_BRANCH26", "pc-relative", 26, true),
            4 => ("IMAGE_REL_ARM64_PAGEBASE_REL21", "pc-relative", 21, true),
            5 => ("IMAGE_REL_ARM64_REL21", "pc-relative", 21, true),
            6 => ("IMAGE_REL_ARM64_PAGEOFFSET_12A", "other", 12, false),
            7 => ("IMAGE_REL_ARM64_PAGEOFFSET_12L", "other", 12, false),
            8 => ("IMAGE_REL_ARM64_SECREL", "section-relative", 32, false),
            9 => ("IMAGE_REL_ARM64_SECREL_LOW12A", "section-relative", 12, false),
            0xa => ("IMAGE_REL_ARM64_SECREL_HIGH12A", "section-relative", 12, false),
            0xb => ("IMAGE_REL_ARM64_SECREL_LOW12L", "section-relative", 12, false),
            0xc => ("IMAGE_REL_ARM64_TOKEN", "other", 32, false),
            0xd => ("IMAGE_REL_ARM64_SECTION", "section-index", 16, false),
            0xe => ("IMAGE_REL_ARM64_ADDR64", "absolute", 64, false),
            0xf => ("IMAGE_REL_ARM64_BRANCH19", "pc-relative", 19, true),
            0x10 => ("IMAGE_REL_ARM64_BRANCH14", "pc-relative", 14, true),
            0x11 => ("IMAGE_REL_ARM64_REL32", "pc-relative", 32, true),
            _ => return (Cow::Owned(format!("IMAGE_REL_ARM64_UNKNOWN_0x{t:x}")), "other", 0, false),
        },
        (0x1c0 | 0x1c2 | 0x1c4, t) => match t {
            0 => ("IMAGE_REL_ARM_ABSOLUTE", "none", 0, false),
            1 => ("IMAGE_REL_ARM_ADDR32", "absolute", 32, false),
            2 => ("IMAGE_REL_ARM_ADDR32NB", "image-relative", 32, false),
            3 => ("IMAGE_REL_ARM_BRANCH24", "pc-relative", 24, true),
            4 => ("IMAGE_REL_ARM_BRANCH11", "pc-relative", 11, true),
            0xa => ("IMAGE_REL_ARM_REL32", "pc-relative", 32, true),
            0xe => ("IMAGE_REL_ARM_SECTION", "section-index", 16, false),
            0xf => ("IMAGE_REL_ARM_SECREL", "section-relative", 32, false),
            0x10 => ("IMAGE_REL_ARM_MOV32", "absolute", 32, false),
            0x11 => ("IMAGE_REL_THUMB_MOV32", "absolute", 32, false),
            0x12 => ("IMAGE_REL_THUMB_BRANCH20", "pc-relative", 20, true),
            0x14 => ("IMAGE_REL_THUMB_BRANCH24", "pc-relative", 24, true),
            0x15 => ("IMAGE_REL_THUMB_BLX23", "pc-relative", 23, true),
            0x16 => ("IMAGE_REL_ARM_PAIR", "other", 0, false),
            _ => return (Cow::Owned(format!("IMAGE_REL_ARM_UNKNOWN_0x{t:x}")), "other", 0, false),
        },
        _ => return (Cow::Owned(format!("UNKNOWN_0x{t:x}")), "other", 0, false),
    };
    (Cow::Borrowed(name), norm, width, pc)
}

/// Read every section's relocations into `bin.relocations`.
pub fn read_relocations(bin: &mut Binary, data: &[u8], machine: u16, raws: &[RawSection], table: &SymbolTable) {
    let file_len = data.len() as u64;
    let mut bad_symbols =
        Repeated::new(Severity::Warning, "relocations name symbol indices that are not symbol records");
    let mut outside = Repeated::new(Severity::Warning, "relocations patch bytes outside their section's data");
    for (i, raw) in raws.iter().enumerate() {
        let sec_index = i as u32 + 1;
        let count = u64::from(bin.sections[i].reloc_count);
        if count == 0 {
            continue;
        }
        let mut start = u64::from(raw.pointer_to_relocations);
        if bin.sections[i].flags as u32 & super::header::scn::NRELOC_OVFL != 0 && raw.number_of_relocations == 0xffff {
            start += 10; // the first record holds the real count
        }
        let fits = file_len.saturating_sub(start) / 10;
        let n = if count > fits {
            bin.diag(
                Severity::Error,
                Location::file(bin.sections[i].header_span.offset),
                format!(
                    "section {sec_index} ({}): {count} relocations at 0x{start:x} run past the end of the file; {fits} read",
                    bin.sections[i].name
                ),
            );
            fits
        } else {
            count
        };
        let sec_off = bin.sections[i].file_offset;
        let sec_size = bin.sections[i].file_size;
        bin.relocations.reserve(n as usize);
        for k in 0..n {
            let r = start + k * 10;
            let (Some(va), Some(symi), Some(t)) = (u32_at(data, r), u32_at(data, r + 4), u16_at(data, r + 8)) else {
                break;
            };
            let (kind, normalized, width, pc) = reloc_info(machine, t);
            let sym = table.get(symi);
            if sym.is_none() {
                bad_symbols.add(Location::file(r), || {
                    format!("relocation at {sec_index}:0x{va:x} names symbol {symi}, which is not a symbol record")
                });
            }
            let bytes = width.div_ceil(8).next_power_of_two() as u32;
            let addend = if width >= 8 && u64::from(va) + u64::from(bytes) <= sec_size {
                uint_at(data, sec_off + u64::from(va), bytes).map(|v| sign_extend(v, bytes * 8)).unwrap_or(0)
            } else {
                if width >= 8 {
                    outside.add(Location::file(r), || {
                        format!("relocation at {sec_index}:0x{va:x} patches bytes outside its section's data")
                    });
                }
                0
            };
            bin.relocations.push(Relocation {
                section: Some(sec_index),
                offset: u64::from(va),
                kind,
                raw_type: u32::from(t),
                normalized,
                width,
                pc_relative: pc,
                symbol: sym.map(|s| s.name.clone()),
                symbol_index: Some(symi),
                addend,
                dynamic: false,
                span: Span::new(r, 10),
            });
        }
    }
    bad_symbols.flush(bin);
    outside.flush(bin);
}
