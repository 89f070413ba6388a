//! GNU ld's automatic import (binutils 2.40 `ld/pe-dll.c`, runtime pseudo-relocations version 2,
//! the default for MinGW targets), as `gld_after_open` runs it once every input is loaded:
//!
//! * `pe_find_data_imports`: every undefined symbol `X` whose `__imp_X` is defined (the IAT
//!   slot of an import member) becomes that slot (GNU ld turns it into a weak definition there);
//! * `pe_walk_relocs`: every input section in load order (COMDAT losers skipped), relocations in
//!   order; each relocation against such a symbol gets `make_import_fixup_mark`'s `__fuN_X`
//!   symbol at the patched field and one `make_runtime_pseudo_reloc` object,
//!   `<dll>_rtrNNNNNN.o`, whose `.rdata_runtime_pseudo_reloc` holds the entry `{__imp_X,
//!   __fuN_X, bits}` (12 bytes; the first also carries the 12-byte header `0, 0, 1`);
//! * after the first entry, `pe_create_runtime_relocator_reference`'s `<dll>_ertrNNNNNN.o`: a
//!   `.rdata` word (8 bytes on x64, 4 on i386) holding the RVA of `_pei386_runtime_relocator`
//!   (`__pei386_runtime_relocator` on i386), which must then be defined.
//!
//! (`<dll>`: GNU ld's `dll_symname`, [`super::exports::gnu_symname`].) Those objects are made
//! here as COFF bytes and added to the link as GNU ld adds them, so the
//! default script places them (`.rdata_runtime_pseudo_reloc` is `KEEP`: under `--gc-sections`
//! it keeps every patched section alive, while the relocator reference can be collected), and
//! the archive scan's rule that an armap `__imp_X` satisfies an undefined `X` is in
//! [`super::read`].

use super::args::Machine;
use super::autoimport::PseudoRef;
use super::inputs::{FileBytes, Input};
use super::read::LoadQueue;
use super::resolve::{ChunkId, Def, Fate, GlobalId, Target, World};
use super::Flavor;

/// Whether GNU ld imports data automatically in this link (`--disable-auto-import` turns it off).
pub fn enabled(w: &World) -> bool {
    w.cfg.flavor == Flavor::GnuLd && w.cfg.auto_import
}

/// `pe_find_data_imports` with `make_import_fixup`: resolve, collect the entries, add the
/// runtime pseudo-relocation objects; the entries go to `w.pseudo_relocs`.
pub fn run(w: &mut World, queue: &mut LoadQueue) {
    if !enabled(w) {
        return;
    }
    let mut imported: Vec<(GlobalId, GlobalId)> = Vec::new();
    for g in (0..w.globals.len()).map(GlobalId) {
        if w.globals[g].def != Def::Undefined || w.globals[g].weak_alias.is_some() {
            continue;
        }
        let Some(&imp) = w.by_name.get(&format!("__imp_{}", w.globals[g].name)) else { continue };
        if matches!(w.globals[imp].def, Def::Regular { .. } | Def::Import { .. }) {
            imported.push((g, imp));
        }
    }
    if imported.is_empty() {
        return;
    }
    let mut short = Vec::new();
    for &(g, imp) in &imported {
        w.globals[g].def = w.globals[imp].def.clone();
        w.auto_imported.insert(g);
        if matches!(w.globals[imp].def, Def::Import { .. }) {
            short.push(w.gnu_name(&w.globals[g].name));
        }
    }
    if let Some(first) = short.first() {
        let more = if short.len() > 1 { format!(" and {} more", short.len() - 1) } else { String::new() };
        w.note(format!(
            "GNU ld imports {first}{more} automatically from a short import member, whose IAT GNU ld lays out itself (not simulated): those runtime pseudo-relocations are not listed"
        ));
    }
    // Version 1 (`.idata$2` fixup entries and `_nm_thnk_` name thunks, a pseudo-relocation only
    // for a nonzero addend) and none at all are other layouts, not simulated.
    let other = ["--enable-runtime-pseudo-reloc-v1", "--disable-runtime-pseudo-reloc"];
    if let Some(opt) = w.cfg.ignored.iter().rev().find(|o| other.contains(&o.as_str())) {
        let text = format!(
            "{opt}: GNU ld's version-1 automatic import (or none) is not simulated; the layout here is version 2's"
        );
        w.note(text);
    }
    let found = walk_relocs(w);
    let x64 = w.machine == Machine::X64;
    let stem = super::exports::gnu_symname(&w.cfg);
    let mut seq = 0u32;
    let mut unplaced = Vec::new();
    for (n, (chunk, offset, bits, g)) in found.iter().copied().enumerate() {
        let name = w.globals[g].name.clone();
        // make_import_fixup_mark: `__fuN_X` at the patched field.
        let fixup = format!("__fu{n}_{name}");
        let f = w.global(&fixup);
        w.globals[f].def = Def::Regular { chunk, value: offset, comdat: false };
        let rtr = runtime_pseudo_reloc(x64, n == 0, &fixup, &format!("__imp_{name}"), bits);
        add_object(w, format!("{stem}_rtr{seq:06}.o"), rtr, queue);
        seq += 1;
        if n == 0 {
            let relocator = if x64 { "_pei386_runtime_relocator" } else { "__pei386_runtime_relocator" };
            add_object(w, format!("{stem}_ertr{seq:06}.o"), relocator_reference(x64, relocator), queue);
            seq += 1;
        }
        if matches!(w.fates[chunk.oi()].get(chunk.section as usize - 1), Some(Fate::NotLinked(_))) {
            unplaced.push(format!("{}:({})", w.objs[chunk.oi()].gnu_name, super::gnu::section_desc(w, chunk)));
        }
        w.pseudo_relocs.push(PseudoRef { target: w.globals[g].def.clone(), chunk, offset, bits });
    }
    if let Some(first) = unplaced.first() {
        w.note(format!(
            "GNU ld makes runtime pseudo-relocations for fields in sections it does not place ({first}, {} in all): not listed here",
            unplaced.len()
        ));
    }
}

