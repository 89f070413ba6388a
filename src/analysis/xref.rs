//! Cross-references: which sites reach a target named by the user (`refs --to`): an import
//! (`dll!name`, or a bare name), a symbol or export (mangled or demangled), or an address. A site
//! reaches an import by its true import (the pseudo-relocation's, not the slot its address lands
//! on), and a symbol by the symbol its target lies in (`&arr[3]` reaches `arr`): within its
//! size when the file records one; a function without one at its address only; data without one
//! anywhere up to the next name ([`extent`]).

use super::namer::{ImportJson, Namer};
use super::reach::parse_addr;
use super::site::{ImportRef, Site, SymRef};
use crate::model::index::is_object;
use crate::model::SpecialSection;

/// Why a target could not be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Nothing in the file has this name or address.
    #[error("{0}: no import, export, symbol or address of the file has this name")]
    Unknown(String),
}

/// The targets of one or more `--to` values: a site that reaches any of them is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Imports (IAT rows, an object's undefined symbols, GOT and COPY slots).
    pub imports: Vec<ImportRef>,
    /// Symbols and exports, each with the offsets into it that count ([`extent`]).
    pub symbols: Vec<(SymRef, Option<u64>)>,
    /// Addresses (RVAs; section offsets in objects).
    pub rvas: Vec<u64>,
}

impl Targets {
    /// Resolve each of `specs`: `dll!name` (the DLL's name in any case), an address (`0x…` VA, or
    /// an RVA below the image base, or `rva:0x…`), else a name matched against the imports'
    /// function names, the symbols and the exports (as stored or demangled).
    pub fn resolve(n: &Namer<'_>, specs: &[String]) -> Result<Self, TargetError> {
        let mut t = Targets::default();
        let imports = all_imports(n);
        for spec in specs {
            let before = (t.imports.len(), t.symbols.len(), t.rvas.len());
            if let Some(rva) = address(n, spec) {
                t.add_address(&imports, rva);
                continue;
            }
            let (dll, name) = match spec.split_once('!') {
                Some((d, f)) => (Some(d), f),
                None => (None, spec.as_str()),
            };
            for (r, i) in &imports {
                let dll_ok = match (dll, &i.dll) {
                    (None, _) => true,
                    (Some(d), Some(ld)) => d.eq_ignore_ascii_case(ld),
                    (Some(_), None) => false,
                };
                if dll_ok && i.name == name {
                    t.imports.push(*r);
                }
            }
            if dll.is_none() {
                for (p, s) in n.bin.symbols.iter().enumerate() {
                    if s.name == name || s.demangled.as_deref() == Some(name) {
                        t.add_symbol(n, SymRef::Symbol(p as u32));
                    }
                }
                let named = |s: &str| s == name || crate::demangle::demangle(s).is_some_and(|d| d == name);
                for (p, e) in n.bin.exports.iter().enumerate() {
                    if e.name.as_deref().is_some_and(named) {
                        t.add_symbol(n, SymRef::Export(p as u32));
                    }
                }
            }
            if before == (t.imports.len(), t.symbols.len(), t.rvas.len()) {
                return Err(TargetError::Unknown(spec.clone()));
            }
        }
        Ok(t)
    }

    /// Add address `rva`; an IAT or GOT slot's address names its import too (`imports` as
    /// [`all_imports`] lists them).
    pub fn add_address(&mut self, imports: &[(ImportRef, ImportJson)], rva: u64) {
        self.imports.extend(imports.iter().filter(|(_, i)| i.slot_rva == Some(rva)).map(|(r, _)| *r));
        self.rvas.push(rva);
    }

    /// Add symbol or export `r` with its [`extent`].
    pub fn add_symbol(&mut self, n: &Namer<'_>, r: SymRef) {
        self.symbols.push((r, extent(n.bin, r)));
    }

