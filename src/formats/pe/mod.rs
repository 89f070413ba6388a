//! PE32 / PE32+ images: DOS and NT headers, sections and every data directory linkscope shows.

pub mod basereloc;
mod dirs;
mod exports;
mod imports;
pub mod map;
pub mod pseudo;
mod rich;

use crate::formats::bytes::{u16_at, u32_at, GroupBuilder};
use crate::formats::coff::{self, header, symbols};
use crate::model::{Arch, Binary, DataDirectory, Format, Location, PeInfo, Severity, Span};
use map::PeMap;

/// Names of the 16 data directories.
pub const DIRECTORY_NAMES: [&str; 16] = [
    "EXPORT",
    "IMPORT",
    "RESOURCE",
    "EXCEPTION",
    "SECURITY",
    "BASERELOC",
    "DEBUG",
    "ARCHITECTURE",
    "GLOBALPTR",
    "TLS",
    "LOAD_CONFIG",
    "BOUND_IMPORT",
    "IAT",
    "DELAY_IMPORT",
    "CLR_RUNTIME_HEADER",
    "RESERVED",
];

/// Whether `data` is an MZ file whose `e_lfanew` points at a `PE\0\0` signature.
pub fn is_pe(data: &[u8]) -> bool {
    data.starts_with(b"MZ") && u32_at(data, 0x3c).is_some_and(|o| u32_at(data, u64::from(o)) == Some(0x0000_4550))
}

fn subsystem_name(s: u16) -> &'static str {
    match s {
        0 => "UNKNOWN",
        1 => "NATIVE",
        2 => "WINDOWS_GUI",
        3 => "WINDOWS_CUI",
        5 => "OS2_CUI",
        7 => "POSIX_CUI",
        8 => "NATIVE_WINDOWS",
        9 => "WINDOWS_CE_GUI",
        10 => "EFI_APPLICATION",
        11 => "EFI_BOOT_SERVICE_DRIVER",
        12 => "EFI_RUNTIME_DRIVER",
        13 => "EFI_ROM",
        14 => "XBOX",
        16 => "WINDOWS_BOOT_APPLICATION",
        _ => "unknown",
    }
}

fn dll_characteristics(c: u16) -> Vec<String> {
    const NAMES: [(u16, &str); 11] = [
        (0x0020, "HIGH_ENTROPY_VA"),
        (0x0040, "DYNAMIC_BASE"),
        (0x0080, "FORCE_INTEGRITY"),
        (0x0100, "NX_COMPAT"),
        (0x0200, "NO_ISOLATION"),
        (0x0400, "NO_SEH"),
        (0x0800, "NO_BIND"),
        (0x1000, "APPCONTAINER"),
        (0x2000, "WDM_DRIVER"),
        (0x4000, "GUARD_CF"),
        (0x8000, "TERMINAL_SERVER_AWARE"),
    ];
    NAMES.iter().filter(|(b, _)| c & b != 0).map(|(_, n)| format!("IMAGE_DLL_CHARACTERISTICS_{n}")).collect()
}

