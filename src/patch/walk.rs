//! The 2013 D proposal (D bugzilla 4071; rainers/druntime `dllshared.d`): after the loader, walk
//! the base relocations; a HIGHLOW / DIR64 field whose value points into an IAT is replaced by
//! the pointer stored where it points (`*field = *(void**)*field`), one that points at a
//! `jmp [IAT]` thunk (`FF 25`) by the slot the thunk jumps through.
//!
//! Where the image carries a MinGW pseudo-relocation list, that list says what each field must
//! become: a step whose result differs is `misidentified` (`&arr[3]` = slot + 12 is read as the
//! neighbouring slot; a legitimate `__imp_` pointer is rewritten), and the pseudo-relocated
//! fields the walk cannot see (RIP-relative, no base relocation) are `missed`.

use std::collections::HashMap;

use super::{mingw::Mingw, Cx, Outcome, Scheme, SchemeKind, Status, Step, Writes};
use crate::analysis::namer::with_offset;
use crate::model::Binary;

/// The walk scheme.
pub struct Walk;

impl Scheme for Walk {
    fn kind(&self) -> SchemeKind {
        SchemeKind::BaserelWalk
    }

    /// Any relocatable image with imports can be walked; it carries no data of its own.
    fn detect(&self, _bin: &Binary) -> bool {
        false
    }

