//! Where the modules of a plan go: the presets the app offers (preferred, near, far, colliding)
//! and bases typed per module, turned into the plan's `--image-base` / `--base NAME=ADDR`
//! values with checked arithmetic.

use crate::model::Binary;
use crate::patch::{self, DllInput};

use super::modules::Module;

/// Where the DLLs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// Their preferred bases.
    #[default]
    Preferred,
    /// Right after the image (within 2 GiB).
    Near,
    /// More than 4 GiB above the image (x64; i386: as high as a 32-bit process allows).
    Far,
    /// At the image's own base: the loader has to move them.
    Collide,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [Preset::Preferred, Preset::Near, Preset::Far, Preset::Collide];

    /// Label in words.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Preferred => "Preferred",
            Preset::Near => "Near",
            Preset::Far => "Far (> 4 GiB away)",
            Preset::Collide => "Collide with the image",
        }
    }
}

/// A placement that does not fit the address space.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// The next base after `module` would pass the end of the address space.
    #[error("no room for the modules after {module} (0x{base:x} + 0x{size:x} passes the end of the address space)")]
    Overflow {
        /// The module placed last.
        module: String,
        /// Its base.
        base: u64,
        /// Its size in memory.
        size: u64,
    },
}

/// The bases of a plan: the image's (None: its preferred one) and each DLL's by imported name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bases {
    /// The image's base, when typed.
    pub image: Option<u64>,
    /// DLL bases by the name the image imports them by.
    pub dlls: Vec<(String, u64)>,
}

const ALIGN: u64 = 0x10000;

/// `v` rounded up to the 64 KiB allocation granularity, or None past the end.
fn align_up(v: u64) -> Option<u64> {
    v.checked_add(ALIGN - 1).map(|x| x & !(ALIGN - 1))
}

/// The first base after a module at `base` of `size` bytes, 64 KiB-aligned.
fn after(module: &str, base: u64, size: u64) -> Result<u64, PlaceError> {
    base.checked_add(size).and_then(align_up).ok_or_else(|| PlaceError::Overflow {
        module: module.to_string(),
        base,
        size,
    })
}

/// Place `modules` (loaded beside `image`) by `preset`; a base `typed` for a module (by imported
/// name; `""` is the image) wins over the preset, and typed bases of modules without a file are
/// kept (their imports stay unresolved).
pub fn bases(image: &Binary, modules: &[Module], preset: Preset, typed: &[(String, u64)]) -> Result<Bases, PlaceError> {
    let names = patch::load::imported_names(image);
    let base = image.image_base.unwrap_or(0);
    let size = patch::load::image_size(image);
    let mut at = match preset {
        Preset::Preferred => None,
        Preset::Near => Some(after("the image", base, size)?),
        Preset::Far if image.is_64 => Some(base.checked_add(8 << 30).ok_or_else(|| PlaceError::Overflow {
            module: "the image".into(),
            base,
            size: 8 << 30,
        })?),
        Preset::Far => Some(0x7000_0000u64.max(base.saturating_add(size))),
        Preset::Collide => Some(base),
    };
    let mut dlls = Vec::new();
    for m in modules {
        let path = m.path();
        let d = DllInput { path: &path, data: &[], bin: m.bin() };
        let name = names.iter().find(|n| patch::load::dll_name_matches(&d, n)).cloned().unwrap_or_default();
        if let Some(&(_, b)) = typed.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            dlls.push((name, b));
        } else if let Some(a) = at {
            if preset != Preset::Collide {
                at = Some(after(&name, a, patch::load::image_size(m.bin()))?);
            }
            dlls.push((name, a));
        }
    }
    for (n, b) in typed {
        if !n.is_empty() && !dlls.iter().any(|(x, _)| x.eq_ignore_ascii_case(n)) {
            dlls.push((n.clone(), *b));
        }
    }
    let image = typed.iter().find(|(n, _)| n.is_empty()).map(|&(_, b)| b);
    Ok(Bases { image, dlls })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bases_round_up_and_overflow_is_an_error() {
        assert_eq!(after("a", 0x1_4000_0000, 0x12000), Ok(0x1_4002_0000));
        assert_eq!(after("a", 0x1_4000_0000, 0x10000), Ok(0x1_4001_0000));
        assert!(matches!(after("a", u64::MAX - 0x100, 0x1000), Err(PlaceError::Overflow { .. })));
        assert!(matches!(after("a", u64::MAX - 0x1000, 0x10), Err(PlaceError::Overflow { .. })));
    }
}
