//! PDB reading through the `pdb2` crate (the maintained fork of getsentry's `pdb`): identity (GUID,
//! age), modules, publics, procedures and section contributions, each read when asked for.
//!
//! Hostile input: [`msf::check`] validates the container (header, page size, page count against
//! the file's length, the directory and every stream's pages) before the crate sees a byte; the
//! streams' contents are parsed by the crate, which returns errors for short reads. As a last
//! resort each read also runs under `catch_unwind`, so a panic the checks did not foresee becomes
//! a [`PdbError::Panicked`] instead of ending the program. Loops over records are bounded by the
//! stream sizes (every record consumes bytes) and by explicit caps.

pub mod msf;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pdb2::FallibleIterator;

use crate::model::pdb::{PdbContribution, PdbData, PdbModule, PdbProcedure, PdbPublic};

/// Most records of one kind kept (a hostile stream cannot grow the lists without bound).
const MAX_RECORDS: usize = 10_000_000;

/// Why a PDB (or a part of it) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdbError {
    /// The container failed the bounds checks.
    #[error("{0}")]
    Container(String),
    /// The reader crate refused a stream.
    #[error("{what}: {message}")]
    Stream {
        /// The part being read.
        what: &'static str,
        /// What the crate said.
        message: String,
    },
    /// The reader crate panicked (caught).
    #[error("{0}: the PDB reader failed on malformed data")]
    Panicked(&'static str),
}

/// What the modules' symbol streams hold that is read: procedures and variables, and the modules
/// whose symbols could not be read.
#[derive(Debug, Clone, Default)]
pub struct ModuleSymbols {
    /// The procedures, by module.
    pub procedures: Vec<PdbProcedure>,
    /// The variables, by module.
    pub data: Vec<PdbData>,
    /// `module NAME: what went wrong`, for each module skipped.
    pub failed: Vec<String>,
}

/// A PDB's bytes, validated, read part by part on request.
#[derive(Debug, Clone, Copy)]
pub struct Pdb<'a> {
    data: &'a [u8],
}

type Reader<'a> = pdb2::PDB<'a, Cursor<&'a [u8]>>;

fn stream(what: &'static str) -> impl Fn(pdb2::Error) -> PdbError {
    move |e| PdbError::Stream { what, message: e.to_string() }
}

/// `f` on a freshly opened reader, a panic caught.
fn with<'a, T>(
    data: &'a [u8],
    what: &'static str,
    f: impl FnOnce(&mut Reader<'a>) -> Result<T, PdbError>,
) -> Result<T, PdbError> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut pdb = pdb2::PDB::open(Cursor::new(data)).map_err(stream(what))?;
        f(&mut pdb)
    }))
    .unwrap_or(Err(PdbError::Panicked(what)))
}

/// The RVA of `section:offset`: the image section's address (1-based `section`) plus `offset`.
pub fn rva_of(section_rvas: &[u64], section: u16, offset: u32) -> Option<u64> {
    let s = usize::from(section).checked_sub(1)?;
    section_rvas.get(s)?.checked_add(u64::from(offset))
}

/// The GUID as the CodeView entry's text shows it.
fn guid_text(g: &impl std::fmt::Display) -> String {
    g.to_string().to_ascii_uppercase()
}

impl<'a> Pdb<'a> {
    /// Check `data`'s container; nothing else is read yet.
    pub fn new(data: &'a [u8]) -> Result<Self, PdbError> {
        msf::check(data).map_err(PdbError::Container)?;
        Ok(Pdb { data })
    }

    /// GUID (text) and age of the PDB information stream.
    pub fn identity(&self) -> Result<(String, u32), PdbError> {
        with(self.data, "PDB information stream", |p| {
            let info = p.pdb_information().map_err(stream("PDB information stream"))?;
            Ok((guid_text(&info.guid), info.age))
        })
    }

    /// The modules of the DBI stream, in order.
    pub fn modules(&self) -> Result<Vec<PdbModule>, PdbError> {
        with(self.data, "DBI modules", |p| {
            let dbi = p.debug_information().map_err(stream("DBI stream"))?;
            let mut it = dbi.modules().map_err(stream("DBI modules"))?;
            let mut out = Vec::new();
            while let Some(m) = it.next().map_err(stream("DBI modules"))? {
                if out.len() >= MAX_RECORDS {
                    break;
                }
                out.push(PdbModule {
                    module: m.module_name().into_owned(),
                    archive: m.object_file_name().into_owned(),
                });
            }
            Ok(out)
        })
    }