/// Add the DOS header fields; returns `e_lfanew`.
pub fn read_dos_header(bin: &mut Binary, data: &[u8]) -> Option<u32> {
    let mut g = GroupBuilder::new(data, "DOS header", 0);
    g.bytes("e_magic", 0, 2, "'MZ', the initials of Mark Zbikowski: every DOS and Windows executable starts with it.");
    g.dec("e_cblp", 2, 2, "Bytes on the last 512-byte page of the DOS program.");
    g.dec("e_cp", 4, 2, "Number of 512-byte pages in the DOS program.");
    g.dec("e_crlc", 6, 2, "Number of DOS relocation entries.");
    g.dec("e_cparhdr", 8, 2, "Size of the DOS header in 16-byte paragraphs.");
    g.int("e_minalloc", 10, 2, "Minimum extra paragraphs the DOS program needs.");
    g.int("e_maxalloc", 12, 2, "Maximum extra paragraphs the DOS program wants.");
    g.int("e_ss", 14, 2, "Initial (relative) SS of the DOS program.");
    g.int("e_sp", 16, 2, "Initial SP of the DOS program.");
    g.int("e_csum", 18, 2, "DOS checksum (ignored).");
    g.int("e_ip", 20, 2, "Initial IP of the DOS program.");
    g.int("e_cs", 22, 2, "Initial (relative) CS of the DOS program.");
    g.int("e_lfarlc", 24, 2, "File offset of the DOS relocation table.");
    g.dec("e_ovno", 26, 2, "Overlay number.");
    g.bytes("e_res", 28, 8, "Reserved.");
    g.int("e_oemid", 36, 2, "OEM identifier.");
    g.int("e_oeminfo", 38, 2, "OEM information.");
    g.bytes("e_res2", 40, 20, "Reserved.");
    let lfanew = g.int(
        "e_lfanew",
        60,
        4,
        "File offset of the 'PE\\0\\0' signature: the only DOS-header field Windows reads besides e_magic.",
    );
    bin.headers.push(g.finish());
    lfanew.map(|v| v as u32)
}