/// `pe_walk_relocs` over the import hash: (patched section, field offset, width, symbol), every
/// object in load order, its sections in order (COMDAT losers skipped), relocations in order.
fn walk_relocs(w: &World) -> Vec<(ChunkId, u64, u8, GlobalId)> {
    let mut out = Vec::new();
    for (oi, o) in w.objs.iter().enumerate() {
        for s in &o.bin.sections {
            if matches!(w.fates[oi].get(s.index as usize - 1), Some(Fate::LostComdat { .. })) {
                continue;
            }
            for r in o.relocs(s.index) {
                let Some(pos) = r.symbol_index.and_then(|i| o.sym_at(i)) else { continue };
                let Some(&Target::Global(g)) = w.sym_targets[oi].get(pos) else { continue };
                if w.auto_imported.contains(&g) {
                    out.push((ChunkId::new(oi, s.index), r.offset, bitsize(w.machine, r.raw_type), g));
                }
            }
        }
    }
    out
}

/// The relocation's `howto->bitsize` in BFD (`coff-x86_64.c`, `coff-i386.c`), which GNU ld
/// writes as the entry's flags.
fn bitsize(machine: Machine, raw_type: u32) -> u8 {
    match (machine, raw_type) {
        (Machine::X64, 1) => 64,
        (Machine::X64, 0xA) | (Machine::X86, 0xA | 1 | 2) => 16,
        _ => 32,
    }
}

fn add_object(w: &mut World, name: String, bytes: Vec<u8>, queue: &mut LoadQueue) {
    let len = bytes.len();
    let data = std::sync::Arc::new(FileBytes::from(bytes));
    match super::inputs::read_object(name.clone(), name.clone(), name, data, 0, len) {
        Ok(obj) => w.add_input(Input::Object(Box::new(obj)), queue),
        Err(e) => w.error(format!("internal: a runtime pseudo-relocation object cannot be read: {e}")),
    }
}

/// `make_runtime_pseudo_reloc` (version 2): `.rdata_runtime_pseudo_reloc` with the entry
/// `{RVA of __imp_X, RVA of __fuN_X, bits}`, the header `0, 0, 1` before it in the first.
fn runtime_pseudo_reloc(x64: bool, first: bool, fixup: &str, imp: &str, bits: u8) -> Vec<u8> {
    let size: u32 = if first { 24 } else { 12 };
    let mut data = vec![0u8; size as usize];
    data[size as usize - 4..].copy_from_slice(&u32::from(bits).to_le_bytes());
    if first {
        data[8..12].copy_from_slice(&1u32.to_le_bytes());
    }
    let rva = if x64 { 3 } else { 7 };
    let section = CoffSection {
        name: ".rdata_runtime_pseudo_reloc",
        data,
        relocs: vec![(size - 8, 0, rva), (size - 12, 1, rva)],
    };
    coff_object(x64, &section, &[fixup, imp])
}

