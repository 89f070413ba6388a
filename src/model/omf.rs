//! OMF-only model: segments with their SEGDEF attributes and the bytes LEDATA/LIDATA put there,
//! groups, externals and communals, COMDATs, FIXUPP threads and fixups with their raw fields and
//! a description in words, IMPDEF/EXPDEF comments and library information.
//!
//! Index conventions: `record` fields are indices into [`crate::model::Binary::omf_records`];
//! SEGDEF, GRPDEF, LNAMES and external indices are the 1-based indices OMF itself uses. The
//! relocations the OMF reader lowers are one per fixup, in the same order: `relocations[i]` is
//! `omf.fixups[i]`.
//!
//! Lowered sections: SEGDEF `n` is section `n`; COMDATs (and Borland virtual segments) follow.
//! OMF scatters a segment's bytes over data records, so `Section::file_offset` / `file_size`
//! describe them only when a single LEDATA at offset 0 holds them all (otherwise `file_size` is
//! 0 and `file_offset` is the first data byte); [`OmfInfo::section_bytes`] has the assembled
//! bytes and each segment's `data` lists where they came from.

use serde::Serialize;

use super::Span;

/// Why OMF COMDATs have no associative selection, for views that show OMF COMDATs.
pub const OMF_NO_ASSOCIATIVE_NOTE: &str = "OMF COMDAT selection is only no-match, pick-any, same-size or exact-match: \
there is no associative selection, so a side table (exception data, debug info, an initialiser entry) cannot be \
told to live or die with the function it belongs to. COFF added IMAGE_COMDAT_SELECT_ASSOCIATIVE for exactly that.";

/// Everything OMF-specific read from one module (or, for a library, the library header).
#[derive(Debug, Clone, Serialize, Default)]
pub struct OmfInfo {
    /// Module name from THEADR/LHEADR.
    pub module_name: Option<String>,
    /// Translator named by a COMENT class 0x00 record.
    pub translator: Option<String>,
    /// Debug-information style announced by COMENT 0xA1 (`CodeView`, `HLL`) or implied.
    pub debug_style: Option<String>,
    /// Whether MODEND marks this as a main module.
    pub main_module: bool,
    /// LNAMES / LLNAMES in index order (index 1 is the first entry).
    pub names: Vec<String>,
    /// SEGDEFs in index order.
    pub segments: Vec<OmfSegment>,
    /// GRPDEFs in index order.
    pub groups: Vec<OmfGroup>,
    /// EXTDEF, LEXTDEF, CEXTDEF, COMDEF and LCOMDEF entries in external-index order.
    pub externals: Vec<OmfExternal>,
    /// COMDAT symbols (continuation records merged).
    pub comdats: Vec<OmfComdat>,
    /// FIXUPP THREAD subrecords.
    pub threads: Vec<OmfThread>,
    /// FIXUPP FIXUP subrecords.
    pub fixups: Vec<OmfFixup>,
    /// COMENT 0xA0 IMPDEF entries.
    pub imports: Vec<OmfImport>,
    /// COMENT 0xA0 EXPDEF entries.
    pub exports: Vec<OmfExport>,
    /// MODEND start address, if the module has one.
    pub start: Option<OmfReference>,
    /// Library header information (OMF libraries only).
    pub library: Option<OmfLibraryInfo>,
}

impl OmfInfo {
    /// The assembled bytes of a lowered section (a SEGDEF or a COMDAT), as far as data records
    /// wrote them (gaps are zero; bytes past the last data record are not included).
    pub fn section_bytes(&self, section: u32) -> Option<&[u8]> {
        if let Some(s) = self.segments.iter().find(|s| s.index == section) {
            return Some(&s.image);
        }
        self.comdats.iter().find(|c| c.section == section).map(|c| c.image.as_slice())
    }

    /// The fixups that patch the data of record `record` (a LEDATA, LIDATA or COMDAT record).
    pub fn fixups_for_data_record(&self, record: usize) -> impl Iterator<Item = &OmfFixup> {
        self.fixups.iter().filter(move |f| f.data_record == Some(record))
    }

    /// The fixups and threads decoded from FIXUPP record `record`.
    pub fn fixups_in_record(&self, record: usize) -> impl Iterator<Item = &OmfFixup> {
        self.fixups.iter().filter(move |f| f.record == record)
    }
}

