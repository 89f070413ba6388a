//! D's `.reldata` list (Win32; the section name is also used by old PowerPC PE files, so only
//! i386 images count): `{void** adr; size_t symbolOff}` pairs. For each, the field at `adr`
//! holds the address of an IAT slot (`&__imp_var`, relocated by the loader); the runtime stores
//! `*slot + symbolOff` there: `*adr = **adr + symbolOff`.

use super::{Cx, Outcome, Scheme, SchemeKind, Status, Step};
use crate::analysis::namer::signed_hex;
use crate::model::Binary;

/// The `.reldata` scheme.
pub struct Reldata;

fn section(bin: &Binary) -> Option<&crate::model::Section> {
    (bin.arch == crate::model::Arch::X86).then(|| bin.sections.iter().find(|s| s.name == ".reldata")).flatten()
}

impl Scheme for Reldata {
    fn kind(&self) -> SchemeKind {
        SchemeKind::Reldata
    }

    fn detect(&self, bin: &Binary) -> bool {
        section(bin).is_some_and(|s| s.virtual_size.max(s.file_size) >= 8)
    }

    fn run(&self, cx: &mut Cx<'_>) -> Outcome {
        let mut out = Outcome::default();
        let Some(s) = section(cx.bin) else {
            out.notes.push("no .reldata section in an i386 image".into());
            return out;
        };
        let (start, size) = (s.rva, s.virtual_size.min(s.file_size.max(s.virtual_size)));
        let mut at = start;
        while at + 8 <= start + size {
            let (adr, off) = (cx.read(at, 4).unwrap_or(0), cx.read(at + 4, 4).unwrap_or(0));
            at += 8;
            if adr == 0 {
                continue;
            }
            let Some(field) = adr.checked_sub(cx.base) else {
                out.steps.push(outside(out.steps.len(), adr));
                continue;
            };
            redirect(cx, &mut out, field, 4, off as u32 as i32 as i64, at - 8);
        }
        out
    }
}

/// One explicit-list record: the pointer-wide field at `field` holds the address of an IAT
/// slot; store that slot's value plus `offset`. `record` is the record's RVA (for the reason).
pub(super) fn redirect(cx: &mut Cx<'_>, out: &mut Outcome, field: u64, bytes: usize, offset: i64, record: u64) {
    let index = out.steps.len();
    let Some(old) = cx.read(field, bytes) else {
        out.steps.push(outside(index, cx.base.wrapping_add(field)));
        return;
    };
    let slot = old.wrapping_sub(cx.base);
    let binding = cx.index.iat_slot_at(slot, cx.ptr as u64).and_then(|(start, _)| cx.binding_at(start));
    let slot_value = cx.read(slot, cx.ptr);
    let mask = if bytes == 8 { u64::MAX } else { 0xffff_ffff };
    let new = slot_value.unwrap_or(0).wrapping_add(offset as u64) & mask;
    let import = binding.map(|b| b.import.clone());
    let (status, reason) = if slot_value.is_none() {
        (
            Status::Unresolved,
            format!("the field holds 0x{old:x}, which is not an address inside the image: the runtime would fault"),
        )
    } else if binding.is_some_and(|b| b.value.is_none()) {
        (Status::Unresolved, "the IAT slot the field points at is not bound".to_string())
    } else {
        let plus = if offset == 0 { String::new() } else { format!(" {}", signed_hex(offset)) };
        let what = match &import {
            Some(i) => format!("record at 0x{record:x}: the field points at the IAT slot of {i}; it becomes the slot's value{plus}"),
            None => format!(
                "record at 0x{record:x}: the field holds 0x{old:x}, which is not an IAT slot; the runtime still stores *(0x{old:x}){plus}"
            ),
        };
        (if cx.writable(field) { Status::Applied } else { Status::NeedsWritablePage }, what)
    };
    let mut step = Step::new(index, field, (bytes * 8) as u32, status, reason);
    step.before = old;
    step.after = new;
    step.import = import;
    step.offset = Some(offset);
    cx.commit(out, step, bytes);
}

fn outside(index: usize, va: u64) -> Step {
    Step::new(
        index,
        va,
        0,
        Status::Unresolved,
        format!("the record names 0x{va:x}, outside the image: the runtime would fault"),
    )
}
