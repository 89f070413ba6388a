//! The disassembly of OMF code against nasm's own listing (`tests/fixtures/omf/*.lst`),
//! instruction by instruction: for every code segment, each instruction the listing shows is a
//! line of ours at the same offset with the same bytes (fixup fields as the listing shows them:
//! `[....]` the stored addend, `(....)` self-relative, `[ssss]` a segment base whose bytes nasm
//! does not list), there are as many instructions (data the source puts in code is not counted;
//! `align` padding is one `nop` per byte), each fixup is a site of its line, and each fixup's
//! operand names what the source line names: an external or public by its name (`call _printf`),
//! an offset in a segment by the public at or below it (`[_table+0x8]`, else the segment), a
//! segment base as `seg name`. A byte-built module covers what nasm never writes: LIDATA in code
//! and an offset kept in the FIXUPP's target displacement.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod omf_support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use linkscope::analysis::listing::{PieceSweep, PIECE_BYTES};
use linkscope::model::index::Index;
use linkscope::model::Binary;
use linkscope::report::disasm::Listing;
use omf_support::nasm_fixture as fixture;

/// One line of our listing (`disasm --json`).
#[derive(Debug, Clone)]
struct Line {
    section: String,
    rva: u64,
    bytes: Vec<u8>,
    text: String,
    /// Offsets of the sites' fields from the instruction's start.
    fields: Vec<u64>,
    /// The sites' modes.
    modes: Vec<String>,
    /// The line's label (`null`: none).
    label: Option<String>,
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Our listing of `bytes`, through the same path as `disasm --json`.
fn our_listing(bytes: &[u8]) -> (Binary, Vec<Line>) {
    let bin = linkscope::load(bytes).expect("loads");
    let index = Index::new(&bin);
    let labels = std::sync::Arc::new(linkscope::analysis::labels::Labels::new(&bin, bytes, &index, &[]));
    let names = std::sync::Arc::new(linkscope::analysis::listing::Names::new(&bin, &index, Some(&labels)));
    let sweep = PieceSweep::new(&bin, bytes, &index, Vec::new(), PIECE_BYTES);
    let listing = Listing { bin: &bin, index: &index, data: bytes, sweep: &sweep, names, labels, threads: 2 };
    let mut out = Vec::new();
    listing.write_json(&mut out, &|_, _| true).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("one JSON document");
    assert_eq!(doc["format"], "omf");
    let lines = doc["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| Line {
            section: l["section"].as_str().unwrap().to_string(),
            rva: l["rva"].as_u64().unwrap(),
            bytes: hex_bytes(l["bytes"].as_str().unwrap()),
            text: l["text"].as_str().unwrap().to_string(),
            fields: l["sites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["field_rva"].as_u64().unwrap() - s["site_rva"].as_u64().unwrap())
                .collect(),
            modes: l["sites"].as_array().unwrap().iter().map(|s| s["mode"].as_str().unwrap().to_string()).collect(),
            label: l["label"].as_str().map(str::to_string),
        })
        .collect();
    (bin, lines)
}

/// A relocated field as the listing shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Offset,
    Base,
    SelfRel,
}

#[derive(Debug, Clone)]
struct Fixup {
    /// Offset of the field from the item's start.
    at: usize,
    width: usize,
    kind: Kind,
    stored: u64,
}

/// One source line's worth of bytes in the listing.
#[derive(Debug, Clone, Default)]
struct Item {
    segment: String,
    offset: u64,
    /// The bytes (`None` where nasm lists `[ssss]`).
    bytes: Vec<Option<u8>>,
    fixups: Vec<Fixup>,
    /// The source text without a leading label.
    code: String,
    /// `db` / `dw` / `dd` / `times`: data in the segment, not instructions.
    data: bool,
    /// `<rep n>` of one byte (alignment padding): one instruction per byte.
    rep: Option<(u8, u64)>,
}

#[derive(Debug, Default)]
struct Lst {
    items: Vec<Item>,
    /// Label → (segment, offset).
    labels: HashMap<String, (String, u64)>,
    externs: HashSet<String>,
    globals: HashSet<String>,
    segments: HashSet<String>,
    /// Segment → group.
    groups: HashMap<String, String>,
    group_names: HashSet<String>,
}

fn parse_hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_end_matches('>').trim_end_matches('h'), 16).expect("hex")
}

