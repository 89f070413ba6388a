//! `ar` archives (GNU, BSD, COFF import libraries, thin) with their members and symbol index,
//! and COFF short import members.

use object::read::archive::ArchiveFile;

use super::bytes::{cstr_at, text, u16_at, GroupBuilder};
use crate::model::{
    Arch, ArchiveSymbol, Binary, Format, ImportNameType, ImportObject, ImportType, Location, Member, Severity,
};

/// Deepest nesting of archives inside archives that is opened.
const MAX_DEPTH: u32 = 2;

/// Read an archive and every member it holds.
pub fn load_archive(data: &[u8], depth: u32) -> Binary {
    let mut bin = Binary::new(Format::Archive, data.len() as u64);
    let archive = match ArchiveFile::parse(data) {
        Ok(a) => a,
        Err(e) => {
            bin.diag(Severity::Error, Location::file(0), format!("archive: {e}"));
            return bin;
        }
    };
    match archive.symbols() {
        Ok(Some(syms)) => {
            for s in syms.take(1 << 20) {
                match s {
                    Ok(s) => {
                        bin.archive_symbols.push(ArchiveSymbol { name: text(s.name()), member_offset: s.offset().0 })
                    }
                    Err(e) => {
                        bin.diag(Severity::Warning, Location::NONE, format!("archive symbol index: {e}"));
                        break;
                    }
                }
            }
        }
        Ok(None) => {}
        Err(e) => bin.diag(Severity::Warning, Location::NONE, format!("archive symbol index: {e}")),
    }
    let mut archs: Vec<Arch> = Vec::new();
    for m in archive.members().take(1 << 20) {
        let m = match m {
            Ok(m) => m,
            Err(e) => {
                bin.diag(Severity::Error, Location::NONE, format!("archive member: {e}; later members cannot be read"));
                break;
            }
        };
        let name = text(m.name());
        let (off, size) = m.file_range();
        let header_offset = m.header().map_or(off, |h| {
            let extra = std::str::from_utf8(&h.name)
                .ok()
                .and_then(|n| n.strip_prefix("#1/"))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
            off.saturating_sub(extra.saturating_add(60))
        });
        if m.is_thin() {
            bin.diag(
                Severity::Warning,
                Location::file(header_offset),
                format!("thin archive member {name} is an external file and is not read"),
            );
            bin.members.push(Member {
                member_name: name,
                member_offset: header_offset,
                member_size: size,
                binary: None,
            });
            continue;
        }
        let member_bin = match m.data(data) {
            Ok(d) => match super::load_nested(d, depth + 1) {
                Ok(b) => Some(Box::new(b)),
                Err(e) => {
                    bin.diag(Severity::Info, Location::file(off), format!("member {name}: {e}"));
                    None
                }
            },
            Err(e) => {
                bin.diag(Severity::Error, Location::file(header_offset), format!("member {name}: {e}"));
                None
            }
        };
        if let Some(b) = &member_bin {
            if !archs.contains(&b.arch) && b.arch != Arch::Unspecified {
                archs.push(b.arch.clone());
            }
        }
        bin.members.push(Member {
            member_name: name,
            member_offset: header_offset,
            member_size: size,
            binary: member_bin,
        });
    }
    bin.arch = match archs.len() {
        0 => Arch::Unspecified,
        1 => archs.remove(0),
        _ => Arch::Mixed(archs),
    };
    bin.is_64 = bin.members.iter().filter_map(|m| m.binary.as_ref()).any(|b| b.is_64);
    bin
}

/// Whether an archive at `depth` may open nested archives.
pub fn may_nest(depth: u32) -> bool {
    depth < MAX_DEPTH
}

/// Whether `data` is a COFF short import member (`Sig1 = 0, Sig2 = 0xFFFF, Version = 0`).
pub fn is_import_object(data: &[u8]) -> bool {
    u16_at(data, 0) == Some(0) && u16_at(data, 2) == Some(0xffff) && u16_at(data, 4) == Some(0)
}

/// Read a COFF short import member.
pub fn load_import_object(data: &[u8]) -> Binary {
    let mut bin = Binary::new(Format::ImportObject, data.len() as u64);
    let mut g = GroupBuilder::new(data, "Import object header", 0);
    g.int("Sig1", 0, 2, "Always 0 (IMAGE_FILE_MACHINE_UNKNOWN).");
    g.int("Sig2", 2, 2, "Always 0xFFFF: marks a short import member.");
    g.dec("Version", 4, 2, "Structure version, 0.");
    let machine = g.int_with("Machine", 6, 2, "The CPU of the DLL this member imports from.", |v| {
        format!("0x{v:x} ({})", super::coff::header::machine_name(v as u16))
    });
    g.int("TimeDateStamp", 8, 4, "Time the import library was created.");
    let size = g.int("SizeOfData", 12, 4, "Length of the two (or three) strings that follow the header.");
    let oh = g.dec(
        "OrdinalHint",
        16,
        2,
        "Ordinal to import by (name type ORDINAL), else a hint into the DLL's export name table.",
    );
    let ty = g.int_with(
        "Type",
        18,
        2,
        "Bits 0–1: code / data / const; bits 2–4: name type (ordinal, name, noprefix, undecorate, exportas).",
        |v| format!("0x{v:x} ({}, {})", ImportType::from_bits(v as u16), ImportNameType::from_bits(v as u16)),
    );
    bin.headers.push(g.finish());
    let (Some(machine), Some(size), Some(oh), Some(ty)) = (machine, size, oh, ty) else {
        bin.diag(Severity::Error, Location::file(0), "import object header is truncated");
        return bin;
    };
    bin.arch = Arch::from_coff_machine(machine as u16);
    bin.is_64 = matches!(machine, 0x8664 | 0xaa64 | 0xa641 | 0xa64e);
    if 20 + size > data.len() as u64 {
        bin.diag(
            Severity::Error,
            Location::file(12),
            format!("import object data (0x{size:x} bytes) runs past the end of the member"),
        );
    }
    let strings = data.get(20..).unwrap_or(&[]);
    let symbol = cstr_at(strings, 0, strings.len()).map(text);
    let dll_off = symbol.as_ref().map_or(0, |s| s.len() as u64 + 1);
    let dll = cstr_at(strings, dll_off, strings.len()).map(text);
    let (Some(symbol), Some(dll)) = (symbol, dll) else {
        bin.diag(Severity::Error, Location::file(20), "import object strings are not NUL-terminated");
        return bin;
    };
    let export_as = cstr_at(strings, dll_off + dll.len() as u64 + 1, strings.len()).map(text);
    let nt = ImportNameType::from_bits(ty as u16);
    let import_name = nt.import_name(&symbol, export_as.as_deref());
    bin.import_object = Some(ImportObject {
        dll,
        symbol,
        import_name,
        kind: ImportType::from_bits(ty as u16),
        name_type: nt,
        ordinal_or_hint: oh as u16,
    });
    bin
}
