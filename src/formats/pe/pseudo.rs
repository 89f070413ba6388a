//! MinGW runtime pseudo-relocation lists (v1 and v2), found through the linker's marker symbols or,
//! in images without symbols (LLD, stripped), through a validated scan of read-only data.
//!
//! Semantics follow mingw-w64 `crt/pseudo-reloc.c` (`do_pseudo_reloc`): a list shorter than 8
//! bytes is empty; a `{0,0,0}` header is an explicit v1 header and is skipped; a list whose first
//! two words are not both zero is v1 (`{addend, target}` items); otherwise the third word must be
//! 1 (protocol v2) and `{sym, target, flags}` items follow.

use super::map::PeMap;
use crate::formats::bytes::{sign_extend, u32_at, uint_at};
use crate::formats::coff::symbols::SymbolTable;
use crate::model::{Arch, Binary, Location, PseudoReloc, Repeated, Severity, Span};

/// A sorted index of IAT slots: (slot RVA, "dll!name").
pub struct IatIndex {
    slots: Vec<(u64, String)>,
}

impl IatIndex {
    /// Index every IAT slot of `bin.imports`.
    pub fn new(bin: &Binary) -> Self {
        let mut slots: Vec<(u64, String)> = bin
            .imports
            .iter()
            .flat_map(|m| {
                m.entries.iter().map(move |e| {
                    let name = match (&e.name, e.ordinal) {
                        (Some(n), _) => n.clone(),
                        (None, Some(o)) => format!("#{o}"),
                        _ => "?".into(),
                    };
                    (e.iat_rva, format!("{}!{}", m.dll, name))
                })
            })
            .collect();
        slots.sort_by_key(|s| s.0);
        IatIndex { slots }
    }

    /// The import whose IAT slot is exactly at `rva`.
    pub fn lookup(&self, rva: u64) -> Option<&str> {
        let i = self.slots.binary_search_by_key(&rva, |s| s.0).ok()?;
        Some(self.slots[i].1.as_str())
    }
}

/// How the marker symbols located the list.
enum Markers {
    /// GNU ld's `__RUNTIME_PSEUDO_RELOC_LIST__` / `_END__` (i386: extra leading `_`).
    Direct(u64, u64),
    /// LLD keeps no synthetic symbols, but its `.refptr.__RUNTIME_PSEUDO_RELOC_LIST__` /
    /// `.refptr.…_END__` pointer slots hold the list's bounds as VAs.
    RefPtr(u64, u64),
}

/// The RVA a symbol stands for.
fn symbol_rva(bin: &Binary, table: &SymbolTable, want: &str) -> Option<u64> {
    table.symbols.iter().find_map(|s| {
        let n = s.name.strip_prefix('_').filter(|_| bin.arch == Arch::X86).unwrap_or(&s.name);
        if n != want || s.section <= 0 {
            return None;
        }
        let sec = bin.sections.get(s.section as usize - 1)?;
        Some(sec.rva + u64::from(s.value))
    })
}

fn marker_rvas(bin: &Binary, map: &PeMap, table: &SymbolTable) -> Option<Markers> {
    const START: &str = "__RUNTIME_PSEUDO_RELOC_LIST__";
    const END: &str = "__RUNTIME_PSEUDO_RELOC_LIST_END__";
    if let (Some(s), Some(e)) = (symbol_rva(bin, table, START), symbol_rva(bin, table, END)) {
        return Some(Markers::Direct(s, e));
    }
    let slot = |name: &str| {
        let at = symbol_rva(bin, table, &format!(".refptr.{name}"))?;
        map.va_to_rva(map.ptr(at)?)
    };
    Some(Markers::RefPtr(slot(START)?, slot(END)?))
}

