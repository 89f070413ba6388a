//! The tables the linkers make themselves, written for [`super::write`]: lld's import tables,
//! import thunks and delay-load chunks (`DelayLoadContents`, with its x64 / i386 thunks and
//! tail merges), the export directory as lld (`EdataContents`) and GNU ld (`fill_edata`) write
//! it, and lld's debug directory and CodeView record.

use std::collections::HashMap;

use super::{Chunk, Layout, Origin, Writer};
use crate::link::args::Machine;
use crate::link::resolve::World;

/// The linker-made chunks by name, indexed once: the tables' chunks name one another (an import
/// directory its DLL's first lookup entry, the k-th lookup entry for `f` the k-th hint/name
/// `f`), so each lookup is a hash, not a walk of the layout.
#[derive(Default)]
pub(super) struct Names {
    /// (origin, name) → chunk positions, in layout order.
    exact: HashMap<(&'static str, String), Vec<usize>>,
    /// (origin, name up to its `!`: `ILT a.dll!`) → the first such chunk.
    first: HashMap<(&'static str, String), usize>,
    /// (origin, name without its DLL: `ILT !f`) → chunk positions, in layout order.
    same: HashMap<(&'static str, String), Vec<usize>>,
    /// Each chunk's place among those of its `same` key.
    nth: HashMap<usize, usize>,
    /// Import members by (lower-cased DLL, name shown): object positions.
    imports: HashMap<(String, String), usize>,
    /// Lower-cased name → the first chunk named so (the DLL names of import members may
    /// differ in case from the one the tables use).
    folded: HashMap<String, usize>,
}

/// `ILT a.dll!f` → (`ILT a.dll!`, `ILT !f`): the name up to its `!`, and without its DLL.
fn split_entry(name: &str) -> Option<(&str, String)> {
    let bang = name.find('!')?;
    let head = &name[..bang];
    let kind = head.rfind(' ').map_or("", |i| &head[..=i]);
    Some((&name[..=bang], format!("{kind}!{}", &name[bang + 1..])))
}

impl Names {
    /// Index the layout's linker-made chunks and the world's import members.
    pub(super) fn new(w: &World, lay: &Layout) -> Self {
        let mut n = Names::default();
        for (ci, c) in lay.chunks.iter().enumerate() {
            let Origin::Synthetic(what) = c.origin else { continue };
            n.exact.entry((what, c.name.clone())).or_default().push(ci);
            n.folded.entry(c.name.to_ascii_lowercase()).or_insert(ci);
            let same = match split_entry(&c.name) {
                Some((first, same)) => {
                    n.first.entry((what, first.to_string())).or_insert(ci);
                    same
                }
                None => c.name.clone(),
            };
            let list = n.same.entry((what, same)).or_default();
            n.nth.insert(ci, list.len());
            list.push(ci);
        }
        for (oi, o) in w.objs.iter().enumerate() {
            if let Some(imp) = &o.bin.import_object {
                let key = (imp.dll.to_ascii_lowercase(), crate::link::layout::import_shown(imp));
                n.imports.entry(key).or_insert(oi);
            }
        }
        n
    }

    /// The first linker-made chunk named `name`, case-insensitively.
    pub(super) fn folded<'l>(&self, lay: &'l Layout, name: &str) -> Option<&'l Chunk> {
        lay.chunks.get(*self.folded.get(&name.to_ascii_lowercase())?)
    }
}

impl Writer<'_> {
    /// The RVA export `e`'s address-table slot holds: its symbol's, or its forwarder string's
    /// (`forwarder`, when the caller knows where that is). `Err`: the symbol has no address.
    pub(super) fn export_rva(&self, e: &crate::link::exports::Export, forwarder: Option<u64>) -> Result<u64, String> {
        if e.forward.is_some() {
            return forwarder.ok_or_else(|| format!("export {}: its forwarder string is not laid out", e.name));
        }
        let g = self.w.by_name.get(&e.symbol).ok_or_else(|| format!("export {}: no symbol {}", e.name, e.symbol))?;
        Ok(self.global_va(*g, 0)? - self.addr.base)
    }