/// Read a PE image.
pub fn load_pe(data: &[u8]) -> Binary {
    let mut bin = Binary::new(Format::Pe32, data.len() as u64);
    let Some(lfanew) = read_dos_header(&mut bin, data) else {
        bin.diag(Severity::Error, Location::file(0), "DOS header is truncated");
        return bin;
    };
    let nt = u64::from(lfanew);
    let mut g = GroupBuilder::new(data, "PE signature", nt);
    g.bytes("Signature", 0, 4, "'PE\\0\\0': marks the start of the NT headers.");
    bin.headers.push(g.finish());
    let Some((machine, nsec, symptr, nsym, opt_size, chars)) = header::read_file_header(&mut bin, data, nt + 4) else {
        bin.diag(Severity::Error, Location::file(nt + 4), "COFF file header is truncated");
        return bin;
    };
    bin.arch = Arch::from_coff_machine(machine);
    let opt = nt + 24;
    let magic = u16_at(data, opt).unwrap_or(0);
    let is_64 = match magic {
        0x20b => true,
        0x10b => false,
        _ => {
            bin.diag(
                Severity::Error,
                Location::file(opt),
                format!("unknown optional header magic 0x{magic:x}; reading it as PE32"),
            );
            false
        }
    };
    bin.is_64 = is_64;
    if is_64 {
        bin.format = Format::Pe32Plus;
    }
    let o = read_optional_header(&mut bin, data, opt, is_64, opt_size);
    bin.image_base = Some(o.image_base);
    bin.entry_rva = Some(o.entry);

    // Section table and symbol table.
    let sect_off = opt + u64::from(opt_size);
    // Images rarely keep symbols; a table that does not fit is a bogus pointer, not a table.
    let symptr = if symptr != 0 && u64::from(symptr) + u64::from(nsym) * 18 > data.len() as u64 {
        bin.diag(
            Severity::Warning,
            Location::file(nt + 12),
            format!("PointerToSymbolTable 0x{symptr:x} with {nsym} symbols points outside the file: ignored"),
        );
        0
    } else {
        symptr
    };
    let strtab = symbols::string_table(data, u64::from(symptr), u64::from(nsym), 18);
    let raws = header::read_section_table(&mut bin, data, sect_off, u32::from(nsec), strtab, true);
    check_section_layout(&mut bin, &raws, o.size_of_headers, (o.section_alignment, opt + 32));
    let map = PeMap::new(
        data,
        &raws,
        o.size_of_headers,
        o.section_alignment,
        o.file_alignment,
        o.image_base,
        is_64,
        o.size_of_image,
    );
    let table = symbols::read_symbols(&mut bin, data, u64::from(symptr), nsym, false, strtab);
    if symptr != 0 {
        coff::comdat::read_comdats(&mut bin, data, &table, false);
    }

    let mut pe = PeInfo {
        subsystem: subsystem_name(o.subsystem).to_string(),
        dll_characteristics: dll_characteristics(o.dll_chars),
        characteristics: header::file_characteristics(chars),
        checksum_stored: o.checksum,
        timestamp: u32_at(data, nt + 8).unwrap_or(0),
        layout: crate::model::PeLayout {
            sections: raws.clone(),
            size_of_headers: o.size_of_headers,
            section_alignment: o.section_alignment,
            file_alignment: o.file_alignment,
            size_of_image: o.size_of_image,
            dll_characteristics: o.dll_chars,
            characteristics: chars,
        },
        ..Default::default()
    };
    let mut dirs = [(0u64, 0u64); 16];
    for (i, d) in o.dirs.iter().enumerate() {
        if i < 16 {
            dirs[i] = (d.rva, d.size);
        }
    }
    for d in &o.dirs {
        let mut d = d.clone();
        if d.rva != 0 && d.index != 4 {
            d.section = bin.section_by_rva(d.rva).map(|s| s.name.clone());
        }
        pe.data_directories.push(d);
    }
    if o.entry != 0 && o.entry >= o.size_of_image {
        bin.diag(
            Severity::Warning,
            Location::rva(o.entry),
            format!("entry point 0x{:x} lies outside the image (SizeOfImage 0x{:x})", o.entry, o.size_of_image),
        );
    }

    let mut budget = imports::Budget::for_file(data.len() as u64, map.ptr_size());
    imports::read_imports(&mut bin, &map, dirs[1], &mut budget);
    imports::read_delay_imports(&mut bin, &map, dirs[13], &mut budget);
    exports::read_exports(&mut bin, &map, dirs[0]);
    basereloc::read_base_relocs(&mut bin, &map, dirs[5]);
    check_relocated_loader_data(&mut bin, &map, dirs[1].0, o.size_of_headers);
    dirs::read_debug(&mut bin, &mut pe, &map, dirs[6]);
    dirs::read_tls(&mut bin, &mut pe, &map, dirs[9]);
    dirs::read_load_config(&mut bin, &mut pe, &map, dirs[10]);
    dirs::read_exceptions(&mut bin, &mut pe, &map, dirs[3], machine);
    dirs::read_resources(&mut bin, &mut pe, &map, dirs[2]);
    imports::read_bound_imports(&mut bin, &mut pe, &map, dirs[11]);
    pe.rich = rich::read_rich(data, lfanew);
    if o.checksum != 0 || (data.len() as u64) < crate::model::CHECKSUM_ALWAYS_BELOW {
        pe.checksum_computed = Some(rich::pe_checksum(data, opt + 64));
    }
    // Overlay: bytes after the end of the last section's raw data.
    let raw_end = raws
        .iter()
        .filter(|r| r.size_of_raw_data > 0)
        .map(|r| u64::from(r.pointer_to_raw_data) + u64::from(r.size_of_raw_data))
        .max()
        .unwrap_or(o.size_of_headers)
        .max(o.size_of_headers);
    let sym_end = if symptr != 0 {
        let base = u64::from(symptr) + u64::from(nsym) * 18;
        base + strtab.map_or(0, |t| t.len() as u64)
    } else {
        0
    };
    let body_end = raw_end.max(sym_end);
    if body_end < data.len() as u64 {
        pe.overlay = Some(Span::new(body_end, data.len() as u64 - body_end));
    }
    // GNU ld writes linker version 2.x; MinGW images import msvcrt.dll without vcruntime.
    let imports = |n: &str| bin.imports.iter().any(|m| m.dll.to_ascii_lowercase().starts_with(n));
    let mingw_like =
        crate::formats::bytes::u8_at(data, opt + 2) == Some(2) || (imports("msvcrt.dll") && !imports("vcruntime"));
    // A Rich header is written by Microsoft's linker alone, which makes no pseudo-relocation list
    // (GNU ld and LLD make them, and write no Rich header): no scan of its read-only data.
    let scan = pe.rich.is_none();
    pseudo::read_pseudo_relocs(&mut bin, &map, &table, mingw_like, scan);
    bin.pe = Some(pe);
    bin
}

