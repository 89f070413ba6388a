//! Differential tests: what linkscope reads from every fixture agrees with the llvm-readobj,
//! GNU objdump and readelf output captured beside it by tests/fixtures/build.sh.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{load, objdump_contents, objdump_sections, objdump_symbols, parse_num, parse_readobj, reference, Node};
use linkscope::model::Format;
use linkscope::Binary;

const COFF_OBJECTS: &[&str] = &[
    "msvc64/comdat.obj",
    "msvc32/comdat.obj",
    "mingw64/relocs.o",
    "mingw32/relocs.o",
    "mingw64/bigobj.o",
    "nasm/rel32k.obj",
    "yaml2obj/rel32k.obj",
];

const PE_IMAGES: &[&str] = &[
    "mingw64/autoimport.exe",
    "mingw64/autoimport-small.exe",
    "mingw64/autoimport-stripped.exe",
    "mingw64/data.dll",
    "mingw32/autoimport.exe",
    "mingw32/autoimport-v1.exe",
    "mingw32/data.dll",
    "lld64/autoimport.exe",
    "lld64/autoimport-symtab.exe",
    "lld64/data.dll",
    "msvc64/data.dll",
    "msvc64/features.dll",
    "msvc32/features.dll",
];

const ARCHIVES: &[&str] = &[
    "mingw64/libdata.dll.a",
    "mingw32/libdata.dll.a",
    "lld64/libdata.dll.a",
    "msvc64/data.lib",
    "msvc32/data.lib",
    "msvc64/data-lldlink.lib",
];

const ELF_FILES: &[&str] = &[
    "elf/main-nopie",
    "elf/main-pie",
    "elf/libdata.so",
    "elf/pic.o",
    "elf/comdat.o",
    "elf/linkorder.o",
    "elf/rel32.o",
];

/// `Name: .text (2E 74 …)` or `Name: .text (32)` → `.text`.
fn strip_paren(v: &str) -> String {
    if v.starts_with('(') {
        return String::new();
    }
    match v.rfind(" (") {
        Some(p) if v.ends_with(')') => v[..p].to_string(),
        _ => v.trim_end_matches(" ()").to_string(),
    }
}

/// The number in the trailing parentheses: `.text (4)` → 4.
fn paren_num(v: &str) -> Option<u64> {
    let open = v.rfind('(')?;
    parse_num(v[open + 1..].trim_end_matches(')'))
}

fn check_coff_sections(rel: &str, bin: &Binary, root: &Node, image: bool) {
    let secs = root.blocks("Sections").next().expect("Sections block");
    let expected: Vec<&Node> = secs.blocks("Section").collect();
    assert_eq!(bin.sections.len(), expected.len(), "{rel}: section count");
    for (s, e) in bin.sections.iter().zip(&expected) {
        let ctx = format!("{rel}: section {}", s.index);
        assert_eq!(u64::from(s.index), e.num("Number").unwrap(), "{ctx}");
        assert_eq!(s.name, strip_paren(&e.get("Name").unwrap()), "{ctx}");
        assert_eq!(s.flags, e.num("Characteristics").unwrap(), "{ctx} flags");
        let raw = e.num("RawDataSize").unwrap();
        if image {
            assert_eq!(s.rva, e.num("VirtualAddress").unwrap(), "{ctx} rva");
            assert_eq!(s.virtual_size, e.num("VirtualSize").unwrap(), "{ctx} vsize");
        }
        if raw > 0 && s.flags & 0x80 == 0 {
            assert_eq!(s.file_size, raw, "{ctx} size");
            assert_eq!(s.file_offset, e.num("PointerToRawData").unwrap(), "{ctx} file offset");
        }
        if !image {
            assert_eq!(u64::from(s.reloc_count), e.num("RelocationCount").unwrap(), "{ctx} relocation count");
        }
    }
}

