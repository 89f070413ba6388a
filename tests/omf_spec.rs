//! OMF cases built byte by byte from the specification (TIS OMF 1.1), for what nasm never
//! writes: COMDAT (selection, allocation, continuation, iterated, local, 32-bit), LIDATA
//! (nested blocks, 32-bit repeat counts, runaway expansion), FIXUPP threads carried across
//! records, every location type and frame / target method, libraries with a dictionary, the
//! COMENT classes and the remaining record types, and malformed input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::type_complexity)]

mod omf_support;

use linkscope::model::{Binary, Binding, SectionKind, Severity, SpecialSection, SymbolKind};
use omf_support::*;

fn no_diags(bin: &Binary) {
    let d = all_diags(bin);
    assert!(d.is_empty(), "unexpected diagnostics: {d:#?}");
}

fn record<'a>(bin: &'a Binary, type_name: &str) -> &'a linkscope::model::OmfRecord {
    bin.omf_records.iter().find(|r| r.type_name == type_name).unwrap_or_else(|| panic!("no {type_name} record"))
}

fn has_diag(bin: &Binary, severity: Severity, needle: &str) -> bool {
    bin.diagnostics.iter().any(|d| d.severity == severity && d.message.contains(needle))
}

#[test]
fn comdat_selection_allocation_continuation_and_fixups() {
    let obj = comdat_object();
    let bin = load(&obj);
    no_diags(&bin);
    check_invariants(&bin, obj.len() as u64).expect("invariants");
    let omf = bin.omf.as_ref().expect("omf");
    let rows: Vec<(u32, Option<&str>, Option<&str>, Option<&str>)> = bin
        .comdats
        .iter()
        .map(|c| (c.section, c.symbol.as_deref(), c.omf_selection.as_deref(), c.omf_allocation.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            (3, Some("_f"), Some("any"), Some("explicit")),
            (4, Some("_g"), Some("same-size"), Some("far-code")),
            (5, Some("_s"), Some("exact"), Some("far-data")),
            (6, Some("_big32"), Some("no-match"), Some("code32")),
            (7, Some("_abs"), Some("any"), Some("explicit")),
        ]
    );
    assert!(bin.comdats.iter().all(|c| c.selection.is_none() && c.associated_section.is_none()));
    // Continuation: both records' bytes in one COMDAT.
    assert_eq!(omf.section_bytes(3), Some(&[0xe8, 0x00, 0x00, 0xc3, 0x90, 0x90][..]));
    assert_eq!(omf.comdats[0].records.len(), 2);
    assert_eq!(omf.comdats[0].base_segment, Some(1));
    assert_eq!(omf.section_bytes(5), Some(&b"ababab"[..]));
    assert_eq!(omf.section_bytes(6), Some(&[0, 0, 0, 0, 5][..]));
    assert_eq!((omf.comdats[4].base_frame, omf.comdats[4].align.as_str()), (Some(0x1234), "paragraph"));
    let g = &bin.symbols[omf.comdats[1].symbol];
    assert_eq!((g.binding, g.kind, g.section), (Binding::Local, SymbolKind::Function, Some(4)));
    assert_eq!(bin.sections.iter().find(|s| s.index == 4).map(|s| s.align), Some(Some(1)));
    // _f aligns like its SEGDEF (byte).
    assert_eq!(
        bin.sections.iter().find(|s| s.index == 3).map(|s| (s.kind, s.align)),
        Some((Some(SectionKind::Comdat), Some(1)))
    );
    // Fixups land in the COMDAT sections.
    let f0 = &omf.fixups[0];
    assert_eq!((f0.section, f0.offset, f0.segment_relative), (Some(3), Some(1), false));
    assert_eq!(f0.description, "self-relative 16-bit offset of CEXTDEF `_g`, frame: target");
    let r0 = &bin.relocations[0];
    assert_eq!((r0.symbol.as_deref(), r0.symbol_index), (Some("_g"), Some(omf.externals[1].symbol as u32)));
    let f1 = &omf.fixups[1];
    assert_eq!((f1.section, f1.offset, f1.location), (Some(6), Some(0), 9));
    assert_eq!(f1.description, "32-bit offset of EXTDEF `_ext` + 0x10, frame: group DGROUP");
    assert_eq!((bin.relocations[1].addend, bin.relocations[1].width), (0x10, 32));
    let linsym = record(&bin, "LINSYM");
    assert!(linsym.summary.contains("2 line(s)") && linsym.summary.contains("`_f`"), "{}", linsym.summary);
    // JSON rows: the OMF selection replaces the COFF integer.
    let v = serde_json::to_value(&bin).expect("json");
    let row = &v["comdats"][0];
    assert!(row.get("selection").is_none(), "{row}");
    assert_eq!(row["omf_selection"], "any");
    assert_eq!(row["omf_allocation"], "explicit");
}

