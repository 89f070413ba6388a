//! COFF file header, machine names and the section table (shared by objects and PE images).

use crate::formats::bytes::{flags_display, text, u16_at, u32_at, GroupBuilder};
use crate::model::{Binary, Location, Section, Severity, Span};

/// The `IMAGE_FILE_MACHINE_*` name of a machine value.
pub fn machine_name(m: u16) -> &'static str {
    match m {
        0x0 => "IMAGE_FILE_MACHINE_UNKNOWN",
        0x14c => "IMAGE_FILE_MACHINE_I386",
        0x8664 => "IMAGE_FILE_MACHINE_AMD64",
        0xaa64 => "IMAGE_FILE_MACHINE_ARM64",
        0xa641 => "IMAGE_FILE_MACHINE_ARM64EC",
        0xa64e => "IMAGE_FILE_MACHINE_ARM64X",
        0x1c0 => "IMAGE_FILE_MACHINE_ARM",
        0x1c2 => "IMAGE_FILE_MACHINE_THUMB",
        0x1c4 => "IMAGE_FILE_MACHINE_ARMNT",
        0x200 => "IMAGE_FILE_MACHINE_IA64",
        0x162 => "IMAGE_FILE_MACHINE_R3000",
        0x166 => "IMAGE_FILE_MACHINE_R4000",
        0x168 => "IMAGE_FILE_MACHINE_R10000",
        0x169 => "IMAGE_FILE_MACHINE_WCEMIPSV2",
        0x266 => "IMAGE_FILE_MACHINE_MIPS16",
        0x366 => "IMAGE_FILE_MACHINE_MIPSFPU",
        0x466 => "IMAGE_FILE_MACHINE_MIPSFPU16",
        0x184 => "IMAGE_FILE_MACHINE_ALPHA",
        0x284 => "IMAGE_FILE_MACHINE_ALPHA64",
        0x1f0 => "IMAGE_FILE_MACHINE_POWERPC",
        0x1f1 => "IMAGE_FILE_MACHINE_POWERPCFP",
        0x1a2 => "IMAGE_FILE_MACHINE_SH3",
        0x1a6 => "IMAGE_FILE_MACHINE_SH4",
        0x5032 => "IMAGE_FILE_MACHINE_RISCV32",
        0x5064 => "IMAGE_FILE_MACHINE_RISCV64",
        0xebc => "IMAGE_FILE_MACHINE_EBC",
        _ => "unknown machine",
    }
}

/// Whether `m` is a machine value a COFF object is plausibly built for.
pub fn is_known_machine(m: u16) -> bool {
    machine_name(m) != "unknown machine" && m != 0
}

/// File-header `Characteristics` flag names.
pub fn file_characteristics(c: u16) -> Vec<String> {
    const NAMES: [(u16, &str); 15] = [
        (0x0001, "RELOCS_STRIPPED"),
        (0x0002, "EXECUTABLE_IMAGE"),
        (0x0004, "LINE_NUMS_STRIPPED"),
        (0x0008, "LOCAL_SYMS_STRIPPED"),
        (0x0010, "AGGRESSIVE_WS_TRIM"),
        (0x0020, "LARGE_ADDRESS_AWARE"),
        (0x0080, "BYTES_REVERSED_LO"),
        (0x0100, "32BIT_MACHINE"),
        (0x0200, "DEBUG_STRIPPED"),
        (0x0400, "REMOVABLE_RUN_FROM_SWAP"),
        (0x0800, "NET_RUN_FROM_SWAP"),
        (0x1000, "SYSTEM"),
        (0x2000, "DLL"),
        (0x4000, "UP_SYSTEM_ONLY"),
        (0x8000, "BYTES_REVERSED_HI"),
    ];
    NAMES.iter().filter(|(b, _)| c & b != 0).map(|(_, n)| format!("IMAGE_FILE_{n}")).collect()
}

