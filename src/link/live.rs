//! Garbage collection and identical COMDAT folding over the sections that were read.
//!
//! lld (`MarkLive.cpp`): every non-COMDAT section is a root, with the entry point and `/include`
//! symbols; a live section keeps what its relocations reach and its associative children.
//! GNU ld (`--gc-sections`): the roots are the entry point, `-u` symbols and the sections the
//! default script `KEEP`s (`.pdata*`, `.xdata*`, `.CRT$*`, `.ctors`, `.tls`, …); associativity is
//! not followed. lld's ICF (`ICF.cpp`): COMDAT, non-writable sections, equal in characteristics,
//! name, contents, relocations and associated children, refined until stable; the first in input
//! order is kept.

use std::collections::{HashMap, HashSet};

use super::resolve::{ChunkId, Def, Fate, GlobalId, ObjId, Target, World};
use super::Flavor;
use crate::formats::coff::header::scn;

/// Per object, per section: live after GC.
pub type Live = Vec<Vec<bool>>;

/// The section a global resolves to, if any.
pub fn global_chunk(w: &World, g: GlobalId) -> Option<(ChunkId, u64)> {
    match &w.globals[g].def {
        Def::Regular { chunk, value, .. } => Some((*chunk, *value)),
        _ => None,
    }
}

/// Where a relocation of `chunk` at position `pos` in the symbol table points.
pub fn target_chunk(w: &World, oi: usize, pos: usize) -> Option<(ChunkId, u64)> {
    match w.sym_targets[oi].get(pos)? {
        Target::Global(g) => global_chunk(w, *g),
        Target::Local(c, v) => Some((*c, *v)),
        Target::None => None,
    }
}

/// Whether GNU ld's default script `KEEP`s an input section of this name.
pub fn gnu_keep(name: &str) -> bool {
    name.starts_with(".pdata")
        || name.starts_with(".xdata")
        || name.starts_with(".eh_frame")
        || name.starts_with(".CRT$X")
        || name.starts_with(".tls")
        || name.starts_with(".rsrc")
        || matches!(name, ".init" | ".fini" | ".ctors" | ".ctor" | ".dtors" | ".dtor" | ".jcr" | ".gcc_except_table")
        || name.starts_with(".ctors.")
        || name.starts_with(".dtors.")
        || name.starts_with(".idata$")
        || name == ".rdata_runtime_pseudo_reloc"
}

/// Mark what survives garbage collection. Without GC every read section is live.
pub fn mark(w: &World, roots: &[GlobalId]) -> Live {
    let mut live: Live = w.fates.iter().map(|f| vec![false; f.len()]).collect();
    let read = |oi: usize, s: u32| w.fates[oi].get(s as usize - 1) == Some(&Fate::Read);
    if !w.cfg.gc {
        for (oi, f) in w.fates.iter().enumerate() {
            for (i, x) in f.iter().enumerate() {
                live[oi][i] = *x == Fate::Read;
            }
        }
        return live;
    }
    let gnu = w.cfg.flavor == Flavor::GnuLd;
    let mut work: Vec<ChunkId> = Vec::new();
    for (oi, o) in w.objs.iter().enumerate() {
        for s in &o.bin.sections {
            if !read(oi, s.index) {
                continue;
            }
            let root = if gnu { gnu_keep(&s.name) } else { s.flags as u32 & scn::LNK_COMDAT == 0 };
            if root {
                work.push(ChunkId::new(oi, s.index));
            }
        }
    }
    for &g in roots {
        if let Some((c, _)) = global_chunk(w, g) {
            work.push(c);
        }
    }
    while let Some(ChunkId { obj: ObjId(oi), section: sec }) = work.pop() {
        let Some(slot) = live.get_mut(oi).and_then(|l| l.get_mut(sec as usize - 1)) else { continue };
        if *slot || !read(oi, sec) {
            continue;
        }
        *slot = true;
        let o = &w.objs[oi];
        for pos in o.relocs(sec).filter_map(|r| r.symbol_index.and_then(|i| o.sym_at(i))) {
            if let Some((c, _)) = target_chunk(w, oi, pos) {
                work.push(c);
            }
        }
        if !gnu {
            for &child in w.children[oi].get(&sec).map(Vec::as_slice).unwrap_or(&[]) {
                work.push(ChunkId::new(oi, child));
            }
        }
    }
    live
}

