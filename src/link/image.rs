//! The simulated image written out: every chunk of the layout at its file offset, the input
//! sections' bytes with their relocations applied as the linker applies them (`S + A`, `S − P − 4
//! + A`, …, the addend being the field's own bytes), and the chunks the linker makes itself
//! (lld's import tables and thunks, the runtime pseudo-relocation list, base relocations, the
//! constructor-list sentinels, merged string literals), then the headers
//! ([`super::image_headers`]).
//!
//! What cannot be known without the linker's own output (a CodeView GUID hashed from the image,
//! a symbol the linker script defines that is not modelled, a relocation type not modelled) is
//! left as the input's bytes or zero, and listed in [`Image::unknown`] with its range and the
//! reason: those bytes are never claimed to be the linker's.

use std::collections::HashMap;

use super::args::Machine;
use super::layout::{Chunk, Layout, Origin};
use super::resolve::{ChunkId, Def, GlobalId, ObjId, Target, World};
use crate::formats::coff::header::scn;

mod tables;
use tables::thunk;

/// A simulated image.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// The file, as the linker would write it (headers, then each section's raw data).
    pub bytes: Vec<u8>,
    /// The bytes not known, in address order.
    pub unknown: Vec<Unknown>,
}

/// A run of bytes the simulation cannot know, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unknown {
    /// Output section (`headers` for the headers).
    pub section: String,
    /// RVA of the first byte.
    pub rva: u64,
    /// How many bytes.
    pub size: u64,
    /// Why.
    pub why: String,
}

impl Image {
    /// Whether every byte of output section `name` is known.
    pub fn complete(&self, name: &str) -> bool {
        !self.unknown.iter().any(|u| u.section == name)
    }
}

/// The link's results the writer needs besides the world and the layout.
pub struct Inputs<'a> {
    /// ICF: each folded section and the section it was folded into.
    pub folds: &'a [(ChunkId, ChunkId)],
    /// The image base.
    pub image_base: u64,
    /// The entry point's RVA, when known.
    pub entry: Option<u64>,
}

/// Write the simulated image of `lay` (call before the world's symbols are released).
pub fn write(w: &World, lay: &Layout, inp: &Inputs) -> Result<Image, ImageError> {
    check(w, lay)?;
    let mut wr = Writer::new(w, lay, inp);
    wr.fill_code_gaps();
    for (ci, c) in lay.chunks.iter().enumerate() {
        wr.chunk(ci, c);
    }
    wr.base_relocs();
    wr.sort_pdata();
    let mut bytes = wr.out;
    let dirs = super::image_headers::directories(w, lay, &wr.addr);
    if let Err(why) = super::image_headers::write(&mut bytes, w, lay, inp, &dirs) {
        wr.unknown.push(Unknown { section: "headers".into(), rva: 0, size: lay.size_of_headers, why });
    }
    wr.unknown.sort_by_key(|u| u.rva);
    Ok(Image { bytes, unknown: wr.unknown })
}

/// Why no image is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// An input section claims more data than its file holds (a damaged or hostile object).
    #[error("{file}: section {section} ({name}) claims 0x{size:x} bytes of data, the file holds 0x{held:x}: no image is written")]
    Truncated {
        /// The object.
        file: String,
        /// Its section number.
        section: u32,
        /// The section's name.
        name: String,
        /// The size the section claims.
        size: u64,
        /// The bytes the file holds for it.
        held: u64,
    },
    /// The file would pass the 4 GiB a PE image can address, or be far bigger than its inputs
    /// (more than 4 × their bytes + 64 MiB: zeros a hostile size asks for).
    #[error("the image would be 0x{size:x} bytes from 0x{inputs:x} bytes of objects (more than 4 GiB, or 4 × the inputs + 64 MiB): no image is written")]
    TooBig {
        /// The file's size.
        size: u64,
        /// The inputs' bytes.
        inputs: u64,
    },
}