#[test]
fn coff_objects_match_llvm_readobj() {
    for rel in COFF_OBJECTS {
        let bin = load(rel);
        let root = parse_readobj(&reference(rel, "readobj"));
        if *rel == "mingw64/bigobj.o" {
            assert_eq!(bin.format, Format::CoffBigobj, "{rel}");
        } else {
            assert_eq!(bin.format, Format::Coff, "{rel}");
        }
        let hdr = root.blocks("ImageFileHeader").next().expect("header");
        assert_eq!(bin.sections.len() as u64, hdr.num("SectionCount").unwrap(), "{rel}");
        check_coff_sections(rel, &bin, &root, false);

        // Symbols: every symbol record, in order, with its section.
        let syms: Vec<&Node> = root.blocks("Symbols").next().map(|s| s.blocks("Symbol").collect()).unwrap_or_default();
        assert_eq!(bin.symbols.len(), syms.len(), "{rel}: symbol count");
        for (s, e) in bin.symbols.iter().zip(&syms) {
            assert_eq!(s.name, e.get("Name").unwrap(), "{rel}: symbol {}", s.index);
            assert_eq!(u64::from(s.aux_count), e.num("AuxSymbolCount").unwrap(), "{rel}: symbol {} aux", s.name);
            if let Some(n) = s.section {
                assert_eq!(
                    Some(u64::from(n)),
                    paren_num(&e.get("Section").unwrap()),
                    "{rel}: symbol {} section",
                    s.name
                );
            }
        }

        // COMDATs: selection and associated section of every COMDAT section.
        let mut expected = Vec::new();
        for e in &syms {
            let Some(aux) = e.blocks("AuxSectionDef").next() else {
                continue;
            };
            let sec = paren_num(&e.get("Section").unwrap()).unwrap() as u32;
            let is_comdat = bin.sections[sec as usize - 1].flags & 0x1000 != 0;
            if !is_comdat || expected.iter().any(|(s, _, _)| *s == sec) {
                continue;
            }
            let selection = paren_num(&aux.get("Selection").unwrap()).unwrap() as u8;
            let assoc = aux.get("AssocSection").and_then(|v| paren_num(&v)).map(|v| v as u32);
            expected.push((sec, selection, assoc));
        }
        expected.sort();
        let ours: Vec<(u32, u8, Option<u32>)> =
            bin.comdats.iter().map(|c| (c.section, c.selection.unwrap(), c.associated_section)).collect();
        assert_eq!(ours, expected, "{rel}: COMDATs");

        // Relocations: per section, offset + type + symbol, in order.
        let mut expected = Vec::new();
        if let Some(r) = root.blocks("Relocations").next() {
            for sec in r.blocks("Section (") {
                let idx = sec.name()["Section (".len()..].split(')').next().unwrap().parse::<u32>().unwrap();
                for l in sec.lines() {
                    let mut w = l.split_whitespace();
                    let off = parse_num(w.next().unwrap()).unwrap();
                    let kind = w.next().unwrap().to_string();
                    let rest: Vec<&str> = w.collect();
                    let sym = rest[..rest.len() - 1].join(" ");
                    expected.push((idx, off, kind, sym));
                }
            }
        }
        let ours: Vec<(u32, u64, String, String)> = bin
            .relocations
            .iter()
            .map(|r| (r.section.unwrap(), r.offset, r.kind.to_string(), r.symbol.clone().unwrap_or_default()))
            .collect();
        assert_eq!(ours, expected, "{rel}: relocations");
        assert!(!bin.relocations.is_empty() || *rel == "msvc32/comdat.obj", "{rel}: has relocations");
    }
}

#[test]
fn associative_comdats_are_linked_to_their_leaders() {
    let bin = load("msvc64/comdat.obj");
    let assoc: Vec<_> = bin.comdats.iter().filter(|c| c.selection == Some(5)).collect();
    assert_eq!(assoc.len(), 13);
    for a in &assoc {
        let leader = a.associated_section.unwrap();
        let l = bin.comdats.iter().find(|c| c.section == leader).expect("leader is a COMDAT");
        assert!(l.associated_by.contains(&a.section));
        assert!(a.symbol.is_none());
    }
    // Non-associative COMDATs name their COMDAT symbol.
    assert!(bin.comdats.iter().filter(|c| c.selection == Some(2)).all(|c| c.symbol.is_some()));
    assert!(bin.diagnostics.iter().all(|d| d.severity != linkscope::model::Severity::Error), "{:?}", bin.diagnostics);
}

#[test]
fn rel32_k_relocations_are_named_and_read() {
    let bin = load("yaml2obj/rel32k.obj");
    let kinds: Vec<String> = bin.relocations.iter().map(|r| r.kind.to_string()).collect();
    for k in 1..=5 {
        assert!(kinds.contains(&format!("IMAGE_REL_AMD64_REL32_{k}")), "{kinds:?}");
    }
    assert!(bin.relocations.iter().all(|r| r.pc_relative && r.width == 32));
}

fn readobj_imports(root: &Node, block: &str) -> Vec<(String, u64, Vec<String>)> {
    root.blocks(block)
        .map(|imp| {
            let syms = imp.lines().filter_map(|l| l.strip_prefix("Symbol:").map(|s| s.trim().to_string())).collect();
            (imp.get("Name").unwrap(), imp.num("ImportAddressTableRVA").unwrap(), syms)
        })
        .collect()
}

