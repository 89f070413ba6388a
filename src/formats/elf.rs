//! ELF32 / ELF64 files (relocatable, executable, shared) read through the `object` crate's
//! low-level ELF API and lowered into the model: sections, program headers, symbols, section
//! groups, `SHF_LINK_ORDER` links, static and dynamic relocations, the dynamic section, version
//! requirements, and the GOT/PLT/COPY slots that are ELF's counterpart of the IAT.

use object::read::elf::{Dyn, FileHeader, ProgramHeader, Rel, Rela, SectionHeader, SectionTable, Sym};
use object::read::StringTable;
use object::Endianness;

use super::bytes::{sign_extend, text, uint_at};
use super::elf_relocs::reloc_info;
use crate::demangle::demangle;
use crate::model::{
    Arch, Binary, Binding, DynamicEntry, ElfInfo, ElfSymbolType, Export, Format, GotSlot, LinkOrder, Location,
    RelocKind, Relocation, Section, SectionGroup, SectionKind, Segment, SegmentKind, Severity, Span, SpecialSection,
    Symbol, SymbolKind, VersionNeed,
};

const SHT_SYMTAB: u32 = 2;
const SHT_RELA: u32 = 4;
const SHT_DYNAMIC: u32 = 6;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHT_DYNSYM: u32 = 11;
const SHT_GROUP: u32 = 17;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
const SHF_LINK_ORDER: u64 = 0x80;
const MAX_RELOCS: usize = 1 << 24;

fn section_flag_names(f: u64) -> Vec<String> {
    const NAMES: [(u64, &str); 12] = [
        (0x1, "SHF_WRITE"),
        (0x2, "SHF_ALLOC"),
        (0x4, "SHF_EXECINSTR"),
        (0x10, "SHF_MERGE"),
        (0x20, "SHF_STRINGS"),
        (0x40, "SHF_INFO_LINK"),
        (0x80, "SHF_LINK_ORDER"),
        (0x100, "SHF_OS_NONCONFORMING"),
        (0x200, "SHF_GROUP"),
        (0x400, "SHF_TLS"),
        (0x800, "SHF_COMPRESSED"),
        (0x8000_0000, "SHF_EXCLUDE"),
    ];
    NAMES.iter().filter(|(b, _)| f & b != 0).map(|(_, n)| n.to_string()).collect()
}

fn dyn_tag_name(t: u64) -> String {
    let n = match t {
        0 => "NULL",
        1 => "NEEDED",
        2 => "PLTRELSZ",
        3 => "PLTGOT",
        4 => "HASH",
        5 => "STRTAB",
        6 => "SYMTAB",
        7 => "RELA",
        8 => "RELASZ",
        9 => "RELAENT",
        10 => "STRSZ",
        11 => "SYMENT",
        12 => "INIT",
        13 => "FINI",
        14 => "SONAME",
        15 => "RPATH",
        16 => "SYMBOLIC",
        17 => "REL",
        18 => "RELSZ",
        19 => "RELENT",
        20 => "PLTREL",
        21 => "DEBUG",
        22 => "TEXTREL",
        23 => "JMPREL",
        24 => "BIND_NOW",
        25 => "INIT_ARRAY",
        26 => "FINI_ARRAY",
        27 => "INIT_ARRAYSZ",
        28 => "FINI_ARRAYSZ",
        29 => "RUNPATH",
        30 => "FLAGS",
        32 => "PREINIT_ARRAY",
        33 => "PREINIT_ARRAYSZ",
        0x6fff_fef5 => "GNU_HASH",
        0x6fff_fff0 => "VERSYM",
        0x6fff_fff9 => "RELACOUNT",
        0x6fff_fffa => "RELCOUNT",
        0x6fff_fffb => "FLAGS_1",
        0x6fff_fffc => "VERDEF",
        0x6fff_fffd => "VERDEFNUM",
        0x6fff_fffe => "VERNEED",
        0x6fff_ffff => "VERNEEDNUM",
        _ => return format!("0x{t:x}"),
    };
    n.to_string()
}

