//! The COFF symbol table and string table (objects, bigobj, and images that keep symbols).

use crate::demangle::demangle;
use crate::formats::bytes::{array_at, cstr_at, text, u16_at, u32_at, u8_at};
use crate::model::{Binary, Binding, Location, Repeated, Severity, Span, SpecialSection, Symbol, SymbolKind};

/// A symbol as read, with the raw fields later passes need.
#[derive(Debug, Clone)]
pub struct RawSymbol {
    /// Index in the table (counting aux records).
    pub index: u32,
    /// Name.
    pub name: String,
    /// Value.
    pub value: u32,
    /// Section number (1-based; 0 undefined, -1 absolute, -2 debug).
    pub section: i32,
    /// Type.
    pub typ: u16,
    /// Storage class.
    pub class: u8,
    /// Number of aux records.
    pub naux: u8,
    /// File offset of the first aux record.
    pub aux_off: u64,
}

/// Section-definition aux record (format 5).
#[derive(Debug, Clone, Copy)]
pub struct AuxSection {
    /// Length of section data.
    pub length: u32,
    /// Number of relocations.
    pub nrelocs: u16,
    /// Checksum.
    pub checksum: u32,
    /// Associated section number (Number | HighNumber << 16 for bigobj).
    pub number: u32,
    /// COMDAT selection.
    pub selection: u8,
}

/// The symbol table as read.
#[derive(Debug, Default)]
pub struct SymbolTable {
    /// Symbols (aux records folded into their owner), in table order.
    pub symbols: Vec<RawSymbol>,
    /// For each table index, the position in `symbols` of the symbol that record belongs to.
    pub by_index: Vec<u32>,
    /// Size of one record (18, or 20 for bigobj).
    pub record_size: u64,
}

impl SymbolTable {
    /// The symbol starting at table index `i` (None for aux records or out of range).
    pub fn get(&self, i: u32) -> Option<&RawSymbol> {
        let pos = *self.by_index.get(i as usize)?;
        let s = self.symbols.get(pos as usize)?;
        (s.index == i).then_some(s)
    }

    /// Decode a section-definition aux record of `sym`, if it has one.
    pub fn aux_section(&self, data: &[u8], sym: &RawSymbol, bigobj: bool) -> Option<AuxSection> {
        if sym.naux == 0 || sym.class != CLASS_STATIC || sym.section <= 0 {
            return None;
        }
        let a = sym.aux_off;
        let high = if bigobj { u32::from(u16_at(data, a + 16)?) } else { 0 };
        Some(AuxSection {
            length: u32_at(data, a)?,
            nrelocs: u16_at(data, a + 4)?,
            checksum: u32_at(data, a + 8)?,
            number: u32::from(u16_at(data, a + 12)?) | (high << 16),
            selection: u8_at(data, a + 14)?,
        })
    }
}

/// `IMAGE_SYM_CLASS_EXTERNAL`.
pub const CLASS_EXTERNAL: u8 = 2;
/// `IMAGE_SYM_CLASS_STATIC`.
pub const CLASS_STATIC: u8 = 3;
/// `IMAGE_SYM_CLASS_FUNCTION` (.bf/.ef).
pub const CLASS_FUNCTION: u8 = 101;
/// `IMAGE_SYM_CLASS_FILE`.
pub const CLASS_FILE: u8 = 103;
/// `IMAGE_SYM_CLASS_WEAK_EXTERNAL`.
pub const CLASS_WEAK_EXTERNAL: u8 = 105;

/// Read the string table that follows the symbol table; None if absent.
pub fn string_table(data: &[u8], symptr: u64, nsyms: u64, record_size: u64) -> Option<&[u8]> {
    if symptr == 0 {
        return None;
    }
    let off = symptr.checked_add(nsyms.checked_mul(record_size)?)?;
    let size = u64::from(u32_at(data, off)?);
    let start = usize::try_from(off).ok()?;
    let avail = data.len().saturating_sub(start) as u64;
    let size = size.min(avail);
    data.get(start..start + usize::try_from(size).ok()?)
}

