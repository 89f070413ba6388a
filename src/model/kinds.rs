//! Closed sets of names the model uses: architectures, segment and section types, symbol kinds,
//! bindings and special sections, normalised relocation kinds, import-object types.
//!
//! Each enum writes its JSON name once, in its `Display` impl; `Serialize` writes the same text
//! (`display_as_json_string!`). Where a format can hold values we do not name, a variant
//! keeps the raw value and prints it as the readers always have.

use std::fmt;

/// `Serialize` as the `Display` text, so each name is written once.
macro_rules! display_as_json_string {
    ($($t:ty),* $(,)?) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    )*};
}

display_as_json_string!(
    Arch,
    SegmentKind,
    SectionKind,
    SymbolKind,
    ElfSymbolType,
    Binding,
    SpecialSection,
    RelocKind,
    ImportType,
    ImportNameType,
);

/// A file's architecture, named as in the JSON contract.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arch {
    /// `x86` (i386).
    X86,
    /// `x86-16` (DOS MZ).
    X86_16,
    /// `x86_64`.
    X86_64,
    /// `aarch64`.
    Aarch64,
    /// `arm64ec`.
    Arm64ec,
    /// `arm64x`.
    Arm64x,
    /// `arm` (ARM, Thumb, ARMNT).
    Arm,
    /// `ia64`.
    Ia64,
    /// `mips`.
    Mips,
    /// `alpha`.
    Alpha,
    /// `powerpc`.
    PowerPc,
    /// `powerpc64`.
    PowerPc64,
    /// `sh`.
    Sh,
    /// `riscv` (ELF, either width).
    Riscv,
    /// `riscv32`.
    Riscv32,
    /// `riscv64`.
    Riscv64,
    /// `loongarch`.
    Loongarch,
    /// `sparc`.
    Sparc,
    /// `sparcv9`.
    Sparcv9,
    /// `s390`.
    S390,
    /// `unknown`: no machine given (COFF machine 0, an archive with no readable member).
    Unspecified,
    /// `unknown (0x…)`: a machine value we do not name.
    Unknown(u16),
    /// An archive whose members have several architectures: their names joined by commas.
    Mixed(Vec<Arch>),
}

impl Arch {
    /// The architecture of a COFF/PE `Machine` value.
    pub fn from_coff_machine(m: u16) -> Self {
        match m {
            0x14c => Arch::X86,
            0x8664 => Arch::X86_64,
            0xaa64 => Arch::Aarch64,
            0xa641 => Arch::Arm64ec,
            0xa64e => Arch::Arm64x,
            0x1c0 | 0x1c2 | 0x1c4 => Arch::Arm,
            0x200 => Arch::Ia64,
            0x162 | 0x166 | 0x168 | 0x169 | 0x266 | 0x366 | 0x466 => Arch::Mips,
            0x184 | 0x284 => Arch::Alpha,
            0x1f0 | 0x1f1 => Arch::PowerPc,
            0x1a2 | 0x1a3 | 0x1a6 | 0x1a8 => Arch::Sh,
            0x5032 => Arch::Riscv32,
            0x5064 => Arch::Riscv64,
            0x6232 | 0x6264 => Arch::Loongarch,
            0x0 => Arch::Unspecified,
            _ => Arch::Unknown(m),
        }
    }

    /// The architecture of an ELF `e_machine` value.
    pub fn from_elf_machine(m: u16) -> Self {
        match m {
            3 => Arch::X86,
            62 => Arch::X86_64,
            183 => Arch::Aarch64,
            40 => Arch::Arm,
            8 => Arch::Mips,
            20 => Arch::PowerPc,
            21 => Arch::PowerPc64,
            243 => Arch::Riscv,
            2 => Arch::Sparc,
            43 => Arch::Sparcv9,
            22 => Arch::S390,
            258 => Arch::Loongarch,
            _ => Arch::Unknown(m),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Arch::X86 => "x86",
            Arch::X86_16 => "x86-16",
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Arm64ec => "arm64ec",
            Arch::Arm64x => "arm64x",
            Arch::Arm => "arm",
            Arch::Ia64 => "ia64",
            Arch::Mips => "mips",
            Arch::Alpha => "alpha",
            Arch::PowerPc => "powerpc",
            Arch::PowerPc64 => "powerpc64",
            Arch::Sh => "sh",
            Arch::Riscv => "riscv",
            Arch::Riscv32 => "riscv32",
            Arch::Riscv64 => "riscv64",
            Arch::Loongarch => "loongarch",
            Arch::Sparc => "sparc",
            Arch::Sparcv9 => "sparcv9",
            Arch::S390 => "s390",
            Arch::Unspecified => "unknown",
            Arch::Unknown(m) => return write!(f, "unknown (0x{m:x})"),
            Arch::Mixed(archs) => {
                for (i, a) in archs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                return Ok(());
            }
        };
        f.write_str(name)
    }
}

