//! Sites of relocatable objects (COFF, ELF, OMF): every relocation that stores an address, in
//! code (the instruction tells the mode) or data; its target from the relocation's symbol.
//!
//! Offsets: the CPU adds a PC-relative field to the end of the instruction; a relocation's formula
//! assumes another point (ELF `S + A - P`: the field; COFF `S + A - (P + 4 + k)`: after the field
//! and `k` immediate bytes). The offset into the target is the addend plus the difference:
//! `mov eax, [rip + arr + 12]` has ELF addend 8 and offset 12; nasm's `mov byte [rel x], 1` stores
//! REL32 with addend -1 and reaches `x + 0`; MSVC's `REL32_1` stores 0.

use iced_x86::{Decoder, Instruction, Mnemonic};

use super::code::{self, Step, Visit};
use super::omf;
use super::scan::{blank, Out};
use super::site::{ImportRef, Mode, SymRef, TargetKind};
use crate::model::index::Index;
use crate::model::{Binary, RelocKind, Relocation, SpecialSection, SymbolKind};

/// Whether an object relocation of this normalised kind stores an address (and so is a site);
/// in OMF also a segment base (`seg name`: the paragraph or selector half of a far address).
fn is_address(r: &Relocation, omf: bool) -> bool {
    let kinds = matches!(r.normalized, RelocKind::Absolute | RelocKind::PcRelative | RelocKind::Got | RelocKind::Plt)
        || (omf && r.normalized == RelocKind::SectionIndex);
    kinds && r.width >= 8
}

/// Scan the relocations of an object.
pub(crate) fn scan(bin: &Binary, data: &[u8], index: &Index, out: &mut Out) {
    // Relocation positions per section (position in bin.sections), sorted by offset.
    let mut per_section: Vec<Vec<u32>> = vec![Vec::new(); bin.sections.len()];
    for (i, r) in bin.relocations.iter().enumerate() {
        if r.dynamic || !is_address(r, bin.omf.is_some()) {
            continue;
        }
        // Debug information is not loaded: its addresses are not references a loader patches.
        let loaded = |p: usize| bin.sections.get(p).is_some_and(|s| s.is_alloc && !s.name.starts_with(".debug"));
        if let Some(p) = r.section.and_then(|s| index.section_pos(s)).filter(|&p| loaded(p)) {
            per_section[p].push(i as u32);
        }
    }
    for v in &mut per_section {
        v.sort_by_key(|&i| bin.relocations.get(i as usize).map_or(0, |r| r.offset));
    }
    let regions = code::code_regions(bin, data);
    let starts = code::known_starts(bin, index, &regions);
    let mut in_code = vec![false; bin.sections.len()];
    for (ri, region) in regions.iter().enumerate() {
        in_code[region.section] = true;
        let relocs = &per_section[region.section];
        let s = starts.get(ri).map_or(&[][..], Vec::as_slice);
        let mut v = ObjSweeper { bin, index, relocs, cursor: 0, section: region.section as u32, out };
        let chunk = code::Chunk { region: ri, start: 0, end: region.bytes.len() };
        out_code_bytes(v.out, region.bytes.len());
        v.out.enter_region(ri);
        let mut rows = v.out.insns.take();
        let n = code::sweep(region.bitness, region, region.rva, s, chunk, &mut v, rows.as_mut());
        v.out.insns = rows;
        v.out.summary.instructions += n;
        // Relocations after the last decoded instruction.
        while let Some(&i) = v.relocs.get(v.cursor) {
            v.emit(i, None);
            v.cursor += 1;
        }
    }
    for (p, relocs) in per_section.iter().enumerate() {
        if in_code[p] {
            continue;
        }
        let mut v = ObjSweeper { bin, index, relocs, cursor: 0, section: p as u32, out };
        for &i in relocs {
            v.emit(i, None);
        }
    }
}

fn out_code_bytes(out: &mut Out, n: usize) {
    out.summary.code_bytes += n as u64;
}