#[test]
fn lidata_nested_blocks_32_bit_repeat_and_fixup_placement() {
    // Segment _DATA (word, public), 0x40 bytes.
    let blocks = nested(2, 2, &[leaf(3, 2, b"AB"), leaf(1, 2, b"C")]);
    let obj = cat(&[
        &theadr("lidata"),
        &lnames(&["", "_DATA", "DATA"]),
        &segdef(0x48, 0x40, 2, 3),
        &extdef(&["x"]),
        &rec(0xa2, &cat(&[&idx(1), &w(4), &blocks])),
        // Iterated-data offset 9 = 4 (outer header) + 5 (leaf header): the first "A".
        &rec(0x9c, &fixup(true, 1, 9, fixdat(false, 5, false, true, 2), &idx(1))),
        &rec(0xa3, &cat(&[&idx(1), &d(0x20), &leaf(2, 4, &[1, 2, 3, 4])])),
        &modend(),
    ]);
    let bin = load(&obj);
    no_diags(&bin);
    check_invariants(&bin, obj.len() as u64).expect("invariants");
    let omf = bin.omf.as_ref().expect("omf");
    let mut want = vec![0u8; 4];
    want.extend_from_slice(b"ABABABCABABABC");
    want.resize(0x20, 0);
    want.extend_from_slice(&[1, 2, 3, 4, 1, 2, 3, 4]);
    assert_eq!(omf.section_bytes(1), Some(&want[..]));
    let chunks: Vec<(u64, u64, bool)> = omf.segments[0].data.iter().map(|c| (c.offset, c.len, c.iterated)).collect();
    assert_eq!(chunks, [(4, 14, true), (0x20, 8, true)]);
    let f = &omf.fixups[0];
    assert_eq!(f.offset, Some(4), "placed at the first expanded copy");
    assert!(f.description.contains("iterated"), "{}", f.description);
    let names: Vec<&str> = record(&bin, "LIDATA").fields.iter().map(|f| f.name.as_str()).collect();
    for n in [
        "[1] Repeat count",
        "[1] Block count",
        "[1.1] Repeat count",
        "[1.1] Content length",
        "[1.1] Content",
        "[1.2] Content",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let l32 = record(&bin, "LIDATA32");
    let rc = l32.fields.iter().find(|f| f.name == "[1] Repeat count").expect("repeat count");
    assert_eq!((rc.value, rc.span.len), (Some(2), 4), "LIDATA32 repeat counts are 4 bytes");
}

#[test]
fn runaway_and_deep_lidata_are_bounded() {
    let huge = nested(0xffff, 2, &[nested(0xffff, 2, &[leaf(0xffff, 2, &[0x55; 200])])]);
    let mut deep = leaf(1, 2, b"z");
    for _ in 0..40 {
        deep = nested(1, 2, &[deep]);
    }
    // 1 MB of output whose blocks are mostly empty: the work must follow the output, not the
    // block count.
    let mut kids: Vec<Vec<u8>> = (0..200).map(|_| leaf(0, 4, b"x")).collect();
    kids.push(leaf(1, 4, b"y"));
    let wide = nested(1_000_000, 4, &kids);
    let obj = cat(&[
        &theadr("runaway"),
        &lnames(&["", "_DATA", "DATA"]),
        &segdef(0x48, 0xffff, 2, 3),
        &rec(0xa2, &cat(&[&idx(1), &w(0), &huge])),
        &rec(0xa2, &cat(&[&idx(1), &w(0), &deep])),
        &rec(0xa3, &cat(&[&idx(1), &d(0), &wide])),
        &modend(),
    ]);
    let t = std::time::Instant::now();
    let bin = load(&obj);
    eprintln!("loaded in {:?}", t.elapsed());
    // Bounded work: no segment's assembled bytes grow past the reader's expansion cap (16 MiB).
    let omf = bin.omf.as_ref().expect("omf");
    for s in &bin.sections {
        assert!(omf.section_bytes(s.index).map_or(0, <[u8]>::len) <= 16 << 20, "section {}", s.index);
    }
    check_invariants(&bin, obj.len() as u64).expect("invariants");
    assert!(has_diag(&bin, Severity::Error, "runaway iterated data"), "{:#?}", bin.diagnostics);
    assert!(has_diag(&bin, Severity::Error, "nested more than 32 deep"), "{:#?}", bin.diagnostics);
    let omf = bin.omf.as_ref().expect("omf");
    assert_eq!(omf.segments[0].data[0].len, 0xffff_u64.pow(3) * 200, "the declared size is still shown");
    assert_eq!(omf.segments[0].image.len(), 1_000_000, "only the bounded record was expanded");
    assert_eq!(bin.omf_records.len(), 7, "the rest of the module still shows");
}

#[test]
fn threads_carry_across_records_and_every_location_type() {
    let obj = threads_object();
    let bin = load(&obj);
    no_diags(&bin);
    check_invariants(&bin, obj.len() as u64).expect("invariants");
    let omf = bin.omf.as_ref().expect("omf");
    assert_eq!(omf.threads.len(), 5);
    assert_eq!(omf.threads[0].description, "frame thread 0 = group DGROUP");
    assert_eq!(omf.threads[2].description, "frame thread 2 = frame number 0x0040");
    let got: Vec<(Option<u32>, Option<u64>, u8, &str, &str)> = omf
        .fixups
        .iter()
        .map(|f| (f.section, f.offset, f.location, f.reference.target.as_str(), f.reference.frame.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(1), Some(0), 1, "SEGDEF `_DATA`", "group DGROUP (frame thread 0)"),
            (Some(1), Some(2), 0, "EXTDEF `var`", "frame number 0x0040 (frame thread 2)"),
            (Some(1), Some(3), 4, "GRPDEF `DGROUP`", "location (the segment being patched)"),
            (Some(1), Some(4), 3, "EXTDEF `far_fn`", "frame of EXTDEF `far_fn`"),
            (Some(1), Some(8), 5, "SEGDEF `_TEXT`", "segment `_TEXT`"),
            (Some(1), Some(10), 2, "frame number 0xb800", "target"),
            (Some(2), Some(0), 9, "EXTDEF `var`", "group DGROUP (frame thread 0)"),
            (Some(2), Some(4), 11, "EXTDEF `far_fn`", "target"),
            (Some(2), Some(12), 13, "GRPDEF `DGROUP`", "target"),
        ]
    );
    let methods: Vec<(u8, u8, Option<u8>, Option<u8>)> = omf
        .fixups
        .iter()
        .map(|f| {
            (f.reference.frame_method, f.reference.target_method, f.reference.frame_thread, f.reference.target_thread)
        })
        .collect();
    assert_eq!(methods[0], (1, 0, Some(0), Some(1)), "F1 / T0 from threads, P=0");
    assert_eq!(methods[1], (3, 6, Some(2), Some(3)), "F3 / T2 with P=1 = T6");
    assert_eq!(methods[8], (5, 5, None, Some(1)), "target thread 1 redefined as T1 (P=1: T5)");
    let kinds: Vec<(&str, u8)> = bin.relocations.iter().map(|r| (r.kind.as_ref(), r.width)).collect();
    assert_eq!(
        kinds,
        [
            ("OFFSET", 16),
            ("LOBYTE", 8),
            ("HIBYTE", 8),
            ("POINTER", 32),
            ("LROFFSET", 16),
            ("BASE", 16),
            ("OFFSET386", 32),
            ("POINTER386", 48),
            ("LROFFSET386", 32)
        ]
    );
    assert_eq!(
        omf.fixups[0].description,
        "16-bit offset of SEGDEF `_DATA` + 0x10 (target thread 1), frame: group DGROUP (frame thread 0)"
    );
    assert_eq!(omf.fixups[0].reference.displacement, Some(0x10));
    assert_eq!(bin.relocations[0].addend, 0x10);
    assert_eq!(
        omf.fixups[6].description,
        "32-bit offset of EXTDEF `var` (target thread 3), frame: group DGROUP (frame thread 0)"
    );
    // MODEND: logical start address _TEXT + 0x10 framed by _TEXT.
    let start = omf.start.as_ref().expect("start");
    assert_eq!(
        (start.target.as_str(), start.displacement, start.frame.as_str()),
        ("SEGDEF `_TEXT`", Some(0x10), "segment `_TEXT`")
    );
    // The FIXUPP field table explains the bits.
    let fx = bin.omf_records.iter().filter(|r| r.type_name == "FIXUPP").nth(1).expect("second FIXUPP");
    let locat = fx.fields.iter().find(|f| f.name == "Locat").expect("Locat");
    assert_eq!(locat.display, "0xc400: M=1 (segment-relative), location 1 (16-bit offset), data offset 0x000");
    let fd = fx.fields.iter().find(|f| f.name == "Fix data").expect("Fix data");
    assert_eq!(fd.display, "0x89: F=1 frame thread 0; T=1 P=0 target thread 1");
}

