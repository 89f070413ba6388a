//! Finding and loading an image's PDB, as debuggers do: the CodeView (`RSDS`) entry's path, then a
//! file of that name beside the image, or a file given. GUID and age must match the image's entry;
//! a PDB that does not is not used unless forced. Everything that goes wrong is a note in words;
//! the image opens all the same.

use std::path::{Path, PathBuf};

use crate::formats::pdb::{Pdb, PdbError};
pub use crate::model::pdb::LoadedPdb;
use crate::model::pdb::PdbHeader;
use crate::model::{Binary, Binding, Span, Symbol, SymbolKind};

/// Which PDB to use for an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PdbChoice {
    /// Look for the image's PDB (its CodeView path, then beside the image).
    pub auto: bool,
    /// This file instead (`--pdb FILE`).
    pub file: Option<PathBuf>,
    /// Use a PDB whose GUID or age differ from the image's (`--pdb-mismatch-ok`).
    pub mismatch_ok: bool,
}

impl PdbChoice {
    /// Whether any PDB is to be looked at.
    pub fn wanted(&self) -> bool {
        self.auto || self.file.is_some()
    }
}

/// The outcome of looking for a PDB: the PDB when one is used, and notes on what went wrong.
#[derive(Debug, Clone, Default)]
pub struct PdbOutcome {
    /// The PDB, when one was found and is used.
    pub pdb: Option<LoadedPdb>,
    /// Why none is used, or what of it could not be read (warnings).
    pub notes: Vec<String>,
}

/// The image's CodeView entry: PDB path, GUID text and age.
pub fn codeview(bin: &Binary) -> Option<(&str, &str, u32)> {
    let pe = bin.pe.as_ref()?;
    pe.debug.iter().find_map(|d| Some((d.pdb_path.as_deref()?, d.guid.as_deref()?, d.age?)))
}

/// Where to look for `image`'s PDB, in order: the CodeView path as named, then a file of its name
/// beside the image (both spellings of the separator taken).
pub fn candidates(image: &Path, bin: &Binary) -> Vec<PathBuf> {
    let Some((path, _, _)) = codeview(bin) else { return Vec::new() };
    let mut out = Vec::new();
    if !path.is_empty() {
        out.push(PathBuf::from(path));
    }
    if let Some(name) = path.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()) {
        let beside = image.parent().unwrap_or(Path::new(".")).join(name);
        if !out.contains(&beside) {
            out.push(beside);
        }
    }
    out
}

/// Find and load `image`'s PDB as `choice` says; the image's section RVAs place its addresses.
pub fn load(image: &Path, bin: &Binary, choice: &PdbChoice) -> PdbOutcome {
    let mut outcome = PdbOutcome::default();
    let path = match &choice.file {
        Some(f) => f.clone(),
        None if choice.auto => match candidates(image, bin).into_iter().find(|p| p.is_file()) {
            Some(p) => p,
            None => return outcome, // no PDB: nothing to say
        },
        None => return outcome,
    };
    let data = match crate::input::Input::open(&path) {
        Ok(d) => d,
        Err(e) => {
            outcome.notes.push(format!("PDB {}: {e}", path.display()));
            return outcome;
        }
    };
    let note = |e: PdbError| format!("PDB {}: {e}", path.display());
    let pdb = match Pdb::new(&data) {
        Ok(p) => p,
        Err(e) => {
            outcome.notes.push(note(e));
            return outcome;
        }
    };
    let (guid, age) = match pdb.identity() {
        Ok(id) => id,
        Err(e) => {
            outcome.notes.push(note(e));
            return outcome;
        }
    };
    let matches = codeview(bin).is_some_and(|(_, g, a)| g.eq_ignore_ascii_case(&guid) && a == age);
    if !matches {
        let image_id = codeview(bin).map_or_else(|| "no CodeView entry".into(), |(_, g, a)| format!("{g} age {a}"));
        let used = if choice.mismatch_ok { "used all the same (--pdb-mismatch-ok)" } else { "not used" };
        outcome.notes.push(format!(
            "PDB {} does not match the image (PDB {guid} age {age}, image {image_id}): {used}",
            path.display()
        ));
        if !choice.mismatch_ok {
            return outcome;
        }
    }
    let sections: Vec<u64> = bin.sections.iter().map(|s| s.rva).collect();
    let mut loaded = LoadedPdb::default();
    loaded.header = Some(PdbHeader { path: path.display().to_string(), guid, age, matches });
    match pdb.modules() {
        Ok(m) => loaded.modules = m,
        Err(e) => outcome.notes.push(note(e)),
    }
    match pdb.contributions(&sections, &loaded.modules) {
        Ok(c) => loaded.contributions = c,
        Err(e) => outcome.notes.push(note(e)),
    }
    match pdb.publics(&sections) {
        Ok(p) => loaded.publics = p,
        Err(e) => outcome.notes.push(note(e)),
    }
    match pdb.procedures(&sections, &loaded.modules) {
        Ok(m) => {
            loaded.procedures = m.procedures;
            loaded.data = m.data;
            outcome.notes.extend(m.failed.into_iter().map(|f| format!("PDB {}: {f}", path.display())));
        }
        Err(e) => outcome.notes.push(note(e)),
    }
    outcome.pdb = Some(loaded);
    outcome
}

