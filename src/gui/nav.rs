//! Navigation: places, back/forward history, and the Go-to address parser.

use crate::model::Span;

use super::document::{DocCore, DocId, TableId, View};
use super::lookup::is_object;

/// Somewhere the user was: a document, a view, and what was selected there.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The document.
    pub doc: DocId,
    /// The view.
    pub view: View,
    /// Selected table row (model index), if the view shows a table.
    pub row: Option<(TableId, usize)>,
    /// Selected bytes.
    pub bytes: Option<Span>,
    /// Selected COMDAT (section index).
    pub comdat: Option<u32>,
}

/// Back and forward stacks.
#[derive(Debug, Default)]
pub struct History {
    /// Places to go back to, most recent last.
    pub back: Vec<Place>,
    /// Places to go forward to, most recent last.
    pub forward: Vec<Place>,
}

/// Most places remembered in each direction.
const MAX_HISTORY: usize = 200;

impl History {
    /// Record `here` before going somewhere new.
    pub fn push(&mut self, here: Place) {
        if self.back.last() != Some(&here) {
            self.back.push(here);
            if self.back.len() > MAX_HISTORY {
                self.back.remove(0);
            }
        }
        self.forward.clear();
    }

    /// Forget places in a closed document.
    pub fn forget(&mut self, doc: DocId) {
        self.back.retain(|p| p.doc != doc);
        self.forward.retain(|p| p.doc != doc);
    }
}

/// How a Go-to address was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrKind {
    /// A virtual address (image base + RVA).
    Va,
    /// An address relative to the image base.
    Rva,
    /// A file offset.
    File,
}

impl AddrKind {
    /// Name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            AddrKind::Va => "VA",
            AddrKind::Rva => "RVA",
            AddrKind::File => "file offset",
        }
    }
}

/// Where a Go-to address leads.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// How the address was finally used.
    pub kind: AddrKind,
    /// File offset of the bytes, if the address has bytes in the file.
    pub offset: Option<u64>,
    /// RVA, when known.
    pub rva: Option<u64>,
    /// Section (format index) holding the address, when known.
    pub section: Option<u32>,
    /// What happened, in words (shown in the status line).
    pub message: String,
}

fn parse_hex(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(&s);
    if h.is_empty() {
        return None;
    }
    u64::from_str_radix(h, 16).ok()
}

/// The disassembly row of the instruction at or before a resolved address, when it is in code.
pub fn instruction_row(core: &DocCore, r: &Resolved) -> Option<usize> {
    let ix = &core.refs.insns;
    if let Some(rva) = r.rva.filter(|_| !is_object(&core.bin)) {
        return ix.row_of(rva, None);
    }
    let off = r.offset?;
    let p = core
        .bin
        .sections
        .iter()
        .position(|s| s.file_offset <= off && off < s.file_offset.saturating_add(s.file_size))?;
    let s = core.bin.sections.get(p)?;
    ix.row_of(s.rva + (off - s.file_offset), Some(p))
}

/// The RVA a name designates in an image, and what it is: a symbol by its name or demangled
/// name (the PDB's publics and procedures are symbols too), an export, a label; else the one
/// function whose demangled name is `name(…)` (`Rect::area` for `int __cdecl Rect::area(void)`).
fn by_name(name: &str, core: &DocCore) -> Option<(u64, String)> {
    let (bin, index) = (&core.bin, &core.index);
    if is_object(bin) || name.is_empty() {
        return None;
    }
    if let Some(i) = index.symbol_named(bin, name) {
        return Some((index.symbols_sorted[i].0, format!("symbol {name}")));
    }
    if let Some(e) = bin.exports.iter().find(|e| e.name.as_deref() == Some(name) && e.forwarder.is_none()) {
        return Some((e.rva, format!("export {name}")));
    }
    if let Some(l) = core.labels().iter().find(|l| l.name == name) {
        return Some((l.rva, format!("label {name}")));
    }
    let call = format!("{name}(");
    index.symbols_sorted.iter().find_map(|&(rva, p)| {
        let d = bin.symbols.get(p as usize)?.demangled.as_deref()?;
        let i = d.find(&call)?;
        (i == 0 || d[..i].ends_with([' ', '*', '&'])).then(|| (rva, format!("{d} ({name})")))
    })
}