/// The instruction a relocation sits in: its start, length, end address and what the field is.
#[derive(Clone, Copy)]
struct InInsn {
    start: u64,
    len: u8,
    mode: Mode,
    branch: bool,
}

struct ObjSweeper<'a, 'o> {
    bin: &'a Binary,
    index: &'a Index,
    relocs: &'a [u32],
    cursor: usize,
    section: u32,
    out: &'o mut Out,
}

impl ObjSweeper<'_, '_> {
    fn emit(&mut self, ri: u32, insn: Option<InInsn>) {
        let Some(r) = self.bin.relocations.get(ri as usize) else { return };
        let mode = match insn {
            Some(i) => i.mode,
            None if r.pc_relative => Mode::RipRelative,
            None => Mode::DataPointer,
        };
        let site_rva = insn.map_or(r.offset, |i| i.start);
        let mut s = blank(site_rva, r.offset, r.width, mode, self.section);
        s.instr_len = insn.map_or(0, |i| i.len);
        s.reloc = Some(ri);
        // Where the relocation's formula assumes the CPU adds the field: ELF `S + A - P` at the
        // field; COFF `S + A - (P + 4 + k)` after it (k bytes of immediate for `REL32_k`).
        let assumed = if self.bin.format.is_elf() {
            r.offset
        } else {
            let k =
                if r.kind.starts_with("IMAGE_REL_AMD64_REL32_") { u64::from(r.raw_type.saturating_sub(4)) } else { 0 };
            r.offset + u64::from(r.width / 8) + k
        };
        let next = insn.map_or(assumed, |i| i.start + u64::from(i.len));
        let offset = if r.pc_relative { r.addend.wrapping_add(next.wrapping_sub(assumed) as i64) } else { r.addend };
        s.offset = Some(offset);
        let sym_pos = r.symbol_index.and_then(|i| self.index.symbol_pos(i));
        let sym = sym_pos.and_then(|p| self.bin.symbols.get(p));
        // An OMF fixup may target an offset in a segment (no symbol) or store a segment base.
        let omf = omf::fixup_target(self.bin, |i| self.index.section_pos(i), ri as usize);
        if omf::is_segment_base(self.bin, ri as usize) {
            // `seg name`: a paragraph or selector, named by the fixup's target, not an address.
            s.offset = None;
            s.target_kind = if sym.is_some() { TargetKind::External } else { TargetKind::Data };
            if let (Some(p), Some(_)) = (sym_pos, sym) {
                s.symbol = Some(SymRef::Symbol(p as u32));
                s.import = Some(ImportRef::Symbol(p as u32));
            }
            self.out.push(s);
            return;
        }
        let place = match (sym, omf) {
            (_, Some(omf::FixupTarget::Segment(p))) => Some((Some(p), 0)),
            (Some(sym), _) if sym.section.is_some() => {
                Some((sym.section.and_then(|i| self.index.section_pos(i)), sym.value))
            }
            _ => None,
        };
        match sym {
            _ if place.is_some() => {
                let (tsec, base) = place.unwrap_or_default();
                s.target_section = tsec.map(|p| p as u32);
                let t = base.wrapping_add(offset as u64);
                s.target_va = t;
                s.target_rva = Some(t);
                let exec = tsec.and_then(|p| self.bin.sections.get(p)).is_some_and(|x| x.is_exec);
                s.target_kind = if exec { TargetKind::Code } else { TargetKind::Data };
                // Name the nearest named symbol of the target section (a section symbol + addend
                // becomes `name + k`).
                if let Some((p, at)) = tsec.and_then(|p| self.nearest(p, t)) {
                    s.symbol = Some(SymRef::Symbol(p));
                    s.offset = Some(t.wrapping_sub(at) as i64);
                } else if let Some(p) = sym_pos {
                    s.symbol = Some(SymRef::Symbol(p as u32));
                }
            }
            Some(sym) => {
                let p = sym_pos.unwrap_or(0) as u32;
                s.symbol = Some(SymRef::Symbol(p));
                s.import = Some(ImportRef::Symbol(p));
                let imp = sym.name.starts_with("__imp_") || r.normalized == RelocKind::Got;
                s.target_kind = if imp {
                    if self.bin.format.is_elf() {
                        TargetKind::Got
                    } else {
                        TargetKind::Iat
                    }
                } else {
                    TargetKind::External
                };
                let branch = insn.is_some_and(|i| i.branch) || r.normalized == RelocKind::Plt;
                // OMF toolchains have no auto-import: an external is resolved by the linker.
                s.needs_import_fixup = self.bin.omf.is_none()
                    && !imp
                    && !branch
                    && sym.kind != SymbolKind::Function
                    && sym.section_kind != Some(SpecialSection::Absolute);
            }
            None if matches!(omf, Some(omf::FixupTarget::Other)) => s.target_kind = TargetKind::Data,
            None => s.target_kind = TargetKind::External,
        }
        self.out.push(s);
    }

