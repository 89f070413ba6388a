//! OMF (Intel / Microsoft / TIS Object Module Format) objects and libraries.
//!
//! A module is a sequence of records (`type, length, body, checksum`). This reader walks them
//! once, decodes every record type of TIS OMF 1.1 into annotated fields (each with its byte
//! range), keeps the state later records refer to (LNAMES, SEGDEF, GRPDEF and external indices,
//! FIXUPP threads, the last data record), assembles segment and COMDAT bytes from LEDATA / LIDATA
//! (bounded), and finally lowers everything into the common model. Malformed input produces
//! diagnostics; whatever can still be read is shown. Semantics follow Open Watcom's `dmpobj`.

mod comdat;
mod coment;
mod data;
mod fixupp;
pub mod library;
mod lower;
mod misc;
mod names;
pub mod record;
mod segments;
mod symbols;

use std::collections::HashMap;

use crate::model::{Arch, Binary, Diagnostic, Field, Format, Location, OmfInfo, OmfRecord, Severity};
use record::{Body, Checksum, Frame};

/// Most diagnostics one module records before it only counts them.
const MAX_DIAGNOSTICS: usize = 400;
/// Most symbols (publics, externals, COMDATs) one module keeps.
pub(crate) const MAX_SYMBOLS: usize = 1 << 18;
/// Most fixups and threads one module keeps.
pub(crate) const MAX_FIXUPS: usize = 1 << 18;
/// Most decoded fields one module keeps (records beyond keep only their envelope).
const MAX_FIELDS: usize = 1 << 20;
/// Most records one module reads.
const MAX_RECORDS: usize = 1 << 20;
/// Consecutive records of unknown type after which the data is no longer read as OMF.
const MAX_UNKNOWN_RUN: usize = 8;

/// What kind of OMF file `data` looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An object module starting with THEADR or LHEADR.
    Object,
    /// A library starting with LIBHDR.
    Library,
}

/// Why data whose first byte would start an OMF file is not read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    /// The data ends inside the first record's 3-byte header.
    #[error(
        "the first byte 0x{first:02x} would start an OMF {what} record, but the file ends inside its 3-byte header"
    )]
    HeaderCut {
        /// The first byte.
        first: u8,
        /// The record it would start (`THEADR`, `LHEADR`, `LIBHDR`).
        what: &'static str,
    },
    /// The data ends inside the first record.
    #[error("the first byte 0x{first:02x} would start an OMF {what} record of {length} bytes, but only {available} bytes follow")]
    RecordCut {
        /// The first byte.
        first: u8,
        /// The record it would start.
        what: &'static str,
        /// The record's length field.
        length: u16,
        /// Bytes after the 3-byte header.
        available: usize,
    },
    /// A library header whose page size is impossible.
    #[error("the first byte 0xf0 would start an OMF library header, but its page size {page} is not a power of two between 16 and 32768")]
    BadPageSize {
        /// The page size (length + 3).
        page: u32,
    },
    /// A library header not followed by a module header.
    #[error("the first byte 0xf0 would start an OMF library header with {page}-byte pages, but no module header (0x80/0x82) follows at offset 0x{page:x}")]
    NoModule {
        /// The page size (length + 3).
        page: u32,
    },
    /// A module header too short for a name.
    #[error("the first byte 0x{first:02x} would start an OMF {what} record, but its length {length} is too short to hold a module name")]
    TooShort {
        /// The first byte.
        first: u8,
        /// The record it would start.
        what: &'static str,
        /// The record's length field.
        length: u16,
    },
    /// A module header whose name does not fit in it.
    #[error("the first byte 0x{first:02x} would start an OMF {what} record, but its {name_len}-byte name does not fit in its length {length}")]
    NameTooLong {
        /// The first byte.
        first: u8,
        /// The record it would start.
        what: &'static str,
        /// The name's length byte.
        name_len: u64,
        /// The record's length field.
        length: u16,
    },
    /// A module header with a wrong checksum.
    #[error("the first byte 0x{first:02x} would start an OMF {what} record, but its checksum is wrong (0x{stored:02x}, expected 0x{expected:02x})")]
    BadChecksum {
        /// The first byte.
        first: u8,
        /// The record it would start.
        what: &'static str,
        /// The stored checksum.
        stored: u8,
        /// The correct checksum.
        expected: u8,
    },
    /// A module header followed by a byte that is no OMF record type.
    #[error("the first byte 0x{first:02x} would start an OMF {what} record, but the byte after it (0x{next:02x} at 0x{at:x}) is no OMF record type")]
    UnknownNext {
        /// The first byte.
        first: u8,
        /// The record it would start.
        what: &'static str,
        /// The byte after the record.
        next: u8,
        /// Its offset.
        at: u64,
    },
}

