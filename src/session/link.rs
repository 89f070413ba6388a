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

/// Compare `rep` with the image file `image` and, when given, the map file `map`.
pub fn compare_files(rep: &Report, image: &Path, map: Option<&Path>) -> Result<Comparison, CompareFilesError> {
    let read = |p: &Path| std::fs::read(p).map_err(|source| CompareFilesError::Read { path: p.to_path_buf(), source });
    let bytes = read(image)?;
    let map = match map {
        Some(m) => {
            let text = read(m)?;
            Some(
                map::parse(&String::from_utf8_lossy(&text))
                    .map_err(|source| CompareFilesError::Map { path: m.to_path_buf(), source })?,
            )
        }
        None => None,
    };
    Ok(compare::compare(rep, &bytes, map.as_ref())?)
}
