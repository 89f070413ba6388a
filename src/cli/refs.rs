//! `linkscope refs`.

use std::io::Write;
use std::path::Path;

use crate::analysis::reach::parse_base;
use crate::report::refs::{self as rr, Namer, RefFilter};
use crate::session::{Analysis, Analyzed, Scan};

/// Run `refs`; returns the exit code.
pub fn refs(file: &Path, json: bool, summary: bool, only: Option<RefFilter>, bases: &[String], threads: usize) -> i32 {
    let mut parsed = Vec::new();
    for b in bases {
        match parse_base(b) {
            Ok(p) => parsed.push(p),
            Err(e) => {
                eprintln!("linkscope: {e}");
                return 2;
            }
        }
    }
    let scan = if summary { Scan::Summary } else { Scan::Sites };
    let a = match Analyzed::open(file, &Analysis { scan, threads, bases: parsed, ..Analysis::default() }) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("linkscope: {e}");
            return 2;
        }
    };
    let (bin, index, result, modules) = (&a.bin, &a.index, &a.refs, &a.modules);
    let namer = Namer { bin, index };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let r = if json {
        rr::write_refs_json(&mut out, &namer, result, modules, only, summary)
    } else {
        rr::write_refs_text(&mut out, &namer, result, modules, only, summary)
    };
    finish(r.and_then(|()| out.flush()))
}

fn finish(r: std::io::Result<()>) -> i32 {
    super::finish(r, 0, 1)
}
