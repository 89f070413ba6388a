//! OMF helpers the views share: which fixups and threads belong to which record, which file bytes
//! each fixup patches, record colours, and a plain-words explanation of every record type.
//!
//! The index is built once per document (in the loader thread, as part of
//! [`super::lookup::Lookup`]), so the Records, Sections, COMDAT and Relocations views never scan
//! every fixup per frame.

use std::collections::{BTreeSet, HashMap};

use crate::model::{Binary, Field, OmfComdat, OmfFixup, OmfRecord, OmfSegment, Severity, Span};

use super::table::Tone;
use super::theme::RefKind;

/// Derived OMF lookups of one document (empty for other formats).
#[derive(Debug, Default)]
pub struct OmfIndex {
    /// Fixup positions (in `omf.fixups`) by the FIXUPP record that holds them.
    pub fixups_by_record: HashMap<usize, Vec<u32>>,
    /// Fixup positions by the data record (LEDATA, LIDATA, COMDAT) whose bytes they patch.
    pub fixups_by_data: HashMap<usize, Vec<u32>>,
    /// Thread positions (in `omf.threads`) by the FIXUPP record that holds them.
    pub threads_by_record: HashMap<usize, Vec<u32>>,
    /// The file bytes each fixup patches, inside its data record, by fixup position.
    pub sites: Vec<Option<Span>>,
    /// Position in `omf.comdats` by lowered section index.
    pub comdat_by_section: HashMap<u32, usize>,
    /// Record type names present, sorted (a facet of the Records table).
    pub record_types: Vec<String>,
    /// Checksum words present, sorted (a facet of the Records table).
    pub checksums: Vec<String>,
}