#[test]
fn pe_images_match_llvm_readobj() {
    for rel in PE_IMAGES {
        let bin = load(rel);
        let root = parse_readobj(&reference(rel, "readobj"));
        let opt = root.blocks("ImageOptionalHeader").next().expect("optional header");
        assert_eq!(bin.image_base, opt.num("ImageBase"), "{rel}: image base");
        assert_eq!(bin.entry_rva, opt.num("AddressOfEntryPoint"), "{rel}: entry");
        assert_eq!(bin.format, if bin.is_64 { Format::Pe32Plus } else { Format::Pe32 }, "{rel}");
        check_coff_sections(rel, &bin, &root, true);
        let pe = bin.pe.as_ref().unwrap();
        // llvm-readobj 14 does not print the optional header's CheckSum; objdump -x does.
        let objdump = reference(rel, "objdump");
        let stored = objdump
            .lines()
            .find_map(|l| l.strip_prefix("CheckSum"))
            .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
            .unwrap();
        assert_eq!(u64::from(pe.checksum_stored), stored, "{rel}: stored checksum");
        if stored != 0 {
            assert_eq!(pe.checksum_computed, Some(pe.checksum_stored), "{rel}: recomputed checksum");
        }

        // Imports: DLL, IAT RVA, and each entry's name and hint; slot RVAs follow the IAT.
        let ps = if bin.is_64 { 8 } else { 4 };
        let expected = readobj_imports(&root, "Import {");
        let expected: Vec<_> = expected.into_iter().chain(readobj_imports(&root, "Import")).collect();
        let expected: Vec<_> = {
            let mut seen = Vec::new();
            for e in expected {
                if !seen.contains(&e) {
                    seen.push(e);
                }
            }
            seen
        };
        assert_eq!(bin.imports.len(), expected.len(), "{rel}: import descriptors");
        for (m, (dll, iat, syms)) in bin.imports.iter().zip(&expected) {
            assert_eq!(&m.dll, dll, "{rel}");
            assert_eq!(m.iat_rva, *iat, "{rel}: {dll} IAT");
            assert_eq!(m.entries.len(), syms.len(), "{rel}: {dll} entries");
            for (i, (e, s)) in m.entries.iter().zip(syms).enumerate() {
                assert_eq!(e.iat_rva, iat + i as u64 * ps, "{rel}: {dll} slot {i}");
                let ours = match (&e.name, e.hint, e.ordinal) {
                    (Some(n), Some(h), _) => format!("{n} ({h})"),
                    (None, _, Some(o)) => format!("({o})"),
                    _ => "?".into(),
                };
                assert_eq!(ours.trim(), s.trim(), "{rel}: {dll} slot {i}");
            }
        }

        // Exports with an address.
        let expected: Vec<(u64, String, u64)> = root
            .blocks("Export")
            .filter(|e| e.num("RVA") != Some(0))
            .map(|e| (e.num("Ordinal").unwrap(), e.get("Name").unwrap_or_default(), e.num("RVA").unwrap()))
            .collect();
        let ours: Vec<(u64, String, u64)> = bin
            .exports
            .iter()
            .filter(|e| e.rva != 0)
            .map(|e| (u64::from(e.ordinal), e.name.clone().unwrap_or_default(), e.rva))
            .collect();
        assert_eq!(ours, expected, "{rel}: exports");

        // Every base relocation, padding included.
        let expected: Vec<(String, u64)> = root
            .blocks("BaseReloc")
            .flat_map(|b| {
                b.blocks("Entry").map(|e| (e.get("Type").unwrap(), e.num("Address").unwrap())).collect::<Vec<_>>()
            })
            .collect();
        let ours: Vec<(String, u64)> = bin.base_relocations.iter().map(|r| (r.kind.to_string(), r.rva)).collect();
        assert_eq!(ours, expected, "{rel}: base relocations");
        for r in &bin.base_relocations {
            if r.kind == "DIR64" || r.kind == "HIGHLOW" {
                assert!(r.value.is_some(), "{rel}: value at 0x{:x}", r.rva);
            }
        }

        // Debug directory types.
        let expected: Vec<u64> = root
            .blocks("DebugDirectory")
            .flat_map(|d| {
                d.blocks("DebugEntry").map(|e| paren_num(&e.get("Type").unwrap()).unwrap()).collect::<Vec<_>>()
            })
            .collect();
        let ours: Vec<u64> = pe.debug.iter().map(|d| u64::from(d.raw_type)).collect();
        assert_eq!(ours, expected, "{rel}: debug directory");
        for (d, e) in
            pe.debug.iter().zip(root.blocks("DebugDirectory").flat_map(|d| d.blocks("DebugEntry").collect::<Vec<_>>()))
        {
            if let Some(path) = e.get("PDBFileName") {
                assert_eq!(d.pdb_path.as_deref(), Some(path.as_str()), "{rel}: PDB path");
                assert_eq!(d.age.map(u64::from), e.num("PDBAge"), "{rel}: PDB age");
            }
        }

        // Data directories: every RVA and size.
        let dd = opt.blocks("DataDirectory").next().expect("data directories");
        let names = [
            "ExportTable",
            "ImportTable",
            "ResourceTable",
            "ExceptionTable",
            "CertificateTable",
            "BaseRelocationTable",
            "Debug",
            "Architecture",
            "GlobalPtr",
            "TLSTable",
            "LoadConfigTable",
            "BoundImport",
            "IAT",
            "DelayImportDescriptor",
            "CLRRuntimeHeader",
            "Reserved",
        ];
        for (d, n) in pe.data_directories.iter().zip(names) {
            assert_eq!(Some(d.rva), dd.num(&format!("{n}RVA")), "{rel}: {n}");
            assert_eq!(Some(d.size), dd.num(&format!("{n}Size")), "{rel}: {n}");
        }

        // Load configuration: the fields both tools name the same, and the CFG / SEH tables.
        if let Some(lc) = root.blocks("LoadConfig").next() {
            let ours = pe.load_config.as_ref().unwrap_or_else(|| panic!("{rel}: load config"));
            let get = |n: &str| ours.fields.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
            for n in [
                "Size",
                "ProcessHeapFlags",
                "SecurityCookie",
                "SEHandlerTable",
                "SEHandlerCount",
                "GuardCFFunctionTable",
                "GuardCFFunctionCount",
                "GuardFlags",
            ] {
                assert_eq!(get(n), lc.num(n), "{rel}: load config {n}");
            }
            let base = bin.image_base.unwrap();
            let fids: Vec<u64> = root
                .blocks("GuardFidTable")
                .flat_map(|t| t.lines().map(|l| parse_num(l).unwrap()).collect::<Vec<_>>())
                .collect();
            assert_eq!(
                ours.guard_functions.iter().map(|r| r + base).collect::<Vec<_>>(),
                fids,
                "{rel}: CFG function table"
            );
            let seh: Vec<u64> = root
                .blocks("SEHTable")
                .flat_map(|t| t.lines().map(|l| parse_num(l).unwrap()).collect::<Vec<_>>())
                .collect();
            assert_eq!(ours.seh_handlers.iter().map(|r| r + base).collect::<Vec<_>>(), seh, "{rel}: SEH table");
        } else {
            assert!(pe.load_config.is_none(), "{rel}: load config");
        }

        // Delay-load imports: DLL, IAT and each entry's name and hint, or ordinal.
        let expected: Vec<(String, u64, Vec<String>)> = root
            .blocks("DelayImport")
            .map(|d| {
                let syms = d.blocks("Import").map(|i| i.get("Symbol").unwrap()).collect();
                (d.get("Name").unwrap(), d.num("ImportAddressTable").unwrap(), syms)
            })
            .collect();
        let ours: Vec<(String, u64, Vec<String>)> = bin
            .delay_imports
            .iter()
            .map(|m| {
                let syms = m
                    .entries
                    .iter()
                    .map(|e| match (&e.name, e.hint, e.ordinal) {
                        (Some(n), Some(h), _) => format!("{n} ({h})"),
                        (_, _, Some(o)) => format!("({o})"),
                        _ => "?".into(),
                    })
                    .collect();
                (m.dll.clone(), m.iat_rva, syms)
            })
            .collect();
        assert_eq!(ours, expected, "{rel}: delay imports");

        // Resources: one leaf per resource.
        if let Some(r) = root.blocks("Resources").next() {
            assert_eq!(Some(pe.resources.len() as u64), r.num("Total Number of Resources"), "{rel}: resources");
        }

        // TLS directory.
        let tls_block = root.blocks("TLSDirectory").next().filter(|t| !t.children().is_empty());
        if let Some(t) = tls_block {
            let tls = pe.tls.as_ref().unwrap_or_else(|| panic!("{rel}: TLS directory"));
            assert_eq!(Some(tls.start_raw_data), t.num("StartAddressOfRawData"), "{rel}");
            assert_eq!(Some(tls.end_raw_data), t.num("EndAddressOfRawData"), "{rel}");
            assert_eq!(Some(tls.address_of_index), t.num("AddressOfIndex"), "{rel}");
            assert_eq!(Some(tls.address_of_callbacks), t.num("AddressOfCallBacks"), "{rel}");
            assert_eq!(Some(u64::from(tls.size_of_zero_fill)), t.num("SizeOfZeroFill"), "{rel}");
        } else {
            assert!(pe.tls.is_none(), "{rel}: TLS");
        }
    }
}