/// The source without a leading `label:`.
fn code_of(source: &str) -> (Option<&str>, &str) {
    let s = source.split(';').next().unwrap_or("").trim();
    match s.split_once(':') {
        Some((l, rest)) if !l.contains(' ') && !l.contains('[') => (Some(l), rest.trim()),
        _ => (None, s),
    }
}

fn parse_listing(lst: &str) -> Lst {
    let mut out = Lst::default();
    let mut seg: Option<String> = None;
    let mut pending: Vec<String> = Vec::new();
    let mut last_no = 0u32;
    for raw in lst.lines() {
        let toks: Vec<&str> = raw.split_whitespace().collect();
        let Some(no) = toks.first().and_then(|t| t.parse::<u32>().ok()) else { continue };
        if raw.contains("<1>") {
            continue;
        }
        let source = raw.get(40..).unwrap_or("").trim().to_string();
        let continuation = no == last_no;
        last_no = no;
        let (label, code) = code_of(&source);
        let words: Vec<&str> = code.split_whitespace().collect();
        match words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("segment") => {
                let name = words[1].to_string();
                if words.iter().any(|w| w.eq_ignore_ascii_case("flat")) {
                    out.groups.insert(name.clone(), "FLAT".into());
                    out.group_names.insert("FLAT".into());
                }
                out.segments.insert(name.clone());
                seg = Some(name);
                continue;
            }
            Some("extern") => {
                out.externs.insert(words[1].split(':').next().unwrap().to_string());
            }
            Some("common") => {
                out.externs.insert(words[1].to_string());
            }
            Some("global") => {
                out.globals.insert(words[1].to_string());
            }
            Some("group") => {
                out.group_names.insert(words[1].to_string());
                for m in &words[2..] {
                    out.groups.insert(m.to_string(), words[1].to_string());
                }
            }
            _ => {}
        }
        if let Some(l) = label.filter(|l| !l.starts_with('.') && !continuation) {
            pending.push(l.to_string());
        }
        let has_offset = toks.get(1).is_some_and(|t| t.len() == 8 && t.chars().all(|c| c.is_ascii_hexdigit()));
        let Some(segname) = seg.clone().filter(|_| has_offset) else { continue };
        let offset = parse_hex(toks[1]);
        for l in pending.drain(..) {
            out.labels.insert(l, (segname.clone(), offset));
        }
        let field = toks.get(2).copied().unwrap_or("");
        if field.starts_with("<res") || field.starts_with("??") {
            continue;
        }
        let first = words.first().map(|w| w.to_ascii_lowercase()).unwrap_or_default();
        let data = matches!(first.as_str(), "db" | "dw" | "dd" | "dq" | "times");
        let mut item = if continuation {
            // `[00000000]-` rows continue the item above.
            out.items.pop().expect("continued item")
        } else {
            Item { segment: segname.clone(), offset, code: code.to_string(), data, ..Item::default() }
        };
        if let Some((byte, _)) = field.split_once("<rep") {
            item.rep = Some((parse_hex(byte) as u8, parse_hex(toks[3])));
            out.items.push(item);
            continue;
        }
        let mut chars = field.trim_end_matches('-').chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '[' | '(' => {
                    let close = if c == '[' { ']' } else { ')' };
                    let inner: String = chars.by_ref().take_while(|&x| x != close).collect();
                    let width = inner.len() / 2;
                    let at = item.bytes.len();
                    if inner == "ssss" {
                        item.fixups.push(Fixup { at, width, kind: Kind::Base, stored: 0 });
                        item.bytes.extend([None, None]);
                    } else {
                        let b = hex_bytes(&inner);
                        let stored = b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x));
                        let kind = if c == '(' { Kind::SelfRel } else { Kind::Offset };
                        item.fixups.push(Fixup { at, width, kind, stored });
                        item.bytes.extend(b.into_iter().map(Some));
                    }
                }
                h if h.is_ascii_hexdigit() => {
                    let l = chars.next().expect("hex pair");
                    item.bytes.push(Some(parse_hex(&format!("{h}{l}")) as u8));
                }
                _ => {}
            }
        }
        out.items.push(item);
    }
    out
}

/// `name+0x8` as every output writes a name with an offset.
fn with_offset(name: &str, off: u64) -> String {
    if off == 0 {
        name.to_string()
    } else {
        format!("{name}+{off:#x}")
    }
}