/// Whether `data` starts like an OMF object or library. None when the first byte is not an OMF
/// start at all; `Err` with the reason when it is, but the first record is not plausible.
pub fn sniff(data: &[u8]) -> Option<Result<Kind, SniffError>> {
    let first = *data.first()?;
    if !matches!(first, 0x80 | 0x82 | 0xf0) {
        return None;
    }
    let what = match first {
        0x80 => "THEADR",
        0x82 => "LHEADR",
        _ => "LIBHDR",
    };
    let Some(frame) = record::read_frame(data, 0) else {
        return Some(Err(SniffError::HeaderCut { first, what }));
    };
    let length = frame.length;
    if frame.truncated {
        return Some(Err(SniffError::RecordCut { first, what, length, available: data.len().saturating_sub(3) }));
    }
    if first == 0xf0 {
        let page = u32::from(length) + 3;
        if !page.is_power_of_two() || !(16..=32768).contains(&page) {
            return Some(Err(SniffError::BadPageSize { page }));
        }
        return match data.get(page as usize) {
            Some(0x80 | 0x82) | Some(0xf1) => Some(Ok(Kind::Library)),
            _ => Some(Err(SniffError::NoModule { page })),
        };
    }
    if length < 2 {
        return Some(Err(SniffError::TooShort { first, what, length }));
    }
    let name_len = u64::from(data.get(3).copied().unwrap_or(0));
    if name_len + 2 > u64::from(length) {
        return Some(Err(SniffError::NameTooLong { first, what, name_len, length }));
    }
    if let Checksum::Bad { stored, expected } = frame.checksum {
        return Some(Err(SniffError::BadChecksum { first, what, stored, expected }));
    }
    // The next record, if any, must have a type OMF defines: random data that happens to start
    // with a plausible THEADR is not read as OMF.
    if let Some(&next) = data.get(frame.end as usize) {
        if record::type_name(next).is_none() {
            return Some(Err(SniffError::UnknownNext { first, what, next, at: frame.end }));
        }
    }
    Some(Ok(Kind::Object))
}

/// Read an OMF object module (one module; bytes after MODEND are reported, not read).
pub fn load_object(data: &[u8]) -> Binary {
    let mut m = Module::new(data);
    m.run(true);
    lower::lower(m)
}

/// Read an OMF library with every module as a member.
pub fn load_library(data: &[u8]) -> Binary {
    library::load_library(data)
}

/// A remembered FIXUPP thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadDef {
    /// Method.
    pub method: u8,
    /// Datum.
    pub datum: Option<u32>,
}

/// Who owns the bytes of a data record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A SEGDEF (1-based index).
    Segment(u32),
    /// A COMDAT (position in `OmfInfo::comdats`).
    Comdat(usize),
    /// Nothing valid.
    None,
}

/// Where an iterated leaf's bytes went, to place fixups into LIDATA.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeafMap {
    /// Offset of the leaf content relative to the first iterated block.
    pub rel: u64,
    /// Content length.
    pub len: u64,
    /// Offset (in the owner) of the first expanded copy.
    pub out: Option<u64>,
}

/// The data record FIXUPP records refer to.
#[derive(Debug, Clone)]
pub(crate) struct DataCtx {
    /// Record index.
    pub record: usize,
    /// The record type.
    pub rtype: u8,
    /// Owner of the bytes.
    pub owner: Owner,
    /// Offset in the owner of the first byte.
    pub base: u64,
    /// Number of data bytes in the record (enumerated) or of iterated-block bytes (iterated).
    pub len: u64,
    /// Iterated data: where each leaf went.
    pub leaves: Option<Vec<LeafMap>>,
}

