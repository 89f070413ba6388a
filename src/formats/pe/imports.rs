//! Import directory, delay-load imports and bound imports.

use super::map::PeMap;
use crate::demangle::demangle;
use crate::formats::bytes::{cstr_at, text, u16_at, u32_at};
use crate::model::{Binary, BoundImport, ImportEntry, ImportModule, Location, PeInfo, Repeated, Severity, Span};

/// Most descriptors / thunks read before giving up on a runaway table.
const MAX_DESCRIPTORS: u64 = 65_536;
const MAX_THUNKS: u64 = 1 << 20;

/// How many import entries may still be read: well-formed tables never overlap, so the file
/// size bounds their total; hostile descriptors that share one table would otherwise multiply.
pub struct Budget(pub u64);

impl Budget {
    /// The budget for an image of `file_len` bytes.
    pub fn for_file(file_len: u64, ptr_size: u64) -> Self {
        Budget(file_len / ptr_size + 1024)
    }
}

/// Read the thunks of one module. `ilt` may be 0 (then the IAT doubles as lookup table).
#[allow(clippy::too_many_arguments)]
fn read_thunks(
    bin: &mut Binary,
    map: &PeMap,
    dll: &str,
    ilt: u64,
    iat: u64,
    va_based: bool,
    budget: &mut Budget,
    runoff: &mut Repeated,
) -> Vec<ImportEntry> {
    let ps = map.ptr_size();
    let lookup = if ilt != 0 { ilt } else { iat };
    let ord_flag = if map.is_64 { 1u64 << 63 } else { 1u64 << 31 };
    let mut out = Vec::new();
    let mut bad_names = Repeated::new(Severity::Warning, "import hint/name RVAs are not in the file");
    let mut long_names = Repeated::new(Severity::Info, "import names are longer than linkscope keeps; shown cut");
    for i in 0..MAX_THUNKS {
        if budget.0 == 0 {
            bin.diag(
                Severity::Error,
                Location::rva(lookup + i * ps),
                format!("import tables hold more entries than the file can: reading stopped in {dll}"),
            );
            break;
        }
        budget.0 -= 1;
        let Some(v) = map.ptr(lookup + i * ps) else {
            runoff.add(Location::rva(lookup + i * ps), || {
                format!("import lookup table of {dll} runs off the mapped file after {i} entries")
            });
            break;
        };
        if v == 0 {
            break;
        }
        let slot = iat + i * ps;
        let iat_value = map.ptr(slot);
        let (name, ordinal, hint) = if v & ord_flag != 0 {
            (None, Some((v & 0xffff) as u16), None)
        } else {
            let mut hn = v & 0x7fff_ffff;
            if va_based {
                hn = hn.saturating_sub(map.image_base);
            }
            match (map.u16(hn), map.name(hn + 2, MAX_NAME)) {
                (Some(h), Some((n, whole))) => {
                    if !whole {
                        long_names.add(Location::rva(hn + 2), || {
                            format!("import {i} of {dll}: name at 0x{:x} is longer than {MAX_NAME} bytes", hn + 2)
                        });
                    }
                    (Some(cut_text(n, whole)), None, Some(h))
                }
                _ => {
                    bad_names.add(Location::rva(lookup + i * ps), || {
                        format!("import {i} of {dll}: hint/name RVA 0x{hn:x} is not in the file")
                    });
                    (Some(format!("<bad name rva 0x{hn:x}>")), None, None)
                }
            }
        };
        out.push(ImportEntry {
            demangled: name.as_deref().and_then(demangle),
            name,
            ordinal,
            hint,
            iat_rva: slot,
            ilt_value: (ilt != 0).then_some(v),
            iat_value,
            iat_span: map.offset(slot).map(|o| Span::new(o, ps)),
        });
    }
    bad_names.flush(bin);
    long_names.flush(bin);
    out
}

/// Longest name kept whole; a longer one (the loader compares it all) is shown cut, with "…".
pub const MAX_NAME: usize = 4096;

/// The text of a name read by [`PeMap::name`]: "…" marks one cut at [`MAX_NAME`] bytes.
pub fn cut_text(n: &[u8], whole: bool) -> String {
    if whole {
        text(n)
    } else {
        format!("{}…", text(n))
    }
}

