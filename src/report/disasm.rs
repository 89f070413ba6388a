//! The disassembly listing of `disasm`: one line per instruction (or data item the sweep marked),
//! objdump-like, with the sites each line holds in words; or the same lines as one JSON document.
//! The code is listed piece by piece (pieces cut at function starts, see [`PieceSweep`]): workers
//! sweep and format pieces into byte buffers, written in order, so the output is the same for any
//! number of threads and only a few pieces are held at a time.

use std::io::Write;
use std::sync::{Arc, Mutex};

use iced_x86::{FormatterOutput, FormatterTextKind};

use crate::analysis::code;
use crate::analysis::labels::Labels;
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
    /// Labels of function starts, each shown on a line of its own before its instruction.
    pub labels: Arc<Labels>,
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
    /// The lister's bitness.
    bits: u32,
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
        let init = || Worker { lister: Lister::new(bitness, self.names.clone()), bits: bitness };
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
        if self.bin.sections.get(p.section).is_none() {
            return;
        }
        // OMF: a segment's assembled bytes, decoded as its SEGDEF says (use16 or use32).
        let bytes = code::section_code(self.bin, self.data, p.section);
        if let Some(bits) = code::section_bitness(self.bin, p.section).filter(|&b| b != w.bits) {
            *w = Worker { lister: Lister::new(bits, self.names.clone()), bits };
        }
        w.lister.set_section(p.section);
        let mut f = Formatted { section: p.section, lines: 0, buf: buf() };
        let mut cursor = 0;
        let mut decoder = w.lister.decoder(bytes, 0);
        let label = json.then(|| serde_json::to_string(self.index.section_label_at(p.section)).unwrap_or_default());
        let labels = self.labels.from(p.section, p.region_rva);
        let mut li = 0;
        let va_digits = if self.bin.is_64 { 16 } else { 8 };
        for &o in &p.offsets {
            let rva = p.region_rva + u64::from(o & OFFSET_MASK);
            while labels.get(li).is_some_and(|l| l.section as usize == p.section && l.rva < rva) {
                li += 1;
            }
            let name = labels.get(li).filter(|l| l.section as usize == p.section && l.rva == rva).map(|l| &l.name);
            if !keep(p.section, rva) {
                continue;
            }
            let off = (rva - p.region_rva) as usize;
            let Some(b) = bytes.get(off..(off + 15).min(bytes.len())) else { continue };
            let sites = p.sites_at(rva, &mut cursor);
            let va = base.wrapping_add(rva);
            let out = &mut f.buf;
            if let (Some(name), None) = (name, &label) {
                label_line(out, va, va_digits, name);
            }
            let name = name.map(String::as_str);
            if o & DATA_ROW != 0 {
                let width = if o & DATA_QUAD != 0 { 8 } else { 4 };
                let raw = &b[..usize::from(width).min(b.len())];
                let text = data_text(b, width);
                match &label {
                    Some(label) => {
                        json_head(out, label, rva, va, raw);
                        push_json_str(out, &text);
                        json_tail(out, name, &namer, sites);
                    }
                    None => {
                        text_head(out, va, raw);
                        out.extend_from_slice(text.as_bytes());
                        text_tail(out, &namer, sites);
                    }
                }
            } else {
                // One decoder over the section: its bytes past the 15 an instruction may take
                // are never read, so the instruction is the one decoded from `b` alone.
                let mut alone;
                let d = if b.len() == 15 && decoder.set_position(off).is_ok() {
                    decoder.set_ip(va);
                    &mut decoder
                } else {
                    alone = w.lister.decoder(b, va);
                    &mut alone
                };
                let ins = d.decode();
                let raw = &b[..ins.len().min(b.len())];
                let ops = if sites.is_empty() { Vec::new() } else { namer.operand_names(sites) };
                match &label {
                    Some(label) => {
                        json_head(out, label, rva, va, raw);
                        let start = out.len();
                        out.push(b'"');
                        w.lister.format_decoded(d, &ins, &ops, &mut Bytes(out));
                        if out[start + 1..].iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\') {
                            let text = String::from_utf8_lossy(&out[start + 1..]).into_owned();
                            out.truncate(start);
                            push_json_str(out, &text);
                        } else {
                            out.push(b'"');
                        }
                        json_tail(out, name, &namer, sites);
                    }
                    None => {
                        text_head(out, va, raw);
                        w.lister.format_decoded(d, &ins, &ops, &mut Bytes(out));
                        text_tail(out, &namer, sites);
                    }
                }
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

    /// The listing as text: a heading per section, then `va:  bytes  text  ; sites`, a label
    /// line `{va} <name>:` before a function's first instruction.
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
    /// `{section, rva, va, bytes, text, label, sites[]}` (`label`: the function's name on its first
    /// instruction, else `null`), written piece by piece as they are formatted.
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

/// The formatter's text appended to a byte buffer.
struct Bytes<'b>(&'b mut Vec<u8>);