    /// The addresses a direct `call` or `jmp` reaches the targets at: each symbol's and export's
    /// first byte, and each address (sorted, each once).
    pub fn starts(&self, n: &Namer<'_>) -> Vec<u64> {
        let mut v = self.rvas.clone();
        for &(r, _) in &self.symbols {
            let start = match r {
                SymRef::Symbol(p) => n.index.symbols_sorted.iter().find(|&&(_, q)| q == p).map(|&(rva, _)| rva),
                SymRef::Export(p) => n.bin.exports.get(p as usize).filter(|e| e.forwarder.is_none()).map(|e| e.rva),
            };
            v.extend(start);
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether `s` reaches one of the targets.
    pub fn reaches(&self, s: &Site) -> bool {
        s.import.is_some_and(|i| self.imports.contains(&i))
            || s.symbol.is_some_and(|y| self.symbols.iter().any(|&(r, ext)| r == y && inside(s, ext)))
            || s.target_rva.is_some_and(|r| self.rvas.contains(&r))
    }
}

/// How far into symbol or export `r` a site's target may lie and still reach it (`None`: up to
/// the next name, the scan's nearest-below rule): its size when the file records one (ELF and
/// COFF function symbols); 1 (its address alone) for code without a size, as code is referenced
/// at a function's start and what follows an exported function without a name of its own is
/// other code; unbounded for data without a size (`&arr[3]` is `arr`).
pub fn extent(bin: &crate::model::Binary, r: SymRef) -> Option<u64> {
    let (size, rva) = match r {
        SymRef::Symbol(p) => {
            let s = bin.symbols.get(p as usize)?;
            (s.size.filter(|&z| z > 0), s.value)
        }
        SymRef::Export(p) => (None, bin.exports.get(p as usize)?.rva),
    };
    if size.is_some() {
        return size;
    }
    let exec = match r {
        SymRef::Symbol(p) => bin
            .symbols
            .get(p as usize)
            .and_then(|s| s.section)
            .and_then(|i| bin.sections.iter().find(|sec| sec.index == i).map(|sec| sec.is_exec)),
        SymRef::Export(_) => bin
            .sections
            .iter()
            .find(|s| s.rva <= rva && rva < s.rva + s.virtual_size.max(s.file_size))
            .map(|s| s.is_exec),
    };
    exec.filter(|&e| e).map(|_| 1)
}

/// Whether `s`'s offset into its symbol lies within `extent`.
pub fn inside(s: &Site, extent: Option<u64>) -> bool {
    match (s.offset, extent) {
        (Some(o), Some(e)) => o >= 0 && (o as u64) < e,
        (Some(o), None) => o >= 0,
        (None, _) => true,
    }
}

/// Every import the file has, with its DLL, function name and slot.
pub fn all_imports(n: &Namer<'_>) -> Vec<(ImportRef, ImportJson)> {
    let mut refs: Vec<ImportRef> = (0..n.index.imports.len() as u32).map(ImportRef::Row).collect();
    let undefined = |s: &&crate::model::Symbol| s.section_kind == Some(SpecialSection::Undefined);
    refs.extend(
        n.bin.symbols.iter().enumerate().filter(|(_, s)| undefined(s)).map(|(p, _)| ImportRef::Symbol(p as u32)),
    );
    if let Some(elf) = &n.bin.elf {
        refs.extend((0..elf.got_slots.len() as u32).map(ImportRef::Got));
        refs.extend((0..elf.copy_relocations.len() as u32).map(ImportRef::Copy));
    }
    refs.into_iter().filter_map(|r| n.import(r).map(|i| (r, i))).collect()
}

/// The RVA (section offset in objects) `spec` names as an address, when it is one: `rva:0x…`,
/// or a number (a VA at or above the image base, else an RVA).
fn address(n: &Namer<'_>, spec: &str) -> Option<u64> {
    if let Some(r) = spec.strip_prefix("rva:") {
        return parse_addr(r);
    }
    if !spec.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let v = parse_addr(spec)?;
    let base = if is_object(n.bin) { 0 } else { n.bin.image_base.unwrap_or(0) };
    Some(if base > 0 && v >= base { v - base } else { v })
}