/// Most descriptors read past the loader's terminator (they are shown, not bound).
const MAX_IGNORED_DESCRIPTORS: u64 = 64;

/// Read the ordinary import directory.
///
/// The loader walks descriptors until the first whose `Name` or `FirstThunk` is 0 (wine's
/// `fixup_imports`, ReactOS' `LdrpWalkImportDescriptor`), not until an all-zero one. What lies
/// between that terminator and the all-zero descriptor tools look for is never bound: it goes to
/// `ignored_imports`, with a diagnostic holding the terminator's bytes.
pub fn read_imports(bin: &mut Binary, map: &PeMap, (rva, _size): (u64, u64), budget: &mut Budget) {
    if rva == 0 {
        return;
    }
    let mut runoff = Repeated::new(Severity::Error, "import lookup tables run off the mapped file");
    let mut bad_dll = Repeated::new(Severity::Warning, "import descriptors name DLLs outside the file");
    let mut terminated_at: Option<u64> = None;
    for i in 0..MAX_DESCRIPTORS {
        let d = rva + i * 20;
        let (Some(oft), Some(name_rva), Some(ft)) = (map.u32(d), map.u32(d + 12), map.u32(d + 16)) else {
            if terminated_at.is_none() {
                bin.diag(Severity::Error, Location::rva(d), format!("import descriptor {i} is not in the file"));
            }
            break;
        };
        let all_zero = oft == 0 && name_rva == 0 && ft == 0 && map.u32(d + 4) == Some(0) && map.u32(d + 8) == Some(0);
        if all_zero {
            break;
        }
        if terminated_at.is_none() && (name_rva == 0 || ft == 0) {
            terminated_at = Some(i);
            let hex = map.bytes(d, 20).map(hex_bytes).unwrap_or_else(|| "(zero-filled in memory)".into());
            let which = if name_rva == 0 { "Name" } else { "FirstThunk" };
            let loc = map.offset(d).map_or_else(|| Location::rva(d), |o| Location::both(Some(o), Some(d)));
            bin.diag(
                Severity::Warning,
                loc,
                format!(
                    "import descriptor {i} has {which} 0, which ends the loader's list; it and the descriptors \
                     after it up to the all-zero one are not bound (ignored_imports) [{hex}]"
                ),
            );
        }
        if let Some(t) = terminated_at {
            if i - t >= MAX_IGNORED_DESCRIPTORS {
                bin.diag(
                    Severity::Info,
                    Location::rva(d),
                    format!("more than {MAX_IGNORED_DESCRIPTORS} descriptors after the import terminator; not read"),
                );
                break;
            }
        }
        let dll = match map.name(u64::from(name_rva), MAX_NAME) {
            Some((n, whole)) => cut_text(n, whole),
            None if terminated_at.is_some() => format!("<bad name rva 0x{name_rva:x}>"),
            None => {
                bad_dll.add(Location::rva(d), || {
                    format!("import descriptor {i}: DLL name RVA 0x{name_rva:x} is not in the file")
                });
                format!("<bad name rva 0x{name_rva:x}>")
            }
        };
        // The loader takes OriginalFirstThunk only when it points inside the image past the
        // headers; otherwise it walks the IAT itself (ReactOS LdrpSnapIAT: "a strange linked file").
        let oft_used = u64::from(oft);
        let oft_used = if oft_used < map.headers_size() || oft_used >= map.size_of_image {
            if oft != 0 && terminated_at.is_none() {
                bin.diag(
                    Severity::Warning,
                    Location::rva(d),
                    format!(
                        "import descriptor {i} ({dll}): OriginalFirstThunk 0x{oft:x} is outside the image past its \
                         headers; the loader reads the names from the IAT (FirstThunk) instead"
                    ),
                );
            }
            0
        } else {
            oft_used
        };
        let (entries, is_ignored) = if terminated_at.is_some() {
            // Shown for what it is, without the per-entry diagnostics of bound imports.
            let mut scratch = Binary::new(bin.format, bin.file_size);
            let mut quiet = Repeated::new(Severity::Info, "");
            let e = read_thunks(&mut scratch, map, &dll, oft_used, u64::from(ft), false, budget, &mut quiet);
            (e, true)
        } else {
            let e = read_thunks(bin, map, &dll, oft_used, u64::from(ft), false, budget, &mut runoff);
            check_iat_placement(bin, &dll, u64::from(ft), e.len() as u64 * map.ptr_size());
            (e, false)
        };
        let exhausted = budget.0 == 0;
        let module = ImportModule {
            dll,
            ilt_rva: u64::from(oft),
            iat_rva: u64::from(ft),
            descriptor_span: map.offset(d).map_or_else(Span::default, |o| Span::new(o, 20)),
            entries,
        };
        if is_ignored {
            bin.ignored_imports.push(module);
        } else {
            bin.imports.push(module);
        }
        if exhausted {
            break;
        }
    }
    runoff.flush(bin);
    bad_dll.flush(bin);
}

