//! A process's memory as a dump file (a minidump, an ELF core) or a live process lists it: its
//! modules and the memory ranges it holds, one model for every source. The readers are
//! `formats::dump` (files) and `session::process` (a running process).

use std::borrow::Cow;

use serde::Serialize;

use super::memory::ModuleMemory;
use super::Arch;

/// The largest module memory joined from a dump's ranges (the patch engine maps no more).
pub const MAX_MODULE: u64 = 256 << 20;

/// What kind of source a [`ProcessDump`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// A Windows minidump (`MDMP`).
    Minidump,
    /// An ELF core file (`ET_CORE`).
    ElfCore,
    /// A running process (`/proc/PID/maps` and `/proc/PID/mem`).
    Process,
}

impl DumpFormat {
    /// The name in JSON and text (`minidump`, `elf-core`, `process`).
    pub fn name(self) -> &'static str {
        match self {
            DumpFormat::Minidump => "minidump",
            DumpFormat::ElfCore => "elf-core",
            DumpFormat::Process => "process",
        }
    }
}

impl Serialize for DumpFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A PDB reference of a module (its CodeView `RSDS` record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeViewId {
    /// The GUID as Windows prints it (`{8-4-4-4-12}` without braces, upper case).
    pub guid: String,
    /// The age.
    pub age: u32,
    /// The PDB path recorded.
    pub pdb: String,
}

/// One module of a process.
#[derive(Debug, Clone, Serialize)]
pub struct DumpModule {
    /// Its file name (the last part of `path`).
    pub name: String,
    /// The path the process loaded it from, as recorded.
    pub path: String,
    /// Where it is loaded.
    pub base: u64,
    /// Its size in memory (SizeOfImage; ELF: from the base to the end of its last mapping).
    pub size: u64,
    /// TimeDateStamp (minidump).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u32>,
    /// CheckSum (minidump).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<u32>,
    /// The CodeView PDB reference (minidump).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codeview: Option<CodeViewId>,
}

/// A range of memory the source holds: `size` bytes at `start` in the process, at `offset` in
/// the dump's bytes (a live process: in the bytes read for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DumpRange {
    /// Address in the process.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// Offset of the first byte in the dump.
    #[serde(skip)]
    pub offset: u64,
}

/// A process's modules and the memory a source holds.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessDump {
    /// The kind of source.
    pub format: DumpFormat,
    /// The process's architecture, when the source says.
    #[serde(serialize_with = "arch_name")]
    pub arch: Option<Arch>,
    /// The modules, in the source's order.
    pub modules: Vec<DumpModule>,
    /// The memory held, sorted by address, disjoint, each within the dump's bytes.
    pub memory: Vec<DumpRange>,
    /// What the reader had to repair or skip (clipped, overlapping or truncated ranges, …).
    pub diagnostics: Vec<String>,
}

fn arch_name<S: serde::Serializer>(a: &Option<Arch>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.serialize_str(&a.to_string()),
        None => s.serialize_none(),
    }
}

/// A module's memory that cannot be joined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    /// The module claims more memory than is ever mapped.
    #[error("the module claims 0x{size:x} bytes of memory, more than the 0x{max:x} linkscope maps", max = MAX_MODULE)]
    TooLarge {
        /// The size claimed.
        size: u64,
    },
    /// The module's range wraps the address space.
    #[error("the module's range 0x{base:x} + 0x{size:x} passes the end of the address space")]
    Wraps {
        /// Its base.
        base: u64,
        /// Its size.
        size: u64,
    },
}

impl ProcessDump {
    /// Put `memory` in order: sorted, clipped to `data_len` bytes of dump, overlaps cut (the
    /// earlier range in address order keeps its bytes), empty ranges dropped; every repair noted.
    pub fn normalise(&mut self, data_len: u64) {
        let mut v = std::mem::take(&mut self.memory);
        v.sort_by_key(|r| (r.start, r.offset));
        let mut clipped = 0usize;
        let mut overlapping = 0usize;
        let mut out: Vec<DumpRange> = Vec::with_capacity(v.len());
        for mut r in v {
            let avail = data_len.saturating_sub(r.offset);
            if r.size > avail {
                clipped += 1;
                r.size = avail;
            }
            if r.start.checked_add(r.size).is_none() {
                clipped += 1;
                r.size = u64::MAX - r.start;
            }
            if let Some(last) = out.last() {
                let end = last.start + last.size;
                if r.start < end {
                    overlapping += 1;
                    let cut = (end - r.start).min(r.size);
                    r.start += cut;
                    r.offset += cut;
                    r.size -= cut;
                }
            }
            if r.size > 0 {
                out.push(r);
            }
        }
        if clipped > 0 {
            self.diagnostics.push(format!(
                "{clipped} memory range(s) run past the end of the dump (truncated?): clipped, the rest is not in the dump"
            ));
        }
        let absurd =
            self.modules.iter().filter(|m| m.size > MAX_MODULE || m.base.checked_add(m.size).is_none()).count();
        if absurd > 0 {
            self.diagnostics.push(format!(
                "{absurd} module(s) claim more than 0x{MAX_MODULE:x} bytes of memory or wrap the address space: they cannot be compared"
            ));
        }
        if overlapping > 0 {
            self.diagnostics.push(format!(
                "{overlapping} memory range(s) overlap an earlier one: the earlier range's bytes are used"
            ));
        }
        self.memory = out;
    }