#[test]
fn undefined_threads_and_misplaced_fixups_are_diagnosed() {
    let obj = cat(&[
        &theadr("bad"),
        &lnames(&["", "_TEXT"]),
        &segdef(0x28, 4, 2, 1),
        // A fixup before any data record.
        &rec(0x9c, &fixup(true, 1, 0, fixdat(false, 5, false, true, 0), &idx(1))),
        &ledata(1, 0, &[0; 4]),
        // Frame thread 3 and target thread 2 were never defined; a location past the data.
        &rec(
            0x9c,
            &cat(&[
                &fixup(true, 1, 0, fixdat(true, 3, true, true, 2), &[]),
                &fixup(true, 9, 2, fixdat(false, 5, false, true, 0), &idx(1)),
            ]),
        ),
        &modend(),
    ]);
    let bin = load(&obj);
    check_invariants(&bin, obj.len() as u64).expect("invariants");
    assert!(has_diag(&bin, Severity::Error, "nothing to patch"), "{:#?}", bin.diagnostics);
    assert!(has_diag(&bin, Severity::Error, "frame thread 3, which no THREAD subrecord has defined"));
    assert!(has_diag(&bin, Severity::Error, "target thread 2, which no THREAD subrecord has defined"));
    assert!(has_diag(&bin, Severity::Warning, "past the 4 data byte(s)"));
    assert_eq!(bin.relocations.len(), 3, "every fixup is still listed");
}