/// What the operand of a fixup must read, from the source line that wrote it (nasm's rules: an
/// external by its name plus the stored addend; a label's offset is stored, named by the public
/// at or below it in its segment, else by the segment; `seg` of a label is its group, else its
/// segment). Also the identifier the source names.
fn expected_operand(lst: &Lst, item: &Item, f: &Fixup, nth: usize) -> (String, String) {
    let known = |t: &str| {
        lst.externs.contains(t) || lst.labels.contains_key(t) || lst.segments.contains(t) || lst.group_names.contains(t)
    };
    let idents: Vec<&str> =
        item.code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).filter(|t| known(t)).collect();
    assert!(!idents.is_empty(), "no name in {:?}", item.code);
    let x = if idents.len() == item.fixups.len() { idents[nth] } else { idents[0] };
    let name = match f.kind {
        Kind::Base => {
            let seg_of = lst.labels.get(x).map(|(s, _)| s.as_str());
            match seg_of {
                Some(s) => format!("seg {}", lst.groups.get(s).map_or(s, String::as_str)),
                None => format!("seg {x}"),
            }
        }
        _ if lst.externs.contains(x) => with_offset(x, if f.kind == Kind::Offset { f.stored } else { 0 }),
        _ if lst.segments.contains(x) || lst.group_names.contains(x) => with_offset(x, f.stored),
        Kind::Offset => {
            let (seg, _) = &lst.labels[x];
            let public = lst
                .labels
                .iter()
                .filter(|(n, (s, off))| s == seg && lst.globals.contains(*n) && *off <= f.stored)
                .max_by_key(|(_, (_, off))| *off);
            match public {
                Some((n, (_, off))) => with_offset(n, f.stored - off),
                None => with_offset(seg, f.stored),
            }
        }
        Kind::SelfRel => x.to_string(),
    };
    (name, x.to_string())
}

/// Whether `text` holds `name` as a whole operand (not as the start of a longer name or of
/// `name+0x…`).
fn names(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '+' || c == '-';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(|c| ident(c) && c != '+' && c != '-') && !after.is_some_and(ident)
    })
}

