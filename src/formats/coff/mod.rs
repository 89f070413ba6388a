//! COFF objects (regular and bigobj): header, sections, symbols, COMDATs and relocations.
//! The pieces are shared with the PE reader, which uses them for images that keep symbols.

pub mod comdat;
pub mod header;
pub mod lean;
pub mod relocs;
pub mod symbols;

use crate::formats::bytes::{u16_at, u32_at, GroupBuilder};
use crate::model::{Arch, Binary, Format, Location, Severity};

/// The bigobj class GUID `{D1BAA1C7-BAEE-4ba9-AF20-FAF66AA4DCB8}` as stored.
pub const BIGOBJ_CLASS_ID: [u8; 16] =
    [0xc7, 0xa1, 0xba, 0xd1, 0xee, 0xba, 0xa9, 0x4b, 0xaf, 0x20, 0xfa, 0xf6, 0x6a, 0xa4, 0xdc, 0xb8];

/// Whether `data` starts like a bigobj header.
pub fn is_bigobj(data: &[u8]) -> bool {
    u16_at(data, 0) == Some(0)
        && u16_at(data, 2) == Some(0xffff)
        && u16_at(data, 4).is_some_and(|v| v >= 2)
        && data.get(12..28) == Some(&BIGOBJ_CLASS_ID[..])
}

/// Whether `data` plausibly is a regular COFF object: a known machine, a header whose optional
/// part fits in the file, and a section count below the classic limit. A section table that does
/// not fit is read as far as it goes, with a diagnostic.
pub fn looks_like_object(data: &[u8]) -> bool {
    let (Some(m), Some(n), Some(opt)) = (u16_at(data, 0), u16_at(data, 2), u16_at(data, 16)) else {
        return false;
    };
    header::is_known_machine(m) && 20 + u64::from(opt) <= data.len() as u64 && n <= 0xfeff
}

/// Read a regular or bigobj COFF object.
pub fn load_object(data: &[u8]) -> Binary {
    let bigobj = is_bigobj(data);
    let mut bin = Binary::new(if bigobj { Format::CoffBigobj } else { Format::Coff }, data.len() as u64);
    let (machine, nsec, symptr, nsym, sect_off) = if bigobj {
        let mut g = GroupBuilder::new(data, "COFF bigobj header", 0);
        g.int("Sig1", 0, 2, "Always 0 (IMAGE_FILE_MACHINE_UNKNOWN): marks an 'anonymous' object header.");
        g.int("Sig2", 2, 2, "Always 0xFFFF: together with Sig1 tells a linker this is not a classic COFF header.");
        g.dec("Version", 4, 2, "Header version; 2 for bigobj.");
        let m = g
            .int_with("Machine", 6, 2, "The CPU the code is for.", |v| {
                format!("0x{v:x} ({})", header::machine_name(v as u16))
            })
            .unwrap_or(0);
        g.int("TimeDateStamp", 8, 4, "Creation time (or 0 / a hash in reproducible builds).");
        g.bytes("ClassID", 12, 16, "GUID {D1BAA1C7-BAEE-4ba9-AF20-FAF66AA4DCB8} identifying the bigobj format.");
        g.int("SizeOfData", 28, 4, "Unused for bigobj.");
        g.int("Flags", 32, 4, "Unused for bigobj.");
        g.int("MetaDataSize", 36, 4, "Unused for bigobj.");
        g.int("MetaDataOffset", 40, 4, "Unused for bigobj.");
        let n = g
            .dec(
                "NumberOfSections",
                44,
                4,
                "Number of section headers: 32 bits wide, which is why bigobj exists (classic COFF stops at 65279).",
            )
            .unwrap_or(0);
        let sp = g
            .int("PointerToSymbolTable", 48, 4, "File offset of the symbol table (20-byte records in bigobj).")
            .unwrap_or(0);
        let ns = g.dec("NumberOfSymbols", 52, 4, "Number of symbol records, aux records included.").unwrap_or(0);
        bin.headers.push(g.finish());
        (m as u16, n as u32, sp as u32, ns as u32, 56u64)
    } else {
        let Some((m, n, sp, ns, opt, _)) = header::read_file_header(&mut bin, data, 0) else {
            bin.diag(Severity::Error, Location::file(0), "COFF file header is truncated");
            return bin;
        };
        if opt != 0 {
            bin.diag(Severity::Warning, Location::file(16), format!("object file has a {opt}-byte optional header"));
        }
        (m, u32::from(n), sp, ns, 20 + u64::from(opt))
    };
    bin.arch = Arch::from_coff_machine(machine);
    bin.is_64 = matches!(machine, 0x8664 | 0xaa64 | 0xa641 | 0xa64e | 0x200 | 0x284 | 0x5064 | 0x6264);
    let rs = if bigobj { 20 } else { 18 };
    let strtab = symbols::string_table(data, u64::from(symptr), u64::from(nsym), rs);
    let raws = header::read_section_table(&mut bin, data, sect_off, nsec, strtab, false);
    let table = symbols::read_symbols(&mut bin, data, u64::from(symptr), nsym, bigobj, strtab);
    comdat::read_comdats(&mut bin, data, &table, bigobj);
    relocs::read_relocations(&mut bin, data, machine, &raws, &table);
    if symptr != 0 && u32_at(data, u64::from(symptr)).is_none() {
        bin.diag(
            Severity::Error,
            Location::file(u64::from(symptr)),
            "symbol table pointer is past the end of the file",
        );
    }
    bin
}