#[test]
fn library_modules_dictionary_and_json() {
    let lib = library();
    let bin = load(&lib);
    check_invariants(&bin, lib.len() as u64).expect("invariants");
    assert_eq!(bin.format.name(), "omf-library");
    let info = bin.omf.as_ref().and_then(|o| o.library.as_ref()).expect("library info");
    assert_eq!((info.page_size, info.dictionary_offset, info.dictionary_blocks, info.flags), (16, 0x200, 1, 1));
    let members: Vec<(&str, u64)> = bin.members.iter().map(|m| (m.member_name.as_str(), m.member_offset)).collect();
    assert_eq!(members[0], ("m1", 16));
    assert_eq!(members[1].0, "m2.obj", "COMENT LIBMOD names the member");
    for m in &bin.members {
        let b = m.binary.as_ref().expect("member opens");
        assert_eq!(b.format.name(), "omf");
        assert!(b.diagnostics.is_empty(), "{:#?}", b.diagnostics);
        assert_eq!(b.sections.len(), 1);
    }
    let syms: Vec<(&str, u64)> = bin.archive_symbols.iter().map(|s| (s.name.as_str(), s.member_offset)).collect();
    assert_eq!(syms, [("_a", 16), ("_b", members[1].1), ("_z", 99 * 16)]);
    assert!(has_diag(&bin, Severity::Warning, "\"_z\" points at page 99"), "{:#?}", bin.diagnostics);
    let types: Vec<&str> = bin.omf_records.iter().map(|r| r.type_name.as_str()).collect();
    assert_eq!(types, ["LIBHDR", "LIBEND"]);
    assert!(bin
        .headers
        .iter()
        .any(|g| g.name == "Dictionary block 0" && g.fields.iter().any(|f| f.name == "Bucket 17")));
    let v = serde_json::to_value(&bin).expect("json");
    assert_eq!(v["format"], "omf-library");
    assert_eq!(v["members"][0]["member_name"], "m1");
    assert_eq!(v["members"][0]["format"], "omf");
}

