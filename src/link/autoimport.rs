//! lld's MinGW automatic import (`SymbolTable::loadMinGWSymbols`,
//! `handleMinGWAutomaticImport`, `SectionChunk::getRuntimePseudoRelocs`,
//! `Writer::createRuntimePseudoRelocs`): a symbol still undefined whose `__imp_` symbol exists
//! becomes that import (its references reach the IAT slot), a `.refptr.<name>` slot holding only
//! a pointer to it is dropped and its users pointed at the IAT slot too, and every other
//! relocation against it becomes an entry of the runtime pseudo-relocation list, which lld lays
//! out in `.rdata` (12 bytes of header, 12 per entry, none when the list is empty).

use super::args::Machine;
use super::live::Live;
use super::read::LoadQueue;
use super::resolve::{ChunkId, Def, Fate, GlobalId, ObjId, Target, World};
use super::Flavor;

/// Whether the link imports data automatically: lld in MinGW mode (lld-link `-lldmingw`, the
/// MinGW driver), unless `-auto-import:no` / `--disable-auto-import`.
pub fn enabled(w: &World) -> bool {
    w.cfg.flavor != Flavor::GnuLd && w.cfg.mingw && w.cfg.auto_import
}

fn undefined_names(w: &World) -> Vec<(GlobalId, String)> {
    (0..w.globals.len())
        .map(GlobalId)
        .filter(|&g| w.globals[g].def == Def::Undefined && w.globals[g].weak_alias.is_none())
        .filter(|&g| !w.globals[g].name.starts_with("__imp_"))
        .map(|g| (g, w.globals[g].name.clone()))
        .collect()
}

/// `loadMinGWSymbols`: the archive member of each undefined symbol's `__imp_` symbol is loaded.
pub fn load_members(w: &mut World, queue: &mut LoadQueue) {
    for (_, name) in undefined_names(w) {
        let Some(&imp) = w.by_name.get(&format!("__imp_{name}")) else { continue };
        if let Def::Lazy { archive, member } = w.globals[imp].def {
            if w.pending_load.insert(imp) {
                w.fetch(archive, member, &format!("__imp_{name}"), queue);
            }
        }
    }
    w.drain(queue);
}

/// `handleMinGWAutomaticImport` for every symbol still undefined.
pub fn resolve(w: &mut World) {
    for (g, name) in undefined_names(w) {
        let Some(&imp) = w.by_name.get(&format!("__imp_{name}")) else { continue };
        let def = w.globals[imp].def.clone();
        if !matches!(def, Def::Import { .. } | Def::Regular { .. }) {
            continue;
        }
        w.globals[g].def = def.clone();
        w.auto_imported.insert(g);
        // A `.refptr.<name>` that only points at the symbol is dropped; its users reach the
        // IAT slot.
        let Some(&refptr) = w.by_name.get(&format!(".refptr.{name}")) else { continue };
        let Def::Regular { chunk, .. } = w.globals[refptr].def else { continue };
        let ChunkId { obj: ObjId(oi), section } = chunk;
        let o = &w.objs[oi];
        let word = if w.machine == Machine::X64 { 8 } else { 4 };
        let size = o.bin.sections.iter().find(|s| s.index == section).map_or(0, |s| s.virtual_size.max(s.file_size));
        let mut relocs = o.relocs(section);
        let only = match (relocs.next(), relocs.next()) {
            (Some(r), None) => r.symbol_index.and_then(|i| o.sym_at(i)),
            _ => None,
        };
        let points_at_symbol =
            only.is_some_and(|pos| matches!(w.sym_targets[oi].get(pos), Some(Target::Global(t)) if *t == g));
        if size == word && points_at_symbol {
            if let Some(f) = w.fates.get_mut(oi).and_then(|f| f.get_mut(section as usize - 1)) {
                *f =
                    Fate::NotLinked("a .refptr slot of an automatically imported symbol: its users reach the IAT slot");
            }
            w.globals[refptr].def = def;
        }
    }
}

/// One entry of the runtime pseudo-relocation list, before addresses are known.
#[derive(Debug, Clone, PartialEq)]
pub struct PseudoRef {
    /// What the entry's symbol is: the IAT slot of this import member, or a regular definition
    /// (a `__imp_` symbol an object defines).
    pub target: Def,
    /// The section the relocation patches.
    pub chunk: ChunkId,
    /// Offset of the patched field in it.
    pub offset: u64,
    /// The field's width in bits.
    pub bits: u8,
}

