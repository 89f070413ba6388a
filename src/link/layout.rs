//! lld-link's image layout (`Writer::createSections` … `assignAddresses`): input sections
//! grouped by (full name, characteristics) in name order, output sections in link.exe's order
//! with discardable ones last, `/merge` and the default merges, chunk alignment from
//! `IMAGE_SCN_ALIGN_*`, RVAs in `/align` steps, file offsets in `/filealign` steps, and the
//! chunks lld makes itself where their size is known (debug directory, build id, MinGW's
//! constructor lists, base relocations).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::args::Machine;
use super::resolve::{ChunkId, Def, GlobalId, ObjId, World};
use crate::formats::coff::header::scn;

/// Where a chunk comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An input section.
    Input(ChunkId),
    /// Common-symbol storage: (global, declaring object). lld makes one per declaration; GNU
    /// ld one `COMMON` input per object (global `GlobalId(usize::MAX)`), the largest
    /// declaration's holding the storage.
    Common(GlobalId, usize),
    /// Made by the linker: what it is.
    Synthetic(&'static str),
}

/// A chunk in the image.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Origin.
    pub origin: Origin,
    /// Section name (the input name; for synthetic chunks a description).
    pub name: String,
    /// Output section position.
    pub out: usize,
    /// RVA.
    pub rva: u64,
    /// Size.
    pub size: u64,
    /// Alignment.
    pub align: u64,
    /// Whether it has bytes in the file (false for uninitialised data).
    pub has_data: bool,
}

/// An output section.
#[derive(Debug, Clone)]
pub struct OutSection {
    /// Name.
    pub name: String,
    /// Characteristics.
    pub characteristics: u32,
    /// RVA.
    pub rva: u64,
    /// VirtualSize.
    pub virtual_size: u64,
    /// PointerToRawData (0 when no raw data).
    pub file_offset: u64,
    /// SizeOfRawData.
    pub raw_size: u64,
    /// Chunks, in order (indices into [`Layout::chunks`]).
    pub chunks: Vec<usize>,
}

/// The image as laid out.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Output sections, in image order (empty ones removed).
    pub sections: Vec<OutSection>,
    /// Every chunk.
    pub chunks: Vec<Chunk>,
    /// SizeOfHeaders.
    pub size_of_headers: u64,
    /// What was approximated or left out.
    pub notes: Vec<String>,
    /// lld's merged string literals: each merged chunk's position in `chunks` and its pieces.
    pub merged: Vec<(usize, super::merge::Merged)>,
    /// GNU ld: each common symbol's offset in its object's COMMON input (global, object).
    pub common_offsets: Vec<(GlobalId, usize, u64)>,
}

const CODE: u32 = 0x20;
const DATA: u32 = 0x40;
const BSS: u32 = 0x80;
const R: u32 = 0x4000_0000;
const W: u32 = 0x8000_0000;
const X: u32 = 0x2000_0000;
const DISCARD: u32 = 0x0200_0000;

pub(crate) fn align_up(v: u64, a: u64) -> u64 {
    if a <= 1 {
        v
    } else {
        v.div_ceil(a).saturating_mul(a)
    }
}

/// Chunk alignment from the section flags (none → 1, as lld).
pub fn chunk_align(flags: u32) -> u64 {
    let shift = (flags >> 20) & 0xf;
    if shift == 0 || shift > 14 {
        1
    } else {
        1 << (shift - 1)
    }
}

struct Builder {
    sections: Vec<OutSection>,
    chunks: Vec<Chunk>,
    by_key: HashMap<(String, u32), usize>,
}

impl Builder {
    fn section(&mut self, name: &str, chars: u32) -> usize {
        if let Some(&i) = self.by_key.get(&(name.to_string(), chars)) {
            return i;
        }
        let i = self.sections.len();
        self.sections.push(OutSection {
            name: name.to_string(),
            characteristics: chars,
            rva: 0,
            virtual_size: 0,
            file_offset: 0,
            raw_size: 0,
            chunks: Vec::new(),
        });
        self.by_key.insert((name.to_string(), chars), i);
        i
    }

