//! COFF object relocations: type names per machine, normalised kind and width, implicit addends.

use std::borrow::Cow;

use crate::model::RelocKind;
// Short, for the tables below.
use crate::model::RelocKind as K;

use super::header::RawSection;
use super::symbols::SymbolTable;
use crate::formats::bytes::{sign_extend, u16_at, u32_at, uint_at};
use crate::model::{Binary, Location, Relocation, Repeated, Severity, Span};

/// What a relocation type does: (name, normalised kind, width in bits, pc-relative).
pub fn reloc_info(machine: u16, t: u16) -> (Cow<'static, str>, RelocKind, u8, bool) {
    let (name, norm, width, pc): (&str, K, u8, bool) = match (machine, t) {
        (0x8664, 0) => ("IMAGE_REL_AMD64_ABSOLUTE", K::None, 0, false),
        (0x8664, 1) => ("IMAGE_REL_AMD64_ADDR64", K::Absolute, 64, false),
        (0x8664, 2) => ("IMAGE_REL_AMD64_ADDR32", K::Absolute, 32, false),
        (0x8664, 3) => ("IMAGE_REL_AMD64_ADDR32NB", K::ImageRelative, 32, false),
        (0x8664, 4) => ("IMAGE_REL_AMD64_REL32", K::PcRelative, 32, true),
        (0x8664, 5) => ("IMAGE_REL_AMD64_REL32_1", K::PcRelative, 32, true),
        (0x8664, 6) => ("IMAGE_REL_AMD64_REL32_2", K::PcRelative, 32, true),
        (0x8664, 7) => ("IMAGE_REL_AMD64_REL32_3", K::PcRelative, 32, true),
        (0x8664, 8) => ("IMAGE_REL_AMD64_REL32_4", K::PcRelative, 32, true),
        (0x8664, 9) => ("IMAGE_REL_AMD64_REL32_5", K::PcRelative, 32, true),
        (0x8664, 0xa) => ("IMAGE_REL_AMD64_SECTION", K::SectionIndex, 16, false),
        (0x8664, 0xb) => ("IMAGE_REL_AMD64_SECREL", K::SectionRelative, 32, false),
        (0x8664, 0xc) => ("IMAGE_REL_AMD64_SECREL7", K::SectionRelative, 7, false),
        (0x8664, 0xd) => ("IMAGE_REL_AMD64_TOKEN", K::Other, 32, false),
        (0x8664, 0xe) => ("IMAGE_REL_AMD64_SREL32", K::Other, 32, false),
        (0x8664, 0xf) => ("IMAGE_REL_AMD64_PAIR", K::Other, 0, false),
        (0x8664, 0x10) => ("IMAGE_REL_AMD64_SSPAN32", K::Other, 32, false),
        (0x14c, 0) => ("IMAGE_REL_I386_ABSOLUTE", K::None, 0, false),
        (0x14c, 1) => ("IMAGE_REL_I386_DIR16", K::Absolute, 16, false),
        (0x14c, 2) => ("IMAGE_REL_I386_REL16", K::PcRelative, 16, true),
        (0x14c, 6) => ("IMAGE_REL_I386_DIR32", K::Absolute, 32, false),
        (0x14c, 7) => ("IMAGE_REL_I386_DIR32NB", K::ImageRelative, 32, false),
        (0x14c, 9) => ("IMAGE_REL_I386_SEG12", K::Other, 16, false),
        (0x14c, 0xa) => ("IMAGE_REL_I386_SECTION", K::SectionIndex, 16, false),
        (0x14c, 0xb) => ("IMAGE_REL_I386_SECREL", K::SectionRelative, 32, false),
        (0x14c, 0xc) => ("IMAGE_REL_I386_TOKEN", K::Other, 32, false),
        (0x14c, 0xd) => ("IMAGE_REL_I386_SECREL7", K::SectionRelative, 7, false),
        (0x14c, 0x14) => ("IMAGE_REL_I386_REL32", K::PcRelative, 32, true),
        (0xaa64 | 0xa641 | 0xa64e, t) => match t {
            0 => ("IMAGE_REL_ARM64_ABSOLUTE", K::None, 0, false),
            1 => ("IMAGE_REL_ARM64_ADDR32", K::Absolute, 32, false),
            2 => ("IMAGE_REL_ARM64_ADDR32NB", K::ImageRelative, 32, false),
            3 => ("IMAGE_REL_ARM64_BRANCH26", K::PcRelative, 26, true),
            4 => ("IMAGE_REL_ARM64_PAGEBASE_REL21", K::PcRelative, 21, true),
            5 => ("IMAGE_REL_ARM64_REL21", K::PcRelative, 21, true),
            6 => ("IMAGE_REL_ARM64_PAGEOFFSET_12A", K::Other, 12, false),
            7 => ("IMAGE_REL_ARM64_PAGEOFFSET_12L", K::Other, 12, false),
            8 => ("IMAGE_REL_ARM64_SECREL", K::SectionRelative, 32, false),
            9 => ("IMAGE_REL_ARM64_SECREL_LOW12A", K::SectionRelative, 12, false),
            0xa => ("IMAGE_REL_ARM64_SECREL_HIGH12A", K::SectionRelative, 12, false),
            0xb => ("IMAGE_REL_ARM64_SECREL_LOW12L", K::SectionRelative, 12, false),
            0xc => ("IMAGE_REL_ARM64_TOKEN", K::Other, 32, false),
            0xd => ("IMAGE_REL_ARM64_SECTION", K::SectionIndex, 16, false),
            0xe => ("IMAGE_REL_ARM64_ADDR64", K::Absolute, 64, false),
            0xf => ("IMAGE_REL_ARM64_BRANCH19", K::PcRelative, 19, true),
            0x10 => ("IMAGE_REL_ARM64_BRANCH14", K::PcRelative, 14, true),
            0x11 => ("IMAGE_REL_ARM64_REL32", K::PcRelative, 32, true),
            _ => return (Cow::Owned(format!("IMAGE_REL_ARM64_UNKNOWN_0x{t:x}")), K::Other, 0, false),
        },
        (0x1c0 | 0x1c2 | 0x1c4, t) => match t {
            0 => ("IMAGE_REL_ARM_ABSOLUTE", K::None, 0, false),
            1 => ("IMAGE_REL_ARM_ADDR32", K::Absolute, 32, false),
            2 => ("IMAGE_REL_ARM_ADDR32NB", K::ImageRelative, 32, false),
            3 => ("IMAGE_REL_ARM_BRANCH24", K::PcRelative, 24, true),
            4 => ("IMAGE_REL_ARM_BRANCH11", K::PcRelative, 11, true),
            0xa => ("IMAGE_REL_ARM_REL32", K::PcRelative, 32, true),
            0xe => ("IMAGE_REL_ARM_SECTION", K::SectionIndex, 16, false),
            0xf => ("IMAGE_REL_ARM_SECREL", K::SectionRelative, 32, false),
            0x10 => ("IMAGE_REL_ARM_MOV32", K::Absolute, 32, false),
            0x11 => ("IMAGE_REL_THUMB_MOV32", K::Absolute, 32, false),
            0x12 => ("IMAGE_REL_THUMB_BRANCH20", K::PcRelative, 20, true),
            0x14 => ("IMAGE_REL_THUMB_BRANCH24", K::PcRelative, 24, true),
            0x15 => ("IMAGE_REL_THUMB_BLX23", K::PcRelative, 23, true),
            0x16 => ("IMAGE_REL_ARM_PAIR", K::Other, 0, false),
            _ => return (Cow::Owned(format!("IMAGE_REL_ARM_UNKNOWN_0x{t:x}")), K::Other, 0, false),
        },
        _ => return (Cow::Owned(format!("UNKNOWN_0x{t:x}")), K::Other, 0, false),
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