/// The pseudo-relocation list decoded independently from objdump's symbol table and `-s` dump.
fn objdump_pseudo_list(rel: &str, start_sym: &str, end_sym: &str) -> (u64, Vec<(u64, u64, u64)>) {
    let x = reference(rel, "objdump");
    let secs = objdump_sections(&x);
    let syms = objdump_symbols(&x);
    let va_of = |name: &str| {
        let (sec, value, _) = syms.iter().find(|(_, _, n)| n == name).unwrap_or_else(|| panic!("{rel}: no {name}"));
        secs[*sec as usize - 1].1 + value
    };
    let (start, end) = (va_of(start_sym), va_of(end_sym));
    let (base, bytes) = objdump_contents(&reference(rel, "objdump-s"));
    let word = |va: u64| {
        let o = (va - base) as usize;
        u64::from(u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()))
    };
    // v2 when the first two words are zero and the third is 1; v1 otherwise.
    let mut items = Vec::new();
    if word(start) == 0 && word(start + 4) == 0 && word(start + 8) == 1 {
        let mut p = start + 12;
        while p + 12 <= end {
            items.push((word(p), word(p + 4), word(p + 8) & 0xff));
            p += 12;
        }
    } else {
        let mut p = start;
        while p + 8 <= end {
            items.push((word(p), word(p + 4), 32));
            p += 8;
        }
    }
    (start, items)
}

