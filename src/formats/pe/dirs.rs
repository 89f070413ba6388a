//! Debug directory, TLS, load configuration, exception (`.pdata`) table and resources.

use super::map::PeMap;
use crate::formats::bytes::{text, u16_at, u32_at};
use crate::model::{
    Binary, DebugEntry, LoadConfig, Location, PeInfo, Repeated, ResourceEntry, RuntimeFunction, Severity, Span, TlsInfo,
};

fn debug_type_name(t: u32) -> String {
    match t {
        0 => "UNKNOWN".into(),
        1 => "COFF".into(),
        2 => "CODEVIEW".into(),
        3 => "FPO".into(),
        4 => "MISC".into(),
        5 => "EXCEPTION".into(),
        6 => "FIXUP".into(),
        7 => "OMAP_TO_SRC".into(),
        8 => "OMAP_FROM_SRC".into(),
        9 => "BORLAND".into(),
        10 => "RESERVED10".into(),
        11 => "CLSID".into(),
        12 => "VC_FEATURE".into(),
        13 => "POGO".into(),
        14 => "ILTCG".into(),
        15 => "MPX".into(),
        16 => "REPRO".into(),
        17 => "EMBEDDED_PORTABLE_PDB".into(),
        19 => "PDBCHECKSUM".into(),
        20 => "EX_DLLCHARACTERISTICS".into(),
        _ => format!("0x{t:x}"),
    }
}

/// Read the debug directory (CodeView RSDS / NB10 records decoded).
pub fn read_debug(bin: &mut Binary, pe: &mut PeInfo, map: &PeMap, (rva, size): (u64, u64)) {
    if rva == 0 || size == 0 {
        return;
    }
    let data = map.data;
    let n = (size / 28).min(4096);
    for i in 0..n {
        let e = rva + i * 28;
        let Some(off) = map.offset(e) else {
            bin.diag(Severity::Warning, Location::rva(e), format!("debug directory entry {i} is not in the file"));
            break;
        };
        let f = |o: u64| u32_at(data, off + o).unwrap_or(0);
        let (ts, t, sz, addr, ptr) = (f(4), f(12), f(16), f(20), f(24));
        let mut entry = DebugEntry {
            kind: debug_type_name(t),
            raw_type: t,
            timestamp: ts,
            rva: u64::from(addr),
            file_offset: u64::from(ptr),
            size: sz,
            pdb_path: None,
            guid: None,
            age: None,
            span: Span::new(off, 28),
        };
        if t == 2 {
            let p = u64::from(ptr);
            let sig = crate::formats::bytes::slice_at(data, p, 4);
            if sig == Some(b"RSDS") {
                if let Some(g) = crate::formats::bytes::slice_at(data, p + 4, 16) {
                    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
                    let d2 = u16::from_le_bytes([g[4], g[5]]);
                    let d3 = u16::from_le_bytes([g[6], g[7]]);
                    entry.guid = Some(format!(
                        "{d1:08X}-{d2:04X}-{d3:04X}-{:02X}{:02X}-{}",
                        g[8],
                        g[9],
                        g[10..16].iter().map(|b| format!("{b:02X}")).collect::<String>()
                    ));
                }
                entry.age = u32_at(data, p + 20);
                let max = (sz as usize).saturating_sub(24).max(1);
                entry.pdb_path = crate::formats::bytes::cstr_at(data, p + 24, max.min(4096)).map(text);
            } else if sig == Some(b"NB10") {
                entry.age = u32_at(data, p + 12);
                entry.pdb_path = crate::formats::bytes::cstr_at(data, p + 16, 4096).map(text);
            }
        }
        pe.debug.push(entry);
    }
}

