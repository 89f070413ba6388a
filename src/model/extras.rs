//! Format-specific extras: PE directories (debug, TLS, load config, exceptions, resources, Rich
//! header, bound imports, overlay, checksum) and ELF dynamic information.

use serde::Serialize;

use super::Span;

/// A PE data directory entry.
#[derive(Debug, Clone, Serialize)]
pub struct DataDirectory {
    /// Index 0–15.
    pub index: u32,
    /// Name (`EXPORT`, `IMPORT`, …).
    pub name: String,
    /// RVA (file offset for the security directory).
    pub rva: u64,
    /// Size.
    pub size: u64,
    /// Section that holds it.
    pub section: Option<String>,
    /// Span of the entry in the optional header.
    pub span: Span,
}

/// Files smaller than this always get their PE checksum recomputed.
pub const CHECKSUM_ALWAYS_BELOW: u64 = 32 << 20;

/// PE-only information.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PeInfo {
    /// Data directories.
    pub data_directories: Vec<DataDirectory>,
    /// Debug directory entries.
    pub debug: Vec<DebugEntry>,
    /// TLS directory.
    pub tls: Option<TlsInfo>,
    /// Load configuration.
    pub load_config: Option<LoadConfig>,
    /// `.pdata` function entries.
    pub exceptions: Vec<RuntimeFunction>,
    /// Resources, summarised.
    pub resources: Vec<ResourceEntry>,
    /// Rich header.
    pub rich: Option<RichHeader>,
    /// Bound imports.
    pub bound_imports: Vec<BoundImport>,
    /// Overlay (data past the last section).
    pub overlay: Option<Span>,
    /// Checksum stored in the optional header.
    pub checksum_stored: u32,
    /// Checksum recomputed.
    ///
    /// None only for a file larger than [`CHECKSUM_ALWAYS_BELOW`] whose stored checksum is 0 (not
    /// set): computing it means reading every byte, for nothing to compare against.
    pub checksum_computed: Option<u32>,
    /// Subsystem name.
    pub subsystem: String,
    /// DLL characteristics names.
    pub dll_characteristics: Vec<String>,
    /// File header characteristics names.
    pub characteristics: Vec<String>,
    /// Timestamp.
    pub timestamp: u32,
    /// What the loader needs to map the image (section table, alignments, sizes).
    #[serde(skip)]
    pub layout: PeLayout,
}

/// Raw fields of one COFF section header that later passes need (the loader maps by them).
#[derive(Debug, Clone, Copy)]
pub struct RawSection {
    /// VirtualSize (objects: physical address, normally 0).
    pub virtual_size: u32,
    /// VirtualAddress.
    pub virtual_address: u32,
    /// SizeOfRawData.
    pub size_of_raw_data: u32,
    /// PointerToRawData.
    pub pointer_to_raw_data: u32,
    /// PointerToRelocations.
    pub pointer_to_relocations: u32,
    /// NumberOfRelocations.
    pub number_of_relocations: u16,
    /// Characteristics.
    pub characteristics: u32,
}

/// The header values and section table the Windows loader maps an image by.
#[derive(Debug, Clone, Default)]
pub struct PeLayout {
    /// Raw section headers, in table order.
    pub sections: Vec<RawSection>,
    /// SizeOfHeaders.
    pub size_of_headers: u64,
    /// SectionAlignment.
    pub section_alignment: u64,
    /// FileAlignment.
    pub file_alignment: u64,
    /// SizeOfImage.
    pub size_of_image: u64,
    /// DllCharacteristics (raw).
    pub dll_characteristics: u16,
    /// File header Characteristics (raw).
    pub characteristics: u16,
}

/// A debug directory entry.
#[derive(Debug, Clone, Serialize)]
pub struct DebugEntry {
    /// Type name (`CODEVIEW`, `POGO`, …).
    pub kind: String,
    /// Raw type.
    pub raw_type: u32,
    /// Timestamp.
    pub timestamp: u32,
    /// RVA of the data.
    pub rva: u64,
    /// File offset of the data.
    pub file_offset: u64,
    /// Size of the data.
    pub size: u32,
    /// CodeView: PDB path.
    pub pdb_path: Option<String>,
    /// CodeView: GUID as text.
    pub guid: Option<String>,
    /// CodeView: age.
    pub age: Option<u32>,
    /// Span of the directory entry.
    pub span: Span,
}