    fn add(&mut self, out: usize, origin: Origin, name: String, size: u64, align: u64, has_data: bool) {
        let c = self.chunks.len();
        self.chunks.push(Chunk { origin, name, out, rva: 0, size, align, has_data });
        self.sections[out].chunks.push(c);
    }
}

/// MinGW strips the `$` suffix of COMDAT sections of the standard sections (lld's
/// `shouldStripSectionSuffix`).
fn strip_suffix(mingw: bool, comdat: bool, name: &str) -> bool {
    mingw
        && comdat
        && [".text$", ".data$", ".rdata$", ".pdata$", ".xdata$", ".eh_frame$"].iter().any(|p| name.starts_with(p))
}

/// A chunk of a partial section: origin, name, size, alignment, whether it has file data.
type PartialChunk = (Origin, String, u64, u64, bool);

/// Lay out the image from the live, unfolded sections; the string literals lld tail-merges
/// (`merged`, see [`super::merge`]) go into its merged chunks.
pub fn lld(w: &World, live: &super::live::Live, folded: &HashSet<ChunkId>, merged: &HashSet<ChunkId>) -> Layout {
    let mingw = w.cfg.mingw;
    let mut b = Builder { sections: Vec::new(), chunks: Vec::new(), by_key: HashMap::new() };
    // link.exe's order.
    for (n, c) in [
        (".text", CODE | R | X),
        (".bss", BSS | R | W),
        (".rdata", DATA | R),
        (".buildid", DATA | R),
        (".data", DATA | R | W),
        (".pdata", DATA | R),
        (".idata", DATA | R),
        (".edata", DATA | R),
        (".didat", DATA | R),
        (".rsrc", DATA | R),
        (".reloc", DATA | DISCARD | R),
        (".ctors", DATA | R | W),
        (".dtors", DATA | R | W),
    ] {
        b.section(n, c);
    }
    // Partial sections keyed by (name, characteristics), in that order.
    let mut partial: BTreeMap<(Vec<u8>, u32), Vec<PartialChunk>> = BTreeMap::new();
    for (oi, o) in w.objs.iter().enumerate() {
        for s in w.read_order[oi].iter().filter_map(|&i| o.section(i)) {
            let id = ChunkId::new(oi, s.index);
            if !live[oi][s.index as usize - 1] || folded.contains(&id) || merged.contains(&id) {
                continue;
            }
            let flags = s.flags as u32;
            let comdat = flags & scn::LNK_COMDAT != 0;
            let key_name = if strip_suffix(mingw, comdat, &s.name) {
                s.name.split('$').next().unwrap_or(&s.name).to_string()
            } else {
                s.name.to_string()
            };
            let chars = flags & (0xFE00_0000 | 0xE0);
            let has_data = flags & scn::CNT_UNINIT == 0;
            partial.entry((key_name.into_bytes(), chars)).or_default().push((
                Origin::Input(id),
                s.name.to_string(),
                s.virtual_size,
                chunk_align(flags),
                has_data,
            ));
        }
        // Each object's common symbols: lld makes a chunk for every declaration it reads,
        // aligned to the size's power of two up to 32, whichever declaration wins.
        for s in &o.bin.symbols {
            if s.section_kind == Some(crate::model::SpecialSection::Common) {
                if let Some(&g) = w.by_name.get(s.name.as_ref()) {
                    let a = s.value.max(1).next_power_of_two().min(32);
                    partial.entry((b".bss".to_vec(), BSS | R | W)).or_default().push((
                        Origin::Common(g, oi),
                        format!("COMMON {}", s.name),
                        s.value,
                        a,
                        false,
                    ));
                }
            }
        }
    }
    // lld's fixPartialSectionChars and fixGnuImportChunks: .rsrc, .edata and .idata inputs are
    // read-only data whatever their flags say; .idata$* inputs (dlltool's import libraries)
    // are sorted by "archive/member".
    for prefix in [".rsrc", ".edata", ".idata"] {
        let keys: Vec<(Vec<u8>, u32)> = partial
            .keys()
            .filter(|(n, c)| {
                *c != DATA | R
                    && n.strip_prefix(prefix.as_bytes()).is_some_and(|rest| rest.is_empty() || rest[0] == b'$')
            })
            .cloned()
            .collect();
        for k in keys {
            let moved = partial.remove(&k).unwrap_or_default();
            partial.entry((k.0, DATA | R)).or_default().extend(moved);
        }
    }
    for ((name, _), list) in partial.iter_mut() {
        if name.starts_with(b".idata") {
            list.sort_by_key(|c| match c.0 {
                Origin::Input(ChunkId { obj: ObjId(oi), .. }) => {
                    let o = &w.objs[oi];
                    format!("{}/{}", o.archive.as_deref().unwrap_or(""), o.short)
                }
                _ => String::new(),
            });
        }
    }
    let imports = super::live::imports(w, live);
    let ptr = if w.machine == Machine::X64 { 8 } else { 4 };
    // Imports of delay-loaded DLLs leave the import tables for lld's delay-load chunks.
    let (delayed, regular): (Vec<_>, Vec<_>) =
        imports.iter().copied().partition(|&(obj, _)| super::delay::member_delayed(w, obj));
    import_tables(w, &regular, ptr, &mut partial);
    for ((name, chars), list) in partial {
        let name = String::from_utf8_lossy(&name).into_owned();
        // lld's getOutputSectionName: up to the `$`, and up to a later `.` (`.ctors.65535`,
        // gcc's `.text.startup` → `.ctors`, `.text`).
        let base = name.split('$').next().unwrap_or(&name);
        let out_name = match base.get(1..).and_then(|t| t.find('.')) {
            Some(i) => base[..i + 1].to_string(),
            None => base.to_string(),
        };
        let chars = if out_name == ".CRT" { DATA | R } else { chars };
        let out = b.section(&out_name, chars);
        for (origin, n, size, align, has_data) in list {
            b.add(out, origin, n, size, align, has_data);
        }
    }
    let mut notes = Vec::new();
    // Import thunks (`jmp [IAT]`) go after every .text input, in import order.
    let text = b.section(".text", CODE | R | X);
    for &(ObjId(oi), thunk) in &imports {
        if let (true, Some(imp)) = (thunk, w.objs[oi].bin.import_object.as_ref()) {
            // x64 thunks are 16-byte aligned (branch targets); i386 ones are not.
            let align = if w.machine == Machine::X64 { 16 } else { 1 };
            b.add(text, Origin::Synthetic("import thunk"), format!("import thunk {}", imp.symbol), 6, align, true);
        }
    }
    for (sec, origin, name, size, align, data) in super::delay::chunks(w, &by_dll(w, &delayed)) {
        let chars = match sec {
            ".text" => CODE | R | X,
            ".data" => DATA | R | W,
            _ => DATA | R,
        };
        let out = b.section(sec, chars);
        b.add(out, origin, name, size, align, data);
    }
    // Linker-made chunks of known size: the merged string literals, then the debug directory.
    let rdata = b.section(".rdata", DATA | R);
    let mut merged_chunks = Vec::new();
    for m in super::merge::chunks(w, live, merged) {
        merged_chunks.push((b.chunks.len(), m.clone()));
        let name = format!("merged string literals (align {})", m.align);
        b.add(rdata, Origin::Synthetic("merged string literals"), name, m.size, m.align, true);
    }
    let debug_sec = if mingw { b.section(".buildid", DATA | R) } else { b.section(".rdata", DATA | R) };
    if w.cfg.debug || w.cfg.repro {
        let entries = u64::from(w.cfg.debug) + u64::from(w.cfg.repro);
        b.add(debug_sec, Origin::Synthetic("debug directory"), "debug directory".into(), 28 * entries, 4, true);
    }
    if w.cfg.debug {
        // `RSDS`, GUID, age and the PDB path (lld's `CVDebugRecordChunk`, byte-aligned).
        let size = super::debug::codeview_size(&w.cfg.codeview_path);
        b.add(debug_sec, Origin::Synthetic("CodeView record"), "CodeView build id".into(), size, 1, true);
    }
    // MinGW: the runtime pseudo-relocation list (empty: no bytes, still 4-aligned).
    if super::autoimport::enabled(w) {
        let size = super::autoimport::table_size(w.pseudo_relocs.len());
        let name = format!("runtime pseudo-relocation list ({} entries)", w.pseudo_relocs.len());
        b.add(rdata, Origin::Synthetic("runtime pseudo-relocation list"), name, size, 4, true);
    }
    if mingw {
        let ctors = b.section(".ctors", DATA | R | W);
        let dtors = b.section(".dtors", DATA | R | W);
        for (sec, what) in [(ctors, "__CTOR_LIST__"), (dtors, "__DTOR_LIST__")] {
            let head = b.chunks.len();
            b.chunks.push(Chunk {
                origin: Origin::Synthetic(what),
                name: format!("{what} head (-1)"),
                out: sec,
                rva: 0,
                size: ptr,
                align: ptr,
                has_data: true,
            });
            b.sections[sec].chunks.insert(0, head);
            b.add(sec, Origin::Synthetic(what), format!("{what} end (0)"), ptr, ptr, true);
        }
    }
    // lld's createExportTable: the export directory's chunks in `.edata`, unless inputs bring
    // their own `.edata` (then lld writes those).
    if !w.exports.is_empty() {
        let edata = b.section(".edata", DATA | R);
        if b.sections[edata].chunks.is_empty() {
            for (name, size) in super::exports::edata_chunks(&w.exports, &w.dll_name) {
                b.add(edata, Origin::Synthetic("export table"), name, size, 1, true);
            }
        }
    }
    // Discardable sections last, .rsrc just before them.
    let mut order: Vec<usize> = (0..b.sections.len()).collect();
    let rank = |s: &OutSection| {
        if s.characteristics & DISCARD != 0 {
            2
        } else if s.name == ".rsrc" {
            1
        } else {
            0
        }
    };
    order.sort_by_key(|&i| rank(&b.sections[i]));
    // Merges: the user's first, then lld's defaults; applied in `from` name order.
    let mut merge: BTreeMap<String, String> = BTreeMap::new();
    for (f, t) in &w.cfg.merges {
        merge.entry(f.clone()).or_insert_with(|| t.clone());
    }
    let mut defaults =
        vec![(".idata", ".rdata"), (".didat", ".rdata"), (".edata", ".rdata"), (".xdata", ".rdata"), (".bss", ".data")];
    if mingw {
        defaults.extend([(".ctors", ".rdata"), (".dtors", ".rdata"), (".CRT", ".rdata")]);
    }
    for (f, t) in defaults {
        merge.entry(f.to_string()).or_insert_with(|| t.to_string());
    }
    for (from, to) in &merge {
        let mut to_name = to.clone();
        if *from == to_name {
            continue;
        }
        let mut seen = HashSet::new();
        let mut cycle = false;
        loop {
            if !seen.insert(to_name.clone()) {
                cycle = true;
                break;
            }
            match merge.get(&to_name) {
                Some(n) => to_name = n.clone(),
                None => break,
            }
        }
        if cycle {
            notes.push(format!("/merge: cycle found for section '{from}'"));
            continue;
        }
        let find = |n: &str, b: &Builder| order.iter().copied().find(|&i| b.sections[i].name == n);
        let Some(f) = find(from, &b) else { continue };
        match find(&to_name, &b) {
            None => b.sections[f].name = to_name,
            Some(t) if t != f => {
                let moved = std::mem::take(&mut b.sections[f].chunks);
                for &c in &moved {
                    b.chunks[c].out = t;
                }
                b.sections[t].chunks.extend(moved);
            }
            Some(_) => {}
        }
    }
    // Sections with no chunks go before addresses are assigned (.reloc is filled later).
    order.retain(|&i| !b.sections[i].chunks.is_empty() || b.sections[i].name == ".reloc");
    let is64 = w.machine == Machine::X64;
    let headers = 128 + 4 + 20 + if is64 { 112 } else { 96 } + 16 * 8 + 40 * order.len() as u64;
    let size_of_headers = align_up(headers, w.cfg.file_align);
    let mut rva = align_up(size_of_headers, w.cfg.align);
    let mut file = size_of_headers;
    for &si in &order {
        if b.sections[si].name == ".reloc" && b.sections[si].characteristics & DISCARD != 0 && w.cfg.relocatable {
            add_base_relocs(w, &mut b, si);
        }
        let (mut vsize, mut raw) = (0u64, 0u64);
        for &c in &b.sections[si].chunks {
            let ch = &mut b.chunks[c];
            vsize = align_up(vsize, ch.align);
            ch.rva = rva + vsize;
            vsize += ch.size;
            if ch.has_data {
                raw = align_up(vsize, w.cfg.file_align);
            }
        }
        let s = &mut b.sections[si];
        s.rva = rva;
        s.virtual_size = vsize;
        s.raw_size = raw;
        s.file_offset = if raw != 0 { file } else { 0 };
        rva += align_up(vsize, w.cfg.align);
        file += align_up(raw, w.cfg.file_align);
    }
    order.retain(|&i| b.sections[i].virtual_size != 0);
    // The image's section list in order; chunks of removed (empty) sections point nowhere.
    let mut chunks = b.chunks;
    for c in &mut chunks {
        c.out = usize::MAX;
    }
    let mut sections = Vec::new();
    for &i in &order {
        for &c in &b.sections[i].chunks {
            chunks[c].out = sections.len();
        }
        sections.push(b.sections[i].clone());
    }
    Layout { sections, chunks, size_of_headers, notes, merged: merged_chunks, common_offsets: Vec::new() }
}

