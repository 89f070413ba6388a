//! The loader's part: map each module at its RVAs, choose its base (preferred, given, or moved
//! away from a collision as the Windows loader does), and apply its base relocations.

use serde::Serialize;

use super::{read_le, write_le, DllInput, PatchOptions};
use crate::formats::pe::map::PeMap;
use crate::model::Binary;

/// The largest memory image the engine materialises (SizeOfImage, or an ELF module's span).
pub const MAX_IMAGE: u64 = 256 << 20;

/// One module of the simulated process.
#[derive(Debug, Clone, Serialize)]
pub struct LoadedModule {
    /// The name the image imports it by (the image: its file name).
    pub name: String,
    /// The file it was read from (None: only a base was given).
    pub path: Option<String>,
    /// Its preferred base (ImageBase; ELF: lowest `PT_LOAD` vaddr).
    pub preferred_base: Option<u64>,
    /// Where it is loaded.
    pub base: u64,
    /// Whether it is loaded away from its preferred base.
    pub relocated: bool,
    /// SizeOfImage (ELF: the span of its `PT_LOAD` segments); 0 when unknown.
    pub size: u64,
    /// Base-relocation (ELF: `RELATIVE`) fields the loader patched for the move.
    pub relocations_applied: u64,
    /// Why it is where it is (given, preferred, moved because …).
    pub placement: String,
    /// Its code as loaded: the address ranges `[start, end)` of its executable `PT_LOAD`
    /// segments (PE: executable sections); empty when its file is not at hand. Where an IFUNC
    /// resolver's value may land.
    #[serde(skip)]
    pub code: Vec<(u64, u64)>,
}

impl LoadedModule {
    /// Whether `va` lies in the module's code.
    pub fn in_code(&self, va: u64) -> bool {
        self.code.iter().any(|&(s, e)| s <= va && va < e)
    }

    /// Whether `va` lies in the module (its `size` bytes from its base).
    pub fn contains(&self, va: u64) -> bool {
        self.size > 0 && va >= self.base && va - self.base < self.size
    }
}

/// The code of `bin` loaded at `base` (where its lowest `PT_LOAD` vaddr / its ImageBase lands):
/// the address ranges of its executable `PT_LOAD` segments (ELF `PF_X`) or sections (PE).
pub fn code_ranges(bin: &Binary, base: u64) -> Vec<(u64, u64)> {
    use crate::model::SegmentKind;
    if bin.format.is_elf() {
        let loads = bin.segments.iter().filter(|s| s.kind == SegmentKind::Load);
        let low = loads.clone().map(|s| s.vaddr).min().unwrap_or(0);
        return loads
            .filter(|s| s.flags & 1 != 0 && s.mem_size > 0)
            .map(|s| {
                let start = base.wrapping_add(s.vaddr - low);
                (start, start.saturating_add(s.mem_size))
            })
            .collect();
    }
    bin.sections
        .iter()
        .filter(|s| s.is_exec && s.virtual_size > 0)
        .map(|s| {
            let start = base.wrapping_add(s.rva);
            (start, start.saturating_add(s.virtual_size))
        })
        .collect()
}

/// The mapped modules, before binding.
pub struct World<'a> {
    /// Image first, then the DLLs in the order given.
    pub modules: Vec<LoadedModule>,
    /// DLL files aligned with `modules[1..]`.
    pub dlls: Vec<Option<DllInput<'a>>>,
    /// The image's memory, relocated.
    pub memory: Vec<u8>,
    /// Pointer size.
    pub ptr: usize,
    /// Notes for the plan.
    pub notes: Vec<String>,
}

/// Why a module cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A PE image with SizeOfImage 0.
    #[error("SizeOfImage is 0: nothing to map")]
    EmptyImage,
    /// A PE image larger than [`MAX_IMAGE`].
    #[error("SizeOfImage 0x{size:x} is larger than the 0x{max:x} bytes the simulation maps", max = MAX_IMAGE)]
    ImageTooLarge {
        /// SizeOfImage.
        size: u64,
    },
    /// An ELF file without `PT_LOAD` segments.
    #[error("no PT_LOAD segment: nothing to map")]
    NoLoadSegment,
    /// ELF `PT_LOAD` segments spanning more than [`MAX_IMAGE`].
    #[error("the PT_LOAD segments span 0x{size:x} bytes, more than the 0x{max:x} the simulation maps", max = MAX_IMAGE)]
    SpanTooLarge {
        /// The span.
        size: u64,
    },
    /// A file a loader does not map (an object, an archive).
    #[error("a {format} file is not an image a loader maps")]
    NotAnImage {
        /// The format it is.
        format: &'static str,
    },
}

