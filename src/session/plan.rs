//! One entry point for a patch plan, for both faces: the image analysed with its sites, the
//! modules gathered, the plan run and each step given its instruction before and after.

use crate::patch::{self, DllInput, PatchOptions, PatchPlan};

use super::analyzed::{Analyzed, OpenError};
use super::modules::Module;
use super::place::PlaceError;

/// Why there is no plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// An input could not be read.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The modules do not fit the address space.
    #[error(transparent)]
    Place(#[from] PlaceError),
    /// The patch engine refused the plan.
    #[error(transparent)]
    Plan(#[from] patch::PlanError),
}

/// Plan loading `image` (analysed with its sites, for the instructions) with `modules`.
pub fn plan(image: &Analyzed, modules: &[Module], opts: &PatchOptions) -> Result<PatchPlan, PlanError> {
    let paths: Vec<String> = modules.iter().map(Module::path).collect();
    let dlls: Vec<DllInput<'_>> =
        modules.iter().zip(&paths).map(|(m, p)| DllInput { path: p, data: m.data(), bin: m.bin() }).collect();
    let mut plan = patch::plan(&image.bin, &image.data, &image.index, &dlls, opts)?;
    patch::insn::annotate(&mut plan, &image.bin, &image.index, image, || image.names().clone());
    Ok(plan)
}
