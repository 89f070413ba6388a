//! `linkscope patch` and `linkscope verify`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::analysis::reach::{parse_addr, parse_base};
use crate::patch::{self, PatchOptions, PatchPlan, SchemeKind};
use crate::report::patch as rp;
use crate::session::{self, modules, Analysis, Analyzed, Folder, Module, Scan};

/// What `patch` and `verify` share.
#[derive(Debug, Clone)]
pub struct PlanArgs {
    /// The image.
    pub image: PathBuf,
    /// DLL files (more are taken from beside the image).
    pub dlls: Vec<PathBuf>,
    /// `--image-base`.
    pub image_base: Option<String>,
    /// `--base NAME=ADDR`.
    pub bases: Vec<String>,
    /// `--scheme`.
    pub scheme: Option<SchemeKind>,
}

/// A plan with the image it was computed from.
pub struct Planned {
    /// The image, its DLLs placed; its data-reference sites are streamed (for instructions and
    /// `verify`).
    pub image: Analyzed,
    /// The plan.
    pub plan: PatchPlan,
    /// The DLL files given to the plan (given, or found beside the image).
    pub modules: Vec<Module>,
}

/// Read the inputs and compute the plan; `Err` is the message for exit code 2.
pub fn compute(a: &PlanArgs) -> Result<Planned, String> {
    let image = Analyzed::open(&a.image, &Analysis::scan(Scan::OnDemand, super::default_threads()))
        .map_err(|e| format!("linkscope: {e}"))?;
    let mut opts =
        PatchOptions { scheme: a.scheme, image_path: Some(a.image.display().to_string()), ..Default::default() };
    if let Some(b) = &a.image_base {
        opts.image_base = Some(
            parse_addr(b)
                .ok_or_else(|| format!("linkscope: --image-base {b}: not an address (hex with 0x, or decimal)"))?,
        );
    }
    for b in &a.bases {
        opts.bases.push(parse_base(b).map_err(|e| format!("linkscope: --base {b}: {e}"))?);
    }
    let given =
        a.dlls.iter().map(|d| Module::read(d)).collect::<Result<Vec<_>, _>>().map_err(|e| format!("linkscope: {e}"))?;
    let modules = modules::gather(&image.bin, given, &[&Folder::beside(&a.image)]);
    let plan = session::plan(&image, &modules, &opts).map_err(|e| format!("linkscope: {}: {e}", a.image.display()))?;
    Ok(Planned { image, plan, modules })
}

/// Run `patch`; returns the exit code.
pub fn run_patch(a: &PlanArgs, out: Option<&Path>, json: bool) -> i32 {
    let p = match compute(a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    if let Some(o) = out {
        if let Err(e) = crate::input::write_atomically(o, &p.plan.patched) {
            eprintln!("linkscope: {}: {e}", o.display());
            return 2;
        }
    }
    let out_name = out.map(|o| o.display().to_string());
    finish(
        |w| {
            if json {
                serde_json::to_writer(&mut *w, &rp::plan_json(&p.plan, out_name.as_deref()))?;
                writeln!(w)
            } else {
                rp::write_plan_text(w, &p.plan)
            }
        },
        0,
    )
}

/// Run `verify`; returns the exit code.
pub fn run_verify(a: &PlanArgs, dump: &Path, json: bool, explain: bool) -> i32 {
    let p = match compute(a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let size = p.plan.patched.len();
    let dump_name = dump.display();
    // A raw dump is read once, front to back, as the places are compared; a gzip one in memory.
    let opened = std::fs::File::open(dump).and_then(|mut f| {
        use std::io::{Read, Seek};
        let mut magic = [0u8; 2];
        let n = f.read(&mut magic)?;
        f.rewind()?;
        let len = f.metadata()?.len();
        Ok((f, n == 2 && magic == [0x1f, 0x8b], len))
    });
    let (file, gzip, len) = match opened {
        Ok(o) => o,
        Err(e) => {
            eprintln!("linkscope: {dump_name}: {e}");
            return 2;
        }
    };
    let whole = if gzip {
        match patch::verify::dump_bytes({
            let mut raw = Vec::new();
            match std::io::Read::read_to_end(&mut &file, &mut raw) {
                Ok(_) => raw,
                Err(e) => {
                    eprintln!("linkscope: {dump_name}: {e}");
                    return 2;
                }
            }
        }) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("linkscope: {dump_name}: {e}");
                return 2;
            }
        }
    } else {
        None
    };
    let dump_len = whole.as_ref().map_or(usize::try_from(len).unwrap_or(usize::MAX), Vec::len);
    if let Err(e) = patch::verify::check_dump_len(dump_len, size) {
        eprintln!("linkscope: {dump_name}: {e}");
        return 2;
    }
    if dump_len > size {
        eprintln!(
            "linkscope: {dump_name}: the dump has {} bytes more than the image's memory; comparing the first {size}",
            dump_len - size
        );
    }
    let v = match &whole {
        Some(bytes) => patch::verify::verify(&p.plan, &p.image.bin, Some(&p.image), bytes),
        None => match patch::verify::verify_stream(&p.plan, &p.image.bin, Some(&p.image), file) {
            (v, None) => v,
            (_, Some(e)) => {
                eprintln!("linkscope: {dump_name}: {e}");
                return 2;
            }
        },
    };
    if explain {
        return super::explain::run(p, &v, dump, whole, json);
    }
    let code = if v.mismatches.is_empty() { 0 } else { 1 };
    finish(
        |w| {
            if json {
                serde_json::to_writer(&mut *w, &rp::verify_json(&p.plan, &v))?;
                writeln!(w)
            } else {
                rp::write_verify_text(w, &v)
            }
        },
        code,
    )
}

fn finish(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>, code: i32) -> i32 {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    super::finish(f(&mut out).and_then(|()| out.flush()), code, 2)
}
