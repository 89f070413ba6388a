//! OMF libraries (Microsoft LIB format): the LIBHDR record with the page size and dictionary
//! location, the modules (each on a page boundary, each opened as a member), LIBEND, and the
//! dictionary of 512-byte blocks with 37 buckets each, read into the archive symbol index.

use super::record::{self, Body, Checksum};
use super::Module;
use crate::formats::bytes::{slice_at, text, u16_at, u8_at};
use crate::model::{
    Arch, ArchiveSymbol, Binary, Diagnostic, Field, Format, HeaderGroup, Location, Member, OmfInfo, OmfLibraryInfo,
    OmfRecord, Severity, Span,
};

/// Size of one dictionary block.
const DICT_BLOCK: u64 = 512;
/// Buckets per dictionary block.
const BUCKETS: u64 = 37;
/// Most modules a library is read with.
const MAX_MODULES: usize = 1 << 16;

fn diag(bin: &mut Binary, severity: Severity, off: u64, message: String) {
    bin.diagnostics.push(Diagnostic { severity, location: Location::file(off), message });
}

/// Turn a library-level record into an [`OmfRecord`].
fn push_record(bin: &mut Binary, data: &[u8], f: &record::Frame, body: Body<'_>, summary: String) {
    let mut fields = vec![
        Field {
            name: "Record type".into(),
            value: Some(u64::from(f.rtype)),
            display: format!("0x{:02x} {}", f.rtype, record::display_name(f.rtype)),
            span: Span::new(f.offset, 1),
            help: record::HELP_TYPE,
        },
        Field {
            name: "Record length".into(),
            value: Some(u64::from(f.length)),
            display: format!("{} (0x{:x})", f.length, f.length),
            span: Span::new(f.offset + 1, 2),
            help: record::HELP_LENGTH,
        },
    ];
    fields.extend(body.fields);
    if f.checksum != Checksum::Missing {
        fields.push(Field {
            name: "Checksum".into(),
            value: u8_at(data, f.body_end).map(u64::from),
            display: match f.checksum {
                Checksum::Ok => "ok".into(),
                Checksum::Zero => "0 (not computed)".into(),
                Checksum::Bad { stored, expected } => {
                    format!("0x{stored:02x} (bad: 0x{expected:02x} expected)")
                }
                Checksum::Missing => "missing".into(),
            },
            span: Span::new(f.body_end, 1),
            help: record::HELP_CHECKSUM,
        });
    }
    bin.omf_records.push(OmfRecord {
        offset: f.offset,
        record_type: f.rtype,
        type_name: record::display_name(f.rtype),
        length: f.length,
        checksum: f.checksum.word().into(),
        summary,
        fields,
    });
}

