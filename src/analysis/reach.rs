//! Where the imported DLLs are placed, and so where each import lands: the input of the reach
//! rules. A DLL is placed at its preferred base when its file is known, or at a base the user
//! gives (`--base NAME=ADDR`); an import of a DLL that has neither has no known address.

use std::collections::HashMap;

use crate::model::index::Index;
use crate::model::Binary;

/// One DLL's place and, when its file was read, its exports.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// The DLL's name as the image imports it (compared case-insensitively).
    pub name: String,
    /// Where it is loaded.
    pub base: u64,
    /// Whether `base` was given by the user (else it is the file's preferred base).
    pub given: bool,
    /// Export RVAs by name (empty when the file is not known).
    pub by_name: HashMap<String, u64>,
    /// Export RVAs by biased ordinal.
    pub by_ordinal: HashMap<u32, u64>,
    /// Whether the DLL's file was read (so exports are known).
    pub has_file: bool,
}

impl Placement {
    /// A placement from a DLL's own model, at `base` (its preferred base when `None`).
    pub fn from_dll(name: &str, dll: &Binary, base: Option<u64>) -> Self {
        let mut p = Placement {
            name: name.to_string(),
            base: base.or(dll.image_base).unwrap_or(0),
            given: base.is_some(),
            has_file: true,
            ..Placement::default()
        };
        for e in dll.exports.iter().filter(|e| e.forwarder.is_none()) {
            if let Some(n) = &e.name {
                p.by_name.insert(n.clone(), e.rva);
            }
            p.by_ordinal.insert(e.ordinal, e.rva);
        }
        p
    }

    /// A placement from a base alone (the DLL's file is not known).
    pub fn from_base(name: &str, base: u64) -> Self {
        Placement { name: name.to_string(), base, given: true, ..Placement::default() }
    }
}

/// Where an import lands once its DLL is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The imported object's address.
    pub va: u64,
    /// Whether the export was found in the DLL's file (else `va` is the DLL's base: an estimate).
    pub exact: bool,
}

/// The resolved address of every import row of `bin` (`None` where the DLL is not placed, or the
/// name is not exported / is forwarded).
pub fn resolve(bin: &Binary, index: &Index, placements: &[Placement]) -> Vec<Option<Resolved>> {
    let by_dll: HashMap<String, &Placement> = placements.iter().map(|p| (p.name.to_ascii_lowercase(), p)).collect();
    (0..index.imports.len())
        .map(|row| {
            let module = index.import_module(bin, row)?;
            let entry = index.import_entry(bin, row)?;
            let p = by_dll.get(&module.dll.to_ascii_lowercase())?;
            if !p.has_file {
                return Some(Resolved { va: p.base, exact: false });
            }
            let rva = match (&entry.name, entry.ordinal) {
                (Some(n), _) => p.by_name.get(n).copied(),
                (None, Some(o)) => p.by_ordinal.get(&u32::from(o)).copied(),
                _ => None,
            }?;
            Some(Resolved { va: p.base.wrapping_add(rva), exact: true })
        })
        .collect()
}

/// Why a `--base` value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseError {
    /// Not `NAME=ADDR`.
    #[error("--base wants NAME=ADDR, got `{spec}`")]
    NotNameAddr {
        /// The value as written.
        spec: String,
    },
    /// ADDR is not an address.
    #[error("--base {name}: `{addr}` is not an address")]
    BadAddress {
        /// NAME.
        name: String,
        /// ADDR as written.
        addr: String,
    },
}

/// Parse `NAME=ADDR` (ADDR in hex with `0x`, or decimal).
pub fn parse_base(spec: &str) -> Result<(String, u64), BaseError> {
    let not_name_addr = || BaseError::NotNameAddr { spec: spec.to_string() };
    let (name, addr) = spec.split_once('=').ok_or_else(not_name_addr)?;
    let addr =
        parse_addr(addr).ok_or_else(|| BaseError::BadAddress { name: name.to_string(), addr: addr.to_string() })?;
    if name.is_empty() {
        return Err(not_name_addr());
    }
    Ok((name.to_string(), addr))
}

/// Parse an address: `0x…` hex, or decimal.
pub fn parse_addr(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}
