//! The one model every format is lowered into.
//!
//! Readers in [`crate::formats`] produce a [`Binary`]; the CLI, the GUI and the analyses only read
//! it. Every item keeps the file byte range it was read from ([`Span`]) so views can highlight and
//! explain raw bytes. Field names follow the JSON contract of `linkscope inspect --json`.

mod diag;
pub mod dump;
mod extras;
pub mod index;
mod kinds;
pub mod memory;
mod omf;
pub mod pdb;
pub mod regions;

pub use diag::{Diagnostic, Location, Repeated, Severity};
pub use extras::*;
pub use kinds::*;
pub use omf::*;

use std::borrow::Cow;

use serde::Serialize;

/// Most diagnostics kept for one file.
pub const MAX_DIAGNOSTICS: usize = 10_000;

/// A byte range in the input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
}

impl Span {
    /// A span starting at `offset` covering `len` bytes.
    pub fn new(offset: u64, len: u64) -> Self {
        Span { offset, len }
    }
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }
    /// Whether `off` lies inside the span.
    pub fn contains(&self, off: u64) -> bool {
        off >= self.offset && off < self.end()
    }
}

/// The container format of a file, named as in the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    /// PE32 image (32-bit optional header).
    #[serde(rename = "pe32")]
    Pe32,
    /// PE32+ image (64-bit optional header).
    #[serde(rename = "pe32+")]
    Pe32Plus,
    /// COFF object file.
    #[serde(rename = "coff")]
    Coff,
    /// COFF big object file (`/bigobj`, `-mbig-obj`).
    #[serde(rename = "coff-bigobj")]
    CoffBigobj,
    /// `ar` archive (static or import library).
    #[serde(rename = "archive")]
    Archive,
    /// COFF short import member of an import library.
    #[serde(rename = "import-object")]
    ImportObject,
    /// ELF, 32-bit class.
    #[serde(rename = "elf32")]
    Elf32,
    /// ELF, 64-bit class.
    #[serde(rename = "elf64")]
    Elf64,
    /// OMF object module.
    #[serde(rename = "omf")]
    Omf,
    /// OMF library.
    #[serde(rename = "omf-library")]
    OmfLibrary,
    /// Plain DOS MZ executable.
    #[serde(rename = "mz")]
    Mz,
    /// A process's memory (a minidump or an ELF core), as the app shows it: its modules and
    /// ranges (`session::dump`); [`crate::formats::load`] never returns it.
    #[serde(rename = "process-dump")]
    ProcessDump,
}

impl Format {
    /// The JSON name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pe32 => "pe32",
            Format::Pe32Plus => "pe32+",
            Format::Coff => "coff",
            Format::CoffBigobj => "coff-bigobj",
            Format::Archive => "archive",
            Format::ImportObject => "import-object",
            Format::Elf32 => "elf32",
            Format::Elf64 => "elf64",
            Format::Omf => "omf",
            Format::OmfLibrary => "omf-library",
            Format::Mz => "mz",
            Format::ProcessDump => "process-dump",
        }
    }
    /// Whether this is a PE image.
    pub fn is_pe(self) -> bool {
        matches!(self, Format::Pe32 | Format::Pe32Plus)
    }
    /// Whether this is an ELF file.
    pub fn is_elf(self) -> bool {
        matches!(self, Format::Elf32 | Format::Elf64)
    }
}

