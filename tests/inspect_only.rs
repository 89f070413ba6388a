//! The compact `inspect --json` document is written key by key (`report::json`), with the base
//! relocations by hand: it must be exactly serde's derived document, whole and for every
//! `--only PART`, on every fixture.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use linkscope::report::{document_value, write_json, Part};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_written_document_is_the_derived_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for d in ["assets/samples", "tests/fixtures"] {
        files(&root.join(d), &mut all);
    }
    let (mut compared, mut with_members, mut with_relocs) = (0, 0, 0);
    for path in &all {
        let data = std::fs::read(path).unwrap();
        let Ok(bin) = linkscope::load(&data) else { continue };
        with_members += usize::from(!bin.members.is_empty());
        with_relocs += usize::from(!bin.base_relocations.is_empty());
        for only in std::iter::once(None).chain(Part::ALL.map(Some)) {
            let mut written = Vec::new();
            write_json(&mut written, &bin, only, false).unwrap();
            let mut derived = serde_json::to_vec(&document_value(&bin, only).unwrap()).unwrap();
            derived.push(b'\n');
            assert!(written == derived, "{} --only {only:?} differs", path.display());
            compared += 1;
        }
    }
    assert!(compared > 1000 && with_members > 5 && with_relocs > 20, "{compared} {with_members} {with_relocs}");
}