/// Every check against one nasm fixture; returns the number of instructions compared.
fn check_fixture(name: &str) -> usize {
    let (obj, lst_text) = fixture(name);
    let lst = parse_listing(&lst_text);
    let (bin, lines) = our_listing(&obj);
    let code: Vec<String> = bin.sections.iter().filter(|s| s.is_exec).map(|s| s.name.clone()).collect();
    // Our lines are code segments' only, and every code segment with bytes has lines.
    let listed: HashSet<&str> = lines.iter().map(|l| l.section.as_str()).collect();
    let with_bytes: HashSet<&str> =
        lst.items.iter().filter(|i| code.contains(&i.segment)).map(|i| i.segment.as_str()).collect();
    assert_eq!(listed, with_bytes, "{name}: the segments listed are the code segments with bytes");
    // The source's public labels in code are the listing's labels where an instruction starts.
    for (label, (seg, off)) in lst.labels.iter().filter(|(l, (seg, _))| lst.globals.contains(*l) && code.contains(seg))
    {
        if let Some(l) = lines.iter().find(|l| &l.section == seg && l.rva == *off) {
            assert_eq!(l.label.as_deref(), Some(label.as_str()), "{name} {seg}+{off:#x}");
        }
    }
    // A near call or jump to a label of its own segment (no fixup: nasm resolved it) is named by
    // the listing's label there (or the one before it, with the offset).
    for item in lst.items.iter().filter(|i| !i.data && code.contains(&i.segment)) {
        let mut w = item.code.split_whitespace();
        let (Some(op @ ("call" | "jmp")), Some(target), None) = (w.next(), w.next(), w.next()) else { continue };
        let Some((seg, off)) = lst.labels.get(target).filter(|(s, _)| *s == item.segment) else { continue };
        let Some(l) = lines.iter().find(|l| l.section == item.segment && l.rva == item.offset) else { continue };
        let named = lines
            .iter()
            .rev()
            .filter(|m| &m.section == seg && m.rva <= *off)
            .find_map(|m| Some((m.rva, m.label.clone()?)));
        let want = named.map(|(at, name)| with_offset(&name, off - at)).unwrap_or_else(|| target.to_string());
        assert_eq!(l.text, format!("{op} {want}"), "{name} {}+{:#x}: {}", item.segment, item.offset, item.code);
    }
    let mut compared = 0;
    for seg in &code {
        let ours: Vec<&Line> = lines.iter().filter(|l| &l.section == seg).collect();
        let items: Vec<&Item> = lst.items.iter().filter(|i| &i.segment == seg).collect();
        // Data in code: our lines that start in it are not instructions of the source, and the
        // sweep is back in step where the data ends.
        let data: Vec<(u64, u64)> =
            items.iter().filter(|i| i.data).map(|i| (i.offset, i.offset + i.bytes.len() as u64)).collect();
        let in_data = |rva: u64| data.iter().find(|&&(a, b)| a <= rva && rva < b).copied();
        for l in &ours {
            if let Some((_, end)) = in_data(l.rva) {
                assert!(l.rva + l.bytes.len() as u64 <= end, "{name} {seg}+{:#x}: runs past the data", l.rva);
            }
        }
        let ours: BTreeMap<u64, &Line> =
            ours.into_iter().filter(|l| in_data(l.rva).is_none()).map(|l| (l.rva, l)).collect();
        let mut want = 0usize;
        for item in items.iter().filter(|i| !i.data) {
            if let Some((byte, n)) = item.rep {
                // Alignment padding: one one-byte instruction per byte.
                for k in 0..n {
                    let l =
                        ours.get(&(item.offset + k)).unwrap_or_else(|| panic!("{name} {seg}+{:#x}", item.offset + k));
                    assert_eq!(l.bytes, [byte], "{name} {seg}+{:#x}", item.offset + k);
                }
                want += n as usize;
                continue;
            }
            want += 1;
            let at = format!("{name} {seg}+{:#x} `{}`", item.offset, item.code);
            let l = ours.get(&item.offset).unwrap_or_else(|| panic!("{at}: no instruction of ours starts here"));
            assert_eq!(l.bytes.len(), item.bytes.len(), "{at}: length ({})", l.text);
            for (k, (ours, theirs)) in l.bytes.iter().zip(&item.bytes).enumerate() {
                if let Some(b) = theirs {
                    assert_eq!(ours, b, "{at}: byte {k} ({})", l.text);
                }
            }
            let fields: Vec<u64> = item.fixups.iter().map(|f| f.at as u64).collect();
            assert_eq!(l.fields, fields, "{at}: one site per fixup, at its field ({})", l.text);
            for (nth, f) in item.fixups.iter().enumerate() {
                let (operand, source) = expected_operand(&lst, item, f, nth);
                assert!(names(&l.text, &operand), "{at}: `{}` does not name `{operand}`", l.text);
                // What the source names (an external or public, a group) appears as it is.
                if lst.externs.contains(&source) || lst.globals.contains(&source) || lst.group_names.contains(&source) {
                    assert!(l.text.contains(&source), "{at}: `{}` does not name `{source}`", l.text);
                }
                assert!(f.width == 2 || f.width == 4, "{at}: field width {}", f.width);
            }
            compared += 1;
        }
        assert_eq!(ours.len(), want, "{name} {seg}: as many instructions as the listing");
    }
    compared
}

#[test]
fn omf32_code_matches_nasm_listing() {
    assert_eq!(check_fixture("omf32"), 9);
}

#[test]
fn omf16_code_matches_nasm_listing() {
    assert_eq!(check_fixture("omf16"), 16);
    assert_eq!(check_fixture("omf16-borland"), 16);
}

#[test]
fn use16_and_use32_code_in_one_module_match_nasm_listing() {
    // 19 + 10 source instructions, beside `align` padding and data in both segments.
    assert_eq!(check_fixture("omfcode"), 29);
    let (obj, _) = fixture("omfcode");
    let (_, lines) = our_listing(&obj);
    let text = |seg: &str, rva: u64| {
        lines.iter().find(|l| l.section == seg && l.rva == rva).map(|l| l.text.clone()).unwrap_or_default()
    };
    // Each segment decoded with its own bitness: 16-bit registers in CODE16, 32-bit in CODE32.
    assert_eq!(text("CODE16", 0x31), "mov bp, sp");
    assert_eq!(text("CODE32", 0x0), "mov eax, [counter32]");
    // A far call: the offset and the selector each named by its fixup.
    assert_eq!(text("CODE16", 0x1c), "call far ExtFunc16, seg ExtFunc16");
    assert_eq!(text("CODE16", 0x21), "call far helper16, seg CODE16");
    assert_eq!(text("CODE32", 0x15), "lea esi, [ebx*4+table32+0x4]");
}