/// A SEGDEF with the data the module puts into it.
#[derive(Debug, Clone, Serialize)]
pub struct OmfSegment {
    /// SEGDEF index (1-based); also the lowered section's index.
    pub index: u32,
    /// Segment name (LNAMES).
    pub name: String,
    /// Class name (LNAMES), e.g. `CODE`.
    pub class: String,
    /// Overlay name (LNAMES), usually empty.
    pub overlay: String,
    /// The raw ACBP byte.
    pub acbp: u8,
    /// Alignment in words: `absolute`, `byte`, `word`, `paragraph`, `page`, `dword`, `4K page`.
    pub alignment: String,
    /// Alignment in bytes, when relocatable.
    pub align: Option<u64>,
    /// Combine type in words: `private`, `public`, `stack`, `common`, …
    pub combine: String,
    /// B bit: the segment is exactly 64 KiB (16-bit) or 4 GiB (32-bit) long.
    pub big: bool,
    /// P bit: a USE32 segment.
    pub use32: bool,
    /// Segment length in bytes (B bit applied).
    pub length: u64,
    /// Absolute segments: frame number.
    pub frame: Option<u16>,
    /// Absolute segments: offset within the frame.
    pub frame_offset: Option<u32>,
    /// GRPDEF index of the first group that lists this segment.
    pub group: Option<u32>,
    /// Index of the SEGDEF record.
    pub record: usize,
    /// Data records (LEDATA / LIDATA) that fill the segment, in file order.
    pub data: Vec<OmfDataChunk>,
    /// The assembled bytes (not part of the JSON; see [`OmfInfo::section_bytes`]).
    #[serde(skip)]
    pub image: Vec<u8>,
}

/// One data record's contribution to a segment or COMDAT.
#[derive(Debug, Clone, Serialize)]
pub struct OmfDataChunk {
    /// Index of the LEDATA / LIDATA / COMDAT record.
    pub record: usize,
    /// Offset in the segment (or COMDAT) of the first byte.
    pub offset: u64,
    /// Number of bytes it puts there (after LIDATA expansion).
    pub len: u64,
    /// Whether the bytes are iterated (LIDATA or an iterated COMDAT).
    pub iterated: bool,
    /// The data bytes in the file (the iterated blocks, for LIDATA).
    pub span: Span,
}

/// A GRPDEF.
#[derive(Debug, Clone, Serialize)]
pub struct OmfGroup {
    /// GRPDEF index (1-based).
    pub index: u32,
    /// Group name (LNAMES), e.g. `DGROUP` or `FLAT`.
    pub name: String,
    /// SEGDEF indices of the member segments.
    pub segments: Vec<u32>,
    /// Index of the GRPDEF record.
    pub record: usize,
}

/// An external name: EXTDEF, LEXTDEF, CEXTDEF, COMDEF or LCOMDEF.
#[derive(Debug, Clone, Serialize)]
pub struct OmfExternal {
    /// External index (1-based), shared by all five record kinds.
    pub index: u32,
    /// Symbol name.
    pub name: String,
    /// Record kind that defined it: `EXTDEF`, `LEXTDEF`, `CEXTDEF`, `COMDEF`, `LCOMDEF`.
    pub kind: String,
    /// TYPDEF index (usually 0).
    pub type_index: u16,
    /// Whether it is local to the module (LEXTDEF, LCOMDEF).
    pub local: bool,
    /// Communal size, for COMDEF / LCOMDEF.
    pub communal: Option<OmfCommunal>,
    /// Index of the lowered symbol in [`crate::model::Binary::symbols`].
    pub symbol: usize,
    /// Index of the defining record.
    pub record: usize,
    /// Bytes of the entry in that record.
    pub span: Span,
}

/// A COMDEF / LCOMDEF communal variable's size.
#[derive(Debug, Clone, Serialize)]
pub struct OmfCommunal {
    /// Far (0x61: element count × element size) rather than near (0x62).
    pub far: bool,
    /// The raw data-type byte (0x61 far, 0x62 near, below 0x60 a Borland segment index).
    pub data_type: u8,
    /// Far: number of elements.
    pub count: u64,
    /// Far: element size; near: the size.
    pub element_size: u64,
    /// Total size in bytes.
    pub size: u64,
}