impl OmfIndex {
    /// Build the index for `bin` (empty unless it is OMF).
    pub fn new(bin: &Binary) -> Self {
        let mut ix = OmfIndex {
            record_types: bin
                .omf_records
                .iter()
                .map(|r| r.type_name.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(String::from)
                .collect(),
            checksums: bin
                .omf_records
                .iter()
                .map(|r| r.checksum.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(String::from)
                .collect(),
            ..OmfIndex::default()
        };
        let Some(omf) = &bin.omf else { return ix };
        for (i, f) in omf.fixups.iter().enumerate() {
            ix.fixups_by_record.entry(f.record).or_default().push(i as u32);
            if let Some(d) = f.data_record {
                ix.fixups_by_data.entry(d).or_default().push(i as u32);
            }
        }
        ix.sites = crate::model::omf_fixup_sites(bin);
        for (i, t) in omf.threads.iter().enumerate() {
            ix.threads_by_record.entry(t.record).or_default().push(i as u32);
        }
        ix.comdat_by_section = omf.comdats.iter().enumerate().map(|(i, c)| (c.section, i)).collect();
        ix
    }

    /// The fixups listed with record `r`: a FIXUPP record's own, or those patching a data record.
    pub fn fixups_of(&self, r: usize) -> &[u32] {
        self.fixups_by_record.get(&r).or_else(|| self.fixups_by_data.get(&r)).map_or(&[], Vec::as_slice)
    }

    /// The threads of FIXUPP record `r`.
    pub fn threads_of(&self, r: usize) -> &[u32] {
        self.threads_by_record.get(&r).map_or(&[], Vec::as_slice)
    }
}

/// The bytes of record `r` (type, length, body, checksum), clamped to the file.
pub fn record_span(bin: &Binary, r: usize) -> Option<Span> {
    crate::model::omf_record_span(bin, r)
}

/// Whether `span` is one of the envelope fields of `rec` (type byte, length, checksum byte).
pub fn is_envelope(rec: &OmfRecord, span: Span) -> bool {
    span.offset == rec.offset
        || (span.offset == rec.offset + 1 && span.len == 2)
        || (span.offset == rec.offset + u64::from(rec.length) + 2 && span.len == 1)
}

/// The field of `rec` starting at `offset`.
pub fn field_at(rec: &OmfRecord, offset: u64) -> Option<&Field> {
    rec.fields.iter().find(|f| f.span.offset == offset)
}

/// The record type name without the `32` of the 32-bit variants (`FIXUPP32` → `FIXUPP`).
pub fn base_type(rec: &OmfRecord) -> &str {
    if rec.record_type & 1 == 1 && rec.record_type < 0xf0 {
        rec.type_name.strip_suffix("32").unwrap_or(&rec.type_name)
    } else {
        &rec.type_name
    }
}

/// The colour kind of a record's bytes.
pub fn record_kind(record_type: u8) -> RefKind {
    match record_type {
        0x98 | 0x99 | 0x9a | 0xa0..=0xa3 => RefKind::Section,
        0x9c | 0x9d | 0xb2 | 0xb3 | 0xc8 | 0xc9 => RefKind::Reloc,
        0x8c | 0x90 | 0x91 | 0xb0 | 0xb4 | 0xb5 | 0xb6 | 0xb7 | 0xb8 | 0xbc | 0xc6 => RefKind::Symbol,
        0xc2 | 0xc3 => RefKind::Comdat,
        0x94 | 0x95 | 0xc4 | 0xc5 => RefKind::DataDir,
        0x80 | 0x82 | 0x88 | 0x8a | 0x8b | 0x96 | 0xca | 0xcc | 0xce | 0xf0 | 0xf1 => RefKind::Header,
        _ => RefKind::Other,
    }
}

/// What a record type is for, in a sentence or two.
pub fn record_help(rec: &OmfRecord) -> &'static str {
    match base_type(rec) {
        "THEADR" => "Translator header: starts an object module and names it (usually after the source file).",
        "LHEADR" => "Library module header: starts a module and names it.",
        "COMENT" => {
            "Comment: its class byte says what it carries — the translator's name, a library to search, OMF extensions (IMPDEF / EXPDEF), the new-OMF marker, the link-pass separator, debug-format markers, …"
        }
        "LNAMES" => {
            "List of names: segment, class, overlay and group names, referred to elsewhere by their position in the module's name list (1-based, counting every LNAMES record)."
        }
        "LLNAMES" => "Local names: like LNAMES, for names local to the module.",
        "SEGDEF" => {
            "Segment definition: name, class and length, and the ACBP byte (alignment, combine type, big, USE16 / USE32). Later records refer to it by its SEGDEF index."
        }
        "GRPDEF" => {
            "Group definition: segments the linker keeps within one frame so one segment register reaches them all (DGROUP), or the flat group (FLAT)."
        }
        "EXTDEF" => "External names: symbols this module uses but does not define. Fixups name them by external index.",
        "LEXTDEF" => "Local external names: like EXTDEF, for names defined elsewhere in the same module (statics).",
        "CEXTDEF" => "COMDAT external names: refer to a COMDAT by its LNAMES index; each counts as an external index.",
        "COMDEF" => {
            "Communal names: uninitialised variables (like C tentative definitions); the linker allocates the largest size any module asks for. Near: a size; far: element count × element size."
        }
        "LCOMDEF" => "Local communal names: like COMDEF, local to the module.",
        "PUBDEF" => "Public names: symbols this module defines, each at an offset in a segment (or at an absolute frame).",
        "LPUBDEF" => "Local public names: like PUBDEF, visible only inside the module (statics).",
        "LEDATA" => {
            "Enumerated data: bytes for a segment (or COMDAT) at an offset. The FIXUPP record that follows patches them."
        }
        "LIDATA" => {
            "Iterated data: repeated blocks (a repeat count, then bytes or nested blocks), expanded into a segment like DUP in assembler. The FIXUPP record that follows patches the block contents, in every copy."
        }
        "FIXUPP" => {
            "Fixups: each FIXUP subrecord says which bytes of the data record before it hold a reference (Locat), to what (target) and relative to which frame (Fix Data). THREAD subrecords remember a frame or target for later fixups, even in later FIXUPP records."
        }
        "COMDAT" => {
            "Common data: a named piece of code or data that may appear in many modules; the linker keeps one copy by its selection and places it by its allocation."
        }
        "MODEND" => "Module end: closes the module; a main module gives the program's start address here.",
        "LINNUM" => "Line numbers: source line → offset pairs for a segment (debug information).",
        "LINSYM" => "Line numbers for a COMDAT (debug information).",
        "ALIAS" => "Alias definitions: a name that stands for another (substitute) name.",
        "BAKPAT" => "Backpatch: values added to bytes already emitted, for forward references resolved later.",
        "NBKPAT" => "Named backpatch: a backpatch of a COMDAT, by its name.",
        "VERNUM" => "OMF version of the module.",
        "VENDEXT" => "Vendor extension: a vendor number, then bytes only that vendor's tools read.",
        "TYPDEF" => "Type definition (obsolete; old compilers used it for communal sizes).",
        "LOCSYM" => "Local symbols (obsolete Intel record).",
        "LIBHDR" => {
            "Library header: the page size (every module starts on a page boundary) and where the dictionary of public names is."
        }
        "LIBEND" => "Library end: ends the modules; the dictionary follows on a 512-byte boundary.",
        _ => "A record type OMF reserves or this reader does not decode; its bytes are shown raw.",
    }
}

/// The tone of a checksum word in tables: ok quiet green, zero informational, bad an error.
pub fn checksum_tone(word: &str) -> Tone {
    match word {
        "ok" => Tone::Kind(RefKind::Export),
        "zero" => Tone::Severity(Severity::Info),
        "bad" => Tone::Severity(Severity::Error),
        _ => Tone::Severity(Severity::Warning),
    }
}

/// What a checksum word means.
pub fn checksum_help(word: &str) -> &'static str {
    match word {
        "ok" => "The record's bytes sum to 0 modulo 256.",
        "zero" => "The checksum byte is 0: not computed. Accepted, as linkers accept it.",
        "bad" => "The bytes do not sum to 0 modulo 256: the record was damaged or edited.",
        _ => "The record is cut off before its checksum byte.",
    }
}