#[test]
fn pseudo_relocations_match_the_objdump_dump() {
    for (rel, prefix, version) in [
        ("mingw64/autoimport.exe", "", 2),
        ("mingw64/autoimport-small.exe", "", 2),
        ("mingw32/autoimport.exe", "_", 2),
        ("mingw32/autoimport-v1.exe", "_", 1),
    ] {
        let bin = load(rel);
        let base = bin.image_base.unwrap();
        let start_sym = format!("{prefix}__RUNTIME_PSEUDO_RELOC_LIST__");
        let end_sym = format!("{prefix}__RUNTIME_PSEUDO_RELOC_LIST_END__");
        let (start, items) = objdump_pseudo_list(rel, &start_sym, &end_sym);
        let p = &bin.pseudo_relocations;
        assert_eq!(p.found_by.as_deref(), Some("symbols"), "{rel}");
        assert_eq!(p.version, Some(version), "{rel}");
        assert_eq!(p.list_rva, Some(start - base), "{rel}");
        let ours: Vec<(u64, u64, u64)> = p
            .entries
            .iter()
            .map(|e| match version {
                2 => (e.sym_rva.unwrap(), e.target_rva, u64::from(e.width)),
                _ => (u64::from(e.addend.unwrap()), e.target_rva, 32),
            })
            .collect();
        assert_eq!(ours, items, "{rel}");
        // Each v2 entry names the import whose IAT slot it uses, as llvm-readobj lists them.
        if version == 2 {
            let root = parse_readobj(&reference(rel, "readobj"));
            let ps = if bin.is_64 { 8 } else { 4 };
            for e in &p.entries {
                let name = readobj_imports(&root, "Import").into_iter().find_map(|(dll, iat, syms)| {
                    let k = e.sym_rva.unwrap().checked_sub(iat)? / ps;
                    let s = syms.get(k as usize)?;
                    Some(format!("{dll}!{}", strip_paren(s)))
                });
                assert_eq!(e.import, name, "{rel}");
            }
        }
    }
}

#[test]
fn pseudo_relocations_are_found_without_symbols() {
    // GNU ld, stripped: the same list as the symbol-bearing twin (identical layout).
    let full = load("mingw64/autoimport.exe");
    let stripped = load("mingw64/autoimport-stripped.exe");
    assert!(stripped.symbols.is_empty());
    assert_eq!(stripped.pseudo_relocations.found_by.as_deref(), Some("scan"));
    assert_eq!(stripped.pseudo_relocations.list_rva, full.pseudo_relocations.list_rva);
    let key = |b: &Binary| {
        b.pseudo_relocations
            .entries
            .iter()
            .map(|e| (e.sym_rva, e.target_rva, e.width, e.import.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&stripped), key(&full));

    // LLD writes no marker symbols; its symbol-table twin names the bounds through .refptr slots,
    // whose values objdump shows.
    let lld = load("lld64/autoimport.exe");
    let lld_sym = load("lld64/autoimport-symtab.exe");
    assert_eq!(lld.pseudo_relocations.found_by.as_deref(), Some("scan"));
    assert_eq!(lld_sym.pseudo_relocations.found_by.as_deref(), Some("symbols"));
    assert_eq!(key(&lld), key(&lld_sym));
    assert_eq!(lld.pseudo_relocations.entries.len(), 4);
    let x = reference("lld64/autoimport-symtab.exe", "objdump");
    let secs = objdump_sections(&x);
    let syms = objdump_symbols(&x);
    let (base, bytes) = objdump_contents(&reference("lld64/autoimport-symtab.exe", "objdump-s"));
    let slot = |name: &str| {
        let (sec, value, _) = syms.iter().find(|(_, _, n)| n == name).unwrap();
        let va = secs[*sec as usize - 1].1 + value;
        let o = (va - base) as usize;
        u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap())
    };
    let image_base = lld.image_base.unwrap();
    assert_eq!(lld.pseudo_relocations.list_rva, Some(slot(".refptr.__RUNTIME_PSEUDO_RELOC_LIST__") - image_base));
    assert_eq!(
        lld.pseudo_relocations.list_end_rva,
        Some(slot(".refptr.__RUNTIME_PSEUDO_RELOC_LIST_END__") - image_base)
    );
}