/// One symbol table's names as relocations see them: (symtab section index, names, (value, size)).
type SymbolNames = (usize, Vec<String>, Vec<(u64, u64)>);

/// Read an ELF file.
pub fn load_elf(data: &[u8]) -> Binary {
    let is64 = data.get(4) == Some(&2);
    let mut bin = Binary::new(if is64 { Format::Elf64 } else { Format::Elf32 }, data.len() as u64);
    if is64 {
        read::<object::elf::FileHeader64<Endianness>>(&mut bin, data);
    } else {
        read::<object::elf::FileHeader32<Endianness>>(&mut bin, data);
    }
    bin
}

fn read<Elf: FileHeader<Endian = Endianness>>(bin: &mut Binary, data: &[u8]) {
    let header = match Elf::parse(data) {
        Ok(h) => h,
        Err(e) => {
            bin.diag(Severity::Error, Location::file(0), format!("ELF header: {e}"));
            return;
        }
    };
    let Ok(e) = header.endian() else {
        bin.diag(Severity::Error, Location::file(5), "ELF header has an invalid data encoding");
        return;
    };
    let machine = header.e_machine(e).0;
    bin.arch = Arch::from_elf_machine(machine);
    bin.is_64 = header.is_type_64();
    let ftype = header.e_type(e).0;
    let mut info = ElfInfo {
        file_type: match ftype {
            1 => "REL".into(),
            2 => "EXEC".into(),
            3 => "DYN".into(),
            4 => "CORE".into(),
            t => format!("0x{t:x}"),
        },
        ..Default::default()
    };
    header_fields(bin, data, header, e);
    read_program_headers(bin, &mut info, data, header, e);
    let sections = match header.sections(e, data) {
        Ok(s) => s,
        Err(err) => {
            bin.diag(Severity::Error, Location::file(header.e_shoff(e).into()), format!("section headers: {err}"));
            bin.elf = Some(info);
            return;
        }
    };
    let r = Reader { data, e, ftype, machine, sections };
    read_section_headers(bin, &r, header);
    let sym_names = read_symbols(bin, &r);
    read_groups(bin, &r, &sym_names);
    read_relocations(bin, &mut info, &r, &sym_names);
    read_dynamic(bin, &mut info, &r);
    bin.elf = Some(info);
}

/// What the parts of an ELF read share once the section table is parsed.
struct Reader<'d, Elf: FileHeader<Endian = Endianness>> {
    data: &'d [u8],
    e: Endianness,
    /// `e_type` (1 relocatable, 2 executable, 3 shared object).
    ftype: u16,
    /// `e_machine`.
    machine: u16,
    sections: SectionTable<'d, Elf>,
}

/// Program headers: the segments, the interpreter, and (outside relocatable objects) the image
/// base (lowest `PT_LOAD` address) and entry point.
fn read_program_headers<Elf: FileHeader<Endian = Endianness>>(
    bin: &mut Binary,
    info: &mut ElfInfo,
    data: &[u8],
    header: &Elf,
    e: Endianness,
) {
    let ftype = header.e_type(e).0;
    let phdrs = match header.program_headers(e, data) {
        Ok(p) => p,
        Err(err) => {
            bin.diag(Severity::Error, Location::file(header.e_phoff(e).into()), format!("program headers: {err}"));
            &[]
        }
    };
    let phoff: u64 = header.e_phoff(e).into();
    let phsize = u64::from(header.e_phentsize(e));
    for (i, p) in phdrs.iter().enumerate() {
        let flags = u64::from(p.p_flags(e).0);
        let mut names = Vec::new();
        for (b, n) in [(4, "R"), (2, "W"), (1, "E")] {
            if flags & b != 0 {
                names.push(n.to_string());
            }
        }
        bin.segments.push(Segment {
            index: i as u32,
            kind: SegmentKind::from_p_type(p.p_type(e).0),
            vaddr: p.p_vaddr(e).into(),
            mem_size: p.p_memsz(e).into(),
            file_offset: p.p_offset(e).into(),
            file_size: p.p_filesz(e).into(),
            flags,
            flag_names: names,
            align: p.p_align(e).into(),
            header_span: Span::new(phoff + i as u64 * phsize, phsize),
        });
        if i < MAX_HEADER_GROUPS && e == Endianness::Little {
            program_header_fields(bin, data, phoff + i as u64 * phsize, i, bin_is_64(bin));
        }
        if p.p_type(e).0 == 3 {
            if let Ok(b) = p.data(e, data) {
                info.interpreter = Some(text(b.split(|&c| c == 0).next().unwrap_or(b)));
            }
        }
    }
    let image_base = bin.segments.iter().filter(|s| s.kind == SegmentKind::Load).map(|s| s.vaddr).min().unwrap_or(0);
    if ftype != 1 {
        bin.image_base = Some(image_base);
        let entry: u64 = header.e_entry(e).into();
        if entry != 0 {
            bin.entry_rva = Some(entry.wrapping_sub(image_base));
        }
    }
}