/// Refuse layouts whose file the inputs cannot fill: every input section with data must hold
/// its bytes, and the file must fit PE's 32-bit offsets.
fn check(w: &World, lay: &Layout) -> Result<(), ImageError> {
    for c in lay.chunks.iter().filter(|c| c.has_data) {
        let Origin::Input(id) = c.origin else { continue };
        let o = &w.objs[id.oi()];
        let held = o.section_bytes(id.section).len() as u64;
        if c.size > held {
            let name = o.section(id.section).map_or_else(String::new, |s| s.name.to_string());
            return Err(ImageError::Truncated { file: o.name.clone(), section: id.section, name, size: c.size, held });
        }
    }
    // A file is about as big as the data its inputs hold; uninitialised data between chunks
    // with bytes is written as zeros, which a hostile size could make huge.
    let end = lay.sections.iter().map(|s| s.file_offset + s.raw_size).max().unwrap_or(0);
    let inputs: u64 = w.objs.iter().map(|o| o.data().len() as u64).sum();
    if end > u64::from(u32::MAX) || end > 4 * inputs + (64 << 20) {
        return Err(ImageError::TooBig { size: end, inputs });
    }
    Ok(())
}

/// Where things are: every placed input section and common symbol.
pub struct Addresses {
    /// The image base.
    pub base: u64,
    rva_of: HashMap<ChunkId, u64>,
    fold_of: HashMap<ChunkId, ChunkId>,
    common_rva: HashMap<(GlobalId, usize), u64>,
}

/// Each common symbol's storage, by (global, declaring object): its own chunk (lld), or its
/// place in its object's COMMON input (GNU ld).
pub fn common_rvas(lay: &Layout) -> HashMap<(GlobalId, usize), u64> {
    let mut out = HashMap::new();
    for c in &lay.chunks {
        match c.origin {
            Origin::Common(GlobalId(usize::MAX), oi) => out.extend(
                lay.common_offsets.iter().filter(|&&(_, o, _)| o == oi).map(|&(g, o, off)| ((g, o), c.rva + off)),
            ),
            Origin::Common(g, oi) => {
                out.insert((g, oi), c.rva);
            }
            _ => {}
        }
    }
    out
}

impl Addresses {
    /// Index the layout's chunks (and the ICF folds of `inp`).
    pub fn new(lay: &Layout, inp: &Inputs) -> Self {
        let mut rva_of: HashMap<ChunkId, u64> = lay
            .chunks
            .iter()
            .filter_map(|c| if let Origin::Input(id) = c.origin { Some((id, c.rva)) } else { None })
            .collect();
        for (ci, m) in &lay.merged {
            if let Some(c) = lay.chunks.get(*ci) {
                rva_of.extend(m.pieces.iter().map(|&(id, off)| (id, c.rva + off)));
            }
        }
        Addresses {
            base: inp.image_base,
            rva_of,
            fold_of: inp.folds.iter().copied().collect(),
            common_rva: common_rvas(lay),
        }
    }

    /// The RVA of input section `c` (or of the section it was folded into).
    pub fn chunk_rva(&self, c: ChunkId) -> Option<u64> {
        self.rva_of.get(self.fold_of.get(&c).unwrap_or(&c)).copied()
    }
}

struct Writer<'a> {
    w: &'a World,
    lay: &'a Layout,
    addr: Addresses,
    out: Vec<u8>,
    /// The bytes not known.
    unknown: Vec<Unknown>,
    /// Each import member's IAT slot and thunk RVAs; the import member of each thunk.
    iat: HashMap<usize, u64>,
    thunk: HashMap<usize, u64>,
    thunk_at: HashMap<u64, usize>,
    /// The linker-made chunks by name.
    names: tables::Names,
}