    /// The section contributions in the PDB's order (size-0 ones included); `section_rvas` are
    /// the image sections' RVAs in section-table order, `modules` from [`Pdb::modules`].
    pub fn contributions(&self, section_rvas: &[u64], modules: &[PdbModule]) -> Result<Vec<PdbContribution>, PdbError> {
        with(self.data, "section contributions", |p| {
            let dbi = p.debug_information().map_err(stream("DBI stream"))?;
            let mut it = dbi.section_contributions().map_err(stream("section contributions"))?;
            let mut out = Vec::new();
            while let Some(c) = it.next().map_err(stream("section contributions"))? {
                if out.len() >= MAX_RECORDS {
                    break;
                }
                let m = modules.get(c.module);
                out.push(PdbContribution {
                    rva: rva_of(section_rvas, c.offset.section, c.offset.offset),
                    size: c.size,
                    section: c.offset.section,
                    module: m.map(|m| m.module.clone()),
                    archive: m.map(|m| m.archive.clone()),
                    characteristics: c.characteristics.0,
                    data_crc: c.data_crc,
                    module_index: u32::try_from(c.module).unwrap_or(u32::MAX),
                    offset: c.offset.offset,
                });
            }
            Ok(out)
        })
    }

    /// The public symbols (`S_PUB32`) of the global symbol stream, in its order.
    pub fn publics(&self, section_rvas: &[u64]) -> Result<Vec<PdbPublic>, PdbError> {
        with(self.data, "public symbols", |p| {
            let table = p.global_symbols().map_err(stream("global symbols"))?;
            let mut it = table.iter();
            let mut out = Vec::new();
            while let Some(sym) = it.next().map_err(stream("global symbols"))? {
                if out.len() >= MAX_RECORDS {
                    break;
                }
                let Ok(pdb2::SymbolData::Public(s)) = sym.parse() else { continue };
                let name = s.name.to_string().into_owned();
                out.push(PdbPublic {
                    rva: rva_of(section_rvas, s.offset.section, s.offset.offset),
                    demangled: crate::demangle::demangle(&name),
                    name,
                    section: s.offset.section,
                    offset: s.offset.offset,
                    function: s.function,
                });
            }
            Ok(out)
        })
    }

    /// The procedures (`S_GPROC32`, `S_LPROC32` and their ID forms) and variables (`S_LDATA32`,
    /// `S_GDATA32`) of every module's symbols, by module then in the module's order. A module
    /// whose symbols cannot be read is skipped and named in [`ModuleSymbols::failed`].
    pub fn procedures(&self, section_rvas: &[u64], modules: &[PdbModule]) -> Result<ModuleSymbols, PdbError> {
        with(self.data, "procedures", |p| {
            let dbi = p.debug_information().map_err(stream("DBI stream"))?;
            let mut it = dbi.modules().map_err(stream("DBI modules"))?;
            let (mut out, mut data, mut failed) = (Vec::new(), Vec::new(), Vec::new());
            let mut i = 0usize;
            while let Some(m) = it.next().map_err(stream("DBI modules"))? {
                let name = modules.get(i).map_or_else(|| m.module_name().into_owned(), |m| m.module.clone());
                i += 1;
                let info = match p.module_info(&m) {
                    Ok(Some(info)) => info,
                    Ok(None) => continue,
                    Err(e) => {
                        failed.push(format!("module {name}: {e}"));
                        continue;
                    }
                };
                let mut syms = match info.symbols() {
                    Ok(s) => s,
                    Err(e) => {
                        failed.push(format!("module {name}: {e}"));
                        continue;
                    }
                };
                loop {
                    match syms.next() {
                        Ok(Some(sym)) => {
                            if out.len() + data.len() >= MAX_RECORDS {
                                break;
                            }
                            if let Ok(pdb2::SymbolData::Data(s)) = sym.parse() {
                                data.push(PdbData {
                                    rva: rva_of(section_rvas, s.offset.section, s.offset.offset),
                                    name: s.name.to_string().into_owned(),
                                    module: name.clone(),
                                    section: s.offset.section,
                                    offset: s.offset.offset,
                                    global: s.global,
                                });
                            } else if let Ok(pdb2::SymbolData::Procedure(s)) = sym.parse() {
                                out.push(PdbProcedure {
                                    rva: rva_of(section_rvas, s.offset.section, s.offset.offset),
                                    length: s.len,
                                    name: s.name.to_string().into_owned(),
                                    module: name.clone(),
                                    section: s.offset.section,
                                    offset: s.offset.offset,
                                    global: s.global,
                                });
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            failed.push(format!("module {name}: {e}"));
                            break;
                        }
                    }
                }
            }
            Ok(ModuleSymbols { procedures: out, data, failed })
        })
    }
}