/// The import members grouped by DLL as lld's `binImports` groups them: DLLs in the order their
/// first import was loaded, each DLL's imports sorted by symbol.
fn by_dll<'a>(w: &'a World, imports: &[(ObjId, bool)]) -> Vec<(String, Vec<&'a crate::model::ImportObject>)> {
    let mut dlls: Vec<(String, Vec<&crate::model::ImportObject>)> = Vec::new();
    for &(ObjId(oi), _) in imports {
        let Some(imp) = w.objs[oi].bin.import_object.as_ref() else { continue };
        match dlls.iter_mut().find(|(d, _)| d.eq_ignore_ascii_case(&imp.dll)) {
            Some((_, list)) => list.push(imp),
            None => dlls.push((imp.dll.clone(), vec![imp])),
        }
    }
    for (_, list) in &mut dlls {
        list.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    }
    dlls
}

/// The size of an import's hint/name entry (lld's `HintNameChunk`: the hint, the name and its
/// NUL, 2-aligned); None for an import by ordinal, which has none.
pub fn hint_name_size(imp: &crate::model::ImportObject) -> Option<u64> {
    let name = imp.import_name.as_deref().filter(|_| imp.name_type != crate::model::ImportNameType::Ordinal)?;
    Some(align_up(name.len() as u64 + 3, 2))
}