/// Say when the section table is one the loader refuses. With SectionAlignment of a page or
/// more it walks every one of NumberOfSections headers in order, skipping none: each must start
/// where the previous one ends (the headers first), aligned, with a non-zero size; otherwise the
/// image does not load (ReactOS `PeFmtCreateSection`: "Memory gap between section", "Virtual
/// size of section is null"). An all-zero header is such a section, not one the loader skips;
/// so every header stays in `sections` and the first that breaks the rule is named here.
fn check_section_layout(
    bin: &mut Binary,
    raws: &[header::RawSection],
    size_of_headers: u64,
    (align, align_off): (u64, u64),
) {
    if !align.is_power_of_two() {
        bin.diag(
            Severity::Warning,
            Location::file(align_off),
            format!(
                "SectionAlignment 0x{align:x} is not a power of two; the Windows loader will not map it as an image"
            ),
        );
        return;
    }
    if align < 0x1000 || raws.is_empty() {
        return;
    }
    let Some(mut next) = size_of_headers.checked_next_multiple_of(align) else {
        return;
    };
    for (i, r) in raws.iter().enumerate() {
        let va = u64::from(r.virtual_address);
        let problem = if va % align != 0 {
            Some(format!("VirtualAddress 0x{va:x} is not a multiple of SectionAlignment 0x{align:x}"))
        } else if va != next {
            Some(format!("VirtualAddress 0x{va:x} is not where the previous one ends (0x{next:x})"))
        } else if r.virtual_size == 0 && r.size_of_raw_data == 0 {
            Some("VirtualSize and SizeOfRawData are both 0".to_string())
        } else {
            None
        };
        let header = bin.sections.get(i).map(|s| (s.header_span.offset, s.name.clone()));
        if let Some(p) = problem {
            let (off, name) = header.unwrap_or_default();
            bin.diag(
                Severity::Warning,
                Location::file(off),
                format!("section {} ({name}): {p}; the Windows loader will not map an image laid out so", i + 1),
            );
            return;
        }
        let size = if r.virtual_size == 0 { r.size_of_raw_data } else { r.virtual_size };
        let Some(end) = u64::from(size).checked_next_multiple_of(align).and_then(|s| next.checked_add(s)) else {
            return;
        };
        next = end;
    }
}

/// Say when base relocations patch what the loader reads after relocating: the headers (e.g.
/// e_lfanew) or the import descriptors and lookup tables. Windows (Vista on) applies
/// relocations before it binds imports, so a rebased image binds the patched values, not the
/// ones stored in the file that `imports` shows; an ImageBase in the kernel range forces the
/// rebase. (corkami's imports_relocW7.exe and lfanew_relocW7.exe rely on it.)
fn check_relocated_loader_data(bin: &mut Binary, map: &PeMap, import_rva: u64, size_of_headers: u64) {
    if bin.base_relocations.is_empty() {
        return;
    }
    let ps = map.ptr_size();
    let mut ranges: Vec<(u64, u64, String)> = vec![(0, size_of_headers, "the headers".to_string())];
    let modules = bin.imports.len() + bin.ignored_imports.len();
    if import_rva != 0 {
        let end = import_rva.saturating_add(20 * (modules as u64 + 1));
        ranges.push((import_rva, end, "the import descriptors".to_string()));
    }
    for m in &bin.imports {
        if m.ilt_rva != 0 && m.ilt_rva != m.iat_rva {
            let end = m.ilt_rva.saturating_add(ps * (m.entries.len() as u64 + 1));
            ranges.push((m.ilt_rva, end, format!("the import lookup table of {}", m.dll)));
        }
    }
    let mut hits: Vec<(u64, String)> = Vec::new();
    for r in &bin.base_relocations {
        let w = u64::from(basereloc::kind_width(r.raw_type));
        if w == 0 {
            continue;
        }
        if let Some((_, _, what)) = ranges.iter().find(|(a, b, _)| r.rva < *b && r.rva.saturating_add(w) > *a) {
            hits.push((r.rva, what.clone()));
        }
    }
    let Some((first, what)) = hits.first().cloned() else {
        return;
    };
    let kernel = !map.is_64 && map.image_base >= 0x8000_0000;
    bin.diag(
        Severity::Warning,
        Location::rva(first),
        format!(
            "{} base relocation(s) patch what the loader reads after relocating, the first at RVA 0x{first:x} in \
             {what}: in a rebased image the loader reads the patched values, not the stored ones shown here{}",
            hits.len(),
            if kernel { "; ImageBase is in the kernel range, so the loader always rebases this image" } else { "" }
        ),
    );
}