/// Read the TLS directory and its callback list.
pub fn read_tls(bin: &mut Binary, pe: &mut PeInfo, map: &PeMap, (rva, _size): (u64, u64)) {
    if rva == 0 {
        return;
    }
    let ps = map.ptr_size();
    let (Some(start), Some(end), Some(index), Some(cbs)) =
        (map.ptr(rva), map.ptr(rva + ps), map.ptr(rva + 2 * ps), map.ptr(rva + 3 * ps))
    else {
        bin.diag(Severity::Warning, Location::rva(rva), "TLS directory is not in the file");
        return;
    };
    let zero = map.u32(rva + 4 * ps).unwrap_or(0);
    let ch = map.u32(rva + 4 * ps + 4).unwrap_or(0);
    let mut callbacks = Vec::new();
    if cbs != 0 {
        match map.va_to_rva(cbs) {
            Some(mut r) => {
                for _ in 0..1024 {
                    match map.ptr(r) {
                        Some(0) => break,
                        Some(v) => callbacks.push(v),
                        None => {
                            bin.diag(
                                Severity::Info,
                                Location::rva(r),
                                "TLS callback list is not terminated inside the file (it may be filled at run time)",
                            );
                            break;
                        }
                    }
                    r += ps;
                }
            }
            None => bin.diag(
                Severity::Warning,
                Location::rva(rva),
                format!("TLS AddressOfCallBacks 0x{cbs:x} is below the image base"),
            ),
        }
    }
    pe.tls = Some(TlsInfo {
        start_raw_data: start,
        end_raw_data: end,
        address_of_index: index,
        address_of_callbacks: cbs,
        size_of_zero_fill: zero,
        characteristics: ch,
        callbacks,
    });
}

/// Width of a load-config field: 2, 4 or pointer (0).
const LC_FIELDS: &[(&str, u8)] = &[
    ("Size", 4),
    ("TimeDateStamp", 4),
    ("MajorVersion", 2),
    ("MinorVersion", 2),
    ("GlobalFlagsClear", 4),
    ("GlobalFlagsSet", 4),
    ("CriticalSectionDefaultTimeout", 4),
    ("DeCommitFreeBlockThreshold", 0),
    ("DeCommitTotalFreeThreshold", 0),
    ("LockPrefixTable", 0),
    ("MaximumAllocationSize", 0),
    ("VirtualMemoryThreshold", 0),
    ("ProcessAffinityMask", 0),
    ("ProcessHeapFlags", 4),
    ("CSDVersion", 2),
    ("DependentLoadFlags", 2),
    ("EditList", 0),
    ("SecurityCookie", 0),
    ("SEHandlerTable", 0),
    ("SEHandlerCount", 0),
    ("GuardCFCheckFunctionPointer", 0),
    ("GuardCFDispatchFunctionPointer", 0),
    ("GuardCFFunctionTable", 0),
    ("GuardCFFunctionCount", 0),
    ("GuardFlags", 4),
    ("CodeIntegrity.Flags", 2),
    ("CodeIntegrity.Catalog", 2),
    ("CodeIntegrity.CatalogOffset", 4),
    ("CodeIntegrity.Reserved", 4),
    ("GuardAddressTakenIatEntryTable", 0),
    ("GuardAddressTakenIatEntryCount", 0),
    ("GuardLongJumpTargetTable", 0),
    ("GuardLongJumpTargetCount", 0),
    ("DynamicValueRelocTable", 0),
    ("CHPEMetadataPointer", 0),
    ("GuardRFFailureRoutine", 0),
    ("GuardRFFailureRoutineFunctionPointer", 0),
    ("DynamicValueRelocTableOffset", 4),
    ("DynamicValueRelocTableSection", 2),
    ("Reserved2", 2),
    ("GuardRFVerifyStackPointerFunctionPointer", 0),
    ("HotPatchTableOffset", 4),
    ("Reserved3", 4),
    ("EnclaveConfigurationPointer", 0),
    ("VolatileMetadataPointer", 0),
    ("GuardEHContinuationTable", 0),
    ("GuardEHContinuationCount", 0),
    ("GuardXFGCheckFunctionPointer", 0),
    ("GuardXFGDispatchFunctionPointer", 0),
    ("GuardXFGTableDispatchFunctionPointer", 0),
    ("CastGuardOsDeterminedFailureMode", 0),
    ("GuardMemcpyFunctionPointer", 0),
];

