//! The disassembly listing of `disasm`: one line per instruction (or data item the sweep marked),
//! objdump-like, with the sites each line holds in words; or the same lines as one JSON document.
//! The code is listed piece by piece (pieces cut at function starts, see [`PieceSweep`]): workers
//! sweep and format pieces into byte buffers, written in order, so the output is the same for any
//! number of threads and only a few pieces are held at a time.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::analysis::listing::{data_text, Lister, Names, Piece, PieceSweep, DATA_QUAD, DATA_ROW, OFFSET_MASK};
use crate::analysis::Site;
use crate::model::index::{is_object, Index};
use crate::model::Binary;

use super::refs::{self as rr, Namer};

mod ordered;

/// Which lines a listing keeps: `(section position, rva)`.
pub type Keep = dyn Fn(usize, u64) -> bool + Sync;

/// What a listing reads.
pub struct Listing<'a> {
    /// The model.
    pub bin: &'a Binary,
    /// Its index.
    pub index: &'a Index,
    /// The file's bytes.
    pub data: &'a [u8],
    /// The code, in pieces swept when listed.
    pub sweep: &'a PieceSweep<'a>,
    /// Names for operands.
    pub names: Arc<Names>,
    /// Worker threads (0 or 1: the calling thread).
    pub threads: usize,
}

/// Bytes of listing a worker formats before handing them to the writer.
const PART_BYTES: usize = 1 << 20;

/// Some lines of one piece, formatted.
struct Formatted {
    /// The section of the piece.
    section: usize,
    /// Lines written (0: nothing to show, not even a heading).
    lines: usize,
    /// The lines.
    buf: Vec<u8>,
}

/// What one worker keeps between pieces.
struct Worker {
    lister: Lister,
    text: String,
}

impl<'a> Listing<'a> {
    /// Format every piece on the listing's threads, handing the pieces to `emit` in order.
    fn each(
        &self,
        keep: &Keep,
        json: bool,
        emit: impl FnMut(&Formatted) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let bitness = self.sweep.bitness().max(16);
        // The buffers written go back to the workers: a few pieces' worth of memory in all.
        let pool: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
        let init = || Worker { lister: Lister::new(bitness, self.names.clone()), text: String::new() };
        let make = |w: &mut Worker, i: usize, parts: &mut ordered::Parts<'_, Formatted>| {
            let piece = self.sweep.piece(i).unwrap_or_default();
            let buf = || pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
            self.format_piece(&piece, keep, json, w, &buf, parts);
        };
        let mut emit = emit;
        ordered::run(self.sweep.len(), self.threads, init, make, |mut f: Formatted| {
            emit(&f)?;
            f.buf.clear();
            if let Ok(mut p) = pool.lock() {
                p.push(f.buf);
            }
            Ok(())
        })
    }

    /// The lines of one piece, text or JSON (each JSON line after a comma), handed to `parts`
    /// about [`PART_BYTES`] at a time.
    fn format_piece(
        &self,
        p: &Piece,
        keep: &Keep,
        json: bool,
        w: &mut Worker,
        buf: &dyn Fn() -> Vec<u8>,
        parts: &mut ordered::Parts<'_, Formatted>,
    ) {
        let namer = Namer { bin: self.bin, index: self.index };
        let base = if is_object(self.bin) { 0 } else { self.bin.image_base.unwrap_or(0) };
        let Some(sec) = self.bin.sections.get(p.section) else { return };
        let bytes = sec.bytes(self.data);
        let mut f = Formatted { section: p.section, lines: 0, buf: buf() };
        let mut cursor = 0;
        let mut decoder = w.lister.decoder(bytes);
        let label = json.then(|| serde_json::to_string(self.index.section_label_at(p.section)).unwrap_or_default());
        for &o in &p.offsets {
            let rva = p.region_rva + u64::from(o & OFFSET_MASK);
            if !keep(p.section, rva) {
                continue;
            }
            let off = (rva - p.region_rva) as usize;
            let Some(b) = bytes.get(off..(off + 15).min(bytes.len())) else { continue };
            let sites = p.sites_at(rva, &mut cursor);
            let va = base.wrapping_add(rva);
            w.text.clear();
            let len = if o & DATA_ROW != 0 {
                let width = if o & DATA_QUAD != 0 { 8 } else { 4 };
                w.text.push_str(&data_text(b, width));
                usize::from(width)
            } else {
                let ops = if sites.is_empty() { Vec::new() } else { namer.operand_names(sites) };
                // One decoder over the section: its bytes past the 15 an instruction may take are
                // never read, so the instruction is the one decoded from `b` alone.
                if b.len() == 15 && decoder.set_position(off).is_ok() {
                    decoder.set_ip(va);
                    w.lister.format_next(&mut decoder, &ops, &mut w.text).len()
                } else {
                    w.lister.format_into(b, va, &ops, &mut w.text).len()
                }
            };
            let raw = &b[..len.min(b.len())];
            let out = &mut f.buf;
            match &label {
                Some(label) => json_line(out, &namer, label, rva, va, raw, &w.text, sites),
                None => text_line(out, &namer, va, raw, &w.text, sites),
            }
            f.lines += 1;
            if f.buf.len() >= PART_BYTES {
                let next = Formatted { section: p.section, lines: 0, buf: buf() };
                if !parts.send(std::mem::replace(&mut f, next)) {
                    return;
                }
            }
        }
        parts.send(f);
    }

    /// The listing as text: a heading per section, then `va:  bytes  text  ; sites`.
    pub fn write_text(&self, out: &mut impl Write, keep: &Keep) -> std::io::Result<()> {
        let mut last_section = usize::MAX;
        self.each(keep, false, |f| {
            if f.lines == 0 {
                return Ok(());
            }
            if f.section != last_section {
                writeln!(out, "\nsection {}:", self.index.section_label_at(f.section))?;
                last_section = f.section;
            }
            out.write_all(&f.buf)
        })
    }

    /// The listing as one JSON document `{schema_version, format, arch, lines[]}`, each line
    /// `{section, rva, va, bytes, text, sites[]}`, written piece by piece as they are formatted.
    pub fn write_json(&self, out: &mut impl Write, keep: &Keep) -> std::io::Result<()> {
        let head = [
            ("schema_version", 1.into()),
            ("format", self.bin.format.name().into()),
            ("arch", self.bin.arch.to_string().into()),
        ];
        super::write_json_head(out, &head)?;
        write!(out, ",\"lines\":[")?;
        let mut first = true;
        self.each(keep, true, |f| {
            // Every line starts with a comma; the document's first one does not.
            let skip = usize::from(f.lines > 0 && std::mem::take(&mut first));
            out.write_all(f.buf.get(skip..).unwrap_or_default())
        })?;
        writeln!(out, "]}}")
    }
}