/// Read the pseudo-relocation list of an image into `bin.pseudo_relocations`: through its marker
/// symbols, else (when `scan_data`) by scanning the read-only data for a v2 header.
pub fn read_pseudo_relocs(bin: &mut Binary, map: &PeMap, table: &SymbolTable, mingw_like: bool, scan_data: bool) {
    let iat = IatIndex::new(bin);
    let markers = marker_rvas(bin, map, table);
    if let Some(Markers::RefPtr(s, _)) = markers {
        bin.diag(
            Severity::Info,
            Location::rva(s),
            "pseudo-relocation list located through the .refptr.__RUNTIME_PSEUDO_RELOC_LIST__ / _END__ pointer slots (LLD writes no marker symbols)",
        );
    }
    let (start, end, found_by) = if let Some(Markers::Direct(s, e) | Markers::RefPtr(s, e)) = markers {
        if e < s {
            bin.diag(
                Severity::Error,
                Location::rva(s),
                "pseudo-relocation list end symbol lies before its start symbol",
            );
            return;
        }
        (s, e, "symbols")
    } else {
        match scan_data.then(|| scan(bin, map, &iat)).flatten() {
            Some((s, e)) => {
                bin.diag(
                    Severity::Info,
                    Location::rva(s),
                    format!(
                        "pseudo-relocation list found by scanning read-only data (no marker symbols): v2 header at RVA 0x{s:x}, {} entries",
                        (e - s - 12) / 12
                    ),
                );
                (s, e, "scan")
            }
            None => {
                if table.symbols.is_empty() && !bin.imports.is_empty() && mingw_like {
                    bin.pseudo_relocations.note = Some(
                        "no COFF symbol table and no v2 pseudo-relocation header found: a v1 list (which has no header) cannot be located without the marker symbols".into(),
                    );
                }
                return;
            }
        }
    };
    let pr = &mut bin.pseudo_relocations;
    pr.found_by = Some(found_by.to_string());
    pr.list_rva = Some(start);
    pr.list_end_rva = Some(end);
    let len = end - start;
    if len < 8 {
        return;
    }
    let w = |o: u64| map.u32(start + o);
    let mut items = start;
    if len >= 12 && w(0) == Some(0) && w(4) == Some(0) && w(8) == Some(0) {
        items += 12; // explicit v1 header
    }
    let (m1, m2) = (map.u32(items), map.u32(items + 4));
    if m1.is_none() || m2.is_none() {
        bin.diag(Severity::Error, Location::rva(start), "pseudo-relocation list is not in the file");
        return;
    }
    let mut entries = Vec::new();
    let mut diags = Vec::new();
    if m1 != Some(0) || m2 != Some(0) {
        bin.pseudo_relocations.version = Some(1);
        let mut p = items;
        while p + 8 <= end {
            let (Some(addend), Some(target)) = (map.u32(p), map.u32(p + 4)) else {
                break;
            };
            entries.push(entry(bin, map, None, u64::from(target), 32, None, Some(addend), p, 8, &mut diags));
            // v1: the site is itself an IAT slot of an extra import descriptor (in `.text` or
            // `.data`), which names the import; the addend is the offset into it.
            if let Some(e) = entries.last_mut() {
                e.import = iat.lookup(u64::from(target)).map(str::to_string);
            }
            p += 8;
        }
    } else {
        let version = map.u32(items + 8).unwrap_or(u32::MAX);
        if version != 1 {
            bin.diag(
                Severity::Error,
                Location::rva(items),
                format!("pseudo_relocation protocol version {version} is unknown to the runtime"),
            );
            return;
        }
        bin.pseudo_relocations.version = Some(2);
        let mut p = items + 12;
        while p + 12 <= end {
            let (Some(sym), Some(target), Some(flags)) = (map.u32(p), map.u32(p + 4), map.u32(p + 8)) else {
                break;
            };
            let width = flags & 0xff;
            if !matches!(width, 8 | 16 | 32 | 64) {
                diags.push((
                    Location::rva(p),
                    format!("pseudo-relocation at RVA 0x{p:x}: unknown width {width} bits (the runtime aborts)"),
                ));
            }
            let imp = iat.lookup(u64::from(sym)).map(str::to_string);
            if imp.is_none() {
                diags.push((
                    Location::rva(p),
                    format!("pseudo-relocation at RVA 0x{p:x}: symbol RVA 0x{sym:x} is not an IAT slot"),
                ));
            }
            entries.push(entry(
                bin,
                map,
                Some(u64::from(sym)),
                u64::from(target),
                width,
                Some(flags),
                None,
                p,
                12,
                &mut diags,
            ));
            if let Some(e) = entries.last_mut() {
                e.import = imp;
            }
            p += 12;
        }
    }
    for (loc, msg) in diags {
        bin.diag(Severity::Warning, loc, msg);
    }
    // On x64 a site narrower than a pointer (a RIP-relative disp32, or a 32-bit absolute) can only
    // be patched if the DLL lands close enough; the runtime aborts — or, for a disp32 it accepts
    // as an unsigned value, silently misaddresses — otherwise (LLD warns about these too).
    if map.is_64 {
        let mut narrow = Repeated::new(Severity::Warning, "pseudo-relocations narrower than a pointer");
        for e in entries.iter().filter(|e| e.width < 64) {
            narrow.add(Location::rva(e.target_rva), || {
                format!(
                    "{}-bit pseudo-relocation at {}+0x{:x} ({}): patchable only while the DLL's data lies within ±2 GiB of the site (RIP-relative) or below 4 GiB (absolute)",
                    e.width,
                    e.target_section.as_deref().unwrap_or("?"),
                    e.target_offset.unwrap_or(0),
                    e.import.as_deref().unwrap_or("?")
                )
            });
        }
        narrow.flush(bin);
    }
    bin.pseudo_relocations.entries = entries;
}