/// Section headers: the sections, their header fields and `SHF_LINK_ORDER` ties.
fn read_section_headers<Elf: FileHeader<Endian = Endianness>>(bin: &mut Binary, r: &Reader<'_, Elf>, header: &Elf) {
    let (data, e, ftype, sections) = (r.data, r.e, r.ftype, &r.sections);
    let shoff: u64 = header.e_shoff(e).into();
    let shsize = u64::from(header.e_shentsize(e));
    let base = bin.image_base.unwrap_or(0);
    for (i, sh) in sections.iter().enumerate() {
        let name = match sections.section_name(e, sh) {
            Ok(n) => text(n),
            Err(_) => {
                bin.diag(
                    Severity::Warning,
                    Location::file(shoff + i as u64 * shsize),
                    format!("section {i}: name offset is outside the section-name string table"),
                );
                format!("<section {i}>")
            }
        };
        let t = sh.sh_type(e).0;
        let flags: u64 = sh.sh_flags(e).0;
        let size: u64 = sh.sh_size(e).into();
        let addr: u64 = sh.sh_addr(e).into();
        let alloc = flags & SHF_ALLOC != 0;
        let off: u64 = sh.sh_offset(e).into();
        let file_size = if t == SHT_NOBITS { 0 } else { size };
        if file_size > 0 && off.saturating_add(file_size) > data.len() as u64 {
            bin.diag(
                Severity::Warning,
                Location::file(shoff + i as u64 * shsize),
                format!(
                    "section {i} ({name}): data 0x{off:x}..0x{:x} runs past the end of the file",
                    off.saturating_add(file_size)
                ),
            );
        }
        bin.sections.push(Section {
            index: i as u32,
            name,
            rva: if alloc && ftype != 1 { addr.wrapping_sub(base) } else { addr },
            virtual_size: size,
            file_offset: if file_size > 0 { off } else { 0 },
            file_size,
            flags,
            flag_names: section_flag_names(flags),
            kind: Some(SectionKind::from_sh_type(t)),
            is_alloc: alloc,
            is_exec: flags & SHF_EXECINSTR != 0,
            is_write: flags & SHF_WRITE != 0,
            align: Some(sh.sh_addralign(e).into()),
            header_span: Span::new(shoff + i as u64 * shsize, shsize),
            reloc_count: 0,
        });
        if i < MAX_HEADER_GROUPS && e == Endianness::Little {
            let label = bin.sections.last().map_or_else(String::new, |s| s.name.clone());
            section_header_fields(bin, data, shoff + i as u64 * shsize, i, &label, bin_is_64(bin));
        }
        if flags & SHF_LINK_ORDER != 0 {
            bin.link_order.push(LinkOrder { section: i as u32, linked_section: sh.sh_link(e) });
        }
    }
}