/// An ELF program-header type (`p_type`), named without its `PT_` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// `NULL`.
    Null,
    /// `LOAD`: mapped into memory.
    Load,
    /// `DYNAMIC`.
    Dynamic,
    /// `INTERP`.
    Interp,
    /// `NOTE`.
    Note,
    /// `SHLIB`.
    Shlib,
    /// `PHDR`.
    Phdr,
    /// `TLS`.
    Tls,
    /// `GNU_EH_FRAME`.
    GnuEhFrame,
    /// `GNU_STACK`.
    GnuStack,
    /// `GNU_RELRO`.
    GnuRelro,
    /// `GNU_PROPERTY`.
    GnuProperty,
    /// A type we do not name, printed `0x…`.
    Other(u32),
}

impl SegmentKind {
    /// The kind of a `p_type` value.
    pub fn from_p_type(t: u32) -> Self {
        match t {
            0 => SegmentKind::Null,
            1 => SegmentKind::Load,
            2 => SegmentKind::Dynamic,
            3 => SegmentKind::Interp,
            4 => SegmentKind::Note,
            5 => SegmentKind::Shlib,
            6 => SegmentKind::Phdr,
            7 => SegmentKind::Tls,
            0x6474_e550 => SegmentKind::GnuEhFrame,
            0x6474_e551 => SegmentKind::GnuStack,
            0x6474_e552 => SegmentKind::GnuRelro,
            0x6474_e553 => SegmentKind::GnuProperty,
            _ => SegmentKind::Other(t),
        }
    }
}

impl fmt::Display for SegmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SegmentKind::Null => "NULL",
            SegmentKind::Load => "LOAD",
            SegmentKind::Dynamic => "DYNAMIC",
            SegmentKind::Interp => "INTERP",
            SegmentKind::Note => "NOTE",
            SegmentKind::Shlib => "SHLIB",
            SegmentKind::Phdr => "PHDR",
            SegmentKind::Tls => "TLS",
            SegmentKind::GnuEhFrame => "GNU_EH_FRAME",
            SegmentKind::GnuStack => "GNU_STACK",
            SegmentKind::GnuRelro => "GNU_RELRO",
            SegmentKind::GnuProperty => "GNU_PROPERTY",
            SegmentKind::Other(t) => return write!(f, "0x{t:x}"),
        })
    }
}

/// A section's type: the ELF `sh_type` (without its `SHT_` prefix), or the OMF record that
/// defines the section. COFF sections have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// `NULL`.
    Null,
    /// `PROGBITS`.
    Progbits,
    /// `SYMTAB`.
    Symtab,
    /// `STRTAB`.
    Strtab,
    /// `RELA`.
    Rela,
    /// `HASH`.
    Hash,
    /// `DYNAMIC`.
    Dynamic,
    /// `NOTE`.
    Note,
    /// `NOBITS`.
    Nobits,
    /// `REL`.
    Rel,
    /// `SHLIB`.
    Shlib,
    /// `DYNSYM`.
    Dynsym,
    /// `INIT_ARRAY`.
    InitArray,
    /// `FINI_ARRAY`.
    FiniArray,
    /// `PREINIT_ARRAY`.
    PreinitArray,
    /// `GROUP`.
    Group,
    /// `SYMTAB_SHNDX`.
    SymtabShndx,
    /// `RELR`.
    Relr,
    /// `GNU_ATTRIBUTES`.
    GnuAttributes,
    /// `GNU_HASH`.
    GnuHash,
    /// `VERDEF`.
    Verdef,
    /// `VERNEED`.
    Verneed,
    /// `VERSYM`.
    Versym,
    /// `X86_64_UNWIND`.
    X86_64Unwind,
    /// `LLVM_ADDRSIG`.
    LlvmAddrsig,
    /// An ELF type we do not name, printed `0x…`.
    Other(u32),
    /// OMF `SEGDEF`: a segment.
    Segdef,
    /// OMF `COMDAT`: a COMDAT's data.
    Comdat,
    /// OMF Borland `VIRDEF`: a virtual segment.
    Virdef,
}

