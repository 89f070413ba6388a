//! ELF slots ld.so fills from an IFUNC resolver (glibc `elf/dl-machine.h`): a `GLOB_DAT`,
//! `JUMP_SLOT` or absolute relocation whose symbol's definition is `STT_GNU_IFUNC` gets
//! `resolver() + r_addend`, an `IRELATIVE` gets `resolver(load bias + r_addend)`. What a resolver
//! returns depends on the CPU it runs on, so no file predicts the value: the plan records the
//! slot ([`Ifunc`]) and the checks accept a value that lands in the code of a loaded module, and
//! say where ([`Landing`]). A value in no module's code is what a hooked slot looks like.

use serde::Serialize;

use super::{DllInput, LoadedModule, PatchPlan};
use crate::model::{Binary, SymbolKind};

/// A slot ld.so writes with what an IFUNC resolver returns.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ifunc {
    /// The IFUNC symbol (`lib_pick`, `strlen`; an `IRELATIVE`: the IFUNC symbol whose value is
    /// the resolver, when the module names it), else None.
    pub symbol: Option<String>,
    /// The module that defines it (where its resolver runs).
    pub module: String,
    /// Its position in the plan's modules (0: the image).
    #[serde(skip)]
    pub module_index: usize,
    /// The resolver's address (the symbol's value; an `IRELATIVE`: load bias + addend).
    pub resolver: u64,
    /// Added to the resolver's value (`GLOB_DAT` / `JUMP_SLOT` / `64`: the addend; 0 for an
    /// `IRELATIVE`).
    pub addend: i64,
}

impl Ifunc {
    /// The slot's name in words: `IFUNC lib_pick (libifunc.so)`.
    pub fn describe(&self) -> String {
        match &self.symbol {
            Some(s) => format!("IFUNC {s} ({})", self.module),
            None => format!("IFUNC resolved by 0x{:x} ({})", self.resolver, self.module),
        }
    }
}

/// Where a slot's value lands among the plan's modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landing {
    /// The module holding the address (position in the plan's modules), if any.
    pub module: Option<usize>,
    /// Whether it lies in that module's code.
    pub in_code: bool,
}

impl Landing {
    /// Whether a resolver can have returned it: code of a loaded module.
    pub fn plausible(&self) -> bool {
        self.in_code
    }
}

/// Where `value` (a slot's content, the addend taken off) lands.
pub fn landing(modules: &[LoadedModule], value: u64) -> Landing {
    match modules.iter().position(|m| m.contains(value) || m.in_code(value)) {
        Some(i) => Landing { module: Some(i), in_code: modules[i].in_code(value) },
        None => Landing { module: None, in_code: false },
    }
}