/// `pe_create_runtime_relocator_reference`: a `.rdata` word with the RVA of the relocator.
fn relocator_reference(x64: bool, relocator: &str) -> Vec<u8> {
    let size = if x64 { 8 } else { 4 };
    let section = CoffSection { name: ".rdata", data: vec![0; size], relocs: vec![(0, 0, if x64 { 3 } else { 7 })] };
    coff_object(x64, &section, &[relocator])
}

/// One section of a made object: its bytes and relocations (offset, symbol index, type).
struct CoffSection<'a> {
    name: &'a str,
    data: Vec<u8>,
    relocs: Vec<(u32, u32, u16)>,
}

/// A COFF object with one initialised, readable, 4-byte aligned section (`quick_section`'s
/// alignment power 2) and the given undefined external symbols.
fn coff_object(x64: bool, s: &CoffSection, undefined: &[&str]) -> Vec<u8> {
    let mut strtab: Vec<u8> = Vec::new();
    let long_name = |n: &str, strtab: &mut Vec<u8>| -> u32 {
        let at = 4 + strtab.len() as u32;
        strtab.extend_from_slice(n.as_bytes());
        strtab.push(0);
        at
    };
    let raw_at = 20 + 40;
    let relocs_at = raw_at + s.data.len() as u32;
    let symtab_at = relocs_at + 10 * s.relocs.len() as u32;
    let mut out = Vec::new();
    let machine: u16 = if x64 { 0x8664 } else { 0x14c };
    out.extend_from_slice(&machine.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&symtab_at.to_le_bytes());
    out.extend_from_slice(&(undefined.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    let mut name = [0u8; 8];
    if s.name.len() <= 8 {
        name[..s.name.len()].copy_from_slice(s.name.as_bytes());
    } else {
        let text = format!("/{}", long_name(s.name, &mut strtab));
        name[..text.len()].copy_from_slice(text.as_bytes());
    }
    out.extend_from_slice(&name);
    for v in [0u32, 0, s.data.len() as u32, raw_at, relocs_at, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(s.relocs.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    // INITIALIZED_DATA | ALIGN_4BYTES | MEM_READ
    out.extend_from_slice(&0x4030_0040u32.to_le_bytes());
    out.extend_from_slice(&s.data);
    for &(offset, symbol, ty) in &s.relocs {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&symbol.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
    }
    for sym in undefined {
        if sym.len() <= 8 {
            let mut n = [0u8; 8];
            n[..sym.len()].copy_from_slice(sym.as_bytes());
            out.extend_from_slice(&n);
        } else {
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&long_name(sym, &mut strtab).to_le_bytes());
        }
        // Value 0, section 0 (undefined), type 0, IMAGE_SYM_CLASS_EXTERNAL, no aux record.
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&[2, 0]);
    }
    out.extend_from_slice(&(4 + strtab.len() as u32).to_le_bytes());
    out.extend_from_slice(&strtab);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_objects_read_back_with_their_section_symbols_and_relocations() {
        let bytes = runtime_pseudo_reloc(true, true, "__fu0_counter", "__imp_counter", 64);
        let o = crate::formats::coff::lean::LeanObject::read(&bytes).expect("a COFF object");
        assert_eq!(o.sections.len(), 1);
        assert_eq!(o.sections[0].name, ".rdata_runtime_pseudo_reloc");
        assert_eq!(o.sections[0].virtual_size, 24);
        let names: Vec<&str> = o.symbols.iter().map(|s| s.name.as_ref()).collect();
        assert_eq!(names, ["__fu0_counter", "__imp_counter"]);
        let relocs: Vec<(u64, Option<u32>, u32)> =
            o.relocations.iter().map(|r| (r.offset, r.symbol_index, r.raw_type)).collect();
        assert_eq!(relocs, [(16, Some(0), 3), (12, Some(1), 3)]);
        // The header (0, 0, 1) and the entry's flags.
        assert_eq!(&bytes[60 + 8..60 + 12], &1u32.to_le_bytes());
        assert_eq!(&bytes[60 + 20..60 + 24], &64u32.to_le_bytes());
        let r = relocator_reference(false, "__pei386_runtime_relocator");
        let o = crate::formats::coff::lean::LeanObject::read(&r).expect("a COFF object");
        assert_eq!((o.sections[0].name.as_ref(), o.sections[0].virtual_size), (".rdata", 4));
        assert_eq!(o.relocations[0].raw_type, 7);
    }

    #[test]
    fn field_widths_follow_bfds_howtos() {
        assert_eq!(bitsize(Machine::X64, 1), 64);
        assert_eq!(bitsize(Machine::X64, 4), 32);
        assert_eq!(bitsize(Machine::X86, 6), 32);
        assert_eq!(bitsize(Machine::X86, 0x14), 32);
    }
}