    /// Nearest named symbol of section position `p` at or below section offset `t`.
    fn nearest(&self, p: usize, t: u64) -> Option<(u32, u64)> {
        let v = &self.index.symbols_sorted;
        let sec = self.bin.sections.get(p)?;
        let key = sec.rva.wrapping_add(t);
        let i = v.partition_point(|&(r, _)| r <= key);
        v[..i]
            .iter()
            .rev()
            .take(256)
            .find(|&&(_, s)| self.bin.symbols.get(s as usize).and_then(|s| s.section) == Some(sec.index))
            .map(|&(r, s)| (s, r.wrapping_sub(sec.rva)))
    }
}

impl Visit for ObjSweeper<'_, '_> {
    fn instruction(&mut self, ins: &Instruction, off: usize, decoder: &Decoder<'_>) -> Step {
        let start = off as u64;
        let end = start + ins.len() as u64;
        let rip = ins.is_ip_rel_memory_operand();
        if rip {
            self.out.summary.rip_relative_operands += 1;
        }
        let branch = matches!(ins.mnemonic(), Mnemonic::Call | Mnemonic::Jmp)
            || matches!(
                ins.op0_kind(),
                iced_x86::OpKind::NearBranch16 | iced_x86::OpKind::NearBranch32 | iced_x86::OpKind::NearBranch64
            );
        let co = decoder.get_constant_offsets(ins);
        // Relocations before this instruction (in skipped bytes) are sites of their own.
        while let Some(&i) = self.relocs.get(self.cursor) {
            let Some(r) = self.bin.relocations.get(i as usize) else { break };
            if r.offset >= start {
                break;
            }
            self.emit(i, None);
            self.cursor += 1;
        }
        while let Some(&i) = self.relocs.get(self.cursor) {
            let Some(r) = self.bin.relocations.get(i as usize) else { break };
            if r.offset >= end {
                break;
            }
            let f = (r.offset - start) as usize;
            let mode = if co.has_displacement() && f == co.displacement_offset() {
                if rip {
                    Mode::RipRelative
                } else if ins.memory_base() == iced_x86::Register::None
                    && ins.memory_index() == iced_x86::Register::None
                {
                    Mode::Absolute
                } else {
                    Mode::AbsoluteIndexed
                }
            } else if r.pc_relative {
                Mode::RipRelative
            } else if self.bin.omf.is_some()
                && !(co.has_immediate() && f == co.immediate_offset())
                && !(co.has_immediate2() && f == co.immediate_offset2())
            {
                // OMF: a fixup on no operand of the decoded "instruction" patches data the
                // sweep took for code (a jump table in a code segment): say so.
                Mode::DataPointer
            } else {
                Mode::Immediate
            };
            self.emit(i, Some(InInsn { start, len: ins.len() as u8, mode, branch }));
            self.cursor += 1;
        }
        Step::Next
    }

    fn skipped(&mut self, _off: usize, len: usize, invalid: bool) {
        if invalid {
            self.out.summary.invalid_bytes += len as u64;
        } else {
            self.out.summary.resync_bytes += len as u64;
        }
    }
}