/// What the slot of `f` holding `value` says, in words (`what` names the slot: `GOT slot`): the
/// resolver, where the value lands (`module!symbol+0xN`), and whether that is the module that
/// defines the IFUNC. `image` is the plan's image, `dlls` the files of the other modules.
pub fn explain(f: &Ifunc, value: u64, plan: &PatchPlan, image: &Binary, dlls: &[DllInput<'_>]) -> String {
    let target = value.wrapping_sub(f.addend as u64);
    let l = landing(&plan.modules, target);
    let resolver = name_va(f.resolver, plan, image, dlls);
    let at = name_va(target, plan, image, dlls);
    let mut s = if l.plausible() {
        format!("{}: ld.so called its resolver {resolver} and wrote what it returned, 0x{value:x} = {at}", f.describe())
    } else {
        format!("the slot of {} (resolver {resolver}) holds 0x{value:x} = {at}", f.describe())
    };
    if f.addend != 0 {
        s.push_str(&format!(" (+ addend {})", crate::analysis::namer::signed_hex(f.addend)));
    }
    match (l.module, l.in_code) {
        (Some(m), true) if m == f.module_index => {
            s.push_str(&format!(": code of {}, the module that defines it", f.module))
        }
        (Some(m), true) => {
            s.push_str(&format!(": code of {}, not {}, the module that defines it", plan.modules[m].name, f.module))
        }
        (Some(m), false) => {
            s.push_str(&format!(": inside {} but not in its code, which no resolver returns", plan.modules[m].name))
        }
        (None, _) => s.push_str(": in no loaded module's code, which no resolver returns"),
    }
    s
}

/// `va` named as `module!symbol+0xN` by the module's symbols (ELF: its `.symtab` when kept, else
/// `.dynsym`), a symbol only when `va` lies inside it (its size known) or at its start; else
/// `module+0xN`; else the address.
pub fn name_va(va: u64, plan: &PatchPlan, image: &Binary, dlls: &[DllInput<'_>]) -> String {
    use crate::model::ElfSymbolType;
    let Some((i, m)) = plan.modules.iter().enumerate().find(|(_, m)| m.contains(va)) else {
        return format!("0x{va:x} (in no loaded module)");
    };
    let rva = va - m.base;
    let file = |d: &&DllInput<'_>| m.path.as_deref() == Some(d.path) || super::load::dll_name_matches(d, &m.name);
    let bin = if i == 0 { Some(image) } else { dlls.iter().find(file).map(|d| d.bin) };
    let Some(bin) = bin else { return format!("{}+0x{rva:x}", m.name) };
    let low = if bin.format.is_elf() {
        bin.segments.iter().filter(|s| s.kind == crate::model::SegmentKind::Load).map(|s| s.vaddr).min().unwrap_or(0)
    } else {
        bin.image_base.unwrap_or(0)
    };
    let at = rva.wrapping_add(if bin.format.is_elf() { low } else { 0 });
    let best = bin
        .symbols
        .iter()
        .filter(|s| s.section.is_some() && !s.name.is_empty() && is_code_symbol(s.kind) && s.value <= at)
        .filter(|s| s.value == at || s.size.is_some_and(|n| at - s.value < n))
        // At one address, a function's own name before an IFUNC's (whose value is its resolver).
        .max_by_key(|s| {
            (
                s.value,
                !matches!(s.kind, SymbolKind::Ifunc | SymbolKind::Dynamic(ElfSymbolType::Ifunc)),
                s.size.is_some(),
            )
        });
    match best {
        Some(s) => format!("{}!{}+0x{:x}", m.name, s.name, at - s.value),
        None => format!("{}+0x{rva:x}", m.name),
    }
}

/// Whether a symbol of `kind` names code (a function or an IFUNC, in either symbol table).
pub fn is_code_symbol(kind: SymbolKind) -> bool {
    use crate::model::ElfSymbolType;
    matches!(
        kind,
        SymbolKind::Function
            | SymbolKind::Ifunc
            | SymbolKind::Dynamic(ElfSymbolType::Function)
            | SymbolKind::Dynamic(ElfSymbolType::Ifunc)
    )
}

/// Whether `bin` defines `name` as an IFUNC (`STT_GNU_IFUNC`, in either symbol table).
pub fn defines_ifunc(bin: &Binary, name: &str) -> bool {
    use crate::model::ElfSymbolType;
    bin.symbols.iter().any(|s| {
        s.name == name
            && s.section.is_some()
            && matches!(s.kind, SymbolKind::Ifunc | SymbolKind::Dynamic(ElfSymbolType::Ifunc))
    })
}

/// The IFUNC symbol of `bin` whose value (its resolver) is `vaddr`: what an `IRELATIVE` with
/// that addend resolves.
pub fn ifunc_at(bin: &Binary, vaddr: u64) -> Option<String> {
    use crate::model::ElfSymbolType;
    bin.symbols
        .iter()
        .find(|s| {
            s.value == vaddr
                && s.section.is_some()
                && matches!(s.kind, SymbolKind::Ifunc | SymbolKind::Dynamic(ElfSymbolType::Ifunc))
        })
        .map(|s| s.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(base: u64, size: u64, code: (u64, u64)) -> LoadedModule {
        LoadedModule {
            name: "m".into(),
            path: None,
            preferred_base: Some(0),
            base,
            relocated: false,
            size,
            relocations_applied: 0,
            placement: String::new(),
            code: vec![code],
        }
    }

    #[test]
    fn landing_tells_code_from_data_and_nothing() {
        let mods = [module(0x1000, 0x4000, (0x2000, 0x3000)), module(0x10000, 0x1000, (0x10000, 0x10800))];
        assert_eq!(landing(&mods, 0x2010), Landing { module: Some(0), in_code: true });
        assert_eq!(landing(&mods, 0x3800), Landing { module: Some(0), in_code: false });
        assert_eq!(landing(&mods, 0x10400), Landing { module: Some(1), in_code: true });
        assert!(!landing(&mods, 0x9000).plausible());
        assert!(!landing(&mods, 0x3000).plausible(), "the end of a code range is outside it");
    }
}
