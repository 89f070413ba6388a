//! A running process on Linux as a source of module memory: `/proc/PID/maps` lists its mappings
//! (the modules: a file's mapping at offset 0 is its base, as in an ELF core's `NT_FILE`; a wine
//! process maps its `.exe` / `.dll` files the same way), `/proc/PID/mem` is read with positioned
//! reads, never written. Pages that cannot be read are not held.

use std::path::PathBuf;

use crate::formats::dump::core::{modules_of, Mapping};
use crate::model::dump::{DumpFormat, DumpModule, MemoryError, ProcessDump, MAX_MODULE};
use crate::model::memory::ModuleMemory;

use super::dump::DumpFiles;
use super::verify::ProcessMemory;

/// Where the kernel's ptrace restriction is set.
pub const PTRACE_SCOPE: &str = "/proc/sys/kernel/yama/ptrace_scope";

/// Most lines read from `/proc/PID/maps`.
const MAX_MAPS: usize = 1 << 20;

/// Why a process cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// There is no process of that id (it has ended, or never ran).
    #[error("process {pid}: no such process (there is no /proc/{pid}: it has ended, or never ran)")]
    NoSuchProcess {
        /// The process.
        pid: u32,
    },
    /// `/proc/PID/maps` could not be read.
    #[error("process {pid}: cannot read /proc/{pid}/maps: {source}")]
    Maps {
        /// The process.
        pid: u32,
        /// Why.
        source: std::io::Error,
    },
    /// The kernel refused to let this process read the other's mappings or memory.
    #[error("process {pid}: reading /proc/{pid}/{file} was refused ({source}). {why}")]
    Refused {
        /// The process.
        pid: u32,
        /// What was refused: `maps` or `mem`.
        file: &'static str,
        /// The error.
        source: std::io::Error,
        /// Why, and what to do.
        why: String,
    },
    /// The module's memory is too large.
    #[error("process {pid}: {source}")]
    Memory {
        /// The process.
        pid: u32,
        /// Why.
        source: MemoryError,
    },
}

/// A running process, its mappings read.
#[derive(Debug)]
pub struct Process {
    /// Its id.
    pub pid: u32,
    /// Its modules (no memory ranges: those are read per module).
    pub dump: ProcessDump,
    /// Its mappings `[start, end)` in address order.
    maps: Vec<(u64, u64)>,
}

/// The machine of the process's executable (`/proc/PID/exe`'s ELF header; under wine, wine's
/// loader's), when it can be read.
fn exe_arch(pid: u32) -> Option<crate::model::Arch> {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(format!("/proc/{pid}/exe")).ok()?.read_exact(&mut head).ok()?;
    if &head[..4] != b"\x7fELF" {
        return None;
    }
    let machine = match head[5] {
        1 => u16::from_le_bytes([head[18], head[19]]),
        2 => u16::from_be_bytes([head[18], head[19]]),
        _ => return None,
    };
    Some(crate::model::Arch::from_elf_machine(machine))
}

/// Why reading another process's memory is refused, and what to do, in words.
pub fn refused_why() -> String {
    let scope = std::fs::read_to_string(PTRACE_SCOPE).ok().map(|s| s.trim().to_string());
    let scope_text = match scope.as_deref() {
        Some("0") => format!("{PTRACE_SCOPE} is 0 (classic ptrace permissions): the process must run as your user, and not be set-uid or undumpable"),
        Some("1") => format!("{PTRACE_SCOPE} is 1 (restricted): only a parent may read a process's memory"),
        Some("2") => format!("{PTRACE_SCOPE} is 2 (admin only): reading needs CAP_SYS_PTRACE"),
        Some("3") => format!("{PTRACE_SCOPE} is 3 (no attach): no process may read another's memory until reboot"),
        Some(v) => format!("{PTRACE_SCOPE} is {v}"),
        None => "the process runs as another user, or is undumpable (ptrace access mode check)".to_string(),
    };
    format!(
        "{scope_text}. To read it: run linkscope as the process's user with `sudo sysctl kernel.yama.ptrace_scope=0`, or run it as root (CAP_SYS_PTRACE), or start the program from linkscope's parent shell; or write a dump (gcore PID, procdump -ma) and pass --dump"
    )
}

/// Whether the file at `path` is known not to be an executable image: its first bytes are
/// neither ELF's `\x7fELF` nor `MZ` (a file that cannot be read is not known not to be one).
fn is_not_image(path: &str) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    read.is_ok() && &magic != b"\x7fELF" && &magic[..2] != b"MZ"
}

impl Process {
    /// Read `/proc/PID/maps` and check that `/proc/PID/mem` may be read.
    pub fn open(pid: u32) -> Result<Self, ProcessError> {
        let p = Self::read_maps(pid)?;
        p.check()?;
        Ok(p)
    }