#[test]
fn a_module_without_code_lists_nothing() {
    let (obj, _) = fixture("omfidx");
    let (bin, lines) = our_listing(&obj);
    assert!(!bin.sections.iter().any(|s| s.is_exec), "omfidx has no code segment");
    assert!(lines.is_empty());
}

#[test]
fn lidata_code_and_displacement_in_the_fixupp() {
    let bytes = omf_support::code_object();
    let (bin, lines) = our_listing(&bytes);
    let got: Vec<(u64, String, String)> =
        lines.iter().map(|l| (l.rva, l.bytes.iter().map(|b| format!("{b:02x}")).collect(), l.text.clone())).collect();
    let want = [
        // The offset 8 into DATA32S is the FIXUPP's displacement (nothing stored): tbl is at 4.
        (0, "a100000000", "mov eax, [tbl+0x4]"),
        (5, "e800000000", "call ext"),
        // LIDATA: `inc eax; dec eax` three times.
        (10, "40", "inc eax"),
        (11, "48", "dec eax"),
        (12, "40", "inc eax"),
        (13, "48", "dec eax"),
        (14, "40", "inc eax"),
        (15, "48", "dec eax"),
        (16, "c3", "ret"),
    ];
    let want: Vec<(u64, String, String)> = want.iter().map(|(a, b, c)| (*a, b.to_string(), c.to_string())).collect();
    assert_eq!(got, want);
    assert!(lines.iter().all(|l| l.section == "CODE32S"));
    // The LEDATA bytes lie in their record; the LIDATA-expanded ones in no one range of the file.
    let code = bin.sections.iter().position(|s| s.name == "CODE32S").unwrap();
    let ledata = bin.omf_records.iter().find(|r| r.record_type == 0xa1).unwrap();
    let span = linkscope::analysis::code::file_span(&bin, code, 0, 5).expect("in the LEDATA");
    assert!(span.offset > ledata.offset && span.end() <= ledata.offset + u64::from(ledata.length) + 3);
    assert_eq!(bytes[span.offset as usize], 0xa1);
    assert_eq!(linkscope::analysis::code::file_span(&bin, code, 12, 1), None);
}

#[test]
fn code_comdats_are_listed_each_with_its_bitness() {
    let (bin, lines) = our_listing(&omf_support::comdat_object());
    let at = |sec: &str, rva: u64| lines.iter().find(|l| l.section == sec && l.rva == rva).expect("a line");
    // _f: explicit in the use16 _TEXT, its continuation record appended: `call _g; ret; nop; nop`.
    let f: Vec<&str> = lines.iter().filter(|l| l.section == "_f").map(|l| l.text.as_str()).collect();
    assert_eq!(f, ["call _g", "ret", "nop", "nop"]);
    assert_eq!(at("_f", 0).bytes, [0xe8, 0, 0], "a 16-bit call");
    // _big32 (code32) holds data, not code: its fixup sits on no operand of what the sweep
    // decoded, and the site says it is a pointer in data.
    let big = at("_big32", 0);
    assert_eq!(big.modes, ["data-pointer"], "{}", big.text);
    assert!(!big.text.contains("_ext"), "no operand is named: {}", big.text);
    // _s is far data: not listed.
    assert!(bin.sections.iter().any(|s| s.name == "_s" && !s.is_exec));
    assert!(!lines.iter().any(|l| l.section == "_s"));
}

#[test]
fn cli_disasm_lists_omf_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/omf/omf32.obj");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).arg("disasm").arg(&path).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("section _TEXT:"), "{text}");
    // The site comment says what the fixup stores.
    let call = text.lines().find(|l| l.contains("call _printf")).expect("call _printf");
    assert!(call.ends_with("; rip-relative _printf"), "{call}");
    let seg = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope"))
        .arg("disasm")
        .arg(path.with_file_name("omf16.obj"))
        .output()
        .unwrap();
    let text = String::from_utf8(seg.stdout).unwrap();
    let line = text.lines().find(|l| l.contains("mov ax, seg _extvar")).expect("seg _extvar");
    assert!(line.ends_with("; immediate seg _extvar"), "{line}");
}