/// Symbols (static, then dynamic) and a shared object's exports; returns each symbol table's
/// names as relocations see them.
fn read_symbols<Elf: FileHeader<Endian = Endianness>>(bin: &mut Binary, r: &Reader<'_, Elf>) -> Vec<SymbolNames> {
    let (data, e, ftype, sections) = (r.data, r.e, r.ftype, &r.sections);
    let base = bin.image_base.unwrap_or(0);
    let mut sym_names: Vec<SymbolNames> = Vec::new();
    for (i, sh) in sections.iter().enumerate() {
        let t = sh.sh_type(e).0;
        if t != SHT_SYMTAB && t != SHT_DYNSYM {
            continue;
        }
        let Ok(syms) = sh.data_as_array::<Elf::Sym, _>(e, data) else {
            bin.diag(
                Severity::Warning,
                Location::file(sh.sh_offset(e).into()),
                format!("symbol table in section {i} is not in the file"),
            );
            continue;
        };
        let strings = sections
            .section(object::SectionIndex(sh.sh_link(e) as usize))
            .ok()
            .and_then(|s| s.data(e, data).ok())
            .map(|d| StringTable::new(d, 0, d.len() as u64))
            .unwrap_or_default();
        let ent = if is_elf64::<Elf>() { 24 } else { 16 };
        let mut names = Vec::with_capacity(syms.len());
        let mut vals = Vec::with_capacity(syms.len());
        for (k, s) in syms.iter().enumerate() {
            let name = s.name(e, strings).map(text).unwrap_or_else(|_| "<bad name>".into());
            let value: u64 = s.st_value(e).into();
            let size: u64 = s.st_size(e).into();
            // Relocations against a section symbol name the section, as readelf and llvm-readobj do.
            let shndx_raw = usize::from(s.st_shndx(e).0);
            let rel_name = if s.st_type().0 == 3 && name.is_empty() {
                bin.sections.get(shndx_raw).map_or_else(String::new, |sec| sec.name.clone())
            } else {
                name.clone()
            };
            names.push(rel_name);
            vals.push((value, size));
            if k == 0 {
                continue;
            }
            let shndx = s.st_shndx(e).0;
            let (section, section_kind) = match shndx {
                0 => (None, Some(SpecialSection::Undefined)),
                0xfff1 => (None, Some(SpecialSection::Absolute)),
                0xfff2 => (None, Some(SpecialSection::Common)),
                0xffff => (None, Some(SpecialSection::Xindex)),
                n => (Some(u32::from(n)), None),
            };
            let kind = ElfSymbolType::from_st_type(s.st_type().0);
            // A shared object exports its defined global and weak dynamic symbols.
            let bind = s.st_bind().0;
            if t == SHT_DYNSYM && ftype == 3 && section.is_some() && matches!(bind, 1 | 2 | 10) {
                bin.exports.push(Export {
                    demangled: demangle(&name),
                    name: Some(name.clone()),
                    ordinal: k as u32,
                    rva: value.wrapping_sub(base),
                    forwarder: None,
                    span: Some(Span::new(Into::<u64>::into(sh.sh_offset(e)).saturating_add(k as u64 * ent), ent)),
                });
            }
            let binding = Binding::from_elf_bind(s.st_bind().0);
            bin.symbols.push(Symbol {
                index: k as u32,
                demangled: demangle(&name),
                name,
                value,
                size: Some(size),
                section,
                section_kind,
                kind: if t == SHT_DYNSYM { SymbolKind::Dynamic(kind) } else { kind.into() },
                binding,
                raw_type: u32::from(s.st_info().0),
                aux_count: 0,
                aux: Vec::new(),
                span: Span::new(Into::<u64>::into(sh.sh_offset(e)) + k as u64 * ent, ent),
            });
        }
        sym_names.push((i, names, vals));
    }
    sym_names
}