impl SectionKind {
    /// The kind of an ELF `sh_type` value.
    pub fn from_sh_type(t: u32) -> Self {
        match t {
            0 => SectionKind::Null,
            1 => SectionKind::Progbits,
            2 => SectionKind::Symtab,
            3 => SectionKind::Strtab,
            4 => SectionKind::Rela,
            5 => SectionKind::Hash,
            6 => SectionKind::Dynamic,
            7 => SectionKind::Note,
            8 => SectionKind::Nobits,
            9 => SectionKind::Rel,
            10 => SectionKind::Shlib,
            11 => SectionKind::Dynsym,
            14 => SectionKind::InitArray,
            15 => SectionKind::FiniArray,
            16 => SectionKind::PreinitArray,
            17 => SectionKind::Group,
            18 => SectionKind::SymtabShndx,
            19 => SectionKind::Relr,
            0x6fff_fff5 => SectionKind::GnuAttributes,
            0x6fff_fff6 => SectionKind::GnuHash,
            0x6fff_fffd => SectionKind::Verdef,
            0x6fff_fffe => SectionKind::Verneed,
            0x6fff_ffff => SectionKind::Versym,
            0x7000_0001 => SectionKind::X86_64Unwind,
            0x6fff_4c03 => SectionKind::LlvmAddrsig,
            _ => SectionKind::Other(t),
        }
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SectionKind::Null => "NULL",
            SectionKind::Progbits => "PROGBITS",
            SectionKind::Symtab => "SYMTAB",
            SectionKind::Strtab => "STRTAB",
            SectionKind::Rela => "RELA",
            SectionKind::Hash => "HASH",
            SectionKind::Dynamic => "DYNAMIC",
            SectionKind::Note => "NOTE",
            SectionKind::Nobits => "NOBITS",
            SectionKind::Rel => "REL",
            SectionKind::Shlib => "SHLIB",
            SectionKind::Dynsym => "DYNSYM",
            SectionKind::InitArray => "INIT_ARRAY",
            SectionKind::FiniArray => "FINI_ARRAY",
            SectionKind::PreinitArray => "PREINIT_ARRAY",
            SectionKind::Group => "GROUP",
            SectionKind::SymtabShndx => "SYMTAB_SHNDX",
            SectionKind::Relr => "RELR",
            SectionKind::GnuAttributes => "GNU_ATTRIBUTES",
            SectionKind::GnuHash => "GNU_HASH",
            SectionKind::Verdef => "VERDEF",
            SectionKind::Verneed => "VERNEED",
            SectionKind::Versym => "VERSYM",
            SectionKind::X86_64Unwind => "X86_64_UNWIND",
            SectionKind::LlvmAddrsig => "LLVM_ADDRSIG",
            SectionKind::Other(t) => return write!(f, "0x{t:x}"),
            SectionKind::Segdef => "SEGDEF",
            SectionKind::Comdat => "COMDAT",
            SectionKind::Virdef => "VIRDEF",
        })
    }
}

