//! `linkscope link`: simulate a link from the linker's own command line, as text or JSON, and
//! optionally compare it with the real image and map.

use std::io::Write;
use std::path::Path;

use crate::link::{self, Flavor};
use crate::{report, session};

/// Run `link`; returns the exit code: 0 the link would succeed (and, with `--compare`, no
/// difference), 1 the linker would refuse it (or a difference), 2 unreadable input.
pub fn run(flavor: Flavor, args: &[String], json: bool, image: Option<&Path>, map: Option<&Path>) -> i32 {
    let read = |p: &str| std::fs::read(p);
    let rep = match link::simulate(flavor, args, &read) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("linkscope: link: {e}");
            return 2;
        }
    };
    let cmp = match image.map(|i| session::link::compare_files(&rep, i, map)).transpose() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("linkscope: link --compare: {e}");
            return 2;
        }
    };
    let mut code = rep.exit_code();
    if cmp.as_ref().is_some_and(|c| !c.differences.is_empty()) {
        code = 1;
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let r = if json {
        report::link::write_json(&mut out, &rep, cmp.as_ref())
    } else {
        report::link::write_text(&mut out, &rep, cmp.as_ref())
    };
    super::finish(r.and_then(|()| out.flush()), code, 2)
}