/// Everything read from one file.
#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    /// The container format.
    pub format: Format,
    /// Architecture: `x86`, `x86_64`, `aarch64`, `arm`, … or `unknown (0x…)`.
    pub arch: Arch,
    /// Whether pointers are 64-bit.
    pub is_64: bool,
    /// Preferred load address of an image (PE `ImageBase`; ELF lowest `PT_LOAD` vaddr).
    pub image_base: Option<u64>,
    /// Entry point RVA, when the format has one.
    pub entry_rva: Option<u64>,
    /// File size in bytes.
    pub file_size: u64,
    /// Headers, as named groups of fields with byte spans.
    pub headers: Vec<HeaderGroup>,
    /// Sections (COFF/PE 1-based index; ELF section-header index).
    pub sections: Vec<Section>,
    /// Segments (ELF program headers).
    pub segments: Vec<Segment>,
    /// Symbols.
    pub symbols: Vec<Symbol>,
    /// COFF COMDAT sections with their selection.
    pub comdats: Vec<Comdat>,
    /// ELF section groups.
    pub groups: Vec<SectionGroup>,
    /// ELF `SHF_LINK_ORDER` associations.
    pub link_order: Vec<LinkOrder>,
    /// Ordinary import directory.
    pub imports: Vec<ImportModule>,
    /// Delay-load imports.
    pub delay_imports: Vec<ImportModule>,
    /// PE import descriptors the loader never reaches: those from the first descriptor whose
    /// `Name` or `FirstThunk` is 0 (where the loader's list ends) up to the all-zero one other
    /// tools stop at. Shown, never bound; absent from the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_imports: Vec<ImportModule>,
    /// Exports.
    pub exports: Vec<Export>,
    /// PE base-relocation blocks.
    pub base_reloc_blocks: Vec<BaseRelocBlock>,
    /// Every base-relocation entry, flattened (in block order).
    pub base_relocations: Vec<BaseReloc>,
    /// Object and dynamic relocations.
    pub relocations: Vec<Relocation>,
    /// MinGW runtime pseudo-relocations.
    pub pseudo_relocations: PseudoRelocs,
    /// PE-specific extra directories.
    pub pe: Option<PeInfo>,
    /// ELF-specific extra information.
    pub elf: Option<ElfInfo>,
    /// COFF short import member.
    pub import_object: Option<ImportObject>,
    /// Archive members (archives and OMF libraries).
    pub members: Vec<Member>,
    /// Archive symbol index.
    pub archive_symbols: Vec<ArchiveSymbol>,
    /// OMF records (OMF only).
    pub omf_records: Vec<OmfRecord>,
    /// OMF segments, groups, externals, COMDATs and fixups (OMF only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omf: Option<OmfInfo>,
    /// Plain DOS MZ relocations.
    pub mz_relocations: Vec<MzReloc>,
    /// Problems found while reading.
    pub diagnostics: Vec<Diagnostic>,
}

impl Binary {
    /// An empty binary of `format` for a file of `file_size` bytes.
    pub fn new(format: Format, file_size: u64) -> Self {
        Binary {
            format,
            arch: Arch::Unspecified,
            is_64: false,
            image_base: None,
            entry_rva: None,
            file_size,
            headers: Vec::new(),
            sections: Vec::new(),
            segments: Vec::new(),
            symbols: Vec::new(),
            comdats: Vec::new(),
            groups: Vec::new(),
            link_order: Vec::new(),
            imports: Vec::new(),
            delay_imports: Vec::new(),
            ignored_imports: Vec::new(),
            exports: Vec::new(),
            base_reloc_blocks: Vec::new(),
            base_relocations: Vec::new(),
            relocations: Vec::new(),
            pseudo_relocations: PseudoRelocs::default(),
            pe: None,
            elf: None,
            import_object: None,
            members: Vec::new(),
            archive_symbols: Vec::new(),
            omf_records: Vec::new(),
            omf: None,
            mz_relocations: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// Record a diagnostic. After [`MAX_DIAGNOSTICS`] the rest are counted, not kept, so a
    /// hostile file cannot grow the list without bound.
    pub fn diag(&mut self, severity: Severity, location: Location, message: impl Into<String>) {
        if self.diagnostics.len() < MAX_DIAGNOSTICS {
            self.diagnostics.push(Diagnostic { severity, location, message: message.into() });
        } else if self.diagnostics.len() == MAX_DIAGNOSTICS {
            self.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                location: Location::NONE,
                message: format!("more than {MAX_DIAGNOSTICS} diagnostics: the rest are not shown"),
            });
        }
    }

    /// The section containing `rva`, if any (by virtual range; file-only sections ignored).
    pub fn section_by_rva(&self, rva: u64) -> Option<&Section> {
        self.sections.iter().find(|s| {
            let size = s.virtual_size.max(if s.virtual_size == 0 { s.file_size } else { 0 });
            s.rva <= rva && rva < s.rva.saturating_add(size) && s.is_alloc
        })
    }

