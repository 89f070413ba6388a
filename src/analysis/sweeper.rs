//! The per-instruction visitor of the image scan: the fast path (no relocation inside, no
//! RIP-relative operand, no 32-bit displacement: two field reads), and the sites of the rest —
//! displacement and immediate fields matched against the base relocations that cover them, a
//! relocation inside what decoded as an instruction taken as data.

use iced_x86::{Decoder, Instruction, Mnemonic, OpKind};

use super::code::{self, Chunk, CodeRegion, Step, Visit};
use super::scan::{blank, Cover, Ctx, Out};
use super::site::{Mode, TargetKind};
use super::BRANCH_JMP;

impl Ctx<'_> {
    /// Sweep one chunk of code.
    pub(crate) fn sweep_chunk(&self, chunk: Chunk, out: &mut Out) {
        let Some(region) = self.regions.get(chunk.region) else { return };
        let starts = self.starts.get(chunk.region).map_or(&[][..], Vec::as_slice);
        let lo = region.rva + chunk.start as u64;
        let hi = region.rva + chunk.end as u64;
        let first = self.covers.partition_point(|c| c.rva < lo);
        out.summary.code_bytes += (chunk.end - chunk.start) as u64;
        out.enter_region(chunk.region);
        let next_cover_off = cover_off(self.covers.get(first).map_or(u64::MAX, |c| c.rva), region.rva);
        let mut v = Sweeper { cx: self, region, out, cover: first, next_cover_off, hi };
        let mut rows = v.out.insns.take();
        let n =
            code::sweep(self.bitness, region, self.base.wrapping_add(region.rva), starts, chunk, &mut v, rows.as_mut());
        v.out.insns = rows;
        v.out.summary.instructions += n;
        // Base relocations after the last instruction.
        while let Some(c) = self.covers.get(v.cover).filter(|c| c.rva < hi) {
            self.data_pointer(c, region.section as u32, v.out);
            v.cover += 1;
        }
    }
}

/// A cover's RVA as an offset into the region at `region_rva` (0 before it, `usize::MAX` past).
fn cover_off(rva: u64, region_rva: u64) -> usize {
    usize::try_from(rva.saturating_sub(region_rva)).unwrap_or(usize::MAX)
}

struct Sweeper<'c, 'a, 'o> {
    cx: &'c Ctx<'a>,
    region: &'c CodeRegion<'a>,
    out: &'o mut Out,
    cover: usize,
    /// Region offset of `covers[cover]` (`usize::MAX` past the end).
    next_cover_off: usize,
    hi: u64,
}

impl Visit for Sweeper<'_, '_, '_> {
    fn skipped(&mut self, _off: usize, len: usize, invalid: bool) {
        if invalid {
            self.out.summary.invalid_bytes += len as u64;
        } else {
            self.out.summary.resync_bytes += len as u64;
        }
    }

    #[inline(always)]
    fn instruction(&mut self, ins: &Instruction, off: usize, decoder: &Decoder<'_>) -> Step {
        // The fast path: no relocation inside, no RIP-relative operand, no 32-bit displacement.
        let step =
            if self.next_cover_off >= off + ins.len() && !ins.is_ip_rel_memory_operand() && ins.memory_displ_size() < 4
            {
                Step::Next
            } else {
                self.slow(ins, off, decoder)
            };
        if let (Some(branches), Step::Next) = (self.out.branches.as_mut(), &step) {
            if let Some((t, call)) = direct_branch(ins) {
                let site = self.region.rva + off as u64;
                let (Ok(t), Ok(site)) = (u32::try_from(t.wrapping_sub(self.cx.base)), u32::try_from(site)) else {
                    return step;
                };
                let wanted = self.out.branch_targets.as_ref().is_none_or(|w| w.binary_search(&t).is_ok());
                if site & BRANCH_JMP == 0 && wanted {
                    branches.push((t, if call { site } else { site | BRANCH_JMP }));
                }
                if let Some(c) = self.out.calls.as_mut().filter(|_| call) {
                    c.push(t);
                }
            }
        }
        step
    }
}

