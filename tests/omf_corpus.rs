//! Every OMF file of the shared robustness corpus (`../shared/corpus/omf/`, relative to the crate
//! root) loads or is rejected with a clear error — never a panic, a hang or an unbounded
//! allocation — and every document read satisfies the structural invariants. Files that
//! `PROVENANCE.tsv` does not mark `[malformed]` (MS-DOS, Borland, Watcom objects and
//! libraries) load without error diagnostics, with segments and with every fixup placed in a
//! section. Work is bounded (see `check_bounded_work`), not timed. Skipped when the corpus is not
//! there, except under CI (`CI` set), where that fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod corpus_support;
mod omf_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use linkscope::model::{Binary, Severity};
use omf_support::{check_bounded_work, check_invariants};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn count_errors(bin: &Binary) -> usize {
    bin.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
        + bin.members.iter().filter_map(|m| m.binary.as_ref()).map(|b| count_errors(b)).sum::<usize>()
}

fn count_diags(bin: &Binary) -> usize {
    bin.diagnostics.iter().filter(|d| d.severity != Severity::Info).count()
        + bin.members.iter().filter_map(|m| m.binary.as_ref()).map(|b| count_diags(b)).sum::<usize>()
}

fn objects(bin: &Binary) -> Vec<&Binary> {
    if bin.members.is_empty() {
        vec![bin]
    } else {
        bin.members.iter().filter_map(|m| m.binary.as_deref()).collect()
    }
}

#[test]
fn every_corpus_file_loads_or_is_rejected_cleanly() {
    let Some(dir) = corpus_support::corpus_path("omf") else { return };
    let root = corpus_support::root();
    // path (relative to the corpus root) → description
    let provenance: HashMap<String, String> = std::fs::read_to_string(root.join("PROVENANCE.tsv"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((cols.first()?.to_string(), cols.last()?.to_string()))
        })
        .collect();
    let mut list = Vec::new();
    files(&dir, &mut list);
    let (mut clean, mut with_diags, mut rejected) = (0, 0, 0);
    let mut problems = Vec::new();
    for path in &list {
        let rel = path.strip_prefix(&root).map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
        if rel.ends_with(".tsv") || rel.ends_with(".md") {
            continue;
        }
        let malformed = provenance.get(&rel).is_some_and(|d| d.starts_with("[malformed]"));
        let data = std::fs::read(path).expect("read corpus file");
        let t = Instant::now();
        let result = std::panic::catch_unwind(|| linkscope::load(&data));
        let took = t.elapsed();
        match result {
            Err(_) => problems.push(format!("{rel}: panicked")),
            Ok(Err(e)) => {
                rejected += 1;
                eprintln!("rejected   {rel}: {e}");
                if !malformed {
                    problems.push(format!("{rel}: a well-formed file was rejected: {e}"));
                }
            }
            Ok(Ok(bin)) => {
                if let Err(e) = check_invariants(&bin, data.len() as u64) {
                    problems.push(format!("{rel}: {e}"));
                }
                if let Err(e) = check_bounded_work(&bin, data.len() as u64) {
                    problems.push(format!("{rel}: {e}"));
                }
                // Its code disassembled (a library's members each), every fixup named.
                for m in objects(&bin) {
                    if std::panic::catch_unwind(|| omf_support::listing_lines(m, &data)).is_err() {
                        problems.push(format!("{rel}: the disassembly panicked"));
                    }
                }
                let n = count_diags(&bin);
                if n == 0 {
                    clean += 1;
                } else {
                    with_diags += 1;
                }
                eprintln!(
                    "{:<10} {rel}: {} ({} record(s), {} warning/error diagnostic(s), {took:?})",
                    if n == 0 { "clean" } else { "diagnosed" },
                    bin.format.name(),
                    bin.omf_records.len(),
                    n
                );
                if !malformed {
                    if count_errors(&bin) > 0 {
                        problems.push(format!("{rel}: error diagnostics in a well-formed file"));
                    }
                    for obj in objects(&bin) {
                        if obj.sections.is_empty() {
                            problems.push(format!("{rel}: a module without segments"));
                        }
                        let omf = obj.omf.as_ref().expect("omf info");
                        if let Some(f) = omf.fixups.iter().find(|f| f.section.is_none() || f.offset.is_none()) {
                            problems.push(format!("{rel}: fixup not placed in a section: {}", f.description));
                        }
                        if obj.relocations.len() != omf.fixups.len() {
                            problems.push(format!("{rel}: relocations and fixups differ"));
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "OMF corpus: {} files: {clean} clean, {with_diags} with diagnostics, {rejected} rejected",
        clean + with_diags + rejected
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(clean + with_diags > 0);
}