/// Section groups (`SHT_GROUP`), with their signature symbol's name.
fn read_groups<Elf: FileHeader<Endian = Endianness>>(bin: &mut Binary, r: &Reader<'_, Elf>, sym_names: &[SymbolNames]) {
    let (data, e, sections) = (r.data, r.e, &r.sections);
    for (i, sh) in sections.iter().enumerate() {
        if sh.sh_type(e).0 != SHT_GROUP {
            continue;
        }
        let Ok(words) = sh.data_as_array::<object::U32<Endianness>, _>(e, data) else {
            bin.diag(
                Severity::Warning,
                Location::file(sh.sh_offset(e).into()),
                format!("group section {i} is not in the file"),
            );
            continue;
        };
        let flags = words.first().map_or(0, |w| w.get(e));
        let members: Vec<u32> = words.iter().skip(1).map(|w| w.get(e)).collect();
        let signature = sym_names
            .iter()
            .find(|(s, _, _)| *s == sh.sh_link(e) as usize)
            .and_then(|(_, n, _)| n.get(sh.sh_info(e) as usize).cloned())
            .unwrap_or_else(|| format!("<symbol {}>", sh.sh_info(e)));
        for &m in &members {
            if m as usize >= bin.sections.len() {
                bin.diag(
                    Severity::Warning,
                    Location::file(sh.sh_offset(e).into()),
                    format!("group section {i} ({signature}) names section {m}, which does not exist"),
                );
            }
        }
        bin.groups.push(SectionGroup { section: i as u32, signature, comdat: flags & 1 != 0, members });
    }
}

/// Object and dynamic relocations, and the GOT slots and COPY relocations the loader binds.
fn read_relocations<Elf: FileHeader<Endian = Endianness>>(
    bin: &mut Binary,
    info: &mut ElfInfo,
    r: &Reader<'_, Elf>,
    sym_names: &[SymbolNames],
) {
    let (data, e, ftype, machine, sections) = (r.data, r.e, r.ftype, r.machine, &r.sections);
    let base = bin.image_base.unwrap_or(0);
    let nsec = bin.sections.len();
    for (i, sh) in sections.iter().enumerate() {
        let t = sh.sh_type(e).0;
        if t != SHT_REL && t != SHT_RELA {
            continue;
        }
        let flags: u64 = sh.sh_flags(e).0;
        let dynamic = ftype != 1 && flags & SHF_ALLOC != 0;
        let target = sh.sh_info(e) as usize;
        let symtab = sh.sh_link(e) as usize;
        let names = sym_names.iter().find(|(s, _, _)| *s == symtab);
        let ent: u64 = sh.sh_entsize(e).into();
        let base_off: u64 = sh.sh_offset(e).into();
        let mut rows: Vec<(u64, u32, u32, Option<i64>)> = Vec::new(); // offset, type, sym, explicit addend
        if t == SHT_RELA {
            match sh.data_as_array::<Elf::Rela, _>(e, data) {
                Ok(r) => rows.extend(r.iter().take(MAX_RELOCS).map(|r| {
                    let a: i64 = r.r_addend(e).into();
                    (r.r_offset(e).into(), r.r_type(e, false).0, r.r_sym(e, false), Some(a))
                })),
                Err(err) => {
                    bin.diag(Severity::Warning, Location::file(base_off), format!("relocation section {i}: {err}"))
                }
            }
        } else {
            match sh.data_as_array::<Elf::Rel, _>(e, data) {
                Ok(r) => rows
                    .extend(r.iter().take(MAX_RELOCS).map(|r| (r.r_offset(e).into(), r.r_type(e).0, r.r_sym(e), None))),
                Err(err) => {
                    bin.diag(Severity::Warning, Location::file(base_off), format!("relocation section {i}: {err}"))
                }
            }
        }
        if !dynamic && (target == 0 || target >= nsec) {
            bin.diag(
                Severity::Warning,
                Location::file(base_off),
                format!("relocation section {i} applies to section {target}, which does not exist"),
            );
        }
        if !dynamic {
            if let Some(s) = bin.sections.get_mut(target) {
                s.reloc_count = s.reloc_count.saturating_add(rows.len() as u32);
            }
        }
        let ent = if ent == 0 { 1 } else { ent };
        for (k, (offset, rtype, symi, explicit)) in rows.into_iter().enumerate() {
            let (kind, normalized, width, pc) = reloc_info(machine, rtype);
            let sym = names.and_then(|(_, n, _)| n.get(symi as usize)).cloned();
            let sym = match sym {
                Some(s) if s.is_empty() && symi != 0 => None,
                s => s,
            };
            let addend = match explicit {
                Some(a) => a,
                None => {
                    // REL: the addend is in the bytes at the site.
                    let bytes = u32::from(width).div_ceil(8);
                    let site = if dynamic {
                        va_to_file(&bin.segments, offset)
                    } else {
                        bin.sections
                            .get(target)
                            .filter(|s| offset + u64::from(bytes) <= s.file_size)
                            .map(|s| s.file_offset + offset)
                    };
                    match (site, bytes) {
                        (Some(o), 1 | 2 | 4 | 8) => uint_at(data, o, bytes).map_or(0, |v| sign_extend(v, bytes * 8)),
                        _ => 0,
                    }
                }
            };
            let symbol_name = sym.filter(|s| !s.is_empty());
            bin.relocations.push(Relocation {
                section: if dynamic { None } else { Some(target as u32) },
                offset: if dynamic { offset.wrapping_sub(base) } else { offset },
                kind: kind.clone(),
                raw_type: rtype,
                normalized,
                width,
                pc_relative: pc,
                symbol: symbol_name.clone(),
                symbol_index: Some(symi),
                addend,
                dynamic,
                span: Span::new(base_off.saturating_add((k as u64).saturating_mul(ent)), ent),
            });
            if dynamic && matches!(normalized, RelocKind::GlobDat | RelocKind::JumpSlot | RelocKind::Copy) {
                let slot = GotSlot {
                    rva: offset.wrapping_sub(base),
                    kind: kind.into_owned(),
                    symbol: symbol_name.unwrap_or_default(),
                    size: names.and_then(|(_, _, v)| v.get(symi as usize)).map(|v| v.1),
                };
                if normalized == RelocKind::Copy {
                    info.copy_relocations.push(slot);
                } else {
                    info.got_slots.push(slot);
                }
            }
        }
    }
}