/// A relocation as ICF compares it: offset, type, the section and offset it reaches, or the
/// global it names when that is not in a section.
type RelocShape = (u64, u32, Option<(ChunkId, u64)>, Option<GlobalId>);

/// ICF: every folded section and the section it was folded into. The string literals lld
/// tail-merges (`merged`) are not its chunks, so never folded.
pub fn fold(w: &World, live: &Live, merged: &HashSet<ChunkId>) -> Vec<(ChunkId, ChunkId)> {
    let unique = keep_unique(w);
    let vtable: std::collections::HashSet<ChunkId> =
        w.comdats.iter().filter(|g| g.symbol.starts_with("??_7")).filter_map(|g| g.kept).collect();
    let mut chunks: Vec<ChunkId> = Vec::new();
    for (oi, o) in w.objs.iter().enumerate() {
        for s in &o.bin.sections {
            let flags = s.flags as u32;
            if !live[oi][s.index as usize - 1]
                || flags & scn::LNK_COMDAT == 0
                || flags & scn::WRITE != 0
                || merged.contains(&ChunkId::new(oi, s.index))
            {
                continue;
            }
            let out = s.name.split('$').next().unwrap_or("");
            let eligible = flags & scn::EXECUTE != 0
                || out == ".pdata"
                || out == ".xdata"
                || vtable.contains(&ChunkId::new(oi, s.index))
                || !unique.contains(&ChunkId::new(oi, s.index));
            if eligible {
                chunks.push(ChunkId::new(oi, s.index));
            }
        }
    }
    if chunks.len() < 2 {
        return Vec::new();
    }
    let pos_of: HashMap<ChunkId, usize> = chunks.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    // Relocations per eligible chunk: (offset, type, target).
    let mut rel: Vec<Vec<RelocShape>> = vec![Vec::new(); chunks.len()];
    for (i, &ChunkId { obj: ObjId(oi), section: sec }) in chunks.iter().enumerate() {
        let o = &w.objs[oi];
        for r in o.relocs(sec) {
            let pos = r.symbol_index.and_then(|x| o.sym_at(x));
            let target = pos.and_then(|p| target_chunk(w, oi, p));
            let global = pos.and_then(|p| match w.sym_targets[oi][p] {
                Target::Global(g) if target.is_none() => Some(g),
                _ => None,
            });
            rel[i].push((r.offset, r.raw_type, target, global));
        }
    }
    // Constant part: characteristics, name, contents, relocation shapes and outside targets.
    let mut class: Vec<usize> = vec![0; chunks.len()];
    let mut keys: HashMap<Vec<u8>, usize> = HashMap::new();
    for (i, &ChunkId { obj: ObjId(oi), section: sec }) in chunks.iter().enumerate() {
        let s = w.objs[oi].section(sec);
        let mut k = Vec::new();
        k.extend_from_slice(&(s.map_or(0, |s| s.flags) as u32).to_le_bytes());
        k.extend_from_slice(s.map_or("", |s| s.name.as_ref()).as_bytes());
        k.push(0);
        k.extend_from_slice(&s.map_or(0, |s| s.virtual_size).to_le_bytes());
        k.extend_from_slice(w.objs[oi].section_bytes(sec));
        for (off, typ, target, global) in &rel[i] {
            k.extend_from_slice(&off.to_le_bytes());
            k.extend_from_slice(&typ.to_le_bytes());
            match (target, global) {
                (Some((c, v)), _) if !pos_of.contains_key(c) => {
                    k.extend_from_slice(b"C");
                    k.extend_from_slice(&(c.oi() as u64).to_le_bytes());
                    k.extend_from_slice(&c.section.to_le_bytes());
                    k.extend_from_slice(&v.to_le_bytes());
                }
                (Some((_, v)), _) => {
                    k.extend_from_slice(b"E");
                    k.extend_from_slice(&v.to_le_bytes());
                }
                (None, Some(g)) => {
                    k.extend_from_slice(b"G");
                    k.extend_from_slice(&(g.0 as u64).to_le_bytes());
                }
                (None, None) => k.extend_from_slice(b"N"),
            }
        }
        let n = keys.len();
        class[i] = *keys.entry(k).or_insert(n);
    }
    // Variable part: refine by the classes of the eligible targets and of the children.
    for _round in 0..64 {
        let mut next: HashMap<(usize, Vec<usize>), usize> = HashMap::new();
        let mut new_class = vec![0; chunks.len()];
        for (i, &ChunkId { obj: ObjId(oi), section: sec }) in chunks.iter().enumerate() {
            let mut sig: Vec<usize> = rel[i]
                .iter()
                .filter_map(|(_, _, t, _)| t.and_then(|(c, _)| pos_of.get(&c)).map(|&j| class[j]))
                .collect();
            sig.push(usize::MAX);
            for child in w.children[oi].get(&sec).map(Vec::as_slice).unwrap_or(&[]) {
                sig.push(pos_of.get(&ChunkId::new(oi, *child)).map_or(usize::MAX - 1, |&j| class[j]));
            }
            let n = next.len();
            new_class[i] = *next.entry((class[i], sig)).or_insert(n);
        }
        let stable = next.len() == class.iter().collect::<std::collections::HashSet<_>>().len();
        class = new_class;
        if stable {
            break;
        }
    }
    let mut leader: HashMap<usize, ChunkId> = HashMap::new();
    let mut out = Vec::new();
    for (i, &c) in chunks.iter().enumerate() {
        match leader.get(&class[i]) {
            Some(&l) => out.push((c, l)),
            None => {
                leader.insert(class[i], c);
            }
        }
    }
    out
}