/// The optional-header values later passes need.
struct OptionalHeader {
    entry: u64,
    image_base: u64,
    section_alignment: u64,
    file_alignment: u64,
    size_of_image: u64,
    size_of_headers: u64,
    checksum: u32,
    subsystem: u16,
    dll_chars: u16,
    dirs: Vec<DataDirectory>,
}

fn read_optional_header(bin: &mut Binary, data: &[u8], opt: u64, is_64: bool, opt_size: u16) -> OptionalHeader {
    let mut g = GroupBuilder::new(data, "Optional header", opt);
    g.int_with("Magic", 0, 2, "0x10B for PE32 (32-bit addresses), 0x20B for PE32+ (64-bit addresses).", |v| {
        format!(
            "0x{v:x} ({})",
            match v {
                0x10b => "PE32",
                0x20b => "PE32+",
                0x107 => "ROM",
                _ => "unknown",
            }
        )
    });
    g.dec("MajorLinkerVersion", 2, 1, "Version of the linker that wrote the image.");
    g.dec("MinorLinkerVersion", 3, 1, "Version of the linker that wrote the image.");
    g.int("SizeOfCode", 4, 4, "Sum of the sizes of all code sections (informational).");
    g.int("SizeOfInitializedData", 8, 4, "Sum of the sizes of initialised data sections (informational).");
    g.int("SizeOfUninitializedData", 12, 4, "Sum of the sizes of .bss-like sections (informational).");
    let entry = g
        .int(
            "AddressOfEntryPoint",
            16,
            4,
            "RVA where execution starts (for a DLL: DllMain's caller); 0 means no entry point.",
        )
        .unwrap_or(0);
    g.int("BaseOfCode", 20, 4, "RVA of the start of the code (informational).");
    let (base, rest) = if is_64 {
        (
            g.int(
                "ImageBase",
                24,
                8,
                "Preferred load address. If the loader must load the image elsewhere, it applies the base relocations.",
            ),
            0,
        )
    } else {
        g.int("BaseOfData", 24, 4, "RVA of the start of the data (PE32 only, informational).");
        (
            g.int(
                "ImageBase",
                28,
                4,
                "Preferred load address. If the loader must load the image elsewhere, it applies the base relocations.",
            ),
            0,
        )
    };
    let _ = rest;
    let sa = g
        .int("SectionAlignment", 32, 4, "Alignment of sections in memory: every section's RVA is a multiple of it.")
        .unwrap_or(0x1000);
    let fa = g.int("FileAlignment", 36, 4, "Alignment of section data in the file (usually 0x200).").unwrap_or(0x200);
    g.dec("MajorOperatingSystemVersion", 40, 2, "Required OS version (informational).");
    g.dec("MinorOperatingSystemVersion", 42, 2, "Required OS version (informational).");
    g.dec("MajorImageVersion", 44, 2, "Version of this image, set by the linker's /VERSION.");
    g.dec("MinorImageVersion", 46, 2, "Version of this image.");
    g.dec("MajorSubsystemVersion", 48, 2, "Minimum subsystem version the image needs to run.");
    g.dec("MinorSubsystemVersion", 50, 2, "Minimum subsystem version.");
    g.int("Win32VersionValue", 52, 4, "Reserved, must be 0.");
    let soi = g
        .int("SizeOfImage", 56, 4, "Size of the image in memory, headers included, rounded up to SectionAlignment.")
        .unwrap_or(0);
    let soh = g
        .int("SizeOfHeaders", 60, 4, "Size of the DOS stub, NT headers and section table, rounded up to FileAlignment.")
        .unwrap_or(0);
    let csum = g
        .int(
            "CheckSum",
            64,
            4,
            "Image checksum; checked only for drivers and a few system DLLs. linkscope recomputes it.",
        )
        .unwrap_or(0);
    let subsys = g
        .int_with("Subsystem", 68, 2, "Which subsystem runs the image: console, GUI, native, EFI, …", |v| {
            format!("{v} ({})", subsystem_name(v as u16))
        })
        .unwrap_or(0);
    let dllc = g
        .int_with(
            "DllCharacteristics",
            70,
            2,
            "Security and loader flags: ASLR (DYNAMIC_BASE), DEP (NX_COMPAT), Control Flow Guard, …",
            |v| crate::formats::bytes::flags_display(v, 4, &dll_characteristics(v as u16)),
        )
        .unwrap_or(0);
    let w: u32 = if is_64 { 8 } else { 4 };
    let mut at = 72u64;
    for (name, help) in [
        ("SizeOfStackReserve", "Address space reserved for the main thread's stack."),
        ("SizeOfStackCommit", "Stack memory committed at start."),
        ("SizeOfHeapReserve", "Address space reserved for the process heap."),
        ("SizeOfHeapCommit", "Heap memory committed at start."),
    ] {
        g.int(name, at, w, help);
        at += u64::from(w);
    }
    g.int("LoaderFlags", at, 4, "Reserved, must be 0.");
    let nrva = g
        .dec("NumberOfRvaAndSizes", at + 4, 4, "Number of data-directory entries that follow (normally 16).")
        .unwrap_or(0);
    let dir_base = at + 8;
    let mut dirs = Vec::new();
    let n = nrva.min(16);
    if nrva > 16 {
        bin.diag(
            Severity::Warning,
            Location::file(opt + at + 4),
            format!("NumberOfRvaAndSizes is {nrva}; only 16 directories are defined"),
        );
    }
    for i in 0..n {
        let rel = dir_base + i * 8;
        if rel + 8 > u64::from(opt_size) {
            bin.diag(
                Severity::Warning,
                Location::file(opt + rel),
                format!("data directory {} lies beyond SizeOfOptionalHeader ({opt_size})", DIRECTORY_NAMES[i as usize]),
            );
        }
        let name = DIRECTORY_NAMES[i as usize];
        let help =
            "A data directory: RVA and size of a table the loader or tools look up (imports, exports, relocations, …).";
        let (Some(rva), Some(size)) =
            (g.int(&format!("{name}.VirtualAddress"), rel, 4, help), g.int(&format!("{name}.Size"), rel + 4, 4, help))
        else {
            break;
        };
        dirs.push(DataDirectory {
            index: i as u32,
            name: name.to_string(),
            rva,
            size,
            section: None,
            span: Span::new(opt + rel, 8),
        });
    }
    if g.truncated {
        bin.diag(Severity::Warning, Location::file(opt), "optional header is cut off by the end of the file");
    }
    bin.headers.push(g.finish());
    OptionalHeader {
        entry,
        image_base: base.unwrap_or(0),
        section_alignment: sa,
        file_alignment: fa,
        size_of_image: soi,
        size_of_headers: soh,
        checksum: csum as u32,
        subsystem: subsys as u16,
        dll_chars: dllc as u16,
        dirs,
    }
}
