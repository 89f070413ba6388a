//! Test helpers for the OMF reader: build OMF records byte by byte from the specification
//! (TIS OMF 1.1), and check the structural invariants every read document must satisfy.
#![allow(dead_code)]

use linkscope::model::Binary;

/// A record: type, length (body + checksum), body, checksum making the bytes sum to 0.
pub fn rec(t: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() + 1) as u16;
    let mut v = vec![t];
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(body);
    let sum = v.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    v.push(0u8.wrapping_sub(sum));
    v
}

/// A record whose checksum byte is 0 ("not computed").
pub fn rec_zero(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = rec(t, body);
    if let Some(last) = v.last_mut() {
        *last = 0;
    }
    v
}

/// A length-prefixed name.
pub fn name(s: &str) -> Vec<u8> {
    let mut v = vec![s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

/// An OMF index: one byte below 0x80, else two bytes with the high bit set.
pub fn idx(i: u16) -> Vec<u8> {
    if i < 0x80 {
        vec![i as u8]
    } else {
        vec![0x80 | (i >> 8) as u8, i as u8]
    }
}

/// Little-endian u16.
pub fn w(v: u16) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// Little-endian u32.
pub fn d(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// Concatenate byte pieces.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// A FIXUP subrecord: Locat `1 M Location(4) Offset(10)` (high byte first), Fix Data, then the
/// datums and displacement in `rest`.
pub fn fixup(m: bool, loc: u8, off: u16, fixdat: u8, rest: &[u8]) -> Vec<u8> {
    let locat: u16 = 0x8000 | (u16::from(m) << 14) | (u16::from(loc & 0xf) << 10) | (off & 0x3ff);
    let mut v = vec![(locat >> 8) as u8, locat as u8, fixdat];
    v.extend_from_slice(rest);
    v
}

/// A THREAD subrecord `0 D 0 Method(3) Thred(2)` followed by its datum.
pub fn thread(frame: bool, method: u8, num: u8, datum: &[u8]) -> Vec<u8> {
    let mut v = vec![(u8::from(frame) << 6) | ((method & 7) << 2) | (num & 3)];
    v.extend_from_slice(datum);
    v
}

/// A Fix Data byte `F Frame(3) T P Targt(2)`.
pub fn fixdat(f: bool, frame: u8, t: bool, p: bool, targt: u8) -> u8 {
    (u8::from(f) << 7) | ((frame & 7) << 4) | (u8::from(t) << 3) | (u8::from(p) << 2) | (targt & 3)
}

/// A leaf iterated-data block: repeat count (`rw` bytes), block count 0, content.
pub fn leaf(repeat: u32, rw: usize, content: &[u8]) -> Vec<u8> {
    let mut v = repeat.to_le_bytes()[..rw].to_vec();
    v.extend_from_slice(&[0, 0, content.len() as u8]);
    v.extend_from_slice(content);
    v
}

/// A nested iterated-data block: repeat count, block count, the blocks.
pub fn nested(repeat: u32, rw: usize, blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut v = repeat.to_le_bytes()[..rw].to_vec();
    v.extend_from_slice(&(blocks.len() as u16).to_le_bytes());
    for b in blocks {
        v.extend_from_slice(b);
    }
    v
}

/// THEADR.
pub fn theadr(n: &str) -> Vec<u8> {
    rec(0x80, &name(n))
}

/// LNAMES.
pub fn lnames(names: &[&str]) -> Vec<u8> {
    let body: Vec<u8> = names.iter().flat_map(|n| name(n)).collect();
    rec(0x96, &body)
}

/// A 16-bit SEGDEF for a relocatable segment.
pub fn segdef(acbp: u8, len: u16, seg: u16, class: u16) -> Vec<u8> {
    rec(0x98, &cat(&[&[acbp], &w(len), &idx(seg), &idx(class), &idx(1)]))
}

/// A 32-bit SEGDEF.
pub fn segdef32(acbp: u8, len: u32, seg: u16, class: u16) -> Vec<u8> {
    rec(0x99, &cat(&[&[acbp], &d(len), &idx(seg), &idx(class), &idx(1)]))
}

/// EXTDEF.
pub fn extdef(names: &[&str]) -> Vec<u8> {
    let body: Vec<u8> = names.iter().flat_map(|n| cat(&[&name(n), &[0]])).collect();
    rec(0x8c, &body)
}

/// LEDATA (16-bit).
pub fn ledata(seg: u16, off: u16, data: &[u8]) -> Vec<u8> {
    rec(0xa0, &cat(&[&idx(seg), &w(off), data]))
}

/// MODEND without a start address.
pub fn modend() -> Vec<u8> {
    rec(0x8a, &[0x00])
}

// Sample objects shared by the spec and mutation tests.

// LNAMES: 1 "", 2 _TEXT, 3 CODE, 4 _DATA, 5 DATA, 6 DGROUP, 7 _f, 8 _g, 9 _s, 10 _big32, 11 _abs
pub fn comdat_object() -> Vec<u8> {
    cat(&[
        &theadr("comdat.c"),
        &lnames(&["", "_TEXT", "CODE", "_DATA", "DATA", "DGROUP", "_f", "_g", "_s", "_big32", "_abs"]),
        &segdef(0x28, 0x10, 2, 3),
        &segdef(0x48, 0, 4, 5),
        &rec(0x9a, &cat(&[&idx(6), &[0xff], &idx(2)])),
        &extdef(&["_ext"]),
        // CEXTDEF: external 2 names the COMDAT `_g` by its LNAMES index.
        &rec(0xbc, &cat(&[&idx(8), &[0]])),
        // _f: enumerated, pick any, explicit in _TEXT, align from SEGDEF; `call _g; ret`.
        &rec(0xc2, &cat(&[&[0x00, 0x10, 0x00], &w(0), &[0], &idx(0), &idx(1), &idx(7), &[0xe8, 0x00, 0x00, 0xc3]])),
        // Self-relative 16-bit offset at 1 of CEXTDEF _g (frame F5, target T6).
        &rec(0x9c, &fixup(false, 1, 1, fixdat(false, 5, false, true, 2), &idx(2))),
        // Continuation of _f at offset 4.
        &rec(0xc2, &cat(&[&[0x01, 0x10, 0x00], &w(4), &[0], &idx(0), &idx(1), &idx(7), &[0x90, 0x90]])),
        // _g: local, data in code; same size, far code; byte aligned.
        &rec(0xc2, &cat(&[&[0x0c, 0x21, 0x01], &w(0), &[0], &idx(8), &[0xc3]])),
        // _s: iterated ("ab" × 3); exact match, far data; word aligned.
        &rec(0xc2, &cat(&[&[0x02, 0x32, 0x02], &w(0), &[0], &idx(9), &leaf(3, 2, b"ab")])),
        // _big32: 32-bit record; no match, code32; dword aligned.
        &rec(0xc3, &cat(&[&[0x00, 0x03, 0x05], &d(0), &[0], &idx(10), &[0, 0, 0, 0, 5]])),
        // 32-bit offset at 0 of EXTDEF _ext + 0x10, frame group DGROUP (P=0, 4-byte displacement).
        &rec(0x9d, &fixup(true, 9, 0, fixdat(false, 1, false, false, 2), &cat(&[&idx(1), &idx(1), &d(0x10)]))),
        // Line numbers for _f.
        &rec(0xc4, &cat(&[&[0x00], &idx(7), &w(10), &w(0), &w(11), &w(4)])),
        // _abs: explicit with neither group nor segment: a frame number follows.
        &rec(0xc2, &cat(&[&[0x00, 0x10, 0x03], &w(0), &[0], &idx(0), &idx(0), &w(0x1234), &idx(11), &[0xaa]])),
        &modend(),
    ])
}

// LNAMES 1 "", 2 CODE, 3 _TEXT, 4 DATA, 5 _DATA, 6 DGROUP; SEGDEF 1 _TEXT, 2 _DATA;
// GRPDEF 1 DGROUP = _DATA; externals 1 far_fn, 2 var.
pub fn threads_object() -> Vec<u8> {
    cat(&[
        &theadr("threads"),
        &lnames(&["", "CODE", "_TEXT", "DATA", "_DATA", "DGROUP"]),
        &segdef(0x28, 0x40, 3, 2),
        &segdef(0x48, 0x20, 5, 4),
        &rec(0x9a, &cat(&[&idx(6), &[0xff], &idx(2)])),
        &extdef(&["far_fn", "var"]),
        // Threads only: F thread 0 = F1 DGROUP; T thread 1 = T0 _DATA; F thread 2 = F3 0x0040;
        // T thread 3 = T2 var.
        &rec(
            0x9c,
            &cat(&[
                &thread(true, 1, 0, &idx(1)),
                &thread(false, 0, 1, &idx(2)),
                &thread(true, 3, 2, &w(0x40)),
                &thread(false, 2, 3, &idx(2)),
            ]),
        ),
        &ledata(1, 0, &[0; 0x10]),
        &rec(
            0x9c,
            &cat(&[
                // 16-bit offset at 0: frame thread 0, target thread 1, displacement 0x10.
                &fixup(true, 1, 0, fixdat(true, 0, true, false, 1), &w(0x10)),
                // Low byte at 2: frame thread 2, target thread 3, no displacement.
                &fixup(true, 0, 2, fixdat(true, 2, true, true, 3), &[]),
                // High byte at 3: F4 location, T5 DGROUP.
                &fixup(true, 4, 3, fixdat(false, 4, false, true, 1), &idx(1)),
                // 16:16 pointer at 4: F2 far_fn, T6 far_fn.
                &fixup(true, 3, 4, fixdat(false, 2, false, true, 2), &cat(&[&idx(1), &idx(1)])),
                // Loader-resolved offset at 8: F0 _TEXT, T0 _TEXT + 0x20.
                &fixup(true, 5, 8, fixdat(false, 0, false, false, 0), &cat(&[&idx(1), &idx(1), &w(0x20)])),
                // Segment base at 10: F5, T3 frame number 0xb800 + 0.
                &fixup(true, 2, 10, fixdat(false, 5, false, false, 3), &cat(&[&w(0xb800), &w(0)])),
            ]),
        ),
        &rec(0xa1, &cat(&[&idx(2), &d(0), &[0; 0x18]])),
        // A later FIXUPP32 still sees the threads.
        &rec(
            0x9d,
            &cat(&[
                // 32-bit offset at 0: frame thread 0, target thread 3.
                &fixup(true, 9, 0, fixdat(true, 0, true, true, 3), &[]),
                // 16:32 pointer at 4: F5, T6 far_fn.
                &fixup(true, 11, 4, fixdat(false, 5, false, true, 2), &idx(1)),
                // Redefine target thread 1 as T1 DGROUP, then a loader-resolved 32-bit offset.
                &thread(false, 1, 1, &idx(1)),
                &fixup(true, 13, 12, fixdat(false, 5, true, true, 1), &[]),
            ]),
        ),
        &rec(0x8a, &cat(&[&[0xc1, fixdat(false, 0, false, false, 0)], &idx(1), &idx(1), &w(0x10)])),
    ])
}

// LNAMES 1 "", 2 CODE32S, 3 CODE, 4 DATA32S, 5 DATA; SEGDEF 1 CODE32S (use32), 2 DATA32S;
// external 1 ext; publics entry (CODE32S+0), tbl (DATA32S+4).
/// Use32 code whose bytes come from LEDATA and LIDATA records: `mov eax, [tbl+0x4]` (the offset
/// in the FIXUPP's target displacement, none stored), `call ext`, LIDATA `inc eax; dec eax` × 3,
/// `ret`.
pub fn code_object() -> Vec<u8> {
    cat(&[
        &theadr("code32"),
        &lnames(&["", "CODE32S", "CODE", "DATA32S", "DATA"]),
        &segdef32(0x69, 0x11, 2, 3),
        &segdef32(0x49, 0x10, 4, 5),
        &extdef(&["ext"]),
        &rec(0x90, &cat(&[&idx(0), &idx(1), &name("entry"), &w(0), &[0]])),
        &rec(0x90, &cat(&[&idx(0), &idx(2), &name("tbl"), &w(4), &[0]])),
        &rec(0xa1, &cat(&[&idx(1), &d(0), &[0xa1, 0, 0, 0, 0, 0xe8, 0, 0, 0, 0]])),
        &rec(
            0x9d,
            &cat(&[
                // 32-bit offset at 1 of SEGDEF 2 + 8 (frame F5: the target's; P=0, 4-byte displacement).
                &fixup(true, 9, 1, fixdat(false, 5, false, false, 0), &cat(&[&idx(2), &d(8)])),
                // Self-relative 32-bit offset at 6 of EXTDEF 1 (T6: no displacement).
                &fixup(false, 9, 6, fixdat(false, 5, false, true, 2), &idx(1)),
            ]),
        ),
        &rec(0xa3, &cat(&[&idx(1), &d(10), &leaf(3, 4, &[0x40, 0x48])])),
        &rec(0xa1, &cat(&[&idx(1), &d(16), &[0xc3]])),
        &rec(0xa1, &cat(&[&idx(2), &d(0), &[0; 0x10]])),
        &modend(),
    ])
}

pub fn module(module_name: &str, public: &str, libmod: Option<&str>) -> Vec<u8> {
    let mut v = theadr(module_name);
    if let Some(l) = libmod {
        v.extend(rec(0x88, &cat(&[&[0x00, 0xa3], &name(l)])));
    }
    v.extend(lnames(&["", "_TEXT", "CODE"]));
    v.extend(segdef(0x28, 1, 2, 3));
    v.extend(rec(0x90, &cat(&[&idx(0), &idx(1), &name(public), &w(0), &[0]])));
    v.extend(ledata(1, 0, &[0xc3]));
    v.extend(modend());
    v
}

/// A library with 16-byte pages: LIBHDR, two modules, LIBEND, a one-block dictionary at 0x200.
pub fn library() -> Vec<u8> {
    let page = 16usize;
    let mut lib = rec(0xf0, &cat(&[&d(0x200), &w(1), &[0x01], &[0; 5]]));
    assert_eq!(lib.len(), page);
    let m1 = module("m1", "_a", None);
    let m2 = module("m2", "_b", Some("m2.obj"));
    let mut offsets = Vec::new();
    for m in [&m1, &m2] {
        offsets.push(lib.len());
        lib.extend_from_slice(m);
        lib.resize(lib.len().div_ceil(page) * page, 0);
    }
    let pad = 0x200 - lib.len() - 4;
    lib.extend(rec(0xf1, &vec![0; pad]));
    assert_eq!(lib.len(), 0x200);
    let mut block = vec![0u8; 512];
    // Entries at word offsets: "_a" at 0x26 (bucket 3), "_b" at 0x2c (bucket 17), a stale entry
    // at 0x32 (bucket 30) naming a page where no module starts.
    for (at, bucket, nm, pg) in
        [(0x26usize, 3usize, "_a", offsets[0] / page), (0x2c, 17, "_b", offsets[1] / page), (0x32, 30, "_z", 99)]
    {
        block[bucket] = (at / 2) as u8;
        block[at] = nm.len() as u8;
        block[at + 1..at + 1 + nm.len()].copy_from_slice(nm.as_bytes());
        block[at + 1 + nm.len()..at + 3 + nm.len()].copy_from_slice(&(pg as u16).to_le_bytes());
    }
    block[37] = 0x1c;
    lib.extend(block);
    lib
}

/// Load a built object, asserting it is read as OMF.
pub fn load(bytes: &[u8]) -> Binary {
    match linkscope::load(bytes) {
        Ok(b) => b,
        Err(e) => panic!("load failed: {e}"),
    }
}

/// Error diagnostics of a document (members included).
pub fn errors(bin: &Binary) -> Vec<String> {
    let mut v: Vec<String> = bin
        .diagnostics
        .iter()
        .filter(|d| d.severity == linkscope::model::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    for m in &bin.members {
        if let Some(b) = &m.binary {
            v.extend(errors(b));
        }
    }
    v
}

/// All diagnostics of a document (members included).
pub fn all_diags(bin: &Binary) -> Vec<String> {
    let mut v: Vec<String> = bin.diagnostics.iter().map(|d| format!("{}: {}", d.severity.name(), d.message)).collect();
    for m in &bin.members {
        if let Some(b) = &m.binary {
            v.extend(all_diags(b));
        }
    }
    v
}

/// Structural invariants: every record, field, fixup, thread, data chunk and relocation span
/// lies inside the data; fields lie inside their record; relocations and fixups correspond one
/// to one; fixup sections exist. Returns a description of the first violation.
pub fn check_invariants(bin: &Binary, data_len: u64) -> Result<(), String> {
    let inside = |what: &str, off: u64, len: u64| -> Result<(), String> {
        if off.checked_add(len).is_none_or(|e| e > data_len) {
            Err(format!("{what} span {off:#x}+{len:#x} is outside the {data_len:#x}-byte data"))
        } else {
            Ok(())
        }
    };
    for (i, r) in bin.omf_records.iter().enumerate() {
        inside(&format!("record {i}"), r.offset, 1)?;
        let rec_end = r.offset + u64::from(r.length) + 3;
        for f in &r.fields {
            inside(&format!("record {i} field {}", f.name), f.span.offset, f.span.len)?;
            if f.span.offset < r.offset || f.span.end() > rec_end {
                return Err(format!("record {i} field {} {:?} lies outside its record", f.name, f.span));
            }
        }
    }
    for g in &bin.headers {
        for f in &g.fields {
            inside(&format!("header {} field {}", g.name, f.name), f.span.offset, f.span.len)?;
        }
    }
    for s in &bin.symbols {
        inside(&format!("symbol {}", s.name), s.span.offset, s.span.len)?;
    }
    if let Some(omf) = &bin.omf {
        if omf.library.is_none() && omf.fixups.len() != bin.relocations.len() {
            return Err(format!("{} fixups but {} relocations", omf.fixups.len(), bin.relocations.len()));
        }
        for f in &omf.fixups {
            inside("fixup", f.span.offset, f.span.len)?;
            if let Some(s) = f.section {
                if !bin.sections.iter().any(|x| x.index == s) {
                    return Err(format!("fixup names section {s}, which does not exist"));
                }
            }
            if f.record >= bin.omf_records.len() {
                return Err("fixup record index out of range".into());
            }
        }
        for t in &omf.threads {
            inside("thread", t.span.offset, t.span.len)?;
        }
        for s in &omf.segments {
            for c in &s.data {
                inside("segment data chunk", c.span.offset, c.span.len)?;
            }
        }
        for c in &omf.comdats {
            for x in &c.data {
                inside("COMDAT data chunk", x.span.offset, x.span.len)?;
            }
        }
    }
    for m in &bin.members {
        if let Some(b) = &m.binary {
            inside(&format!("member {}", m.member_name), m.member_offset, m.member_size)?;
            check_invariants(b, m.member_size).map_err(|e| format!("member {}: {e}", m.member_name))?;
        }
    }
    Ok(())
}

/// Bounded work, in place of a clock: the reader advances through the records (each at a higher
/// offset than the one before, so no more records than bytes), and nothing it lists outgrows the
/// data (members checked the same way).
pub fn check_bounded_work(bin: &Binary, data_len: u64) -> Result<(), String> {
    if let Some(w) = bin.omf_records.windows(2).find(|w| w[1].offset <= w[0].offset) {
        return Err(format!(
            "record at {:#x} follows the one at {:#x}: the reader went back",
            w[1].offset, w[0].offset
        ));
    }
    let items = [
        ("records", bin.omf_records.len()),
        ("symbols", bin.symbols.len()),
        ("sections", bin.sections.len()),
        ("relocations", bin.relocations.len()),
        ("diagnostics", bin.diagnostics.len()),
    ];
    for (what, n) in items {
        if n as u64 > data_len {
            return Err(format!("{n} {what} from {data_len} bytes"));
        }
    }
    for m in &bin.members {
        if let Some(b) = &m.binary {
            check_bounded_work(b, data_len)?;
        }
    }
    Ok(())
}

/// The disassembly of `bin`'s code as `disasm` writes it (text, pieces of 64 bytes): the number
/// of lines written.
pub fn listing_lines(bin: &Binary, data: &[u8]) -> usize {
    let index = linkscope::model::index::Index::new(bin);
    let labels = std::sync::Arc::new(linkscope::analysis::labels::Labels::new(bin, data, &index, &[]));
    let names = std::sync::Arc::new(linkscope::analysis::listing::Names::new(bin, &index, Some(&labels)));
    let sweep = linkscope::analysis::listing::PieceSweep::new(bin, data, &index, Vec::new(), 64);
    let l = linkscope::report::disasm::Listing { bin, index: &index, data, sweep: &sweep, names, labels, threads: 1 };
    let mut out = Vec::new();
    l.write_text(&mut out, &|_, _| true).expect("writing to memory");
    out.split(|&b| b == b'\n').filter(|l| l.windows(3).any(|w| w == b":  ")).count()
}

/// Bytes of code `bin` holds (its executable sections, OMF segments as assembled).
pub fn code_bytes(bin: &Binary, data: &[u8]) -> usize {
    (0..bin.sections.len())
        .filter(|&p| bin.sections[p].is_exec)
        .map(|p| linkscope::analysis::code::section_code(bin, data, p).len())
        .sum()
}

/// A nasm-built fixture of `tests/fixtures/omf`: the object and nasm's listing of it.
pub fn nasm_fixture(name: &str) -> (Vec<u8>, String) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/omf");
    let obj = std::fs::read(dir.join(format!("{name}.obj"))).expect("fixture object");
    let lst = std::fs::read_to_string(dir.join(format!("{name}.lst"))).expect("fixture listing");
    (obj, lst)
}
