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
}

impl LoadedPdb {
    /// The contribution holding `rva` (the first in the PDB's order; size-0 ones hold nothing).
    pub fn contribution_at(&self, rva: u64) -> Option<&PdbContribution> {
        self.contributions.iter().find(|c| c.rva.is_some_and(|r| r <= rva && rva - r < u64::from(c.size)))
    }
}
