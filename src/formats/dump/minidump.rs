//! Minidumps through rust-minidump's `minidump` crate: the module list (name, base, SizeOfImage,
//! TimeDateStamp, CheckSum, CodeView), `Memory64List` (full-memory dumps), `MemoryList`, and the
//! system info's architecture.

use minidump::{
    CodeView, Minidump, MinidumpMemory64List, MinidumpMemoryList, MinidumpModuleList, MinidumpStream,
    MinidumpSystemInfo,
};

use super::{file_name, DumpError};
use crate::model::dump::{CodeViewId, DumpFormat, DumpModule, DumpRange, ProcessDump};
use crate::model::Arch;

/// Most modules kept (a module list claiming more is cut, with a diagnostic).
const MAX_MODULES: usize = 65_536;

/// Read a minidump.
pub fn read(data: &[u8]) -> Result<ProcessDump, DumpError> {
    let dump = Minidump::read(data).map_err(|e| DumpError::Minidump(e.to_string()))?;
    let mut out = ProcessDump {
        format: DumpFormat::Minidump,
        arch: None,
        modules: Vec::new(),
        memory: Vec::new(),
        diagnostics: Vec::new(),
    };
    match dump.get_stream::<MinidumpSystemInfo>() {
        Ok(s) => {
            out.arch = Some(match s.cpu {
                minidump::system_info::Cpu::X86 => Arch::X86,
                minidump::system_info::Cpu::X86_64 => Arch::X86_64,
                minidump::system_info::Cpu::Arm => Arch::Arm,
                minidump::system_info::Cpu::Arm64 => Arch::Aarch64,
                minidump::system_info::Cpu::Ppc => Arch::PowerPc,
                minidump::system_info::Cpu::Ppc64 => Arch::PowerPc64,
                minidump::system_info::Cpu::Mips => Arch::Mips,
                _ => Arch::Unknown(s.raw.processor_architecture),
            })
        }
        Err(e) => out.diagnostics.push(format!("system info: {e}")),
    }
    match dump.get_stream::<MinidumpModuleList>() {
        Ok(list) => {
            for m in list.iter().take(MAX_MODULES) {
                out.modules.push(DumpModule {
                    name: file_name(&m.name).to_string(),
                    path: m.name.clone(),
                    base: m.raw.base_of_image,
                    size: u64::from(m.raw.size_of_image),
                    timestamp: Some(m.raw.time_date_stamp),
                    checksum: Some(m.raw.checksum),
                    codeview: match &m.codeview_info {
                        Some(CodeView::Pdb70(cv)) => Some(CodeViewId {
                            guid: guid_text(&cv.signature),
                            age: cv.age,
                            pdb: String::from_utf8_lossy(cv.pdb_file_name.split(|&b| b == 0).next().unwrap_or(&[]))
                                .into_owned(),
                        }),
                        _ => None,
                    },
                });
            }
            if list.iter().count() > MAX_MODULES {
                out.diagnostics
                    .push(format!("the module list holds more than {MAX_MODULES} modules: the rest are left out"));
            }
        }
        Err(e) => out.diagnostics.push(format!("module list: {e}")),
    }
    let at = |bytes: &[u8]| (bytes.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize) as u64;
    let mut any = false;
    match dump.get_stream::<MinidumpMemory64List>() {
        Ok(list) => {
            any = true;
            for r in list.iter() {
                out.memory.push(DumpRange { start: r.base_address, size: r.bytes.len() as u64, offset: at(r.bytes) });
            }
        }
        Err(minidump::Error::StreamNotFound) => {}
        Err(e) => out.diagnostics.push(format!("Memory64List: {e}")),
    }
    match dump.get_stream::<MinidumpMemoryList>() {
        Ok(list) => {
            any = true;
            let mut n = 0u64;
            for r in list.iter() {
                n += 1;
                out.memory.push(DumpRange { start: r.base_address, size: r.bytes.len() as u64, offset: at(r.bytes) });
            }
            // The crate skips a descriptor whose bytes lie past the end of the file; say so.
            let listed = dump
                .get_raw_stream(MinidumpMemoryList::STREAM_TYPE)
                .ok()
                .and_then(|b| b.get(..4))
                .map_or(n, |c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
            if listed > n {
                out.diagnostics.push(format!(
                    "{} MemoryList descriptor(s) point past the end of the dump (truncated?): left out, not in the dump",
                    listed - n
                ));
            }
        }
        Err(minidump::Error::StreamNotFound) => {}
        Err(e) => out.diagnostics.push(format!("MemoryList: {e}")),
    }
    if !any {
        out.diagnostics.push("the dump holds no memory list: every module is not in the dump".into());
    }
    out.normalise(data.len() as u64);
    Ok(out)
}

/// A GUID as Windows prints it.
fn guid_text(g: &minidump::format::GUID) -> String {
    format!(
        "{:08X}-{:04X}-{:04X}-{}-{}",
        g.data1,
        g.data2,
        g.data3,
        g.data4[..2].iter().map(|b| format!("{b:02X}")).collect::<String>(),
        g.data4[2..].iter().map(|b| format!("{b:02X}")).collect::<String>()
    )
}
