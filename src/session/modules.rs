//! Where the modules an image imports come from: "give me the module this importer names".
//!
//! [`ModuleSource`] answers by name; [`Folder`] looks beside the image (the CLI, and the app for
//! files that are not open), [`Open`] among the app's open documents. [`gather`] collects the
//! modules a plan loads: the ones given (`--dll`), then, for every imported name not among them,
//! the first source that has it. [`placements`] places the imported DLLs for the scan's reach.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analysis::reach::Placement;
use crate::input::Input;
use crate::model::Binary;
use crate::patch::{self, DllInput};
use crate::report::refs::ModuleJson;

use super::analyzed::{Analyzed, OpenError};

/// A module to load beside an image: an analysed file already open, or a file read for this.
#[derive(Debug, Clone)]
pub enum Module {
    /// An open, analysed file (the app's documents).
    Open(Arc<Analyzed>),
    /// A file read and parsed for this purpose.
    Read(Arc<ReadModule>),
}

/// A module file read and parsed (no scan).
#[derive(Debug)]
pub struct ReadModule {
    /// Where it was read from, as shown.
    pub path: String,
    /// Its bytes.
    pub data: Input,
    /// Its model.
    pub bin: Binary,
}

impl Module {
    /// Read and parse `path`.
    pub fn read(path: &Path) -> Result<Self, OpenError> {
        let data = Input::open(path).map_err(|source| OpenError::Read { path: path.to_path_buf(), source })?;
        let bin = crate::load(&data).map_err(|source| OpenError::Load { path: path.to_path_buf(), source })?;
        Ok(Module::Read(Arc::new(ReadModule { path: path.display().to_string(), data, bin })))
    }

    /// The model.
    pub fn bin(&self) -> &Binary {
        match self {
            Module::Open(a) => &a.bin,
            Module::Read(r) => &r.bin,
        }
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        match self {
            Module::Open(a) => &a.data,
            Module::Read(r) => &r.data,
        }
    }

    /// The path as shown.
    pub fn path(&self) -> String {
        match self {
            Module::Open(a) => a.path.display().to_string(),
            Module::Read(r) => r.path.clone(),
        }
    }
}

/// Answers "the module imported as `name`".
pub trait ModuleSource {
    /// The module imported as `name` (compared case-insensitively), if this source has it.
    fn find(&self, name: &str) -> Option<Module>;
}

/// The files in one folder (the image's own).
#[derive(Debug, Clone)]
pub struct Folder {
    /// The folder.
    pub dir: PathBuf,
}

impl Folder {
    /// The folder holding `image` (the current folder for a bare file name).
    pub fn beside(image: &Path) -> Self {
        let dir = image.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Folder { dir: dir.to_path_buf() }
    }

    /// The file named `name` in the folder, matched case-insensitively.
    pub fn file(&self, name: &str) -> Option<PathBuf> {
        let want = name.to_ascii_lowercase();
        std::fs::read_dir(&self.dir)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().to_ascii_lowercase() == want)
            .map(|e| e.path())
    }
}

impl ModuleSource for Folder {
    fn find(&self, name: &str) -> Option<Module> {
        Module::read(&self.file(name)?).ok()
    }
}

/// Analysed files already open (the app's documents), matched by file name.
#[derive(Debug, Clone, Default)]
pub struct Open(pub Vec<Arc<Analyzed>>);

impl ModuleSource for Open {
    fn find(&self, name: &str) -> Option<Module> {
        let want = name.to_ascii_lowercase();
        self.0.iter().find(|a| a.file_name_lower() == want).map(|a| Module::Open(a.clone()))
    }
}

/// The modules a plan for `bin` loads: every module `given`, then for each name `bin` imports
/// that none of them is, the first of `sources` that has it (in import order).
pub fn gather(bin: &Binary, given: Vec<Module>, sources: &[&dyn ModuleSource]) -> Vec<Module> {
    let mut out = given;
    for name in patch::load::imported_names(bin) {
        let have = out.iter().any(|m| {
            let path = m.path();
            patch::load::dll_name_matches(&DllInput { path: &path, data: &[], bin: m.bin() }, &name)
        });
        if have {
            continue;
        }
        if let Some(m) = sources.iter().find_map(|s| s.find(&name)) {
            out.push(m);
        }
    }
    out
}

/// Place every DLL `bin` imports (and delay-imports) for the scan's reach: a base in `bases`
/// first, else the preferred base of the module `source` has; the rest stay unknown.
pub fn placements(
    source: &dyn ModuleSource,
    bin: &Binary,
    bases: &[(String, u64)],
) -> (Vec<Placement>, Vec<ModuleJson>) {
    let mut names: Vec<String> = Vec::new();
    for m in bin.imports.iter().chain(&bin.delay_imports) {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&m.dll)) {
            names.push(m.dll.clone());
        }
    }
    let mut out = Vec::new();
    let mut modules = Vec::new();
    for name in names {
        let given = bases.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)).map(|&(_, b)| b);
        match (source.find(&name), given) {
            (Some(m), _) => {
                let p = Placement::from_dll(&name, m.bin(), given);
                modules.push(ModuleJson {
                    name: name.clone(),
                    base: Some(p.base),
                    source: if given.is_some() { "given" } else { "file" },
                    path: Some(m.path()),
                });
                out.push(p);
            }
            (None, Some(b)) => {
                modules.push(ModuleJson { name: name.clone(), base: Some(b), source: "given", path: None });
                out.push(Placement::from_base(&name, b));
            }
            (None, None) => modules.push(ModuleJson { name, base: None, source: "unknown", path: None }),
        }
    }
    (out, modules)
}