    /// One of lld's `.edata` chunks (`EdataContents`): the directory (ordinal base 0, slot 0
    /// empty), the DLL name, the address table, the name pointers, the ordinals, each name, each
    /// forwarder.
    pub(super) fn export_chunk(&self, c: &Chunk) -> Result<Vec<u8>, String> {
        let rva = |n: &str| self.named("export table", n, 0).ok_or_else(|| format!("{}: no chunk {n}", c.name));
        let exports = &self.w.exports;
        let named = || exports.iter().filter(|e| !e.noname);
        let u32s = |v: &[u64]| v.iter().flat_map(|&x| (x as u32).to_le_bytes()).collect::<Vec<u8>>();
        let string = |s: &str| s.bytes().chain([0]).collect::<Vec<u8>>();
        Ok(match c.name.as_str() {
            "export directory" => {
                let max = exports.iter().map(|e| u64::from(e.ordinal)).max().unwrap_or(0);
                let name = rva(&format!("DLL name {}", self.w.dll_name))?;
                let mut b = vec![0u8; 12];
                b.extend(u32s(&[name, 0, max + 1, named().count() as u64]));
                b.extend(u32s(&[rva("export address table")?, rva("export name pointers")?, rva("export ordinals")?]));
                b
            }
            "export address table" => {
                let mut slots = vec![0u64; c.size as usize / 4];
                for e in exports {
                    let fwd = rva(&format!("export forwarder {}", e.name)).ok();
                    if let Some(slot) = slots.get_mut(usize::from(e.ordinal)) {
                        *slot = self.export_rva(e, fwd)?;
                    }
                }
                u32s(&slots)
            }
            "export name pointers" => {
                u32s(&named().map(|e| rva(&format!("export name {}", e.name))).collect::<Result<Vec<_>, _>>()?)
            }
            "export ordinals" => named().flat_map(|e| e.ordinal.to_le_bytes()).collect(),
            n => {
                if let Some(dll) = n.strip_prefix("DLL name ") {
                    string(dll)
                } else if let Some(name) = n.strip_prefix("export name ") {
                    string(name)
                } else if let Some(e) =
                    n.strip_prefix("export forwarder ").and_then(|x| exports.iter().find(|e| e.name == x))
                {
                    string(e.forward.as_deref().unwrap_or_default())
                } else {
                    return Err(format!("{n} is laid out but not written"));
                }
            }
        })
    }

