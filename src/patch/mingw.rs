//! MinGW runtime pseudo-relocations, exactly as `_pei386_runtime_relocator` (mingw-w64
//! `crt/pseudo-reloc.c`, `do_pseudo_reloc`) applies them to the loaded image.
//!
//! v1 item `{addend, target}`: `*(u32*)(base + target) += addend` (the extra import descriptors
//! the loader bound first). v2 item `{sym, target, flags}`: read the field with its width,
//! sign-extending 8/16-bit (and 32-bit on Win64); `new = old - (base + sym) + *(base + sym)`;
//! a field narrower than a pointer must hold a value in the union of the signed and unsigned
//! ranges, else the runtime prints its message and aborts.

use super::{runtime_ptr, Cx, Outcome, Scheme, SchemeKind, Status, Step};
use crate::analysis::namer::signed_hex;
use crate::model::Binary;

/// The MinGW scheme.
pub struct Mingw;

impl Scheme for Mingw {
    fn kind(&self) -> SchemeKind {
        SchemeKind::Mingw
    }

    fn detect(&self, bin: &Binary) -> bool {
        bin.pseudo_relocations.version.is_some() && !bin.pseudo_relocations.entries.is_empty()
    }

    fn run(&self, cx: &mut Cx<'_>) -> Outcome {
        let list = &cx.bin.pseudo_relocations;
        let mut out = Outcome::default();
        match list.version {
            None => {
                out.notes.push(list.note.clone().unwrap_or_else(|| "the image has no pseudo-relocation list".into()));
            }
            Some(1) => run_v1(cx, &mut out),
            Some(_) => run_v2(cx, &mut out),
        }
        out
    }
}

/// The import named by the IAT slot at `rva`.
fn slot_import(cx: &Cx<'_>, rva: u64) -> Option<String> {
    cx.binding_at(rva).map(|b| b.import.clone())
}

fn run_v1(cx: &mut Cx<'_>, out: &mut Outcome) {
    let entries = cx.bin.pseudo_relocations.entries.clone();
    for (i, e) in entries.iter().enumerate() {
        let offset = e.signed_addend().unwrap_or(0);
        let addend = u64::from(e.addend.unwrap_or(0));
        let rva = e.target_rva;
        let import = e.import.clone().or_else(|| slot_import(cx, rva));
        let Some(old) = cx.read(rva, 4) else {
            fault(cx, out, i, rva, 32, import, "the target lies outside the image");
            continue;
        };
        let new = (old + addend) & 0xffff_ffff;
        let bound = cx.binding_at(rva).map(|b| b.value.is_some());
        let (status, reason) = if bound == Some(false) {
            (
                Status::Unresolved,
                format!("the loader left the slot unbound, so adding {} gives garbage", signed_hex(offset)),
            )
        } else {
            let what = if bound == Some(true) {
                format!("the loader bound this field (an IAT slot of an extra import descriptor) to the import's address; the runtime adds the addend {}", signed_hex(offset))
            } else {
                format!("the runtime adds the addend {} to the 32-bit field", signed_hex(offset))
            };
            writable_status(cx, rva, what)
        };
        let mut step = Step::new(i, rva, 32, status, reason);
        step.before = old;
        step.after = new;
        step.import = import;
        step.offset = Some(offset);
        cx.commit(out, step, 4);
    }
}