#[test]
fn pseudo_relocation_offsets_follow_the_source() {
    // tests/fixtures/src/autoimport.c: p_ptr = &ptr, p_pt_y = &pt.y (+4), p_arr3 = &arr[3] (+12),
    // p_arr2 = &arr[2] (+8) in .data, then the four .refptr slots (+0) in .rdata.
    let bin = load("mingw64/autoimport.exe");
    let offsets: Vec<Option<i64>> = bin.pseudo_relocations.entries.iter().map(|e| e.slot_offset).collect();
    assert_eq!(offsets, [Some(0), Some(4), Some(12), Some(8), Some(0), Some(0), Some(0), Some(0)]);
    assert!(bin.diagnostics.iter().all(|d| !d.message.contains("narrower than a pointer")));
    // -mcmodel=small: five 32-bit sites in .text, which the runtime can patch only when data.dll
    // lands within reach; their offsets are unknown without disassembly.
    let small = load("mingw64/autoimport-small.exe");
    let narrow: Vec<_> = small.pseudo_relocations.entries.iter().filter(|e| e.width == 32).collect();
    assert_eq!(narrow.len(), 5);
    assert!(narrow.iter().all(|e| e.slot_offset.is_none() && e.target_section.as_deref() == Some(".text")));
    let d = small.diagnostics.iter().find(|d| d.message.contains("narrower than a pointer")).expect("warning");
    assert!(d.message.contains("5 times"), "{}", d.message);
    // 32-bit images: pointer-wide sites are 32-bit.
    let x86 = load("mingw32/autoimport.exe");
    assert!(x86.pseudo_relocations.entries.iter().all(|e| e.slot_offset.is_some()));
}

#[test]
fn tls_callbacks_are_listed() {
    // features.c defines two TLS callbacks in .CRT$XLB / .CRT$XLC; both must be in .text.
    for rel in ["msvc64/features.dll", "msvc32/features.dll"] {
        let bin = load(rel);
        let tls = bin.pe.as_ref().unwrap().tls.as_ref().unwrap();
        assert_eq!(tls.callbacks.len(), 2, "{rel}");
        let base = bin.image_base.unwrap();
        for cb in &tls.callbacks {
            let s = bin.section_by_rva(cb - base).unwrap();
            assert_eq!(s.name, ".text", "{rel}");
        }
    }
}

#[test]
fn v1_list_and_iat_in_code_are_diagnosed() {
    let bin = load("mingw32/autoimport-v1.exe");
    assert_eq!(bin.pseudo_relocations.version, Some(1));
    assert!(bin.pseudo_relocations.entries.iter().all(|e| e.sym_rva.is_none() && e.width == 32));
    // Each v1 site is itself an IAT slot of an extra import descriptor, which names its import:
    // autoimport.c's &arr[3] (twice), &arr[2] and pt.y (twice).
    let mut names: Vec<&str> = bin.pseudo_relocations.entries.iter().filter_map(|e| e.import.as_deref()).collect();
    names.sort_unstable();
    assert_eq!(names, ["data.dll!arr", "data.dll!arr", "data.dll!arr", "data.dll!pt", "data.dll!pt"]);
    assert!(bin.diagnostics.iter().any(|d| d.message.contains("inside executable section .text")));
}