/// The module's memory image as the loader maps it: SizeOfImage bytes for PE, the `PT_LOAD`
/// span for ELF (offset = RVA in both).
pub fn map(bin: &Binary, data: &[u8]) -> Result<Vec<u8>, MapError> {
    if let Some(pe) = &bin.pe {
        let size = pe.layout.size_of_image;
        if size == 0 {
            return Err(MapError::EmptyImage);
        }
        if size > MAX_IMAGE {
            return Err(MapError::ImageTooLarge { size });
        }
        let map = PeMap::from_layout(data, &pe.layout, bin.image_base.unwrap_or(0), bin.is_64);
        return Ok(map.materialise(size as usize));
    }
    if bin.format.is_elf() {
        return map_elf(bin, data);
    }
    Err(MapError::NotAnImage { format: bin.format.name() })
}

fn map_elf(bin: &Binary, data: &[u8]) -> Result<Vec<u8>, MapError> {
    let loads: Vec<_> = bin.segments.iter().filter(|s| s.kind == crate::model::SegmentKind::Load).collect();
    let low = loads.iter().map(|s| s.vaddr).min().ok_or(MapError::NoLoadSegment)?;
    let high = loads.iter().map(|s| s.vaddr.saturating_add(s.mem_size)).max().unwrap_or(low);
    let size = high - low;
    if size > MAX_IMAGE {
        return Err(MapError::SpanTooLarge { size });
    }
    let mut mem = vec![0u8; size as usize];
    for s in loads {
        let at = (s.vaddr - low) as usize;
        let n = s.file_size.min(s.mem_size) as usize;
        let from = usize::try_from(s.file_offset).unwrap_or(usize::MAX).min(data.len());
        let bytes = &data[from..from.saturating_add(n).min(data.len())];
        let end = (at + bytes.len()).min(mem.len());
        mem[at..end].copy_from_slice(&bytes[..end - at]);
    }
    Ok(mem)
}

/// SizeOfImage (ELF: the span of the `PT_LOAD` segments).
pub fn image_size(bin: &Binary) -> u64 {
    if let Some(pe) = &bin.pe {
        return pe.layout.size_of_image;
    }
    let loads = bin.segments.iter().filter(|s| s.kind == crate::model::SegmentKind::Load);
    let low = loads.clone().map(|s| s.vaddr).min().unwrap_or(0);
    loads.map(|s| s.vaddr.saturating_add(s.mem_size)).max().map_or(0, |h| h - low)
}

/// Apply `bin`'s base relocations to `mem` for a move by `delta`, as the Windows loader does
/// (`LdrProcessRelocationBlockLongLong`); returns the number of fields patched and the types it
/// does not simulate.
pub fn apply_base_relocs(bin: &Binary, mem: &mut [u8], delta: u64) -> (u64, Vec<String>) {
    let mut applied = 0;
    let mut skipped: Vec<String> = Vec::new();
    if delta == 0 {
        return (0, skipped);
    }
    for r in &bin.base_relocations {
        let ok = match r.raw_type {
            0 => continue,
            // HIGH: the high half of a 32-bit address.
            1 => read_le(mem, r.rva, 2).is_some_and(|v| write_le(mem, r.rva, 2, v.wrapping_add(delta >> 16))),
            // LOW: the low half.
            2 => read_le(mem, r.rva, 2).is_some_and(|v| write_le(mem, r.rva, 2, v.wrapping_add(delta))),
            3 => read_le(mem, r.rva, 4).is_some_and(|v| write_le(mem, r.rva, 4, v.wrapping_add(delta))),
            // HIGHADJ: the high half, rounded with the low half kept in the next slot.
            4 => read_le(mem, r.rva, 2).is_some_and(|v| {
                let low = i64::from(r.param.unwrap_or(0) as i16);
                let full = ((v as i64) << 16).wrapping_add(low).wrapping_add(delta as i64).wrapping_add(0x8000);
                write_le(mem, r.rva, 2, (full >> 16) as u64)
            }),
            10 => read_le(mem, r.rva, 8).is_some_and(|v| write_le(mem, r.rva, 8, v.wrapping_add(delta))),
            _ => {
                if !skipped.iter().any(|k| k == r.kind) {
                    skipped.push(r.kind.to_string());
                }
                continue;
            }
        };
        if ok {
            applied += 1;
        } else if !skipped.iter().any(|k| k == "outside the image") {
            skipped.push("outside the image".into());
        }
    }
    (applied, skipped)
}

