//! `linkscope disasm`: the listing of a file's code, swept and formatted piece by piece on worker
//! threads and written in order.

use std::io::Write;
use std::path::Path;

use crate::analysis::listing::{PieceSweep, PIECE_BYTES};
use crate::model::index::{is_object, Index};
use crate::model::pdb::LoadedPdb;
use crate::model::Binary;
use crate::report::disasm::{Keep, Listing};
use crate::session::{modules, Analysis, Analyzed, Scan};

/// What part of the code `disasm` lists.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A section by name.
    pub section: Option<String>,
    /// `START..END` (VAs in images, or RVAs below the image base; section offsets in objects).
    pub range: Option<String>,
    /// A symbol or export by name (a PDB's public, mangled or demangled, or procedure too).
    pub symbol: Option<String>,
    /// `--pdb`, `--pdb-mismatch-ok`.
    pub pdb: super::PdbFlags,
}

/// Run `disasm` with `threads` workers (the output is the same for any number); returns the
/// exit code.
pub fn disasm(file: &Path, sel: &Selection, json: bool, threads: usize) -> i32 {
    let analysis = Analysis { pdb: sel.pdb.choice(), ..Analysis::scan(Scan::None, threads) };
    let a = match Analyzed::open(file, &analysis) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("linkscope: {e}");
            return 2;
        }
    };
    super::warn_pdb(file, &a.pdb_notes);
    let (bin, index, data) = (&a.bin, &a.index, &a.data);
    let Some(filter) = select(bin, index, sel, a.pdb.as_deref()) else {
        eprintln!("linkscope: {}: nothing matches the selection", file.display());
        return 2;
    };
    // The DLLs placed as `refs` places them (from the files beside the image), for the sites' reach.
    let (placements, _) = modules::placements(&modules::Folder::beside(file), bin, &[]);
    let sweep = PieceSweep::new(bin, data, index, placements, PIECE_BYTES);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let listing =
        Listing { bin, index, data, sweep: &sweep, names: a.names().clone(), labels: a.labels().clone(), threads };
    let r = if json { listing.write_json(&mut out, &filter) } else { listing.write_text(&mut out, &filter) };
    super::finish(r.and_then(|()| out.flush()), 0, 1)
}

type Filter = Box<Keep>;

/// `[start, end)` of a PDB procedure by its CodeView name (`Rect::area`), which no public spells.
fn procedure_range(pdb: &LoadedPdb, name: &str) -> Option<(u64, u64, Option<usize>)> {
    let p = pdb.procedures.iter().find(|p| p.name == name && p.rva.is_some())?;
    let rva = p.rva?;
    Some((rva, rva.saturating_add(u64::from(p.length.max(1))), None))
}

fn select(bin: &Binary, index: &Index, sel: &Selection, pdb: Option<&LoadedPdb>) -> Option<Filter> {
    let base = if is_object(bin) { 0 } else { bin.image_base.unwrap_or(0) };
    if let Some(name) = &sel.section {
        let p = bin.sections.iter().position(|s| &s.name == name)?;
        return Some(Box::new(move |sec, _| sec == p));
    }
    if let Some(r) = &sel.range {
        let (a, b) = r.split_once("..")?;
        let to_rva = |v: u64| if v >= base { v - base } else { v };
        let (a, b) = (to_rva(crate::analysis::reach::parse_addr(a)?), to_rva(crate::analysis::reach::parse_addr(b)?));
        return Some(Box::new(move |_, rva| a <= rva && rva < b));
    }
    if let Some(name) = &sel.symbol {
        let (start, end, sec) = symbol_range(bin, index, name).or_else(|| procedure_range(pdb?, name))?;
        return Some(Box::new(move |s, rva| sec.is_none_or(|p| p == s) && start <= rva && rva < end));
    }
    Some(Box::new(|_, _| true))
}

/// `[start, end)` of a symbol or export (its size, else up to the next name), and its section.
fn symbol_range(bin: &Binary, index: &Index, name: &str) -> Option<(u64, u64, Option<usize>)> {
    let object = is_object(bin);
    if let Some(i) = index.symbol_named(bin, name) {
        let (rva, p) = index.symbols_sorted[i];
        let sym = bin.symbols.get(p as usize)?;
        let sec = sym.section.and_then(|s| index.section_pos(s));
        let next = index.symbols_sorted[i + 1..]
            .iter()
            .find(|&&(r, q)| r > rva && (!object || bin.symbols.get(q as usize).and_then(|s| s.section) == sym.section))
            .map(|&(r, _)| r);
        let end = sym.size.filter(|&s| s > 0).map(|s| rva + s).or(next).unwrap_or(u64::MAX);
        return Some((rva, end, sec.filter(|_| object)));
    }
    let e = bin.exports.iter().find(|e| e.name.as_deref() == Some(name) && e.forwarder.is_none())?;
    let next = index.exports_sorted.iter().map(|&(r, _)| r).find(|&r| r > e.rva).unwrap_or(u64::MAX);
    Some((e.rva, next, None))
}