/// The PDB's names as symbols of the image, so every place that names an address by a symbol
/// (labels, operands, `refs`' `symbol`, `disasm --symbol`) names it by them: each public (its
/// size the procedure's at the same address), then each procedure and variable no public names
/// (statics).
pub fn symbols(pdb: &LoadedPdb, bin: &Binary) -> Vec<Symbol> {
    let mut procs: Vec<(u16, u32, u32, bool)> =
        pdb.procedures.iter().map(|p| (p.section, p.offset, p.length, p.global)).collect();
    procs.sort_unstable();
    let length_at = |sec: u16, off: u32| {
        let i = procs.partition_point(|p| (p.0, p.1) < (sec, off));
        procs.get(i).filter(|p| (p.0, p.1) == (sec, off)).map(|p| u64::from(p.2))
    };
    let valid = |sec: u16| usize::from(sec) >= 1 && usize::from(sec) <= bin.sections.len();
    let index_of = |sec: u16| usize::from(sec).checked_sub(1).and_then(|i| bin.sections.get(i)).map(|s| s.index);
    let mut publics: Vec<(u16, u32)> = Vec::new();
    let mut out = Vec::new();
    let next = bin.symbols.len() as u32;
    let mut push =
        |name: &str, demangled: Option<String>, sec: u16, off: u32, size: Option<u64>, function: bool, global: bool| {
            out.push(Symbol {
                index: next + out.len() as u32,
                name: name.to_string(),
                demangled,
                value: u64::from(off),
                size,
                section: index_of(sec),
                section_kind: None,
                kind: if function { SymbolKind::Function } else { SymbolKind::Data },
                binding: if global { Binding::External } else { Binding::Static },
                raw_type: if function { 0x20 } else { 0 },
                aux_count: 0,
                aux: Vec::new(),
                span: Span::new(0, 0),
            });
        };
    for p in pdb.publics.iter().filter(|p| valid(p.section)) {
        let size = length_at(p.section, p.offset);
        push(&p.name, p.demangled.clone(), p.section, p.offset, size, p.function || size.is_some(), true);
        publics.push((p.section, p.offset));
    }
    publics.sort_unstable();
    for p in pdb.procedures.iter().filter(|p| valid(p.section)) {
        if publics.binary_search(&(p.section, p.offset)).is_err() {
            push(&p.name, None, p.section, p.offset, Some(u64::from(p.length)), true, p.global);
            publics.insert(publics.partition_point(|q| *q < (p.section, p.offset)), (p.section, p.offset));
        }
    }
    for d in pdb.data.iter().filter(|d| valid(d.section)) {
        if publics.binary_search(&(d.section, d.offset)).is_err() {
            push(&d.name, None, d.section, d.offset, None, false, d.global);
            publics.insert(publics.partition_point(|q| *q < (d.section, d.offset)), (d.section, d.offset));
        }
    }
    out
}