/// Whether the loader can move `bin`: it has base relocations and does not say they were stripped.
pub fn relocatable(bin: &Binary) -> bool {
    let stripped = bin.pe.as_ref().is_some_and(|p| p.layout.characteristics & 1 != 0);
    !stripped && (!bin.base_relocations.is_empty() || bin.format.is_elf())
}

/// Map the image and every DLL, choose bases, relocate the image.
pub fn load_all<'a>(
    bin: &Binary,
    data: &[u8],
    dlls: &[DllInput<'a>],
    opts: &PatchOptions,
) -> Result<World<'a>, super::PlanError> {
    let mut memory = map(bin, data)?;
    let ptr = if bin.is_64 { 8 } else { 4 };
    let preferred = bin.image_base.unwrap_or(0);
    // A PIE (preferred base 0) goes where Linux puts it without randomisation.
    let pie_base = if bin.is_64 { 0x5555_5555_4000 } else { 0x5655_5000 };
    let default_base = if bin.format.is_elf() && preferred == 0 { pie_base } else { preferred };
    let base = opts.image_base.unwrap_or(default_base);
    let size = memory.len() as u64;
    let mut notes = Vec::new();
    if base.checked_add(size).is_none() || (!bin.is_64 && base.saturating_add(size) > 1 << 32) {
        return Err(super::PlanError::PastAddressSpace { base });
    }
    let delta = base.wrapping_sub(preferred);
    let (applied, skipped) = if bin.format.is_pe() { apply_base_relocs(bin, &mut memory, delta) } else { (0, vec![]) };
    if delta != 0 && bin.format.is_pe() && !relocatable(bin) {
        notes.push(format!(
            "the image has no base relocations: Windows refuses to load it at 0x{base:x} (its preferred base is 0x{preferred:x})"
        ));
    }
    if !skipped.is_empty() {
        notes.push(format!("base relocations not simulated: {}", skipped.join(", ")));
    }
    let mut modules = vec![LoadedModule {
        name: opts.image_path.as_deref().map_or_else(|| image_name(bin), |p| file_name(p).to_string()),
        path: opts.image_path.clone(),
        preferred_base: bin.image_base,
        base,
        relocated: delta != 0,
        size,
        relocations_applied: applied,
        placement: match (opts.image_base, default_base != preferred) {
            (Some(_), _) => "given".into(),
            (None, true) => "a position-independent executable: where Linux maps it without randomisation".into(),
            (None, false) => "preferred".into(),
        },
        code: code_ranges(bin, base),
    }];
    let mut given: Vec<Option<DllInput<'a>>> = Vec::new();
    // DLLs in the order the image imports them, then the rest as given.
    let mut order: Vec<usize> = Vec::new();
    for name in imported_names(bin) {
        if let Some(i) = dlls.iter().position(|d| dll_name_matches(d, &name)) {
            if !order.contains(&i) {
                order.push(i);
            }
        }
    }
    let rest: Vec<usize> = (0..dlls.len()).filter(|i| !order.contains(i)).collect();
    order.extend(rest);
    for i in order {
        let d = dlls[i];
        let name = imported_names(bin)
            .into_iter()
            .find(|n| dll_name_matches(&d, n))
            .unwrap_or_else(|| file_name(d.path).to_string());
        let pref = d.bin.image_base.unwrap_or(0);
        let size = image_size(d.bin);
        let wanted = opts.bases.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)).map(|&(_, b)| b);
        let mut at = wanted.unwrap_or(pref);
        let mut placement = if wanted.is_some() { "given".to_string() } else { "preferred".to_string() };
        if wanted.is_none() && pref == 0 && d.bin.format.is_elf() {
            at = free_base(&modules, size, bin.is_64);
            placement = "a shared object has no preferred base: ld.so maps it where mmap finds room; placed above the loaded modules (pass --base NAME=ADDR to match a process)".into();
        } else if wanted.is_none() {
            if let Some(other) = modules.iter().find(|m| overlaps(m, at, size)) {
                let moved = free_base(&modules, size, bin.is_64);
                placement = format!(
                    "its preferred range 0x{at:x}..0x{:x} overlaps {} (0x{:x}..0x{:x}): moved to the first free 64 KiB-aligned range above the loaded modules (Windows picks a random one with ASLR; pass --base NAME=ADDR to match a process)",
                    at.saturating_add(size),
                    other.name,
                    other.base,
                    other.base.saturating_add(other.size)
                );
                notes.push(format!("{name}: {placement}"));
                if !relocatable(d.bin) {
                    notes
                        .push(format!("{name} has no base relocations: Windows refuses to load it away from 0x{at:x}"));
                }
                at = moved;
            }
        } else if let Some(other) = modules.iter().find(|m| overlaps(m, at, size)) {
            notes.push(format!(
                "{name} at the given base 0x{at:x} overlaps {}: a real loader would move one of them",
                other.name
            ));
        }
        let fields =
            if at != pref { d.bin.base_relocations.iter().filter(|r| r.raw_type != 0).count() as u64 } else { 0 };
        modules.push(LoadedModule {
            name,
            path: Some(d.path.to_string()),
            preferred_base: d.bin.image_base,
            base: at,
            relocated: at != pref,
            size,
            relocations_applied: fields,
            placement,
            code: code_ranges(d.bin, at),
        });
        given.push(Some(d));
    }
    // DLLs placed by --base only.
    for (name, b) in &opts.bases {
        if modules.iter().any(|m| m.name.eq_ignore_ascii_case(name)) {
            continue;
        }
        modules.push(LoadedModule {
            name: name.clone(),
            path: None,
            preferred_base: None,
            base: *b,
            relocated: false,
            size: 0,
            relocations_applied: 0,
            placement: "given (no file: its exports are unknown)".into(),
            code: Vec::new(),
        });
        given.push(None);
    }
    Ok(World { modules, dlls: given, memory, ptr, notes })
}