/// Read the symbol table; append model [`Symbol`]s to `bin` and return the raw table.
pub fn read_symbols(
    bin: &mut Binary,
    data: &[u8],
    symptr: u64,
    nsyms: u32,
    bigobj: bool,
    strtab: Option<&[u8]>,
) -> SymbolTable {
    let rs: u64 = if bigobj { 20 } else { 18 };
    let mut table = SymbolTable { record_size: rs, ..Default::default() };
    if symptr == 0 || nsyms == 0 {
        return table;
    }
    let avail = (data.len() as u64).saturating_sub(symptr) / rs;
    let n = if u64::from(nsyms) > avail {
        bin.diag(
            Severity::Error,
            Location::file(symptr),
            format!("symbol table claims {nsyms} records but only {avail} fit in the file"),
        );
        avail as u32
    } else {
        nsyms
    };
    table.by_index.reserve(n as usize);
    let mut bad_names = Repeated::new(Severity::Warning, "symbol names point outside the string table");
    let mut i: u32 = 0;
    while i < n {
        let off = symptr + u64::from(i) * rs;
        let Some(raw_name) = array_at::<8>(data, off) else {
            break;
        };
        let name_bytes: &[u8] = if raw_name[..4] == [0, 0, 0, 0] {
            let so = u64::from(u32::from_le_bytes([raw_name[4], raw_name[5], raw_name[6], raw_name[7]]));
            match strtab.and_then(|t| cstr_at(t, so, 65536)) {
                Some(s) => s,
                None => {
                    bad_names.add(Location::file(off), || {
                        format!("symbol {i}: name offset 0x{so:x} is outside the string table")
                    });
                    b"<bad name>"
                }
            }
        } else {
            let end = raw_name.iter().position(|&b| b == 0).unwrap_or(8);
            &data[off as usize..off as usize + end]
        };
        let name = text(name_bytes);
        let value = u32_at(data, off + 8).unwrap_or(0);
        let (section, typ, class, naux) = record_fields(data, off, bigobj);
        let naux_eff = if u64::from(i) + 1 + u64::from(naux) > u64::from(n) {
            bin.diag(
                Severity::Warning,
                Location::file(off),
                format!("symbol {i} ({name}) claims {naux} aux records past the end of the table"),
            );
            (n - i - 1) as u8
        } else {
            naux
        };
        let raw = RawSymbol { index: i, name, value, section, typ, class, naux: naux_eff, aux_off: off + rs };
        let pos = table.symbols.len() as u32;
        for _ in 0..=naux_eff {
            table.by_index.push(pos);
        }
        table.symbols.push(raw);
        i += 1 + u32::from(naux_eff);
    }
    bad_names.flush(bin);
    let nsections = bin.sections.len() as i32;
    let mut bad_sections = Repeated::new(Severity::Warning, "symbols refer to sections that do not exist");
    for s in &table.symbols {
        let aux = describe_aux(data, &table, s, bigobj);
        let (section, section_kind) = match s.section {
            0 if s.class == CLASS_EXTERNAL && s.value != 0 => (None, Some(SpecialSection::Common)),
            0 => (None, Some(SpecialSection::Undefined)),
            -1 => (None, Some(SpecialSection::Absolute)),
            -2 => (None, Some(SpecialSection::Debug)),
            n if n > 0 => {
                if n > nsections {
                    bad_sections.add(Location::file(symptr + u64::from(s.index) * rs), || {
                        format!("symbol {} ({}) refers to section {n}, but there are only {nsections}", s.index, s.name)
                    });
                }
                (Some(n as u32), None)
            }
            n => (None, Some(SpecialSection::Reserved(n))),
        };
        let kind = if s.class == CLASS_FILE {
            SymbolKind::File
        } else if s.class == CLASS_STATIC && s.naux > 0 && s.value == 0 && s.section > 0 {
            SymbolKind::Section
        } else if (s.typ >> 4) & 3 == 2 {
            SymbolKind::Function
        } else if s.class == CLASS_FUNCTION || s.class == 6 {
            SymbolKind::Label
        } else if s.section > 0 {
            SymbolKind::Data
        } else {
            SymbolKind::Unknown
        };
        bin.symbols.push(Symbol {
            index: s.index,
            demangled: demangle(&s.name),
            name: s.name.clone(),
            value: u64::from(s.value),
            size: None,
            section,
            section_kind,
            kind,
            binding: Binding::from_storage_class(s.class),
            raw_type: u32::from(s.typ),
            aux_count: s.naux,
            aux,
            span: Span::new(symptr + u64::from(s.index) * rs, rs * (1 + u64::from(s.naux))),
        });
    }
    bad_sections.flush(bin);
    table
}