    /// The module named `name` (its file name or path, case-insensitively), the first one when
    /// several are.
    pub fn module(&self, name: &str) -> Option<&DumpModule> {
        let want = name.to_ascii_lowercase();
        self.modules.iter().find(|m| m.name.to_ascii_lowercase() == want || m.path.to_ascii_lowercase() == want)
    }

    /// The ranges that touch `[base, base + size)`, in address order.
    fn spanning(&self, base: u64, size: u64) -> &[DumpRange] {
        let end = base.saturating_add(size);
        let i = self.memory.partition_point(|r| r.start + r.size <= base);
        let j = self.memory.partition_point(|r| r.start < end);
        self.memory.get(i..j.max(i)).unwrap_or(&[])
    }

    /// Whether every byte of `[base, base + size)` is held.
    pub fn complete(&self, base: u64, size: u64) -> bool {
        let mut at = base;
        let end = base.saturating_add(size);
        for r in self.spanning(base, size) {
            if r.start > at {
                return false;
            }
            at = at.max(r.start + r.size);
        }
        at >= end
    }

    /// Bytes of `[base, base + size)` held.
    pub fn held_bytes(&self, base: u64, size: u64) -> u64 {
        let end = base.saturating_add(size);
        self.spanning(base, size).iter().map(|r| (r.start + r.size).min(end) - r.start.max(base)).sum()
    }

    /// The memory of `size` bytes from `base`, joined from the ranges it spans in `data` (the
    /// dump's bytes): borrowed when they are one contiguous run of `data`, else a copy of `size`
    /// bytes (at most [`MAX_MODULE`]) where the bytes not held read as zero.
    pub fn module_memory<'a>(&self, data: &'a [u8], base: u64, size: u64) -> Result<ModuleMemory<'a>, MemoryError> {
        if size > MAX_MODULE {
            return Err(MemoryError::TooLarge { size });
        }
        if base.checked_add(size).is_none() {
            return Err(MemoryError::Wraps { base, size });
        }
        let ranges = self.spanning(base, size);
        // One run of the dump: the ranges follow one another in memory and in the file.
        if let Some(first) = ranges.first() {
            let contiguous = ranges
                .windows(2)
                .all(|w| w[0].start + w[0].size == w[1].start && w[0].offset + w[0].size == w[1].offset);
            if contiguous && first.start <= base && self.complete(base, size) {
                let off = first.offset + (base - first.start);
                let slice =
                    usize::try_from(off).ok().and_then(|o| data.get(o..o.checked_add(usize::try_from(size).ok()?)?));
                if let Some(bytes) = slice {
                    let held = if size == 0 { Vec::new() } else { vec![(0, size)] };
                    return Ok(ModuleMemory { base: Some(base), bytes: Cow::Borrowed(bytes), held });
                }
            }
        }
        let end = base + size;
        let pieces = ranges.iter().filter_map(|r| {
            let s = r.start.max(base);
            let e = (r.start + r.size).min(end);
            let off = usize::try_from(r.offset + (s - r.start)).ok()?;
            let bytes = data.get(off..off.checked_add(usize::try_from(e - s).ok()?)?)?;
            Some((s - base, bytes))
        });
        Ok(ModuleMemory::from_pieces(Some(base), size as usize, pieces))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dump(memory: Vec<DumpRange>, len: u64) -> ProcessDump {
        let mut d = ProcessDump {
            format: DumpFormat::ElfCore,
            arch: None,
            modules: Vec::new(),
            memory,
            diagnostics: Vec::new(),
        };
        d.normalise(len);
        d
    }

    #[test]
    fn contiguous_ranges_are_borrowed_and_holes_are_not_held() {
        let data: Vec<u8> = (0..64u8).collect();
        let d = dump(
            vec![DumpRange { start: 0x1010, size: 16, offset: 16 }, DumpRange { start: 0x1000, size: 16, offset: 0 }],
            64,
        );
        let m = d.module_memory(&data, 0x1000, 32).unwrap();
        assert!(matches!(m.bytes, Cow::Borrowed(_)));
        assert_eq!(m.bytes[17], 17);
        let d = dump(
            vec![DumpRange { start: 0x1000, size: 8, offset: 0 }, DumpRange { start: 0x1010, size: 8, offset: 40 }],
            64,
        );
        let m = d.module_memory(&data, 0x1000, 32).unwrap();
        assert!(matches!(m.bytes, Cow::Owned(_)));
        assert_eq!(m.held, vec![(0, 8), (16, 24)]);
        assert_eq!(m.bytes[16], 40);
        assert!(!d.complete(0x1000, 32));
        assert_eq!(d.held_bytes(0x1000, 32), 16);
    }

    #[test]
    fn hostile_ranges_are_clipped_and_large_modules_refused() {
        let d = dump(
            vec![
                DumpRange { start: 0x1000, size: 32, offset: 0 },
                DumpRange { start: 0x1010, size: 32, offset: 8 },
                DumpRange { start: u64::MAX - 4, size: 100, offset: 0 },
                DumpRange { start: 0x9000, size: 1 << 40, offset: 60 },
            ],
            64,
        );
        assert_eq!(d.diagnostics.len(), 2);
        assert!(d.memory.windows(2).all(|w| w[0].start + w[0].size <= w[1].start));
        assert!(d.memory.iter().all(|r| r.offset + r.size <= 64));
        assert!(matches!(d.module_memory(&[], 0, 1 << 40), Err(MemoryError::TooLarge { .. })));
        assert!(matches!(d.module_memory(&[], u64::MAX - 1, 16), Err(MemoryError::Wraps { .. })));
    }
}