impl Sweeper<'_, '_, '_> {
    fn advance(&mut self) {
        self.cover += 1;
        let rva = self.cx.covers.get(self.cover).map_or(u64::MAX, |c| c.rva);
        self.next_cover_off = cover_off(rva, self.region.rva);
    }

    /// The site of an operand of `ins` (at `rva`) whose `width`-bit field starts at `field` and
    /// names `target`, covered by `cover` if a relocation covers it: classified, counted (a
    /// `call` / `jmp` through an IAT slot too), its reach computed, and kept.
    #[allow(clippy::too_many_arguments)]
    fn operand_site(
        &mut self,
        ins: &Instruction,
        rva: u64,
        field: u64,
        width: u8,
        mode: Mode,
        target: u64,
        cover: Option<Cover>,
    ) {
        let cx = self.cx;
        let mut s = blank(rva, field, width, mode, self.region.section as u32);
        s.instr_len = ins.len() as u8;
        s.target_va = target;
        if let Some(c) = cover {
            c.mark(&mut s);
        }
        cx.classify(&mut s);
        if s.target_kind == TargetKind::Iat && ins.op0_kind() == OpKind::Memory {
            match ins.mnemonic() {
                Mnemonic::Call => self.out.summary.iat_calls += 1,
                Mnemonic::Jmp => self.out.summary.iat_jumps += 1,
                _ => {}
            }
        }
        cx.reach(&mut s, ins.next_ip(), &mut self.out.summary);
        self.out.push(s);
    }

    /// Whether `keep` accepts the site of RIP-relative `ins` at `rva` (classified as the scan
    /// classifies it, its field not yet placed: no filter looks at the field's place).
    fn kept(&self, keep: &super::SiteFilter, ins: &Instruction, rva: u64) -> bool {
        let mut s = blank(rva, rva, 32, Mode::RipRelative, self.region.section as u32);
        s.instr_len = ins.len() as u8;
        s.target_va = ins.ip_rel_memory_address();
        self.cx.classify(&mut s);
        self.cx.reach(&mut s, ins.next_ip(), &mut super::site::Summary::default());
        (keep.0)(&s)
    }

    #[inline(never)]
    fn slow(&mut self, ins: &Instruction, off: usize, decoder: &Decoder<'_>) -> Step {
        let cx = self.cx;
        let rva = self.region.rva + off as u64;
        let end = rva + ins.len() as u64;
        let section = self.region.section as u32;
        // Relocated fields in bytes the sweep skipped are data.
        while let Some(c) = cx.covers.get(self.cover).filter(|c| c.rva < rva) {
            cx.data_pointer(c, section, self.out);
            self.advance();
        }
        let rip = ins.is_ip_rel_memory_operand();
        let has_cover = self.next_cover_off < off + ins.len();
        if !rip && !has_cover {
            // A displacement that is not an address in the image (a structure offset) is no site.
            let d = ins.memory_displacement64();
            let d = if cx.bitness == 32 { d & 0xffff_ffff } else { d };
            if d.checked_sub(cx.base).is_none_or(|t| t >= cx.image_end) {
                return Step::Next;
            }
        }
        // Where the fields are (iced's constant offsets) matters for relocations inside the
        // instruction and for sites that are kept or matched against pseudo-relocations; a
        // RIP-relative operand's field is 32 bits wide whatever its place.
        // A kept list with a filter places a field exactly only for a site the filter keeps.
        let keep = self.out.keep.as_ref().filter(|_| self.out.sites.is_some());
        if rip && !has_cover && (!cx.need_fields || keep.is_some_and(|k| !self.kept(k, ins, rva))) {
            self.out.summary.rip_relative_operands += 1;
            self.operand_site(ins, rva, rva, 32, Mode::RipRelative, ins.ip_rel_memory_address(), None);
            return Step::Next;
        }
        let co = decoder.get_constant_offsets(ins);
        let (mut disp_cover, mut imm_cover) = (None, None);
        while let Some(c) = cx.covers.get(self.cover).filter(|c| c.rva < end && c.rva < self.hi) {
            let f = (c.rva - rva) as usize;
            if co.has_displacement() && f == co.displacement_offset() && usize::from(c.width) == co.displacement_size()
            {
                disp_cover = Some(*c);
            } else if co.has_immediate() && f == co.immediate_offset() && usize::from(c.width) == co.immediate_size() {
                imm_cover = Some(*c);
            } else {
                // A relocated pointer inside what decoded as an instruction: these bytes are data
                // (a jump table in code); resume after the field.
                let c = *c;
                cx.data_pointer(&c, section, self.out);
                self.advance();
                return Step::Data { field: (c.rva - self.region.rva) as usize, width: c.width };
            }
            self.advance();
        }
        if rip || (ins.memory_displ_size() >= 4 && has_memory_operand(ins)) {
            let target = if rip { ins.ip_rel_memory_address() } else { ins.memory_displacement64() };
            let mode = if rip {
                Mode::RipRelative
            } else if ins.memory_base() == iced_x86::Register::None && ins.memory_index() == iced_x86::Register::None {
                Mode::Absolute
            } else {
                Mode::AbsoluteIndexed
            };
            if rip {
                self.out.summary.rip_relative_operands += 1;
            }
            let target = if cx.bitness == 32 { target & 0xffff_ffff } else { target };
            let in_image = target.checked_sub(cx.base).is_some_and(|t| t < cx.image_end);
            if rip || disp_cover.is_some() || in_image {
                let (field, width) = (rva + co.displacement_offset() as u64, (co.displacement_size() * 8) as u8);
                self.operand_site(ins, rva, field, width, mode, target, disp_cover);
            }
        }
        if let Some(c) = imm_cover {
            // (An instruction with an immediate is no `call` / `jmp` through memory.)
            self.operand_site(ins, rva, c.rva, c.width * 8, Mode::Immediate, c.value.unwrap_or(0), Some(c));
        }
        Step::Next
    }
}

/// The target of a direct `call` or `jmp` (to an immediate address; not a conditional jump) and
/// whether it is a call.
pub(crate) fn direct_branch(ins: &Instruction) -> Option<(u64, bool)> {
    if !matches!(ins.op0_kind(), OpKind::NearBranch64 | OpKind::NearBranch32 | OpKind::NearBranch16) {
        return None;
    }
    match ins.mnemonic() {
        Mnemonic::Call => Some((ins.near_branch_target(), true)),
        Mnemonic::Jmp => Some((ins.near_branch_target(), false)),
        _ => None,
    }
}

/// Whether the instruction has a memory operand (not just an immediate or registers).
fn has_memory_operand(ins: &Instruction) -> bool {
    (0..ins.op_count()).any(|i| matches!(ins.op_kind(i), OpKind::Memory))
}