fn run_v2(cx: &mut Cx<'_>, out: &mut Outcome) {
    let entries = cx.bin.pseudo_relocations.entries.clone();
    let ptr_bits = (cx.ptr * 8) as u32;
    let mask = if cx.ptr == 8 { u64::MAX } else { 0xffff_ffff };
    for (i, e) in entries.iter().enumerate() {
        let rva = e.target_rva;
        let bits = e.width;
        let sym = e.sym_rva.unwrap_or(0);
        let import = e.import.clone().or_else(|| slot_import(cx, sym));
        let bytes = match bits {
            8 | 16 | 32 => (bits / 8) as usize,
            64 if cx.ptr == 8 => 8,
            _ => {
                let msg = format!("  Unknown pseudo relocation bit size {bits}.");
                fault(cx, out, i, rva, bits, import, &msg);
                continue;
            }
        };
        let (Some(old), Some(slot)) = (cx.read(rva, bytes), cx.read(sym, cx.ptr)) else {
            fault(cx, out, i, rva, bits, import, "the target or the symbol lies outside the image");
            continue;
        };
        // Sign-extend 8/16-bit, and 32-bit on Win64, to the pointer width.
        let ext = if bits < ptr_bits && old >> (bits - 1) & 1 == 1 { old | (mask << bits) } else { old } & mask;
        let addr_sym = cx.base.wrapping_add(sym) & mask;
        let new = ext.wrapping_sub(addr_sym).wrapping_add(slot) & mask;
        let binding = cx.binding_at(sym);
        let mut abort = None;
        let (status, reason) = if binding.is_some_and(|b| b.value.is_none()) {
            (
                Status::Unresolved,
                format!(
                    "the IAT slot at 0x{sym:x} is not bound ({}), so the runtime would add an unknown address",
                    binding.and_then(|b| b.note.clone()).unwrap_or_default()
                ),
            )
        } else if bits < ptr_bits && !fits(new, bits, cx.ptr) {
            abort = Some(format!(
                "{bits} bit pseudo relocation at {} out of range, targeting {}, yielding the value {}.",
                runtime_ptr(cx.base.wrapping_add(rva), cx.ptr == 8),
                runtime_ptr(slot, cx.ptr == 8),
                runtime_ptr(new, cx.ptr == 8)
            ));
            (
                Status::OutOfRange,
                format!(
                    "the {bits}-bit field would have to hold {}, outside [-2^{}, 2^{bits}-1]{}: the runtime prints its message and aborts",
                    signed_hex(sign(new, cx.ptr)),
                    bits - 1,
                    if bits == 32 { ", so the DLL is too far from the field (more than 2 GiB below or 4 GiB above)" } else { "" }
                ),
            )
        } else {
            let what = if bits < ptr_bits {
                let signed = sign(new, cx.ptr);
                let wraps = bits == 32 && signed > i64::from(i32::MAX);
                format!(
                    "{bits}-bit field: old {} - &slot 0x{addr_sym:x} + slot value 0x{slot:x} = {}{}",
                    signed_hex(sign(ext, cx.ptr)),
                    signed_hex(signed),
                    if wraps {
                        " (accepted by the runtime's unsigned range, but a sign-extended displacement reaches another address)"
                    } else {
                        ""
                    }
                )
            } else {
                format!("pointer: old 0x{old:x} - &slot 0x{addr_sym:x} + slot value 0x{slot:x} = 0x{new:x}")
            };
            writable_status(cx, rva, what)
        };
        let mut step = Step::new(i, rva, bits, status, reason);
        step.before = old;
        step.after = new & if bytes == 8 { u64::MAX } else { (1u64 << (bytes * 8)) - 1 };
        step.import = import;
        step.offset = e.slot_offset;
        let live = !cx.is_disabled(i) && out.failure.is_none();
        cx.commit(out, step, bytes);
        if let Some(message) = abort.filter(|_| live) {
            out.abort(i, message);
        }
    }
}

/// The runtime's range check: `new > 2^bits - 1` or `new < (UINTPTR_MAX << (bits - 1))`, signed.
fn fits(new: u64, bits: u32, ptr: usize) -> bool {
    let v = i128::from(sign(new, ptr));
    v < (1i128 << bits) && v >= -(1i128 << (bits - 1))
}

/// `v` as the runtime's signed `ptrdiff_t`.
fn sign(v: u64, ptr: usize) -> i64 {
    if ptr == 8 {
        v as i64
    } else {
        i64::from(v as u32 as i32)
    }
}

fn writable_status(cx: &Cx<'_>, rva: u64, what: String) -> (Status, String) {
    if cx.writable(rva) {
        (Status::Applied, what)
    } else {
        (
            Status::NeedsWritablePage,
            format!(
                "{what}; the field's section is not writable, so the runtime calls VirtualProtect around the write"
            ),
        )
    }
}

/// An item the runtime cannot apply: it faults (or reports an error) there and stops.
fn fault(cx: &mut Cx<'_>, out: &mut Outcome, i: usize, rva: u64, width: u32, import: Option<String>, why: &str) {
    let mut step = Step::new(i, rva, width, Status::Unresolved, why.trim().to_string());
    step.import = import;
    let live = !cx.is_disabled(i) && out.failure.is_none();
    cx.commit(out, step, 0);
    if live {
        out.abort(
            i,
            if why.starts_with("  ") {
                why.to_string()
            } else {
                format!("access violation: pseudo relocation {i}: {why}")
            },
        );
    }
}
