//! `linkscope patch` and `linkscope verify`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::analysis::reach::{parse_addr, parse_base};
use crate::patch::{self, PatchOptions, PatchPlan, SchemeKind};
use crate::report::patch as rp;
use crate::session::{self, Analysis, Analyzed, Module, Scan};

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
    let image = open_image(a)?;
    let (given, opts) = inputs(a)?;
    let (plan, modules) = session::verify::plan_in(&image, given, opts, None)
        .map_err(|e| format!("linkscope: {}: {e}", a.image.display()))?;
    Ok(Planned { image, plan, modules })
}

/// The image, its data-reference sites streamed when read.
fn open_image(a: &PlanArgs) -> Result<Analyzed, String> {
    Analyzed::open(&a.image, &Analysis::scan(Scan::OnDemand, super::default_threads()))
        .map_err(|e| format!("linkscope: {e}"))
}

/// The DLL files given and the plan's options (`--image-base`, `--base`, `--scheme`).
fn inputs(a: &PlanArgs) -> Result<(Vec<Module>, PatchOptions), String> {
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
    Ok((given, opts))
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

/// What `verify` compares with: `--dump FILE` or `--pid N`, and `--module NAME`.
#[derive(Debug, Clone, Default)]
pub struct MemoryArgs {
    /// `--dump FILE`: a raw image dump, a minidump or an ELF core (gzip accepted).
    pub dump: Option<PathBuf>,
    /// `--pid N`: a running process.
    pub pid: Option<u32>,
    /// `--module NAME`: the module in the dump or process.
    pub module: Option<String>,
}

/// Run `verify`; returns the exit code.
pub fn run_verify(a: &PlanArgs, m: &MemoryArgs, json: bool, explain: bool) -> i32 {
    let src = match super::dump::Source::open(m.dump.as_deref(), m.pid) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    match (src, &m.dump) {
        (Some(src), _) => run_verify_in(a, &src, m.module.as_deref(), json, explain),
        (None, Some(dump)) if m.module.is_none() => run_verify_raw(a, dump, json, explain),
        (None, Some(dump)) => {
            eprintln!(
                "linkscope: {}: --module needs a minidump, an ELF core or --pid (this is a raw image dump)",
                dump.display()
            );
            2
        }
        (None, None) => {
            eprintln!("linkscope: verify needs --dump FILE or --pid N");
            2
        }
    }
}

/// `verify` against a module of a dump or a process.
fn run_verify_in(a: &PlanArgs, src: &super::dump::Source, module: Option<&str>, json: bool, explain: bool) -> i32 {
    // A damaged dump is not compared: what it holds cannot be trusted to be where it says.
    if let Err(notes) = session::verify::usable(src) {
        for n in &notes {
            eprintln!("linkscope: {}: {n}", src.name());
        }
        eprintln!("linkscope: {}: the dump is damaged; `linkscope inspect` lists what it holds", src.name());
        return 2;
    }
    let (found, by) = match src.find(module, &a.image) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let checked = open_image(a).and_then(|image| {
        let (given, opts) = inputs(a)?;
        let c = session::verify::check_in(&image, src, &found, given, opts).map_err(|e| format!("linkscope: {e}"))?;
        Ok((image, c))
    });
    let (image, c) = match checked {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    if explain {
        return super::explain::explain_memory(&image, &c.plan, &c.modules, &c.verification, &c.memory, json);
    }
    let (p, v, lazy, base, mem) = (&c, &c.verification, c.not_yet_bound, c.base, &c.memory);
    let in_process = session::verify::InProcess::of(src, &found);
    let code = if v.mismatches.is_empty() { 0 } else { 1 };
    // Where each base came from: typed, the process, or the module's own preference.
    let typed =
        |name: &str| a.bases.iter().any(|b| b.split_once('=').is_some_and(|(n, _)| n.eq_ignore_ascii_case(name)));
    let from: Vec<&str> = p
        .plan
        .modules
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if (i == 0 && a.image_base.is_some()) || (i > 0 && typed(&m.name)) {
                "given"
            } else if i == 0 || in_process.bases.iter().any(|(n, b)| n.eq_ignore_ascii_case(&m.name) && *b == m.base) {
                "dump"
            } else {
                "preferred"
            }
        })
        .collect();
    let held = c.held();
    finish(
        |w| {
            if json {
                let mut doc = rp::verify_json(&p.plan, v);
                if let Some(o) = doc.as_object_mut() {
                    o.insert("not_yet_bound".into(), serde_json::json!(lazy));
                }
                rp::add_process_keys(
                    &mut doc,
                    &from,
                    v.not_in_dump,
                    &rp::InDump {
                        source: src.dump().format.name(),
                        module: &found.name,
                        found_by: super::dump::found_by_name(by),
                        base,
                        held,
                        size: mem.len() as u64,
                    },
                );
                serde_json::to_writer(&mut *w, &doc)?;
                writeln!(w)
            } else {
                writeln!(
                    w,
                    "module {} at 0x{base:x} in {} (found by {}); {held} of {} bytes in the dump",
                    found.name,
                    src.name(),
                    super::dump::found_by_name(by),
                    mem.len()
                )?;
                rp::write_verify_text(w, v)?;
                if lazy > 0 {
                    writeln!(
                        w,
                        "{lazy} JUMP_SLOTs not yet bound (lazy binding: they still point into the module, at its PLT)"
                    )?;
                }
                if v.not_in_dump > 0 {
                    writeln!(w, "{} places not in the dump (not compared)", v.not_in_dump)?;
                }
                Ok(())
            }
        },
        code,
    )
}

/// `verify` against a raw image dump (SizeOfImage bytes from the base), as before dumps of
/// whole processes were read.
fn run_verify_raw(a: &PlanArgs, dump: &Path, json: bool, explain: bool) -> i32 {
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