/// The dynamic section (needed libraries, soname) and the version requirements.
fn read_dynamic<Elf: FileHeader<Endian = Endianness>>(bin: &mut Binary, info: &mut ElfInfo, r: &Reader<'_, Elf>) {
    let (data, e, sections) = (r.data, r.e, &r.sections);
    for (i, sh) in sections.iter().enumerate() {
        let t = sh.sh_type(e).0;
        if t == SHT_DYNAMIC {
            let strings = sections
                .section(object::SectionIndex(sh.sh_link(e) as usize))
                .ok()
                .and_then(|s| s.data(e, data).ok())
                .unwrap_or(&[]);
            let Ok(dyns) = sh.data_as_array::<Elf::Dyn, _>(e, data) else {
                bin.diag(
                    Severity::Warning,
                    Location::file(sh.sh_offset(e).into()),
                    format!("dynamic section {i} is not in the file"),
                );
                continue;
            };
            for d in dyns {
                let tag: u64 = d.d_tag(e).0 as u64;
                let val: u64 = d.d_val(e).into();
                let is_str = matches!(tag, 1 | 14 | 15 | 29);
                let s = if is_str { super::bytes::cstr_at(strings, val, 4096).map(text) } else { None };
                match tag {
                    1 => info.needed.extend(s.clone()),
                    14 => info.soname = s.clone(),
                    _ => {}
                }
                info.dynamic.push(DynamicEntry { tag: dyn_tag_name(tag), raw_tag: tag, value: val, string: s });
                if tag == 0 {
                    break;
                }
            }
        } else if t == SHT_GNU_VERNEED {
            let strings = sections
                .section(object::SectionIndex(sh.sh_link(e) as usize))
                .ok()
                .and_then(|s| s.data(e, data).ok())
                .unwrap_or(&[]);
            let Ok(d) = sh.data(e, data) else { continue };
            read_verneed(info, d, strings, e == Endianness::Little);
        }
    }
}

/// File offset of virtual address `va` through the `PT_LOAD` segments.
fn va_to_file(segments: &[Segment], va: u64) -> Option<u64> {
    segments
        .iter()
        .filter(|s| s.kind == SegmentKind::Load)
        .find(|s| va >= s.vaddr && va - s.vaddr < s.file_size)
        .and_then(|s| s.file_offset.checked_add(va - s.vaddr))
}

