//! Process memory as the faces open it: a dump file (minidump or ELF core, gzip accepted) or a
//! running process ([`super::process`]), its modules' files found on disk, and the module an
//! image is found as.

use std::path::{Path, PathBuf};

use crate::formats::dump::{self as fd, DumpError};
use crate::input::Input;
use crate::model::dump::{DumpModule, MemoryError, ProcessDump};
use crate::model::memory::ModuleMemory;

use super::modules::{Module, ModuleSource};

/// A dump file that could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DumpOpenError {
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a dump this build reads, or is damaged.
    #[error("{path}: {source}")]
    Dump {
        /// The file.
        path: PathBuf,
        /// Why.
        source: DumpError,
    },
}

/// The bytes of a dump: the file mapped, or gunzipped into memory.
enum Bytes {
    Mapped(Input),
    Gunzipped(Vec<u8>),
}

/// A dump file, read.
pub struct OpenedDump {
    /// The file.
    pub path: PathBuf,
    bytes: Bytes,
    /// Its modules and memory.
    pub dump: ProcessDump,
}

/// The first bytes of `path`, gunzipped when it is gzip (for sniffing; at most 64).
fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut b = vec![0u8; 64];
    let n = f.read(&mut b)?;
    b.truncate(n);
    if fd::is_gzip(&b) {
        let f = std::fs::File::open(path)?;
        let mut out = Vec::new();
        // A damaged stream gives fewer bytes (and no kind): the raw-dump path reports it.
        let _ = flate2::read::GzDecoder::new(f).take(64).read_to_end(&mut out);
        return Ok(out);
    }
    Ok(b)
}

/// Whether `path` is a minidump or an ELF core (gzip or not); a read error says no (the caller
/// reports it when it reads the file as a raw dump).
pub fn is_dump(path: &Path) -> bool {
    head(path).is_ok_and(|h| fd::sniff(&h).is_some())
}

impl OpenedDump {
    /// Read the dump at `path` (mapped; a gzip one decompressed, at most
    /// [`fd::MAX_GUNZIPPED`] bytes).
    pub fn open(path: &Path) -> Result<Self, DumpOpenError> {
        let read = |source| DumpOpenError::Read { path: path.to_path_buf(), source };
        let dump_err = |source| DumpOpenError::Dump { path: path.to_path_buf(), source };
        let input = Input::open(path).map_err(read)?;
        let bytes = if fd::is_gzip(&input) {
            Bytes::Gunzipped(fd::gunzip(&input, fd::MAX_GUNZIPPED).map_err(dump_err)?)
        } else {
            Bytes::Mapped(input)
        };
        let data: &[u8] = match &bytes {
            Bytes::Mapped(i) => i,
            Bytes::Gunzipped(v) => v,
        };
        let dump = fd::read(data).map_err(dump_err)?;
        Ok(OpenedDump { path: path.to_path_buf(), bytes, dump })
    }

    /// The dump's bytes.
    pub fn data(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Mapped(i) => i,
            Bytes::Gunzipped(v) => v,
        }
    }

    /// The memory of `size` bytes from `base` (a module's: see [`ProcessDump::module_memory`]).
    pub fn memory(&self, base: u64, size: u64) -> Result<ModuleMemory<'_>, MemoryError> {
        self.dump.module_memory(self.data(), base, size)
    }

    /// Where a module's file is: its recorded path when that file exists, else a file of its
    /// name beside the dump.
    pub fn module_file(&self, m: &DumpModule) -> Option<PathBuf> {
        module_file(m, self.path.parent())
    }

    /// The file of the process's executable: a core's first module (the lowest mapping of a
    /// file at offset 0) when its file is at hand; None for a minidump.
    pub fn executable(&self) -> Option<PathBuf> {
        if self.dump.format != crate::model::dump::DumpFormat::ElfCore {
            return None;
        }
        self.module_file(self.dump.modules.first()?)
    }

    /// The modules' files as a source of DLLs (by the name imported), a PE module whose file
    /// is not at hand read from its image in the dump.
    pub fn files(&self) -> DumpFiles<'_> {
        DumpFiles {
            modules: self.dump.modules.clone(),
            beside: self.path.parent().map(Path::to_path_buf),
            memory: Some(self),
        }
    }
}

/// Where `m`'s file is: its path when it exists, else its name in `beside`.
pub fn module_file(m: &DumpModule, beside: Option<&Path>) -> Option<PathBuf> {
    let p = Path::new(&m.path);
    if !m.path.contains('\\') && p.is_absolute() && p.is_file() {
        return Some(p.to_path_buf());
    }
    let dir = beside.filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    super::Folder { dir: dir.to_path_buf() }.file(&m.name)
}

/// A source of a module's memory image (a dump, a process).
pub trait ModuleImage {
    /// The module's memory from its base, when every byte of it is held.
    fn module_image(&self, m: &DumpModule) -> Option<Vec<u8>>;
}

impl ModuleImage for OpenedDump {
    fn module_image(&self, m: &DumpModule) -> Option<Vec<u8>> {
        let mem = self.memory(m.base, m.size).ok()?;
        (mem.not_held() == 0).then(|| mem.bytes.into_owned())
    }
}