/// Read an OMF library.
pub fn load_library(data: &[u8]) -> Binary {
    let len = data.len() as u64;
    let mut bin = Binary::new(Format::OmfLibrary, len);
    bin.arch = Arch::X86;
    let Some(hdr) = record::read_frame(data, 0) else {
        diag(&mut bin, Severity::Error, 0, "the library header record is truncated".into());
        return bin;
    };
    let page = u64::from(hdr.length) + 3;
    let mut b = Body::new(data, hdr.body_start, hdr.body_end);
    let dict_off = b.uint("Dictionary offset", 4, "File offset of the dictionary (a multiple of 512).").unwrap_or(0);
    let dict_blocks = b
        .uint_with("Dictionary blocks", 2, "Number of 512-byte dictionary blocks (a prime number).", |v| v.to_string())
        .unwrap_or(0);
    let flags = b
        .u8_with("Flags", "Bit 0: the dictionary is case-sensitive.", |v| {
            format!("0x{v:02x}{}", if v & 1 != 0 { " (case-sensitive)" } else { "" })
        })
        .unwrap_or(0);
    b.rest("Padding", "Zeros up to the end of the first page (the record length sets the page size).");
    let summary = format!("page size {page}, dictionary at 0x{dict_off:x} ({dict_blocks} block(s))");
    push_record(&mut bin, data, &hdr, b, summary);
    if let Some(r) = bin.omf_records.first() {
        let g = HeaderGroup { name: "LIBHDR record".into(), span: hdr.span(), fields: r.fields.clone() };
        bin.headers.push(g);
    }
    let mut info = OmfLibraryInfo {
        page_size: page as u32,
        dictionary_offset: dict_off as u32,
        dictionary_blocks: dict_blocks as u16,
        flags,
        dictionary_entries: 0,
    };

    // Modules, each starting on a page boundary.
    let mut pos = page;
    let mut libend = None;
    while pos < len {
        if bin.members.len() >= MAX_MODULES {
            diag(&mut bin, Severity::Error, pos, format!("more than {MAX_MODULES} modules; the rest is not read"));
            break;
        }
        let Some(t) = u8_at(data, pos) else { break };
        if t == 0xf1 {
            libend = Some(pos);
            break;
        }
        if !matches!(t, 0x80 | 0x82) {
            diag(
                &mut bin,
                Severity::Error,
                pos,
                format!("expected a module header (0x80/0x82) or LIBEND (0xf1) at page offset 0x{pos:x}, found 0x{t:02x}; the rest is not read"),
            );
            break;
        }
        let slice = data.get(pos as usize..).unwrap_or(&[]);
        let mut m = Module::new(slice);
        m.run(false);
        let size = m.modend_end.unwrap_or(slice.len() as u64);
        let name = libmod_name(&m).or_else(|| m.omf.module_name.clone()).unwrap_or_else(|| format!("module@0x{pos:x}"));
        let mut member = super::lower::lower(m);
        member.file_size = size;
        bin.members.push(Member {
            member_name: name,
            member_offset: pos,
            member_size: size,
            binary: Some(Box::new(member)),
        });
        let next = pos.saturating_add(size.max(1));
        pos = next.div_ceil(page).saturating_mul(page);
        if size == slice.len() as u64 {
            break;
        }
    }
    if let Some(at) = libend {
        if let Some(f) = record::read_frame(data, at) {
            let mut b = Body::new(data, f.body_start, f.body_end);
            b.rest("Padding", "Zeros up to the dictionary, which starts on a 512-byte boundary.");
            push_record(&mut bin, data, &f, b, "end of the modules".into());
        }
    } else {
        diag(&mut bin, Severity::Warning, pos.min(len), "no LIBEND record after the modules".into());
    }

    // Dictionary.
    let mut entries = 0u32;
    for blk in 0..dict_blocks {
        let base = dict_off.saturating_add(blk * DICT_BLOCK);
        let Some(block) = slice_at(data, base, DICT_BLOCK) else {
            diag(
                &mut bin,
                Severity::Error,
                base.min(len),
                format!("dictionary block {blk} at 0x{base:x} lies past the end of the file ({} of {dict_blocks} blocks present)", blk),
            );
            break;
        };
        let mut g = HeaderGroup {
            name: format!("Dictionary block {blk}"),
            span: Span::new(base, DICT_BLOCK),
            fields: Vec::new(),
        };
        let mut seen = Vec::new();
        for bucket in 0..BUCKETS {
            let v = u64::from(block.get(bucket as usize).copied().unwrap_or(0));
            if v == 0 {
                continue;
            }
            let rel = v * 2;
            g.fields.push(Field {
                name: format!("Bucket {bucket}"),
                value: Some(v),
                display: format!("{v} → entry at block offset 0x{rel:x}"),
                span: Span::new(base + bucket, 1),
                help: "A bucket holds the entry's offset in the block divided by 2 (0: empty). The bucket is chosen by hashing the name.",
            });
            if seen.contains(&rel) {
                continue;
            }
            seen.push(rel);
            let Some(n) = block.get(rel as usize).map(|&n| u64::from(n)) else {
                diag(
                    &mut bin,
                    Severity::Error,
                    base + bucket,
                    format!("dictionary block {blk}, bucket {bucket} points outside the block"),
                );
                continue;
            };
            let (Some(name), Some(pg)) = (slice_at(block, rel + 1, n), u16_at(block, rel + 1 + n)) else {
                diag(
                    &mut bin,
                    Severity::Error,
                    base + rel,
                    format!("dictionary block {blk}: the entry at 0x{rel:x} runs past the end of the block"),
                );
                continue;
            };
            let name = text(name);
            let member_offset = u64::from(pg) * page;
            g.fields.push(Field {
                name: "Entry name".into(),
                value: Some(n),
                display: if name.ends_with('!') {
                    format!("\"{name}\" (Microsoft LIB: the module's own name)")
                } else {
                    format!("\"{name}\"")
                },
                span: Span::new(base + rel, 1 + n),
                help: "A public name (length-prefixed).",
            });
            g.fields.push(Field {
                name: "Module page".into(),
                value: Some(u64::from(pg)),
                display: format!("{pg} → module at 0x{member_offset:x}"),
                span: Span::new(base + rel + 1 + n, 2),
                help: "Page number of the module defining the name; multiply by the page size for its file offset.",
            });
            if !bin.members.iter().any(|m| m.member_offset == member_offset) {
                diag(
                    &mut bin,
                    Severity::Warning,
                    base + rel,
                    format!(
                        "dictionary entry \"{name}\" points at page {pg} (0x{member_offset:x}), where no module starts"
                    ),
                );
            }
            bin.archive_symbols.push(ArchiveSymbol { name, member_offset });
            entries += 1;
        }
        if let Some(free) = block.get(BUCKETS as usize) {
            g.fields.push(Field {
                name: "Free space".into(),
                value: Some(u64::from(*free)),
                display: if *free == 0xff {
                    "0xff (block full)".into()
                } else {
                    format!("{free} → next free byte at 0x{:x}", u64::from(*free) * 2)
                },
                span: Span::new(base + BUCKETS, 1),
                help: "Offset of the first free byte in the block divided by 2; 0xFF when the block is full.",
            });
        }
        bin.headers.push(g);
    }
    info.dictionary_entries = entries;
    bin.omf = Some(OmfInfo { library: Some(info), ..OmfInfo::default() });
    bin
}

/// The name a COMENT LIBMOD record gives the module, if any.
fn libmod_name(m: &Module<'_>) -> Option<String> {
    m.bin.omf_records.iter().find(|r| r.record_type == 0x88 && r.summary.starts_with("LIBMOD")).and_then(|r| {
        r.fields.iter().find(|f| f.name == "Module name").map(|f| f.display.trim_matches('"').to_string())
    })
}