/// What a symbol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// `function`.
    Function,
    /// `data` (COFF, OMF).
    Data,
    /// `section`: a section symbol.
    Section,
    /// `file`: a source file name.
    File,
    /// `label` (COFF `FUNCTION`/`LABEL` storage classes).
    Label,
    /// `unknown` (COFF, OMF: nothing says).
    Unknown,
    /// `absolute` (OMF: a public name with no segment).
    Absolute,
    /// `notype` (ELF `STT_NOTYPE`).
    NoType,
    /// `object` (ELF `STT_OBJECT`).
    Object,
    /// `common` (ELF `STT_COMMON`).
    Common,
    /// `tls` (ELF `STT_TLS`).
    Tls,
    /// `ifunc` (ELF `STT_GNU_IFUNC`).
    Ifunc,
    /// `other`: an ELF type we do not name.
    Other,
    /// An ELF `.dynsym` entry: its type followed by ` (dynamic)`.
    Dynamic(ElfSymbolType),
}

/// An ELF symbol type (`st_type`), as [`SymbolKind`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElfSymbolType {
    /// `STT_NOTYPE`.
    NoType,
    /// `STT_OBJECT`.
    Object,
    /// `STT_FUNC`.
    Function,
    /// `STT_SECTION`.
    Section,
    /// `STT_FILE`.
    File,
    /// `STT_COMMON`.
    Common,
    /// `STT_TLS`.
    Tls,
    /// `STT_GNU_IFUNC`.
    Ifunc,
    /// Any other value.
    Other,
}

impl ElfSymbolType {
    /// The type of an `st_type` value.
    pub fn from_st_type(t: u8) -> Self {
        match t {
            0 => ElfSymbolType::NoType,
            1 => ElfSymbolType::Object,
            2 => ElfSymbolType::Function,
            3 => ElfSymbolType::Section,
            4 => ElfSymbolType::File,
            5 => ElfSymbolType::Common,
            6 => ElfSymbolType::Tls,
            10 => ElfSymbolType::Ifunc,
            _ => ElfSymbolType::Other,
        }
    }
}

impl From<ElfSymbolType> for SymbolKind {
    fn from(t: ElfSymbolType) -> Self {
        match t {
            ElfSymbolType::NoType => SymbolKind::NoType,
            ElfSymbolType::Object => SymbolKind::Object,
            ElfSymbolType::Function => SymbolKind::Function,
            ElfSymbolType::Section => SymbolKind::Section,
            ElfSymbolType::File => SymbolKind::File,
            ElfSymbolType::Common => SymbolKind::Common,
            ElfSymbolType::Tls => SymbolKind::Tls,
            ElfSymbolType::Ifunc => SymbolKind::Ifunc,
            ElfSymbolType::Other => SymbolKind::Other,
        }
    }
}

impl fmt::Display for ElfSymbolType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SymbolKind::from(*self).fmt(f)
    }
}

impl fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SymbolKind::Function => "function",
            SymbolKind::Data => "data",
            SymbolKind::Section => "section",
            SymbolKind::File => "file",
            SymbolKind::Label => "label",
            SymbolKind::Unknown => "unknown",
            SymbolKind::Absolute => "absolute",
            SymbolKind::NoType => "notype",
            SymbolKind::Object => "object",
            SymbolKind::Common => "common",
            SymbolKind::Tls => "tls",
            SymbolKind::Ifunc => "ifunc",
            SymbolKind::Other => "other",
            SymbolKind::Dynamic(t) => return write!(f, "{t} (dynamic)"),
        })
    }
}