impl<'a> Writer<'a> {
    fn new(w: &'a World, lay: &'a Layout, inp: &Inputs) -> Self {
        let end = lay.sections.iter().map(|s| s.file_offset + s.raw_size).max().unwrap_or(0);
        let addr = Addresses::new(lay, inp);
        let names = tables::Names::new(w, lay);
        let (mut iat, mut thunk) = (HashMap::new(), HashMap::new());
        for (oi, o) in w.objs.iter().enumerate() {
            let Some(imp) = &o.bin.import_object else { continue };
            let shown = super::layout::import_shown(imp);
            // A delay-loaded import's slot is in the delay IAT.
            let slot = names.folded(lay, &format!("IAT {}!{shown}", imp.dll));
            if let Some(c) = slot.or_else(|| names.folded(lay, &format!("delay IAT {}!{shown}", imp.dll))) {
                iat.insert(oi, c.rva);
            }
            if let Some(c) = names.folded(lay, &format!("import thunk {}", imp.symbol)) {
                thunk.insert(oi, c.rva);
            }
        }
        let size = end.max(lay.size_of_headers);
        let thunk_at = thunk.iter().map(|(&oi, &rva)| (rva, oi)).collect();
        Writer { w, lay, addr, out: vec![0; size as usize], unknown: Vec::new(), iat, thunk, thunk_at, names }
    }

    fn unknown(&mut self, out: usize, rva: u64, size: u64, why: String) {
        let section = self.lay.sections.get(out).map_or_else(String::new, |s| s.name.clone());
        self.unknown.push(Unknown { section, rva, size, why });
    }

    /// The filling of code sections: lld writes `int3` over the whole section before its
    /// chunks; GNU ld fills each gap between chunks with bfd's `nop`s (`bfd_arch_i386_fill`:
    /// x86-64 up to 10-byte long nops, i386 `66 90` and `90`).
    fn fill_code_gaps(&mut self) {
        let gnu = self.w.cfg.flavor == super::Flavor::GnuLd;
        let long = self.w.machine == Machine::X64;
        for s in self.lay.sections.iter().filter(|s| s.characteristics & scn::CNT_CODE != 0) {
            let range = s.file_offset as usize..(s.file_offset + s.raw_size) as usize;
            if !gnu {
                if let Some(b) = self.out.get_mut(range) {
                    b.fill(0xCC);
                }
                continue;
            }
            let mut end = s.rva;
            let mut gaps = Vec::new();
            for c in s.chunks.iter().filter_map(|&i| self.lay.chunks.get(i)) {
                if c.rva > end {
                    gaps.push((end, c.rva - end));
                }
                end = end.max(c.rva + c.size);
            }
            for (rva, n) in gaps {
                let off = (s.file_offset + rva - s.rva) as usize;
                if let Some(b) = self.out.get_mut(off..off + n as usize).filter(|_| rva - s.rva + n <= s.raw_size) {
                    nops(b, long);
                }
            }
        }
    }

    /// Write `bytes` at `rva` of output section `out` (what lies past its raw data is dropped).
    fn put(&mut self, out: usize, rva: u64, bytes: &[u8]) {
        let Some(s) = self.lay.sections.get(out) else { return };
        let Some(off) = rva.checked_sub(s.rva).filter(|&o| o < s.raw_size) else { return };
        let n = (bytes.len() as u64).min(s.raw_size - off) as usize;
        let at = (s.file_offset + off) as usize;
        if let Some(dst) = self.out.get_mut(at..at + n) {
            dst.copy_from_slice(&bytes[..n]);
        }
    }

    fn chunk(&mut self, ci: usize, c: &Chunk) {
        if !c.has_data {
            return;
        }
        match c.origin {
            Origin::Input(id) => self.input(c.out, c.rva, id),
            Origin::Common(..) => {}
            Origin::Synthetic(what) => self.synthetic(ci, c, what),
        }
    }

    /// An input section's bytes, relocated.
    fn input(&mut self, out: usize, rva: u64, id: ChunkId) {
        let o = &self.w.objs[id.oi()];
        let mut buf = o.section_bytes(id.section).to_vec();
        let mut causes = Vec::new();
        for r in o.relocs(id.section) {
            if let Err(why) = self.relocate(id.oi(), rva, &mut buf, r) {
                let sec = o.section(id.section).map_or("?", |s| &s.name);
                let width = field_width(self.w.machine, r.raw_type);
                causes.push((rva + r.offset, width, format!("{}({sec}) +0x{:x}: {why}", o.name, r.offset)));
            }
        }
        for (at, width, why) in causes {
            self.unknown(out, at, width, why);
        }
        self.put(out, rva, &buf);
    }