#[test]
fn coment_classes_and_remaining_record_types() {
    let obj = cat(&[
        &theadr("misc"),
        &rec(0x88, &cat(&[&[0x00, 0x00], &name("My Compiler 1.0")])),
        &rec(0x88, &cat(&[&[0x40, 0x9f], b"LIBC"])),
        &rec(0x88, &cat(&[&[0x80, 0xa0, 0x01, 0x01], &name("imp"), &name("KERNEL32"), &w(42)])),
        &rec(0x88, &cat(&[&[0x80, 0xa0, 0x02, 0xc3], &name("exp"), &name("internal"), &w(9)])),
        &rec(0x88, &cat(&[&[0x80, 0xa1, 0x01], b"HL"])),
        &rec(0x88, &cat(&[&[0x80, 0xa3], &name("misc.obj")])),
        &rec(0xcc, &name("1.0.0")),
        &rec(0xce, &cat(&[&w(7), &[1, 2, 3]])),
        &lnames(&["", "_TEXT", "CODE"]),
        &rec(0xca, &cat(&[&name("local1"), &name("local2")])),
        &segdef(0x28, 0x20, 2, 3),
        &extdef(&["weak", "fallback"]),
        &rec(0xb4, &cat(&[&name("lext"), &[0]])),
        // COMDEF: near 0x1234 bytes (0x81 + u16); far 0x010000 × 0x20000 (0x84 + u24, 0x88 + u32).
        &rec(
            0xb0,
            &cat(&[
                &name("nearc"),
                &[0, 0x62, 0x81],
                &w(0x1234),
                &name("farc"),
                &[0, 0x61, 0x84, 0x00, 0x00, 0x01, 0x88],
                &d(0x20000),
            ]),
        ),
        &rec(0xb8, &cat(&[&name("lcom"), &[0, 0x62, 0x10]])),
        &rec(0x88, &cat(&[&[0x00, 0xa8], &idx(1), &idx(2)])),
        &rec(0x8e, &cat(&[&name(""), &[0x00, 0x62, 0x10]])),
        &rec(0xb6, &cat(&[&idx(0), &idx(1), &name("lpub"), &w(4), &[0]])),
        &rec(0xb7, &cat(&[&idx(0), &idx(1), &name("lpub32"), &d(8), &[0]])),
        &rec(0x91, &cat(&[&idx(0), &idx(0), &w(0xf000), &name("abs32"), &d(0x10), &[0]])),
        &rec(0xc6, &cat(&[&name("alias"), &name("target")])),
        &ledata(1, 0, &[0; 0x20]),
        &rec(0xb2, &cat(&[&idx(1), &[1], &w(2), &w(0x10)])),
        &rec(0xb3, &cat(&[&idx(1), &[2], &d(4), &d(0x20)])),
        &rec(0xc8, &cat(&[&[0], &idx(4), &w(1), &w(2)])),
        // HLL style was announced: LINNUM is shown raw.
        &rec(0x94, &cat(&[&idx(0), &idx(1), &w(0), &w(0), &w(3), &w(1)])),
        &rec(0x8a, &[0x40, 0x00, 0x10, 0x34, 0x12]),
    ]);
    let bin = load(&obj);
    no_diags(&bin);
    check_invariants(&bin, obj.len() as u64).expect("invariants");
    let omf = bin.omf.as_ref().expect("omf");
    assert_eq!(omf.translator.as_deref(), Some("My Compiler 1.0"));
    assert_eq!(omf.debug_style.as_deref(), Some("HLL"));
    let summaries: Vec<&str> = bin.omf_records.iter().map(|r| r.summary.as_str()).collect();
    for want in [
        "default library search: search library \"LIBC\"",
        "OMF extension: IMPDEF imp = KERNEL32.@42",
        "OMF extension: EXPDEF exp = internal @9",
        "new OMF extensions (debug format): new-OMF extensions present; HLL debug information version 1",
        "LIBMOD (library module name): library module \"misc.obj\"",
        "OMF version \"1.0.0\"",
        "vendor 7, 3 byte(s)",
        "2 local names (#4–#5): local1 local2",
        "alias = target",
        "1 back-patch(es) in SEGDEF `_TEXT`",
        "1 back-patch(es) in COMDAT `local1`",
        "end of module, physical start address 1000:1234",
    ] {
        assert!(summaries.contains(&want), "{want:?} not in {summaries:#?}");
    }
    assert!(summaries.iter().any(|s| s.starts_with("HLL line numbers")), "{summaries:#?}");
    let e = &omf.exports[0];
    assert_eq!((e.ordinal, e.resident, e.no_data, e.parameter_words), (Some(9), true, false, 3));
    assert_eq!(omf.imports[0].ordinal, Some(42));
    // WKEXT makes `weak` a weak external defaulting to `fallback`.
    let weak = bin.symbols.iter().find(|s| s.name == "weak").expect("weak");
    assert_eq!(weak.binding, Binding::Weak);
    assert!(weak.aux.iter().any(|a| a == "default resolution: fallback"));
    let near = omf.externals.iter().find(|e| e.name == "nearc").and_then(|e| e.communal.clone()).expect("nearc");
    assert_eq!((near.far, near.size), (false, 0x1234));
    let far = omf.externals.iter().find(|e| e.name == "farc").and_then(|e| e.communal.clone()).expect("farc");
    assert_eq!((far.far, far.count, far.element_size, far.size), (true, 0x10000, 0x20000, 0x2_0000_0000));
    let kinds: Vec<&str> = omf.externals.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["EXTDEF", "EXTDEF", "LEXTDEF", "COMDEF", "COMDEF", "LCOMDEF"]);
    let lpub = bin.symbols.iter().find(|s| s.name == "lpub32").expect("lpub32");
    assert_eq!((lpub.binding, lpub.value, lpub.section), (Binding::Local, 8, Some(1)));
    let abs = bin.symbols.iter().find(|s| s.name == "abs32").expect("abs32");
    assert_eq!((abs.section, abs.section_kind, abs.value), (None, Some(SpecialSection::Absolute), 0x10));
    assert!(abs.aux.iter().any(|a| a == "absolute: frame 0xf000"));
}