/// Reading state of one module.
pub(crate) struct Module<'a> {
    /// The module's bytes.
    pub data: &'a [u8],
    /// The document being filled.
    pub bin: Binary,
    /// OMF-specific results.
    pub omf: OmfInfo,
    /// Index of the record being decoded.
    pub rec: usize,
    /// Frame threads 0–3.
    pub frame_threads: [Option<ThreadDef>; 4],
    /// Target threads 0–3.
    pub target_threads: [Option<ThreadDef>; 4],
    /// The last LEDATA / LIDATA / COMDAT.
    pub last_data: Option<DataCtx>,
    /// Phar Lap "Easy OMF-386": 32-bit offsets in even records.
    pub easy_omf: bool,
    /// Bytes that may still be allocated for assembled segment images.
    pub budget: u64,
    /// COMDAT position by LNAMES index, for continuations.
    pub comdat_by_name: HashMap<u16, usize>,
    /// Diagnostics suppressed after the cap.
    pub suppressed: usize,
    /// Offset one past the MODEND record, when one was read.
    pub modend_end: Option<u64>,
    /// Offset and type of the record being decoded.
    pub cur: (u64, u8),
    /// Borland virtual segments (COMDEFs with a segment-index data type), as positions in
    /// `omf.comdats`; segment index `0x4000 | n` refers to the n-th.
    pub virdefs: Vec<usize>,
    /// Tables that reached their cap (diagnosed once each).
    capped: Vec<&'static str>,
    /// Decoded fields kept so far.
    fields_kept: usize,
}

