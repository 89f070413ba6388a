//! Reading input files read-only: the CLI memory-maps them (a 100 MB DLL is not copied), the GUI
//! reads them into memory. Inputs are never written.

use std::fs::File;
use std::ops::Deref;
use std::path::Path;

/// The bytes of an input file.
pub enum Input {
    /// A read-only memory map.
    Mapped(memmap2::Mmap),
    /// Bytes read into memory.
    Owned(Vec<u8>),
}

impl Input {
    /// Map `path` read-only, falling back to reading it when it cannot be mapped (empty files,
    /// pipes, special files).
    ///
    /// A map shares the page cache with the file: if another program truncates the file while it
    /// is mapped, a read past the new end faults. That is acceptable for a short-lived command;
    /// long-lived holders (the GUI) use [`Input::read`].
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let f = File::open(path)?;
        let meta = f.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is read-only and private to this process; the only hazard is
            // concurrent truncation by another process, documented above.
            #[allow(unsafe_code)]
            if let Ok(m) = unsafe { memmap2::Mmap::map(&f) } {
                return Ok(Input::Mapped(m));
            }
        }
        Self::read(path)
    }

    /// Read `path` fully into memory.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Ok(Input::Owned(std::fs::read(path)?))
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Input({} bytes)", self.len())
    }
}

impl Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Owned(v) => v,
        }
    }
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename, so readers
/// never see a half-written file (and an existing file is replaced whole or not at all).
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| std::path::PathBuf::from("."), std::path::Path::to_path_buf);
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