    /// GNU ld's `.edata` (`pe-dll.c` `fill_edata`): the directory, the address table from the
    /// lowest ordinal, the name pointers and ordinals, then the DLL's name and, in the exports'
    /// (name) order, each forwarder's and each named export's string.
    pub(super) fn gnu_edata(&mut self, c: &Chunk) -> Vec<u8> {
        let exports = &self.w.exports;
        let min = exports.iter().map(|e| u64::from(e.ordinal)).min().unwrap_or(1);
        let max = exports.iter().map(|e| u64::from(e.ordinal)).max().unwrap_or(0);
        let slots = (max + 1).saturating_sub(min);
        let named = exports.iter().filter(|e| !e.noname).count() as u64;
        let (addresses, names) = (c.rva + 40, c.rva + 40 + 4 * slots);
        let ordinals = names + 4 * named;
        let mut strings = ordinals + 2 * named;
        let mut b = vec![0u8; c.size as usize];
        let put = |b: &mut Vec<u8>, at: u64, v: &[u8]| {
            if let Some(d) = b.get_mut((at - c.rva) as usize..(at - c.rva) as usize + v.len()) {
                d.copy_from_slice(v);
            }
        };
        for (at, v) in
            [(12, strings), (16, min), (20, slots), (24, named), (28, addresses), (32, names), (36, ordinals)]
        {
            put(&mut b, c.rva + at, &(v as u32).to_le_bytes());
        }
        let mut string = |b: &mut Vec<u8>, s: &str| {
            let at = strings;
            put(b, at, s.as_bytes());
            strings += s.len() as u64 + 1;
            at
        };
        string(&mut b, &self.w.dll_name);
        let (mut name_at, mut ord_at) = (names, ordinals);
        let mut holes = Vec::new();
        for e in exports {
            let slot = addresses + 4 * (u64::from(e.ordinal).saturating_sub(min));
            let value = match &e.forward {
                Some(f) => Ok(string(&mut b, f)),
                None => self.export_rva(e, None),
            };
            match value {
                Ok(v) => put(&mut b, slot, &(v as u32).to_le_bytes()),
                Err(why) => holes.push((slot, why)),
            }
            if !e.noname {
                let at = string(&mut b, &e.name);
                put(&mut b, name_at, &(at as u32).to_le_bytes());
                put(&mut b, ord_at, &((u64::from(e.ordinal) - min) as u16).to_le_bytes());
                name_at += 4;
                ord_at += 2;
            }
        }
        if !self.w.cfg.ignored.iter().any(|o| o == "--no-insert-timestamp") {
            holes.push((c.rva + 4, "the export directory's time stamp: the link time".into()));
        }
        for (at, why) in holes {
            self.unknown(c.out, at, 4, why);
        }
        b
    }

    /// lld's debug directory: the CodeView entry (with `/debug`), then the repro entry (with
    /// `/brepro`); each entry's time stamp is unknown (the link time, or a hash of the output).
    pub(super) fn debug_directory(&mut self, c: &Chunk) -> Vec<u8> {
        let mut b = Vec::new();
        let mut entry = |ty: u32, size: u64, rva: u64, file: u64| {
            for v in [0u32, 0, 0, ty, size as u32, rva as u32, file as u32] {
                b.extend(v.to_le_bytes());
            }
        };
        if self.w.cfg.debug {
            let cv = self.names.folded(self.lay, "CodeView build id");
            let file = |x: &Chunk| self.lay.sections.get(x.out).map_or(0, |s| s.file_offset + x.rva - s.rva);
            entry(2, cv.map_or(0, |x| x.size), cv.map_or(0, |x| x.rva), cv.map_or(0, file));
        }
        if self.w.cfg.repro {
            entry(16, 0, 0, 0);
        }
        for i in 0..b.len() as u64 / 28 {
            let why = "the debug entry's time stamp: the link time, or with /brepro a hash of the output";
            self.unknown(c.out, c.rva + 28 * i + 4, 4, why.into());
        }
        b
    }

    /// lld's CodeView record: `RSDS`, the GUID (unknown: lld hashes the output into it), age
    /// 1, the PDB path and its NUL (zeros for lld-link's `/debug:dwarf`).
    pub(super) fn codeview(&mut self, c: &Chunk) -> Vec<u8> {
        if !self.w.cfg.pdb && !self.w.cfg.mingw {
            // lld-link's `/debug:dwarf` writes no PDB and leaves the record's bytes zero (its
            // MinGW mode writes the build id all the same).
            return vec![0; c.size as usize];
        }
        let mut b = b"RSDS".to_vec();
        b.extend([0; 16]);
        b.extend(1u32.to_le_bytes());
        b.extend(self.w.cfg.codeview_path.as_bytes());
        b.push(0);
        self.unknown(c.out, c.rva + 4, 16, "the CodeView GUID: lld hashes the output into it".into());
        b
    }

    /// The IAT slot a thunk at `rva` jumps through.
    pub(super) fn thunk_slot(&self, rva: u64) -> Option<u64> {
        self.thunk_at.get(&rva).and_then(|oi| self.iat.get(oi)).copied()
    }

