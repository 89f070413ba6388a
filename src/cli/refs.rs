//! `linkscope refs`.

use std::io::Write;
use std::path::Path;

use crate::analysis::reach::parse_base;
use crate::analysis::xref::Targets;
use crate::analysis::{Site, SiteFilter};
use crate::report::refs::{self as rr, Namer, RefFilter};
use crate::session::{Analysis, Analyzed, Scan};

/// What `refs` was asked for.
#[derive(Debug, Clone, Default)]
pub struct RefsArgs {
    /// `--json`.
    pub json: bool,
    /// `--summary`.
    pub summary: bool,
    /// `--only`.
    pub only: Option<RefFilter>,
    /// `--to` (each).
    pub to: Vec<String>,
    /// `--base NAME=ADDR` (each).
    pub bases: Vec<String>,
    /// Worker threads.
    pub threads: usize,
    /// `--pdb`, `--pdb-mismatch-ok`.
    pub pdb: super::PdbFlags,
}

/// Run `refs`; returns the exit code.
pub fn refs(file: &Path, args: &RefsArgs) -> i32 {
    let mut parsed = Vec::new();
    for b in &args.bases {
        match parse_base(b) {
            Ok(p) => parsed.push(p),
            Err(e) => {
                eprintln!("linkscope: {e}");
                return 2;
            }
        }
    }
    let analysis = Analysis {
        scan: Scan::None,
        threads: args.threads,
        bases: parsed,
        pdb: args.pdb.choice(),
        ..Analysis::default()
    };
    let a = match Analyzed::open(file, &analysis) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("linkscope: {e}");
            return 2;
        }
    };
    super::warn_pdb(file, &a.pdb_notes);
    let namer = Namer { bin: &a.bin, index: &a.index };
    let targets = if args.to.is_empty() {
        None
    } else {
        match Targets::resolve(&namer, &args.to) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("linkscope: --to {e}");
                return 2;
            }
        }
    };
    let only = args.only;
    let keep = {
        let targets = targets.clone();
        move |s: &Site| only.is_none_or(|f| f.keep(s)) && targets.as_ref().is_none_or(|t| t.reaches(s))
    };
    // The calls and jumps to a target's first byte (images; objects reach theirs by relocations).
    let starts = targets.as_ref().map(|t| t.starts(&namer)).unwrap_or_default();
    // With `--to`, one scan keeps the few sites that reach the target (and the direct calls and
    // jumps); else the summary now and the sites streamed from a second scan as they are written
    // (the table: both from the scans it streams).
    let analysis = match &targets {
        Some(_) => Analysis {
            scan: Scan::Sites,
            branches: !starts.is_empty(),
            branch_targets: Some(starts.iter().filter_map(|&t| u32::try_from(t).ok()).collect()),
            keep: Some(SiteFilter(std::sync::Arc::new(keep.clone()))),
            ..analysis
        },
        // The table counts its sites while it measures its columns: no scan before it.
        None if !args.json && !args.summary => Analysis { scan: Scan::OnDemand, ..analysis },
        None => Analysis { scan: Scan::Summary, ..analysis },
    };
    let a = a.rescan(&analysis);
    let (bin, index, result, modules) = (&a.bin, &a.index, &a.refs, &a.modules);
    let namer = Namer { bin, index };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let branches = rr::branches_to(result, &starts);
    // Labels name the function of each call or jump: those of the file, and of the call targets
    // only the one nearest below each site (the others name no site here).
    let labels = if branches.is_empty() {
        crate::analysis::labels::Labels::default()
    } else {
        // A few sites: one pass over the call targets each; many: sorted once.
        let mut near: Vec<u64> = if branches.len() <= 16 {
            branches.iter().filter_map(|&(_, site, _)| result.call_target_below(site)).collect()
        } else {
            let calls = result.call_targets();
            branches
                .iter()
                .filter_map(|&(_, site, _)| calls.get(calls.partition_point(|&c| c <= site).checked_sub(1)?).copied())
                .collect()
        };
        near.sort_unstable();
        near.dedup();
        crate::analysis::labels::Labels::new(bin, &a.data, index, &near)
    };
    let labels = &labels;
    let r = if args.json {
        let extra = match &targets {
            Some(_) => vec![("branches", rr::branches_json(&namer, labels, &branches))],
            None => Vec::new(),
        };
        let doc = rr::Doc { summary_only: args.summary, extra: &extra };
        rr::write_refs_json(&mut out, &namer, result, &a, modules, &keep, &doc)
    } else {
        rr::write_refs_text(&mut out, &namer, result, &a, modules, &keep, args.summary).and_then(|()| match &targets {
            Some(_) if !args.summary => rr::write_branches_text(&mut out, &namer, labels, &branches),
            _ => Ok(()),
        })
    };
    finish(r.and_then(|()| out.flush()))
}

fn finish(r: std::io::Result<()>) -> i32 {
    super::finish(r, 0, 1)
}
