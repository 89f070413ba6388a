//! The places the loader, the runtime and the scheme write, each with the value it predicts
//! there (or "any value" when nothing can predict it): what a differing byte is checked against.

use super::{Cause, FileImage};
use crate::model::index::base_reloc_width;
use crate::model::Binary;
use crate::patch::{DllInput, PatchPlan, SchemeKind, Status};

/// What a claim predicts at its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// This little-endian value, `len` bytes wide.
    Value(u64),
    /// Any value: the writer's value cannot be predicted (an import whose DLL was not given, the
    /// security cookie, a CFG pointer into the system's DLLs, the TLS index).
    Any,
    /// An address in a loaded module's code: what an IFUNC resolver returns (checked, not
    /// predicted).
    Code,
}

/// Where a claim comes from (the index into its list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum From {
    /// The optional header's ImageBase.
    Header,
    /// `bin.base_relocations[i]`.
    Reloc(u32),
    /// `plan.bindings[i]`.
    Binding(u32),
    /// `bin.delay_imports[m].entries[e]`.
    Delay(u32, u32),
    /// A load-configuration field by name.
    LoadConfig(&'static str),
    /// The TLS directory's AddressOfIndex.
    TlsIndex,
    /// An ELF `.dynamic` entry's value, which ld.so rewrites in place: an address it moves by
    /// the load bias (false), or `DT_DEBUG`, where it writes its `r_debug` (true).
    Dynamic(bool),
    /// `plan.steps[i]`.
    Step(u32),
    /// `plan.steps[i]`, a slot ld.so fills with an IFUNC resolver's value.
    Ifunc(u32),
}

/// One place a writer claims, not a base relocation (those are looked up in the model's list).
#[derive(Debug, Clone, Copy)]
pub(super) struct Claim {
    /// RVA of the field.
    pub rva: u64,
    /// Its width in bytes (1–8).
    pub len: u8,
    /// Who writes it.
    pub from: From,
}

impl From {
    /// The cause the claim stands for.
    pub fn cause(self, scheme: SchemeKind) -> Cause {
        match self {
            From::Header => Cause::Header,
            From::Reloc(_) => Cause::BaseReloc,
            From::Binding(_) => Cause::Iat,
            From::Delay(..) => Cause::DelayIat,
            From::LoadConfig(_) => Cause::LoadConfig,
            From::TlsIndex => Cause::TlsIndex,
            From::Dynamic(_) => Cause::DynamicSection,
            From::Ifunc(_) => Cause::Ifunc,
            From::Step(_) => match scheme {
                SchemeKind::Mingw => Cause::PseudoReloc,
                SchemeKind::Elf => Cause::DynamicReloc,
                _ => Cause::SchemeStep,
            },
        }
    }

    /// Which writer wins where two claim a byte: the later one in the process's order (loader
    /// mapping, base relocation, binding, runtime, the scheme).
    pub fn stage(self) -> u8 {
        match self {
            From::Header => 0,
            From::Reloc(_) => 1,
            From::Binding(_) | From::Delay(..) => 2,
            From::LoadConfig(_) | From::TlsIndex | From::Dynamic(_) => 3,
            From::Step(_) | From::Ifunc(_) => 4,
        }
    }
}

/// The load-configuration fields that hold the address of a place the loader (or the CRT)
/// writes, with what it writes there.
const LOAD_CONFIG: [(&str, &str); 7] = [
    ("SecurityCookie", "the security cookie (a random value the loader or the CRT writes at start-up)"),
    ("GuardCFCheckFunctionPointer", "the CFG check-function pointer (the loader writes ntdll's check routine)"),
    (
        "GuardCFDispatchFunctionPointer",
        "the CFG dispatch-function pointer (the loader writes ntdll's dispatch routine)",
    ),
    ("GuardXFGCheckFunctionPointer", "the XFG check-function pointer (written by the loader)"),
    ("GuardXFGDispatchFunctionPointer", "the XFG dispatch-function pointer (written by the loader)"),
    ("GuardXFGTableDispatchFunctionPointer", "the XFG table-dispatch pointer (written by the loader)"),
    ("GuardRFVerifyStackPointerFunctionPointer", "the RFG stack-pointer check (written by the loader)"),
];

