//! COMENT (0x88): the comment type bits and every class the TIS specification and the common
//! vendors define — translator, library search, OMF extensions (IMPDEF, EXPDEF, …), new-OMF /
//! debug-format markers, link-pass separator, weak and lazy externals, Phar Lap Easy OMF,
//! Borland dependency files, Watcom directives. Unknown classes are shown raw.

use super::names::IndexKind;
use super::record::Body;
use super::Module;
use crate::model::{OmfExport, OmfImport, Severity};

/// The name of a comment class.
pub fn class_name(c: u8) -> &'static str {
    match c {
        0x00 => "translator",
        0x01 => "Intel copyright",
        0x81 => "library specifier (obsolete)",
        0x9b => "Watcom processor and memory model",
        0x9c => "MS-DOS version (obsolete)",
        0x9d => "memory model",
        0x9e => "DOSSEG",
        0x9f => "default library search",
        0xa0 => "OMF extension",
        0xa1 => "new OMF extensions (debug format)",
        0xa2 => "link pass separator",
        0xa3 => "LIBMOD (library module name)",
        0xa4 => "EXESTR (string for the executable)",
        0xa6 => "INCERR (incremental compilation error)",
        0xa7 => "NOPAD (no segment padding)",
        0xa8 => "WKEXT (weak externals)",
        0xa9 => "LZEXT (lazy externals)",
        0xaa => "Easy OMF-386 (Phar Lap)",
        0xda => "comment",
        0xdb => "compiler",
        0xdc => "date",
        0xdd => "timestamp",
        0xdf => "user",
        0xe3 => "Borland type definition",
        0xe6 => "Borland local symbols",
        0xe8 => "Borland source file",
        0xe9 => "Borland dependency file",
        0xea => "Borland compiler description",
        0xe0..=0xef => "Borland debug information",
        0xfd => "Watcom disassembler directive",
        0xfe => "Watcom linker directive",
        0xff => "command line",
        0x02..=0x9a => "reserved (Intel)",
        _ => "vendor-specific",
    }
}

/// Read text that some producers length-prefix and others do not.
fn text_or_name(b: &mut Body<'_>, field: &str, help: &'static str) -> String {
    if b.peek().is_some_and(|n| u64::from(n) + 1 == b.left()) {
        b.name(field, help).unwrap_or_default()
    } else {
        b.rest_text(field, help)
    }
}

fn proc_model(b: &mut Body<'_>) -> String {
    let s = b.rest_text("Model string", "Processor (0 = 8086, 2 = 80286, 3 = 80386), memory model (s, m, c, l, h, f), optimisation (O) and floating point (e, c, p).");
    let mut c = s.chars();
    let cpu = match c.next() {
        Some('0') => "8086".to_string(),
        Some(d) => format!("80{d}86"),
        None => return "empty".into(),
    };
    let model = match c.next().map(|x| x.to_ascii_lowercase()) {
        Some('s') => "small",
        Some('m') => "medium",
        Some('c') => "compact",
        Some('l') => "large",
        Some('h') => "huge",
        Some('f') => "flat",
        _ => "unknown model",
    };
    format!("{cpu}, {model} model (\"{s}\")")
}