/// Sections whose address is significant (lld's `findKeepUniqueSections`): those a
/// `.llvm_addrsig` table names, and every section of an object without such a table.
fn keep_unique(w: &World) -> std::collections::HashSet<ChunkId> {
    let mut out = std::collections::HashSet::new();
    for (oi, o) in w.objs.iter().enumerate() {
        let table = o.bin.sections.iter().find(|s| s.name == ".llvm_addrsig");
        let positions: Vec<usize> = match table {
            Some(t) => {
                let mut v = Vec::new();
                let bytes = t.bytes(o.data());
                let mut i = 0;
                while i < bytes.len() {
                    let (mut n, mut shift) = (0u64, 0u32);
                    while i < bytes.len() {
                        let b = bytes[i];
                        i += 1;
                        if shift < 64 {
                            n |= u64::from(b & 0x7f) << shift;
                        }
                        shift += 7;
                        if b & 0x80 == 0 {
                            break;
                        }
                    }
                    if let Some(p) = u32::try_from(n).ok().and_then(|n| o.sym_at(n)) {
                        v.push(p);
                    }
                }
                v
            }
            None => (0..o.bin.symbols.len()).collect(),
        };
        for p in positions {
            if let Some((c, _)) = target_chunk(w, oi, p) {
                out.insert(c);
            }
        }
    }
    out
}

/// The short import members the image imports through, in load order, and whether each gets a
/// thunk: lld keeps every loaded one (with a thunk for each function) without GC; with GC, those
/// a live section refers to, and a thunk where its function symbol (not `__imp_`) is used.
pub fn imports(w: &World, live: &Live) -> Vec<(ObjId, bool)> {
    let code =
        |oi: ObjId| w.objs[oi].bin.import_object.as_ref().is_some_and(|i| i.kind == crate::model::ImportType::Code);
    if !w.cfg.gc {
        return w.imports.iter().map(|&oi| (oi, code(oi))).collect();
    }
    let mut used: HashMap<ObjId, bool> = HashMap::new();
    for (_, _, _, g) in w.live_global_refs(live) {
        match w.globals[g].def {
            Def::Import { obj } => {
                used.entry(obj).or_insert(false);
            }
            Def::ImportThunk { obj } => {
                used.insert(obj, true);
            }
            _ => {}
        }
    }
    w.imports.iter().filter_map(|&oi| used.get(&oi).map(|&t| (oi, t))).collect()
}
