//! OMF reader against objects nasm wrote (`tests/fixtures/omf/`, rebuilt by its `build.sh`).
//!
//! The expectations come from outside the reader: every segment's bytes and every relocated
//! field (its offset, width and kind: `[....]` offset, `[ssss]` segment base, `(....)`
//! self-relative) are read from nasm's own listing (`-l`), and each fixup's target and frame
//! are derived from the source line that produced it with nasm's documented rules (a label's
//! offset is relative to its segment and framed by the segment's group; `seg` of a label in a
//! grouped segment is the group; WRT names the frame; externals are framed by their target
//! unless declared `:wrt`). The record lists follow the source declarations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod omf_support;

use std::collections::{BTreeMap, HashMap};

use linkscope::model::{Binary, Binding, Severity, SpecialSection};
use omf_support::check_invariants;
use omf_support::nasm_fixture as fixture;

fn load(bytes: &[u8]) -> Binary {
    let bin = linkscope::load(bytes).expect("OMF fixture loads");
    assert_eq!(bin.format.name(), "omf");
    check_invariants(&bin, bytes.len() as u64).expect("invariants");
    let bad: Vec<_> =
        bin.diagnostics.iter().filter(|d| d.severity != Severity::Info).map(|d| d.message.clone()).collect();
    assert!(bad.is_empty(), "unexpected diagnostics: {bad:#?}");
    bin
}

/// What a relocated field in the listing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Offset,
    Base,
    SelfRel,
}

/// A relocated field seen in the listing.
#[derive(Debug, Clone)]
struct Site {
    segment: String,
    offset: u64,
    width: u64,
    kind: Kind,
    stored: u64,
    source: String,
    /// Position of this site among the sites of its source line.
    nth: usize,
    /// Number of sites on the source line.
    of: usize,
}

/// Everything the listing says.
#[derive(Debug, Default)]
struct Listing {
    /// Segment → offset → byte.
    bytes: BTreeMap<String, BTreeMap<u64, u8>>,
    /// Segment → extent (data and reservations).
    extent: BTreeMap<String, u64>,
    sites: Vec<Site>,
    /// Label → (segment, offset).
    labels: HashMap<String, (String, u64)>,
    /// Source lines (without listing columns), in order.
    source: Vec<String>,
}

fn parse_hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_end_matches('>').trim_end_matches('h'), 16).expect("hex")
}

