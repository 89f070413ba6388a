//! linkscope: look inside executables, DLLs and object files, and see how a loader patches them.
//!
//! The crate is a pure core with thin faces: [`formats`] reads files into the [`model`],
//! [`report`] turns the model into text or JSON, and the CLI and GUI only read those values.

#![deny(missing_docs)]

pub mod analysis;
pub mod cli;
pub mod demangle;
pub mod diff;
pub mod formats;
#[cfg(feature = "gui")]
pub mod gui;
pub mod input;
pub mod link;
pub mod model;
pub mod patch;
pub mod report;
pub mod session;

pub use formats::{load, LoadError};
pub use model::Binary;
