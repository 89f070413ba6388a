//! Format readers: the only code that sees raw format structures or `object::` types. Each reader
//! lowers a file into the common [`crate::model::Binary`].

pub mod archive;
pub mod bytes;
pub mod coff;
pub mod dump;
pub mod elf;
mod elf_relocs;
pub mod mz;
pub mod omf;
pub mod pdb;
pub mod pe;

use crate::model::{Arch, Binary, Format, Location, Severity};

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// Nothing recognisable.
    #[error("unrecognised file format (first bytes: {0})")]
    Unrecognised(String),
    /// A known format this build does not read yet.
    #[error("{0}")]
    Unsupported(String),
}

/// Detect the format of `data` and read it.
pub fn load(data: &[u8]) -> Result<Binary, LoadError> {
    load_nested(data, 0)
}

/// Like [`load`], for a member nested `depth` archives deep.
pub(crate) fn load_nested(data: &[u8], depth: u32) -> Result<Binary, LoadError> {
    if data.is_empty() {
        return Err(LoadError::Empty);
    }
    if data.starts_with(b"!<arch>\n") || data.starts_with(b"!<thin>\n") {
        if !archive::may_nest(depth) {
            return Err(LoadError::Unsupported("archive nested too deeply; not opened".into()));
        }
        return Ok(archive::load_archive(data, depth));
    }
    if data.starts_with(b"\x7fELF") {
        return Ok(elf::load_elf(data));
    }
    // DOS accepts "ZM" as well as "MZ"; Windows only "MZ" (is_pe checks it).
    if data.starts_with(b"MZ") || data.starts_with(b"ZM") {
        if pe::is_pe(data) {
            return Ok(pe::load_pe(data));
        }
        let mut bin = mz::load_mz(data);
        if let Some(lfanew) = bytes::u32_at(data, 0x3c) {
            if let Some(sig) = bytes::slice_at(data, u64::from(lfanew), 2) {
                if sig == b"PE" {
                    bin.diag(
                        Severity::Warning,
                        Location::file(u64::from(lfanew)),
                        "e_lfanew points at \"PE\" but not at a PE\\0\\0 signature; the file is shown as a DOS executable",
                    );
                } else if matches!(sig, b"NE" | b"LE" | b"LX") {
                    bin.diag(
                        Severity::Info,
                        Location::file(u64::from(lfanew)),
                        format!(
                            "e_lfanew points at a {} header, which linkscope does not decode; the DOS part is shown",
                            bytes::text(sig)
                        ),
                    );
                }
            }
        }
        return Ok(bin);
    }
    if archive::is_import_object(data) {
        return Ok(archive::load_import_object(data));
    }
    if coff::is_bigobj(data) {
        return Ok(coff::load_object(data));
    }
    if bytes::u16_at(data, 0) == Some(0) && bytes::u16_at(data, 2) == Some(0xffff) {
        return Ok(anonymous_object(data));
    }
    if coff::looks_like_object(data) {
        return Ok(coff::load_object(data));
    }
    match omf::sniff(data) {
        Some(Ok(omf::Kind::Object)) => return Ok(omf::load_object(data)),
        Some(Ok(omf::Kind::Library)) => return Ok(omf::load_library(data)),
        Some(Err(why)) => return Err(LoadError::Unsupported(format!("not a readable OMF file: {why}"))),
        None => {}
    }
    let head: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Err(LoadError::Unrecognised(head.join(" ")))
}

/// An "anonymous" COFF object header (e.g. an MSVC `/GL` LTCG object) that is not bigobj.
fn anonymous_object(data: &[u8]) -> Binary {
    let mut bin = Binary::new(Format::Coff, data.len() as u64);
    let mut g = bytes::GroupBuilder::new(data, "Anonymous object header", 0);
    g.int("Sig1", 0, 2, "Always 0 (IMAGE_FILE_MACHINE_UNKNOWN).");
    g.int("Sig2", 2, 2, "Always 0xFFFF: this is not a classic COFF header.");
    let version = g.dec("Version", 4, 2, "Header version (1 for /GL LTCG objects, 2 for bigobj).");
    let machine = g.int_with("Machine", 6, 2, "The CPU the code is for.", |v| {
        format!("0x{v:x} ({})", coff::header::machine_name(v as u16))
    });
    g.int("TimeDateStamp", 8, 4, "Creation time.");
    g.bytes("ClassID", 12, 16, "GUID naming the object's private format.");
    g.int("SizeOfData", 28, 4, "Size of the data that follows the header.");
    bin.headers.push(g.finish());
    bin.arch = Arch::from_coff_machine(machine.unwrap_or(0) as u16);
    bin.diag(
        Severity::Warning,
        Location::file(0),
        format!(
            "anonymous COFF object (version {}): its contents are compiler-private (an MSVC /GL object holds intermediate code, not sections)",
            version.unwrap_or(0)
        ),
    );
    bin
}
