//! What an unexplained range in code looks like: the instructions over it before (the file, as
//! the loader relocates it) and after (the memory), and where a `jmp` / `call` / `push imm; ret`
//! / `mov reg, imm; jmp reg` written there goes, named as `module!export+0xN`.

use std::sync::Arc;

use iced_x86::{Code, Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};

use super::claims::module_file;
use crate::analysis::listing::{Lister, Names};
use crate::model::memory::ModuleMemory;
use crate::patch::{DllInput, PatchPlan};

/// How far back from a changed byte the search for its instruction's start goes (from the
/// function's label): beyond it the decoding starts at the changed byte itself.
const MAX_SWEEP: u64 = 1 << 16;
/// Instructions shown on each side, at most.
const MAX_INSNS: usize = 8;

/// Names of the image's own addresses, for the instructions and the targets.
pub trait ImageNames {
    /// Names for instruction operands (None: addresses only).
    fn operand_names(&self) -> Option<Arc<Names>>;
    /// The label of the function (or the named place) `rva` lies in, and the label's RVA.
    fn function(&self, rva: u64) -> Option<(String, u64)>;
}

/// An image without names: addresses only.
pub struct NoNames;

impl ImageNames for NoNames {
    fn operand_names(&self) -> Option<Arc<Names>> {
        None
    }
    fn function(&self, _rva: u64) -> Option<(String, u64)> {
        None
    }
}

/// The instructions over a changed range.
#[derive(Debug, Clone, Default)]
pub(super) struct Insns {
    /// RVA of the first instruction shown.
    pub rva: Option<u64>,
    /// The instructions before (the relocated file), `; `-separated.
    pub before: Option<String>,
    /// … and after (the memory).
    pub after: Option<String>,
    /// The address a branch written there goes to.
    pub target_va: Option<u64>,
}

/// Decode the instructions over `[rva, end)` in `before` (the relocated file bytes of
/// `[win, win + before.len())`) and in the memory.
#[allow(clippy::too_many_arguments)]
pub(super) fn instructions(
    bits: u32,
    names: &dyn ImageNames,
    base: u64,
    win: u64,
    before: &[u8],
    mem: &ModuleMemory<'_>,
    rva: u64,
    end: u64,
) -> Insns {
    let start =
        names.function(rva).map(|(_, s)| s).filter(|&s| s >= win && s <= rva && rva - s <= MAX_SWEEP).unwrap_or(rva);
    // The instruction of the file holding `rva`, found by decoding from the function's start.
    let at = |k: u64| (k - win) as usize;
    let mut first = start;
    let mut d =
        Decoder::with_ip(bits, before.get(at(start)..).unwrap_or(&[]), base.wrapping_add(start), DecoderOptions::NONE);
    let mut ins = Instruction::default();
    while d.can_decode() {
        let here = start + d.position() as u64;
        d.decode_out(&mut ins);
        if ins.is_invalid() {
            break;
        }
        if here + ins.len() as u64 > rva {
            first = here;
            break;
        }
        first = here + ins.len() as u64;
        if first > rva {
            first = rva;
            break;
        }
    }
    let mut lister = names.operand_names().map(|n| Lister::new(bits, n));
    let before_text = listing(bits, &mut lister, before.get(at(first)..).unwrap_or(&[]), base, first, end);
    let after_end = usize::try_from(win).unwrap_or(usize::MAX).saturating_add(before.len()).min(mem.bytes.len());
    let after_bytes = mem.bytes.get(first as usize..after_end).unwrap_or(&[]);
    let after_text = listing(bits, &mut lister, after_bytes, base, first, end);
    Insns {
        rva: Some(first),
        before: Some(before_text.0),
        after: Some(after_text.0),
        target_va: branch_target(&after_text.1, mem, base, bits),
    }
}

/// The instructions of `bytes` (at `rva`) up to and over `end`, as text, and decoded.
fn listing(
    bits: u32,
    lister: &mut Option<Lister>,
    bytes: &[u8],
    base: u64,
    rva: u64,
    end: u64,
) -> (String, Vec<Instruction>) {
    let mut out: Vec<String> = Vec::new();
    let mut decoded = Vec::new();
    let mut d = Decoder::with_ip(bits, bytes, base.wrapping_add(rva), DecoderOptions::NONE);
    let mut ins = Instruction::default();
    while d.can_decode() && out.len() < MAX_INSNS {
        let pos = d.position();
        let here = rva + pos as u64;
        if here >= end && !out.is_empty() {
            break;
        }
        d.decode_out(&mut ins);
        if ins.is_invalid() {
            out.push("(bad)".into());
            break;
        }
        let one = bytes.get(pos..pos + ins.len()).unwrap_or(&[]);
        let text = lister
            .as_mut()
            .and_then(|l| l.format(one, base.wrapping_add(here)))
            .map_or_else(|| plain(&ins), |(_, t)| t);
        out.push(text);
        decoded.push(ins);
    }
    (out.join("; "), decoded)
}