    /// The VA symbol `index` of object `oi` stands for.
    fn symbol_va(&self, oi: usize, index: u32) -> Result<u64, String> {
        let pos = self.w.objs[oi].sym_at(index).ok_or_else(|| format!("symbol index {index} is out of range"))?;
        match self.w.sym_targets.get(oi).and_then(|t| t.get(pos)) {
            Some(&Target::Local(c, off)) => self.chunk_va(c, off),
            Some(&Target::Global(g)) => self.global_va(g, 0),
            _ => Err("a symbol of a section not in the image".into()),
        }
    }

    fn chunk_va(&self, c: ChunkId, off: u64) -> Result<u64, String> {
        let rva = self.addr.chunk_rva(c).ok_or_else(|| {
            let o = &self.w.objs[c.oi()];
            format!("section {} of {} is not in the image", c.section, o.name)
        })?;
        Ok(self.addr.base.wrapping_add(rva).wrapping_add(off))
    }

    fn global_va(&self, g: GlobalId, depth: u8) -> Result<u64, String> {
        let gl = &self.w.globals[g.0];
        let rva = |v: Option<u64>, what: &str| {
            v.map(|r| self.addr.base.wrapping_add(r))
                .ok_or_else(|| format!("{} ({what}) has no place in the layout", gl.name))
        };
        if self.w.cfg.flavor == super::Flavor::GnuLd && super::image_headers::gnu_script_assigns(&gl.name) {
            if let Some(v) = super::image_headers::linker_symbol(self.w, self.lay, &self.addr, &gl.name) {
                return Ok(v);
            }
        }
        match &gl.def {
            Def::Regular { chunk, value, .. } => self.chunk_va(*chunk, *value),
            Def::Common { obj, .. } => rva(self.addr.common_rva.get(&(g, obj.0)).copied(), "common"),
            Def::Absolute(v) => Ok(*v),
            Def::Import { obj } => rva(self.iat.get(&obj.0).copied(), "an IAT slot"),
            Def::ImportThunk { obj } => rva(self.thunk.get(&obj.0).copied(), "an import thunk"),
            Def::Linker => super::image_headers::linker_symbol(self.w, self.lay, &self.addr, &gl.name)
                .ok_or_else(|| format!("{} is defined by the linker, and its value is not modelled", gl.name)),
            Def::Undefined | Def::Lazy { .. } => match gl.weak_alias {
                Some(Target::Global(t)) if depth < 8 => self.global_va(t, depth + 1),
                Some(Target::Local(c, off)) => self.chunk_va(c, off),
                _ => Err(format!("{} is undefined", gl.name)),
            },
        }
    }

    /// Apply relocation `r` to `buf`, the bytes of a section placed at `rva`.
    fn relocate(
        &self,
        oi: usize,
        rva: u64,
        buf: &mut [u8],
        r: &crate::formats::coff::lean::LeanReloc,
    ) -> Result<(), String> {
        let x64 = self.w.machine == Machine::X64;
        let ty = r.raw_type;
        if ty == 0 {
            return Ok(()); // ABSOLUTE
        }
        let s = match r.symbol_index {
            Some(i) => self.symbol_va(oi, i)?,
            None => return Err("a relocation without a symbol".into()),
        };
        let base = self.addr.base;
        let p = base.wrapping_add(rva).wrapping_add(r.offset);
        let section_of = |va: u64| {
            let rva = va.wrapping_sub(base);
            self.lay.sections.iter().position(|s| rva >= s.rva && rva < s.rva + s.virtual_size.max(1))
        };
        enum Add {
            W64(u64),
            W32(u64),
            W16(u64),
        }
        let add = match (x64, ty) {
            (true, 1) => Add::W64(s),
            (true, 2) | (false, 6) => Add::W32(s),
            (true, 3) | (false, 7) => Add::W32(s.wrapping_sub(base)),
            (true, 4..=9) => Add::W32(s.wrapping_sub(p + 4 + u64::from(ty - 4))),
            (false, 0x14) => Add::W32(s.wrapping_sub(p + 4)),
            (true, 0xA) | (false, 0xA) => {
                let i = section_of(s).ok_or("a SECTION relocation to a symbol in no section")?;
                // The section's number in the table written (empty sections are not).
                Add::W16(self.lay.sections[..=i].iter().filter(|s| s.virtual_size > 0).count() as u64)
            }
            (true, 0xB) | (false, 0xB) => {
                let i = section_of(s).ok_or("a SECREL relocation to a symbol in no section")?;
                Add::W32(s.wrapping_sub(base).wrapping_sub(self.lay.sections[i].rva))
            }
            _ => {
                let (name, ..) = crate::formats::coff::relocs::reloc_info(self.w.objs[oi].machine, ty as u16);
                return Err(format!("relocation type {name} is not modelled"));
            }
        };
        let at = r.offset as usize;
        let width = field_width(self.w.machine, ty) as usize;
        let field = buf.get_mut(at..at + width).ok_or("a relocation past the end of its section")?;
        match add {
            Add::W64(v) => {
                let old = u64::from_le_bytes(field.try_into().unwrap_or_default());
                field.copy_from_slice(&old.wrapping_add(v).to_le_bytes());
            }
            Add::W32(v) => {
                let old = u32::from_le_bytes(field.try_into().unwrap_or_default());
                field.copy_from_slice(&old.wrapping_add(v as u32).to_le_bytes());
            }
            Add::W16(v) => {
                let old = u16::from_le_bytes(field.try_into().unwrap_or_default());
                field.copy_from_slice(&old.wrapping_add(v as u16).to_le_bytes());
            }
        }
        Ok(())
    }
}