/// Describe the aux records of a symbol in words.
fn describe_aux(data: &[u8], table: &SymbolTable, s: &RawSymbol, bigobj: bool) -> Vec<String> {
    if s.naux == 0 {
        return Vec::new();
    }
    let a = s.aux_off;
    if s.class == CLASS_FILE {
        let len = table.record_size * u64::from(s.naux);
        let b = crate::formats::bytes::slice_at(data, a, len).unwrap_or(&[]);
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        return vec![format!("file name: {}", text(&b[..end]))];
    }
    if let Some(x) = table.aux_section(data, s, bigobj) {
        let mut t = format!(
            "section definition: length 0x{:x}, {} relocations, checksum 0x{:08x}",
            x.length, x.nrelocs, x.checksum
        );
        if x.selection != 0 {
            t.push_str(&format!(", selection {} ({})", x.selection, selection_name(x.selection)));
            if x.selection == 5 {
                t.push_str(&format!(", associated section {}", x.number));
            }
        }
        return vec![t];
    }
    if s.class == CLASS_WEAK_EXTERNAL {
        let tag = u32_at(data, a).unwrap_or(0);
        let ch = u32_at(data, a + 4).unwrap_or(0);
        let how = match ch {
            1 => "NOLIBRARY",
            2 => "LIBRARY",
            3 => "ALIAS",
            4 => "ANTI_DEPENDENCY",
            _ => "?",
        };
        return vec![format!("weak external: default symbol {tag}, search {how} ({ch})")];
    }
    if s.class == CLASS_EXTERNAL && (s.typ >> 4) & 3 == 2 && s.section > 0 {
        let tag = u32_at(data, a).unwrap_or(0);
        let size = u32_at(data, a + 4).unwrap_or(0);
        return vec![format!("function definition: .bf index {tag}, size 0x{size:x}")];
    }
    if s.class == CLASS_FUNCTION {
        let line = u16_at(data, a + 4).unwrap_or(0);
        return vec![format!("{} line {line}", s.name)];
    }
    vec![format!("{} aux record(s)", s.naux)]
}

/// Name of a COMDAT selection value.
pub fn selection_name(s: u8) -> &'static str {
    match s {
        1 => "NODUPLICATES",
        2 => "ANY",
        3 => "SAME_SIZE",
        4 => "EXACT_MATCH",
        5 => "ASSOCIATIVE",
        6 => "LARGEST",
        7 => "NEWEST",
        _ => "invalid",
    }
}

/// A symbol record's section number, type, storage class and aux count (the bigobj layout has a
/// 32-bit section number).
pub(crate) fn record_fields(data: &[u8], off: u64, bigobj: bool) -> (i32, u16, u8, u8) {
    if bigobj {
        (
            u32_at(data, off + 12).unwrap_or(0) as i32,
            u16_at(data, off + 16).unwrap_or(0),
            u8_at(data, off + 18).unwrap_or(0),
            u8_at(data, off + 19).unwrap_or(0),
        )
    } else {
        (
            i32::from(u16_at(data, off + 12).unwrap_or(0) as i16),
            u16_at(data, off + 14).unwrap_or(0),
            u8_at(data, off + 16).unwrap_or(0),
            u8_at(data, off + 17).unwrap_or(0),
        )
    }
}
