//! lld-link's delay-load imports (`/delayload:dll`; lld's `DelayLoadContents`): the imports of a
//! delay-loaded DLL leave the import tables; per DLL lld makes a delay directory entry (32 bytes,
//! a null one after the last), a name table (a pointer per import, 8 null bytes), hint/name
//! entries and the DLL's name in `.didat` (merged into `.rdata`); a module handle (8 bytes) and a
//! delay IAT (a pointer per import, 8 null bytes) in `.data`; and in `.text`, after the import
//! thunks, a thunk per import (`lea rax, [slot]; jmp tail` / `mov eax, slot; jmp tail`) and the
//! DLL's tail-merge stub, which calls `__delayLoadHelper2`.

use super::args::Machine;
use super::layout::Origin;
use super::resolve::{ObjId, World};
use crate::model::ImportObject;

/// Whether `dll` is delay-loaded (`/delayload:` names it, in any case).
pub fn delayed(w: &World, dll: &str) -> bool {
    w.cfg.delay_loads.iter().any(|d| d.eq_ignore_ascii_case(dll))
}

/// The helper lld asks for when any DLL is delay-loaded (a GC root that must be defined).
pub fn helper(machine: Machine) -> &'static str {
    match machine {
        Machine::X64 => "__delayLoadHelper2",
        Machine::X86 => "___delayLoadHelper2@8",
    }
}

/// One chunk: (output section, origin, name, size, alignment, has bytes).
pub type DelayChunk = (&'static str, Origin, String, u64, u64, bool);

/// The chunks lld makes for the delay-loaded imports, grouped as `import_tables` groups them
/// (DLLs in the order of their first import, each DLL's imports sorted by name), in the order
/// lld adds them to each output section.
pub fn chunks(w: &World, dlls: &[(String, Vec<&ImportObject>)]) -> Vec<DelayChunk> {
    if dlls.is_empty() {
        return Vec::new();
    }
    let x64 = w.machine == Machine::X64;
    let ptr = if x64 { 8 } else { 4 };
    let syn = |sec: &'static str, name: String, size: u64, align: u64, data: bool| {
        (sec, Origin::Synthetic("delay-load imports"), name, size, align, data)
    };
    let (mut dirs, mut names, mut hints, mut dll_names) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut handles, mut addresses, mut code) = (Vec::new(), Vec::new(), Vec::new());
    for (dll, list) in dlls {
        dll_names.push(syn(".didat", format!("delay DLL name {dll}"), dll.len() as u64 + 1, 1, true));
        dirs.push(syn(".didat", format!("delay directory {dll}"), 32, 1, true));
        for imp in list {
            let shown = super::layout::import_shown(imp);
            code.push(syn(".text", format!("delay thunk {dll}!{shown}"), if x64 { 12 } else { 10 }, 1, true));
            addresses.push(syn(".data", format!("delay IAT {dll}!{shown}"), ptr, ptr, true));
            names.push(syn(".didat", format!("delay name table {dll}!{shown}"), ptr, ptr, true));
            if let Some(size) = super::layout::hint_name_size(imp) {
                hints.push(syn(".didat", format!("delay hint/name {shown}"), size, 2, true));
            }
        }
        code.push(syn(".text", format!("delay tail merge {dll}"), if x64 { 83 } else { 17 }, 1, true));
        addresses.push(syn(".data", format!("delay IAT {dll} end"), 8, 1, false));
        names.push(syn(".didat", format!("delay name table {dll} end"), 8, 1, false));
        handles.push(syn(".data", format!("delay module handle {dll}"), 8, 8, false));
    }
    dirs.push(syn(".didat", "delay directory end".into(), 32, 1, false));
    let mut out = dirs;
    out.extend(names);
    out.extend(hints);
    out.extend(dll_names);
    out.extend(handles);
    out.extend(addresses);
    out.extend(code);
    out
}

/// The fields of the delay-load chunks the loader relocates: each delay IAT slot (it holds its
/// thunk's address), and on i386 the thunks' slot address and the tail merges' descriptor.
pub fn base_reloc_field(machine: Machine, name: &str, rva: u64) -> Option<u64> {
    if name.starts_with("delay IAT ") && !name.ends_with(" end") {
        return Some(rva);
    }
    match machine {
        Machine::X86 if name.starts_with("delay thunk ") => Some(rva + 1),
        Machine::X86 if name.starts_with("delay tail merge ") => Some(rva + 4),
        _ => None,
    }
}

/// The delay-loaded imports for the report: `dll!name` and the RVA of its delay IAT slot.
pub fn slot_name(chunk_name: &str) -> Option<&str> {
    chunk_name.strip_prefix("delay IAT ").filter(|n| !n.ends_with(" end"))
}

/// Whether import member `obj` is delay-loaded.
pub fn member_delayed(w: &World, obj: ObjId) -> bool {
    w.objs[obj.0].bin.import_object.as_ref().is_some_and(|i| delayed(w, &i.dll))
}