/// How an import's table chunks name it: its name, or `#ordinal`.
pub fn import_shown(imp: &crate::model::ImportObject) -> String {
    imp.import_name.clone().unwrap_or_else(|| format!("#{}", imp.ordinal_or_hint))
}

/// lld's import tables (`IdataContents::create`) as partial sections `.idata$2` (directory),
/// `$4` (lookup), `$5` (IAT), `$6` (hint/name), `$7` (DLL names), after the inputs of the same
/// names: DLLs in the order their first import was loaded, each DLL's imports sorted by name.
fn import_tables(
    w: &World,
    imports: &[(ObjId, bool)],
    ptr: u64,
    partial: &mut BTreeMap<(Vec<u8>, u32), Vec<PartialChunk>>,
) {
    let dlls = by_dll(w, imports);
    // lld writes the directory's terminator whenever there are import tables at all, dlltool's
    // `.idata$*` inputs included.
    let gnu_idata = partial.iter().any(|((n, _), v)| n.starts_with(b".idata") && !v.is_empty());
    if dlls.is_empty() && !gnu_idata {
        return;
    }
    let syn =
        |name: String, size: u64, align: u64, data: bool| (Origin::Synthetic("import tables"), name, size, align, data);
    let (mut dirs, mut lookups, mut addresses, mut hints, mut names) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (dll, list) in &dlls {
        for imp in list {
            let shown = import_shown(imp);
            lookups.push(syn(format!("ILT {dll}!{shown}"), ptr, ptr, true));
            addresses.push(syn(format!("IAT {dll}!{shown}"), ptr, ptr, true));
            if let Some(size) = hint_name_size(imp) {
                hints.push(syn(format!("hint/name {shown}"), size, 2, true));
            }
        }
        lookups.push(syn(format!("ILT {dll} end"), ptr, 1, false));
        addresses.push(syn(format!("IAT {dll} end"), ptr, 1, false));
        names.push(syn(format!("DLL name {dll}"), dll.len() as u64 + 1, 1, true));
        dirs.push(syn(format!("import directory {dll}"), 20, 4, true));
    }
    dirs.push(syn("import directory end".into(), 20, 1, false));
    for (n, v) in
        [(".idata$2", dirs), (".idata$4", lookups), (".idata$5", addresses), (".idata$6", hints), (".idata$7", names)]
    {
        if !v.is_empty() {
            partial.entry((n.as_bytes().to_vec(), DATA | R)).or_default().extend(v);
        }
    }
}

