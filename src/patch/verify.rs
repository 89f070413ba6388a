//! Compare a plan's prediction with the memory of a real process, at the places the loader and
//! the scheme write, nowhere else: every pseudo-relocation target, IAT slot, base-relocated field
//! (ELF: dynamic relocation) and data-reference site.

use serde::Serialize;

use super::{PatchPlan, Status};
use crate::analysis::Refs;
use crate::model::Binary;

/// One place whose bytes differ.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// RVA of the field.
    pub rva: u64,
    /// Its length in bytes.
    pub len: u64,
    /// The predicted bytes (hex, memory order).
    pub expected: String,
    /// The dump's bytes.
    pub actual: String,
    /// What the field is (`pseudo-reloc-item 3 (data.dll!arr)`, `iat-slot data.dll!pt`, …).
    pub structure: String,
}

/// The result of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Places compared.
    pub checked: u64,
    /// Places whose bytes all match.
    pub matched: u64,
    /// Bytes compared (each byte once, however many places cover it).
    pub checked_bytes: u64,
    /// Places not compared because the plan cannot predict them (an unbound import).
    pub unpredicted: u64,
    /// Places per kind: `(kind, checked, matched)`.
    pub by_kind: Vec<(String, u64, u64)>,
    /// Every place that differs.
    pub mismatches: Vec<Mismatch>,
}

/// A place to compare.
struct Place {
    rva: u64,
    len: u64,
    kind: &'static str,
    name: String,
    predictable: bool,
}

/// The places of `bin` that loading and the scheme write.
fn places(plan: &PatchPlan, bin: &Binary, refs: Option<&Refs>) -> Vec<Place> {
    let mut v = Vec::new();
    let ptr = if plan.is_64 { 8 } else { 4 };
    for s in &plan.steps {
        if s.width == 0 {
            continue;
        }
        let predictable = s.status != Status::Unresolved && s.enabled;
        v.push(Place {
            rva: s.target_rva,
            len: u64::from(s.width / 8),
            kind: match plan.scheme {
                super::SchemeKind::Mingw => "pseudo-reloc-item",
                super::SchemeKind::Elf => "dynamic-reloc",
                _ => "scheme-step",
            },
            name: format!(
                "{} {}{}",
                plan.scheme.name(),
                s.index,
                s.import.as_ref().map_or(String::new(), |i| format!(" ({i})"))
            ),
            predictable,
        });
    }
    for b in &plan.bindings {
        v.push(Place {
            rva: b.slot_rva,
            len: ptr,
            kind: "iat-slot",
            name: b.import.clone(),
            predictable: b.value.is_some(),
        });
    }
    for (i, r) in bin.base_relocations.iter().enumerate() {
        let len = crate::model::index::base_reloc_width(r.raw_type);
        if len > 0 {
            v.push(Place {
                rva: r.rva,
                len,
                kind: "base-reloc-entry",
                name: format!("{i} ({})", r.kind),
                predictable: true,
            });
        }
    }
    if let Some(refs) = refs {
        for s in &refs.sites {
            let len = u64::from(s.width / 8);
            if len == 0 {
                continue;
            }
            let predictable = !unbound_pseudo(plan, s.field_rva);
            v.push(Place {
                rva: s.field_rva,
                len,
                kind: "data-ref-site",
                name: format!("{} at 0x{:x}", s.mode.name(), s.site_rva),
                predictable,
            });
        }
    }
    v.sort_by_key(|p| (p.rva, p.len));
    v
}

fn unbound_pseudo(plan: &PatchPlan, rva: u64) -> bool {
    plan.steps.iter().any(|s| s.target_rva == rva && s.status == Status::Unresolved)
}

/// Compare `plan.patched` with `dump` (the module's memory from its base, offset = RVA).
pub fn verify(plan: &PatchPlan, bin: &Binary, refs: Option<&Refs>, dump: &[u8]) -> Verification {
    let expected = &plan.patched;
    let mut out = Verification {
        checked: 0,
        matched: 0,
        checked_bytes: 0,
        unpredicted: 0,
        by_kind: Vec::new(),
        mismatches: Vec::new(),
    };
    let mut covered_to = 0u64;
    let mut reported: Vec<(u64, u64)> = Vec::new();
    for p in places(plan, bin, refs) {
        if !p.predictable {
            out.unpredicted += 1;
            continue;
        }
        let (s, e) = (p.rva as usize, (p.rva + p.len) as usize);
        let (Some(want), Some(got)) = (expected.get(s..e), dump.get(s..e)) else {
            continue;
        };
        out.checked += 1;
        let start = p.rva.max(covered_to);
        if p.rva + p.len > start {
            out.checked_bytes += p.rva + p.len - start;
            covered_to = p.rva + p.len;
        }
        let k = match out.by_kind.iter().position(|(n, _, _)| n == p.kind) {
            Some(k) => k,
            None => {
                out.by_kind.push((p.kind.to_string(), 0, 0));
                out.by_kind.len() - 1
            }
        };
        out.by_kind[k].1 += 1;
        if want == got {
            out.matched += 1;
            out.by_kind[k].2 += 1;
        } else if !reported.contains(&(p.rva, p.len)) {
            reported.push((p.rva, p.len));
            out.mismatches.push(Mismatch {
                rva: p.rva,
                len: p.len,
                expected: hex(want),
                actual: hex(got),
                structure: format!("{} {}", p.kind, p.name),
            });
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A dump's bytes as read from a file: gunzipped when they are gzip (at most the largest image
/// the engine maps, plus one byte, so a hostile archive cannot grow without bound).
pub fn dump_bytes(raw: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&raw[..]).take(super::load::MAX_IMAGE + 1).read_to_end(&mut out)?;
    Ok(out)
}

/// A dump shorter than the module's memory image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the dump has {dump} bytes, the image's memory {memory} (SizeOfImage / the PT_LOAD span): not a dump of this module"
)]
pub struct DumpTooShort {
    /// The dump's size.
    pub dump: usize,
    /// The memory image's size.
    pub memory: usize,
}

/// Whether a dump of `dump` bytes can be a memory image of `memory` bytes (it must hold at
/// least the whole image); the error says why not.
pub fn check_dump_len(dump: usize, memory: usize) -> Result<(), DumpTooShort> {
    if dump < memory {
        return Err(DumpTooShort { dump, memory });
    }
    Ok(())
}