/// A symbol's binding: the ELF binding, the COFF storage class or the OMF record's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// `LOCAL` (ELF `STB_LOCAL`; OMF `LPUBDEF`, `LEXTDEF`, local COMDATs).
    Local,
    /// `GLOBAL` (ELF `STB_GLOBAL`; OMF `PUBDEF`, COMDATs).
    Global,
    /// `WEAK` (ELF `STB_WEAK`; OMF weak externals).
    Weak,
    /// `GNU_UNIQUE` (ELF `STB_GNU_UNIQUE`).
    GnuUnique,
    /// `LAZY` (OMF lazy externals).
    Lazy,
    /// An ELF binding we do not name, printed in decimal.
    ElfOther(u8),
    /// `END_OF_FUNCTION` (COFF storage class 0xff).
    EndOfFunction,
    /// `NULL`.
    Null,
    /// `AUTOMATIC`.
    Automatic,
    /// `EXTERNAL` (COFF; also OMF `EXTDEF`).
    External,
    /// `STATIC`.
    Static,
    /// `REGISTER`.
    Register,
    /// `EXTERNAL_DEF`.
    ExternalDef,
    /// `LABEL`.
    Label,
    /// `UNDEFINED_LABEL`.
    UndefinedLabel,
    /// `MEMBER_OF_STRUCT`.
    MemberOfStruct,
    /// `ARGUMENT`.
    Argument,
    /// `STRUCT_TAG`.
    StructTag,
    /// `MEMBER_OF_UNION`.
    MemberOfUnion,
    /// `UNION_TAG`.
    UnionTag,
    /// `TYPE_DEFINITION`.
    TypeDefinition,
    /// `UNDEFINED_STATIC`.
    UndefinedStatic,
    /// `ENUM_TAG`.
    EnumTag,
    /// `MEMBER_OF_ENUM`.
    MemberOfEnum,
    /// `REGISTER_PARAM`.
    RegisterParam,
    /// `BIT_FIELD`.
    BitField,
    /// `BLOCK`.
    Block,
    /// `FUNCTION`.
    Function,
    /// `END_OF_STRUCT`.
    EndOfStruct,
    /// `FILE`.
    File,
    /// `SECTION`.
    Section,
    /// `WEAK_EXTERNAL`.
    WeakExternal,
    /// `CLR_TOKEN`.
    ClrToken,
    /// A COFF storage class we do not name, printed `0x…`.
    StorageClass(u8),
}

impl Binding {
    /// The binding of an ELF `st_bind` value.
    pub fn from_elf_bind(b: u8) -> Self {
        match b {
            0 => Binding::Local,
            1 => Binding::Global,
            2 => Binding::Weak,
            10 => Binding::GnuUnique,
            b => Binding::ElfOther(b),
        }
    }

    /// The binding of a COFF storage class.
    pub fn from_storage_class(c: u8) -> Self {
        match c {
            0xff => Binding::EndOfFunction,
            0 => Binding::Null,
            1 => Binding::Automatic,
            2 => Binding::External,
            3 => Binding::Static,
            4 => Binding::Register,
            5 => Binding::ExternalDef,
            6 => Binding::Label,
            7 => Binding::UndefinedLabel,
            8 => Binding::MemberOfStruct,
            9 => Binding::Argument,
            10 => Binding::StructTag,
            11 => Binding::MemberOfUnion,
            12 => Binding::UnionTag,
            13 => Binding::TypeDefinition,
            14 => Binding::UndefinedStatic,
            15 => Binding::EnumTag,
            16 => Binding::MemberOfEnum,
            17 => Binding::RegisterParam,
            18 => Binding::BitField,
            100 => Binding::Block,
            101 => Binding::Function,
            102 => Binding::EndOfStruct,
            103 => Binding::File,
            104 => Binding::Section,
            105 => Binding::WeakExternal,
            107 => Binding::ClrToken,
            c => Binding::StorageClass(c),
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Binding::Local => "LOCAL",
            Binding::Global => "GLOBAL",
            Binding::Weak => "WEAK",
            Binding::GnuUnique => "GNU_UNIQUE",
            Binding::Lazy => "LAZY",
            Binding::ElfOther(b) => return write!(f, "{b}"),
            Binding::EndOfFunction => "END_OF_FUNCTION",
            Binding::Null => "NULL",
            Binding::Automatic => "AUTOMATIC",
            Binding::External => "EXTERNAL",
            Binding::Static => "STATIC",
            Binding::Register => "REGISTER",
            Binding::ExternalDef => "EXTERNAL_DEF",
            Binding::Label => "LABEL",
            Binding::UndefinedLabel => "UNDEFINED_LABEL",
            Binding::MemberOfStruct => "MEMBER_OF_STRUCT",
            Binding::Argument => "ARGUMENT",
            Binding::StructTag => "STRUCT_TAG",
            Binding::MemberOfUnion => "MEMBER_OF_UNION",
            Binding::UnionTag => "UNION_TAG",
            Binding::TypeDefinition => "TYPE_DEFINITION",
            Binding::UndefinedStatic => "UNDEFINED_STATIC",
            Binding::EnumTag => "ENUM_TAG",
            Binding::MemberOfEnum => "MEMBER_OF_ENUM",
            Binding::RegisterParam => "REGISTER_PARAM",
            Binding::BitField => "BIT_FIELD",
            Binding::Block => "BLOCK",
            Binding::Function => "FUNCTION",
            Binding::EndOfStruct => "END_OF_STRUCT",
            Binding::File => "FILE",
            Binding::Section => "SECTION",
            Binding::WeakExternal => "WEAK_EXTERNAL",
            Binding::ClrToken => "CLR_TOKEN",
            Binding::StorageClass(c) => return write!(f, "0x{c:x}"),
        })
    }
}