/// What a load-configuration field's place holds, in words.
pub(super) fn load_config_words(name: &str) -> &'static str {
    LOAD_CONFIG.iter().find(|(n, _)| *n == name).map_or("a load-configuration pointer", |(_, w)| w)
}

/// Every claim but the base relocations, sorted by RVA.
pub(super) fn claims(plan: &PatchPlan, bin: &Binary, file: &FileImage<'_>) -> Vec<Claim> {
    let ptr: u8 = if plan.is_64 { 8 } else { 4 };
    let preferred = bin.image_base.unwrap_or(0);
    let mut v = Vec::new();
    if bin.format.is_pe() {
        if let Some(at) = image_base_field(file, plan.is_64) {
            v.push(Claim { rva: at, len: ptr, from: From::Header });
        }
    }
    for (i, b) in plan.bindings.iter().enumerate() {
        v.push(Claim { rva: b.slot_rva, len: ptr, from: From::Binding(i as u32) });
    }
    for (m, module) in bin.delay_imports.iter().enumerate() {
        for (e, entry) in module.entries.iter().enumerate() {
            v.push(Claim { rva: entry.iat_rva, len: ptr, from: From::Delay(m as u32, e as u32) });
        }
    }
    if let Some(pe) = &bin.pe {
        if let Some(lc) = &pe.load_config {
            for (name, va) in &lc.fields {
                let Some(&(n, _)) = LOAD_CONFIG.iter().find(|(n, _)| n == name) else { continue };
                if *va != 0 && *va >= preferred {
                    v.push(Claim { rva: va - preferred, len: ptr, from: From::LoadConfig(n) });
                }
            }
        }
        if let Some(tls) = &pe.tls {
            if tls.address_of_index != 0 && tls.address_of_index >= preferred {
                v.push(Claim { rva: tls.address_of_index - preferred, len: 4, from: From::TlsIndex });
            }
        }
    }
    if bin.format.is_elf() {
        dynamic(bin, file, ptr, plan.image().base != bin.image_base.unwrap_or(0), &mut v);
    }
    for (i, s) in plan.steps.iter().enumerate() {
        let len = (s.width / 8).min(8) as u8;
        if len > 0 && s.ifunc.is_some() && s.enabled {
            v.push(Claim { rva: s.target_rva, len, from: From::Ifunc(i as u32) });
            continue;
        }
        if len == 0 || !(s.written || s.status == Status::Unresolved) {
            continue;
        }
        v.push(Claim { rva: s.target_rva, len, from: From::Step(i as u32) });
    }
    v.sort_by_key(|c| (c.rva, c.from.stage()));
    v
}

/// `DT_DEBUG`: ld.so writes the address of its `r_debug` there.
const DT_DEBUG: u64 = 21;
/// The tags whose address ld.so moves by the load bias in place (glibc's `elf_get_dynamic_info`,
/// when the section is writable): `DT_PLTGOT`, `DT_HASH`, `DT_STRTAB`, `DT_SYMTAB`, `DT_RELA`,
/// `DT_REL`, `DT_JMPREL`, `DT_VERSYM`, `DT_GNU_HASH`.
const DT_MOVED: [u64; 9] = [3, 4, 5, 6, 7, 17, 23, 0x6fff_fff0, 0x6fff_fef5];
/// Entries of `.dynamic` read at most.
const MAX_DYNAMIC: u64 = 4096;

/// The claims of ld.so's writes into `.dynamic` (the moved addresses only when the module
/// moved).
fn dynamic(bin: &Binary, file: &FileImage<'_>, ptr: u8, moved: bool, v: &mut Vec<Claim>) {
    let Some(sec) = bin.sections.iter().find(|s| s.name == ".dynamic" && s.is_write) else { return };
    let p = u64::from(ptr);
    let entries = (sec.virtual_size / (2 * p)).min(MAX_DYNAMIC);
    for k in 0..entries {
        let at = sec.rva + k * 2 * p;
        let Some(tag) = file.read(at, usize::from(ptr)) else { return };
        if tag == 0 {
            return;
        }
        if tag == DT_DEBUG || (moved && DT_MOVED.contains(&tag)) {
            v.push(Claim { rva: at + p, len: ptr, from: From::Dynamic(tag == DT_DEBUG) });
        }
    }
}