    /// The RVA of the `k`-th linker-made chunk of origin `what` named `name`.
    fn named(&self, what: &'static str, name: &str, k: usize) -> Option<u64> {
        let ci = *self.names.exact.get(&(what, name.to_string()))?.get(k)?;
        self.lay.chunks.get(ci).map(|c| c.rva)
    }

    /// The RVA of the first chunk of origin `what` whose name starts with `prefix` (up to `!`).
    fn first_entry(&self, what: &'static str, prefix: &str) -> Option<u64> {
        let ci = *self.names.first.get(&(what, prefix.to_string()))?;
        self.lay.chunks.get(ci).map(|c| c.rva)
    }

    /// The DLL of the `k`-th chunk of origin `what` named `<kind> <dll>!<shown>`.
    fn kth_dll(&self, what: &'static str, kind: &str, shown: &str, k: usize) -> Option<&str> {
        let ci = *self.names.same.get(&(what, format!("{kind} !{shown}")))?.get(k)?;
        let name = self.lay.chunks.get(ci)?.name.strip_prefix(kind)?.strip_prefix(' ')?;
        name.split_once('!').map(|(dll, _)| dll)
    }

    /// One of lld's import-table chunks (`IdataContents`).
    pub(super) fn import_table(&self, ci: usize, c: &Chunk, ptr: u64) -> Result<Vec<u8>, String> {
        const WHAT: &str = "import tables";
        let name = c.name.as_str();
        let first = |prefix: &str| self.first_entry(WHAT, prefix).ok_or_else(|| format!("{name}: no chunk {prefix}…"));
        if let Some(dll) = name.strip_prefix("import directory ").filter(|d| *d != "end") {
            let (ilt, iat) = (first(&format!("ILT {dll}!"))?, first(&format!("IAT {dll}!"))?);
            let dll_name =
                self.named(WHAT, &format!("DLL name {dll}"), 0).ok_or_else(|| format!("{name}: no DLL name"))?;
            return Ok([ilt, 0, 0, dll_name, iat].iter().flat_map(|&v| (v as u32).to_le_bytes()).collect());
        }
        if let Some(dll) = name.strip_prefix("DLL name ") {
            let mut b = dll.as_bytes().to_vec();
            b.push(0);
            return Ok(b);
        }
        let entry = name.strip_prefix("ILT ").or_else(|| name.strip_prefix("IAT "));
        if let Some((dll, shown)) = entry.and_then(|e| e.split_once('!')) {
            let imp = self.import(dll, shown).ok_or_else(|| format!("{name}: no import member"))?;
            let value = if imp.name_type == crate::model::ImportNameType::Ordinal || imp.import_name.is_none() {
                (1u64 << (ptr * 8 - 1)) | u64::from(imp.ordinal_or_hint)
            } else {
                // The k-th entry named so takes the k-th hint/name chunk of that name.
                let k = self.names.nth.get(&ci).copied().unwrap_or(0);
                self.named(WHAT, &format!("hint/name {shown}"), k)
                    .ok_or_else(|| format!("{name}: no hint/name chunk"))?
            };
            return Ok(value.to_le_bytes()[..ptr as usize].to_vec());
        }
        if let Some(shown) = name.strip_prefix("hint/name ") {
            // The k-th IAT entry named so is the import this hint/name belongs to.
            let k = self.names.nth.get(&ci).copied().unwrap_or(0);
            let iat = self.kth_dll(WHAT, "IAT", shown, k).and_then(|dll| self.import(dll, shown));
            let imp = iat.ok_or_else(|| format!("{name}: no import member"))?;
            let mut b = imp.ordinal_or_hint.to_le_bytes().to_vec();
            b.extend(shown.as_bytes());
            b.resize(c.size as usize, 0);
            return Ok(b);
        }
        // The tables' terminators.
        Ok(Vec::new())
    }