#[test]
fn checksums_zero_ok_and_bad() {
    let mut bad = lnames(&["", "_TEXT"]);
    let last = bad.len() - 1;
    bad[last] ^= 0x5a;
    let obj = cat(&[&theadr("ck"), &rec_zero(0x88, &cat(&[&[0, 0], &name("x")])), &bad, &modend()]);
    let bin = load(&obj);
    let st: Vec<&str> = bin.omf_records.iter().map(|r| r.checksum.as_str()).collect();
    assert_eq!(st, ["ok", "zero", "bad", "ok"]);
    assert_eq!(bin.diagnostics.len(), 1, "{:#?}", bin.diagnostics);
    assert!(has_diag(&bin, Severity::Warning, "bad checksum"));
    assert_eq!(bin.omf.as_ref().map(|o| o.names.len()), Some(2), "a record with a bad checksum is still decoded");
    let ck = bin.omf_records[2].fields.last().expect("checksum field");
    assert_eq!(ck.name, "Checksum");
    assert!(ck.display.contains("bad"), "{}", ck.display);
}

#[test]
fn malformed_input_gives_diagnostics_and_the_rest_still_shows() {
    let base = cat(&[
        &theadr("bad"),
        &lnames(&["", "_TEXT", "CODE"]),
        &segdef(0x28, 4, 2, 3),
        // Unknown record type: shown, not fatal.
        &rec(0x42, &[1, 2, 3]),
        // A record of length 0 (no checksum byte).
        &[0x88, 0x00, 0x00],
        // Undefined segment index 9; data past the segment length; trailing bytes in THEADR-like
        // records: a PUBDEF whose base segment is undefined.
        &ledata(9, 0, &[1, 2]),
        &ledata(1, 2, &[1, 2, 3, 4]),
        &rec(0x90, &cat(&[&idx(0), &idx(7), &name("p"), &w(0), &[0]])),
        &rec(0x80, &cat(&[&name("x"), &[0xde, 0xad]])),
        &modend(),
    ]);
    let mut obj = base.clone();
    obj.extend_from_slice(b"garbage");
    let bin = load(&obj);
    check_invariants(&bin, obj.len() as u64).expect("invariants");
    assert_eq!(bin.omf_records.len(), 10);
    assert_eq!(bin.omf_records[3].type_name, "unknown (0x42)");
    assert!(has_diag(&bin, Severity::Warning, "unknown record type 0x42"));
    assert!(has_diag(&bin, Severity::Error, "has length 0"));
    assert!(has_diag(&bin, Severity::Error, "Segment index 9 refers to SEGDEF entry 9, but only 1 are defined"));
    assert!(has_diag(&bin, Severity::Error, "Base segment index 7 refers to SEGDEF entry 7"));
    assert!(has_diag(&bin, Severity::Warning, "run past the end of SEGDEF `_TEXT` (length 0x4)"));
    assert!(has_diag(&bin, Severity::Warning, "2 byte(s) at the end of the body are not part of any field"));
    assert!(has_diag(&bin, Severity::Warning, "7 byte(s) after MODEND"));
    // Zero padding after MODEND is only noted.
    let mut padded = base.clone();
    padded.extend_from_slice(&[0; 9]);
    let bin = load(&padded);
    assert!(has_diag(&bin, Severity::Info, "9 zero byte(s) of padding after MODEND"));
    // Truncated in the middle of a record: the records before it still show.
    let cut = &base[..base.len() - 15];
    let bin = load(cut);
    check_invariants(&bin, cut.len() as u64).expect("invariants");
    assert!(has_diag(&bin, Severity::Error, "only"), "{:#?}", bin.diagnostics);
    assert!(has_diag(&bin, Severity::Warning, "no MODEND"));
    assert!(bin.omf_records.len() >= 8);
    assert_eq!(bin.omf_records.last().map(|r| r.checksum.as_str()), Some("missing"));
    // A field cut short by the record length.
    let short = cat(&[&theadr("s"), &rec(0x98, &[0x28, 0x04]), &modend()]);
    let bin = load(&short);
    assert!(has_diag(&bin, Severity::Error, "ends inside field \"Segment length\""), "{:#?}", bin.diagnostics);
}

