//! Labels of code addresses: the name a listing shows on a line of its own before a function's
//! first instruction, and that `call` / `jmp` operands reaching it are called by. Symbols,
//! exports, the entry point, TLS callbacks, `.pdata` function starts and the targets of direct
//! calls give them; where nothing names a function start, it is `sub_<va>` (as IDA and x64dbg
//! call it). One label per address, the best source first.

use serde::Serialize;

use super::code;
use super::namer::with_offset;
use crate::model::index::{import_name, is_object, Index};
use crate::model::{Binary, Binding, SymbolKind};

/// What gave an address its label, best first (a symbol beats an export at the same address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// A symbol of the file's symbol table.
    Symbol,
    /// An export (by its name; `ordinal_N` when it has none).
    Export,
    /// The entry point (`entry`).
    Entry,
    /// A TLS callback (`tls_callback_0`, …).
    TlsCallback,
    /// A `jmp [slot]` thunk of an import: `name@plt` in ELF (as objdump), `j_name` in PE (as IDA).
    Thunk,
    /// A `.pdata` function start (`sub_…`).
    Function,
    /// The target of a direct `call` (`sub_…`).
    CallTarget,
}

impl LabelKind {
    /// The kind in words, as the JSON spells it.
    pub fn name(self) -> &'static str {
        match self {
            LabelKind::Symbol => "symbol",
            LabelKind::Export => "export",
            LabelKind::Entry => "entry",
            LabelKind::TlsCallback => "tls_callback",
            LabelKind::Thunk => "thunk",
            LabelKind::Function => "function",
            LabelKind::CallTarget => "call_target",
        }
    }
}

/// One labelled code address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Position of the code section in `bin.sections`.
    pub section: u32,
    /// RVA (section offset in objects).
    pub rva: u64,
    /// Where the label ends: the next label of the section, else the section's end.
    pub end: u64,
    /// What gave it.
    pub kind: LabelKind,
    /// The label (in images a symbol's demangled name, when it has one; in objects the raw name
    /// their relocations name operands by).
    pub name: String,
}

/// Every label of a file's code, sorted by section position then RVA.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    list: Vec<Label>,
}

/// A candidate label before the best of each address is chosen: `(section, rva, kind, rank, name)`;
/// a lower rank wins among symbols of one address.
type Candidate = (u32, u64, LabelKind, u8, String);

impl Labels {
    /// The labels of `bin`'s code (its bytes `data`: the regions a listing decodes); `calls` are
    /// the RVAs of direct call targets, sorted (from the scan, [`crate::analysis::Refs::calls`];
    /// empty: none are labelled for being called).
    pub fn new(bin: &Binary, data: &[u8], index: &Index, calls: &[u64]) -> Self {
        let object = is_object(bin);
        let regions = code::code_regions(bin, data);
        let mut code = vec![false; bin.sections.len()];
        for r in &regions {
            if let Some(c) = code.get_mut(r.section) {
                *c = true;
            }
        }
        let base = if object { 0 } else { bin.image_base.unwrap_or(0) };
        let in_code = |rva: u64| index.section_pos_by_rva(rva).filter(|&p| code.get(p) == Some(&true));
        let mut c: Vec<Candidate> = Vec::new();
        for &(rva, p) in &index.symbols_sorted {
            let Some(s) = bin.symbols.get(p as usize) else { continue };
            let Some(sec) = s.section.and_then(|i| index.section_pos(i)).filter(|&q| code.get(q) == Some(&true)) else {
                continue;
            };
            // Functions before labels before the rest; a global name before a local one.
            let kind_rank = match s.kind {
                SymbolKind::Function | SymbolKind::Ifunc => 0,
                SymbolKind::Label => 2,
                _ => 4,
            };
            let local = u8::from(!matches!(s.binding, Binding::Global | Binding::External));
            // Images name operands by demangled names, objects by their relocations' raw ones.
            let name = if object { s.name.clone() } else { s.demangled.clone().unwrap_or_else(|| s.name.clone()) };
            c.push((sec as u32, rva, LabelKind::Symbol, kind_rank + local, name));
        }
        // A static function with an aux record at its section's start reads as a section symbol
        // (GNU ld keeps `__mingw_invalidParameterHandler` so); its function type says otherwise.
        let coff = !bin.format.is_elf();
        for s in bin.symbols.iter().filter(|s| coff && s.kind == SymbolKind::Section && (s.raw_type >> 4) & 3 == 2) {
            let Some(p) = s.section.and_then(|i| index.section_pos(i)).filter(|&q| code.get(q) == Some(&true)) else {
                continue;
            };
            let rva = bin.sections.get(p).map_or(0, |sec| sec.rva).wrapping_add(s.value);
            c.push((p as u32, rva, LabelKind::Symbol, 1, s.name.clone()));
        }
        if !object {
            for &(rva, e) in &index.exports_sorted {
                let Some(ex) = bin.exports.get(e as usize).filter(|e| e.forwarder.is_none()) else { continue };
                let Some(sec) = in_code(rva) else { continue };
                let name = ex.name.clone().unwrap_or_else(|| format!("ordinal_{}", ex.ordinal));
                c.push((sec as u32, rva, LabelKind::Export, 0, name));
            }
            if let Some(sec) = bin.entry_rva.and_then(|e| in_code(e).map(|s| (s, e))) {
                c.push((sec.0 as u32, sec.1, LabelKind::Entry, 0, "entry".into()));
            }
            if let Some(pe) = &bin.pe {
                for (i, &cb) in pe.tls.iter().flat_map(|t| &t.callbacks).enumerate() {
                    let rva = cb.wrapping_sub(base);
                    if let Some(sec) = in_code(rva) {
                        c.push((sec as u32, rva, LabelKind::TlsCallback, 0, format!("tls_callback_{i}")));
                    }
                }
                for f in &pe.exceptions {
                    let rva = u64::from(f.begin);
                    if let Some(sec) = in_code(rva) {
                        c.push((sec as u32, rva, LabelKind::Function, 0, sub_name(base, rva)));
                    }
                }
            }
            // A `jmp [slot]` is a thunk where it is called or a function starts; elsewhere it is a
            // tail call inside a function (MSVC ends functions with `jmp [__imp_X]`).
            let mut begins: Vec<u64> =
                bin.pe.iter().flat_map(|pe| &pe.exceptions).map(|f| u64::from(f.begin)).collect();
            begins.sort_unstable();
            let entered = |rva: &u64| calls.binary_search(rva).is_ok() || begins.binary_search(rva).is_ok();
            for (rva, name) in thunks(bin, &regions, index).into_iter().filter(|(r, _)| entered(r)) {
                if let Some(sec) = in_code(rva) {
                    c.push((sec as u32, rva, LabelKind::Thunk, 0, name));
                }
            }
            for &rva in calls {
                if let Some(sec) = in_code(rva) {
                    c.push((sec as u32, rva, LabelKind::CallTarget, 0, sub_name(base, rva)));
                }
            }
        }
        // Among equals the greatest name, as llvm-objdump chooses between aliases.
        c.sort_unstable_by(|a, b| (a.0, a.1, a.2, a.3, &b.4).cmp(&(b.0, b.1, b.2, b.3, &a.4)));
        c.dedup_by_key(|x| (x.0, x.1));
        let mut list: Vec<Label> = Vec::with_capacity(c.len());
        for (i, (section, rva, kind, _, name)) in c.iter().enumerate() {
            let sec_end = bin.sections.get(*section as usize).map_or(u64::MAX, |s| {
                let size = if object || s.virtual_size == 0 { s.file_size } else { s.virtual_size };
                s.rva.saturating_add(size)
            });
            let end = match c.get(i + 1) {
                Some(n) if n.0 == *section => n.1,
                _ => sec_end,
            };
            list.push(Label { section: *section, rva: *rva, end: end.max(*rva + 1), kind: *kind, name: name.clone() });
        }
        Labels { list }
    }

