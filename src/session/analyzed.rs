//! One analysed file: its bytes, its model, the index, the data-reference scan and (built on first
//! use) the structure regions and the operand names. Built by one function for both faces, shared
//! as `Arc` with worker threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::analysis::labels::Labels;
use crate::analysis::listing::Names;
use crate::analysis::stream::{stream_sites, stream_sites_floored, SiteSource};
use crate::analysis::{scan_refs, RefOptions, Refs, Site};
use crate::input::Input;
use crate::model::index::Index;
use crate::model::regions::Regions;
use crate::model::Binary;
use crate::report::refs::ModuleJson;

use super::modules;
use super::pdb::LoadedPdb;

/// Why a file could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The bytes are no format linkscope reads.
    #[error("{}: {source}", path.display())]
    Load {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        source: crate::LoadError,
    },
}

/// How much of the scan to run when a file is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scan {
    /// No scan (the references stay empty).
    #[default]
    None,
    /// The summary counts only.
    Summary,
    /// Every site.
    Sites,
    /// Every site and the index of instruction starts (for a listing).
    Listing,
    /// No scan now, but the DLLs placed: the sites are scanned each time they are streamed
    /// (through [`SiteSource`]), never kept.
    OnDemand,
}

/// What to compute besides the model and the index.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The scan to run.
    pub scan: Scan,
    /// Worker threads of the scan (0 or 1: the calling thread).
    pub threads: usize,
    /// `--base NAME=ADDR` values placing imported DLLs (they win over the DLL's own file).
    pub bases: Vec<(String, u64)>,
    /// Smallest piece of code one scan worker takes (0: the scan's default; tests make it small).
    pub min_chunk: usize,
    /// Collect the direct calls and jumps ([`crate::analysis::Refs::branches`]; a listing scan
    /// always does).
    pub branches: bool,
    /// With [`Scan::Sites`]: keep only the sites this accepts (the summary counts them all).
    pub keep: Option<crate::analysis::SiteFilter>,
    /// With `branches`: keep only the calls and jumps to these RVAs (sorted).
    pub branch_targets: Option<Arc<[u32]>>,
    /// The PDB to name addresses by (none by default).
    pub pdb: super::pdb::PdbChoice,
}

impl Analysis {
    /// A scan of `scan` with `threads` workers, DLLs at their preferred bases.
    pub fn scan(scan: Scan, threads: usize) -> Self {
        Analysis { scan, threads, ..Analysis::default() }
    }
}

/// A file with everything the views and the commands read of it.
pub struct Analyzed {
    /// Where the file was read from.
    pub path: PathBuf,
    /// Its name as shown (file name, or `archive(member)`).
    pub name: String,
    /// The bytes (memory-mapped for the CLI, owned for the app); shared with a re-scan.
    pub data: Arc<Input>,
    /// The model; shared with a re-scan.
    pub bin: Arc<Binary>,
    /// The index of sections, addresses, imports and symbols; shared with a re-scan.
    pub index: Arc<Index>,
    /// The data-reference scan (empty when none was asked for).
    pub refs: Refs,
    /// Where the imported DLLs were placed for the scan's reach.
    pub modules: Vec<ModuleJson>,
    /// The PDB whose names were added to the model's symbols, when one was asked for and used.
    pub pdb: Option<Arc<LoadedPdb>>,
    /// What went wrong finding or reading the PDB (warnings; the file is analysed all the same).
    pub pdb_notes: Arc<[String]>,
    /// The scan's options, to stream the sites again when they were not kept.
    options: RefOptions,
    regions: OnceLock<Regions>,
    names: OnceLock<Arc<Names>>,
    labels: OnceLock<Arc<Labels>>,
    site_pages: OnceLock<Vec<SitePage>>,
    import_uses: OnceLock<Vec<u32>>,
    export_uses: OnceLock<Vec<u32>>,
    strings: OnceLock<crate::analysis::strings::Table>,
}

/// A 4 KiB page of an image holding sites that reach an import (for the layout map).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SitePage {
    /// The page's RVA.
    pub rva: u64,
    /// Sites in the page that reach an import.
    pub sites: u32,
    /// Those out of reach, ambiguous or wrapping.
    pub at_risk: u32,
    /// The first of them, as an index into the scan's sites.
    pub first: u32,
}

impl std::fmt::Debug for Analyzed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzed").field("path", &self.path).field("format", &self.bin.format).finish_non_exhaustive()
    }
}

impl Analyzed {
    /// Read and analyse `path` (memory-mapped); its imported DLLs are placed from the files beside it.
    pub fn open(path: &Path, analysis: &Analysis) -> Result<Self, OpenError> {
        let data = Input::open(path).map_err(|source| OpenError::Read { path: path.to_path_buf(), source })?;
        Self::from_input(path.to_path_buf(), display_name(path), data, analysis)
    }