/// The TLS directory.
#[derive(Debug, Clone, Serialize)]
pub struct TlsInfo {
    /// StartAddressOfRawData (VA).
    pub start_raw_data: u64,
    /// EndAddressOfRawData (VA).
    pub end_raw_data: u64,
    /// AddressOfIndex (VA).
    pub address_of_index: u64,
    /// AddressOfCallBacks (VA).
    pub address_of_callbacks: u64,
    /// SizeOfZeroFill.
    pub size_of_zero_fill: u32,
    /// Characteristics.
    pub characteristics: u32,
    /// Callback VAs.
    pub callbacks: Vec<u64>,
}

/// Load configuration (the fields most tools show).
#[derive(Debug, Clone, Serialize)]
pub struct LoadConfig {
    /// Size field.
    pub size: u32,
    /// Fields by name, in structure order (only those present within `size`).
    pub fields: Vec<(String, u64)>,
    /// Control-flow-guard function table RVAs.
    pub guard_functions: Vec<u64>,
    /// SEH handler table RVAs (x86).
    pub seh_handlers: Vec<u64>,
}

/// A `.pdata` runtime function entry.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeFunction {
    /// Begin RVA.
    pub begin: u32,
    /// End RVA.
    pub end: u32,
    /// Unwind info RVA.
    pub unwind: u32,
}

/// A resource leaf, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceEntry {
    /// Type (`ICON`, `VERSION`, … or a name/number).
    pub kind: String,
    /// Name or ID.
    pub name: String,
    /// Language ID.
    pub language: u32,
    /// Data RVA.
    pub rva: u64,
    /// Data size.
    pub size: u32,
}

/// The Rich header.
#[derive(Debug, Clone, Serialize)]
pub struct RichHeader {
    /// XOR key.
    pub key: u32,
    /// Span of the header.
    pub span: Span,
    /// Entries: product id, build, count.
    pub entries: Vec<RichEntry>,
    /// Whether the stored key matches the recomputed checksum.
    pub checksum_valid: bool,
}

/// One Rich header entry.
#[derive(Debug, Clone, Serialize)]
pub struct RichEntry {
    /// Product id.
    pub product: u16,
    /// Build number.
    pub build: u16,
    /// Use count.
    pub count: u32,
}

/// A bound import descriptor.
#[derive(Debug, Clone, Serialize)]
pub struct BoundImport {
    /// DLL name.
    pub dll: String,
    /// Timestamp.
    pub timestamp: u32,
    /// Forwarder references.
    pub forwarders: Vec<String>,
}

/// ELF-only information.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ElfInfo {
    /// `e_type` name.
    pub file_type: String,
    /// `DT_NEEDED` libraries.
    pub needed: Vec<String>,
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// Interpreter.
    pub interpreter: Option<String>,
    /// Dynamic section entries: tag name and value.
    pub dynamic: Vec<DynamicEntry>,
    /// Version requirements.
    pub version_needs: Vec<VersionNeed>,
    /// GOT / PLT slots bound at load time (`GLOB_DAT`, `JUMP_SLOT`).
    pub got_slots: Vec<GotSlot>,
    /// `COPY` relocations.
    pub copy_relocations: Vec<GotSlot>,
}

/// A dynamic section entry.
#[derive(Debug, Clone, Serialize)]
pub struct DynamicEntry {
    /// Tag name.
    pub tag: String,
    /// Raw tag.
    pub raw_tag: u64,
    /// Value.
    pub value: u64,
    /// String value, for string tags.
    pub string: Option<String>,
}

/// A version requirement (`.gnu.version_r`).
#[derive(Debug, Clone, Serialize)]
pub struct VersionNeed {
    /// Library file.
    pub file: String,
    /// Version names.
    pub versions: Vec<String>,
}

/// A slot written by the dynamic loader.
#[derive(Debug, Clone, Serialize)]
pub struct GotSlot {
    /// Address relative to the image base.
    pub rva: u64,
    /// Relocation kind name.
    pub kind: String,
    /// Symbol.
    pub symbol: String,
    /// Size of the symbol (for COPY).
    pub size: Option<u64>,
}