impl<'a> Module<'a> {
    /// A fresh module over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        let mut bin = Binary::new(Format::Omf, data.len() as u64);
        bin.arch = Arch::X86;
        Module {
            data,
            bin,
            omf: OmfInfo::default(),
            rec: 0,
            frame_threads: [None; 4],
            target_threads: [None; 4],
            last_data: None,
            easy_omf: false,
            budget: data::MODULE_IMAGE_BUDGET,
            comdat_by_name: HashMap::new(),
            suppressed: 0,
            modend_end: None,
            cur: (0, 0),
            virdefs: Vec::new(),
            capped: Vec::new(),
            fields_kept: 0,
        }
    }

    /// Record a diagnostic at a file offset (capped).
    pub fn diag(&mut self, severity: Severity, off: u64, message: impl Into<String>) {
        if self.bin.diagnostics.len() >= MAX_DIAGNOSTICS {
            self.suppressed += 1;
            return;
        }
        self.bin.diagnostics.push(Diagnostic { severity, location: Location::file(off), message: message.into() });
    }

    /// Whether a table of `what` holding `count` items reached `cap`; the first time, says so.
    /// Items beyond the cap still show in their records' fields but are not kept.
    pub fn at_cap(&mut self, what: &'static str, count: usize, cap: usize, at: u64) -> bool {
        if count < cap {
            return false;
        }
        if !self.capped.contains(&what) {
            self.capped.push(what);
            let msg = format!(
                "{}: more than {cap} {what}; further ones are shown in their records but not kept",
                self.here()
            );
            self.diag(Severity::Warning, at, msg);
        }
        true
    }

    /// "SEGDEF record at 0x12" for messages about the current record.
    pub fn here(&self) -> String {
        format!("{} record at 0x{:x}", record::display_name(self.cur.1), self.cur.0)
    }

    /// Width of offset fields in a record of type `rtype`.
    pub fn off_width(&self, rtype: u8) -> u32 {
        if rtype & 1 == 1 || self.easy_omf {
            4
        } else {
            2
        }
    }

    /// Walk the records of one module. With `whole_file`, report what follows MODEND.
    pub fn run(&mut self, whole_file: bool) {
        let len = self.data.len() as u64;
        let mut pos = 0u64;
        let mut unknown_run = 0usize;
        while pos < len {
            if self.bin.omf_records.len() >= MAX_RECORDS {
                self.diag(
                    Severity::Error,
                    pos,
                    format!("more than {MAX_RECORDS} records; the rest ({} bytes) is not read", len - pos),
                );
                break;
            }
            let Some(frame) = record::read_frame(self.data, pos) else {
                self.diag(
                    Severity::Error,
                    pos,
                    format!(
                        "{} byte(s) at the end are too short for a record header (type + 2-byte length)",
                        len - pos
                    ),
                );
                break;
            };
            if frame.length == 0 {
                self.diag(
                    Severity::Error,
                    pos,
                    format!(
                        "record {} at 0x{pos:x} has length 0: even an empty record needs its checksum byte",
                        record::display_name(frame.rtype)
                    ),
                );
            }
            if frame.truncated {
                self.diag(
                    Severity::Error,
                    pos,
                    format!(
                        "record {} at 0x{pos:x} claims {} bytes but only {} remain in the file",
                        record::display_name(frame.rtype),
                        frame.length,
                        len - frame.body_start
                    ),
                );
            }
            self.record(&frame);
            if record::type_name(frame.rtype).is_none() {
                unknown_run += 1;
            } else {
                unknown_run = 0;
            }
            pos = frame.end;
            if matches!(frame.rtype, 0x8a | 0x8b) {
                self.modend_end = Some(pos);
                break;
            }
            if frame.truncated {
                break;
            }
            if unknown_run >= MAX_UNKNOWN_RUN {
                self.diag(
                    Severity::Error,
                    pos,
                    format!("{MAX_UNKNOWN_RUN} records in a row have unknown types: the data no longer looks like OMF records; the rest ({} bytes) is not read", len - pos),
                );
                pos = len;
                break;
            }
            if frame.rtype == 0xf1 || frame.rtype == 0xf0 {
                self.diag(
                    Severity::Error,
                    frame.offset,
                    "library record inside an object module; the rest is not read",
                );
                break;
            }
        }
        if self.modend_end.is_none() && !self.bin.omf_records.is_empty() {
            self.diag(Severity::Warning, pos.min(len), "the module has no MODEND record: it is incomplete");
        }
        if whole_file && self.modend_end.is_some() && pos < len {
            let rest = self.data.get(pos as usize..).unwrap_or(&[]);
            if rest.iter().all(|&b| b == 0) {
                self.diag(Severity::Info, pos, format!("{} zero byte(s) of padding after MODEND", rest.len()));
            } else {
                self.diag(
                    Severity::Warning,
                    pos,
                    format!("{} byte(s) after MODEND are not part of the module and are not read", rest.len()),
                );
            }
        }
        if self.suppressed > 0 {
            let n = self.suppressed;
            self.bin.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                location: Location::NONE,
                message: format!("{n} further diagnostic(s) were suppressed"),
            });
        }
    }

    /// Decode one record and append it to `omf_records`.
    fn record(&mut self, f: &Frame) {
        self.rec = self.bin.omf_records.len();
        self.cur = (f.offset, f.rtype);
        let mut body = Body::new(self.data, f.body_start, f.body_end);
        let mut fields = vec![
            Field {
                name: "Record type".into(),
                value: Some(u64::from(f.rtype)),
                display: format!("0x{:02x} {}", f.rtype, record::display_name(f.rtype)),
                span: crate::model::Span::new(f.offset, 1),
                help: record::HELP_TYPE,
            },
            Field {
                name: "Record length".into(),
                value: Some(u64::from(f.length)),
                display: format!("{} (0x{:x})", f.length, f.length),
                span: crate::model::Span::new(f.offset + 1, 2),
                help: record::HELP_LENGTH,
            },
        ];
        let summary = self.decode(f, &mut body);
        let name = record::display_name(f.rtype);
        if let Some(field) = body.short.clone() {
            let at = body.pos;
            self.diag(
                Severity::Error,
                at,
                format!("{name} record at 0x{:x}: the record body ends inside field \"{field}\"", f.offset),
            );
        } else if !body.done() {
            let n = body.left();
            let at = body.pos;
            body.rest("Unread bytes", "Bytes at the end of the body that the record layout does not account for.");
            self.diag(
                Severity::Warning,
                at,
                format!(
                    "{name} record at 0x{:x}: {n} byte(s) at the end of the body are not part of any field",
                    f.offset
                ),
            );
        }
        if self.fields_kept.saturating_add(body.fields.len()) > MAX_FIELDS {
            if !self.capped.contains(&"fields") {
                self.capped.push("fields");
                let msg = format!(
                    "{name} record at 0x{:x}: more than {MAX_FIELDS} decoded fields in this module; later records keep only their envelope",
                    f.offset
                );
                self.diag(Severity::Warning, f.offset, msg);
            }
            body.fields.clear();
        }
        self.fields_kept += body.fields.len() + 3;
        fields.append(&mut body.fields);
        let checksum_display = match f.checksum {
            Checksum::Ok => "ok".to_string(),
            Checksum::Zero => "0 (not computed)".to_string(),
            Checksum::Bad { stored, expected } => {
                format!("0x{stored:02x} (bad: 0x{expected:02x} would make the record sum to 0)")
            }
            Checksum::Missing => "missing".to_string(),
        };
        if f.checksum != Checksum::Missing {
            fields.push(Field {
                name: "Checksum".into(),
                value: crate::formats::bytes::u8_at(self.data, f.body_end).map(u64::from),
                display: checksum_display,
                span: crate::model::Span::new(f.body_end, 1),
                help: record::HELP_CHECKSUM,
            });
        }
        if let Checksum::Bad { stored, expected } = f.checksum {
            self.diag(
                Severity::Warning,
                f.body_end,
                format!("{name} record at 0x{:x}: bad checksum 0x{stored:02x} (0x{expected:02x} expected)", f.offset),
            );
        }
        self.bin.omf_records.push(OmfRecord {
            offset: f.offset,
            record_type: f.rtype,
            type_name: name,
            length: f.length,
            checksum: f.checksum.word().to_string(),
            summary: summary.unwrap_or_else(|| "(truncated)".into()),
            fields,
        });
    }

    /// Decode the body of one record; the summary, or None when it is cut short.
    fn decode(&mut self, f: &Frame, b: &mut Body<'a>) -> Option<String> {
        let t = f.rtype;
        match t {
            0x80 | 0x82 => names::theadr(self, b, t),
            0x88 => coment::coment(self, b),
            0x8a | 0x8b => misc::modend(self, b, t),
            0x8c | 0xb4 | 0xb5 => symbols::extdef(self, b, t),
            0x8e => symbols::typdef(self, b),
            0x90 | 0x91 | 0xb6 | 0xb7 => symbols::pubdef(self, b, t),
            0x94 | 0x95 => misc::linnum(self, b, t),
            0x96 | 0xca => names::lnames(self, b, t),
            0x98 | 0x99 => segments::segdef(self, b, t),
            0x9a => segments::grpdef(self, b),
            0x9c | 0x9d => fixupp::fixupp(self, b, t),
            0xa0 | 0xa1 => data::ledata(self, b, t),
            0xa2 | 0xa3 => data::lidata(self, b, t),
            0xb0 | 0xb8 => symbols::comdef(self, b, t),
            0xb2 | 0xb3 => misc::bakpat(self, b, t),
            0xbc => symbols::cextdef(self, b),
            0xc2 | 0xc3 => comdat::comdat(self, b, t),
            0xc4 | 0xc5 => misc::linsym(self, b, t),
            0xc6 => symbols::alias(self, b),
            0xc8 | 0xc9 => misc::nbkpat(self, b, t),
            0xcc => misc::vernum(self, b),
            0xce => misc::vendext(self, b),
            0xf0 | 0xf1 => {
                b.rest("Body", "Library records belong to the library, not to a module.");
                Some("library record".into())
            }
            _ => {
                let n = b.left();
                match record::type_name(t) {
                    Some(name) => {
                        b.rest("Body", "An obsolete Intel OMF-86 record that TIS OMF no longer defines; shown raw.");
                        Some(format!("obsolete Intel {name} record, {n} bytes (not decoded)"))
                    }
                    None => {
                        b.rest("Body", "A record type OMF does not define; shown raw.");
                        self.diag(
                            Severity::Warning,
                            f.offset,
                            format!("unknown record type 0x{t:02x} at 0x{:x} ({} bytes); skipped", f.offset, f.length),
                        );
                        Some(format!("unknown record type 0x{t:02x}, {n} bytes"))
                    }
                }
            }
        }
    }
}