#[test]
fn archives_match_llvm_readobj_and_nm() {
    for rel in ARCHIVES {
        let bin = load(rel);
        assert_eq!(bin.format, Format::Archive, "{rel}");
        let text = reference(rel, "readobj");
        // Members llvm-readobj printed, in order (it prints one `File:` per member it reads).
        let files: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("File: ")).collect();
        let readable: Vec<&linkscope::model::Member> = bin.members.iter().filter(|m| m.binary.is_some()).collect();
        assert_eq!(readable.len(), files.len(), "{rel}: members");
        for (m, f) in readable.iter().zip(&files) {
            let f = f.rsplit_once('(').map_or(*f, |(_, inner)| inner.trim_end_matches(')'));
            assert_eq!(m.member_name.rsplit('/').next().unwrap(), f.rsplit('/').next().unwrap(), "{rel}");
        }
        // Short import members: type and name type, in order.
        let blocks: Vec<&str> = text.split("File: ").skip(1).collect();
        for (m, b) in readable.iter().zip(&blocks) {
            let b2 = parse_readobj(b);
            let Some(ty) = b2.get("Type") else { continue };
            let io = m
                .binary
                .as_ref()
                .unwrap()
                .import_object
                .as_ref()
                .unwrap_or_else(|| panic!("{rel}: {} is an import object", m.member_name));
            assert_eq!(io.kind.to_string(), ty, "{rel}: {}", m.member_name);
            let nt = b2.get("Name type").unwrap();
            assert_eq!(io.name_type.to_string(), nt.replace(' ', "").to_lowercase(), "{rel}: {}", m.member_name);
            let syms: Vec<String> = b2.lines().filter_map(|l| l.strip_prefix("Symbol: ").map(str::to_string)).collect();
            assert!(
                syms.contains(&io.symbol) || syms.contains(&format!("__imp_{}", io.symbol)),
                "{rel}: {} {:?}",
                io.symbol,
                syms
            );
        }
        // Archive symbol index.
        let nm = reference(rel, "nm");
        let mut expected: Vec<String> = nm
            .split("\n\n")
            .next()
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split(" in ").next().map(str::to_string))
            .filter(|s| !s.is_empty())
            .collect();
        let mut ours: Vec<String> = bin.archive_symbols.iter().map(|s| s.name.clone()).collect();
        expected.sort();
        ours.sort();
        assert_eq!(ours, expected, "{rel}: symbol index");
    }
}

/// (target section, offset, type, symbol, explicit addend).
type StaticReloc = (u32, u64, String, Option<String>, Option<i64>);