/// lld's `.reloc`: one block per 4 KiB page of the fields DIR64 (x64) / HIGHLOW (x86)
/// relocations patch, each `8 + 2n` bytes rounded up to 4.
fn add_base_relocs(w: &World, b: &mut Builder, reloc_sec: usize) {
    let mut fields: Vec<u64> = Vec::new();
    for ch in &b.chunks {
        // An i386 thunk's `jmp [IAT]` holds the slot's address.
        if ch.origin == Origin::Synthetic("import thunk") && w.machine == Machine::X86 {
            fields.push(ch.rva + 2);
        }
        if ch.origin == Origin::Synthetic("delay-load imports") {
            fields.extend(super::delay::base_reloc_field(w.machine, &ch.name, ch.rva));
        }
        let Origin::Input(ChunkId { obj: ObjId(oi), section: sec }) = ch.origin else { continue };
        if b.sections[ch.out].characteristics & DISCARD != 0 {
            continue;
        }
        let o = &w.objs[oi];
        for r in o.relocs(sec) {
            if makes_base_reloc(w, oi, r) {
                fields.push(ch.rva + r.offset);
            }
        }
    }
    for (page, size) in reloc_blocks(fields) {
        b.add(
            reloc_sec,
            Origin::Synthetic("base relocations"),
            format!("base relocation block 0x{page:x}"),
            size,
            4,
            true,
        );
    }
}