    /// Map an RVA to a file offset through the section table.
    pub fn rva_to_offset(&self, rva: u64) -> Option<u64> {
        let s = self.section_by_rva(rva)?;
        let delta = rva - s.rva;
        (delta < s.file_size).then(|| s.file_offset.saturating_add(delta))
    }

    /// Map a file offset to an RVA through the section table.
    pub fn offset_to_rva(&self, off: u64) -> Option<u64> {
        self.sections
            .iter()
            .find(|s| {
                s.is_alloc && s.file_size > 0 && s.file_offset <= off && off < s.file_offset.saturating_add(s.file_size)
            })
            .map(|s| s.rva.saturating_add(off - s.file_offset))
    }
}

/// A named group of header fields (e.g. "DOS header", "Optional header").
#[derive(Debug, Clone, Serialize)]
pub struct HeaderGroup {
    /// Group name.
    pub name: String,
    /// Span of the whole group.
    pub span: Span,
    /// The fields in file order.
    pub fields: Vec<Field>,
}

/// One header field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Field name as the specification names it.
    pub name: String,
    /// Raw integer value (for fields that are integers).
    pub value: Option<u64>,
    /// Rendered value, with decoded meaning where there is one.
    pub display: String,
    /// Bytes of the field.
    pub span: Span,
    /// One-sentence explanation, for tooltips.
    pub help: &'static str,
}

/// A section (or an ELF section header).
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Index as the format numbers it (COFF/PE 1-based; ELF section-header index).
    pub index: u32,
    /// Name, long COFF names resolved.
    pub name: String,
    /// Address relative to the image base (0-based in objects).
    pub rva: u64,
    /// Size in memory.
    pub virtual_size: u64,
    /// Offset of the section's bytes in the file.
    pub file_offset: u64,
    /// Number of bytes in the file.
    pub file_size: u64,
    /// Raw flags / characteristics.
    pub flags: u64,
    /// Decoded flag names.
    pub flag_names: Vec<String>,
    /// ELF section type (`PROGBITS`, …) or OMF defining record; None for COFF.
    pub kind: Option<SectionKind>,
    /// Whether the section occupies memory at run time.
    pub is_alloc: bool,
    /// Whether it holds executable code.
    pub is_exec: bool,
    /// Whether it is writable.
    pub is_write: bool,
    /// Alignment in bytes, if known.
    pub align: Option<u64>,
    /// Span of the section header.
    pub header_span: Span,
    /// COFF: file offset and count of relocations.
    pub reloc_count: u32,
}

impl Section {
    /// Bytes of the section inside `data` (clamped to the file).
    pub fn bytes<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        let start = usize::try_from(self.file_offset).unwrap_or(usize::MAX).min(data.len());
        let len = usize::try_from(self.file_size).unwrap_or(usize::MAX);
        let end = start.saturating_add(len).min(data.len());
        &data[start..end]
    }
}

/// An ELF program header (segment).
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    /// Program-header index.
    pub index: u32,
    /// Type (`LOAD`, `DYNAMIC`, …).
    pub kind: SegmentKind,
    /// Virtual address.
    pub vaddr: u64,
    /// Size in memory.
    pub mem_size: u64,
    /// File offset.
    pub file_offset: u64,
    /// Size in the file.
    pub file_size: u64,
    /// Raw `p_flags`.
    pub flags: u64,
    /// `R`, `W`, `E` letters.
    pub flag_names: Vec<String>,
    /// Alignment.
    pub align: u64,
    /// Span of the program header.
    pub header_span: Span,
}

/// A symbol.
#[derive(Debug, Clone, Serialize)]
pub struct Symbol {
    /// Index in the format's symbol table (COFF: index counting aux records).
    pub index: u32,
    /// Raw name.
    pub name: String,
    /// Demangled name, when the raw one is mangled.
    pub demangled: Option<String>,
    /// Value (COFF: offset in section / absolute; ELF: st_value).
    pub value: u64,
    /// Size, if known.
    pub size: Option<u64>,
    /// Section index (format numbering), None for undefined/absolute/common.
    pub section: Option<u32>,
    /// Special section meaning: `UNDEFINED`, `ABSOLUTE`, `DEBUG`, `COMMON`.
    pub section_kind: Option<SpecialSection>,
    /// Kind: `function`, `data`, `section`, `file`, `label`, `unknown`, …
    pub kind: SymbolKind,
    /// Binding / storage class (`EXTERNAL`, `STATIC`, `GLOBAL`, `LOCAL`, `WEAK`, …).
    pub binding: Binding,
    /// COFF raw type or ELF st_info.
    pub raw_type: u32,
    /// Number of aux records (COFF).
    pub aux_count: u8,
    /// Decoded aux records (COFF).
    pub aux: Vec<String>,
    /// Span of the symbol record (including aux records).
    pub span: Span,
}

