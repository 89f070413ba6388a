//! `linkscope link`: simulate a link from the linker's own command line (optionally after the
//! linker's program name, which picks the flavour), as text or JSON, and optionally compare it
//! with the real image and / or map.

use std::io::Write;
use std::path::Path;

use crate::link::{self, Flavor};
use crate::{report, session};

/// Run `link`; returns the exit code: 0 the link would succeed (and, with `--compare` /
/// `--map`, no difference), 1 the linker would refuse it (or a difference), 2 unreadable input
/// (or `--write-image` could not write).
pub fn run(
    flavor: Option<Flavor>,
    args: &[String],
    json: bool,
    image: Option<&Path>,
    map: Option<&Path>,
    write_image: Option<&Path>,
) -> i32 {
    let cmd = link::command::read(args);
    let flavor = match (flavor, cmd.flavor) {
        (Some(f), Some(g)) if f != g => {
            eprintln!(
                "linkscope: link: note: --flavor {} wins over {} (which is {})",
                f.name(),
                cmd.program.as_deref().unwrap_or_default(),
                g.name()
            );
            f
        }
        (Some(f), _) | (None, Some(f)) => f,
        (None, None) => {
            eprintln!(
                "linkscope: link: which linker? give --flavor, or start the command line with its name (lld-link, ld.lld, x86_64-w64-mingw32-ld, …)"
            );
            return 2;
        }
    };
    for n in &cmd.notes {
        eprintln!("linkscope: link: note: {n}");
    }
    // Mapped: the objects' pages stay the page cache's.
    let read = |p: &str| crate::input::Input::open(Path::new(p));
    // lld-link searches the directories of LIB too.
    let env = crate::session::link::environment(None);
    let threads = link::par::default_threads();
    let simulated = match write_image {
        Some(_) => link::simulate_image(flavor, &cmd.args, &env, &read, threads),
        None => link::simulate_in(flavor, &cmd.args, &env, &read, threads).map(|r| (r, None)),
    };
    let (rep, written) = match simulated {
        Ok(r) => r,
        Err(e) => {
            eprintln!("linkscope: link: {e}");
            return 2;
        }
    };
    if let Some(path) = write_image {
        if let Err(e) = write_simulated(path, written.as_ref()) {
            eprintln!("linkscope: link --write-image {}: {e}", path.display());
            return 2;
        }
    }
    let cmp = if image.is_some() || map.is_some() {
        match session::link::compare_files(&rep, image, map) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("linkscope: link --compare: {e}");
                return 2;
            }
        }
    } else {
        None
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

/// Write the simulated image to `path` and list on stderr the bytes it does not know.
fn write_simulated(
    path: &Path,
    image: Option<&Result<link::image::Image, link::image::ImageError>>,
) -> Result<(), String> {
    let img = image.ok_or("the link stops before it lays out an image: nothing written")?;
    let img = img.as_ref().map_err(|e| e.to_string())?;
    crate::input::write_atomically(path, &img.bytes).map_err(|e| e.to_string())?;
    let unknown: u64 = img.unknown.iter().map(|u| u.size).sum();
    eprintln!(
        "linkscope: link: wrote {} ({} bytes; {unknown} bytes in {} runs not known)",
        path.display(),
        img.bytes.len(),
        img.unknown.len()
    );
    for u in &img.unknown {
        eprintln!("linkscope: link:   {} 0x{:x}..0x{:x}: {}", u.section, u.rva, u.rva + u.size, u.why);
    }
    Ok(())
}
