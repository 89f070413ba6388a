//! Plain DOS MZ executables: the header and the relocation table.

use super::bytes::{u16_at, GroupBuilder};
use crate::model::{Arch, Binary, Format, Location, MzReloc, Repeated, Severity};

/// Read a DOS executable that is not a PE image.
pub fn load_mz(data: &[u8]) -> Binary {
    let mut bin = Binary::new(Format::Mz, data.len() as u64);
    bin.arch = Arch::X86_16;
    let _ = super::pe::read_dos_header(&mut bin, data);
    let (Some(nrel), Some(hdr_paras), Some(relo)) = (u16_at(data, 6), u16_at(data, 8), u16_at(data, 24)) else {
        bin.diag(Severity::Error, Location::file(0), "DOS header is truncated");
        return bin;
    };
    let load = u64::from(hdr_paras) * 16;
    let ip = u16_at(data, 20).unwrap_or(0);
    let cs = u16_at(data, 22).unwrap_or(0);
    bin.entry_rva = Some(u64::from(cs) * 16 + u64::from(ip));
    let mut g = GroupBuilder::new(data, "DOS relocation table", u64::from(relo));
    let mut past_end = Repeated::new(Severity::Warning, "DOS relocations patch bytes past the end of the file");
    for i in 0..u64::from(nrel) {
        let at = u64::from(relo) + i * 4;
        let (Some(off), Some(seg)) = (u16_at(data, at), u16_at(data, at + 2)) else {
            bin.diag(
                Severity::Error,
                Location::file(at),
                format!("DOS relocation table ends after {i} of {nrel} entries"),
            );
            break;
        };
        let file_offset = load + u64::from(seg) * 16 + u64::from(off);
        if file_offset + 2 > data.len() as u64 {
            past_end.add(Location::file(at), || {
                format!("DOS relocation {i} patches 0x{file_offset:x}, past the end of the file")
            });
        }
        bin.mz_relocations.push(MzReloc { offset: off, segment: seg, file_offset });
    }
    past_end.flush(&mut bin);
    if nrel > 0 {
        g.push("entries", Some(u64::from(nrel)), format!("{nrel} segment:offset pairs"), u64::from(relo), u64::from(nrel) * 4, "Each entry names a 16-bit word (segment:offset relative to the load segment) to which DOS adds the load segment.");
        bin.headers.push(g.finish());
    }
    bin
}