    fn run(&self, cx: &mut Cx<'_>) -> Outcome {
        let mut out = Outcome::default();
        // The truth, where the image says it: what the MinGW runtime makes of every field. It
        // runs on the image's own memory, which its undo log then restores; what it wrote is
        // kept as a sparse list of (rva, final bytes), never a second image.
        let truth = Mingw.detect(cx.bin).then(|| {
            let none = Default::default();
            let mut scratch = Cx {
                bin: cx.bin,
                index: cx.index,
                mem: std::mem::take(&mut cx.mem),
                base: cx.base,
                ptr: cx.ptr,
                bindings: cx.bindings,
                modules: cx.modules,
                dlls: cx.dlls,
                disabled: &none,
                undo: Writes::default(),
            };
            let o = Mingw.run(&mut scratch);
            let mut wrote = Writes::default();
            for (rva, len) in scratch.undo.spans() {
                let s = rva as usize;
                wrote.push(rva, &scratch.mem[s..s + len]);
            }
            scratch.undo.apply_all(&mut scratch.mem);
            cx.mem = scratch.mem;
            (wrote, o.steps)
        });
        // The truth's bytes at `len` bytes from `rva`: the memory before the walk (its own writes
        // so far undone) with the MinGW run's writes laid over it.
        let truth_read = |cx: &Cx<'_>, wrote: &Writes, rva: u64, len: usize| -> Option<u64> {
            let s = usize::try_from(rva).ok()?;
            let mut w = cx.mem.get(s..s.checked_add(len)?)?.to_vec();
            cx.undo.apply_window(rva, &mut w);
            wrote.apply_window(rva, &mut w);
            super::read_le(&w, 0, len)
        };
        let pseudo_at: HashMap<u64, usize> =
            cx.bin.pseudo_relocations.entries.iter().enumerate().map(|(i, e)| (e.target_rva, i)).collect();
        let iats = iat_ranges(cx);
        let mask = if cx.ptr == 8 { u64::MAX } else { 0xffff_ffff };
        let mut seen_fields: Vec<u64> = Vec::new();
        for (ri, r) in cx.bin.base_relocations.iter().enumerate() {
            let bytes = match r.raw_type {
                3 => 4,
                10 => 8,
                _ => continue,
            };
            let rva = r.rva;
            let Some(value) = cx.read(rva, bytes) else { continue };
            let Some(vrva) = value.checked_sub(cx.base).filter(|v| *v < cx.mem.len() as u64) else { continue };
            // Into an IAT (at least a pointer's worth of it), or at a thunk.
            let (slot, how) = if iats.iter().any(|&(s, e)| vrva >= s && vrva + cx.ptr as u64 <= e) {
                (vrva, "points into the IAT")
            } else if let Some(slot) = thunk_slot(cx, vrva) {
                (slot, "points at a jmp [IAT] thunk")
            } else {
                continue;
            };
            let Some(new) = cx.read(slot, cx.ptr).map(|v| v & mask) else { continue };
            let new = if bytes == 4 { new & 0xffff_ffff } else { new };
            seen_fields.push(rva);
            let index = out.steps.len();
            let (slot_start, slot_import) = match cx.index.iat_slot_at(slot, cx.ptr as u64) {
                Some((start, _)) => (start, cx.binding_at(start).map(|b| b.import.clone())),
                None => (slot, None),
            };
            let binding = cx.binding_at(slot_start);
            let truth_value = truth.as_ref().map(|(wrote, _)| truth_read(cx, wrote, rva, bytes).unwrap_or(0));
            let pseudo = pseudo_at.get(&rva).copied();
            let read_slot = format!("0x{slot:x}");
            let aligned = slot == slot_start;
            let unbound = binding.is_some_and(|b| b.value.is_none());
            let (status, reason) = if truth.is_some() && pseudo.is_none() {
                // Nothing in the list patches this field: it must keep the loader's value.
                (
                    Status::Misidentified,
                    format!(
                        "the field {how} at {read_slot}, but the pseudo-relocation list does not name it: it is a pointer to the IAT slot itself (a __imp_ reference), which must stay 0x{value:x}; the walk rewrites it to {}",
                        if unbound { "the slot's value (unknown here: the import is not bound)".to_string() } else { format!("0x{new:x}") }
                    ),
                )
            } else if unbound {
                (Status::Unresolved, format!("the value {how} at {read_slot}, whose import is not bound"))
            } else if let Some(t) = truth_value.filter(|t| *t != new) {
                let why = match pseudo.and_then(|p| cx.bin.pseudo_relocations.entries.get(p)) {
                    Some(e) => format!(
                        "the field {how} at {read_slot}{}; the walk stores {}, but the pseudo-relocation list says it refers to {}, i.e. 0x{t:x}",
                        if aligned { String::new() } else { format!(" (inside the slot at 0x{slot_start:x})") },
                        slot_import.as_deref().map_or_else(|| format!("0x{new:x}"), |i| format!("0x{new:x} (the value of {i})")),
                        with_offset(e.import.as_deref().unwrap_or("its import"), e.slot_offset),
                    ),
                    None => format!(
                        "the field {how} at {read_slot}, but nothing says it is an import reference: it is a pointer to the IAT slot itself (a __imp_ reference), which must stay 0x{t:x}; the walk wrongly rewrites it to 0x{new:x}"
                    ),
                };
                (Status::Misidentified, why)
            } else {
                (Status::Applied, format!("the field {how} at {read_slot}: replaced by the slot's value 0x{new:x}"))
            };
            let mut step = Step::new(index, rva, (bytes * 8) as u32, status, reason);
            step.before = value;
            step.after = new;
            step.import = slot_import;
            step.offset = Some(slot as i64 - slot_start as i64);
            step.source = Some(ri);
            cx.commit(&mut out, step, bytes);
        }
        // What the truth patches that the walk never looked at.
        if let Some((wrote, steps)) = &truth {
            seen_fields.sort_unstable();
            for t in steps {
                if seen_fields.binary_search(&t.target_rva).is_ok() || !t.status.wrote() {
                    continue;
                }
                let bytes = (t.width / 8) as usize;
                let covered =
                    cx.bin.base_relocations.iter().any(|r| r.rva == t.target_rva && matches!(r.raw_type, 3 | 10));
                let reason = if covered {
                    "the field has a base relocation, but its value does not point into the IAT or at a thunk, so the walk leaves it alone".into()
                } else {
                    format!(
                        "no base relocation covers this {}-bit field (a RIP-relative displacement or a 32-bit offset on Win64): the walk cannot see it",
                        t.width
                    )
                };
                let mut step = Step::new(out.steps.len(), t.target_rva, t.width, Status::Missed, reason);
                step.section = t.section.clone();
                step.before = t.before;
                step.after = truth_read(cx, wrote, t.target_rva, bytes).unwrap_or(t.after);
                step.import = t.import.clone();
                step.offset = t.offset;
                step.source = t.source;
                out.steps.push(step);
            }
        } else {
            out.notes.push("no pseudo-relocation list: nothing tells which walk steps are right".into());
        }
        out
    }
}

/// `(start, end)` RVAs of every import module's IAT (pointer-size slots plus the terminator).
fn iat_ranges(cx: &Cx<'_>) -> Vec<(u64, u64)> {
    let p = cx.ptr as u64;
    let mut v: Vec<(u64, u64)> = cx
        .bin
        .imports
        .iter()
        .filter(|m| m.iat_rva != 0)
        .map(|m| (m.iat_rva, m.iat_rva + p * (m.entries.len() as u64 + 1)))
        .collect();
    v.sort_unstable();
    v
}

/// The IAT slot a `jmp [slot]` thunk at `rva` jumps through, when it is one.
fn thunk_slot(cx: &Cx<'_>, rva: u64) -> Option<u64> {
    if cx.read(rva, 2)? != 0x25ff {
        return None;
    }
    let disp = cx.read(rva + 2, 4)? as u32;
    let slot = if cx.ptr == 8 {
        (rva + 6).wrapping_add(i64::from(disp as i32) as u64)
    } else {
        u64::from(disp).checked_sub(cx.base)?
    };
    cx.index.iat_slot_at(slot, cx.ptr as u64).map(|_| slot)
}