/// An instruction as Intel syntax without names.
fn plain(ins: &Instruction) -> String {
    use iced_x86::Formatter;
    let mut f = iced_x86::IntelFormatter::new();
    f.options_mut().set_hex_prefix("0x");
    f.options_mut().set_hex_suffix("");
    f.options_mut().set_uppercase_hex(false);
    let mut s = String::new();
    f.format(ins, &mut s);
    s
}

/// Where the first instructions written over the range go: a direct `jmp` / `call`, a `jmp` /
/// `call` through a pointer the memory holds, `push imm; ret`, `mov reg, imm; jmp reg`.
fn branch_target(ins: &[Instruction], mem: &ModuleMemory<'_>, base: u64, bits: u32) -> Option<u64> {
    let first = ins.first()?;
    let branch = matches!(first.mnemonic(), Mnemonic::Jmp | Mnemonic::Call);
    if branch && matches!(first.op0_kind(), OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64) {
        return Some(first.near_branch_target());
    }
    if branch
        && first.op0_kind() == OpKind::Memory
        && (first.memory_base() == Register::None || first.is_ip_rel_memory_operand())
        && first.memory_index() == Register::None
    {
        let slot = if first.is_ip_rel_memory_operand() {
            first.ip_rel_memory_address()
        } else {
            first.memory_displacement64()
        };
        let rva = slot.checked_sub(base)?;
        let width = if bits == 64 { 8 } else { 4 };
        let s = usize::try_from(rva).ok()?;
        let b = mem.bytes.get(s..s.checked_add(width)?)?;
        return Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)));
    }
    let second = ins.get(1)?;
    let push_ret = matches!(first.code(), Code::Pushd_imm32 | Code::Pushq_imm32 | Code::Push_imm16)
        && second.mnemonic() == Mnemonic::Ret;
    if push_ret {
        return Some(first.immediate(0) & if bits == 64 { u64::MAX } else { 0xffff_ffff });
    }
    let mov_jmp = matches!(first.code(), Code::Mov_r64_imm64 | Code::Mov_r32_imm32)
        && matches!(second.mnemonic(), Mnemonic::Jmp | Mnemonic::Call)
        && second.op0_kind() == OpKind::Register
        && second.op0_register() == first.op0_register();
    if mov_jmp {
        return Some(first.immediate(1));
    }
    None
}

/// `va` named among the placed modules: `data.dll!arr+0x4` (the nearest export at or below
/// it), `image.exe!main+0x10` (the image's labels), `data.dll+0x1234`, or the bare address.
pub(super) fn name_va(va: u64, plan: &PatchPlan, dlls: &[DllInput<'_>], names: &dyn ImageNames) -> String {
    let Some((i, m)) =
        plan.modules.iter().enumerate().find(|(_, m)| m.size > 0 && va >= m.base && va - m.base < m.size)
    else {
        return format!("0x{va:x} (in no placed module)");
    };
    let rva = va - m.base;
    if i == 0 {
        return match names.function(rva) {
            Some((label, at)) if at <= rva => format!("{}!{label}+0x{:x}", m.name, rva - at),
            _ => format!("{}+0x{rva:x}", m.name),
        };
    }
    let Some(d) = dlls.iter().find(|d| module_file(m, d)) else {
        return format!("{}+0x{rva:x}", m.name);
    };
    let best = d
        .bin
        .exports
        .iter()
        .filter(|e| e.forwarder.is_none() && e.rva <= rva)
        .max_by_key(|e| (e.rva, std::cmp::Reverse(e.ordinal)));
    match best {
        Some(e) => {
            let n = e.name.clone().unwrap_or_else(|| format!("#{}", e.ordinal));
            format!("{}!{n}+0x{:x}", m.name, rva - e.rva)
        }
        None => format!("{}+0x{rva:x}", m.name),
    }
}

/// The export of the placed modules at exactly `va`, as `dll!name`.
pub(super) fn export_at(va: u64, plan: &PatchPlan, dlls: &[DllInput<'_>]) -> Option<String> {
    let m = plan.modules.iter().skip(1).find(|m| m.size > 0 && va >= m.base && va - m.base < m.size)?;
    let d = dlls.iter().find(|d| module_file(m, d))?;
    let rva = va - m.base;
    let e = d.bin.exports.iter().find(|e| e.forwarder.is_none() && e.rva == rva)?;
    Some(format!("{}!{}", m.name, e.name.clone().unwrap_or_else(|| format!("#{}", e.ordinal))))
}