/// Read the load configuration directory, with the CFG function table and the SEH handler table.
pub fn read_load_config(bin: &mut Binary, pe: &mut PeInfo, map: &PeMap, (rva, _size): (u64, u64)) {
    if rva == 0 {
        return;
    }
    let Some(size) = map.u32(rva) else {
        bin.diag(Severity::Warning, Location::rva(rva), "load configuration directory is not in the file");
        return;
    };
    let ps = map.ptr_size() as u32;
    let mut fields = Vec::new();
    let mut at = 0u32;
    // IMAGE_LOAD_CONFIG_DIRECTORY32 keeps ProcessHeapFlags before ProcessAffinityMask; the 64-bit
    // structure has them the other way round.
    let mut order: Vec<(&str, u8)> = LC_FIELDS.to_vec();
    if !map.is_64 {
        if let (Some(a), Some(h)) = (
            order.iter().position(|f| f.0 == "ProcessAffinityMask"),
            order.iter().position(|f| f.0 == "ProcessHeapFlags"),
        ) {
            order.swap(a, h);
        }
    }
    for (name, w) in order {
        let w = if w == 0 { ps } else { u32::from(w) };
        if at + w > size {
            break;
        }
        let v = match w {
            2 => map.u16(rva + u64::from(at)).map(u64::from),
            4 => map.u32(rva + u64::from(at)).map(u64::from),
            _ => map.u64(rva + u64::from(at)),
        };
        let Some(v) = v else { break };
        fields.push((name.to_string(), v));
        at += w;
    }
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
    let mut guard_functions = Vec::new();
    if let (Some(table), Some(count)) = (get("GuardCFFunctionTable"), get("GuardCFFunctionCount")) {
        if table != 0 && count != 0 {
            let stride = 4 + ((get("GuardFlags").unwrap_or(0) >> 28) & 0xf);
            if let Some(t) = map.va_to_rva(table) {
                for i in 0..count.min(1 << 20) {
                    match map.u32(t + i * stride) {
                        Some(f) => guard_functions.push(u64::from(f)),
                        None => {
                            bin.diag(
                                Severity::Warning,
                                Location::rva(t + i * stride),
                                format!("CFG function table ends after {i} of {count} entries"),
                            );
                            break;
                        }
                    }
                }
            }
        }
    }
    let mut seh_handlers = Vec::new();
    if let (Some(table), Some(count)) = (get("SEHandlerTable"), get("SEHandlerCount")) {
        if table != 0 && count != 0 && !map.is_64 {
            if let Some(t) = map.va_to_rva(table) {
                for i in 0..count.min(1 << 20) {
                    match map.u32(t + i * 4) {
                        Some(f) => seh_handlers.push(u64::from(f)),
                        None => break,
                    }
                }
            }
        }
    }
    pe.load_config = Some(LoadConfig { size, fields, guard_functions, seh_handlers });
}

/// Read the exception directory (x64 `.pdata`: 12-byte RUNTIME_FUNCTION entries).
pub fn read_exceptions(bin: &mut Binary, pe: &mut PeInfo, map: &PeMap, (rva, size): (u64, u64), machine: u16) {
    if rva == 0 || size == 0 {
        return;
    }
    if machine != 0x8664 {
        bin.diag(Severity::Info, Location::rva(rva), "exception directory entries are decoded for x86-64 images only");
        return;
    }
    let n = (size / 12).min(1 << 22);
    pe.exceptions.reserve(n as usize);
    // The directory's bytes found once when the file holds them in one run (as it does).
    let run = map.file_run(rva).filter(|&(_, run)| run >= n * 12);
    let word = |at: u64| match run {
        Some((o, _)) => crate::formats::bytes::u32_at(map.data, o + (at - rva)),
        None => map.u32(at),
    };
    for i in 0..n {
        let e = rva + i * 12;
        let (Some(b), Some(en), Some(u)) = (word(e), word(e + 4), word(e + 8)) else {
            bin.diag(
                Severity::Warning,
                Location::rva(e),
                format!("exception directory ends in the file after {i} entries"),
            );
            break;
        };
        pe.exceptions.push(RuntimeFunction { begin: b, end: en, unwind: u });
    }
}

fn resource_type_name(id: u32) -> String {
    match id {
        1 => "CURSOR".into(),
        2 => "BITMAP".into(),
        3 => "ICON".into(),
        4 => "MENU".into(),
        5 => "DIALOG".into(),
        6 => "STRING".into(),
        7 => "FONTDIR".into(),
        8 => "FONT".into(),
        9 => "ACCELERATOR".into(),
        10 => "RCDATA".into(),
        11 => "MESSAGETABLE".into(),
        12 => "GROUP_CURSOR".into(),
        14 => "GROUP_ICON".into(),
        16 => "VERSION".into(),
        17 => "DLGINCLUDE".into(),
        19 => "PLUGPLAY".into(),
        20 => "VXD".into(),
        21 => "ANICURSOR".into(),
        22 => "ANIICON".into(),
        23 => "HTML".into(),
        24 => "MANIFEST".into(),
        _ => format!("#{id}"),
    }
}