fn parse_listing(lst: &str) -> Listing {
    let mut out = Listing::default();
    let mut seg: Option<String> = None;
    let mut pending_labels: Vec<String> = Vec::new();
    // Sites of one source line, possibly spread over continuation lines.
    let mut line_sites: Vec<Site> = Vec::new();
    let mut last_line_no = 0u32;
    let mut line_source = String::new();
    let flush = |out: &mut Listing, line_sites: &mut Vec<Site>| {
        let n = line_sites.len();
        for (i, mut s) in line_sites.drain(..).enumerate() {
            s.nth = i;
            s.of = n;
            out.sites.push(s);
        }
    };
    for raw in lst.lines() {
        let toks: Vec<&str> = raw.split_whitespace().collect();
        let Some(line_no) = toks.first().and_then(|t| t.parse::<u32>().ok()) else {
            continue;
        };
        let mut source = raw.get(40..).unwrap_or("").trim().to_string();
        let first_row = line_no != last_line_no || raw.contains("<1>");
        if line_no != last_line_no {
            flush(&mut out, &mut line_sites);
            last_line_no = line_no;
            line_source = source.clone();
        } else if source.is_empty() {
            // A continuation row (`[00000000]-`) belongs to the line above.
            source = line_source.clone();
        }
        let has_offset = toks.get(1).is_some_and(|t| t.len() == 8 && t.chars().all(|c| c.is_ascii_hexdigit()));
        out.source.push(source.clone());
        // Segment switches and labels come from the source text.
        let mut words = source.split_whitespace();
        if let Some(first) = words.next().filter(|_| first_row) {
            if first.eq_ignore_ascii_case("segment") || first.eq_ignore_ascii_case("section") {
                seg = words.next().filter(|_| !source.contains('%')).map(str::to_string);
                out.extent.entry(seg.clone().unwrap_or_default()).or_insert(0);
                continue;
            }
            if let Some(label) = first.strip_suffix(':') {
                if !label.starts_with('.') && !label.starts_with("..") {
                    pending_labels.push(label.to_string());
                }
            }
        }
        if !has_offset {
            continue;
        }
        let Some(segname) = seg.clone() else { continue };
        let offset = parse_hex(toks[1]);
        for l in pending_labels.drain(..) {
            out.labels.insert(l, (segname.clone(), offset));
        }
        let data = toks.get(2).copied().unwrap_or("");
        let ext = out.extent.entry(segname.clone()).or_insert(0);
        if data.starts_with("<res") {
            let n = parse_hex(toks[3]);
            *ext = (*ext).max(offset + n);
            continue;
        }
        if data.starts_with("??") {
            *ext = (*ext).max(offset + data.len() as u64 / 2);
            continue;
        }
        if let Some((byte, _)) = data.split_once("<rep") {
            let n = parse_hex(toks[3]);
            let b = parse_hex(byte) as u8;
            let map = out.bytes.entry(segname.clone()).or_default();
            for i in 0..n {
                map.insert(offset + i, b);
            }
            *ext = (*ext).max(offset + n);
            continue;
        }
        let mut pos = offset;
        let mut chars = data.trim_end_matches('-').chars().peekable();
        let map = out.bytes.entry(segname.clone()).or_default();
        while let Some(c) = chars.next() {
            match c {
                '[' | '(' => {
                    let close = if c == '[' { ']' } else { ')' };
                    let inner: String = chars.by_ref().take_while(|&x| x != close).collect();
                    let width = inner.len() as u64 / 2;
                    let (kind, stored) = if inner == "ssss" {
                        (Kind::Base, 0)
                    } else {
                        let mut v = 0u64;
                        for i in (0..inner.len()).step_by(2).rev() {
                            v = (v << 8) | parse_hex(&inner[i..i + 2]);
                        }
                        (if c == '(' { Kind::SelfRel } else { Kind::Offset }, v)
                    };
                    // nasm lists a segment base as `ssss` without its bytes.
                    if kind != Kind::Base {
                        for i in 0..width {
                            map.insert(pos + i, (stored >> (8 * i)) as u8);
                        }
                    }
                    line_sites.push(Site {
                        segment: segname.clone(),
                        offset: pos,
                        width,
                        kind,
                        stored,
                        source: source.clone(),
                        nth: 0,
                        of: 0,
                    });
                    pos += width;
                }
                h if h.is_ascii_hexdigit() => {
                    let l = chars.next().expect("hex pair");
                    map.insert(pos, parse_hex(&format!("{h}{l}")) as u8);
                    pos += 1;
                }
                _ => {}
            }
        }
        let ext = out.extent.entry(segname.clone()).or_insert(0);
        *ext = (*ext).max(pos);
    }
    flush(&mut out, &mut line_sites);
    out
}

/// Declarations in the source, as nasm's directives state them.
#[derive(Debug, Default)]
struct Decls {
    externs: Vec<(String, Option<String>)>,
    commons: Vec<(String, u64, Option<u64>)>,
    globals: Vec<String>,
    groups: HashMap<String, Vec<String>>,
    /// Segment → group (a `group` directive or the `flat` attribute).
    seg_group: HashMap<String, String>,
    segments: Vec<String>,
}

fn parse_decls(source: &[String]) -> Decls {
    let mut d = Decls::default();
    for line in source {
        let line = line.split(';').next().unwrap_or("").trim();
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.first().map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("extern") => {
                let (n, wrt) = match w[1].split_once(":wrt") {
                    Some((n, _)) => (n.to_string(), w.get(2).map(|s| s.to_string())),
                    None => (w[1].to_string(), None),
                };
                if !n.contains('%') {
                    d.externs.push((n, wrt));
                }
            }
            Some("common") => {
                // nasm's obj default is a far communal of 1-byte elements.
                let (size, far) = w[2].split_once(':').unwrap_or((w[2], "far"));
                let elem = match far {
                    "near" => None,
                    "far" => Some(1),
                    n => Some(n.parse().expect("element size")),
                };
                d.commons.push((w[1].to_string(), size.parse().expect("size"), elem));
            }
            Some("global") => d.globals.push(w[1].to_string()),
            Some("group") => {
                let members: Vec<String> = w[2..].iter().map(|s| s.to_string()).collect();
                for m in &members {
                    d.seg_group.insert(m.clone(), w[1].to_string());
                }
                d.groups.insert(w[1].to_string(), members);
            }
            Some("segment") if !w[1].contains('%') => {
                d.segments.push(w[1].to_string());
                if w.iter().any(|a| a.eq_ignore_ascii_case("flat")) {
                    d.seg_group.insert(w[1].to_string(), "FLAT".into());
                    d.groups.entry("FLAT".into()).or_default();
                }
            }
            _ => {}
        }
    }
    d
}