    /// The label at `rva` of section position `section`.
    pub fn at(&self, section: usize, rva: u64) -> Option<&Label> {
        let key = (section as u32, rva);
        let i = self.list.partition_point(|l| (l.section, l.rva) < key);
        self.list.get(i).filter(|l| (l.section, l.rva) == key)
    }

    /// The labels from the first at or after `rva` in section position `section` on (a listing
    /// walks them beside its rows).
    pub fn from(&self, section: usize, rva: u64) -> &[Label] {
        let key = (section as u32, rva);
        &self.list[self.list.partition_point(|l| (l.section, l.rva) < key)..]
    }

    /// The label of the function `rva` lies in (images: the last label at or before it, within
    /// its extent), with the offset into it.
    pub fn before(&self, rva: u64) -> Option<(&Label, u64)> {
        let inside = |l: &&Label| l.rva <= rva && rva < l.end;
        // Image sections lie in RVA order (nearly always): a search, else a walk.
        let i = self.list.partition_point(|l| l.rva <= rva);
        let l = match self.list.get(i.wrapping_sub(1)).filter(inside) {
            Some(l) => l,
            None => self.list.iter().rev().find(inside)?,
        };
        Some((l, rva - l.rva))
    }

    /// [`Labels::before`] in words: `main+0x1a`, the function `rva` lies in.
    pub fn function_of(&self, rva: u64) -> Option<String> {
        self.before(rva).map(|(l, off)| with_offset(&l.name, i64::try_from(off).ok()))
    }

    /// The labels in order of section position and RVA.
    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.list.iter()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The `jmp [slot]` thunks of `bin`'s code (`FF 25` with the address of an IAT or GOT slot:
/// RIP-relative in 64-bit code, absolute in 32-bit), each with its label.
fn thunks(bin: &Binary, regions: &[code::CodeRegion<'_>], index: &Index) -> Vec<(u64, String)> {
    let mut slots: Vec<(u64, String)> = Vec::new();
    for &(rva, row) in &index.iat_sorted {
        if let Some(e) = index.import_entry(bin, row as usize) {
            slots.push((rva, format!("j_{}", import_name(e))));
        }
    }
    for g in bin.elf.iter().flat_map(|e| &e.got_slots) {
        slots.push((g.rva, format!("{}@plt", g.symbol)));
    }
    if slots.is_empty() {
        return Vec::new();
    }
    slots.sort_by_key(|s| s.0);
    code::slot_jumps(regions, bin.image_base.unwrap_or(0))
        .filter_map(|(rva, slot)| Some((rva, slots[slots.binary_search_by_key(&slot, |s| s.0).ok()?].1.clone())))
        .collect()
}

/// `sub_<va>` for a function start nothing names.
pub fn sub_name(base: u64, rva: u64) -> String {
    format!("sub_{:x}", base.wrapping_add(rva))
}
