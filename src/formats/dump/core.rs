//! ELF core files (`ET_CORE`, from the kernel or `gcore`) through `object`'s low-level ELF API:
//! `PT_LOAD` segments hold the memory (a segment with `p_filesz` below `p_memsz` holds only its
//! front), the `NT_FILE` note (owner `CORE`) says which file is mapped where; a module's base is
//! the start of its mapping with file offset 0.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;

use super::{file_name, DumpError};
use crate::model::dump::{DumpFormat, DumpModule, DumpRange, ProcessDump};
use crate::model::Arch;

/// `NT_FILE`: the mapped files.
const NT_FILE: u32 = 0x4649_4c45;

/// Most program headers read (the kernel writes one per mapping; `e_phnum` is 16 bits).
const MAX_SEGMENTS: usize = 1 << 20;

/// Read an ELF core.
pub fn read(data: &[u8]) -> Result<ProcessDump, DumpError> {
    match data.get(4) {
        Some(&c) if c == elf::ELFCLASS64.0 => read_as::<elf::FileHeader64<Endianness>>(data),
        Some(&c) if c == elf::ELFCLASS32.0 => read_as::<elf::FileHeader32<Endianness>>(data),
        _ => Err(DumpError::Core("unknown ELF class".into())),
    }
}

fn read_as<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<ProcessDump, DumpError> {
    let err = |e: object::Error| DumpError::Core(e.to_string());
    let header = H::parse(data).map_err(err)?;
    let endian = header.endian().map_err(err)?;
    if header.e_type(endian) != elf::ET_CORE {
        return Err(DumpError::Core("not a core file (e_type is not ET_CORE)".into()));
    }
    let mut out = ProcessDump {
        format: DumpFormat::ElfCore,
        arch: Some(Arch::from_elf_machine(header.e_machine(endian).0)),
        modules: Vec::new(),
        memory: Vec::new(),
        diagnostics: Vec::new(),
    };
    let phdrs = header.program_headers(endian, data).map_err(err)?;
    let mut files = None;
    for ph in phdrs.iter().take(MAX_SEGMENTS) {
        match ph.p_type(endian) {
            elf::PT_LOAD => {
                let filesz: u64 = ph.p_filesz(endian).into();
                if filesz > 0 {
                    out.memory.push(DumpRange {
                        start: ph.p_vaddr(endian).into(),
                        size: filesz,
                        offset: ph.p_offset(endian).into(),
                    });
                }
            }
            elf::PT_NOTE => match ph.notes(endian, data) {
                Ok(Some(mut notes)) => loop {
                    match notes.next() {
                        Ok(Some(n)) if n.name() == b"CORE" && n.n_type(endian).0 == NT_FILE && files.is_none() => {
                            files = Some(nt_file(n.desc(), endian, header.is_class_64(), &mut out.diagnostics));
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => {
                            out.diagnostics.push(format!("notes: {e}"));
                            break;
                        }
                    }
                },
                Ok(None) => {}
                Err(e) => out.diagnostics.push(format!("notes: {e}")),
            },
            _ => {}
        }
    }
    match files {
        Some(maps) => out.modules = modules_of(&maps),
        None => out.diagnostics.push("no NT_FILE note: the core names no mapped files, so it lists no modules".into()),
    }
    out.normalise(data.len() as u64);
    Ok(out)
}

/// One mapping of a file (`NT_FILE`, `/proc/PID/maps`): `[start, end)` maps `path` from byte
/// `offset`.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// End address (exclusive).
    pub end: u64,
    /// Offset in the file.
    pub offset: u64,
    /// The file.
    pub path: String,
}

/// The `NT_FILE` descriptor: count, page size, `{start, end, page offset}` × count, the paths.
/// A count the descriptor cannot hold is cut to what it holds, with a diagnostic.
fn nt_file(desc: &[u8], endian: Endianness, is_64: bool, diags: &mut Vec<String>) -> Vec<Mapping> {
    let w = if is_64 { 8 } else { 4 };
    let word = |i: usize| -> Option<u64> {
        let b = desc.get(i * w..i * w + w)?;
        let big = matches!(endian, Endianness::Big);
        Some(if is_64 {
            let a: [u8; 8] = b.try_into().ok()?;
            if big {
                u64::from_be_bytes(a)
            } else {
                u64::from_le_bytes(a)
            }
        } else {
            let a: [u8; 4] = b.try_into().ok()?;
            u64::from(if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) })
        })
    };
    let (Some(count), Some(page)) = (word(0), word(1)) else {
        diags.push("NT_FILE note too short for its header".into());
        return Vec::new();
    };
    // Each entry takes 3 words and at least a 1-byte path.
    let fits = (desc.len().saturating_sub(2 * w) / (3 * w + 1)) as u64;
    let n = if count > fits {
        diags.push(format!(
            "NT_FILE claims {count} mappings, its {} bytes hold at most {fits}: the rest are ignored",
            desc.len()
        ));
        fits
    } else {
        count
    } as usize;
    let mut names = desc.get((2 + 3 * n) * w..).unwrap_or(&[]).split(|&b| b == 0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (Some(start), Some(end), Some(pgoff)) = (word(2 + 3 * i), word(3 + 3 * i), word(4 + 3 * i)) else { break };
        let Some(name) = names.next() else {
            diags.push(format!("NT_FILE names {i} of its {n} mappings: the rest are ignored"));
            break;
        };
        out.push(Mapping {
            start,
            end: end.max(start),
            offset: pgoff.saturating_mul(page),
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    out
}

/// The modules of the mappings: one per mapping at file offset 0, reaching to the end of the
/// last mapping of the same file that follows it before another module of that file starts.
pub fn modules_of(maps: &[Mapping]) -> Vec<DumpModule> {
    let mut out: Vec<DumpModule> = Vec::new();
    for m in maps {
        if m.offset == 0 {
            out.push(DumpModule {
                name: file_name(&m.path).to_string(),
                path: m.path.clone(),
                base: m.start,
                size: m.end - m.start,
                timestamp: None,
                checksum: None,
                codeview: None,
            });
        } else if let Some(md) = out.iter_mut().rev().find(|d| d.path == m.path && d.base <= m.start) {
            md.size = md.size.max(m.end - md.base);
        }
    }
    out
}