/// The target and frame nasm writes for a site, derived from its source line.
fn expected_target(site: &Site, lst: &Listing, decls: &Decls) -> (String, String) {
    let code = site.source.split(';').next().unwrap_or("");
    let code = code.split_once(':').filter(|(l, _)| !l.contains(' ')).map_or(code, |(_, rest)| rest);
    let idents: Vec<&str> = code
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'))
        .filter(|t| {
            decls.externs.iter().any(|(n, _)| n == t)
                || decls.commons.iter().any(|(n, ..)| n == t)
                || lst.labels.contains_key(*t)
                || decls.segments.iter().any(|s| s == t)
                || decls.groups.contains_key(*t)
        })
        .collect();
    let x = if idents.len() == site.of { idents[site.nth] } else { idents[0] };
    let wrt = code.split_whitespace().skip_while(|w| !w.eq_ignore_ascii_case("wrt")).nth(1);
    let frame_of = |name: &str| {
        if decls.groups.contains_key(name) {
            format!("group {name}")
        } else {
            format!("segment `{name}`")
        }
    };
    let target = if let Some((_, wrt_default)) = decls.externs.iter().find(|(n, _)| n == x) {
        let frame = match (wrt, wrt_default, site.kind) {
            (_, _, Kind::Base) => "target".to_string(),
            (Some(w), ..) => frame_of(w.trim_end_matches(']')),
            (None, Some(g), _) => frame_of(g),
            _ => "target".into(),
        };
        return (format!("EXTDEF `{x}`"), frame);
    } else if decls.commons.iter().any(|(n, ..)| n == x) {
        format!("COMDEF `{x}`")
    } else if decls.groups.contains_key(x) {
        format!("GRPDEF `{x}`")
    } else if decls.segments.iter().any(|s| s == x) {
        format!("SEGDEF `{x}`")
    } else {
        let (seg, _) = &lst.labels[x];
        match (site.kind, decls.seg_group.get(seg)) {
            (Kind::Base, Some(g)) => format!("GRPDEF `{g}`"),
            _ => format!("SEGDEF `{seg}`"),
        }
    };
    let frame = match (wrt, site.kind) {
        (_, Kind::Base) => "target".to_string(),
        (Some(w), _) => frame_of(w.trim_end_matches(']')),
        (None, _) => {
            let seg = lst.labels.get(x).map(|(s, _)| s.as_str());
            match seg.and_then(|s| decls.seg_group.get(s)) {
                Some(g) if !target.starts_with("COMDEF") => format!("group {g}"),
                _ => "target".into(),
            }
        }
    };
    (target, frame)
}

fn section_name(bin: &Binary, idx: Option<u32>) -> String {
    idx.and_then(|i| bin.sections.iter().find(|s| s.index == i)).map_or_else(String::new, |s| s.name.clone())
}

