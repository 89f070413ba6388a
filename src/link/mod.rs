//! Link simulation: given COFF objects and archives and the linker's own command line, which
//! COMDAT copy survives, what is discarded and why, and where every input section lands, for
//! three linkers with their own rules: lld-link (MSVC mode), lld in MinGW mode (`ld.lld -m
//! i386pep`, `lld-link -lldmingw`) and GNU ld (binutils PE). Pure: the caller supplies the bytes.
//!
//! Pipeline: [`command`] reads the program name off a line as typed, [`args`] reads the command line, [`inputs`] the files, [`resolve`] reads them in the
//! linker's order (symbols, archive members, COMDAT selection in [`comdat`] and [`gnu`]),
//! [`live`] garbage-collects and folds, [`layout`] / [`gnu_layout`] place what is left, and
//! [`report`] says what happened; [`compare`] puts a real image and map beside it.

pub mod args;
pub mod comdat;
pub mod command;
pub mod compare;
pub mod drectve;
pub mod gnu;
pub mod gnu_layout;
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
pub mod undefined;

use std::collections::{HashSet, VecDeque};

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

/// Simulate a link. `read` fetches a file's bytes by the name the command line gives. The
/// objects are read on one thread per core; the result does not depend on the count.
pub fn simulate<B: Into<inputs::FileBytes>>(
    flavor: Flavor,
    command_line: &[String],
    read: ReadFile<B>,
) -> Result<Report, Unreadable> {
    simulate_threads(flavor, command_line, read, par::default_threads())
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
    let cfg = args::parse(flavor, command_line)?;
    if cfg.inputs.is_empty() {
        return Err(Unreadable::NoInputs);
    }
    let read_one = |path: &String| -> Result<inputs::Input, Unreadable> {
        let bytes = read(path).map_err(|source| Unreadable::Io { path: path.clone(), source })?;
        Ok(inputs::read_input(path, bytes)?)
    };
    // The first input that cannot be read, in command-line order, is the one reported.
    let inputs = par::map_ordered(&cfg.inputs, threads, read_one).into_iter().collect::<Result<Vec<_>, _>>()?;
    let machine = match cfg.machine {
        Some(m) => m,
        None => first_machine(&inputs)?,
    };
    let mut w = resolve::World::new(cfg, machine);
    w.threads = threads;
    let mut queue = VecDeque::new();
    w.define_linker_symbols(true);
    for input in inputs {
        w.add_input(input, &mut queue);
        if w.fatal {
            break;
        }
        if flavor == Flavor::GnuLd {
            w.drain(&mut queue);
        }
    }
    w.drain(&mut queue);
    let roots = roots(&mut w, &mut queue);
    w.define_linker_symbols(false);
    w.finish_symbols();
    if w.fatal {
        return Ok(report::build(&w, &roots, None));
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
    let lay =
        if flavor == Flavor::GnuLd { gnu_layout::layout(&w, &live) } else { layout::lld(&w, &live, &folded, &merged) };
    // The report needs no symbol or relocation any more: its strings take their place.
    w.release_symbols();
    let report = report::build(&w, &roots, Some((live, folds, lay)));
    if threads > 1 {
        // Freeing every object, symbol and section takes a while: done beside the caller's
        // printing of the report (if no thread can be made, the closure drops it here).
        let _ = std::thread::Builder::new().name("link-free".into()).spawn(move || drop(w));
    }
    Ok(report)
}

fn first_machine(inputs: &[inputs::Input]) -> Result<args::Machine, Unreadable> {
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