/// `{va:>12x}:  {bytes:<30} {text}  ; {site}; {site}` and a newline.
fn text_line(out: &mut Vec<u8>, namer: &Namer<'_>, va: u64, raw: &[u8], text: &str, sites: &[Site]) {
    let mut digits = [0u8; 16];
    let hex = hex_digits(va, &mut digits);
    out.resize(out.len() + 12usize.saturating_sub(hex.len()), b' ');
    out.extend_from_slice(hex);
    out.extend_from_slice(b":  ");
    let start = out.len();
    for (i, x) in raw.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        push_hex_byte(out, *x);
    }
    let width = out.len() - start;
    out.resize(out.len() + 30usize.saturating_sub(width), b' ');
    out.push(b' ');
    out.extend_from_slice(text.as_bytes());
    for (i, s) in sites.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"  ; " } else { b"; " });
        out.extend_from_slice(site_words(namer, s).as_bytes());
    }
    out.push(b'\n');
}

/// `,{"section":…,"rva":…,"va":…,"bytes":"…","text":"…","sites":[…]}`.
#[allow(clippy::too_many_arguments)]
fn json_line(
    out: &mut Vec<u8>,
    namer: &Namer<'_>,
    label: &str,
    rva: u64,
    va: u64,
    raw: &[u8],
    text: &str,
    sites: &[Site],
) {
    out.extend_from_slice(b",{\"section\":");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b",\"rva\":");
    push_decimal(out, rva);
    out.extend_from_slice(b",\"va\":");
    push_decimal(out, va);
    out.extend_from_slice(b",\"bytes\":\"");
    for x in raw {
        push_hex_byte(out, *x);
    }
    out.extend_from_slice(b"\",\"text\":");
    push_json_str(out, text);
    out.extend_from_slice(b",\"sites\":[");
    for (i, s) in sites.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing to a Vec cannot fail; a site that could not be serialised would be a bug.
        let _ = serde_json::to_writer(&mut *out, &rr::ref_json(namer, s));
    }
    out.extend_from_slice(b"]}");
}

/// A JSON string: as is between quotes when nothing needs escaping, else serde's escaping.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex_byte(out: &mut Vec<u8>, x: u8) {
    out.push(HEX[usize::from(x >> 4)]);
    out.push(HEX[usize::from(x & 15)]);
}

/// `v` in lower-case hex without leading zeros (`0` for zero), in the tail of `buf`.
fn hex_digits(mut v: u64, buf: &mut [u8; 16]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = HEX[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            return &buf[i..];
        }
    }
}

fn push_decimal(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// A site in words, for a listing's comment.
pub fn site_words(n: &Namer<'_>, s: &Site) -> String {
    let what = n.site_label(s).unwrap_or_else(|| s.target_kind.name().to_string());
    let reach = rr::reach_text(s, if n.bin.is_64 { 64 } else { 32 });
    let mut w = format!("{} {what}", s.mode.name());
    if !reach.is_empty() {
        w.push_str(&format!(" [{reach}]"));
    }
    if s.ambiguous {
        w.push_str(&format!(" AMBIGUOUS (naive: {})", n.naive_label(s).unwrap_or_default()));
    }
    w
}
