//! A lean reading of a COFF object for the link simulation: the header, the section table,
//! the symbols and the relocations, and nothing else — no header fields with their help text,
//! no decoded flag names or aux records in words, no demangled names, no implicit addends. A
//! well-formed object (regular or bigobj) is read here directly; anything the full reader would
//! flag (a truncated table, a symbol table past the end of the file, …) or that is not a plain
//! COFF object (an import member, an anonymous object) is read by [`crate::formats::load`] and
//! taken from its model with [`LeanObject::from_binary`], so both ways give the same values and
//! the same first error.

use std::borrow::Cow;

use super::header::{scn, section_name};
use super::symbols::{string_table, CLASS_EXTERNAL, CLASS_FILE, CLASS_FUNCTION, CLASS_STATIC};
use crate::formats::bytes::{array_at, cstr_at, text, u16_at, u32_at, u8_at};
use crate::model::{Binary, Binding, ImportObject, SpecialSection, SymbolKind};

/// A section as the link needs it.
#[derive(Debug, Clone)]
pub struct LeanSection {
    /// 1-based index.
    pub index: u32,
    /// Name, long names resolved (the common ones not allocated).
    pub name: Cow<'static, str>,
    /// Characteristics.
    pub flags: u64,
    /// Size (SizeOfRawData: an object's VirtualSize is 0).
    pub virtual_size: u64,
    /// Offset of the raw data (0 without data).
    pub file_offset: u64,
    /// Bytes in the file (0 for uninitialised data).
    pub file_size: u64,
    /// Whether it holds code (`EXECUTE` or `CNT_CODE`).
    pub is_exec: bool,
}

impl LeanSection {
    /// The section's bytes inside the object `data` (clamped to the file).
    pub fn bytes<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        let start = usize::try_from(self.file_offset).unwrap_or(usize::MAX).min(data.len());
        let len = usize::try_from(self.file_size).unwrap_or(usize::MAX);
        &data[start..start.saturating_add(len).min(data.len())]
    }
}

/// A symbol record (its aux records are read from the bytes when asked for).
#[derive(Debug, Clone)]
pub struct LeanSymbol {
    /// Index in the table, counting aux records.
    pub index: u32,
    /// Raw name (the common ones not allocated).
    pub name: Cow<'static, str>,
    /// Value.
    pub value: u64,
    /// Section (1-based), None for undefined / absolute / common / debug.
    pub section: Option<u32>,
    /// What a symbol without a section is.
    pub section_kind: Option<SpecialSection>,
    /// Kind, as the model derives it.
    pub kind: SymbolKind,
    /// Storage class as a binding.
    pub binding: Binding,
    /// Number of aux records.
    pub aux_count: u8,
    /// File offset of the record (its aux records follow).
    pub offset: u64,
}

impl LeanSymbol {
    /// A copy with an empty name (cheap: the name is the only allocation).
    pub fn without_name(&self) -> LeanSymbol {
        LeanSymbol { name: Cow::Borrowed(""), ..*self }
    }
}

/// A relocation: where, which type, which symbol.
#[derive(Debug, Clone, Copy)]
pub struct LeanReloc {
    /// The patched section.
    pub section: Option<u32>,
    /// Offset in the section.
    pub offset: u64,
    /// Raw type.
    pub raw_type: u32,
    /// Symbol table index named.
    pub symbol_index: Option<u32>,
}

/// A COMDAT section's selection and, for ASSOCIATIVE, its parent (0 otherwise).
#[derive(Debug, Clone, Copy)]
pub struct LeanComdat {
    /// The COMDAT section.
    pub section: u32,
    /// Selection 1–7 (as stored).
    pub selection: u8,
    /// The associated section for selection 5, else 0.
    pub associated: u32,
}

/// An object as the link reads it.
#[derive(Debug, Clone, Default)]
pub struct LeanObject {
    /// Size of one symbol record (18, or 20 for bigobj).
    pub record_size: u64,
    /// Sections in header order.
    pub sections: Vec<LeanSection>,
    /// Symbols in table order (aux records folded into their owner).
    pub symbols: Vec<LeanSymbol>,
    /// Table index → position in `symbols` (`u32::MAX` for an aux record).
    pub by_index: Vec<u32>,
    /// Relocations, section by section.
    pub relocations: Vec<LeanReloc>,
    /// Per section (index − 1): its range in `relocations`.
    pub reloc_ranges: Vec<(u32, u32)>,
    /// COMDAT sections with a section-definition aux record, in section order.
    pub comdats: Vec<LeanComdat>,
    /// A short import member's fields.
    pub import_object: Option<ImportObject>,
}