/// The special meaning of a symbol's section number, when it names no section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialSection {
    /// `UNDEFINED`: defined elsewhere.
    Undefined,
    /// `ABSOLUTE`: the value is not an address in a section.
    Absolute,
    /// `DEBUG` (COFF section number -2).
    Debug,
    /// `COMMON`: to be allocated by the linker.
    Common,
    /// `XINDEX` (ELF: the index is in `SHT_SYMTAB_SHNDX`).
    Xindex,
    /// Another negative COFF section number, printed in decimal.
    Reserved(i32),
}

impl fmt::Display for SpecialSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpecialSection::Undefined => "UNDEFINED",
            SpecialSection::Absolute => "ABSOLUTE",
            SpecialSection::Debug => "DEBUG",
            SpecialSection::Common => "COMMON",
            SpecialSection::Xindex => "XINDEX",
            SpecialSection::Reserved(n) => return write!(f, "{n}"),
        })
    }
}

/// What a relocation computes, normalised across formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelocKind {
    /// `none`: no effect.
    None,
    /// `absolute`: the target's address.
    Absolute,
    /// `pc-relative`: the target's address minus the site's.
    PcRelative,
    /// `image-relative`: the target's RVA.
    ImageRelative,
    /// `section-relative`: the target's offset in its section.
    SectionRelative,
    /// `section-index`: the target's section number.
    SectionIndex,
    /// `got`: through a GOT entry.
    Got,
    /// `plt`: through a PLT entry.
    Plt,
    /// `copy`: copy the target's bytes from the shared object.
    Copy,
    /// `glob-dat`: a GOT entry set to the target's address.
    GlobDat,
    /// `jump-slot`: a PLT GOT entry set to the target's address.
    JumpSlot,
    /// `relative`: the image base plus the addend.
    Relative,
    /// `tls`: thread-local storage.
    Tls,
    /// `other`.
    Other,
}

impl fmt::Display for RelocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl RelocKind {
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            RelocKind::None => "none",
            RelocKind::Absolute => "absolute",
            RelocKind::PcRelative => "pc-relative",
            RelocKind::ImageRelative => "image-relative",
            RelocKind::SectionRelative => "section-relative",
            RelocKind::SectionIndex => "section-index",
            RelocKind::Got => "got",
            RelocKind::Plt => "plt",
            RelocKind::Copy => "copy",
            RelocKind::GlobDat => "glob-dat",
            RelocKind::JumpSlot => "jump-slot",
            RelocKind::Relative => "relative",
            RelocKind::Tls => "tls",
            RelocKind::Other => "other",
        }
    }
}

/// What a COFF short import member imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportType {
    /// `code` (`IMPORT_OBJECT_CODE`).
    Code,
    /// `data` (`IMPORT_OBJECT_DATA`).
    Data,
    /// `const` (`IMPORT_OBJECT_CONST`).
    Const,
    /// `invalid`: type 3.
    Invalid,
}

impl ImportType {
    /// The type in the low two bits of the header's type field.
    pub fn from_bits(t: u16) -> Self {
        match t & 3 {
            0 => ImportType::Code,
            1 => ImportType::Data,
            2 => ImportType::Const,
            _ => ImportType::Invalid,
        }
    }
}

impl fmt::Display for ImportType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImportType::Code => "code",
            ImportType::Data => "data",
            ImportType::Const => "const",
            ImportType::Invalid => "invalid",
        })
    }
}

