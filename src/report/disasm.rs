//! The disassembly listing of `disasm`: one line per instruction (or data item the sweep marked),
//! objdump-like, with the sites each line holds in words; or the same lines as one JSON document,
//! written line by line as they are formatted.

use std::io::Write;
use std::sync::Arc;

use crate::analysis::listing::{data_text, InsnIndex, Lister, Names};
use crate::analysis::{Refs, Site};
use crate::model::index::{is_object, Index};
use crate::model::Binary;

use super::refs::{self as rr, Namer};

/// What a listing reads.
pub struct Listing<'a> {
    /// The model.
    pub bin: &'a Binary,
    /// Its index.
    pub index: &'a Index,
    /// The file's bytes.
    pub data: &'a [u8],
    /// The scan's sites.
    pub refs: &'a Refs,
    /// The instruction starts.
    pub insns: &'a InsnIndex,
    /// Names for operands.
    pub names: Arc<Names>,
}

/// One formatted line: where, the bytes, the text and the sites there.
struct Line<'s> {
    section: usize,
    rva: u64,
    va: u64,
    raw: &'s [u8],
    text: String,
    sites: &'s [Site],
}

impl<'a> Listing<'a> {
    /// Format every line `keep(section position, rva)` selects, in order, handing each to `emit`.
    fn each(
        &self,
        keep: &dyn Fn(usize, u64) -> bool,
        mut emit: impl FnMut(Line<'_>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let ix = self.insns;
        let mut lister = Lister::new(ix.bitness.max(16), self.names.clone());
        let namer = Namer { bin: self.bin, index: self.index };
        let base = if is_object(self.bin) { 0 } else { self.bin.image_base.unwrap_or(0) };
        for row in 0..ix.len() {
            let Some((reg, rva)) = ix.at(row) else { continue };
            if !keep(reg.section, rva) {
                continue;
            }
            let off = (rva - reg.rva) as usize;
            let Some(sec) = self.bin.sections.get(reg.section) else { continue };
            let bytes = sec.bytes(self.data);
            let Some(b) = bytes.get(off..(off + 15).min(bytes.len())) else { continue };
            let sites = self.refs.sites_at(reg.section as u32, rva);
            let (len, text) = match ix.data_width(row) {
                Some(w) => (usize::from(w), data_text(b, w)),
                None => match lister.format_named(b, base.wrapping_add(rva), &namer.operand_names(sites)) {
                    Some((ins, text)) => (ins.len(), text),
                    None => continue,
                },
            };
            let raw = &b[..len.min(b.len())];
            emit(Line { section: reg.section, rva, va: base.wrapping_add(rva), raw, text, sites })?;
        }
        Ok(())
    }

    /// The listing as text: a heading per section, then `va:  bytes  text  ; sites`.
    pub fn write_text(&self, out: &mut impl Write, keep: &dyn Fn(usize, u64) -> bool) -> std::io::Result<()> {
        let namer = Namer { bin: self.bin, index: self.index };
        let mut last_section = usize::MAX;
        self.each(keep, |l| {
            if l.section != last_section {
                writeln!(out, "\nsection {}:", self.index.section_label_at(l.section))?;
                last_section = l.section;
            }
            let notes: Vec<String> = l.sites.iter().map(|s| site_words(&namer, s)).collect();
            let note = if notes.is_empty() { String::new() } else { format!("  ; {}", notes.join("; ")) };
            writeln!(out, "{:>12x}:  {:<30} {}{note}", l.va, hex_spaced(l.raw), l.text)
        })
    }

    /// The listing as one JSON document `{schema_version, format, arch, lines[]}`, each line
    /// `{section, rva, va, bytes, text, sites[]}` written as soon as it is formatted.
    pub fn write_json(&self, out: &mut impl Write, keep: &dyn Fn(usize, u64) -> bool) -> std::io::Result<()> {
        let namer = Namer { bin: self.bin, index: self.index };
        let head = [
            ("schema_version", 1.into()),
            ("format", self.bin.format.name().into()),
            ("arch", self.bin.arch.to_string().into()),
        ];
        super::write_json_head(out, &head)?;
        write!(out, ",\"lines\":[")?;
        let mut first = true;
        self.each(keep, |l| {
            if !std::mem::take(&mut first) {
                out.write_all(b",")?;
            }
            let line = serde_json::json!({
                "section": self.index.section_label_at(l.section),
                "rva": l.rva,
                "va": l.va,
                "bytes": hex(l.raw),
                "text": l.text,
                "sites": l.sites.iter().map(|s| rr::ref_json(&namer, s)).collect::<Vec<_>>(),
            });
            serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)
        })?;
        writeln!(out, "]}}")
    }
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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_spaced(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}