fn is_elf64<Elf: FileHeader>() -> bool {
    Elf::is_type_64_sized()
}

fn read_verneed(info: &mut ElfInfo, d: &[u8], strings: &[u8], le: bool) {
    let u16f = |o: usize| {
        d.get(o..o + 2).map(|b| if le { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) })
    };
    let u32f = |o: usize| {
        d.get(o..o + 4).map(|b| {
            let a = [b[0], b[1], b[2], b[3]];
            if le {
                u32::from_le_bytes(a)
            } else {
                u32::from_be_bytes(a)
            }
        })
    };
    let mut off = 0usize;
    for _ in 0..1024 {
        let (Some(cnt), Some(file), Some(aux), Some(next)) =
            (u16f(off + 2), u32f(off + 4), u32f(off + 8), u32f(off + 12))
        else {
            break;
        };
        let mut versions = Vec::new();
        let mut a = off.saturating_add(aux as usize);
        for _ in 0..cnt.min(256) {
            let (Some(name), Some(anext)) = (u32f(a + 8), u32f(a + 12)) else {
                break;
            };
            versions.push(super::bytes::cstr_at(strings, u64::from(name), 4096).map(text).unwrap_or_default());
            if anext == 0 {
                break;
            }
            a = a.saturating_add(anext as usize);
        }
        info.version_needs.push(VersionNeed {
            file: super::bytes::cstr_at(strings, u64::from(file), 4096).map(text).unwrap_or_default(),
            versions,
        });
        if next == 0 {
            break;
        }
        off = off.saturating_add(next as usize);
    }
}

/// Program and section headers whose fields are listed one by one in `Binary::headers`.
const MAX_HEADER_GROUPS: usize = 256;

fn bin_is_64(bin: &Binary) -> bool {
    bin.format == Format::Elf64
}

/// The fields of program header `i` at `at` (little-endian files only: the field builder reads LE).
fn program_header_fields(bin: &mut Binary, data: &[u8], at: u64, i: usize, is64: bool) {
    let mut g = super::bytes::GroupBuilder::new(data, &format!("Program header {i}"), at);
    let (w, flags_at) = if is64 { (8u32, 4u64) } else { (4u32, 24u64) };
    g.int_with("p_type", 0, 4, "Segment kind: LOAD (mapped), DYNAMIC, INTERP, NOTE, TLS, GNU_RELRO, …", |v| {
        format!("0x{v:x} ({})", SegmentKind::from_p_type(v as u32))
    });
    g.int("p_flags", flags_at, 4, "Access rights of the mapping: 4 = read, 2 = write, 1 = execute.");
    let base = if is64 { 8 } else { 4 };
    let step = u64::from(w);
    g.int("p_offset", base, w, "File offset of the segment's first byte.");
    g.int("p_vaddr", base + step, w, "Virtual address the segment is mapped at.");
    g.int("p_paddr", base + 2 * step, w, "Physical address (unused on hosted systems).");
    g.int("p_filesz", base + 3 * step, w, "Bytes taken from the file.");
    g.int("p_memsz", base + 4 * step, w, "Bytes in memory; past p_filesz they are zero (e.g. .bss).");
    g.int("p_align", if is64 { 48 } else { 28 }, w, "Alignment of the segment in memory and in the file.");
    bin.headers.push(g.finish());
}

