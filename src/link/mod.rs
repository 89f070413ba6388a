//! Link simulation: given COFF objects and archives and the linker's own command line, which
//! COMDAT copy survives, what is discarded and why, and where every input section lands, for
//! three linkers with their own rules: lld-link (MSVC mode), lld in MinGW mode (`ld.lld -m
//! i386pep`, `lld-link -lldmingw`) and GNU ld (binutils PE). Pure: the caller supplies the bytes.
//!
//! Pipeline: [`command`] reads the program name off a line as typed, [`args`] reads the command
//! line, [`search`] finds its files and `-l` libraries as the linker does, [`inputs`] reads
//! them, [`resolve`] reads them in the
//! linker's order (symbols, archive members, COMDAT selection in [`comdat`] and [`gnu`]),
//! [`live`] garbage-collects and folds, [`layout`] / [`gnu_layout`] place what is left, and
//! [`report`] says what happened; [`compare`] puts a real image and map beside it.

pub mod args;
pub mod autoexport;
pub mod autoimport;
pub mod comdat;
pub mod command;
pub mod compare;
pub mod debug;
pub mod deffile;
pub mod delay;
pub mod drectve;
pub mod exports;
pub mod gnu;
mod gnu_args;
pub mod gnu_autoimport;
pub mod gnu_layout;
pub mod image;
pub mod image_headers;
pub mod implib;
pub mod inputs;
pub mod layout;
pub mod live;
pub mod map;
pub mod merge;
pub mod options;
pub mod par;
pub mod read;
pub mod report;
pub mod resolve;
pub mod rows;
pub mod search;
pub mod undefined;

use std::collections::{HashMap, HashSet, VecDeque};

pub use report::Report;

/// The linker being simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Flavor {
    /// `lld-link` in MSVC mode.
    #[serde(rename = "lld-link")]
    LldLink,
    /// lld in MinGW mode: `ld.lld -m i386pep|i386pe` (= `lld-link -lldmingw`).
    #[serde(rename = "lld-mingw")]
    LldMingw,
    /// GNU ld for PE (`x86_64-w64-mingw32-ld`, `i686-w64-mingw32-ld`).
    #[serde(rename = "gnu-ld")]
    GnuLd,
}

impl Flavor {
    /// The CLI / JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::LldLink => "lld-link",
            Flavor::LldMingw => "lld-mingw",
            Flavor::GnuLd => "gnu-ld",
        }
    }

    /// Parse a CLI name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lld-link" => Some(Flavor::LldLink),
            "lld-mingw" => Some(Flavor::LldMingw),
            "gnu-ld" => Some(Flavor::GnuLd),
            _ => None,
        }
    }
}