    /// Analyse bytes already read: `path` is where they came from (its folder is searched for the
    /// imported DLLs), `name` what to call them.
    pub fn from_input(path: PathBuf, name: String, data: Input, analysis: &Analysis) -> Result<Self, OpenError> {
        let bin = crate::load(&data).map_err(|source| OpenError::Load { path: path.clone(), source })?;
        Ok(Self::from_parts(path, name, data, bin, analysis))
    }

    /// Analyse a file already parsed.
    /// With a PDB asked for ([`Analysis::pdb`]), its publics and procedures join the model's
    /// symbols before the index is built (see [`super::pdb::symbols`]), and what went wrong
    /// finding or reading it joins the diagnostics (and [`Analyzed::pdb_notes`]).
    pub fn from_parts(path: PathBuf, name: String, data: Input, mut bin: Binary, analysis: &Analysis) -> Self {
        let outcome =
            if analysis.pdb.wanted() { super::pdb::load(&path, &bin, &analysis.pdb) } else { Default::default() };
        if let Some(p) = &outcome.pdb {
            let syms = super::pdb::symbols(p, &bin);
            bin.symbols.extend(syms);
        }
        // The notes are the file's diagnostics too (the app's Diagnostics view shows them).
        for n in &outcome.notes {
            bin.diag(crate::model::Severity::Warning, crate::model::Location::both(None, None), n.clone());
        }
        let index = Index::new(&bin);
        let mut a = Self::scanned(path, name, Arc::new(data), Arc::new(bin), Arc::new(index), analysis);
        a.pdb = outcome.pdb.map(Arc::new);
        a.pdb_notes = outcome.notes.into();
        a
    }

    /// The same file scanned again with other DLL placements (`analysis.bases`): bytes, model and
    /// index are shared, the scan and the placements are new.
    pub fn rescan(&self, analysis: &Analysis) -> Self {
        let (data, bin, index) = (self.data.clone(), self.bin.clone(), self.index.clone());
        let mut a = Self::scanned(self.path.clone(), self.name.clone(), data, bin, index, analysis);
        a.pdb = self.pdb.clone();
        a.pdb_notes = self.pdb_notes.clone();
        a
    }

    fn scanned(
        path: PathBuf,
        name: String,
        data: Arc<Input>,
        bin: Arc<Binary>,
        index: Arc<Index>,
        analysis: &Analysis,
    ) -> Self {
        let scan = analysis.scan;
        let (placements, modules) = match scan {
            Scan::None => (Vec::new(), Vec::new()),
            _ => modules::placements(&modules::Folder::beside(&path), &bin, &analysis.bases),
        };
        let options = RefOptions {
            threads: analysis.threads,
            placements,
            collect: matches!(scan, Scan::Sites | Scan::Listing),
            instructions: scan == Scan::Listing,
            branches: scan == Scan::Listing || analysis.branches,
            keep: analysis.keep.clone(),
            branch_targets: analysis.branch_targets.clone(),
            min_chunk: analysis.min_chunk,
        };
        let refs = match scan {
            Scan::None | Scan::OnDemand => Refs::default(),
            _ => scan_refs(&bin, &data, &index, &options),
        };
        Analyzed {
            path,
            name,
            data,
            bin,
            index,
            refs,
            modules,
            pdb: None,
            pdb_notes: Arc::from([]),
            options,
            regions: OnceLock::new(),
            names: OnceLock::new(),
            labels: OnceLock::new(),
            site_pages: OnceLock::new(),
            import_uses: OnceLock::new(),
            export_uses: OnceLock::new(),
            strings: OnceLock::new(),
        }
    }

    /// Which structure and field covers each byte (built on first use).
    pub fn regions(&self) -> &Regions {
        self.regions.get_or_init(|| Regions::new(&self.bin, &self.index))
    }

    /// Names for operands, code addresses named by [`Analyzed::labels`] (built on first use).
    pub fn names(&self) -> &Arc<Names> {
        self.names.get_or_init(|| Arc::new(Names::new(&self.bin, &self.index, Some(self.labels()))))
    }

    /// The labels of the code (built on first use): the call targets come from the scan when it
    /// collected them (a listing scan), else from a scan of the code that collects only them.
    pub fn labels(&self) -> &Arc<Labels> {
        self.labels.get_or_init(|| {
            let calls = if self.options.branches {
                self.refs.call_targets()
            } else {
                let o = RefOptions { threads: self.options.threads, branches: true, ..RefOptions::default() };
                scan_refs(&self.bin, &self.data, &self.index, &o).call_targets()
            };
            Arc::new(Labels::new(&self.bin, &self.data, &self.index, &calls))
        })
    }

