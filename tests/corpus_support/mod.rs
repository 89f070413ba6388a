//! Where the shared robustness corpus is (`../shared/corpus`, beside the clone), for the tests that
//! read it. Without the corpus they skip with a message; under CI (the environment variable `CI`
//! set) a missing corpus fails the test instead, so the corpus tests cannot pass having checked
//! nothing.

#![allow(dead_code, clippy::panic)]

use std::path::{Path, PathBuf};

/// The corpus root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// `rel` (a file or folder under the corpus root, "" for the root itself) if it is there. When it
/// is not: under CI, a panic; otherwise a message saying the test skips it, and None.
pub fn corpus_path(rel: &str) -> Option<PathBuf> {
    let p = if rel.is_empty() { root() } else { root().join(rel) };
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing and CI is set: the shared corpus must be there (../shared/corpus beside the clone)",
        p.display()
    );
    eprintln!("{} not found; skipping", p.display());
    None
}