    /// One of lld's delay-load chunks (`DelayLoadContents`).
    pub(super) fn delay_chunk(&self, ci: usize, c: &Chunk) -> Result<Vec<u8>, String> {
        const WHAT: &str = "delay-load imports";
        let x64 = self.w.machine == Machine::X64;
        let base = self.addr.base;
        let name = c.name.as_str();
        let rva = |n: &str| self.named(WHAT, n, 0).ok_or_else(|| format!("{name}: no chunk {n}"));
        let first = |p: &str| self.first_entry(WHAT, p).ok_or_else(|| format!("{name}: no chunk {p}…"));
        let u32s = |v: &[u64]| v.iter().flat_map(|&x| (x as u32).to_le_bytes()).collect::<Vec<u8>>();
        let ptr = |v: u64| if x64 { v.to_le_bytes().to_vec() } else { (v as u32).to_le_bytes().to_vec() };
        if let Some(dll) = name.strip_prefix("delay directory ") {
            let handle = rva(&format!("delay module handle {dll}"))?;
            let (iat, int) = (first(&format!("delay IAT {dll}!"))?, first(&format!("delay name table {dll}!"))?);
            return Ok(u32s(&[1, rva(&format!("delay DLL name {dll}"))?, handle, iat, int, 0, 0, 0]));
        }
        if let Some(dll) = name.strip_prefix("delay DLL name ") {
            return Ok(dll.bytes().chain([0]).collect());
        }
        if let Some(entry) = name.strip_prefix("delay IAT ") {
            return Ok(ptr(base + rva(&format!("delay thunk {entry}"))?));
        }
        if let Some((dll, shown)) = name.strip_prefix("delay name table ").and_then(|e| e.split_once('!')) {
            let imp = self.import(dll, shown).ok_or_else(|| format!("{name}: no import member"))?;
            if imp.name_type == crate::model::ImportNameType::Ordinal || imp.import_name.is_none() {
                return Ok(ptr((1u64 << if x64 { 63 } else { 31 }) | u64::from(imp.ordinal_or_hint)));
            }
            let k = self.names.nth.get(&ci).copied().unwrap_or(0);
            let hint = format!("delay hint/name {shown}");
            return Ok(ptr(self.named(WHAT, &hint, k).ok_or_else(|| format!("{name}: no {hint}"))?));
        }
        if let Some(shown) = name.strip_prefix("delay hint/name ") {
            let k = self.names.nth.get(&ci).copied().unwrap_or(0);
            let dll = self.kth_dll(WHAT, "delay name table", shown, k);
            let imp = dll.and_then(|d| self.import(d, shown)).ok_or_else(|| format!("{name}: no import member"))?;
            let mut b = imp.ordinal_or_hint.to_le_bytes().to_vec();
            b.extend(shown.as_bytes());
            b.resize(c.size as usize, 0);
            return Ok(b);
        }
        if let Some(entry) = name.strip_prefix("delay thunk ") {
            let dll = entry.split_once('!').map_or(entry, |(d, _)| d);
            let (slot, tail) = (rva(&format!("delay IAT {entry}"))?, rva(&format!("delay tail merge {dll}"))?);
            return Ok(if x64 {
                // lea rax, [slot]; jmp tail
                let mut b = vec![0x48, 0x8D, 0x05];
                b.extend((slot.wrapping_sub(c.rva + 7) as u32).to_le_bytes());
                b.push(0xE9);
                b.extend((tail.wrapping_sub(c.rva + 12) as u32).to_le_bytes());
                b
            } else {
                // mov eax, slot; jmp tail
                let mut b = vec![0xB8];
                b.extend(((base + slot) as u32).to_le_bytes());
                b.push(0xE9);
                b.extend((tail.wrapping_sub(c.rva + 10) as u32).to_le_bytes());
                b
            });
        }
        if let Some(dll) = name.strip_prefix("delay tail merge ") {
            let desc = rva(&format!("delay directory {dll}"))?;
            let helper = crate::link::delay::helper(self.w.machine);
            let g = self.w.by_name.get(helper).ok_or_else(|| format!("{name}: {helper} is not defined"))?;
            let helper = self.global_va(*g, 0)? - base;
            let mut b = if x64 { TAIL_MERGE_X64.to_vec() } else { TAIL_MERGE_X86.to_vec() };
            if x64 {
                b[39..43].copy_from_slice(&(desc.wrapping_sub(c.rva + 43) as u32).to_le_bytes());
                b[44..48].copy_from_slice(&(helper.wrapping_sub(c.rva + 48) as u32).to_le_bytes());
            } else {
                b[4..8].copy_from_slice(&((base + desc) as u32).to_le_bytes());
                b[9..13].copy_from_slice(&(helper.wrapping_sub(c.rva + 13) as u32).to_le_bytes());
            }
            return Ok(b);
        }
        Err(format!("{name} is laid out but not written"))
    }

