//! Robustness: every file of the shared corpus (../shared/corpus, beside the clone) loads or is
//! rejected with an error — no panic, and bounded work (diagnostics capped, every decoded
//! instruction covering code bytes) — and a loaded file still renders as text and JSON and goes
//! through the data-reference scan, the patch engine and (objects and archives) the link
//! simulation. Skipped without the corpus, except under CI (`CI` set), where that fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus_support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_none_or(|e| e != "tsv" && e != "md") {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_file_loads_or_fails_cleanly() {
    let Some(dir) = corpus_support::corpus_path("") else { return };
    let mut all = Vec::new();
    files(&dir, &mut all);
    assert!(all.len() > 400, "corpus has {} files", all.len());
    let (mut loaded, mut rejected, mut with_diags) = (0, 0, 0);
    let mut slowest = (Duration::ZERO, PathBuf::new());
    for path in &all {
        let data = std::fs::read(path).unwrap();
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let start = Instant::now();
        // A thread per file (with a large stack): a panic is caught as a failure.
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || {
                let r = linkscope::load(&data).map(|bin| {
                    let mut text = Vec::new();
                    linkscope::report::text::write_text(&mut text, &bin, None).unwrap();
                    let mut json = Vec::new();
                    linkscope::report::write_json(&mut json, &bin, None, false).unwrap();
                    serde_json::from_slice::<serde_json::Value>(&json).unwrap();
                    // The data-reference scan and its listing index, on hostile code too.
                    let index = linkscope::model::index::Index::new(&bin);
                    let opts = linkscope::analysis::RefOptions { instructions: true, ..Default::default() };
                    let refs = linkscope::analysis::scan_refs(&bin, &data, &index, &opts);
                    assert!(refs.insns.len() as u64 >= refs.summary.instructions);
                    assert!(refs.summary.instructions <= refs.summary.code_bytes, "{:?}", refs.summary);
                    assert!(bin.diagnostics.len() <= linkscope::model::MAX_DIAGNOSTICS + 1);
                    // The patch engine: the file as its own DLL (a collision), every scheme, and
                    // an absurd base; errors are fine, panics and hangs are not.
                    let dll = linkscope::patch::DllInput { path: "self.dll", data: &data, bin: &bin };
                    for scheme in linkscope::patch::SchemeKind::ALL {
                        for image_base in [None, Some(0xffff_ffff_ffff_0000)] {
                            let opts = linkscope::patch::PatchOptions {
                                scheme: Some(scheme),
                                image_base,
                                ..Default::default()
                            };
                            if let Ok(plan) = linkscope::patch::plan(&bin, &data, &index, &[dll], &opts) {
                                let v = linkscope::patch::verify::verify(
                                    &plan,
                                    &bin,
                                    None::<&linkscope::analysis::Refs>,
                                    &plan.patched,
                                );
                                assert!(v.mismatches.is_empty());
                            }
                        }
                    }
                    // The link simulation: the file linked alone, under each linker's rules.
                    if matches!(
                        bin.format,
                        linkscope::model::Format::Coff
                            | linkscope::model::Format::CoffBigobj
                            | linkscope::model::Format::Archive
                    ) {
                        let read = |_: &str| Ok(data.clone());
                        for flavor in [
                            linkscope::link::Flavor::LldLink,
                            linkscope::link::Flavor::LldMingw,
                            linkscope::link::Flavor::GnuLd,
                        ] {
                            let _ = linkscope::link::simulate(flavor, &["in.obj".to_string()], &read);
                        }
                    }
                    bin.diagnostics.len()
                });
                let _ = tx.send(r.map_err(|e| e.to_string()));
            })
            .unwrap();
        match rx.recv() {
            Ok(Ok(n)) => {
                loaded += 1;
                if n > 0 {
                    with_diags += 1;
                }
            }
            Ok(Err(msg)) => {
                assert!(!msg.is_empty());
                rejected += 1;
            }
            Err(mpsc::RecvError) => panic!("{}: the reader panicked", p.display()),
        }
        let t = start.elapsed();
        if t > slowest.0 {
            slowest = (t, p);
        }
    }
    eprintln!(
        "corpus: {} files, {loaded} loaded ({with_diags} with diagnostics), {rejected} rejected; slowest {:?} ({})",
        all.len(),
        slowest.0,
        slowest.1.display()
    );
}