/// COMENT: one comment record.
pub fn coment(m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    b.u8_with("Comment type", "Bit 7 NP: no purge (keep when the object is processed); bit 6 NL: no list.", |v| {
        format!(
            "0x{v:02x}{}{}",
            if v & 0x80 != 0 { " NP (no purge)" } else { "" },
            if v & 0x40 != 0 { " NL (no list)" } else { "" }
        )
    })?;
    let class =
        b.u8_with("Comment class", "Says what the comment carries.", |v| format!("0x{v:02x} ({})", class_name(v)))?;
    let name = class_name(class);
    let detail = match class {
        0x00 => {
            let t =
                text_or_name(b, "Translator", "Name and version of the compiler or assembler that wrote the module.");
            m.omf.translator.get_or_insert_with(|| t.clone());
            t
        }
        0x9f | 0x81 => {
            let t = text_or_name(b, "Library name", "A library the linker should search (like #pragma comment(lib)).");
            format!("search library \"{t}\"")
        }
        0x01 | 0xa4 | 0xda | 0xdb | 0xdc | 0xdd | 0xdf | 0xff => text_or_name(b, "Text", "Comment text."),
        0xe8 if b.left() >= 2 => {
            b.u8_with("Source index", "Borland: number of the source file.", |v| v.to_string())?;
            let n = b.name("File name", "Borland: name of a source file the following LINNUM records refer to.")?;
            if b.left() == 4 {
                b.uint("Time stamp", 4, "Borland: DOS date and time of the file (0: unknown).")?;
            }
            format!("\"{n}\"")
        }
        0x9c => {
            format!("version 0x{:x}", b.uint("MS-DOS version", 2, "Obsolete: the MS-DOS version the module is for.")?)
        }
        0x9b | 0x9d => proc_model(b),
        0x9e => "segments are ordered the DOS way (DOSSEG)".into(),
        0xa0 => omf_extension(m, b)?,
        0xa1 => {
            if b.done() {
                m.omf.debug_style = Some("CodeView".into());
                "CodeView-style debug information (implied)".into()
            } else {
                let v = b.u8_with("Version", "Version of the debug-information format.", |v| v.to_string())?;
                let style = b.rest_text("Style", "\"CV\": Microsoft CodeView; \"HL\": IBM HLL.");
                let word = match style.get(..2) {
                    Some("CV") => "CodeView",
                    Some("HL") => "HLL",
                    _ => "unknown",
                };
                m.omf.debug_style = Some(word.into());
                format!("new-OMF extensions present; {word} debug information version {v}")
            }
        }
        0xa2 => {
            if b.left() == 1 {
                b.u8_with("Subtype", "1: end of the records the linker needs in pass 1.", |v| format!("0x{v:02x}"))?;
            } else if !b.done() {
                b.rest_text("Text", "Free text some producers put here (MS C: \"Start link pass 2\").");
            }
            "end of pass 1 records (the linker can stop reading here in its first pass)".into()
        }
        0xa3 => {
            let n = b.name("Module name", "Name of the module inside a library (Microsoft LIB).")?;
            format!("library module \"{n}\"")
        }
        0xa6 => "the compiler reported an error (incremental compilation)".into(),
        0xa7 => {
            let mut n = 0;
            while !b.done() {
                m.read_index(b, "Segment index", "A segment that must not be padded.", IndexKind::Segment, false)?;
                n += 1;
            }
            format!("{n} segment(s) without padding")
        }
        0xa8 | 0xa9 => {
            let mut shown = Vec::new();
            while !b.done() {
                let (w, wn) =
                    m.read_index(b, "External index", "The weak (or lazy) external.", IndexKind::External, false)?;
                let (d, dn) = m.read_index(
                    b,
                    "Default resolution",
                    "External index used when nothing else defines it.",
                    IndexKind::External,
                    false,
                )?;
                if let Some(e) = usize::from(w).checked_sub(1).and_then(|i| m.omf.externals.get(i)) {
                    if let Some(s) = m.bin.symbols.get_mut(e.symbol) {
                        s.binding =
                            if class == 0xa8 { crate::model::Binding::Weak } else { crate::model::Binding::Lazy };
                        s.aux.push(format!("default resolution: {}", dn.clone().unwrap_or_else(|| format!("#{d}"))));
                    }
                }
                if shown.len() < 4 {
                    shown.push(format!(
                        "{} → {}",
                        wn.unwrap_or_else(|| format!("#{w}")),
                        dn.unwrap_or_else(|| format!("#{d}"))
                    ));
                }
            }
            shown.join(", ")
        }
        0xaa => {
            let t = b.rest_text("Signature", "\"80386\": Phar Lap Easy OMF-386 (32-bit offsets in 16-bit record types); Watcom writes \"OS220\" for OS/2 2.x objects.");
            if t.starts_with("80386") {
                m.easy_omf = true;
                format!("\"{t}\": 32-bit offsets in all records")
            } else {
                format!("\"{t}\" (not the Phar Lap signature; offsets keep their record-type width)")
            }
        }
        0xe9 => {
            if b.done() {
                "end of the dependency list".into()
            } else {
                b.uint("DOS time", 2, "File time, DOS format.")?;
                b.uint("DOS date", 2, "File date, DOS format.")?;
                let n = b.name("File name", "A file the module was built from.")?;
                format!("depends on \"{n}\"")
            }
        }
        _ => {
            let raw = b.rest("Comment bytes", "The class's bytes, shown raw.");
            format!("{} byte(s)", raw.len())
        }
    };
    Some(if detail.is_empty() { name.to_string() } else { format!("{name}: {detail}") })
}