/// A COFF COMDAT section.
#[derive(Debug, Clone, Serialize)]
pub struct Comdat {
    /// Index of the COMDAT section.
    pub section: u32,
    /// Selection 1–7 (COFF). Absent for OMF rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<u8>,
    /// Selection name (`NODUPLICATES`, `ANY`, …).
    pub selection_name: String,
    /// Name of the COMDAT symbol (for associative sections: the section symbol's name).
    pub symbol: Option<String>,
    /// For selection 5: the associated (leader) section index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associated_section: Option<u32>,
    /// For leaders: sections associated with this one.
    pub associated_by: Vec<u32>,
    /// Aux record checksum.
    pub checksum: u32,
    /// OMF selection (`no-match`, `any`, `same-size`, `exact`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omf_selection: Option<String>,
    /// OMF allocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omf_allocation: Option<String>,
}

/// An ELF section group.
#[derive(Debug, Clone, Serialize)]
pub struct SectionGroup {
    /// Index of the `SHT_GROUP` section.
    pub section: u32,
    /// Signature symbol name.
    pub signature: String,
    /// Whether `GRP_COMDAT` is set.
    pub comdat: bool,
    /// Member section indices.
    pub members: Vec<u32>,
}

/// An ELF section tied to another through `sh_link` with `SHF_LINK_ORDER`.
#[derive(Debug, Clone, Serialize)]
pub struct LinkOrder {
    /// The section carrying `SHF_LINK_ORDER`.
    pub section: u32,
    /// The section it is tied to.
    pub linked_section: u32,
}

/// Imports from one DLL.
#[derive(Debug, Clone, Serialize)]
pub struct ImportModule {
    /// DLL name.
    pub dll: String,
    /// RVA of the import lookup table (INT/ILT), 0 if absent.
    pub ilt_rva: u64,
    /// RVA of the import address table.
    pub iat_rva: u64,
    /// Descriptor span.
    pub descriptor_span: Span,
    /// Entries.
    pub entries: Vec<ImportEntry>,
}

/// One imported function or variable.
#[derive(Debug, Clone, Serialize)]
pub struct ImportEntry {
    /// Name, when imported by name.
    pub name: Option<String>,
    /// Demangled name.
    pub demangled: Option<String>,
    /// Ordinal, when imported by ordinal.
    pub ordinal: Option<u16>,
    /// Hint, when imported by name.
    pub hint: Option<u16>,
    /// RVA of the IAT slot.
    pub iat_rva: u64,
    /// Value in the INT/ILT.
    pub ilt_value: Option<u64>,
    /// Value stored in the IAT on disk.
    pub iat_value: Option<u64>,
    /// Span of the IAT slot in the file.
    pub iat_span: Option<Span>,
}

/// One export.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    /// Name, if exported by name.
    pub name: Option<String>,
    /// Demangled name.
    pub demangled: Option<String>,
    /// Biased ordinal (Base + index).
    pub ordinal: u32,
    /// RVA of the exported item (for a forwarder: of its `DLL.Name` string).
    pub rva: u64,
    /// Forwarder string `DLL.Name`.
    pub forwarder: Option<String>,
    /// The entry's own bytes: PE export-address-table slot, ELF `.dynsym` entry.
    pub span: Option<Span>,
}

/// A PE base-relocation block.
#[derive(Debug, Clone, Serialize)]
pub struct BaseRelocBlock {
    /// Page RVA.
    pub page_rva: u64,
    /// SizeOfBlock.
    pub size: u32,
    /// Number of entries (including padding).
    pub entry_count: u32,
    /// Span of the block.
    pub span: Span,
}

