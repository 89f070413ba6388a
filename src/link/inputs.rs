//! The linker's inputs: COFF objects (bigobj too), read through [`crate::formats`], and archives
//! whose members are read when the simulation first needs them.

use std::collections::HashMap;
use std::sync::Arc;

use object::read::archive::ArchiveFile;

pub use crate::input::Input as FileBytes;

use crate::formats::coff::header::scn;
use crate::formats::coff::lean::{LeanObject, LeanReloc, LeanSection};
use crate::model::{Format, Severity};

/// Most members read from one archive.
const MAX_MEMBERS: usize = 1 << 20;

/// One object file taking part in the link (a command-line object or an extracted member).
#[derive(Debug)]
pub struct Obj {
    /// Name as the JSON gives it: `a.obj`, or `lib.lib(m1.obj)` for a member.
    pub name: String,
    /// Name as the linkers print it in messages and LLD maps (`m1.obj` for a member).
    pub short: String,
    /// The name GNU ld prints: the path it opened (`d1/a.o`), for a member with its archive's
    /// (`d1/libm.a(m1.obj)`).
    pub gnu_name: String,
    /// The archive a member comes from (None: a command-line object).
    pub archive: Option<String>,
    /// The file (or archive) bytes.
    bytes: Arc<FileBytes>,
    /// This object's range inside `bytes`.
    start: usize,
    end: usize,
    /// The object's header, sections, symbols and relocations, read lean.
    pub bin: LeanObject,
    /// COFF machine field.
    pub machine: u16,
}

impl Obj {
    /// The object's own bytes.
    pub fn data(&self) -> &[u8] {
        self.bytes.get(self.start..self.end).unwrap_or(&[])
    }

    /// Section `index` (1-based), if it exists.
    pub fn section(&self, index: u32) -> Option<&LeanSection> {
        index.checked_sub(1).and_then(|i| self.bin.sections.get(i as usize))
    }

    /// The raw bytes of section `index` (empty for uninitialised data).
    pub fn section_bytes(&self, index: u32) -> &[u8] {
        self.section(index).map_or(&[][..], |s| s.bytes(self.data()))
    }

    /// The relocations of section `sec`.
    pub fn relocs(&self, sec: u32) -> impl Iterator<Item = &LeanReloc> {
        let (a, b) = sec
            .checked_sub(1)
            .and_then(|i| self.bin.reloc_ranges.get(i as usize))
            .map_or((0, 0), |&(a, b)| (a as usize, b as usize));
        self.bin.relocations.get(a..b).unwrap_or(&[]).iter()
    }

    /// The position in `bin.symbols` of the symbol at table index `index`.
    pub fn sym_at(&self, index: u32) -> Option<usize> {
        self.bin.symbol_at(index)
    }

    /// The COMDAT section-definition aux of section `sec`: (selection, associated section).
    pub fn comdat(&self, sec: u32) -> Option<(u8, u32)> {
        self.bin.comdat(sec)
    }

    /// Whether section `index` is a COMDAT.
    pub fn is_comdat(&self, index: u32) -> bool {
        self.section(index).is_some_and(|s| s.flags as u32 & scn::LNK_COMDAT != 0)
    }
}

/// A member of an archive, not yet read.
#[derive(Debug, Clone)]
pub struct MemberRef {
    /// Member name as stored.
    pub name: String,
    /// Data range in the archive.
    pub start: usize,
    /// One past the end.
    pub end: usize,
}

/// An archive: its members and its symbol index in order.
#[derive(Debug)]
pub struct Archive {
    /// File name as given.
    pub name: String,
    /// The path it was opened by (what GNU ld prints).
    pub path: String,
    bytes: Arc<FileBytes>,
    /// Members in file order.
    pub members: Vec<MemberRef>,
    /// Symbol index: (name, member position), in index order.
    pub symbols: Vec<(String, usize)>,
}

impl From<Vec<u8>> for FileBytes {
    fn from(v: Vec<u8>) -> Self {
        FileBytes::Owned(v)
    }
}

/// A command-line input.
#[derive(Debug)]
pub enum Input {
    /// An object file.
    Object(Box<Obj>),
    /// An archive (static or import library).
    Archive(Archive),
}

/// Base name of a path, as the linkers print file names.
pub fn base_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

/// Why an input cannot take part in the link; each message starts with the file's name.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The format reader cannot read it.
    #[error("{name}: {source}")]
    Load {
        /// The input's name.
        name: String,
        /// The reader's reason.
        source: crate::LoadError,
    },
    /// A readable file that is not a COFF object.
    #[error("{name}: a {format} file is not a COFF object; only COFF objects and archives are linked")]
    NotCoff {
        /// The input's name.
        name: String,
        /// The format it is.
        format: &'static str,
    },
    /// A COFF object with a damaged structure.
    #[error("{name}: {message}")]
    Damaged {
        /// The input's name.
        name: String,
        /// The reader's first error.
        message: String,
    },
    /// An archive whose structure cannot be read.
    #[error("{name}: archive: {source}")]
    Archive {
        /// The archive's name.
        name: String,
        /// The archive reader's reason.
        source: object::read::Error,
    },
    /// An archive member whose header cannot be read.
    #[error("{name}: archive member: {source}")]
    Member {
        /// The archive's name.
        name: String,
        /// The archive reader's reason.
        source: object::read::Error,
    },
    /// A thin archive.
    #[error("{name}: thin archive members are not read")]
    Thin {
        /// The archive's name.
        name: String,
    },
    /// A member position past the archive's members.
    #[error("{name}: no member {index}")]
    NoMember {
        /// The archive's name.
        name: String,
        /// The position asked for.
        index: usize,
    },
}