    /// The pages of an image holding sites that reach an import, in address order (none for
    /// objects; built on first use).
    pub fn site_pages(&self) -> &[SitePage] {
        self.site_pages.get_or_init(|| {
            let mut pages: Vec<SitePage> = Vec::new();
            if crate::model::index::is_object(&self.bin) {
                return pages;
            }
            for (row, s) in self.refs.sites.iter().enumerate().filter(|(_, s)| s.import.is_some()) {
                let rva = s.field_rva & !0xfff;
                let bad = u32::from(s.reachable == Some(false) || s.ambiguous || s.wraps);
                match pages.last_mut() {
                    Some(p) if p.rva == rva => {
                        p.sites += 1;
                        p.at_risk += bad;
                    }
                    _ => pages.push(SitePage { rva, sites: 1, at_risk: bad, first: row as u32 }),
                }
            }
            pages
        })
    }

    /// For each import row, how many of the kept sites reach it (their true import: through a
    /// pseudo-relocation, or the IAT slot itself); all 0 when the sites were not kept.
    pub fn import_uses(&self) -> &[u32] {
        self.import_uses.get_or_init(|| {
            let mut v = vec![0u32; self.index.imports.len()];
            for s in &self.refs.sites {
                if let Some(crate::analysis::ImportRef::Row(r)) = s.import {
                    if let Some(c) = v.get_mut(r as usize) {
                        *c += 1;
                    }
                }
            }
            v
        })
    }

    /// For each export, how many of the kept sites reference it: their target lies in it (the
    /// export is the nearest at or below, within [`crate::analysis::xref::extent`]) or is its
    /// address (all 0 when the sites were not kept).
    pub fn export_uses(&self) -> &[u32] {
        self.export_uses.get_or_init(|| {
            let exports = &self.bin.exports;
            // Exports by address (aliases share one).
            let mut by_rva: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
            for (i, e) in exports.iter().enumerate().filter(|(_, e)| e.forwarder.is_none()) {
                by_rva.entry(e.rva).or_default().push(i);
            }
            let extents: Vec<Option<u64>> = (0..exports.len() as u32)
                .map(|i| crate::analysis::xref::extent(&self.bin, crate::analysis::SymRef::Export(i)))
                .collect();
            let mut v = vec![0u32; exports.len()];
            for s in &self.refs.sites {
                let named = match s.symbol {
                    Some(crate::analysis::SymRef::Export(i))
                        if crate::analysis::xref::inside(&s, extents.get(i as usize).copied().flatten()) =>
                    {
                        Some(i as usize)
                    }
                    _ => None,
                };
                let at = s.target_rva.and_then(|t| by_rva.get(&t)).map_or(&[][..], Vec::as_slice);
                for i in named.into_iter().chain(at.iter().copied().filter(|&a| Some(a) != named)) {
                    if let Some(c) = v.get_mut(i) {
                        *c += 1;
                    }
                }
            }
            v
        })
    }

    /// The strings of the sections (at least 4 characters) with the kept sites that reference
    /// each (built on first use).
    pub fn strings(&self) -> &crate::analysis::strings::Table {
        self.strings.get_or_init(|| crate::analysis::strings::Table::new(&self.bin, &self.data, 4, &self.refs.sites))
    }

    /// The strings, when [`Analyzed::strings`] has found them.
    pub fn strings_found(&self) -> Option<&crate::analysis::strings::Table> {
        self.strings.get()
    }

    /// Lower-case file name, for matching an import's DLL name.
    pub fn file_name_lower(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_else(|| self.name.to_ascii_lowercase())
    }
}

impl SiteSource for Analyzed {
    /// The kept sites, or (a summary scan, or none) the scan run again with the same placements
    /// and threads, its sites streamed without being kept.
    fn each_piece<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        sink: impl FnMut(T) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.each_piece_counted(work, sink).map(|_| ())
    }

    /// A streamed scan also counts: the summary of an [`Scan::OnDemand`] file.
    fn each_piece_counted<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        sink: impl FnMut(T) -> std::io::Result<()>,
    ) -> std::io::Result<Option<crate::analysis::stream::Totals>> {
        if self.options.collect {
            self.refs.sites.each_piece(work, sink).map(|()| None)
        } else {
            stream_sites(&self.bin, &self.data, &self.index, &self.options, work, sink).map(Some)
        }
    }

    fn threads(&self) -> usize {
        self.options.threads.max(1)
    }

    fn each_piece_floored<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        sink: impl FnMut(T, u64) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if self.options.collect {
            self.refs.sites.each_piece_floored(work, sink)
        } else {
            stream_sites_floored(&self.bin, &self.data, &self.index, &self.options, work, sink).map(|_| ())
        }
    }
}

/// The name shown for `path`: its file name.
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}