#[allow(clippy::too_many_arguments)]
fn entry(
    bin: &Binary,
    map: &PeMap,
    sym_rva: Option<u64>,
    target: u64,
    width: u32,
    flags: Option<u32>,
    addend: Option<u32>,
    at: u64,
    len: u64,
    diags: &mut Vec<(Location, String)>,
) -> PseudoReloc {
    let sec = bin.section_by_rva(target);
    if sec.is_none() {
        diags.push((Location::rva(at), format!("pseudo-relocation target RVA 0x{target:x} is outside every section")));
    }
    let bytes = width / 8;
    let stored = map.offset(target).and_then(|o| uint_at(map.data, o, bytes)).map(|v| {
        // The runtime sign-extends 8/16-bit values, and 32-bit ones on 64-bit targets.
        if width < 32 || (width == 32 && map.is_64) {
            sign_extend(v, width)
        } else {
            v as i64
        }
    });
    PseudoReloc {
        sym_rva,
        target_rva: target,
        width,
        flags,
        addend,
        import: None,
        target_section: sec.map(|s| s.name.clone()),
        target_offset: sec.map(|s| target - s.rva),
        stored_value: stored,
        slot_offset: match (sym_rva, stored) {
            (Some(sym), Some(v)) if u64::from(width) == map.ptr_size() * 8 => {
                Some(v.wrapping_sub(map.image_base.wrapping_add(sym) as i64))
            }
            _ => None,
        },
        span: map.offset(at).map_or_else(Span::default, |o| Span::new(o, len)),
    }
}

/// Scan non-executable sections for a `{0,0,1}` header followed by valid v2 items.
/// Returns (start, end) RVAs of the longest list found.
fn scan(bin: &Binary, map: &PeMap, iat: &IatIndex) -> Option<(u64, u64)> {
    if bin.imports.is_empty() {
        return None;
    }
    let size_of_image = map.size_of_image.max(1);
    let mut best: Option<(u64, u64)> = None;
    let header = memchr::memmem::Finder::new(&[0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    for s in bin.sections.iter().filter(|s| !s.is_exec && s.file_size >= 24) {
        let data = s.bytes(map.data);
        // The header `{0, 0, 1}` as bytes, 4-byte aligned (as the list is, and sections are):
        // found by a vectorised search, each hit tried in turn (hits may overlap).
        let nwords = data.len() / 4;
        let words = &data[..nwords * 4];
        let mut skip_to = 0usize;
        let mut from = 0usize;
        while let Some(hit) = header.find(&words[from..]) {
            let i = from + hit;
            from = i + 1;
            if i.is_multiple_of(4) && i >= skip_to && i + 24 <= data.len() {
                let mut n = 0u64;
                loop {
                    let p = (i + 12) as u64 + n * 12;
                    let (Some(sym), Some(target), Some(flags)) =
                        (u32_at(data, p), u32_at(data, p + 4), u32_at(data, p + 8))
                    else {
                        break;
                    };
                    let ok = iat.lookup(u64::from(sym)).is_some()
                        && matches!(flags & 0xff, 8 | 16 | 32 | 64)
                        && flags >> 8 == 0
                        && u64::from(target) < size_of_image;
                    if !ok {
                        break;
                    }
                    n += 1;
                }
                if n > 0 {
                    let start = s.rva + i as u64;
                    let end = start + 12 + n * 12;
                    if best.is_none_or(|(bs, be)| be - bs < end - start) {
                        best = Some((start, end));
                    }
                    skip_to = i + 12 + (n as usize) * 12;
                }
            }
        }
    }
    best
}