/// Read one command-line input from its bytes. `Err` says why it cannot take part.
pub fn read_input(path: &str, bytes: impl Into<FileBytes>) -> Result<Input, InputError> {
    let bytes = Arc::new(bytes.into());
    if bytes.starts_with(b"!<arch>\n") || bytes.starts_with(b"!<thin>\n") {
        return read_archive(path, bytes).map(Input::Archive);
    }
    let name = base_name(path);
    let end = bytes.len();
    let obj = read_object(name.clone(), name, path.to_string(), bytes, 0, end)?;
    Ok(Input::Object(Box::new(obj)))
}

/// Read an object from `bytes[start..end]`.
pub fn read_object(
    name: String,
    short: String,
    gnu_name: String,
    bytes: Arc<FileBytes>,
    start: usize,
    end: usize,
) -> Result<Obj, InputError> {
    let data = bytes.get(start..end).unwrap_or(&[]);
    let bin = match LeanObject::read(data) {
        Some(lean) => lean,
        None => full_read(&name, data)?,
    };
    let machine = if crate::formats::coff::is_bigobj(data) {
        data.get(6..8).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    } else {
        data.get(0..2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    };
    Ok(Obj { name, short, gnu_name, archive: None, bytes, start, end, bin, machine })
}

/// An object the lean reader leaves to the full one: anything but a plain, well-formed COFF
/// object (an import member, a damaged table, another format).
fn full_read(name: &str, data: &[u8]) -> Result<LeanObject, InputError> {
    let bin = match crate::formats::load(data) {
        Ok(bin) => bin,
        Err(source) => return Err(InputError::Load { name: name.to_string(), source }),
    };
    if !matches!(bin.format, Format::Coff | Format::CoffBigobj | Format::ImportObject) {
        return Err(InputError::NotCoff { name: name.to_string(), format: bin.format.name() });
    }
    // A damaged structure makes the object unreadable; a bad COMDAT association is the
    // linker's to report (it names it in its own words).
    if let Some(d) = bin.diagnostics.iter().find(|d| d.severity == Severity::Error && !d.message.contains("associat")) {
        return Err(InputError::Damaged { name: name.to_string(), message: d.message.clone() });
    }
    Ok(LeanObject::from_binary(&bin))
}

fn read_archive(path: &str, bytes: Arc<FileBytes>) -> Result<Archive, InputError> {
    let name = base_name(path);
    let ar = match ArchiveFile::parse(&bytes[..]) {
        Ok(ar) => ar,
        Err(source) => return Err(InputError::Archive { name, source }),
    };
    let mut members = Vec::new();
    let mut by_header: HashMap<u64, usize> = HashMap::new();
    for m in ar.members().take(MAX_MEMBERS) {
        let m = match m {
            Ok(m) => m,
            Err(source) => return Err(InputError::Member { name, source }),
        };
        if m.is_thin() {
            return Err(InputError::Thin { name });
        }
        let (off, size) = m.file_range();
        // The symbol index names members by their header offset.
        let extra = m
            .header()
            .and_then(|h| std::str::from_utf8(&h.name).ok())
            .and_then(|n| n.strip_prefix("#1/"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0);
        by_header.insert(off.saturating_sub(extra.saturating_add(60)), members.len());
        let start = usize::try_from(off).unwrap_or(usize::MAX).min(bytes.len());
        let end = start.saturating_add(usize::try_from(size).unwrap_or(usize::MAX)).min(bytes.len());
        members.push(MemberRef { name: base_name(&String::from_utf8_lossy(m.name())), start, end });
    }
    let mut symbols = Vec::new();
    if let Ok(Some(syms)) = ar.symbols() {
        for s in syms.take(MAX_MEMBERS * 4).flatten() {
            if let Some(&i) = by_header.get(&s.offset().0) {
                symbols.push((String::from_utf8_lossy(s.name()).into_owned(), i));
            }
        }
    }
    Ok(Archive { name, path: path.to_string(), bytes, members, symbols })
}

impl Archive {
    /// Read member `i` as an object.
    pub fn member(&self, i: usize) -> Result<Obj, InputError> {
        let m = self.members.get(i).ok_or_else(|| InputError::NoMember { name: self.name.clone(), index: i })?;
        let mut o = read_object(
            format!("{}({})", self.name, m.name),
            m.name.clone(),
            format!("{}({})", self.path, m.name),
            Arc::clone(&self.bytes),
            m.start,
            m.end,
        )?;
        o.archive = Some(self.name.clone());
        Ok(o)
    }
}