/// The checks every nasm fixture gets: bytes, fixup sites, targets, frames, stored addends.
fn check_against_listing(bin: &Binary, lst: &Listing, decls: &Decls) {
    let omf = bin.omf.as_ref().expect("omf info");
    // Segment bytes and lengths.
    for (seg, bytes) in &lst.bytes {
        let s = omf.segments.iter().find(|s| &s.name == seg).unwrap_or_else(|| panic!("segment {seg}"));
        for (&off, &b) in bytes {
            assert_eq!(s.image.get(off as usize).copied(), Some(b), "{seg}+{off:#x}");
        }
        assert_eq!(s.image.len() as u64, lst.extent[seg], "{seg}: assembled extent");
    }
    for (seg, &ext) in &lst.extent {
        if seg.is_empty() {
            continue;
        }
        let s = omf.segments.iter().find(|s| &s.name == seg).unwrap_or_else(|| panic!("segment {seg}"));
        assert_eq!(s.length, ext, "{seg}: SEGDEF length vs listing extent");
    }
    // Relocation sites: same set as the listing's bracketed fields.
    let mut want: Vec<(String, u64, u64, Kind)> =
        lst.sites.iter().map(|s| (s.segment.clone(), s.offset, s.width, s.kind)).collect();
    let mut got: Vec<(String, u64, u64, Kind)> = bin
        .relocations
        .iter()
        .map(|r| {
            let kind = if r.pc_relative {
                Kind::SelfRel
            } else if r.raw_type == 2 {
                Kind::Base
            } else {
                Kind::Offset
            };
            (section_name(bin, r.section), r.offset, u64::from(r.width) / 8, kind)
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "relocation sites (section, offset, width, kind) vs nasm's listing");
    // Each site's target, frame and stored addend.
    for site in &lst.sites {
        let (i, r) = bin
            .relocations
            .iter()
            .enumerate()
            .find(|(_, r)| section_name(bin, r.section) == site.segment && r.offset == site.offset)
            .expect("relocation at site");
        let f = &omf.fixups[i];
        let (target, frame) = if site.segment == "refs" {
            (format!("EXTDEF `ext{}`", site.offset / 2), "target".to_string())
        } else {
            expected_target(site, lst, decls)
        };
        assert_eq!(f.reference.target, target, "target of {site:?}");
        assert_eq!(f.reference.frame, frame, "frame of {site:?}");
        assert!(f.description.contains(&target), "{}", f.description);
        assert_eq!(f.reference.displacement, None, "nasm stores addends in the data (P=1)");
        let stored = match site.kind {
            Kind::Base => 0,
            Kind::SelfRel => linkscope::formats::bytes::sign_extend(site.stored, (site.width * 8) as u32),
            Kind::Offset => site.stored as i64,
        };
        assert_eq!(r.addend, stored, "addend of {site:?}");
        assert_eq!(f.segment_relative, site.kind != Kind::SelfRel);
        let loc = match (site.kind, site.width) {
            (Kind::Base, 2) => 2,
            (_, 2) => 1,
            (_, 4) => 9,
            other => panic!("unexpected site {other:?}"),
        };
        assert_eq!(f.location, loc, "location type of {site:?}");
    }
}

/// Record types in file order, with the 32-bit variants as nasm picks them.
fn record_types(bin: &Binary) -> Vec<String> {
    bin.omf_records.iter().map(|r| r.type_name.clone()).collect()
}

fn check_declarations(bin: &Binary, lst: &Listing, decls: &Decls, module: &str) {
    let omf = bin.omf.as_ref().expect("omf info");
    assert_eq!(omf.module_name.as_deref(), Some(module));
    assert_eq!(omf.translator.as_deref(), Some("The Netwide Assembler"));
    // Externals: EXTDEFs in declaration order (nasm writes only the ones used), then COMDEFs.
    let exts: Vec<(&str, &str)> = omf.externals.iter().map(|e| (e.kind.as_str(), e.name.as_str())).collect();
    let mut want: Vec<(&str, &str)> = decls.externs.iter().map(|(n, _)| ("EXTDEF", n.as_str())).collect();
    want.extend(decls.commons.iter().map(|(n, ..)| ("COMDEF", n.as_str())));
    assert_eq!(exts, want, "externals");
    for (n, size, elem) in &decls.commons {
        let e = omf.externals.iter().find(|e| &e.name == n).expect("communal");
        let c = e.communal.as_ref().expect("communal size");
        assert_eq!(c.size, *size, "{n}: size");
        assert_eq!(c.far, elem.is_some(), "{n}: far");
        if let Some(el) = elem {
            assert_eq!((c.count, c.element_size), (size / el, *el), "{n}: count × element size");
        }
        let sym = &bin.symbols[e.symbol];
        assert_eq!((sym.section_kind, sym.size), (Some(SpecialSection::Common), Some(*size)));
    }
    // Publics at their listing offsets.
    for g in &decls.globals {
        let (seg, off) = &lst.labels[g];
        let sym = bin
            .symbols
            .iter()
            .find(|s| &s.name == g && s.binding == Binding::Global)
            .unwrap_or_else(|| panic!("public {g}"));
        assert_eq!(sym.value, *off, "{g}");
        assert_eq!(section_name(bin, sym.section), *seg, "{g}");
    }
    // Groups.
    for (g, members) in &decls.groups {
        let grp = omf.groups.iter().find(|x| &x.name == g).unwrap_or_else(|| panic!("group {g}"));
        let names: Vec<String> = grp.segments.iter().map(|&i| omf.segments[i as usize - 1].name.clone()).collect();
        assert_eq!(&names, members, "group {g}");
    }
    // Every segment of the source, in order.
    let segs: Vec<&str> = omf.segments.iter().map(|s| s.name.as_str()).collect();
    let want: Vec<&str> = decls.segments.iter().map(String::as_str).collect();
    assert_eq!(segs, want);
    // ..start: the first instruction of the segment it is in.
    let start = omf.start.as_ref().expect("start address");
    assert!(omf.main_module);
    assert_eq!(start.target, "SEGDEF `_TEXT`");
    assert_eq!(start.displacement, Some(0));
}

#[test]
fn omf16_matches_nasm_listing_and_source() {
    let (obj, lst) = fixture("omf16");
    let bin = load(&obj);
    let listing = parse_listing(&lst);
    let decls = parse_decls(&listing.source);
    check_against_listing(&bin, &listing, &decls);
    check_declarations(&bin, &listing, &decls, "omf16.asm");
    assert_eq!(
        record_types(&bin),
        [
            "THEADR", "COMENT", "LNAMES", "SEGDEF", "SEGDEF", "SEGDEF", "SEGDEF", "SEGDEF", "GRPDEF", "PUBDEF",
            "PUBDEF", "EXTDEF", "COMDEF", "LEDATA", "FIXUPP", "LEDATA", "FIXUPP", "MODEND"
        ]
    );
    let omf = bin.omf.as_ref().expect("omf");
    let seg = |n: &str| omf.segments.iter().find(|s| s.name == n).expect("segment");
    // segment _TEXT public class=CODE align=16 use16 … ABSSEG absolute=0x40
    let t = seg("_TEXT");
    assert_eq!(
        (t.class.as_str(), t.alignment.as_str(), t.combine.as_str(), t.use32),
        ("CODE", "paragraph", "public", false)
    );
    let dseg = seg("_DATA");
    assert_eq!((dseg.class.as_str(), dseg.align, dseg.group), ("DATA", Some(2), Some(1)));
    assert_eq!(seg("_BSS").align, Some(4));
    assert_eq!(seg("STACK").combine, "stack");
    let abs = seg("ABSSEG");
    assert_eq!((abs.alignment.as_str(), abs.frame), ("absolute", Some(0x40)));
    // nasm frames the start address by the segment when it has no group.
    assert_eq!(omf.start.as_ref().map(|s| s.frame.as_str()), Some("segment `_TEXT`"));
    // A readable description for the view.
    let call = omf.fixups.iter().find(|f| !f.segment_relative).expect("self-relative call");
    assert_eq!(call.description, "self-relative 16-bit offset of EXTDEF `_extfunc`, frame: target");
    let far = omf.fixups.iter().find(|f| {
        f.description.contains("`_pubfunc`") && f.location == 1 && f.segment.is_some() && f.offset == Some(0x1e)
    });
    assert!(far.is_some(), "far call to _pubfunc names the public: {:#?}", omf.fixups);
    // The listing's 0x55 × 20 run ends the _DATA image.
    assert_eq!(&omf.section_bytes(2).expect("_DATA bytes")[0x12..], &[0x55; 20]);
}

#[test]
fn omf32_matches_nasm_listing_and_source() {
    let (obj, lst) = fixture("omf32");
    let bin = load(&obj);
    let listing = parse_listing(&lst);
    let decls = parse_decls(&listing.source);
    check_against_listing(&bin, &listing, &decls);
    check_declarations(&bin, &listing, &decls, "omf32.asm");
    assert_eq!(
        record_types(&bin),
        [
            "THEADR", "COMENT", "COMENT", "COMENT", "COMENT", "COMENT", "COMENT", "LNAMES", "SEGDEF", "SEGDEF",
            "SEGDEF", "GRPDEF", "PUBDEF", "PUBDEF", "EXTDEF", "COMDEF", "LEDATA", "FIXUPP32", "LEDATA", "FIXUPP32",
            "MODEND32"
        ]
    );
    let omf = bin.omf.as_ref().expect("omf");
    assert!(omf.segments.iter().all(|s| s.use32), "USE32 is the ACBP P bit");
    // import MessageBoxA user32.dll / import beep kernel32.dll Beep / import byord kernel32.dll 42
    let imps: Vec<(&str, &str, Option<&str>, Option<u16>)> = omf
        .imports
        .iter()
        .map(|i| (i.internal_name.as_str(), i.module.as_str(), i.entry_name.as_deref(), i.ordinal))
        .collect();
    assert_eq!(
        imps,
        [
            ("MessageBoxA", "user32.dll", None, None),
            ("beep", "kernel32.dll", Some("Beep"), None),
            ("byord", "kernel32.dll", None, Some(42))
        ]
    );
    // export _main / export _table _table_export 7
    let exps: Vec<(&str, Option<&str>, Option<u16>)> =
        omf.exports.iter().map(|e| (e.exported_name.as_str(), e.internal_name.as_deref(), e.ordinal)).collect();
    assert_eq!(exps, [("_main", None, None), ("_table_export", Some("_table"), Some(7))]);
    assert_eq!(omf.start.as_ref().map(|s| s.frame.as_str()), Some("group FLAT"));
    let f = omf
        .fixups
        .iter()
        .find(|f| f.reference.target_name.as_deref() == Some("_printf") && f.segment_relative)
        .expect("dd _printf");
    assert_eq!(f.description, "32-bit offset of EXTDEF `_printf`, frame: target");
    let f = omf.fixups.iter().find(|f| f.offset == Some(1) && f.segment == Some(1)).expect("push dword msg");
    assert_eq!(f.description, "32-bit offset of SEGDEF `_DATA`, frame: group FLAT");
}

#[test]
fn omfcode_matches_nasm_listing_and_source() {
    // The disassembly fixture: use16 and use32 code in one module (tests/omf_disasm.rs).
    let (obj, lst) = fixture("omfcode");
    let bin = load(&obj);
    let listing = parse_listing(&lst);
    let decls = parse_decls(&listing.source);
    check_against_listing(&bin, &listing, &decls);
    let omf = bin.omf.as_ref().expect("omf");
    let use32: Vec<(&str, bool)> = omf.segments.iter().map(|s| (s.name.as_str(), s.use32)).collect();
    assert_eq!(use32, [("CODE16", false), ("DATA16", false), ("CODE32", true), ("DATA32", true)]);
}

#[test]
fn omf16_borland_debug_records() {
    let (obj, lst) = fixture("omf16-borland");
    let bin = load(&obj);
    let listing = parse_listing(&lst);
    let decls = parse_decls(&listing.source);
    check_against_listing(&bin, &listing, &decls);
    let linnum: Vec<_> = bin.omf_records.iter().filter(|r| r.type_name == "LINNUM").collect();
    assert_eq!(linnum.len(), 5, "one LINNUM per segment with lines");
    // Each LINNUM pair names a listing line that starts at that offset of that segment.
    let text = linnum[0];
    let lines: Vec<u64> = text.fields.iter().filter(|f| f.name == "Line number").filter_map(|f| f.value).collect();
    let offs: Vec<u64> = text.fields.iter().filter(|f| f.name == "Line offset").filter_map(|f| f.value).collect();
    assert_eq!(lines.len(), offs.len());
    for (l, o) in lines.iter().zip(&offs) {
        let row = lst
            .lines()
            .find(|r| r.split_whitespace().next() == Some(&l.to_string()))
            .unwrap_or_else(|| panic!("listing line {l}"));
        let listed = row.split_whitespace().nth(1).map(parse_hex);
        assert_eq!(listed, Some(*o), "line {l}");
    }
    let classes: Vec<String> = bin
        .omf_records
        .iter()
        .filter(|r| r.type_name == "COMENT")
        .map(|r| r.summary.split(':').next().unwrap_or("").to_string())
        .collect();
    for c in [
        "translator",
        "new OMF extensions (debug format)",
        "link pass separator",
        "Borland compiler description",
        "Borland type definition",
        "Borland source file",
        "Borland local symbols",
    ] {
        assert!(classes.iter().any(|x| x == c), "COMENT class {c} in {classes:?}");
    }
}

#[test]
fn omfidx_two_byte_indices_and_split_ledata() {
    let (obj, lst) = fixture("omfidx");
    let bin = load(&obj);
    let listing = parse_listing(&lst);
    let mut decls = parse_decls(&listing.source);
    // The %rep loops declare ext0..ext129 and s0..s129.
    decls.externs.extend((0..130).map(|i| (format!("ext{i}"), None)));
    decls.segments.extend((0..130).map(|i| format!("s{i}")));
    check_against_listing(&bin, &listing, &decls);
    let omf = bin.omf.as_ref().expect("omf");
    // 130 segments s0..s129 with classes C0..C129, then refs and big.
    assert_eq!(omf.segments.len(), 132);
    assert!(omf.names.len() > 260);
    for (i, s) in omf.segments.iter().take(130).enumerate() {
        assert_eq!((s.name.clone(), s.class.clone(), s.length), (format!("s{i}"), format!("C{i}"), 1));
        assert_eq!(s.image, [i as u8], "db i");
    }
    assert_eq!(omf.externals.len(), 130);
    for (i, e) in omf.externals.iter().enumerate() {
        assert_eq!(e.name, format!("ext{i}"));
    }
    // Index fields above 127 are two bytes: `1xxxxxxx xxxxxxxx`. LNAMES: "" then s0 C0 s1 C1 …
    for (i, s) in omf.segments.iter().take(130).enumerate() {
        let r = &bin.omf_records[s.record];
        let width = |n: &str| r.fields.iter().find(|f| f.name == n).map(|f| f.span.len);
        assert_eq!(width("Segment name index"), Some(if 2 + 2 * i >= 128 { 2 } else { 1 }), "s{i}");
        assert_eq!(width("Class name index"), Some(if 3 + 2 * i >= 128 { 2 } else { 1 }), "C{i}");
        let data = &bin.omf_records[s.data[0].record];
        let seg_idx = data.fields.iter().find(|f| f.name == "Segment index").expect("LEDATA segment index");
        assert_eq!((seg_idx.value, seg_idx.span.len), (Some(i as u64 + 1), if i + 1 >= 128 { 2 } else { 1 }));
    }
    // `dw extN` in refs: F5 frame (no datum), T6 target: Locat (2) + Fix Data (1) + the index.
    let refs = omf.segments.iter().find(|s| s.name == "refs").expect("refs");
    for f in omf.fixups.iter().filter(|f| f.segment == Some(refs.index)) {
        let ext = f.reference.target_datum.expect("external index");
        assert_eq!(f.span.len, 3 + if ext >= 128 { 2 } else { 1 }, "ext{}", ext - 1);
    }
    // `big` spans three LEDATA records; fixups in the later ones are placed by their record.
    let big = omf.segments.iter().find(|s| s.name == "big").expect("big");
    assert!(big.data.len() >= 3, "{:?}", big.data);
    let fx: Vec<_> = omf.fixups.iter().filter(|f| f.segment == Some(big.index)).collect();
    assert_eq!(fx.len(), 7);
    let records: std::collections::BTreeSet<_> = fx.iter().filter_map(|f| f.data_record).collect();
    assert!(records.len() >= 3, "fixups follow three different LEDATA records");
    for f in &fx {
        let chunk = big.data.iter().find(|c| Some(c.record) == f.data_record).expect("chunk");
        assert_eq!(f.offset, Some(chunk.offset + u64::from(f.data_offset)));
    }
}

#[test]
fn json_shape_for_omf() {
    let (obj, _) = fixture("omf32");
    let bin = load(&obj);
    let mut out = Vec::new();
    linkscope::report::write_json(&mut out, &bin, Some(linkscope::report::Part::Records), false).expect("json");
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["format"], "omf");
    let recs = v["omf_records"].as_array().expect("omf_records");
    assert_eq!(recs.len(), bin.omf_records.len());
    assert_eq!(recs[0]["type_name"], "THEADR");
    assert_eq!(recs[0]["checksum"], "ok");
    assert!(recs[0]["fields"].as_array().is_some_and(|f| f.iter().all(|f| f["span"]["len"].is_u64())));
    assert!(v["omf"]["fixups"].as_array().is_some_and(|f| f.len() == 14));
    assert!(v.get("sections").is_none(), "--only records keeps only its keys");
    // The text report lists the records and the fixups.
    let mut text = Vec::new();
    linkscope::report::text::write_text(&mut text, &bin, Some(linkscope::report::Part::Records)).expect("text");
    let text = String::from_utf8(text).expect("utf8");
    assert!(text.contains("== OMF records (21) =="), "{text}");
    assert!(text.contains("32-bit offset of EXTDEF `_printf`, frame: target"), "{text}");
}
