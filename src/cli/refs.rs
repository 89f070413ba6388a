//! `linkscope refs`.

use std::io::Write;
use std::path::Path;

use crate::analysis::reach::parse_base;
use crate::analysis::xref::Targets;
use crate::analysis::Site;
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
    // The sites are streamed from a second scan as they are written, never kept.
    let analysis = Analysis { scan: Scan::Summary, threads: args.threads, bases: parsed, ..Analysis::default() };
    let a = match Analyzed::open(file, &analysis) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("linkscope: {e}");
            return 2;
        }
    };
    let (bin, index, result, modules) = (&a.bin, &a.index, &a.refs, &a.modules);
    let namer = Namer { bin, index };
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
    let keep = |s: &Site| only.is_none_or(|f| f.keep(s)) && targets.as_ref().is_none_or(|t| t.reaches(s));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let r = if args.json {
        rr::write_refs_json(&mut out, &namer, result, &a, modules, &keep, args.summary)
    } else {
        rr::write_refs_text(&mut out, &namer, result, &a, modules, &keep, args.summary)
    };
    finish(r.and_then(|()| out.flush()))
}

fn finish(r: std::io::Result<()>) -> i32 {
    super::finish(r, 0, 1)
}
