//! What a PDB says about an image, as plain values: its identity, publics, procedures, modules
//! and section contributions. Field names are the JSON contract of `inspect --only pdb` and
//! `--only contributions`.

use serde::Serialize;

/// The PDB used for an image: where it was found and whether it is the image's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdbHeader {
    /// The file read.
    pub path: String,
    /// The PDB's GUID (`XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`, as the image's CodeView entry).
    pub guid: String,
    /// The PDB's age.
    pub age: u32,
    /// Whether GUID and age equal the image's CodeView (`RSDS`) entry.
    pub matches: bool,
}

/// A public symbol (`S_PUB32`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdbPublic {
    /// RVA: the image section's address plus the offset (absent when the section is not one of
    /// the image's).
    pub rva: Option<u64>,
    /// The name as stored (mangled).
    pub name: String,
    /// The demangled name, when the stored one is mangled.
    pub demangled: Option<String>,
    /// Section number as stored (1-based).
    #[serde(skip)]
    pub section: u16,
    /// Offset in the section as stored.
    #[serde(skip)]
    pub offset: u32,
    /// Whether the record flags it as a function.
    #[serde(skip)]
    pub function: bool,
}

/// A procedure (`S_GPROC32` / `S_LPROC32`) of a module's symbols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdbProcedure {
    /// RVA (absent when the section is not one of the image's).
    pub rva: Option<u64>,
    /// Length of its code in bytes.
    pub length: u32,
    /// The name as stored (CodeView procedure names are not mangled: `Rect::area`).
    pub name: String,
    /// The module's name (object path) it came from.
    pub module: String,
    /// Section number as stored (1-based).
    #[serde(skip)]
    pub section: u16,
    /// Offset in the section as stored.
    #[serde(skip)]
    pub offset: u32,
    /// Whether it is global (`S_GPROC32`) rather than local (`S_LPROC32`).
    #[serde(skip)]
    pub global: bool,
}

/// A static or global variable (`S_LDATA32` / `S_GDATA32`) of a module's symbols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdbData {
    /// RVA (absent when the section is not one of the image's).
    pub rva: Option<u64>,
    /// The name as stored.
    pub name: String,
    /// The module's name it came from.
    pub module: String,
    /// Section number as stored (1-based).
    pub section: u16,
    /// Offset in the section as stored.
    pub offset: u32,
    /// Whether it is global (`S_GDATA32`) rather than static (`S_LDATA32`).
    pub global: bool,
}

/// A module (one object file of the link) of the DBI stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdbModule {
    /// The module name as stored (the object's path; for an archive member, its member name).
    pub module: String,
    /// The "obj file name" as stored (the archive for a member, else the object's path again).
    pub archive: String,
}

/// A section contribution: a run of the image that one module's input section filled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdbContribution {
    /// RVA (`section[section-1].VirtualAddress + offset`; absent when the section is not one of
    /// the image's, as the `* Linker *` module's placeholder with section 0xFFFF).
    pub rva: Option<u64>,
    /// Size in bytes as stored (size-0 contributions included).
    pub size: u32,
    /// Section number as stored (1-based).
    pub section: u16,
    /// The module's name as stored (absent when the module index names no module).
    pub module: Option<String>,
    /// The module's "obj file name" as stored (the archive of a member).
    pub archive: Option<String>,
    /// The input section's characteristics (`IMAGE_SCN_*`).
    pub characteristics: u32,
    /// The CRC the linker stored for the input section's bytes (lld-link: JamCRC).
    pub data_crc: u32,
    /// The module index as stored.
    #[serde(skip)]
    pub module_index: u32,
    /// Offset in the section as stored.
    #[serde(skip)]
    pub offset: u32,
}

/// The contributions that hold bytes, sorted by RVA and without overlaps: one binary search
/// finds the contribution of a byte (the hex tooltip, the diff's `object`, the layout map's
/// objects lane). Where two contributions overlap, the one that starts first keeps the shared
/// bytes (equal starts: the first in the PDB's order); size-0 ones and those without an RVA
/// hold nothing.
#[derive(Debug, Clone, Default)]
pub struct ContributionIndex {
    /// `(start, end, position in the PDB's list)`, sorted by start, disjoint.
    runs: Vec<(u64, u64, usize)>,
}

impl ContributionIndex {
    /// Index `list` (a PDB's contributions, in its order).
    pub fn new(list: &[PdbContribution]) -> Self {
        let mut all: Vec<(u64, u64, usize)> = list
            .iter()
            .enumerate()
            .filter_map(|(p, c)| {
                let rva = c.rva?;
                (c.size > 0).then(|| (rva, rva.saturating_add(u64::from(c.size)), p))
            })
            .collect();
        all.sort_unstable_by_key(|&(s, _, p)| (s, p));
        let mut runs: Vec<(u64, u64, usize)> = Vec::with_capacity(all.len());
        for (s, e, p) in all {
            let s = runs.last().map_or(s, |l| s.max(l.1));
            if s < e {
                runs.push((s, e, p));
            }
        }
        ContributionIndex { runs }
    }

    /// The runs: `(start RVA, end RVA, position in the PDB's list)`, in address order.
    pub fn runs(&self) -> &[(u64, u64, usize)] {
        &self.runs
    }

    /// The position (in the PDB's list) of the contribution holding `rva`, and the RVA where its
    /// run ends; else (`Err`) the RVA where the next run starts (`u64::MAX`: none follows).
    pub fn run_at(&self, rva: u64) -> Result<(usize, u64), u64> {
        let i = self.runs.partition_point(|r| r.0 <= rva);
        match i.checked_sub(1).and_then(|k| self.runs.get(k)) {
            Some(&(_, e, p)) if rva < e => Ok((p, e)),
            _ => Err(self.runs.get(i).map_or(u64::MAX, |r| r.0)),
        }
    }
}

/// A loaded PDB: everything the faces read of it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadedPdb {
    /// Where it was read from and whether it is the image's own.
    pub header: Option<PdbHeader>,
    /// The modules, in the DBI stream's order.
    pub modules: Vec<PdbModule>,
    /// The public symbols.
    pub publics: Vec<PdbPublic>,
    /// The procedures, by module.
    pub procedures: Vec<PdbProcedure>,
    /// The variables of the modules' symbols (statics no public names), by module.
    pub data: Vec<PdbData>,
    /// The section contributions, in the PDB's order.
    pub contributions: Vec<PdbContribution>,
    /// The contributions by RVA, built on first use.
    #[serde(skip)]
    by_rva: std::sync::OnceLock<ContributionIndex>,
}

impl LoadedPdb {
    /// The contributions by RVA (built once, on first use; `contributions` must not change
    /// after).
    pub fn by_rva(&self) -> &ContributionIndex {
        self.by_rva.get_or_init(|| ContributionIndex::new(&self.contributions))
    }

    /// The contribution holding `rva` (size-0 ones hold nothing; where two overlap, the one
    /// that starts first), by binary search.
    pub fn contribution_at(&self, rva: u64) -> Option<&PdbContribution> {
        self.by_rva().run_at(rva).ok().and_then(|(p, _)| self.contributions.get(p))
    }
}