/// Bytes as space-separated hex.
fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// Flag an IAT that lies inside an executable section (GNU ld's v1 pseudo-relocation trick).
fn check_iat_placement(bin: &mut Binary, dll: &str, iat: u64, len: u64) {
    if len == 0 {
        return;
    }
    if let Some(s) = bin.section_by_rva(iat) {
        if s.is_exec {
            let name = s.name.clone();
            bin.diag(
                Severity::Info,
                Location::rva(iat),
                format!("IAT range of {dll} (0x{iat:x}..0x{:x}) is inside executable section {name}", iat + len),
            );
        }
    }
}

/// Read the delay-load import directory.
pub fn read_delay_imports(bin: &mut Binary, map: &PeMap, (rva, _size): (u64, u64), budget: &mut Budget) {
    if rva == 0 {
        return;
    }
    let mut runoff = Repeated::new(Severity::Error, "delay-import name tables run off the mapped file");
    for i in 0..MAX_DESCRIPTORS {
        let d = rva + i * 32;
        let Some(attrs) = map.u32(d) else {
            bin.diag(Severity::Error, Location::rva(d), format!("delay-import descriptor {i} is not in the file"));
            break;
        };
        let f = |o: u64| map.u32(d + o).map(u64::from).unwrap_or(0);
        let (name, iat, int) = (f(4), f(12), f(16));
        if name == 0 && iat == 0 && int == 0 {
            break;
        }
        // Attributes bit 0 clear: the old Visual C++ 6 form, where fields are VAs.
        let va_based = attrs & 1 == 0;
        let fix = |v: u64| {
            if va_based {
                v.saturating_sub(map.image_base)
            } else {
                v
            }
        };
        let dll = map.cstr(fix(name), 4096).map(text).unwrap_or_else(|| format!("<bad name rva 0x{:x}>", fix(name)));
        let entries = read_thunks(bin, map, &dll, fix(int), fix(iat), va_based, budget, &mut runoff);
        bin.delay_imports.push(ImportModule {
            dll,
            ilt_rva: fix(int),
            iat_rva: fix(iat),
            descriptor_span: map.offset(d).map_or_else(Span::default, |o| Span::new(o, 32)),
            entries,
        });
    }
    runoff.flush(bin);
}

/// Read the bound-import directory (it usually lives in the headers).
pub fn read_bound_imports(bin: &mut Binary, pe: &mut PeInfo, map: &PeMap, (rva, size): (u64, u64)) {
    if rva == 0 {
        return;
    }
    let data = map.data;
    let Some(base) = map.offset(rva).or((rva < data.len() as u64).then_some(rva)) else {
        bin.diag(Severity::Warning, Location::rva(rva), "bound-import directory is not in the file");
        return;
    };
    let mut off = base;
    let limit = base + size.max(8);
    while off + 8 <= limit {
        let (Some(ts), Some(name_off), Some(nfwd)) = (u32_at(data, off), u16_at(data, off + 4), u16_at(data, off + 6))
        else {
            break;
        };
        if ts == 0 && name_off == 0 {
            break;
        }
        let name = |o: u16| cstr_at(data, base + u64::from(o), 4096).map(text).unwrap_or_else(|| "<bad name>".into());
        let mut fwd = Vec::new();
        for k in 0..u64::from(nfwd) {
            let r = off + 8 + k * 8;
            if let Some(no) = u16_at(data, r + 4) {
                fwd.push(name(no));
            }
        }
        pe.bound_imports.push(BoundImport { dll: name(name_off), timestamp: ts, forwarders: fwd });
        off += 8 + u64::from(nfwd) * 8;
    }
}