    /// Read `/proc/PID/maps` only (its modules), whether or not its memory may be read: the app
    /// lists a process's modules and says why its memory is refused ([`Process::check`]).
    pub fn read_maps(pid: u32) -> Result<Self, ProcessError> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/maps")).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ProcessError::NoSuchProcess { pid },
            std::io::ErrorKind::PermissionDenied => {
                ProcessError::Refused { pid, file: "maps", source, why: refused_why() }
            }
            _ => ProcessError::Maps { pid, source },
        })?;
        let mut mappings = Vec::new();
        let mut maps = Vec::new();
        for line in text.lines().take(MAX_MAPS) {
            let mut f = line.split_whitespace();
            let (Some(range), Some(_perms), Some(off), Some(_dev), Some(_inode)) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let path = f.collect::<Vec<_>>().join(" ");
            let Some((s, e)) = range.split_once('-') else { continue };
            let (Ok(start), Ok(end), Ok(offset)) =
                (u64::from_str_radix(s, 16), u64::from_str_radix(e, 16), u64::from_str_radix(off, 16))
            else {
                continue;
            };
            maps.push((start, end.max(start)));
            if path.starts_with('/') {
                let path = path.strip_suffix(" (deleted)").unwrap_or(&path).to_string();
                mappings.push(Mapping { start, end: end.max(start), offset, path });
            }
        }
        maps.sort_unstable();
        // Files mapped whole that are not images (locale data, fonts, caches) are no modules.
        let mut not_images: Vec<&str> = Vec::new();
        for m in mappings.iter().filter(|m| m.offset == 0) {
            if !not_images.contains(&m.path.as_str()) && is_not_image(&m.path) {
                not_images.push(&m.path);
            }
        }
        let images: Vec<Mapping> =
            mappings.iter().filter(|m| !not_images.contains(&m.path.as_str())).cloned().collect();
        let dump = ProcessDump {
            format: DumpFormat::Process,
            arch: exe_arch(pid),
            modules: modules_of(&images),
            memory: Vec::new(),
            diagnostics: Vec::new(),
        };
        Ok(Process { pid, dump, maps })
    }

    /// Whether `/proc/PID/mem` may be read (opened: the kernel's ptrace access check).
    pub fn check(&self) -> Result<(), ProcessError> {
        let pid = self.pid;
        std::fs::File::open(format!("/proc/{pid}/mem")).map(drop).map_err(|source| ProcessError::Refused {
            pid,
            file: "mem",
            source,
            why: refused_why(),
        })
    }

    /// Its mappings `[start, end)` in address order (every one, not only the modules').
    pub fn mappings(&self) -> &[(u64, u64)] {
        &self.maps
    }

    /// Its modules' files (at the paths the process mapped them from), a module whose file is
    /// gone read from its image in memory.
    pub fn files(&self) -> DumpFiles<'_> {
        DumpFiles { modules: self.dump.modules.clone(), beside: None, memory: Some(self) }
    }

    /// The executable's path (`/proc/PID/exe`), when it can be read.
    pub fn exe(&self) -> Option<PathBuf> {
        std::fs::read_link(format!("/proc/{}/exe", self.pid)).ok()
    }

    /// The memory of `size` bytes from `base`, read now: the mapped parts read whole, or page by
    /// page where a read fails (those pages are not held); unmapped parts are not held.
    pub fn memory(&self, base: u64, size: u64) -> Result<ModuleMemory<'static>, ProcessError> {
        let pid = self.pid;
        if size > MAX_MODULE {
            return Err(ProcessError::Memory { pid, source: MemoryError::TooLarge { size } });
        }
        let end =
            base.checked_add(size).ok_or(ProcessError::Memory { pid, source: MemoryError::Wraps { base, size } })?;
        let file = std::fs::File::open(format!("/proc/{pid}/mem")).map_err(|source| ProcessError::Refused {
            pid,
            file: "mem",
            source,
            why: refused_why(),
        })?;
        let mut bytes = vec![0u8; size as usize];
        let mut held = Vec::new();
        let mut refused = None;
        for &(s, e) in &self.maps {
            let (s, e) = (s.max(base), e.min(end));
            if s >= e {
                continue;
            }
            let buf = &mut bytes[(s - base) as usize..(e - base) as usize];
            if read_fully(&file, buf, s).is_ok() {
                held.push((s - base, e - base));
                continue;
            }
            // Page by page: keep what can be read.
            let mut at = s;
            while at < e {
                let next = ((at & !0xfff) + 0x1000).min(e);
                let part = &mut bytes[(at - base) as usize..(next - base) as usize];
                match read_fully(&file, part, at) {
                    Ok(()) => held.push((at - base, next - base)),
                    Err(err) => {
                        part.fill(0);
                        if matches!(err.raw_os_error(), Some(1 | 13)) {
                            refused.get_or_insert(err);
                        }
                    }
                }
                at = next;
            }
        }
        if held.is_empty() {
            if let Some(source) = refused {
                return Err(ProcessError::Refused { pid, file: "mem", source, why: refused_why() });
            }
        }
        let mut m = ModuleMemory::from_pieces(Some(base), 0, std::iter::empty());
        m.bytes = bytes.into();
        m.held = join(held);
        Ok(m)
    }

    /// A module's first page (for matching headers), when it can be read.
    pub fn first_page(&self, m: &DumpModule) -> Option<Vec<u8>> {
        let mem = self.memory(m.base, m.size.min(0x1000)).ok()?;
        mem.holds(0, mem.len() as u64).then(|| mem.bytes.into_owned())
    }
}

impl ProcessMemory for Process {
    fn dump(&self) -> &ProcessDump {
        &self.dump
    }
    fn memory(&self, base: u64, size: u64) -> Result<ModuleMemory<'_>, String> {
        Process::memory(self, base, size).map_err(|e| e.to_string())
    }
    fn files(&self) -> DumpFiles<'_> {
        Process::files(self)
    }
    fn executable(&self) -> Option<PathBuf> {
        self.exe()
    }
}

/// Read all of `buf` at `offset`.
fn read_fully(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        let _ = (file, buf, offset);
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "live processes are read on Linux only"))
    }
}

/// Sorted ranges with touching ones joined.
fn join(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(l) if s <= l.1 => l.1 = l.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}