/// Section `Characteristics` flag names (alignment decoded as `ALIGN_nBYTES`).
pub fn section_flag_names(c: u32) -> Vec<String> {
    const NAMES: [(u32, &str); 22] = [
        (0x0000_0008, "TYPE_NO_PAD"),
        (0x0000_0020, "CNT_CODE"),
        (0x0000_0040, "CNT_INITIALIZED_DATA"),
        (0x0000_0080, "CNT_UNINITIALIZED_DATA"),
        (0x0000_0100, "LNK_OTHER"),
        (0x0000_0200, "LNK_INFO"),
        (0x0000_0800, "LNK_REMOVE"),
        (0x0000_1000, "LNK_COMDAT"),
        (0x0000_4000, "NO_DEFER_SPEC_EXC"),
        (0x0000_8000, "GPREL"),
        (0x0002_0000, "MEM_PURGEABLE"),
        (0x0004_0000, "MEM_LOCKED"),
        (0x0008_0000, "MEM_PRELOAD"),
        (0x0100_0000, "LNK_NRELOC_OVFL"),
        (0x0200_0000, "MEM_DISCARDABLE"),
        (0x0400_0000, "MEM_NOT_CACHED"),
        (0x0800_0000, "MEM_NOT_PAGED"),
        (0x1000_0000, "MEM_SHARED"),
        (0x2000_0000, "MEM_EXECUTE"),
        (0x4000_0000, "MEM_READ"),
        (0x8000_0000, "MEM_WRITE"),
        (0x0001_0000, "MEM_16BIT"),
    ];
    let mut out: Vec<String> =
        NAMES.iter().filter(|(b, _)| c & b != 0).map(|(_, n)| format!("IMAGE_SCN_{n}")).collect();
    if let Some(a) = section_alignment(c) {
        out.push(format!("IMAGE_SCN_ALIGN_{a}BYTES"));
    }
    out
}

/// The alignment encoded in section characteristics bits 20–23.
pub fn section_alignment(c: u32) -> Option<u64> {
    let n = (c >> 20) & 0xf;
    (1..=14).contains(&n).then(|| 1u64 << (n - 1))
}

/// Section characteristic bits used elsewhere.
pub mod scn {
    /// `IMAGE_SCN_CNT_CODE`.
    pub const CNT_CODE: u32 = 0x20;
    /// `IMAGE_SCN_CNT_UNINITIALIZED_DATA`.
    pub const CNT_UNINIT: u32 = 0x80;
    /// `IMAGE_SCN_LNK_REMOVE`.
    pub const LNK_REMOVE: u32 = 0x800;
    /// `IMAGE_SCN_LNK_INFO`.
    pub const LNK_INFO: u32 = 0x200;
    /// `IMAGE_SCN_LNK_COMDAT`.
    pub const LNK_COMDAT: u32 = 0x1000;
    /// `IMAGE_SCN_LNK_NRELOC_OVFL`.
    pub const NRELOC_OVFL: u32 = 0x0100_0000;
    /// `IMAGE_SCN_MEM_DISCARDABLE`.
    pub const DISCARDABLE: u32 = 0x0200_0000;
    /// `IMAGE_SCN_MEM_EXECUTE`.
    pub const EXECUTE: u32 = 0x2000_0000;
    /// `IMAGE_SCN_MEM_WRITE`.
    pub const WRITE: u32 = 0x8000_0000;
}

pub use crate::model::RawSection;

/// Resolve a section name: inline 8 bytes, `/decimal` or `//base64` string-table offsets.
pub fn section_name(raw: &[u8; 8], strtab: Option<&[u8]>) -> (String, Option<String>) {
    let inline = raw.split(|&b| b == 0).next().unwrap_or(&[]);
    if inline.first() == Some(&b'/') && inline.len() > 1 {
        let off = if inline.get(1) == Some(&b'/') {
            decode_base64_offset(&inline[2..])
        } else {
            std::str::from_utf8(&inline[1..]).ok().and_then(|s| s.trim().parse::<u64>().ok())
        };
        let Some(off) = off else {
            return (
                text(inline),
                Some(format!("section name {} is not a valid string-table reference", text(inline))),
            );
        };
        match strtab.and_then(|t| crate::formats::bytes::cstr_at(t, off, 4096)) {
            Some(n) => return (text(n), None),
            None => {
                return (text(inline), Some(format!("section name {} points outside the string table", text(inline))))
            }
        }
    }
    (text(inline), None)
}