/// COMENT class 0xA0: OMF extensions (IMPDEF, EXPDEF, INCDEF, LNKDIR, …).
fn omf_extension(m: &mut Module<'_>, b: &mut Body<'_>) -> Option<String> {
    let sub = b.u8_with(
        "Subtype",
        "1 IMPDEF, 2 EXPDEF, 3 INCDEF, 4 protected-mode library, 5 LNKDIR, 6 big-endian, 7 PRECOMP.",
        |v| {
            let w = match v {
                1 => "IMPDEF",
                2 => "EXPDEF",
                3 => "INCDEF",
                4 => "protected-mode library",
                5 => "LNKDIR",
                6 => "big-endian",
                7 => "PRECOMP",
                _ => "unknown",
            };
            format!("0x{v:02x} ({w})")
        },
    )?;
    Some(match sub {
        1 => {
            let by_ord =
                b.u8_with("Ordinal flag", "Non-zero: imported by ordinal (an ordinal follows); 0: by name.", |v| {
                    if v != 0 {
                        format!("{v} (by ordinal)")
                    } else {
                        "0 (by name)".into()
                    }
                })?;
            let internal = b.name("Internal name", "The symbol the module refers to.")?;
            let module = b.name("Module name", "The DLL that exports it.")?;
            let (ordinal, entry) = if by_ord != 0 {
                (Some(b.uint("Ordinal", 2, "Ordinal number in the DLL's export table.")? as u16), None)
            } else if b.done() {
                (None, None)
            } else {
                let e = b.name("Entry name", "Name in the DLL; empty means the same as the internal name.")?;
                (None, (!e.is_empty()).then_some(e))
            };
            let how = match (ordinal, &entry) {
                (Some(o), _) => format!("@{o}"),
                (None, Some(e)) => format!("\"{e}\""),
                (None, None) => format!("\"{internal}\""),
            };
            let s = format!("IMPDEF {internal} = {module}.{how}");
            m.omf.imports.push(OmfImport {
                internal_name: internal,
                module,
                entry_name: entry,
                ordinal,
                record: m.rec,
            });
            s
        }
        2 => {
            let flag = b.u8_with(
                "Exported flag",
                "Bit 7: ordinal given; bit 6: resident name; bit 5: no data; bits 0–4: parameter words.",
                |v| {
                    format!(
                        "0x{v:02x}{}{}{}, {} parameter word(s)",
                        if v & 0x80 != 0 { " ordinal" } else { "" },
                        if v & 0x40 != 0 { " resident" } else { "" },
                        if v & 0x20 != 0 { " no-data" } else { "" },
                        v & 0x1f
                    )
                },
            )?;
            let exported = b.name("Exported name", "Name the DLL exports.")?;
            let internal = b.name("Internal name", "The public symbol it stands for; empty means the same name.")?;
            let ordinal = if flag & 0x80 != 0 { Some(b.uint("Ordinal", 2, "Export ordinal.")? as u16) } else { None };
            let s = format!(
                "EXPDEF {exported}{}{}",
                if internal.is_empty() { String::new() } else { format!(" = {internal}") },
                ordinal.map_or(String::new(), |o| format!(" @{o}"))
            );
            m.omf.exports.push(OmfExport {
                exported_name: exported,
                internal_name: (!internal.is_empty()).then_some(internal),
                ordinal,
                resident: flag & 0x40 != 0,
                no_data: flag & 0x20 != 0,
                parameter_words: flag & 0x1f,
                record: m.rec,
            });
            s
        }
        3 => {
            let e = b.uint("EXTDEF delta", 2, "Incremental compilation: change in the number of EXTDEFs.")?;
            let l = b.uint("LINNUM delta", 2, "Incremental compilation: change in line-number offsets.")?;
            format!("INCDEF extdef delta {e}, linnum delta {l}")
        }
        4 => "protected-mode library".into(),
        5 => {
            b.u8_with("Flags", "Bit 0: new .EXE; bit 1: omit CodeView $PUBLICS; bit 2: run MPC.", |v| {
                format!("0x{v:02x}")
            })?;
            b.u8_with("Pseudocode version", "Version of the pseudocode.", |v| v.to_string())?;
            b.u8_with("CodeView version", "Version of the CodeView information.", |v| v.to_string())?;
            "LNKDIR (C++ linker directives)".into()
        }
        6 => "big-endian target".into(),
        7 => "PRECOMP (precompiled types)".into(),
        other => {
            let raw = b.rest("Extension bytes", "An OMF extension subtype this reader does not know; shown raw.");
            let msg = format!("{}: unknown OMF extension subtype 0x{other:02x}", m.here());
            m.diag(Severity::Info, b.pos, msg);
            format!("subtype 0x{other:02x}, {} byte(s)", raw.len())
        }
    })
}
