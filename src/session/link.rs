//! The files around a link: the map beside a linked image, and a prediction compared with an
//! image and a map read from disk.

use std::path::{Path, PathBuf};

use crate::link::compare::{self, Comparison};
use crate::link::map::{self, LinkMap};
use crate::link::Report;

/// The endings of the map files linkers write (`/lldmap`, `--Map`, `-Map`), in the order they are
/// looked for beside an image.
pub const MAP_EXTENSIONS: [&str; 3] = ["lldmap", "gnumap", "map"];

/// The map beside `image` (`NAME.lldmap`, `NAME.gnumap` or `NAME.map`): the first that parses.
pub fn map_beside(image: &Path) -> Option<LinkMap> {
    MAP_EXTENSIONS.iter().find_map(|ext| {
        let text = std::fs::read(image.with_extension(ext)).ok()?;
        map::parse(&String::from_utf8_lossy(&text)).ok()
    })
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareFilesError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The map is not one linkscope reads.
    #[error("{}: {source}", path.display())]
    Map {
        /// The map file.
        path: PathBuf,
        /// What the map reader said.
        source: map::MapError,
    },
    /// The image could not be compared.
    #[error(transparent)]
    Compare(#[from] compare::CompareError),
}

fn read(p: &Path) -> Result<Vec<u8>, CompareFilesError> {
    std::fs::read(p).map_err(|source| CompareFilesError::Read { path: p.to_path_buf(), source })
}

/// Read and parse a map file.
pub fn read_map(path: &Path) -> Result<LinkMap, CompareFilesError> {
    let text = read(path)?;
    map::parse(&String::from_utf8_lossy(&text))
        .map_err(|source| CompareFilesError::Map { path: path.to_path_buf(), source })
}

/// Compare `rep` with the image file `image` and the map file `map`, each when given (a map
/// alone compares its chunks; neither compares nothing).
pub fn compare_files(rep: &Report, image: Option<&Path>, map: Option<&Path>) -> Result<Comparison, CompareFilesError> {
    let map = map.map(read_map).transpose()?;
    match (image, map) {
        (Some(i), None) => {
            // No map: the image's PDB (lld-link /debug), when it has one that matches, is the
            // truth for every input section.
            let bytes = read(i)?;
            let mut c = compare::compare(rep, &bytes, None)?;
            if let Some(pdb) = pdb_beside(i, &bytes) {
                compare::compare_contributions(rep, &pdb.contributions, &mut c);
            }
            Ok(c)
        }
        (Some(i), m) => Ok(compare::compare(rep, &read(i)?, m.as_ref())?),
        (None, Some(m)) => Ok(compare::compare_map_only(rep, &m)),
        (None, None) => Ok(Comparison::default()),
    }
}

/// The image's own PDB (its CodeView path, or that name beside it; GUID and age matching).
fn pdb_beside(image: &Path, bytes: &[u8]) -> Option<crate::model::pdb::LoadedPdb> {
    let bin = crate::formats::load(bytes).ok()?;
    let choice = crate::session::pdb::PdbChoice { auto: true, ..Default::default() };
    crate::session::pdb::load(image, &bin, &choice).pdb
}

/// Whether a file starts like a linker input the simulation reads: an `ar` archive or a COFF
/// object (x64, x86, bigobj). OMF and ELF objects are not.
fn looks_linkable(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    if f.read_exact(&mut head).is_err() {
        return false;
    }
    let machine = u16::from_le_bytes([head[0], head[1]]);
    &head == b"!<arch>\n"
        || &head == b"!<thin>\n"
        || matches!(machine, 0x8664 | 0x14c)
        || head[..4] == [0, 0, 0xff, 0xff]
}

/// What sits in `dir` that a link can use: the linker inputs (`.obj`, `.o`, `.lib`, `.a` files
/// that start like a COFF object or an archive) and the map files ([`MAP_EXTENSIONS`]), each
/// sorted by name. An unreadable folder has none.
pub fn files_beside(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut inputs, mut maps) = (Vec::new(), Vec::new());
    let Ok(entries) = std::fs::read_dir(dir) else { return (inputs, maps) };
    for e in entries.flatten() {
        let p = e.path();
        if !p.is_file() {
            continue;
        }
        let ext = p.extension().map(|x| x.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if ["obj", "o", "lib", "a"].contains(&ext.as_str()) && looks_linkable(&p) {
            inputs.push(p);
        } else if MAP_EXTENSIONS.contains(&ext.as_str()) {
            maps.push(p);
        }
    }
    inputs.sort();
    maps.sort();
    (inputs, maps)
}

/// The environment a link run from `dir` (else the current directory) sees: `LIB` (lld-link's
/// further library directories) and the directory the link runs in (against which lld-link
/// makes the PDB path absolute).
pub fn environment(dir: Option<&Path>) -> crate::link::search::Environment {
    let cwd = std::env::current_dir().ok();
    let run_in = match (dir, &cwd) {
        (Some(d), Some(c)) if d.is_relative() => Some(c.join(d)),
        (Some(d), _) => Some(d.to_path_buf()),
        (None, c) => c.clone(),
    };
    crate::link::search::Environment { lib: std::env::var("LIB").ok(), cwd: run_in.map(|d| d.display().to_string()) }
}