impl Writer<'_> {
    /// A chunk the linker makes itself.
    fn synthetic(&mut self, ci: usize, c: &Chunk, what: &str) {
        let ptr = if self.w.machine == Machine::X64 { 8 } else { 4 };
        let bytes: Vec<u8> = match what {
            "import thunk" => match self.thunk_slot(c.rva) {
                Some(slot) if ptr == 8 => thunk(slot.wrapping_sub(c.rva + 6) as u32),
                Some(slot) => thunk((self.addr.base + slot) as u32),
                None => return self.unknown(c.out, c.rva, c.size, format!("{}: no IAT slot found", c.name)),
            },
            "import tables" => match self.import_table(ci, c, ptr) {
                Ok(b) => b,
                Err(why) => return self.unknown(c.out, c.rva, c.size, why),
            },
            "runtime pseudo-relocation list" => {
                let mut b: Vec<u8> = [0u32, 0, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
                for e in super::autoimport::entries(self.w, self.lay) {
                    for v in [e.sym_rva as u32, e.target_rva as u32, u32::from(e.bits)] {
                        b.extend(v.to_le_bytes());
                    }
                }
                b
            }
            "__CTOR_LIST__" | "__DTOR_LIST__" | "__CTOR_LIST__ (LONG -1)" | "__DTOR_LIST__ (LONG -1)"
                if !c.name.contains("end") =>
            {
                vec![0xFF; c.size as usize]
            }
            "merged string literals" => {
                let Some((_, m)) = self.lay.merged.iter().find(|(i, _)| *i == ci) else { return };
                let mut b = vec![0; c.size as usize];
                for &(id, off) in &m.pieces {
                    let src = self.w.objs[id.oi()].section_bytes(id.section);
                    if let Some(dst) = b.get_mut(off as usize..off as usize + src.len()) {
                        dst.copy_from_slice(src);
                    }
                }
                b
            }
            // Zeros, or written with the block list.
            "__CTOR_LIST__" | "__DTOR_LIST__" | "__CTOR_LIST__ end (LONG 0)" | "__DTOR_LIST__ end (LONG 0)" => return,
            "import directory terminator" | "base relocations" => return,
            "export table" => match self.export_chunk(c) {
                Ok(b) => b,
                Err(why) => return self.unknown(c.out, c.rva, c.size, why),
            },
            "export directory" => self.gnu_edata(c),
            "delay-load imports" => match self.delay_chunk(ci, c) {
                Ok(b) => b,
                Err(why) => return self.unknown(c.out, c.rva, c.size, why),
            },
            "debug directory" => self.debug_directory(c),
            "CodeView record" => self.codeview(c),
            _ => return self.unknown(c.out, c.rva, c.size, format!("{} ({what}) is laid out but not written", c.name)),
        };
        // Never past the chunk (an empty pseudo-relocation list has no header).
        self.put(c.out, c.rva, &bytes[..bytes.len().min(c.size as usize)]);
    }

    /// Both linkers sort x64 `.pdata` by function start once it is written (lld's
    /// `sortExceptionTable`, bfd's `sort_x64_pdata`).
    fn sort_pdata(&mut self) {
        if self.w.machine != Machine::X64 {
            return;
        }
        let Some(s) = self.lay.sections.iter().find(|s| s.name == ".pdata") else { return };
        let n = s.virtual_size.min(s.raw_size) as usize / 12 * 12;
        let Some(b) = self.out.get_mut(s.file_offset as usize..s.file_offset as usize + n) else { return };
        let mut entries: Vec<[u8; 12]> = b.chunks(12).filter_map(|e| e.try_into().ok()).collect();
        entries.sort_by_key(|e| u32::from_le_bytes([e[0], e[1], e[2], e[3]]));
        for (dst, e) in b.chunks_mut(12).zip(entries) {
            dst.copy_from_slice(&e);
        }
    }

    /// The base-relocation blocks: DIR64 (x64) / HIGHLOW (x86) for every field the loader moves,
    /// one block per 4 KiB page, each padded to 4 bytes with an ABSOLUTE entry.
    fn base_relocs(&mut self) {
        let blocks: Vec<&Chunk> =
            self.lay.chunks.iter().filter(|c| c.origin == Origin::Synthetic("base relocations")).collect();
        let Some(first) = blocks.first() else { return };
        let (out, start) = (first.out, first.rva);
        let room: u64 = blocks.iter().map(|c| c.size).sum();
        let x86 = self.w.machine == Machine::X86;
        let mut fields = Vec::new();
        for c in &self.lay.chunks {
            if self.lay.sections.get(c.out).is_some_and(|s| s.characteristics & scn::DISCARDABLE != 0) {
                continue;
            }
            match c.origin {
                Origin::Synthetic("import thunk") if x86 => fields.push(c.rva + 2),
                Origin::Synthetic("delay-load imports") => {
                    fields.extend(super::delay::base_reloc_field(self.w.machine, &c.name, c.rva))
                }
                Origin::Input(ChunkId { obj: ObjId(oi), section }) => fields.extend(
                    self.w.objs[oi]
                        .relocs(section)
                        .filter(|r| super::layout::makes_base_reloc(self.w, oi, r))
                        .map(|r| c.rva + r.offset),
                ),
                _ => {}
            }
        }
        fields.sort_unstable();
        let kind: u16 = if x86 { 3 } else { 10 };
        let mut b = Vec::new();
        for (page, size) in super::layout::reloc_blocks(fields.clone()) {
            b.extend((page as u32).to_le_bytes());
            b.extend((size as u32).to_le_bytes());
            let start = b.len();
            for f in fields.iter().filter(|&&f| f & !0xfff == page) {
                b.extend(((kind << 12) | (f & 0xfff) as u16).to_le_bytes());
            }
            b.resize(start + size as usize - 8, 0);
        }
        if b.len() as u64 != room {
            let why = format!("the base relocations take {} bytes, the layout made room for {room}", b.len());
            return self.unknown(out, start, room, why);
        }
        self.put(out, start, &b);
    }
}

/// The width of the field relocation type `ty` patches (ADDR64: 8, SECTION: 2, else 4).
fn field_width(machine: Machine, ty: u32) -> u64 {
    match (machine, ty) {
        (Machine::X64, 1) => 8,
        (_, 0xA) => 2,
        _ => 4,
    }
}

/// bfd's `bfd_arch_i386_fill` for code: the longest nop that fits (10 bytes with long nops,
/// else 2), repeated, then the one for what is left.
fn nops(b: &mut [u8], long: bool) {
    const NOPS: [&[u8]; 10] = [
        &[0x90],
        &[0x66, 0x90],
        &[0x0f, 0x1f, 0x00],
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
        &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];
    let max = if long { 10 } else { 2 };
    for piece in b.chunks_mut(max) {
        piece.copy_from_slice(NOPS[piece.len() - 1]);
    }
}