/// A COMDAT symbol with its data (continuation records merged).
#[derive(Debug, Clone, Serialize)]
pub struct OmfComdat {
    /// Index of the lowered section (after the SEGDEF sections).
    pub section: u32,
    /// Symbol name (LNAMES).
    pub name: String,
    /// LNAMES index of the name.
    pub name_index: u16,
    /// Flags byte of the first record (01 continuation, 02 iterated, 04 local, 08 data in code).
    pub flags: u8,
    /// Local (static) COMDAT.
    pub local: bool,
    /// Attributes byte (high nibble selection, low nibble allocation).
    pub attributes: u8,
    /// Selection: `no-match`, `any`, `same-size`, `exact`, or `reserved (n)`.
    pub selection: String,
    /// Allocation: `explicit`, `far-code`, `far-data`, `code32`, `data32`, or `reserved (n)`.
    pub allocation: String,
    /// Raw Align byte.
    pub align_raw: u8,
    /// Alignment in words (`from SEGDEF`, `byte`, `word`, `paragraph`, `page`, `dword`).
    pub align: String,
    /// Explicit allocation: base group index.
    pub base_group: Option<u32>,
    /// Explicit allocation: base segment index.
    pub base_segment: Option<u32>,
    /// Explicit allocation with neither group nor segment: frame number.
    pub base_frame: Option<u16>,
    /// TYPDEF index.
    pub type_index: u16,
    /// Number of bytes the records put there.
    pub length: u64,
    /// Indices of the COMDAT records (first record, then continuations).
    pub records: Vec<usize>,
    /// Data contributions.
    pub data: Vec<OmfDataChunk>,
    /// Index of the lowered symbol in [`crate::model::Binary::symbols`].
    pub symbol: usize,
    /// A Borland virtual segment (a COMDEF whose data type is a segment index, filled by
    /// LEDATA records whose segment index has bit 14 set) rather than a COMDAT record.
    pub borland_virtual: bool,
    /// The assembled bytes (not part of the JSON; see [`OmfInfo::section_bytes`]).
    #[serde(skip)]
    pub image: Vec<u8>,
}

/// A FIXUPP THREAD subrecord: a frame or target remembered for later fixups.
#[derive(Debug, Clone, Serialize)]
pub struct OmfThread {
    /// Index of the FIXUPP record.
    pub record: usize,
    /// Bytes of the subrecord.
    pub span: Span,
    /// Frame thread (D bit set) rather than target thread.
    pub frame: bool,
    /// Thread number 0–3.
    pub number: u8,
    /// Method (frame F0–F6, target T0–T3).
    pub method: u8,
    /// Index or frame number, when the method takes one.
    pub datum: Option<u32>,
    /// The thread in words.
    pub description: String,
}

/// A frame and a target: what a fixup (or the MODEND start address) refers to.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OmfReference {
    /// Frame method F0–F7 (taken from the thread when one is used).
    pub frame_method: u8,
    /// Frame datum: index or frame number.
    pub frame_datum: Option<u32>,
    /// Frame thread number, when the frame comes from a thread.
    pub frame_thread: Option<u8>,
    /// The frame in words (`group FLAT`, `target`, …).
    pub frame: String,
    /// Target method T0–T6 (T4–T6: as T0–T2 without displacement).
    pub target_method: u8,
    /// Target datum: index or frame number.
    pub target_datum: Option<u32>,
    /// Target thread number, when the target comes from a thread.
    pub target_thread: Option<u8>,
    /// The target in words (``EXTDEF `_printf` ``, ``SEGDEF `_TEXT` ``).
    pub target: String,
    /// Name of the target segment, group or external.
    pub target_name: Option<String>,
    /// Target displacement, when present.
    pub displacement: Option<u32>,
}