impl LeanObject {
    /// Read a well-formed COFF object (regular or bigobj). None: the full reader must read it.
    pub fn read(data: &[u8]) -> Option<Self> {
        if data.starts_with(b"!<") || data.starts_with(b"\x7fELF") || data.starts_with(b"MZ") || data.starts_with(b"ZM")
        {
            return None;
        }
        if crate::formats::archive::is_import_object(data) {
            return None;
        }
        let bigobj = super::is_bigobj(data);
        let (nsec, symptr, nsym, sect_off) = if bigobj {
            (u32_at(data, 44)?, u32_at(data, 48)?, u32_at(data, 52)?, 56u64)
        } else {
            if u16_at(data, 0) == Some(0) && u16_at(data, 2) == Some(0xffff) {
                return None;
            }
            if !super::looks_like_object(data) || data.len() < 20 || u16_at(data, 16) != Some(0) {
                return None;
            }
            (u32::from(u16_at(data, 2)?), u32_at(data, 8)?, u32_at(data, 12)?, 20u64)
        };
        let rs: u64 = if bigobj { 20 } else { 18 };
        let len = data.len() as u64;
        if symptr != 0 && (u64::from(symptr) + u64::from(nsym) * rs > len || u32_at(data, u64::from(symptr)).is_none())
        {
            return None;
        }
        if sect_off + u64::from(nsec) * 40 > len {
            return None;
        }
        let strtab = string_table(data, u64::from(symptr), u64::from(nsym), rs);
        let mut o = LeanObject { record_size: rs, ..Default::default() };
        o.sections.reserve(nsec as usize);
        let mut reloc_at = Vec::with_capacity(nsec as usize);
        for i in 0..nsec {
            let h = sect_off + u64::from(i) * 40;
            let r = |off| u32_at(data, h + off).unwrap_or(0);
            let raw = array_at::<8>(data, h)?;
            let name = match common(&raw[..raw.iter().position(|&b| b == 0).unwrap_or(8)]) {
                Some(n) => Cow::Borrowed(n),
                None => Cow::Owned(section_name(&raw, strtab).0),
            };
            let c = r(36);
            let size = r(16);
            let file_size = if c & scn::CNT_UNINIT != 0 { 0 } else { u64::from(size) };
            let mut count = u32::from(u16_at(data, h + 32)?);
            let mut start = u64::from(r(24));
            if c & scn::NRELOC_OVFL != 0 && count == 0xffff {
                if let Some(n) = u32_at(data, start) {
                    count = n.saturating_sub(1);
                }
                start += 10;
            }
            if u64::from(count) > len.saturating_sub(start) / 10 {
                return None;
            }
            reloc_at.push((start, count));
            o.sections.push(LeanSection {
                index: i + 1,
                name,
                flags: u64::from(c),
                virtual_size: u64::from(size),
                file_offset: if file_size == 0 { 0 } else { u64::from(r(20)) },
                file_size,
                is_exec: c & (scn::EXECUTE | scn::CNT_CODE) != 0,
            });
        }
        o.read_symbols(data, u64::from(if symptr == 0 { 0 } else { nsym }), u64::from(symptr), bigobj, strtab);
        o.read_comdats(data, bigobj);
        o.reloc_ranges.reserve(reloc_at.len());
        for (i, (start, count)) in reloc_at.into_iter().enumerate() {
            let first = o.relocations.len() as u32;
            for k in 0..u64::from(count) {
                let r = start + k * 10;
                let (Some(va), Some(symi), Some(t)) = (u32_at(data, r), u32_at(data, r + 4), u16_at(data, r + 8))
                else {
                    break;
                };
                o.relocations.push(LeanReloc {
                    section: Some(i as u32 + 1),
                    offset: u64::from(va),
                    raw_type: u32::from(t),
                    symbol_index: Some(symi),
                });
            }
            o.reloc_ranges.push((first, o.relocations.len() as u32));
        }
        Some(o)
    }