impl ModuleImage for super::process::Process {
    fn module_image(&self, m: &DumpModule) -> Option<Vec<u8>> {
        let mem = self.memory(m.base, m.size).ok()?;
        (mem.not_held() == 0).then(|| mem.bytes.into_owned())
    }
}

/// The files of a process's modules, found by the name an image imports; a PE module whose
/// file is not at hand is read from its image in memory (section data where it was mapped), so
/// its exports bind the importer's slots.
#[derive(Clone)]
pub struct DumpFiles<'a> {
    /// The modules.
    pub modules: Vec<DumpModule>,
    /// The folder to look in when a recorded path does not exist here.
    pub beside: Option<PathBuf>,
    /// Where the modules' memory images are (None: files only).
    pub memory: Option<&'a dyn ModuleImage>,
}

impl ModuleSource for DumpFiles<'_> {
    fn find(&self, name: &str) -> Option<Module> {
        let want = name.to_ascii_lowercase();
        let m = self.modules.iter().find(|m| m.name.to_ascii_lowercase() == want)?;
        if let Some(f) = module_file(m, self.beside.as_deref()) {
            return Module::read(&f).ok();
        }
        let image = self.memory?.module_image(m)?;
        let file = fd::pe_file_from_memory(image)?;
        let bin = crate::load(&file).ok()?;
        let path = format!("(its image in the dump) {}", m.path);
        Some(Module::Read(std::sync::Arc::new(super::modules::ReadModule { path, data: Input::Owned(file), bin })))
    }
}

/// How a module was found in a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// By the name asked for (`--module`).
    Name,
    /// By the image's file name.
    FileName,
    /// By its headers (PE: TimeDateStamp and SizeOfImage; ELF: the ELF and program headers).
    Headers,
}

/// Why no module was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    /// No module has the name asked for.
    #[error("no module named {0} in the process (inspect lists them)")]
    NoSuchName(String),
    /// Neither the image's name nor its headers match a module.
    #[error("no module of the process is named {0} or has its headers; name it with --module")]
    NotFound(String),
}

/// The module `image` (its file bytes, named `image_name`) is in `dump`: by `name` when given,
/// else by the image's file name, else the first whose memory starts with the image's headers
/// (`memory(base, size)` reads a module's memory; a first page not wholly held is not compared).
pub fn find_module<'d, 'm>(
    dump: &'d ProcessDump,
    name: Option<&str>,
    image_name: &str,
    image: &[u8],
    memory: &dyn Fn(u64, u64) -> Option<ModuleMemory<'m>>,
) -> Result<(&'d DumpModule, FoundBy), FindError> {
    let first_page = |m: &DumpModule| {
        let mem = memory(m.base, m.size.min(0x1000))?;
        mem.holds(0, mem.len() as u64).then(|| mem.bytes.into_owned())
    };
    if let Some(n) = name {
        return dump.module(n).map(|m| (m, FoundBy::Name)).ok_or_else(|| FindError::NoSuchName(n.to_string()));
    }
    if let Some(m) = dump.module(image_name) {
        return Ok((m, FoundBy::FileName));
    }
    let want = header_fields(image);
    if !want.is_empty() {
        for m in &dump.modules {
            if let Some(page) = first_page(m) {
                if header_fields(&page) == want {
                    return Ok((m, FoundBy::Headers));
                }
            }
        }
    }
    Err(FindError::NotFound(image_name.to_string()))
}

/// The header bytes that identify an image in memory: PE: TimeDateStamp and SizeOfImage; ELF:
/// the ELF header and the program headers (mapped from the file unchanged). Empty when `b` is
/// neither.
fn header_fields(b: &[u8]) -> Vec<u8> {
    let u32_at = |o: usize| b.get(o..o + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let u16_at = |o: usize| b.get(o..o + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    if b.starts_with(b"MZ") {
        let Some(nt) = u32_at(0x3c).map(|v| v as usize) else { return Vec::new() };
        if b.get(nt..nt + 4) != Some(b"PE\0\0") {
            return Vec::new();
        }
        let (Some(ts), Some(size)) = (u32_at(nt + 8), u32_at(nt + 24 + 56)) else { return Vec::new() };
        return [ts.to_le_bytes(), size.to_le_bytes()].concat();
    }
    if b.starts_with(b"\x7fELF") && b.get(5) == Some(&1) {
        let is_64 = b.get(4) == Some(&2);
        let (phoff, phent, phnum) = if is_64 {
            (b.get(0x20..0x28).map(|x| u64::from_le_bytes(x.try_into().unwrap_or([0; 8]))), u16_at(0x36), u16_at(0x38))
        } else {
            (u32_at(0x1c).map(u64::from), u16_at(0x2a), u16_at(0x2c))
        };
        let (Some(phoff), Some(phent), Some(phnum)) = (phoff, phent, phnum) else { return Vec::new() };
        let end = phoff.saturating_add(u64::from(phent) * u64::from(phnum)).min(0x1000) as usize;
        return b.get(..end).map(<[u8]>::to_vec).unwrap_or_default();
    }
    Vec::new()
}