const MAX_RESOURCES: usize = 100_000;

/// Read the resource tree (type / name / language), summarised as leaves.
pub fn read_resources(bin: &mut Binary, pe: &mut PeInfo, map: &PeMap, (rva, _size): (u64, u64)) {
    if rva == 0 {
        return;
    }
    let data = map.data;
    let Some(root) = map.offset(rva) else {
        bin.diag(Severity::Warning, Location::rva(rva), "resource directory is not in the file");
        return;
    };
    let name_at = |off: u32| -> String {
        let o = root + u64::from(off & 0x7fff_ffff);
        let n = u16_at(data, o).unwrap_or(0) as u64;
        let mut s = String::new();
        for k in 0..n.min(256) {
            let Some(c) = u16_at(data, o + 2 + 2 * k) else {
                break;
            };
            s.push(char::from_u32(u32::from(c)).unwrap_or('?'));
        }
        s
    };
    // Iterative walk with an explicit stack: (dir offset relative to root, depth, path).
    let mut stack: Vec<(u32, u32, Vec<String>, u32)> = vec![(0, 0, Vec::new(), 0)];
    let mut visited = 0usize;
    let mut missing = Repeated::new(Severity::Warning, "resource data entries are not in the file");
    let mut missing_dirs = Repeated::new(Severity::Warning, "resource directory tables are not in the file");
    let mut too_deep = Repeated::new(Severity::Warning, "resource subdirectories below the language level are ignored");
    while let Some((dir, depth, path, lang)) = stack.pop() {
        visited += 1;
        if visited > MAX_RESOURCES || pe.resources.len() >= MAX_RESOURCES {
            bin.diag(Severity::Warning, Location::rva(rva), "resource tree is too large or loops; summary cut short");
            break;
        }
        let d = root + u64::from(dir);
        let (Some(nn), Some(ni)) = (u16_at(data, d + 12), u16_at(data, d + 14)) else {
            missing_dirs.add(Location::file(d), || {
                format!("resource directory table at file offset 0x{d:x} is not in the file")
            });
            continue;
        };
        for k in 0..(u64::from(nn) + u64::from(ni)) {
            let e = d + 16 + k * 8;
            let (Some(id), Some(target)) = (u32_at(data, e), u32_at(data, e + 4)) else {
                break;
            };
            let label = if id & 0x8000_0000 != 0 {
                name_at(id)
            } else if depth == 0 {
                resource_type_name(id)
            } else {
                format!("#{id}")
            };
            let mut p = path.clone();
            p.push(label);
            if target & 0x8000_0000 != 0 {
                if depth >= 2 {
                    too_deep.add(Location::file(e), || {
                        format!("resource entry at file offset 0x{e:x} is a subdirectory below the language level")
                    });
                    continue;
                }
                stack.push((target & 0x7fff_ffff, depth + 1, p, id));
            } else {
                let leaf = root + u64::from(target);
                let (Some(drva), Some(dsize)) = (u32_at(data, leaf), u32_at(data, leaf + 4)) else {
                    missing.add(Location::file(leaf), || {
                        format!("resource data entry at file offset 0x{leaf:x} is not in the file")
                    });
                    continue;
                };
                let language = if depth == 2 { id } else { lang };
                pe.resources.push(ResourceEntry {
                    kind: p.first().cloned().unwrap_or_default(),
                    name: p.get(1).cloned().unwrap_or_default(),
                    language,
                    rva: u64::from(drva),
                    size: dsize,
                });
            }
        }
    }
    missing.flush(bin);
    missing_dirs.flush(bin);
    too_deep.flush(bin);
    pe.resources.sort_by(|a, b| {
        (a.kind.as_str(), a.name.as_str(), a.language).cmp(&(b.kind.as_str(), b.name.as_str(), b.language))
    });
}