    fn read_symbols(&mut self, data: &[u8], n: u64, symptr: u64, bigobj: bool, strtab: Option<&[u8]>) {
        let rs = self.record_size;
        self.by_index.reserve(n as usize);
        let mut i = 0u64;
        while i < n {
            let off = symptr + i * rs;
            let Some(raw_name) = array_at::<8>(data, off) else { break };
            let name = if raw_name[..4] == [0, 0, 0, 0] {
                let so = u64::from(u32::from_le_bytes([raw_name[4], raw_name[5], raw_name[6], raw_name[7]]));
                strtab.and_then(|t| cstr_at(t, so, 65536)).map_or(Cow::Borrowed("<bad name>"), |b| Cow::Owned(text(b)))
            } else {
                let b = &raw_name[..raw_name.iter().position(|&b| b == 0).unwrap_or(8)];
                common(b).map_or_else(|| Cow::Owned(text(b)), Cow::Borrowed)
            };
            let value = u32_at(data, off + 8).unwrap_or(0);
            let (section, typ, class, naux) = super::symbols::record_fields(data, off, bigobj);
            let naux = if i + 1 + u64::from(naux) > n { (n - i - 1) as u8 } else { naux };
            let pos = self.symbols.len() as u32;
            self.by_index.push(pos);
            self.by_index.extend(std::iter::repeat_n(u32::MAX, usize::from(naux)));
            self.symbols.push(LeanSymbol {
                index: i as u32,
                name,
                value: u64::from(value),
                section: (section > 0).then_some(section as u32),
                section_kind: special(section, class, value),
                kind: symbol_kind(section, typ, class, naux, value),
                binding: Binding::from_storage_class(class),
                aux_count: naux,
                offset: off,
            });
            i += 1 + u64::from(naux);
        }
    }

    /// Each COMDAT section's selection from its section symbol (the first STATIC symbol with an
    /// aux record for it), as [`super::comdat::read_comdats`] finds it.
    fn read_comdats(&mut self, data: &[u8], bigobj: bool) {
        let nsec = self.sections.len();
        let mut section_sym: Vec<Option<usize>> = vec![None; nsec + 1];
        for (pos, s) in self.symbols.iter().enumerate() {
            if let Some(sec) = s.section.filter(|&x| x as usize <= nsec) {
                if s.aux_count > 0 && s.binding == Binding::Static && section_sym[sec as usize].is_none() {
                    section_sym[sec as usize] = Some(pos);
                }
            }
        }
        for sec in &self.sections {
            if sec.flags as u32 & scn::LNK_COMDAT == 0 {
                continue;
            }
            let Some(pos) = section_sym[sec.index as usize] else { continue };
            let a = self.symbols[pos].offset + self.record_size;
            let (Some(_), Some(_), Some(_), Some(low), Some(selection)) =
                (u32_at(data, a), u16_at(data, a + 4), u32_at(data, a + 8), u16_at(data, a + 12), u8_at(data, a + 14))
            else {
                continue;
            };
            let high = if bigobj {
                match u16_at(data, a + 16) {
                    Some(h) => u32::from(h),
                    None => continue,
                }
            } else {
                0
            };
            let number = u32::from(low) | (high << 16);
            self.comdats.push(LeanComdat {
                section: sec.index,
                selection,
                associated: if selection == 5 { number } else { 0 },
            });
        }
    }

    /// The same reading taken from the full model (for the objects
    /// [`LeanObject::read`] leaves to the full reader).
    pub fn from_binary(bin: &Binary) -> Self {
        let record_size = if bin.format == crate::model::Format::CoffBigobj { 20 } else { 18 };
        let sections = bin
            .sections
            .iter()
            .map(|s| LeanSection {
                index: s.index,
                name: Cow::Owned(s.name.clone()),
                flags: s.flags,
                virtual_size: s.virtual_size,
                file_offset: s.file_offset,
                file_size: s.file_size,
                is_exec: s.is_exec,
            })
            .collect();
        let mut by_index = Vec::new();
        let symbols = bin
            .symbols
            .iter()
            .enumerate()
            .map(|(pos, s)| {
                by_index.resize(s.index as usize, u32::MAX);
                by_index.push(pos as u32);
                by_index.extend(std::iter::repeat_n(u32::MAX, usize::from(s.aux_count)));
                LeanSymbol {
                    index: s.index,
                    name: Cow::Owned(s.name.clone()),
                    value: s.value,
                    section: s.section,
                    section_kind: s.section_kind,
                    kind: s.kind,
                    binding: s.binding,
                    aux_count: s.aux_count,
                    offset: s.span.offset,
                }
            })
            .collect();
        let mut relocations = Vec::with_capacity(bin.relocations.len());
        let mut reloc_ranges = vec![(0u32, 0u32); bin.sections.len()];
        for s in &bin.sections {
            let first = relocations.len() as u32;
            relocations.extend(bin.relocations.iter().filter(|r| r.section == Some(s.index)).map(|r| LeanReloc {
                section: r.section,
                offset: r.offset,
                raw_type: r.raw_type,
                symbol_index: r.symbol_index,
            }));
            if let Some(slot) = reloc_ranges.get_mut(s.index as usize - 1) {
                *slot = (first, relocations.len() as u32);
            }
        }
        let mut comdats: Vec<LeanComdat> = bin
            .comdats
            .iter()
            .map(|c| LeanComdat {
                section: c.section,
                selection: c.selection.unwrap_or(0),
                associated: c.associated_section.unwrap_or(0),
            })
            .collect();
        // The first row of a section counts (a stable sort keeps it first).
        comdats.sort_by_key(|c| c.section);
        comdats.dedup_by_key(|c| c.section);
        LeanObject {
            record_size,
            sections,
            symbols,
            by_index,
            relocations,
            reloc_ranges,
            comdats,
            import_object: bin.import_object.clone(),
        }
    }