/// Read `input` (`0x…` or bare hex: VA; `rva:…`; `file:…`; or a name) against `core` and say
/// what was used.
pub fn resolve(input: &str, core: &DocCore) -> Result<Resolved, String> {
    let text = input.trim();
    let lower = text.to_ascii_lowercase();
    let (asked, rest) = if let Some(r) = lower.strip_prefix("rva:") {
        (AddrKind::Rva, r)
    } else if let Some(r) = lower.strip_prefix("file:").or_else(|| lower.strip_prefix("off:")) {
        (AddrKind::File, r)
    } else if let Some(r) = lower.strip_prefix("va:") {
        (AddrKind::Va, r)
    } else {
        (AddrKind::Va, lower.as_str())
    };
    // Bare text that names something is the name (`add`, `face` are hex too); `0x…` is a number.
    let bare = !text.contains(':') && !lower.starts_with("0x");
    let named = if bare { by_name(text, core) } else { None };
    let Some(value) = parse_hex(rest).filter(|_| named.is_none()) else {
        // Not a number: a name (a symbol, the PDB's too, mangled or demangled; an export; a
        // label such as `sub_140001000` or `j_Sleep`).
        return match named.or_else(|| by_name(text, core)) {
            Some((rva, what)) => {
                let mut r = resolve(&format!("rva:{rva:#x}"), core)?;
                r.message = format!("{what} at RVA {rva:#x}: {}", r.message);
                Ok(r)
            }
            None => Err(format!(
                "\"{text}\" is neither an address (0x… VA, rva:…, file:…) nor the name of a symbol, export or label"
            )),
        };
    };
    let bin = &core.bin;
    // `used`: how the number was read; `target`: what it designates (a file offset or an RVA).
    let (used, note, file_offset, rva) = match asked {
        AddrKind::Va => match bin.image_base {
            Some(base) if !is_object(bin) && value >= base => {
                (AddrKind::Va, format!("{value:#x} read as a VA → RVA {:#x}", value - base), None, Some(value - base))
            }
            Some(base) if !is_object(bin) => (
                AddrKind::Rva,
                format!("{value:#x} is below the image base {base:#x}, so it was read as an RVA"),
                None,
                Some(value),
            ),
            _ => (
                AddrKind::File,
                format!("{value:#x}: this file is not loaded at an address (no image base), so it was read as a file offset"),
                Some(value),
                None,
            ),
        },
        AddrKind::Rva if is_object(bin) => {
            return Err("an object file is not loaded at an address, so it has no RVAs; use file:… instead".into());
        }
        AddrKind::Rva => (AddrKind::Rva, format!("{value:#x} read as an RVA"), None, Some(value)),
        AddrKind::File => (AddrKind::File, format!("{value:#x} read as a file offset"), Some(value), None),
    };
    let mut msg = note;
    if let Some(off) = file_offset {
        if off >= bin.file_size {
            return Err(format!("file offset {off:#x} is past the end of the file ({:#x} bytes)", bin.file_size));
        }
        let rva = core.index.offset_to_rva(off, bin);
        let section = bin
            .sections
            .iter()
            .find(|s| s.file_size > 0 && s.file_offset <= off && off < s.file_offset.saturating_add(s.file_size))
            .map(|s| s.index);
        if let Some(r) = rva {
            msg.push_str(&format!(" (RVA {r:#x})"));
        }
        if let Some(s) = section.and_then(|s| core.index.section_label(s)) {
            msg.push_str(&format!(" in {s}"));
        }
        return Ok(Resolved { kind: used, offset: Some(off), rva, section, message: msg });
    }
    let rva = rva.unwrap_or(0);
    let sec_pos = core.index.section_pos_by_rva(rva);
    let section = sec_pos.and_then(|p| bin.sections.get(p)).map(|s| s.index);
    let mut offset = core.index.rva_to_offset(rva, bin);
    if offset.is_none() && sec_pos.is_none() && bin.format.is_pe() {
        // Headers are mapped 1:1 below the first section.
        let first = bin.sections.iter().map(|s| s.rva).min().unwrap_or(u64::MAX);
        if rva < first && rva < bin.file_size {
            offset = Some(rva);
            msg.push_str(" in the headers");
        }
    }
    match offset {
        Some(off) => {
            msg.push_str(&format!(" → file offset {off:#x}"));
            if let Some(place) = core.index.rva_place(rva, bin) {
                msg.push_str(&format!(" ({place})"));
            }
        }
        None => match sec_pos.and_then(|p| bin.sections.get(p)) {
            Some(s) => msg.push_str(&format!(
                " in {}, which has no bytes in the file there (uninitialised data the loader fills with zeros)",
                s.name
            )),
            None => return Err(format!("{msg}, but no section contains that address")),
        },
    }
    Ok(Resolved { kind: used, offset, rva: Some(rva), section, message: msg })
}