/// How a COFF short import member's symbol becomes the imported name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportNameType {
    /// `ordinal`: imported by ordinal.
    Ordinal,
    /// `name`: the symbol as is.
    Name,
    /// `noprefix`: the symbol without its leading `?`, `@` or `_`.
    NoPrefix,
    /// `undecorate`: also without its `@…` suffix.
    Undecorate,
    /// `exportas`: the name after the DLL name.
    ExportAs,
    /// `invalid`: types 5 to 7.
    Invalid,
}

impl ImportNameType {
    /// The name type in bits 2–4 of the header's type field.
    pub fn from_bits(t: u16) -> Self {
        match (t >> 2) & 7 {
            0 => ImportNameType::Ordinal,
            1 => ImportNameType::Name,
            2 => ImportNameType::NoPrefix,
            3 => ImportNameType::Undecorate,
            4 => ImportNameType::ExportAs,
            _ => ImportNameType::Invalid,
        }
    }

    /// The name imported from the DLL for an import member's `symbol` (`export_as`: the name
    /// after the DLL name), as lld's `ImportFile` reads it: one leading `?`, `@` or `_` dropped
    /// (`noprefix`), and the `@…` suffix too (`undecorate`); `None` by ordinal.
    pub fn import_name(self, symbol: &str, export_as: Option<&str>) -> Option<String> {
        let trim1 = |s: &str| s.strip_prefix(['?', '@', '_']).unwrap_or(s).to_string();
        match self {
            ImportNameType::Ordinal | ImportNameType::Invalid => None,
            ImportNameType::Name => Some(symbol.to_string()),
            ImportNameType::NoPrefix => Some(trim1(symbol)),
            ImportNameType::Undecorate => {
                let s = trim1(symbol);
                Some(s.split('@').next().unwrap_or(&s).to_string())
            }
            ImportNameType::ExportAs => export_as.map(str::to_string),
        }
    }
}

impl fmt::Display for ImportNameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImportNameType::Ordinal => "ordinal",
            ImportNameType::Name => "name",
            ImportNameType::NoPrefix => "noprefix",
            ImportNameType::Undecorate => "undecorate",
            ImportNameType::ExportAs => "exportas",
            ImportNameType::Invalid => "invalid",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn json_and_text_names_are_the_same_and_keep_raw_values() {
        assert_eq!(json(&Arch::X86_64), "\"x86_64\"");
        assert_eq!(Arch::from_coff_machine(0).to_string(), "unknown");
        assert_eq!(Arch::from_coff_machine(0x1234).to_string(), "unknown (0x1234)");
        assert_eq!(Arch::from_elf_machine(0).to_string(), "unknown (0x0)");
        assert_eq!(json(&Arch::Mixed(vec![Arch::X86, Arch::X86_64])), "\"x86,x86_64\"");
        assert_eq!(json(&SegmentKind::from_p_type(1)), "\"LOAD\"");
        assert_eq!(SegmentKind::from_p_type(0x6000_0000).to_string(), "0x60000000");
        assert_eq!(SectionKind::from_sh_type(0x6fff_fff6).to_string(), "GNU_HASH");
        assert_eq!(SectionKind::from_sh_type(0x7000_0003).to_string(), "0x70000003");
        let dynamic = SymbolKind::Dynamic(ElfSymbolType::from_st_type(2));
        assert_eq!(json(&dynamic), "\"function (dynamic)\"");
        assert_ne!(dynamic, SymbolKind::Function);
        assert_eq!(SymbolKind::from(ElfSymbolType::from_st_type(9)), SymbolKind::Other);
        assert_eq!(Binding::from_storage_class(105).to_string(), "WEAK_EXTERNAL");
        assert_eq!(Binding::from_storage_class(0x6a).to_string(), "0x6a");
        assert_eq!(Binding::from_elf_bind(13).to_string(), "13");
        assert_eq!(json(&SpecialSection::Reserved(-3)), "\"-3\"");
        assert_eq!(json(&RelocKind::PcRelative), "\"pc-relative\"");
        assert_eq!(
            (ImportType::from_bits(0x0d).to_string(), ImportNameType::from_bits(0x0d).to_string()),
            ("data".into(), "undecorate".into())
        );
    }
}