    /// The COMDAT selection and associated section of section `sec`.
    pub fn comdat(&self, sec: u32) -> Option<(u8, u32)> {
        let i = self.comdats.partition_point(|c| c.section < sec);
        self.comdats.get(i).filter(|c| c.section == sec).map(|c| (c.selection, c.associated))
    }

    /// The position in `symbols` of the record at table index `index`.
    pub fn symbol_at(&self, index: u32) -> Option<usize> {
        self.by_index.get(index as usize).filter(|&&p| p != u32::MAX).map(|&p| p as usize)
    }

    /// The first aux record of symbol `pos`, if it has one.
    pub fn aux<'a>(&self, data: &'a [u8], pos: usize) -> Option<&'a [u8]> {
        let s = self.symbols.get(pos)?;
        if s.aux_count == 0 {
            return None;
        }
        let start = usize::try_from(s.offset + self.record_size).ok()?;
        data.get(start..start + self.record_size as usize)
    }

    /// The file name of a `.file` symbol's aux records.
    pub fn file_name(&self, data: &[u8], pos: usize) -> Option<String> {
        let s = self.symbols.get(pos)?;
        if s.aux_count == 0 {
            return None;
        }
        let start = usize::try_from(s.offset + self.record_size).ok()?.min(data.len());
        let end = start.saturating_add((self.record_size * u64::from(s.aux_count)) as usize).min(data.len());
        let b = &data[start..end];
        Some(text(&b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]))
    }
}

/// The section and symbol names nearly every object repeats, kept as static strings instead
/// of one allocation per section and section symbol.
fn common(b: &[u8]) -> Option<&'static str> {
    const NAMES: [&str; 16] = [
        ".text",
        ".data",
        ".bss",
        ".rdata",
        ".xdata",
        ".pdata",
        ".drectve",
        ".llvm_addrsig",
        ".debug$S",
        ".debug$T",
        "@feat.00",
        ".file",
        ".text$mn",
        ".CRT$XCU",
        ".tls",
        ".edata",
    ];
    NAMES.iter().find(|n| n.as_bytes() == b).copied()
}

/// The special meaning of a symbol without a section.
fn special(section: i32, class: u8, value: u32) -> Option<SpecialSection> {
    match section {
        0 if class == CLASS_EXTERNAL && value != 0 => Some(SpecialSection::Common),
        0 => Some(SpecialSection::Undefined),
        -1 => Some(SpecialSection::Absolute),
        -2 => Some(SpecialSection::Debug),
        n if n > 0 => None,
        n => Some(SpecialSection::Reserved(n)),
    }
}

/// The model's symbol kind.
fn symbol_kind(section: i32, typ: u16, class: u8, naux: u8, value: u32) -> SymbolKind {
    if class == CLASS_FILE {
        SymbolKind::File
    } else if class == CLASS_STATIC && naux > 0 && value == 0 && section > 0 {
        SymbolKind::Section
    } else if (typ >> 4) & 3 == 2 {
        SymbolKind::Function
    } else if class == CLASS_FUNCTION || class == 6 {
        SymbolKind::Label
    } else if section > 0 {
        SymbolKind::Data
    } else {
        SymbolKind::Unknown
    }
}