impl FormatterOutput for Bytes<'_> {
    fn write(&mut self, text: &str, _kind: FormatterTextKind) {
        self.0.extend_from_slice(text.as_bytes());
    }
}

/// `{va:>12x}:  {bytes:<30} ` of a text line.
fn text_head(out: &mut Vec<u8>, va: u64, raw: &[u8]) {
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
}

/// `  ; {site}; {site}` and the newline of a text line.
fn text_tail(out: &mut Vec<u8>, namer: &Namer<'_>, sites: &[Site]) {
    for (i, s) in sites.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"  ; " } else { b"; " });
        push_site_words(out, namer, s);
    }
    out.push(b'\n');
}

/// `,{"section":…,"rva":…,"va":…,"bytes":"…","text":` of a JSON line.
fn json_head(out: &mut Vec<u8>, label: &str, rva: u64, va: u64, raw: &[u8]) {
    out.extend_from_slice(b",{\"section\":");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b",\"rva\":");
    out.extend_from_slice(itoa::Buffer::new().format(rva).as_bytes());
    out.extend_from_slice(b",\"va\":");
    out.extend_from_slice(itoa::Buffer::new().format(va).as_bytes());
    out.extend_from_slice(b",\"bytes\":\"");
    for x in raw {
        push_hex_byte(out, *x);
    }
    out.extend_from_slice(b"\",\"text\":");
}

/// `\n{va:016x} <{name}>:\n`: a label on a line of its own, after an empty one (as objdump).
fn label_line(out: &mut Vec<u8>, va: u64, digits: usize, name: &str) {
    let mut buf = [0u8; 16];
    let hex = hex_digits(va, &mut buf);
    out.push(b'\n');
    out.resize(out.len() + digits.saturating_sub(hex.len()), b'0');
    out.extend_from_slice(hex);
    out.extend_from_slice(b" <");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b">:\n");
}

/// `,"label":…,"sites":[…]}` of a JSON line.
fn json_tail(out: &mut Vec<u8>, label: Option<&str>, namer: &Namer<'_>, sites: &[Site]) {
    out.extend_from_slice(b",\"label\":");
    match label {
        Some(l) => push_json_str(out, l),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"sites\":[");
    for (i, s) in sites.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing to a Vec cannot fail; a site that could not be serialised would be a bug.
        let _ = rr::write_ref_json(out, namer, s);
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

/// A site in words, for a listing's comment.
pub fn site_words(n: &Namer<'_>, s: &Site) -> String {
    let mut out = Vec::new();
    push_site_words(&mut out, n, s);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`site_words`] appended to `out`.
fn push_site_words(out: &mut Vec<u8>, n: &Namer<'_>, s: &Site) {
    out.extend_from_slice(s.mode.name().as_bytes());
    out.push(b' ');
    match n.site_label(s) {
        Some(label) => out.extend_from_slice(label.as_bytes()),
        None => out.extend_from_slice(s.target_kind.name().as_bytes()),
    }
    let reach = rr::reach_text(s, if n.bin.is_64 { 64 } else { 32 });
    if !reach.is_empty() {
        out.extend_from_slice(b" [");
        out.extend_from_slice(reach.as_bytes());
        out.push(b']');
    }
    if s.ambiguous {
        out.extend_from_slice(b" AMBIGUOUS (naive: ");
        out.extend_from_slice(n.naive_label(s).unwrap_or_default().as_bytes());
        out.push(b')');
    }
}
