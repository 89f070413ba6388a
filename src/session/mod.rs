//! The layer between the core and the faces: what the CLI and the app both need, written once.
//!
//! * [`analyzed`]: one analysed file (bytes, model, index, scan; regions and names on first use),
//!   built by one function and shared as `Arc`;
//! * [`modules`]: where the modules an image imports come from (a folder, the app's open
//!   documents, the files given), and their placement for the scan's reach;
//! * [`place`]: the app's base presets with checked arithmetic;
//! * [`plan`]: the one entry point of a patch plan;
//! * [`job`]: long work on a named thread with progress, cancel and a wake-up callback;
//! * [`pdb`]: finding an image's PDB (CodeView path, beside the image, or given), checking its
//!   GUID and age, loading it, and its names as symbols;
//! * [`link`]: the map beside a linked image, and a prediction compared with files on disk;
//! * [`dump`], [`process`]: process memory (a minidump, an ELF core, a live process);
//! * [`verify`]: an image checked against its module in a process, and the explanation.
//!
//! It reads files (the core below it never does) but prints nothing and exits nothing: errors are
//! typed and the faces decide what they mean.

pub mod analyzed;
pub mod dump;
pub mod job;
pub mod link;
pub mod modules;
pub mod pdb;
pub mod place;
pub mod plan;
pub mod process;
pub mod verify;

pub use analyzed::{Analysis, Analyzed, OpenError, Scan};
pub use job::{Job, JobCx, JobError, Waker};
pub use modules::{Folder, Module, ModuleSource};
pub use plan::{plan, PlanError};