/// RVA of the optional header's ImageBase field (the loader may write the load base there).
fn image_base_field(file: &FileImage<'_>, is_64: bool) -> Option<u64> {
    let lfanew = file.read(0x3c, 4)?;
    // Signature (4), file header (20), then ImageBase at 0x18 (PE32+) or 0x1c (PE32).
    lfanew.checked_add(24)?.checked_add(if is_64 { 0x18 } else { 0x1c })
}

/// What claim `c` predicts, `c.len` bytes at its place.
pub(super) fn want(
    c: Claim,
    plan: &PatchPlan,
    bin: &Binary,
    file: &FileImage<'_>,
    dlls: &[DllInput<'_>],
    delta: u64,
) -> Want {
    match c.from {
        From::Header => Want::Value(plan.image().base),
        From::Reloc(i) => {
            let Some(r) = bin.base_relocations.get(i as usize) else { return Want::Any };
            let width = base_reloc_width(r.raw_type) as usize;
            match file.read(r.rva, width) {
                Some(v) => Want::Value(relocated(r.raw_type, v, delta, r.param)),
                None => Want::Any,
            }
        }
        From::Binding(i) => match plan.bindings.get(i as usize).and_then(|b| b.value) {
            Some(v) => Want::Value(v),
            None => Want::Any,
        },
        From::Delay(m, e) => {
            let Some(module) = bin.delay_imports.get(m as usize) else { return Want::Any };
            let Some(entry) = module.entries.get(e as usize) else { return Want::Any };
            match entry.name.as_deref().and_then(|n| export_address(plan, dlls, &module.dll, n)) {
                Some(v) => Want::Value(v),
                None => Want::Any,
            }
        }
        From::LoadConfig(_) | From::TlsIndex => Want::Any,
        From::Dynamic(true) => Want::Any,
        From::Dynamic(false) => match file.read(c.rva, usize::from(c.len)) {
            Some(v) => Want::Value(v.wrapping_add(delta)),
            None => Want::Any,
        },
        From::Step(i) => match plan.steps.get(i as usize) {
            Some(s) if s.written => Want::Value(s.after),
            _ => Want::Any,
        },
        From::Ifunc(_) => Want::Code,
    }
}

/// A field of base-relocation type `raw_type` holding `v` in the file, after a move by `delta`
/// (as [`crate::patch::load::apply_base_relocs`] computes it).
pub(super) fn relocated(raw_type: u8, v: u64, delta: u64, param: Option<u16>) -> u64 {
    match raw_type {
        1 => v.wrapping_add(delta >> 16),
        4 => {
            let low = i64::from(param.unwrap_or(0) as i16);
            let full = ((v as i64) << 16).wrapping_add(low).wrapping_add(delta as i64).wrapping_add(0x8000);
            (full >> 16) as u64
        }
        _ => v.wrapping_add(delta),
    }
}

/// The address of `dll!name` among the placed DLLs whose files were given (no forwarders).
pub(super) fn export_address(plan: &PatchPlan, dlls: &[DllInput<'_>], dll: &str, name: &str) -> Option<u64> {
    let (m, d) = placed(plan, dlls, dll)?;
    let e = d.bin.exports.iter().find(|e| e.name.as_deref() == Some(name) && e.forwarder.is_none())?;
    Some(m.base.wrapping_add(e.rva))
}

/// The placed module imported as `dll` and its file.
pub(super) fn placed<'p, 'd>(
    plan: &'p PatchPlan,
    dlls: &'d [DllInput<'d>],
    dll: &str,
) -> Option<(&'p crate::patch::LoadedModule, &'d DllInput<'d>)> {
    let m = plan.modules.iter().skip(1).find(|m| m.name.eq_ignore_ascii_case(dll))?;
    let d = dlls.iter().find(|d| module_file(m, d))?;
    Some((m, d))
}

/// Whether `d` is the file of placed module `m`.
pub(super) fn module_file(m: &crate::patch::LoadedModule, d: &DllInput<'_>) -> bool {
    m.path.as_deref() == Some(d.path) || crate::patch::load::dll_name_matches(d, &m.name)
}