    /// The import member of `dll` shown as `shown`.
    pub(super) fn import(&self, dll: &str, shown: &str) -> Option<&crate::model::ImportObject> {
        let oi = self.names.imports.get(&(dll.to_ascii_lowercase(), shown.to_string()))?;
        self.w.objs.get(*oi)?.bin.import_object.as_ref()
    }
}

/// `jmp [slot]`: `FF 25` and the displacement (x64) or address (x86).
pub(super) fn thunk(v: u32) -> Vec<u8> {
    let mut b = vec![0xFF, 0x25];
    b.extend(v.to_le_bytes());
    b
}

/// lld's x64 delay-load tail merge (`tailMergeX64`): save the argument registers, call
/// `__delayLoadHelper2(descriptor, slot)`, restore them, jump to the function it returned.
const TAIL_MERGE_X64: [u8; 83] = [
    0x51, 0x52, 0x41, 0x50, 0x41, 0x51, 0x48, 0x83, 0xEC, 0x48, // push rcx, rdx, r8, r9; sub rsp, 48h
    0x66, 0x0F, 0x7F, 0x04, 0x24, 0x66, 0x0F, 0x7F, 0x4C, 0x24, 0x10, // movdqa [rsp], xmm0; [rsp+10h], xmm1
    0x66, 0x0F, 0x7F, 0x54, 0x24, 0x20, 0x66, 0x0F, 0x7F, 0x5C, 0x24, 0x30, // [rsp+20h], xmm2; [rsp+30h], xmm3
    0x48, 0x8B, 0xD0, // mov rdx, rax
    0x48, 0x8D, 0x0D, 0, 0, 0, 0, // lea rcx, [descriptor]
    0xE8, 0, 0, 0, 0, // call __delayLoadHelper2
    0x66, 0x0F, 0x6F, 0x04, 0x24, 0x66, 0x0F, 0x6F, 0x4C, 0x24, 0x10, // movdqa xmm0, [rsp]; xmm1, [rsp+10h]
    0x66, 0x0F, 0x6F, 0x54, 0x24, 0x20, 0x66, 0x0F, 0x6F, 0x5C, 0x24, 0x30, // xmm2, [rsp+20h]; xmm3, [rsp+30h]
    0x48, 0x83, 0xC4, 0x48, 0x41, 0x59, 0x41, 0x58, 0x5A, 0x59, // add rsp, 48h; pop r9, r8, rdx, rcx
    0xFF, 0xE0, // jmp rax
];

/// lld's i386 delay-load tail merge (`tailMergeX86`).
const TAIL_MERGE_X86: [u8; 17] = [
    0x51, 0x52, 0x50, // push ecx, edx, eax
    0x68, 0, 0, 0, 0, // push offset descriptor
    0xE8, 0, 0, 0, 0, // call ___delayLoadHelper2@8
    0x5A, 0x59, 0xFF, 0xE0, // pop edx, ecx; jmp eax
];