/// An input or command line that cannot be read (the CLI exits with 2).
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// The command line.
    #[error(transparent)]
    Args(#[from] args::ArgsError),
    /// A command line without inputs.
    #[error("no input files on the command line")]
    NoInputs,
    /// An input that cannot be read from disk.
    #[error("{path}: {source}")]
    Io {
        /// The input as the command line names it.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// An input that cannot take part in the link.
    #[error(transparent)]
    Input(#[from] inputs::InputError),
    /// The first object's machine is not simulated.
    #[error("machine 0x{machine:x} is not simulated (x64 and x86 are)")]
    Machine {
        /// The COFF machine field.
        machine: u16,
    },
}

/// A file reader for [`simulate`]: the bytes of an input by the name the command line gives
/// (read into a `Vec<u8>`, or a [`inputs::FileBytes`] map), called from several threads at once.
pub type ReadFile<'a, B> = &'a (dyn Fn(&str) -> std::io::Result<B> + Sync);

/// Simulate a link. `read` fetches a file's bytes by the name the command line gives (or a
/// path the linker's search makes of it; `NotFound` means "try the next"). The objects are read
/// on one thread per core; the result does not depend on the count. No environment is read:
/// see [`simulate_in`].
pub fn simulate<B: Into<inputs::FileBytes>>(
    flavor: Flavor,
    command_line: &[String],
    read: ReadFile<B>,
) -> Result<Report, Unreadable> {
    simulate_in(flavor, command_line, &search::Environment::default(), read, par::default_threads())
}

/// [`simulate`] reading the objects on `threads` threads (the command line's objects at once,
/// archive members in batches of those fetched together); resolution stays in the linker's
/// order, so the report is the same for any count.
pub fn simulate_threads<B: Into<inputs::FileBytes>>(
    flavor: Flavor,
    command_line: &[String],
    read: ReadFile<B>,
    threads: usize,
) -> Result<Report, Unreadable> {
    simulate_in(flavor, command_line, &search::Environment::default(), read, threads)
}

/// One command-line input after the search: read, or not found (its "not found" message).
type Found = Result<inputs::Input, String>;

/// The first of `paths` that `read` finds, read as an input; `Ok(None)` when none exists.
fn first_found<B: Into<inputs::FileBytes>>(
    paths: &[String],
    read: ReadFile<B>,
) -> Result<Option<(String, inputs::Input)>, Unreadable> {
    for p in paths {
        match read(p) {
            Ok(bytes) => return Ok(Some((p.clone(), inputs::read_input(p, bytes)?))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Unreadable::Io { path: p.clone(), source }),
        }
    }
    Ok(None)
}

/// [`simulate_threads`] with the linker's environment (`LIB` for lld-link's search).
pub fn simulate_in<B: Into<inputs::FileBytes>>(
    flavor: Flavor,
    command_line: &[String],
    env: &search::Environment,
    read: ReadFile<B>,
    threads: usize,
) -> Result<Report, Unreadable> {
    run(flavor, command_line, env, read, threads, false).map(|(rep, _)| rep)
}

/// [`simulate_in`], and the image the link would write (see [`image`]) when it runs to the end
/// (or why none can be written).
pub fn simulate_image<B: Into<inputs::FileBytes>>(
    flavor: Flavor,
    command_line: &[String],
    env: &search::Environment,
    read: ReadFile<B>,
    threads: usize,
) -> Result<(Report, Option<Result<image::Image, image::ImageError>>), Unreadable> {
    run(flavor, command_line, env, read, threads, true)
}

fn run<B: Into<inputs::FileBytes>>(
    flavor: Flavor,
    command_line: &[String],
    env: &search::Environment,
    read: ReadFile<B>,
    threads: usize,
    want_image: bool,
) -> Result<(Report, Option<Result<image::Image, image::ImageError>>), Unreadable> {
    let mut cfg = args::parse(flavor, command_line)?;
    if cfg.inputs.is_empty() && cfg.default_libs.is_empty() {
        return Err(Unreadable::NoInputs);
    }
    // Plain files first (GNU ld's default search directory depends on the machine, which the
    // first object may decide), then the libraries; both on `threads` threads, in order.
    let lld_dirs = search::directories(flavor, &cfg, args::Machine::X64, env);
    let find = |spec: &search::InputSpec, dirs: &[String]| -> Result<(Option<String>, Found), Unreadable> {
        let paths = search::candidates(flavor, spec, dirs);
        Ok(match first_found(&paths, read)? {
            Some((path, input)) => (Some(path), Ok(input)),
            None => (None, Err(spec.file().unwrap_or_default().to_string())),
        })
    };
    let files: Vec<_> = par::map_ordered(&cfg.inputs, threads, |spec| match spec {
        search::InputSpec::File(_) => find(spec, &lld_dirs).map(Some),
        search::InputSpec::Library { .. } => Ok(None),
    })
    .into_iter()
    .collect::<Result<_, _>>()?;
    let machine = match cfg.machine {
        Some(m) => m,
        None => first_machine(files.iter().flatten().filter_map(|(_, f)| f.as_ref().ok()))?,
    };
    let dirs = search::directories(flavor, &cfg, machine, env);
    let libs: Vec<_> = par::map_ordered(&cfg.inputs, threads, |spec| match spec {
        search::InputSpec::Library { .. } => find(spec, &dirs).map(Some),
        search::InputSpec::File(_) => Ok(None),
    })
    .into_iter()
    .collect::<Result<_, _>>()?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (i, ((spec, file), lib)) in cfg.inputs.iter().zip(files).zip(libs).enumerate() {
        match file.or(lib) {
            Some((Some(path), Ok(input))) => found.push((path, input, Some(i))),
            Some((_, Err(name))) => missing.push((spec.clone(), name)),
            _ => {}
        }
    }
    // /delayload: lld-link needs the helper that loads the DLL (a GC root that must be defined).
    if !cfg.delay_loads.is_empty() && flavor != Flavor::GnuLd {
        cfg.includes.push(delay::helper(machine).to_string());
    }
    // The .def file (lld-link's /def:, a .def on ld.lld's or GNU ld's line): after the command
    // line's /export:s, before the objects' directives.
    let def_error = match cfg.def_file.clone() {
        Some(path) => read_def(&mut cfg, &path, read, machine).err(),
        None => None,
    };
    let (codeview_path, codeview_note) = debug::codeview_path(&cfg, env.cwd.as_deref());
    cfg.codeview_path = codeview_path;
    let mut w = resolve::World::new(cfg, machine);
    if let Some(e) = def_error {
        w.error(e);
        w.fatal = true;
        return Ok((report::build(&w, &[], None), None));
    }
    if let Some(n) = codeview_note {
        w.note(n);
    }
    w.threads = threads;
    w.search_dirs = dirs;
    if flavor != Flavor::GnuLd {
        // lld reads one file once, however it is named.
        found.retain(|(path, _, _)| w.visited.file(path));
    }
    // lld-link reads the command line's /defaultlib: after its inputs.
    for lib in w.cfg.default_libs.clone() {
        match default_lib(&mut w, &lib, read)? {
            DefaultLib::Found(path, input) => found.push((path, input, None)),
            DefaultLib::Missing(name) => missing.push((search::InputSpec::File(name.clone()), name)),
            DefaultLib::Skipped => {}
        }
    }
    if refuse_missing(&mut w, &missing) {
        return Ok((report::build(&w, &[], None), None));
    }
    let mut queue = VecDeque::new();
    w.define_linker_symbols(true);
    // GNU ld: the archives of each `--start-group` … `--end-group`, by command-line position.
    let mut archive_at: HashMap<usize, usize> = HashMap::new();
    for (_, input, at) in found {
        let archives = w.archives.len();
        w.add_input(input, &mut queue);
        if w.fatal {
            break;
        }
        if let (Some(i), true) = (at, w.archives.len() > archives) {
            archive_at.insert(i, archives);
        }
        if flavor == Flavor::GnuLd {
            w.drain(&mut queue);
            for &(start, end) in w.cfg.groups.clone().iter().filter(|g| at.is_some_and(|i| g.1 == i + 1)) {
                let group: Vec<usize> = (start..end).filter_map(|i| archive_at.get(&i).copied()).collect();
                w.gnu_rescan_group(&group);
            }
        }
    }
    w.drain(&mut queue);
    directive_libs(&mut w, &mut queue, read)?;
    // The MinGW default: a DLL with no export of its own exports every global it defines.
    let export_all = w.cfg.export_all.unwrap_or(w.cfg.exports.is_empty());
    if flavor != Flavor::GnuLd && w.cfg.mingw && w.cfg.dll && export_all {
        let auto = autoexport::lld_mingw(&w);
        w.cfg.exports.extend(auto);
    }
    // GNU ld's likewise (for an executable too, with --export-all-symbols).
    if flavor == Flavor::GnuLd && export_all && (w.cfg.dll || w.cfg.export_all == Some(true)) {
        let auto = autoexport::gnu(&w);
        w.cfg.exports.extend(auto);
    }
    // lld's fixupExports: one per name, sorted, ordinals assigned (GNU ld numbers its own way).
    let x86 = w.machine == args::Machine::X86;
    // GNU ld names i386 exports as lld's MinGW mode does (`_` dropped, stdcall `@n` kept).
    let fixup = exports::finish(&w.cfg.exports, x86, w.cfg.mingw || flavor == Flavor::GnuLd, w.cfg.kill_at);
    w.exports = fixup.exports;
    if flavor == Flavor::GnuLd {
        exports::gnu_ordinals(&mut w.exports);
    }
    for text in fixup.errors {
        w.error(text);
    }
    for text in fixup.warnings {
        w.warn(text, true);
    }
    w.dll_name = exports::dll_name(&w.cfg);
    let roots = roots(&mut w, &mut queue);
    directive_libs(&mut w, &mut queue, read)?;
    let auto_import = autoimport::enabled(&w);
    if auto_import {
        autoimport::load_members(&mut w, &mut queue);
    }
    w.define_linker_symbols(false);
    w.finish_symbols();
    if auto_import {
        autoimport::resolve(&mut w);
    }
    gnu_autoimport::run(&mut w, &mut queue);
    if w.fatal {
        return Ok((report::build(&w, &roots, None), None));
    }
    if flavor != Flavor::GnuLd {
        report::undefined_lld(&mut w, &roots);
    }
    let mut live = live::mark(&w, &roots);
    if flavor == Flavor::GnuLd && w.machine == args::Machine::X86 {
        gnu::drop_unused_thunks(&w, &mut live);
    }
    let merged = merge::candidates(&w);
    let folds = if w.cfg.icf && flavor != Flavor::GnuLd { live::fold(&w, &live, &merged) } else { Vec::new() };
    if flavor == Flavor::GnuLd {
        report::undefined_gnu(&mut w, &live);
    }
    let folded: HashSet<_> = folds.iter().map(|f| f.0).collect();
    if auto_import {
        w.pseudo_relocs = autoimport::relocs(&mut w, &live, &folded);
    }
    let lay =
        if flavor == Flavor::GnuLd { gnu_layout::layout(&w, &live) } else { layout::lld(&w, &live, &folded, &merged) };
    let image = want_image.then(|| {
        let entry = roots.first().and_then(|&g| match w.globals[g.0].def {
            resolve::Def::Regular { chunk, value, .. } => {
                let into = folds.iter().find(|f| f.0 == chunk).map_or(chunk, |f| f.1);
                lay.chunks.iter().find(|c| c.origin == layout::Origin::Input(into)).map(|c| c.rva + value)
            }
            _ => None,
        });
        let image_base = w.cfg.image_base.unwrap_or_else(|| report::default_base(&w));
        image::write(&w, &lay, &image::Inputs { folds: &folds, image_base, entry })
    });
    // The report needs no symbol or relocation any more: its strings take their place.
    w.release_symbols();
    let report = report::build(&w, &roots, Some((live, folds, lay)));
    if threads > 1 {
        // Freeing every object, symbol and section takes a while: done beside the caller's
        // printing of the report (if no thread can be made, the closure drops it here).
        let _ = std::thread::Builder::new().name("link-free".into()).spawn(move || drop(w));
    }
    Ok((report, image))
}

/// Read a `.def` file into the configuration: its exports, and its `LIBRARY` name as the output
/// file unless `/out:` gives one (lld; GNU ld's names the DLL in the export directory only).
/// `Err`: lld's message.
fn read_def<B: Into<inputs::FileBytes>>(
    cfg: &mut args::Config,
    path: &str,
    read: ReadFile<B>,
    machine: args::Machine,
) -> Result<(), String> {
    let bytes: inputs::FileBytes = read(path).map_err(|e| format!("could not open {path}: {e}"))?.into();
    let text = String::from_utf8_lossy(&bytes);
    let gnu = cfg.flavor == Flavor::GnuLd;
    let def = deffile::parse(&text, machine == args::Machine::X86, cfg.mingw || gnu).map_err(|e| e.to_string())?;
    // GNU ld names its output by -o alone; the name is the export directory's DLL name there.
    if let (Some(out), None, false) = (def.output, args::named_output(&cfg.outputs), gnu) {
        cfg.outputs.push(format!("/out:{out}"));
    }
    if def.import_name.is_some() {
        cfg.import_name = def.import_name;
    }
    cfg.exports.extend(def.exports);
    Ok(())
}

/// Report the inputs not found as the linker does; true when the link stops there. GNU ld
/// names every one; the MinGW driver names its `-l`s and stops before lld-link runs; lld-link
/// names every file it could not open.
fn refuse_missing(w: &mut resolve::World, missing: &[(search::InputSpec, String)]) -> bool {
    if missing.is_empty() {
        return false;
    }
    let flavor = w.cfg.flavor;
    let libs_first = flavor == Flavor::LldMingw && missing.iter().any(|(s, _)| s.file().is_none());
    for (spec, name) in missing {
        if libs_first && spec.file().is_some() {
            continue;
        }
        let text = search::not_found(flavor, w.prefix(), spec, name);
        w.error_raw(text);
    }
    w.fatal = true;
    true
}

/// What lld-link's `findLib` made of a `/defaultlib:`.
enum DefaultLib {
    Found(String, inputs::Input),
    /// Not found: the name its message gives.
    Missing(String),
    /// Seen already, or excluded by `/nodefaultlib`.
    Skipped,
}

fn default_lib<B: Into<inputs::FileBytes>>(
    w: &mut resolve::World,
    name: &str,
    read: ReadFile<B>,
) -> Result<DefaultLib, Unreadable> {
    // /nodefaultlib:x names the library as /defaultlib: does (lld compares the paths its search
    // gives, here the names).
    let excluded = |w: &resolve::World, n: &str| w.cfg.no_default_lib_names.contains(&args::library_file_name(n));
    if w.cfg.no_default_libs || excluded(w, name) || !w.visited.library(name) {
        return Ok(DefaultLib::Skipped);
    }
    let (paths, tried) = search::default_lib_candidates(name, w.cfg.mingw, &w.search_dirs);
    let Some((path, input)) = first_found(&paths, read)? else { return Ok(DefaultLib::Missing(tried)) };
    if excluded(w, &inputs::base_name(&path)) || !w.visited.file(&path) {
        return Ok(DefaultLib::Skipped);
    }
    Ok(DefaultLib::Found(path, input))
}

/// The `/defaultlib:` libraries objects asked for (`.drectve`), read after the command line's
/// inputs as lld reads them, until no object asks for more. One not found is lld-link's error,
/// and the link stops after reading the rest. (lld runs one queue of files and fetched members;
/// here a library waits until the members fetched before it are read.)
fn directive_libs<B: Into<inputs::FileBytes>>(
    w: &mut resolve::World,
    queue: &mut read::LoadQueue,
    read: ReadFile<B>,
) -> Result<(), Unreadable> {
    while !w.pending_libs.is_empty() {
        for name in std::mem::take(&mut w.pending_libs) {
            match default_lib(w, &name, read)? {
                DefaultLib::Found(_, input) => {
                    w.add_input(input, queue);
                    w.drain(queue);
                }
                DefaultLib::Missing(tried) => {
                    let text =
                        search::not_found(w.cfg.flavor, w.prefix(), &search::InputSpec::File(tried.clone()), &tried);
                    w.error_raw(text);
                    w.fatal = true;
                }
                DefaultLib::Skipped => {}
            }
        }
    }
    Ok(())
}

fn first_machine<'a>(inputs: impl Iterator<Item = &'a inputs::Input>) -> Result<args::Machine, Unreadable> {
    let mut m = None;
    for i in inputs {
        let machine = match i {
            inputs::Input::Object(o) => Some(o.machine),
            inputs::Input::Archive(_) => None,
        };
        if let Some(x) = machine {
            m = Some(x);
            break;
        }
    }
    match m {
        Some(0x8664) | None => Ok(args::Machine::X64),
        Some(0x14c) => Ok(args::Machine::X86),
        Some(machine) => Err(Unreadable::Machine { machine }),
    }
}

/// The entry point and `/include` symbols, decorated as the linker does; members they need
/// are loaded.
fn roots(w: &mut resolve::World, queue: &mut read::LoadQueue) -> Vec<resolve::GlobalId> {
    let x86 = w.machine == args::Machine::X86;
    let mangle = |s: &str| if x86 { format!("_{s}") } else { s.to_string() };
    let entry = match (&w.cfg.entry, w.cfg.flavor) {
        (Some(e), Flavor::LldLink) => Some(mangle(e)),
        (Some(e), Flavor::LldMingw) => Some(mangle(if x86 { e.strip_prefix('_').unwrap_or(e) } else { e })),
        (Some(e), Flavor::GnuLd) => Some(e.clone()),
        (None, _) => None,
    };
    let entry = entry.or_else(|| default_entry(w));
    let mut names: Vec<String> = entry.into_iter().collect();
    for i in w.cfg.includes.clone() {
        names.push(i);
    }
    // Exported symbols are roots (lld: `addUndefined` of each; GNU ld keeps them from
    // --gc-sections; x86 names decorated by `exports::finish`).
    names.extend(w.exports.iter().filter(|e| e.forward.is_none()).map(|e| e.symbol.clone()));
    let mut out = Vec::new();
    for n in names {
        let g = w.global(&n);
        if let resolve::Def::Lazy { archive, member } = w.globals[g].def {
            w.globals[g].def = resolve::Def::Undefined;
            if let Some(slot) = w.loaded_members.get_mut(archive).and_then(|m| m.get_mut(member)) {
                if !*slot {
                    *slot = true;
                    queue.push_back(read::MemberLoad { archive, member, symbol: n.clone() });
                }
            }
        }
        out.push(g);
    }
    w.drain(queue);
    out
}

/// The entry point a linker picks when none is given: the first of
/// [`options::default_entries`] defined, else the first.
fn default_entry(w: &resolve::World) -> Option<String> {
    let candidates = options::default_entries(w.cfg.flavor, w.machine, w.cfg.dll);
    candidates
        .iter()
        .find(|c| w.by_name.get(c.as_str()).is_some_and(|&g| w.globals[g].def != resolve::Def::Undefined))
        .or(candidates.first())
        .cloned()
}
