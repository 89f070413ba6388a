//! ELF: the dynamic relocations as ld.so applies them with `LD_BIND_NOW` (`RELATIVE`,
//! `GLOB_DAT`, `JUMP_SLOT`, `64` / `32`, `COPY`). Symbols are looked up in the global scope: the
//! executable first, then the shared objects in load order, so a symbol the executable copied
//! (`COPY`) binds every module to the copy, and no field ever has to reach into a far-away
//! shared object. Shared objects are relocated first, as ld.so does, so a copy takes their
//! relocated bytes.

use super::{ifunc, load, read_le, write_le, Cx, DllInput, Outcome, Scheme, SchemeKind, Status, Step, Unresolved};
use crate::analysis::namer::signed_hex;
use crate::model::{Binary, Binding, RelocKind, Relocation};

/// The ELF scheme.
pub struct Elf;

/// One module of the lookup scope.
struct Module<'a> {
    name: &'a str,
    bin: &'a Binary,
    /// Load bias: base minus the lowest `PT_LOAD` vaddr.
    bias: u64,
    /// Base (where the lowest vaddr lands).
    base: u64,
    /// Position in the plan's modules (0: the image).
    module: usize,
}

/// Where a symbol is defined in the scope.
#[derive(Debug, Clone)]
struct Found {
    /// Its address (an IFUNC: its resolver's).
    addr: u64,
    /// The defining module's name.
    module: String,
    /// … and its position in the plan's modules.
    index: usize,
    /// The symbol's size.
    size: Option<u64>,
    /// Whether the definition is `STT_GNU_IFUNC` (ld.so then writes what its resolver returns).
    ifunc: bool,
}