/// `getRuntimePseudoRelocs` over every live section, objects in load order, sections in
/// section order, relocations in order. A relocation lld cannot turn into an entry is an error.
pub fn relocs(w: &mut World, live: &Live, folded: &std::collections::HashSet<ChunkId>) -> Vec<PseudoRef> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if w.auto_imported.is_empty() {
        return out;
    }
    for (oi, o) in w.objs.iter().enumerate() {
        for s in &o.bin.sections {
            let live = live.get(oi).and_then(|l| l.get(s.index as usize - 1)).copied().unwrap_or(false);
            if !live || folded.contains(&ChunkId::new(oi, s.index)) {
                continue;
            }
            for r in o.relocs(s.index) {
                let Some(pos) = r.symbol_index.and_then(|i| o.sym_at(i)) else { continue };
                let Some(&Target::Global(g)) = w.sym_targets[oi].get(pos) else { continue };
                if !w.auto_imported.contains(&g) {
                    continue;
                }
                let bits = pseudo_bits(w.machine, r.raw_type);
                if bits == 0 {
                    let (ty, ..) = crate::formats::coff::relocs::reloc_info(o.machine, r.raw_type as u16);
                    errors.push(format!(
                        "unable to automatically import from {} with relocation type {ty} in {}",
                        w.globals[g].name, o.name
                    ));
                    continue;
                }
                out.push(PseudoRef {
                    target: w.globals[g].def.clone(),
                    chunk: ChunkId::new(oi, s.index),
                    offset: r.offset,
                    bits,
                });
            }
        }
    }
    for e in errors {
        w.error(e);
    }
    out
}

/// lld's `getRuntimePseudoRelocSize`: the width of a field the runtime can patch, 0 for a type
/// it cannot.
fn pseudo_bits(machine: Machine, raw_type: u32) -> u8 {
    match (machine, raw_type) {
        // ADDR64; ADDR32, REL32 and REL32_1 … REL32_5 (not ADDR32NB).
        (Machine::X64, 1) => 64,
        (Machine::X64, 2 | 4..=9) => 32,
        // DIR32, REL32.
        (Machine::X86, 6 | 0x14) => 32,
        _ => 0,
    }
}

/// The list's size: 12 bytes of header (`0, 0, 1`: version 2) and 12 per entry; 0 when empty.
pub fn table_size(entries: usize) -> u64 {
    if entries == 0 {
        0
    } else {
        12 + 12 * entries as u64
    }
}

/// An entry of the runtime pseudo-relocation list lld writes (`runtime_pseudo_reloc_item_v2`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PseudoReloc {
    /// RVA of the symbol's IAT slot (or of the `__imp_` definition).
    pub sym_rva: u64,
    /// RVA of the patched field.
    pub target_rva: u64,
    /// The field's width in bits (the entry's flags).
    pub bits: u8,
}

/// The entries with their addresses, once the image is laid out.
pub fn entries(w: &World, lay: &super::layout::Layout) -> Vec<PseudoReloc> {
    if w.pseudo_relocs.is_empty() {
        return Vec::new();
    }
    let mut rva_of = std::collections::HashMap::new();
    for c in &lay.chunks {
        if let super::layout::Origin::Input(id) = c.origin {
            rva_of.insert(id, c.rva);
        }
    }
    let iat_rva = |obj: ObjId| {
        let imp = w.objs[obj.0].bin.import_object.as_ref()?;
        let want = format!("IAT {}!{}", imp.dll, super::layout::import_shown(imp));
        lay.chunks.iter().find(|c| c.name.eq_ignore_ascii_case(&want)).map(|c| c.rva)
    };
    w.pseudo_relocs
        .iter()
        .filter_map(|p| {
            let sym_rva = match p.target {
                Def::Import { obj } => iat_rva(obj)?,
                Def::Regular { chunk, value, .. } => rva_of.get(&chunk)? + value,
                _ => return None,
            };
            Some(PseudoReloc { sym_rva, target_rva: rva_of.get(&p.chunk)? + p.offset, bits: p.bits })
        })
        .collect()
}