/// The fields of section header `i` at `at` (little-endian files only).
fn section_header_fields(bin: &mut Binary, data: &[u8], at: u64, i: usize, name: &str, is64: bool) {
    let mut g = super::bytes::GroupBuilder::new(data, &format!("Section header {i} ({name})"), at);
    let w: u32 = if is64 { 8 } else { 4 };
    let step = u64::from(w);
    g.int("sh_name", 0, 4, "Offset of the section's name in the section-name string table.");
    g.int_with("sh_type", 4, 4, "What the section holds: PROGBITS, SYMTAB, RELA, NOBITS, GROUP, …", |v| {
        format!("0x{v:x} ({})", SectionKind::from_sh_type(v as u32))
    });
    g.int_with(
        "sh_flags",
        8,
        w,
        "WRITE, ALLOC (occupies memory), EXECINSTR, MERGE, STRINGS, INFO_LINK, LINK_ORDER, GROUP, TLS, …",
        |v| super::bytes::flags_display(v, 1, &section_flag_names(v)),
    );
    let b = 8 + step;
    g.int("sh_addr", b, w, "Virtual address of the section in the loaded image (0 if not allocated).");
    g.int("sh_offset", b + step, w, "File offset of the section's bytes.");
    g.int("sh_size", b + 2 * step, w, "Size of the section in bytes.");
    let b = b + 3 * step;
    g.dec("sh_link", b, 4, "A related section: the string table of a symbol table, the symbol table of a relocation section, the section a LINK_ORDER section follows.");
    g.dec(
        "sh_info",
        b + 4,
        4,
        "Extra information: for relocation sections, the section they patch; for groups, the signature symbol.",
    );
    g.dec("sh_addralign", b + 8, w, "Required alignment.");
    g.dec("sh_entsize", b + 8 + step, w, "Size of one entry, for sections that are tables.");
    bin.headers.push(g.finish());
}

fn header_fields<Elf: FileHeader<Endian = Endianness>>(bin: &mut Binary, data: &[u8], h: &Elf, e: Endianness) {
    let mut g = super::bytes::GroupBuilder::new(data, "ELF header", 0);
    g.bytes("e_ident[EI_MAG]", 0, 4, "\\x7fELF: marks an ELF file.");
    g.dec("e_ident[EI_CLASS]", 4, 1, "1 = 32-bit (ELF32), 2 = 64-bit (ELF64) structures.");
    g.dec("e_ident[EI_DATA]", 5, 1, "1 = little-endian, 2 = big-endian.");
    g.dec("e_ident[EI_VERSION]", 6, 1, "ELF version, always 1.");
    g.dec("e_ident[EI_OSABI]", 7, 1, "Operating-system ABI (0 = System V, 3 = Linux/GNU).");
    let w: u64 = if h.is_type_64() { 8 } else { 4 };
    let mut push = |name: &str, off: u64, len: u64, v: u64, help: &'static str| {
        g.push(name, Some(v), format!("0x{v:x}"), off, len, help);
    };
    push(
        "e_type",
        16,
        2,
        u64::from(h.e_type(e).0),
        "1 = relocatable object, 2 = executable, 3 = shared object or PIE, 4 = core dump.",
    );
    push("e_machine", 18, 2, u64::from(h.e_machine(e).0), "The CPU (62 = x86-64, 3 = i386, 183 = AArch64).");
    push("e_version", 20, 4, u64::from(h.e_version(e)), "Object-file version, 1.");
    push("e_entry", 24, w, h.e_entry(e).into(), "Virtual address where execution starts.");
    push("e_phoff", 24 + w, w, h.e_phoff(e).into(), "File offset of the program-header table (segments).");
    push("e_shoff", 24 + 2 * w, w, h.e_shoff(e).into(), "File offset of the section-header table.");
    let b = 24 + 3 * w;
    push("e_flags", b, 4, u64::from(h.e_flags(e).0), "Processor-specific flags.");
    push("e_ehsize", b + 4, 2, u64::from(h.e_ehsize(e)), "Size of this header.");
    push("e_phentsize", b + 6, 2, u64::from(h.e_phentsize(e)), "Size of one program header.");
    push("e_phnum", b + 8, 2, u64::from(h.e_phnum(e)), "Number of program headers.");
    push("e_shentsize", b + 10, 2, u64::from(h.e_shentsize(e)), "Size of one section header.");
    push(
        "e_shnum",
        b + 12,
        2,
        u64::from(h.e_shnum(e)),
        "Number of section headers (0 with more than 65279: then in section 0's sh_size).",
    );
    push("e_shstrndx", b + 14, 2, u64::from(h.e_shstrndx(e).0), "Index of the section holding section names.");
    bin.headers.push(g.finish());
}