/// One PE base-relocation entry.
#[derive(Debug, Clone, Serialize)]
pub struct BaseReloc {
    /// RVA of the site.
    pub rva: u64,
    /// Name after `IMAGE_REL_BASED_`.
    pub kind: &'static str,
    /// Raw type (high 4 bits).
    pub raw_type: u8,
    /// Value currently stored at the site (width of the kind).
    pub value: Option<u64>,
    /// HIGHADJ: its extra slot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<u16>,
    /// Index of the block it belongs to.
    pub block: u32,
    /// Span of the entry.
    pub span: Span,
}

/// An object or dynamic relocation.
#[derive(Debug, Clone, Serialize)]
pub struct Relocation {
    /// Index of the patched section; None for dynamic relocations.
    pub section: Option<u32>,
    /// Offset in the section (dynamic: address relative to image base).
    pub offset: u64,
    /// The format's own full type name.
    pub kind: Cow<'static, str>,
    /// Raw type value.
    pub raw_type: u32,
    /// Normalised kind: `absolute`, `pc-relative`, `image-relative`, `section-relative`, `section-index`, `got`, `plt`, `copy`, `jump-slot`, `glob-dat`, `relative`, `tls`, `other`.
    pub normalized: RelocKind,
    /// Width of the patched field in bits (0 if unknown).
    pub width: u8,
    /// Whether the value is PC-relative.
    pub pc_relative: bool,
    /// Target symbol name.
    pub symbol: Option<String>,
    /// Target symbol index.
    pub symbol_index: Option<u32>,
    /// Effective addend.
    pub addend: i64,
    /// Whether it is a dynamic relocation.
    pub dynamic: bool,
    /// Span of the relocation record.
    pub span: Span,
}

/// MinGW runtime pseudo-relocation list.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PseudoRelocs {
    /// `symbols` or `scan`, or None when no list exists.
    pub found_by: Option<String>,
    /// Protocol version (1 or 2).
    pub version: Option<u32>,
    /// RVA where the list starts (the header for v2).
    pub list_rva: Option<u64>,
    /// RVA one past the end of the list.
    pub list_end_rva: Option<u64>,
    /// Entries.
    pub entries: Vec<PseudoReloc>,
    /// What could not be determined, e.g. that a v1 list (which has no header) cannot be found in
    /// an image without the linker's marker symbols.
    pub note: Option<String>,
}

/// One pseudo-relocation entry.
#[derive(Debug, Clone, Serialize)]
pub struct PseudoReloc {
    /// v2: RVA of the IAT slot (the "symbol").
    pub sym_rva: Option<u64>,
    /// RVA of the site to patch.
    pub target_rva: u64,
    /// Width in bits.
    pub width: u32,
    /// v2 raw flags.
    pub flags: Option<u32>,
    /// v1: the addend.
    pub addend: Option<u32>,
    /// The import the slot names (`dll!name`).
    pub import: Option<String>,
    /// Name of the section holding the target.
    pub target_section: Option<String>,
    /// Offset of the target within that section.
    pub target_offset: Option<u64>,
    /// Value stored at the target on disk (sign-extended per width).
    pub stored_value: Option<i64>,
    /// For pointer-wide (absolute) v2 sites: the stored value minus the slot's address, i.e. the
    /// link-time offset into the imported object (`&arr[3]` → 12). On i386 a 32-bit site is taken
    /// as absolute (data references are); on x64 narrower sites may be RIP-relative, which only
    /// disassembly can tell, so they have None.
    pub slot_offset: Option<i64>,
    /// Span of the entry.
    pub span: Span,
}

impl PseudoReloc {
    /// v1: the addend as the offset into the imported object it is (the runtime adds it modulo
    /// 2^32, so `0xfffffff8` is -8).
    pub fn signed_addend(&self) -> Option<i64> {
        self.addend.map(|a| i64::from(a as i32))
    }
}

/// An archive member.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Member name.
    pub member_name: String,
    /// Offset of the member header in the archive.
    pub member_offset: u64,
    /// Size of the member data.
    pub member_size: u64,
    /// The member's own document; None if it could not be read.
    #[serde(flatten)]
    pub binary: Option<Box<Binary>>,
}

/// An entry of an archive's symbol index.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveSymbol {
    /// Symbol name.
    pub name: String,
    /// Offset of the member header that defines it.
    pub member_offset: u64,
}