#[test]
fn elf_files_match_llvm_readobj() {
    for rel in ELF_FILES {
        let bin = load(rel);
        let root = parse_readobj(&reference(rel, "readobj"));
        let secs: Vec<&Node> = root.blocks("Sections").next().unwrap().blocks("Section").collect();
        assert_eq!(bin.sections.len(), secs.len(), "{rel}");
        let base = bin.image_base.unwrap_or(0);
        for (s, e) in bin.sections.iter().zip(&secs) {
            let ctx = format!("{rel}: section {}", s.index);
            assert_eq!(u64::from(s.index), e.num("Index").unwrap(), "{ctx}");
            assert_eq!(s.name, strip_paren(&e.get("Name").unwrap()), "{ctx}");
            assert_eq!(s.flags, e.num("Flags").unwrap(), "{ctx}");
            assert_eq!(s.virtual_size, e.num("Size").unwrap(), "{ctx}");
            let addr = if s.is_alloc && bin.image_base.is_some() { s.rva + base } else { s.rva };
            assert_eq!(addr, e.num("Address").unwrap(), "{ctx}");
            if s.file_size > 0 {
                assert_eq!(s.file_offset, e.num("Offset").unwrap(), "{ctx}");
            }
            if s.flags & 0x80 != 0 {
                let l = bin.link_order.iter().find(|l| l.section == s.index).expect("link order row");
                assert_eq!(u64::from(l.linked_section), e.num("Link").unwrap(), "{ctx}");
            }
        }
        // Static relocations by target section (sh_info of the relocation section).
        let mut expected: Vec<StaticReloc> = Vec::new();
        if let Some(r) = root.blocks("Relocations").next() {
            for sec in r.blocks("Section (") {
                let idx = sec.name()["Section (".len()..].split(')').next().unwrap().parse::<usize>().unwrap();
                let rs = secs[idx];
                let dynamic =
                    rs.get("Flags").is_some_and(|_| rs.num("Flags").unwrap() & 2 != 0) && bin.image_base.is_some();
                if dynamic {
                    continue;
                }
                let target = rs.num("Info").unwrap() as u32;
                for l in sec.lines() {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    let addend = if w.len() >= 4 { parse_num(w[3]).map(|v| v as i64) } else { None };
                    expected.push((
                        target,
                        parse_num(w[0]).unwrap(),
                        w[1].to_string(),
                        w.get(2).map(|s| s.to_string()).filter(|s| s != "-"),
                        addend,
                    ));
                }
            }
        }
        let ours: Vec<StaticReloc> = bin
            .relocations
            .iter()
            .filter(|r| !r.dynamic)
            .map(|r| (r.section.unwrap(), r.offset, r.kind.to_string(), r.symbol.clone(), Some(r.addend)))
            .collect();
        let norm = |v: &[StaticReloc]| -> Vec<(u32, u64, String, Option<String>)> {
            v.iter().map(|(a, b, c, d, _)| (*a, *b, c.clone(), d.clone())).collect()
        };
        assert_eq!(norm(&ours), norm(&expected), "{rel}: static relocations");
        for (o, e) in ours.iter().zip(&expected) {
            if let Some(a) = e.4 {
                assert_eq!(o.4, Some(a), "{rel}: addend at 0x{:x}", o.1);
            }
        }
        // Dynamic relocations.
        let expected: Vec<(u64, String, String, i64)> = root
            .blocks("Dynamic Relocations")
            .flat_map(|d| {
                d.lines()
                    .map(|l| {
                        let w: Vec<&str> = l.split_whitespace().collect();
                        let (sym, add) =
                            if w.len() >= 4 { (w[2].to_string(), w[3]) } else { ("-".to_string(), w[w.len() - 1]) };
                        (parse_num(w[0]).unwrap(), w[1].to_string(), sym, parse_num(add).unwrap_or(0) as i64)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut ours: Vec<(u64, String, String, i64)> = bin
            .relocations
            .iter()
            .filter(|r| r.dynamic)
            .map(|r| (r.offset + base, r.kind.to_string(), r.symbol.clone().unwrap_or_else(|| "-".into()), r.addend))
            .collect();
        let mut expected = expected;
        ours.sort();
        expected.sort();
        assert_eq!(ours, expected, "{rel}: dynamic relocations");
    }
}

#[test]
fn elf_groups_and_copy_relocations() {
    let bin = load("elf/comdat.o");
    let readelf = reference("elf/comdat.o", "readelf");
    let groups = readelf.matches("COMDAT group section").count();
    assert_eq!(bin.groups.iter().filter(|g| g.comdat).count(), groups);
    for g in &bin.groups {
        assert!(readelf.contains(&format!("[{}]", g.signature)), "{}", g.signature);
        for m in &g.members {
            assert!(bin.sections.get(*m as usize).is_some());
        }
    }
    let exe = load("elf/main-nopie");
    let elf = exe.elf.as_ref().unwrap();
    assert_eq!(elf.copy_relocations.len(), 4);
    assert!(elf.copy_relocations.iter().any(|c| c.symbol == "arr" && c.size == Some(32)));
    assert!(elf.needed.iter().any(|n| n == "libdata.so"));
    assert!(!elf.version_needs.is_empty());
    let lo = load("elf/linkorder.o");
    assert_eq!(lo.link_order.len(), 2);
}

#[test]
fn shared_object_exports_match_readelf_dynsym() {
    let bin = load("elf/libdata.so");
    let readelf = reference("elf/libdata.so", "readelf");
    let table = readelf.split("Symbol table '.dynsym'").nth(1).unwrap();
    let expected: Vec<(u32, u64, String)> = table
        .lines()
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let defined = w.get(6).is_some_and(|n| *n != "UND");
            let global = w.get(4).is_some_and(|b| *b == "GLOBAL" || *b == "WEAK");
            (defined && global).then(|| {
                (w[0].trim_end_matches(':').parse().unwrap(), u64::from_str_radix(w[1], 16).unwrap(), w[7].to_string())
            })
        })
        .collect();
    let ours: Vec<(u32, u64, String)> =
        bin.exports.iter().map(|e| (e.ordinal, e.rva + bin.image_base.unwrap(), e.name.clone().unwrap())).collect();
    assert_eq!(ours, expected);
    assert_eq!(ours.len(), 7);
}

#[test]
fn section_and_program_header_fields_cover_their_headers() {
    // Every byte of every section (and ELF program) header belongs to exactly one field, and the
    // field values agree with the section table llvm-readobj checked above.
    for rel in ["mingw64/autoimport.exe", "msvc64/comdat.obj", "elf/main-nopie", "elf/rel32.o"] {
        let bin = load(rel);
        for s in &bin.sections {
            let g = bin
                .headers
                .iter()
                .find(|g| g.span.offset == s.header_span.offset)
                .unwrap_or_else(|| panic!("{rel}: no header group for section {}", s.index));
            assert_eq!(g.span, s.header_span, "{rel}: section {}", s.index);
            let covered: u64 = g.fields.iter().map(|f| f.span.len).sum();
            assert_eq!(covered, s.header_span.len, "{rel}: section {} fields cover the header", s.index);
            let field = |n: &str| g.fields.iter().find(|f| f.name == n).and_then(|f| f.value);
            if bin.format.is_elf() {
                assert_eq!(field("sh_size"), Some(s.virtual_size), "{rel}");
                assert_eq!(field("sh_flags"), Some(s.flags), "{rel}");
            } else {
                assert_eq!(field("Characteristics"), Some(s.flags), "{rel}");
                assert_eq!(
                    field("SizeOfRawData"),
                    Some(s.file_size).filter(|_| s.flags & 0x80 == 0).or(field("SizeOfRawData")),
                    "{rel}"
                );
            }
        }
        for p in &bin.segments {
            let g = bin.headers.iter().find(|g| g.span.offset == p.header_span.offset).expect("program header group");
            assert_eq!(g.fields.iter().find(|f| f.name == "p_vaddr").and_then(|f| f.value), Some(p.vaddr), "{rel}");
        }
    }
}