/// The SEGDEF lowered as section `index`.
pub fn segment_of(bin: &Binary, index: u32) -> Option<&OmfSegment> {
    let segs = &bin.omf.as_ref()?.segments;
    segs.get((index as usize).checked_sub(1)?)
        .filter(|s| s.index == index)
        .or_else(|| segs.iter().find(|s| s.index == index))
}

/// The COMDAT lowered as section `index`, through the index.
pub fn comdat_of<'a>(bin: &'a Binary, ix: &OmfIndex, index: u32) -> Option<&'a OmfComdat> {
    bin.omf.as_ref()?.comdats.get(*ix.comdat_by_section.get(&index)?)
}

/// Name of GRPDEF `index` (1-based).
pub fn group_name(bin: &Binary, index: u32) -> Option<&str> {
    let g = bin.omf.as_ref()?.groups.get((index as usize).checked_sub(1)?)?;
    Some(g.name.as_str())
}

/// Where a fixup patches, as `segment+0xoffset` (or the data-record offset when unplaced).
pub fn fixup_place(label: Option<&str>, f: &OmfFixup) -> String {
    match (label, f.offset) {
        (Some(l), Some(o)) => format!("{l}+{o:#x}"),
        _ => format!("data +{:#x}", f.data_offset),
    }
}

/// The raw Locat bytes (high byte first, as stored) and the Fix Data byte of a fixup.
pub fn fixup_raw(f: &OmfFixup) -> (String, String) {
    (format!("{:02x} {:02x}", f.locat >> 8, f.locat & 0xff), format!("{:02x}", f.fix_data))
}

/// The frame and target of a fixup spelled out, for a tooltip.
pub fn fixup_details(f: &OmfFixup) -> String {
    let r = &f.reference;
    let thread = |t: Option<u8>| t.map_or_else(String::new, |n| format!(" (from thread {n})"));
    let mut s = format!(
        "{}\n\nLocation: {} ({}), data record offset {:#x}\nFrame: F{} {}{}\nTarget: T{} {}{}",
        f.description,
        f.location_name,
        if f.segment_relative { "segment-relative, M=1" } else { "self-relative, M=0" },
        f.data_offset,
        r.frame_method,
        r.frame,
        thread(r.frame_thread),
        r.target_method,
        r.target,
        thread(r.target_thread),
    );
    if let Some(d) = r.displacement {
        s.push_str(&format!("\nDisplacement: {d:#x}"));
    }
    s
}

/// The Disassembly row of the instruction that fixup `i` (lowered as `relocations[i]`) patches:
/// the instruction the scan found the fixup's field in. `None` for a fixup in data, or in bytes
/// the sweep did not decode as an instruction.
pub fn fixup_insn_row(core: &super::document::DocCore, i: usize) -> Option<usize> {
    let r = core.bin.relocations.get(i)?;
    let pos = core.index.section_pos(r.section?)?;
    let row = core.refs.insns.row_of(r.offset, Some(pos))?;
    let (_, rva) = core.refs.insns.at(row)?;
    let sites = core.refs.sites_at(pos as u32, rva);
    sites.iter().any(|s| s.reloc == Some(i as u32) && s.instr_len > 0).then_some(row)
}

/// For an instruction whose `sites` hold OMF fixups: the link to the FIXUPP record of the first
/// (the Records view with that record selected) and a tooltip naming each fixup in words.
pub fn fixup_record_link(bin: &Binary, sites: &[crate::analysis::Site]) -> Option<(super::action::Action, String)> {
    let omf = bin.omf.as_ref()?;
    let fixups: Vec<(usize, &OmfFixup)> =
        sites.iter().filter_map(|s| s.reloc).filter_map(|r| Some((r as usize, omf.fixups.get(r as usize)?))).collect();
    let &(_, first) = fixups.first()?;
    let mut tip = String::new();
    for (i, f) in &fixups {
        let rec = bin.omf_records.get(f.record).map_or("FIXUPP", |r| r.type_name.as_str());
        tip.push_str(&format!("Fixup {i} in {rec} record #{}: {}\n", f.record, f.description));
    }
    tip.push_str("Click to show the FIXUPP record in the Records view.");
    let target = super::action::Target::Row(super::document::TableId::OmfRecords, first.record);
    Some((super::action::Action::Navigate { doc: None, target }, tip))
}