/// Where symbol `name` is defined in the scope.
fn lookup(scope: &[Module<'_>], name: &str) -> Option<Found> {
    lookup_skipping(scope, name, usize::MAX)
}

/// [`lookup`] past module `skip` (a `COPY` looks for the definition it copies, not its own).
fn lookup_skipping(scope: &[Module<'_>], name: &str, skip: usize) -> Option<Found> {
    for m in scope.iter().filter(|m| m.module != skip) {
        if m.bin.elf.as_ref().is_some_and(|e| e.file_type.starts_with("EXEC") || e.file_type.starts_with("DYN")) {
            let found = |addr: u64, size: Option<u64>| Found {
                addr,
                module: m.name.to_string(),
                index: m.module,
                size,
                ifunc: ifunc::defines_ifunc(m.bin, name),
            };
            if let Some(e) = m.bin.exports.iter().find(|e| e.name.as_deref() == Some(name)) {
                let size = m.bin.symbols.iter().find(|s| s.name == name && s.section.is_some()).and_then(|s| s.size);
                return Some(found(m.base.wrapping_add(e.rva), size));
            }
            // An executable exports nothing in the model; its defined dynamic symbols still
            // come first in the scope.
            if let Some(s) = m.bin.symbols.iter().find(|s| {
                s.name == name
                    && s.section.is_some()
                    && matches!(s.binding, Binding::Global | Binding::Weak)
                    && s.value != 0
            }) {
                return Some(found(m.bias.wrapping_add(s.value), s.size));
            }
        }
    }
    None
}

impl Scheme for Elf {
    fn kind(&self) -> SchemeKind {
        SchemeKind::Elf
    }

    fn detect(&self, bin: &Binary) -> bool {
        bin.format.is_elf() && bin.relocations.iter().any(|r| r.dynamic)
    }

    fn run(&self, cx: &mut Cx<'_>) -> Outcome {
        let mut out = Outcome::default();
        let pref = cx.bin.image_base.unwrap_or(0);
        let main_name = cx.modules[0].name.clone();
        // The global scope: the executable first (the image, or a given executable when the
        // image is a shared object), then the others in load order.
        let mut scope =
            vec![Module { name: &main_name, bin: cx.bin, bias: cx.base.wrapping_sub(pref), base: cx.base, module: 0 }];
        for (k, d) in cx.dlls.iter().enumerate() {
            if let Some(d) = d {
                let m = &cx.modules[k + 1];
                let p = d.bin.image_base.unwrap_or(0);
                let module =
                    Module { name: &m.name, bin: d.bin, bias: m.base.wrapping_sub(p), base: m.base, module: k + 1 };
                if is_executable(d.bin) && !is_executable(cx.bin) {
                    scope.insert(0, module);
                } else {
                    scope.push(module);
                }
            }
        }
        let mut dso_mem: Vec<(usize, Vec<u8>)> = Vec::new();
        // Shared objects first (ld.so relocates dependencies before the executable).
        for (k, d) in cx.dlls.iter().enumerate() {
            let Some(d) = d else { continue };
            if is_executable(d.bin) {
                continue;
            }
            match load::map(d.bin, d.data) {
                Ok(mut mem) => {
                    let m = &cx.modules[k + 1];
                    let bias = m.base.wrapping_sub(d.bin.image_base.unwrap_or(0));
                    relocate_dso(d, &mut mem, bias, &scope);
                    dso_mem.push((k + 1, mem));
                }
                Err(e) => out.notes.push(format!("{}: {e}", d.path)),
            }
        }
        let relocs: Vec<Relocation> = cx.bin.relocations.iter().filter(|r| r.dynamic).cloned().collect();
        for (i, r) in relocs.iter().enumerate() {
            let rva = r.offset;
            let bytes = if r.normalized == RelocKind::Copy { 0 } else { usize::from(r.width / 8).clamp(1, 8) };
            let old = if bytes > 0 { cx.read(rva, bytes).unwrap_or(0) } else { 0 };
            let sym = r.symbol.as_deref();
            let found = sym.and_then(|s| {
                if r.normalized == RelocKind::Copy {
                    lookup_skipping(&scope, s, 0)
                } else {
                    lookup(&scope, s)
                }
            });
            let section = cx.section_name(rva);
            let import = sym.map(|s| match &found {
                Some(f) => format!("{}!{s}", f.module),
                None => s.to_string(),
            });
            let bias = cx.base.wrapping_sub(pref);
            if let Some(f) = resolved_by_ifunc(r, found.as_ref(), cx.bin, bias, &main_name) {
                let mut step = Step::new(
                    i,
                    rva,
                    u32::from(r.width),
                    Status::Applied,
                    format!(
                        "{}: {}: ld.so calls its resolver at 0x{:x} and writes what it returns{}; that depends on the CPU, so no file predicts it (a value in a loaded module's code is accepted)",
                        r.kind,
                        f.describe(),
                        f.resolver,
                        if f.addend == 0 { String::new() } else { format!(" + addend {}", signed_hex(f.addend)) }
                    ),
                );
                step.section = section;
                step.before = old;
                step.after = old;
                step.import = import;
                step.offset = step.import.is_some().then_some(r.addend);
                step.enabled = !cx.is_disabled(i);
                step.ifunc = Some(f);
                out.steps.push(step);
                continue;
            }
            let mut after = old;
            let mut copy_from: Option<(usize, u64, u64)> = None;
            let (status, reason) = match (r.normalized, &found) {
                (RelocKind::Relative, _) => {
                    after = bias.wrapping_add(r.addend as u64);
                    (Status::Applied, format!("RELATIVE: load bias 0x{bias:x}, addend {}", signed_hex(r.addend)))
                }
                (RelocKind::GlobDat | RelocKind::JumpSlot, Some(Found { addr: a, module: m, .. })) => {
                    after = *a;
                    let copied = m == &main_name
                        && cx
                            .bin
                            .elf
                            .as_ref()
                            .is_some_and(|e| e.copy_relocations.iter().any(|c| Some(c.symbol.as_str()) == sym));
                    (
                        Status::Applied,
                        if copied {
                            format!("{}: binds to the executable's own copy at 0x{a:x} (a COPY relocation moved the object here, so every module uses it and nothing has to reach the shared object)", r.kind)
                        } else {
                            format!("{}: the address of {} in {m}", r.kind, sym.unwrap_or("?"))
                        },
                    )
                }
                (RelocKind::Absolute, Some(Found { addr: a, module: m, .. })) => {
                    after = a.wrapping_add(r.addend as u64);
                    (
                        Status::Applied,
                        format!(
                            "{}: {} in {m}, addend {}: an explicit addend, never guessed",
                            r.kind,
                            sym.unwrap_or("?"),
                            signed_hex(r.addend)
                        ),
                    )
                }
                (RelocKind::Absolute, None) if sym.is_none() => {
                    after = bias.wrapping_add(r.addend as u64);
                    (Status::Applied, format!("{} without a symbol: bias + addend", r.kind))
                }
                (RelocKind::Copy, Some(Found { addr: a, module: m, size, .. })) => {
                    let size = size
                        .or_else(|| {
                            cx.bin.elf.as_ref().and_then(|e| {
                                e.copy_relocations.iter().find(|c| Some(c.symbol.as_str()) == sym).and_then(|c| c.size)
                            })
                        })
                        .unwrap_or(0);
                    match scope.iter().find(|s| s.name == m.as_str() && s.module != 0) {
                        None => {
                            (Status::Unresolved, format!("COPY of {}: no shared object defines it", sym.unwrap_or("?")))
                        }
                        Some(owner) => {
                            copy_from = Some((owner.module, a.wrapping_sub(owner.base), size));
                            (Status::Applied, format!("COPY: {size} bytes of {} from {m} (0x{a:x}) into the executable, which then owns the object", sym.unwrap_or("?")))
                        }
                    }
                }
                (RelocKind::GlobDat | RelocKind::JumpSlot | RelocKind::Absolute | RelocKind::Copy, None) => {
                    let s = sym.unwrap_or("?");
                    out.unresolved.push(Unresolved {
                        import: s.to_string(),
                        slot_rva: rva,
                        reason: "no given module defines it".into(),
                    });
                    (Status::Unresolved, format!("{}: {s} is defined by none of the given shared objects", r.kind))
                }
                _ => {
                    out.notes.push(format!("{} relocations are not simulated", r.kind));
                    (Status::Unresolved, format!("{} is not simulated", r.kind))
                }
            };
            let mut width = u32::from(r.width);
            let enabled = !cx.is_disabled(i);
            let mut written = false;
            if status == Status::Applied && enabled {
                written = true;
                if let Some((owner, src, size)) = copy_from {
                    let mem = dso_mem.iter().find(|(k, _)| *k == owner).map(|(_, m)| m);
                    let n = usize::try_from(size).unwrap_or(0);
                    let bytes = mem.and_then(|m| m.get(src as usize..(src as usize).saturating_add(n)));
                    match bytes {
                        Some(b) => {
                            let b = b.to_vec();
                            cx.write_bytes(rva, &b);
                            after = read_le(&b, 0, b.len().min(8)).unwrap_or(0);
                            width = (b.len() * 8) as u32;
                        }
                        None => {
                            out.notes.push(format!("COPY of {}: the source is outside its module", sym.unwrap_or("?")))
                        }
                    }
                } else if !cx.write(rva, bytes, after) {
                    written = false;
                    out.notes.push(format!("relocation at 0x{rva:x} lies outside the image"));
                }
            }
            let mut step = Step::new(i, rva, width, status, reason);
            step.section = section;
            step.before = old;
            step.after = after;
            step.import = import;
            // The addend is the offset into the symbol the step targets (0 included).
            step.offset = step.import.is_some().then_some(r.addend);
            step.enabled = enabled;
            step.written = written;
            out.steps.push(step);
        }
        out.notes.dedup();
        if !out.unresolved.is_empty() {
            out.notes.push(format!(
                "{} relocations name symbols none of the given shared objects define",
                out.unresolved.len()
            ));
        }
        out
    }
}

/// The IFUNC a relocation takes its value from, as glibc's `elf_machine_rela` decides: an
/// `IRELATIVE` (its resolver at load bias + addend, in the image), or a `GLOB_DAT` / `JUMP_SLOT` /
/// absolute relocation whose symbol's definition (`found`) is `STT_GNU_IFUNC`.
fn resolved_by_ifunc(
    r: &Relocation,
    found: Option<&Found>,
    image: &Binary,
    bias: u64,
    image_name: &str,
) -> Option<ifunc::Ifunc> {
    if r.kind.ends_with("_IRELATIVE") {
        return Some(ifunc::Ifunc {
            symbol: ifunc::ifunc_at(image, r.addend as u64),
            module: image_name.to_string(),
            module_index: 0,
            resolver: bias.wrapping_add(r.addend as u64),
            addend: 0,
        });
    }
    let f = found.filter(|f| f.ifunc)?;
    if !matches!(r.normalized, RelocKind::GlobDat | RelocKind::JumpSlot | RelocKind::Absolute) {
        return None;
    }
    Some(ifunc::Ifunc {
        symbol: r.symbol.clone(),
        module: f.module.clone(),
        module_index: f.index,
        resolver: f.addr,
        addend: r.addend,
    })
}

/// Whether `bin` is a program (not a library): `ET_EXEC`, or `ET_DYN` with an interpreter (PIE).
fn is_executable(bin: &Binary) -> bool {
    bin.elf.as_ref().is_some_and(|e| e.file_type.starts_with("EXEC") || e.interpreter.is_some())
}

/// Apply a shared object's own relocations (so that what the executable copies is relocated).
fn relocate_dso(d: &DllInput<'_>, mem: &mut [u8], bias: u64, scope: &[Module<'_>]) {
    for r in d.bin.relocations.iter().filter(|r| r.dynamic) {
        let bytes = usize::from(r.width / 8).clamp(1, 8);
        let value = match r.normalized {
            RelocKind::Relative => Some(bias.wrapping_add(r.addend as u64)),
            RelocKind::GlobDat | RelocKind::JumpSlot => {
                r.symbol.as_deref().and_then(|s| lookup(scope, s)).map(|f| f.addr)
            }
            RelocKind::Absolute => match r.symbol.as_deref() {
                Some(s) => lookup(scope, s).map(|f| f.addr.wrapping_add(r.addend as u64)),
                None => Some(bias.wrapping_add(r.addend as u64)),
            },
            _ => None,
        };
        if let Some(v) = value {
            write_le(mem, r.offset, bytes, v);
        }
    }
}