/// Whether relocation `r` of object `oi` makes the linker write a base relocation: DIR64 (x64
/// ADDR64) or HIGHLOW (i386 DIR32), unless its target is absolute or nothing.
pub fn makes_base_reloc(w: &World, oi: usize, r: &crate::formats::coff::lean::LeanReloc) -> bool {
    let based = match w.machine {
        Machine::X64 => r.raw_type == 1,
        Machine::X86 => r.raw_type == 6,
    };
    let pos = r.symbol_index.and_then(|i| w.objs[oi].sym_at(i));
    let absolute = pos.is_some_and(|p| match w.sym_targets[oi][p] {
        super::resolve::Target::Global(g) => matches!(w.globals[g].def, Def::Absolute(_)),
        super::resolve::Target::None => true,
        _ => false,
    });
    based && !absolute
}

/// The `.reloc` blocks for these field RVAs: (page, size) with `8 + 2n` bytes rounded up to 4.
pub fn reloc_blocks(mut fields: Vec<u64>) -> Vec<(u64, u64)> {
    fields.sort_unstable();
    let mut out = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let page = fields[i] & !0xfff;
        let mut j = i;
        while j < fields.len() && fields[j] & !0xfff == page {
            j += 1;
        }
        out.push((page, align_up(8 + 2 * (j - i) as u64, 4)));
        i = j;
    }
    out
}
