//! `linkscope strings`.

use std::io::Write;
use std::path::Path;

use crate::analysis::stream::SiteSource;
use crate::analysis::strings;
use crate::report::strings as rs;
use crate::session::{Analysis, Analyzed, Scan};

/// Run `strings`: the strings of at least `min` characters, with the sites that reference each
/// (from a scan streamed past, images only); returns the exit code.
pub fn run(file: &Path, min: usize, json: bool) -> i32 {
    let a = match Analyzed::open(file, &Analysis::scan(Scan::OnDemand, super::default_threads())) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("linkscope: {e}");
            return 2;
        }
    };
    let found = strings::find(&a.bin, &a.data, min);
    let by_rva = strings::by_rva(&a.bin, &found);
    let mut refs: Vec<Vec<u64>> = vec![Vec::new(); found.len()];
    if !by_rva.is_empty() {
        let r = a.each_piece(
            |piece| strings::referenced(&by_rva, piece),
            |hits| {
                for (k, site) in hits {
                    refs[k as usize].push(site);
                }
                Ok(())
            },
        );
        if let Err(e) = r {
            eprintln!("linkscope: {}: {e}", file.display());
            return 2;
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let doc = rs::Strings { bin: &a.bin, data: &a.data, min: min.max(1), found: &found, refs: &refs };
    let r = if json { rs::write_json(&mut out, &doc) } else { rs::write_text(&mut out, &doc) };
    super::finish(r.and_then(|()| out.flush()), 0, 1)
}