/// A FIXUPP FIXUP subrecord.
#[derive(Debug, Clone, Serialize)]
pub struct OmfFixup {
    /// Index of the FIXUPP record.
    pub record: usize,
    /// Bytes of the subrecord.
    pub span: Span,
    /// The raw Locat word (first byte high).
    pub locat: u16,
    /// The raw Fix Data byte.
    pub fix_data: u8,
    /// M bit: segment-relative (true) or self-relative (false).
    pub segment_relative: bool,
    /// Location type 0–15.
    pub location: u8,
    /// Location in words (`16-bit offset`, `32-bit offset`, `16-bit segment base`, …).
    pub location_name: String,
    /// Data record offset (10 bits).
    pub data_offset: u16,
    /// Index of the LEDATA / LIDATA / COMDAT record being patched.
    pub data_record: Option<usize>,
    /// SEGDEF index of the patched segment.
    pub segment: Option<u32>,
    /// Position in [`OmfInfo::comdats`] of the patched COMDAT.
    pub comdat: Option<u32>,
    /// Index of the patched lowered section.
    pub section: Option<u32>,
    /// Offset of the location in that section (LIDATA: the first expanded copy).
    pub offset: Option<u64>,
    /// Frame and target.
    #[serde(flatten)]
    pub reference: OmfReference,
    /// The whole fixup in words: "32-bit offset of EXTDEF `_printf`, frame: group FLAT".
    pub description: String,
}

/// A COMENT IMPDEF (class 0xA0 subtype 01).
#[derive(Debug, Clone, Serialize)]
pub struct OmfImport {
    /// Internal (symbol) name.
    pub internal_name: String,
    /// DLL / module name.
    pub module: String,
    /// Entry name in the DLL, when imported by name.
    pub entry_name: Option<String>,
    /// Ordinal, when imported by ordinal.
    pub ordinal: Option<u16>,
    /// Index of the COMENT record.
    pub record: usize,
}

/// A COMENT EXPDEF (class 0xA0 subtype 02).
#[derive(Debug, Clone, Serialize)]
pub struct OmfExport {
    /// Exported name.
    pub exported_name: String,
    /// Internal name, when different.
    pub internal_name: Option<String>,
    /// Ordinal, when given.
    pub ordinal: Option<u16>,
    /// Resident-name flag.
    pub resident: bool,
    /// No-data flag.
    pub no_data: bool,
    /// Parameter words (call gates).
    pub parameter_words: u8,
    /// Index of the COMENT record.
    pub record: usize,
}

/// The LIBHDR of an OMF library.
#[derive(Debug, Clone, Serialize)]
pub struct OmfLibraryInfo {
    /// Page size (modules start on page boundaries).
    pub page_size: u32,
    /// File offset of the dictionary.
    pub dictionary_offset: u32,
    /// Number of 512-byte dictionary blocks.
    pub dictionary_blocks: u16,
    /// Flags byte (bit 0: case-sensitive dictionary).
    pub flags: u8,
    /// Number of dictionary entries read.
    pub dictionary_entries: u32,
}

/// Number of bytes an OMF fixup location type patches (0 for an undefined location).
pub fn omf_location_width(loc: u8) -> u64 {
    match loc {
        0 | 4 => 1,
        1 | 2 | 5 => 2,
        3 | 9 | 13 => 4,
        11 => 6,
        _ => 0,
    }
}

/// The bytes of OMF record `r` (type, length, body, checksum), clamped to the file.
pub fn omf_record_span(bin: &super::Binary, r: usize) -> Option<Span> {
    let rec = bin.omf_records.get(r)?;
    let size = bin.file_size;
    let start = rec.offset.min(size);
    let end = rec.offset.saturating_add(u64::from(rec.length) + 3).min(size);
    Some(Span::new(start, end.saturating_sub(start)))
}

/// The file bytes each OMF fixup (`omf.fixups[i]`, lowered as `relocations[i]`) patches, inside
/// the data record it applies to (the iterated blocks, for LIDATA). Empty for other formats.
pub fn omf_fixup_sites(bin: &super::Binary) -> Vec<Option<Span>> {
    let Some(omf) = &bin.omf else { return Vec::new() };
    let mut chunk: std::collections::HashMap<usize, Span> = std::collections::HashMap::new();
    for c in omf.segments.iter().flat_map(|s| &s.data).chain(omf.comdats.iter().flat_map(|c| &c.data)) {
        chunk.entry(c.record).or_insert(c.span);
    }
    omf.fixups
        .iter()
        .map(|f| {
            f.data_record.and_then(|d| chunk.get(&d)).and_then(|c| {
                let start = c.offset.checked_add(u64::from(f.data_offset))?;
                let len = omf_location_width(f.location).max(1).min(c.end().saturating_sub(start));
                (start < c.end() && len > 0).then_some(Span::new(start, len))
            })
        })
        .collect()
}