fn decode_base64_offset(s: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in s {
        let d = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        v = v.checked_mul(64)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Section headers whose fields are listed one by one in `Binary::headers` (a file with 65,535
/// sections would otherwise add 650,000 fields).
pub const MAX_SECTION_HEADER_GROUPS: u32 = 256;

/// Add the fields of the section header at `h` (1-based `index`) as a header group.
fn section_header_fields(bin: &mut Binary, data: &[u8], h: u64, index: u32, is_image: bool) {
    let name = crate::formats::bytes::array_at::<8>(data, h).map(|n| text(n.split(|&b| b == 0).next().unwrap_or(&[])));
    let mut g = GroupBuilder::new(data, &format!("Section header {index} ({})", name.unwrap_or_default()), h);
    g.bytes("Name", 0, 8, "Up to 8 bytes of name, NUL-padded; `/n` points into the string table for longer names.");
    if is_image {
        g.int(
            "VirtualSize",
            8,
            4,
            "Size of the section in memory; the loader zero-fills what the file does not supply.",
        );
        g.int("VirtualAddress", 12, 4, "RVA where the loader maps the section (a multiple of SectionAlignment).");
    } else {
        g.int("PhysicalAddress", 8, 4, "Unused in object files (0).");
        g.int("VirtualAddress", 12, 4, "Unused in object files (0): the linker decides where the section goes.");
    }
    g.int("SizeOfRawData", 16, 4, "Number of bytes of the section stored in the file.");
    g.int("PointerToRawData", 20, 4, "File offset of the section's bytes (0 for uninitialised data).");
    g.int("PointerToRelocations", 24, 4, "File offset of the section's relocation records (objects only).");
    g.int("PointerToLinenumbers", 28, 4, "File offset of COFF line numbers (deprecated, normally 0).");
    g.dec(
        "NumberOfRelocations",
        32,
        2,
        "Number of 10-byte relocation records (0xFFFF with LNK_NRELOC_OVFL: the first record holds the count).",
    );
    g.dec("NumberOfLinenumbers", 34, 2, "Number of COFF line-number records (deprecated).");
    g.int_with("Characteristics", 36, 4, "What the section holds (code, data, bss), how it is mapped (read, write, execute, discardable), its alignment in objects, COMDAT.", |v| {
        flags_display(v, 8, &section_flag_names(v as u32))
    });
    bin.headers.push(g.finish());
}

/// Read `count` section headers at `off`, appending [`Section`]s to `bin`. Returns the raw fields.
pub fn read_section_table(
    bin: &mut Binary,
    data: &[u8],
    off: u64,
    count: u32,
    strtab: Option<&[u8]>,
    is_image: bool,
) -> Vec<RawSection> {
    let mut raws = Vec::new();
    for i in 0..count {
        let h = off.saturating_add(u64::from(i) * 40);
        let Some(name) = crate::formats::bytes::array_at::<8>(data, h) else {
            bin.diag(
                Severity::Error,
                Location::file(h),
                format!("section table truncated: header {} of {} lies past the end of the file", i + 1, count),
            );
            break;
        };
        let r = |o| u32_at(data, h + o).unwrap_or(0);
        let raw = RawSection {
            virtual_size: r(8),
            virtual_address: r(12),
            size_of_raw_data: r(16),
            pointer_to_raw_data: r(20),
            pointer_to_relocations: r(24),
            number_of_relocations: u16_at(data, h + 32).unwrap_or(0),
            characteristics: r(36),
        };
        if i < MAX_SECTION_HEADER_GROUPS {
            section_header_fields(bin, data, h, i + 1, is_image);
        }
        if u32_at(data, h + 36).is_none() {
            bin.diag(Severity::Error, Location::file(h), format!("section header {} is truncated", i + 1));
        }
        let (sname, problem) = section_name(&name, strtab);
        if let Some(p) = problem {
            bin.diag(Severity::Warning, Location::file(h), p);
        }
        let c = raw.characteristics;
        let uninit = c & scn::CNT_UNINIT != 0;
        let file_size = if uninit && !is_image { 0 } else { u64::from(raw.size_of_raw_data) };
        let file_offset = if file_size == 0 { 0 } else { u64::from(raw.pointer_to_raw_data) };
        if file_size > 0 && file_offset.saturating_add(file_size) > data.len() as u64 {
            bin.diag(
                Severity::Warning,
                Location::file(h),
                format!(
                    "section {} ({sname}): raw data 0x{:x}..0x{:x} extends past the end of the file (0x{:x})",
                    i + 1,
                    file_offset,
                    file_offset.saturating_add(file_size),
                    data.len()
                ),
            );
        }
        let virtual_size = if is_image { u64::from(raw.virtual_size) } else { u64::from(raw.size_of_raw_data) };
        let mut reloc_count = u32::from(raw.number_of_relocations);
        if c & scn::NRELOC_OVFL != 0 && raw.number_of_relocations == 0xffff {
            if let Some(n) = u32_at(data, u64::from(raw.pointer_to_relocations)) {
                reloc_count = n.saturating_sub(1);
            }
        }
        bin.sections.push(Section {
            index: i + 1,
            name: sname,
            rva: if is_image { u64::from(raw.virtual_address) } else { 0 },
            virtual_size,
            file_offset,
            file_size,
            flags: u64::from(c),
            flag_names: section_flag_names(c),
            kind: None,
            is_alloc: if is_image { true } else { c & (scn::LNK_REMOVE | scn::LNK_INFO) == 0 },
            is_exec: c & (scn::EXECUTE | scn::CNT_CODE) != 0,
            is_write: c & scn::WRITE != 0,
            align: section_alignment(c),
            header_span: Span::new(h, 40),
            reloc_count,
        });
        raws.push(raw);
    }
    raws
}

/// Add the 20-byte COFF file header at `off` as a header group; returns
/// (machine, number of sections, symbol table pointer, number of symbols, optional header size, characteristics).
pub fn read_file_header(bin: &mut Binary, data: &[u8], off: u64) -> Option<(u16, u16, u32, u32, u16, u16)> {
    let mut g = GroupBuilder::new(data, "COFF file header", off);
    let machine = g.int_with(
        "Machine",
        0,
        2,
        "The CPU the code is for. A loader refuses images for a machine it does not run.",
        |v| format!("0x{v:x} ({})", machine_name(v as u16)),
    )?;
    let nsec = g.dec("NumberOfSections", 2, 2, "How many entries the section table that follows the headers has.")?;
    g.int_with(
        "TimeDateStamp",
        4,
        4,
        "Seconds since 1970 when the linker or compiler wrote the file (often a hash in reproducible builds).",
        |v| format!("0x{v:08x}"),
    )?;
    let symptr = g.int(
        "PointerToSymbolTable",
        8,
        4,
        "File offset of the COFF symbol table; 0 if there is none (images are normally stripped).",
    )?;
    let nsym = g.dec(
        "NumberOfSymbols",
        12,
        4,
        "Number of 18-byte records in the symbol table, auxiliary records included. The string table follows it.",
    )?;
    let opt = g.dec("SizeOfOptionalHeader", 16, 2, "Size of the optional header that follows; 0 in object files.")?;
    let ch = g.int_with(
        "Characteristics",
        18,
        2,
        "Flags: executable image, DLL, large-address-aware, 32-bit machine, …",
        |v| flags_display(v, 4, &file_characteristics(v as u16)),
    )?;
    bin.headers.push(g.finish());
    Some((machine as u16, nsec as u16, symptr as u32, nsym as u32, opt as u16, ch as u16))
}