#[test]
fn detection_is_strict_but_explains_itself() {
    for (data, why) in [
        (&[0x80u8][..], "ends inside its 3-byte header"),
        (&[0x80, 0x01, 0x00, 0x7f][..], "too short to hold a module name"),
        (&[0x80, 0x09, 0x00, 0x20, b'a', b'b', b'c', b'd', b'e', b'f', b'g', 0x00][..], "does not fit"),
        (&[0x80, 0x04, 0x00, 0x02, b'a', b'b', 0x55][..], "checksum is wrong"),
        (&[0xf0, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], "not a power of two"),
        (&[0x80, 0x03, 0x00, 0x01, b'a', 0x00, 0x42, 0x00][..], "is no OMF record type"),
    ] {
        match linkscope::load(data) {
            Err(e) => assert!(e.to_string().contains(why), "{e} / {why}"),
            Ok(b) => panic!("{data:02x?} loaded as {}", b.format.name()),
        }
    }
    // A valid THEADR alone is a (module-less) OMF object with a diagnostic.
    let bin = load(&theadr("only"));
    assert!(has_diag(&bin, Severity::Warning, "no MODEND"));
}

#[test]
fn borland_virtual_segments_lower_like_comdats() {
    // COMDEF with data type 1 (a segment index): Borland's virtual segment, filled by LEDATA
    // with segment index 0x4001.
    let obj = cat(&[
        &theadr("virdef"),
        &lnames(&["", "_TEXT", "CODE"]),
        &segdef(0xa9, 0x10, 2, 3),
        &rec(0xb0, &cat(&[&name("@f$qv"), &[0, 0x01, 0x03]])),
        &ledata(0x4001, 0, &[0x90, 0x90, 0xc3]),
        &ledata(1, 0, &[0xe8, 0, 0, 0, 0]),
        &rec(0x9d, &fixup(false, 9, 1, fixdat(false, 5, false, true, 2), &idx(1))),
        &modend(),
    ]);
    let bin = load(&obj);
    no_diags(&bin);
    let omf = bin.omf.as_ref().expect("omf");
    assert!(omf.comdats[0].borland_virtual);
    assert_eq!(omf.section_bytes(2), Some(&[0x90, 0x90, 0xc3][..]));
    let sym = &bin.symbols[omf.comdats[0].symbol];
    assert_eq!((sym.section, sym.section_kind, sym.kind), (Some(2), None, SymbolKind::Function));
    assert_eq!(bin.comdats[0].omf_selection.as_deref(), Some("any"));
}