/// A COFF short import member.
#[derive(Debug, Clone, Serialize)]
pub struct ImportObject {
    /// DLL name.
    pub dll: String,
    /// Symbol name in the import library.
    pub symbol: String,
    /// Name imported from the DLL (after the name type is applied).
    pub import_name: Option<String>,
    /// `code`, `data` or `const`.
    pub kind: ImportType,
    /// `ordinal`, `name`, `noprefix`, `undecorate`, `exportas`.
    pub name_type: ImportNameType,
    /// Ordinal or hint.
    pub ordinal_or_hint: u16,
}

/// One OMF record (filled by the OMF reader).
#[derive(Debug, Clone, Serialize)]
pub struct OmfRecord {
    /// Offset of the record.
    pub offset: u64,
    /// Record type byte.
    pub record_type: u8,
    /// Type name.
    pub type_name: String,
    /// Record length field.
    pub length: u16,
    /// Checksum status: `ok`, `zero`, `bad`.
    pub checksum: String,
    /// One-line summary.
    pub summary: String,
    /// Decoded fields.
    pub fields: Vec<Field>,
}

/// A DOS MZ relocation.
#[derive(Debug, Clone, Serialize)]
pub struct MzReloc {
    /// Offset within segment.
    pub offset: u16,
    /// Segment.
    pub segment: u16,
    /// Linear file offset of the patched word.
    pub file_offset: u64,
}

/// What a relocation computes, in the usual notation (S = symbol address, A = addend, P = address
/// of the patched field, B = image base, G/L = GOT/PLT entry), keyed by the type name.
pub fn relocation_formula(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "IMAGE_REL_AMD64_ADDR64" | "IMAGE_REL_AMD64_ADDR32" | "IMAGE_REL_I386_DIR32" | "IMAGE_REL_I386_DIR16" => {
            "S + A"
        }
        "IMAGE_REL_AMD64_ADDR32NB" | "IMAGE_REL_I386_DIR32NB" => "S + A - B",
        "IMAGE_REL_AMD64_REL32" | "IMAGE_REL_I386_REL32" => "S + A - (P + 4)",
        "IMAGE_REL_AMD64_REL32_1" => "S + A - (P + 5)",
        "IMAGE_REL_AMD64_REL32_2" => "S + A - (P + 6)",
        "IMAGE_REL_AMD64_REL32_3" => "S + A - (P + 7)",
        "IMAGE_REL_AMD64_REL32_4" => "S + A - (P + 8)",
        "IMAGE_REL_AMD64_REL32_5" => "S + A - (P + 9)",
        "IMAGE_REL_I386_REL16" => "S + A - (P + 2)",
        "IMAGE_REL_AMD64_SECTION" | "IMAGE_REL_I386_SECTION" => "section index of S",
        "IMAGE_REL_AMD64_SECREL" | "IMAGE_REL_I386_SECREL" => "S + A - start of S's section",
        "R_X86_64_64" | "R_X86_64_32" | "R_X86_64_32S" | "R_X86_64_16" | "R_X86_64_8" | "R_386_32" | "R_386_16"
        | "R_386_8" => "S + A",
        "R_X86_64_PC32" | "R_X86_64_PC64" | "R_X86_64_PC16" | "R_X86_64_PC8" | "R_386_PC32" | "R_386_PC16"
        | "R_386_PC8" => "S + A - P",
        "R_X86_64_PLT32" | "R_386_PLT32" => "L + A - P",
        "R_X86_64_GOTPCREL" | "R_X86_64_GOTPCRELX" | "R_X86_64_REX_GOTPCRELX" => "G + GOT + A - P",
        "R_X86_64_GLOB_DAT" | "R_X86_64_JUMP_SLOT" | "R_386_GLOB_DAT" | "R_386_JUMP_SLOT" => "S",
        "R_X86_64_RELATIVE" | "R_386_RELATIVE" => "B + A",
        "R_X86_64_COPY" | "R_386_COPY" => "copy S's bytes from the shared object",
        "R_386_GOTOFF" => "S + A - GOT",
        "R_386_GOTPC" => "GOT + A - P",
        "R_386_GOT32" | "R_386_GOT32X" => "G + A",
        _ => return None,
    })
}