fn overlaps(m: &LoadedModule, at: u64, size: u64) -> bool {
    m.size > 0 && size > 0 && at < m.base.saturating_add(m.size) && m.base < at.saturating_add(size)
}

/// The first 64 KiB-aligned base above every placed module where `size` bytes fit.
fn free_base(modules: &[LoadedModule], size: u64, is_64: bool) -> u64 {
    let top = modules.iter().map(|m| m.base.saturating_add(m.size)).max().unwrap_or(0x10000);
    let at = top.div_ceil(0x10000).saturating_mul(0x10000);
    if !is_64 && at.saturating_add(size) > 0x8000_0000 {
        // No room above the others in a 32-bit user space: take the lowest free range.
        let mut at = 0x10000u64;
        while modules.iter().any(|m| overlaps(m, at, size)) && at < 0x8000_0000 {
            at += 0x10000;
        }
        return at;
    }
    at
}

/// The DLL names the image imports, in import order, without repeats (ELF: `DT_NEEDED`).
pub fn imported_names(bin: &Binary) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let elf = bin.elf.iter().flat_map(|e| e.needed.iter().cloned());
    for n in bin.imports.iter().map(|m| m.dll.clone()).chain(elf) {
        if !names.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
            names.push(n);
        }
    }
    names
}

/// Whether DLL `d` is the one imported as `name` (its file name or its export-directory name /
/// soname, case-insensitively).
pub fn dll_name_matches(d: &DllInput<'_>, name: &str) -> bool {
    file_name(d.path).eq_ignore_ascii_case(name)
        || d.bin.elf.as_ref().and_then(|e| e.soname.as_deref()).is_some_and(|s| s == name)
}

/// The last component of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn image_name(bin: &Binary) -> String {
    bin.elf.as_ref().and_then(|e| e.soname.clone()).unwrap_or_else(|| "image".into())
}
