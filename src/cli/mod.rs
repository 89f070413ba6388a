//! The command line: `linkscope inspect | refs | disasm | patch | verify FILE …`, and (with the `gui` feature) the
//! desktop app.

pub mod diff;
pub mod disasm;
pub mod dump;
pub mod explain;
pub mod link;
pub mod patch;
pub mod refs;
pub mod strings;
mod values;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::report::{self, Part};

/// Look inside executables, DLLs and object files.
#[derive(Debug, Parser)]
#[command(name = "linkscope", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Files to open in the desktop app.
    pub files: Vec<PathBuf>,
    /// Open the files in a real window, save it as PNG to this path, and exit.
    #[arg(long, value_name = "OUT.png")]
    pub screenshot: Option<PathBuf>,
    /// With --screenshot: the view to show.
    #[arg(long, value_name = "NAME")]
    pub view: Option<String>,
    /// Open the two files and show the Diff view of the first against the second.
    #[arg(long)]
    pub compare: bool,
    /// Start a guided tour: its name (comdats, imported-data, win64-reach, linux, process) or
    /// number 1–5; it opens its own samples.
    #[arg(long, value_name = "NAME")]
    pub tour: Option<String>,
    /// With --tour: the step to show (from 1), reached by each earlier step's "Show me".
    #[arg(long, value_name = "N", requires = "tour")]
    pub step: Option<usize>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print what a file contains: headers, sections, symbols, imports, relocations, … (a
    /// minidump or an ELF core: its modules and memory ranges).
    Inspect {
        /// The file to read.
        file: PathBuf,
        /// Print one JSON document instead of text tables.
        #[arg(long)]
        json: bool,
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
        /// Only this part.
        #[arg(long, value_enum)]
        only: Option<Part>,
        /// In an archive, only the member with this name.
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
        /// The PDB to use.
        #[command(flatten)]
        pdb: PdbFlags,
    },
    /// Every site that references data through an address: mode, target, import + offset, reach.
    Refs {
        /// The file to read.
        file: PathBuf,
        /// Print one JSON document instead of a table.
        #[arg(long)]
        json: bool,
        /// Print only the summary counts.
        #[arg(long)]
        summary: bool,
        /// Only these sites.
        #[arg(long, value_enum)]
        only: Option<crate::report::refs::RefFilter>,
        /// Only the sites that reach this target: an import (`dll!name`, or its name alone), a
        /// symbol or export (as stored or demangled), or an address (a VA, or `rva:0x…`); may
        /// repeat (a site reaching any of them is listed).
        #[arg(long = "to", value_name = "NAME|ADDR")]
        to: Vec<String>,
        /// Place a DLL: `NAME=ADDR` (NAME as the image imports it; ADDR hex with 0x).
        #[arg(long = "base", value_name = "NAME=ADDR")]
        bases: Vec<String>,
        /// Worker threads for decoding (default: one per core; results are identical for any number).
        #[arg(long)]
        threads: Option<usize>,
        /// The PDB to name addresses by.
        #[command(flatten)]
        pdb: PdbFlags,
    },
    /// An objdump-like listing whose operands name imports and symbols, sites annotated.
    Disasm {
        /// The file to read.
        file: PathBuf,
        /// Only this section.
        #[arg(long, value_name = "NAME", conflicts_with_all = ["range", "symbol"])]
        section: Option<String>,
        /// Only `START..END` (VAs, or RVAs below the image base; section offsets in objects).
        #[arg(long, value_name = "START..END", conflicts_with = "symbol")]
        range: Option<String>,
        /// Only this symbol or export.
        #[arg(long, value_name = "NAME")]
        symbol: Option<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
        /// Worker threads (default: one per core; the listing is the same for any number).
        #[arg(long)]
        threads: Option<usize>,
        /// The PDB to name addresses by.
        #[command(flatten)]
        pdb: PdbFlags,
    },
    /// The printable strings of a file's sections (ASCII and UTF-16LE), with the sites that
    /// reference each.
    Strings {
        /// The file to read.
        file: PathBuf,
        /// The shortest string listed, in characters.
        #[arg(long, default_value_t = 4, value_name = "N")]
        min: usize,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Simulate loading an image with its DLLs and applying a fix-up scheme: every step, its
    /// status and reason, the runtime's abort message.
    Patch {
        /// The image (EXE or DLL; ELF executable or shared object).
        image: PathBuf,
        /// DLLs, bases, scheme.
        #[command(flatten)]
        plan: PlanFlags,
        /// Write the patched memory image (SizeOfImage bytes, offset = RVA) here, atomically.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Changed bytes between two files (or an image and its memory), each attributed to the
    /// structures it belongs to, plus the structural changes.
    Diff {
        /// The first file (with --dump: the image).
        a: PathBuf,
        /// The second file.
        #[arg(required_unless_present = "dump", conflicts_with = "dump")]
        b: Option<PathBuf>,
        /// Compare the image, mapped as the loader maps it, with its memory: a raw image dump
        /// (SizeOfImage bytes from its base), a minidump or an ELF core; gzip accepted.
        #[arg(long, value_name = "FILE")]
        dump: Option<PathBuf>,
        /// With --dump: the module in a minidump or core (default: the image's file name, else
        /// the module whose headers match).
        #[arg(long, value_name = "NAME", requires = "dump")]
        module: Option<String>,
        /// With --dump: the base the module had (shown as VAs).
        #[arg(long, value_name = "ADDR", requires = "dump")]
        image_base: Option<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
        /// Changes listed at most (the rest are counted).
        #[arg(long, default_value_t = 100_000)]
        max_changes: usize,
    },
    /// Simulate a link: which COMDAT copy survives, what is discarded and why, where every
    /// input section lands. Give the linker's own command line after `--`.
    Link {
        /// The linker: lld-link, lld-mingw (ld.lld -m i386pep / lld-link -lldmingw) or gnu-ld.
        /// Optional when the command line starts with the linker's name (`lld-link`, `ld.lld`,
        /// `x86_64-w64-mingw32-ld`, a `clang` / `gcc` driver line); given both, this wins.
        #[arg(long, value_name = "FLAVOR", value_enum, hide_possible_values = true)]
        flavor: Option<crate::link::Flavor>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
        /// Put the prediction beside this linked image and list every difference.
        #[arg(long, value_name = "IMAGE")]
        compare: Option<PathBuf>,
        /// The linker's map (/lldmap, --Map, -Map) to compare every input section with (alone,
        /// or with --compare).
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// Write the image the link would make here, atomically: every input section relocated,
        /// the linker's own tables; the bytes it cannot know are listed on stderr.
        #[arg(long, value_name = "FILE")]
        write_image: Option<PathBuf>,
        /// The linker's command line: inputs and options, as the linker takes them, optionally
        /// after the linker's program name.
        #[arg(last = true, allow_hyphen_values = true, value_name = "LINKER-ARGS")]
        args: Vec<String>,
    },
    /// Compare the prediction with a module's memory from a real process, at every
    /// pseudo-relocation target, IAT slot, base-relocated field and data-reference site.
    Verify {
        /// The image.
        image: PathBuf,
        /// The memory: a minidump, an ELF core, or a raw image dump (SizeOfImage bytes from the
        /// module's base); gzip accepted.
        #[arg(long, value_name = "FILE", required_unless_present = "pid", conflicts_with = "pid")]
        dump: Option<PathBuf>,
        /// A running process (Linux: /proc/PID/maps and /proc/PID/mem, read only).
        #[arg(long, value_name = "PID")]
        pid: Option<u32>,
        /// The module in the dump or process (default: the image's file name, else the module
        /// whose headers match the image's).
        #[arg(long, value_name = "NAME")]
        module: Option<String>,
        /// DLLs, bases, scheme.
        #[command(flatten)]
        plan: PlanFlags,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
        /// Also compare the whole module with its file and name the cause of every differing
        /// byte (base relocation, IAT, pseudo-relocation, …, `runtime-write`, `unexplained`).
        #[arg(long)]
        explain: bool,
    },
}

/// The PDB options of `inspect`, `refs` and `disasm`. Without `--pdb`, the image's own PDB is
/// looked for as debuggers do (the CodeView entry's path, then that name beside the image).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PdbFlags {
    /// Use this PDB instead of the one the image names.
    #[arg(long = "pdb", value_name = "FILE")]
    pub pdb: Option<PathBuf>,
    /// Use the PDB even when its GUID or age differ from the image's CodeView entry.
    #[arg(long)]
    pub pdb_mismatch_ok: bool,
}

impl PdbFlags {
    /// The PDB the session is to load.
    pub fn choice(&self) -> crate::session::pdb::PdbChoice {
        crate::session::pdb::PdbChoice { auto: true, file: self.pdb.clone(), mismatch_ok: self.pdb_mismatch_ok }
    }
}

/// Print the notes of a PDB search as warnings on stderr.
pub fn warn_pdb(file: &Path, notes: &[String]) {
    for n in notes {
        eprintln!("linkscope: {}: warning: {n}", file.display());
    }
}

/// The options `patch` and `verify` share.
#[derive(Debug, clap::Args)]
pub struct PlanFlags {
    /// A DLL (or shared object) to load beside the image; the imported ones found beside the
    /// image are loaded too.
    #[arg(long = "dll", value_name = "DLL")]
    pub dlls: Vec<PathBuf>,
    /// Load the image here instead of at its preferred base.
    #[arg(long, value_name = "ADDR")]
    pub image_base: Option<String>,
    /// Place a DLL: `NAME=ADDR` (NAME as the image imports it, case-insensitive).
    #[arg(long = "base", value_name = "NAME=ADDR")]
    pub bases: Vec<String>,
    /// The fix-up scheme (default: the one the image carries; `elf` for ELF).
    #[arg(long, value_enum)]
    pub scheme: Option<crate::patch::SchemeKind>,
}

impl PlanFlags {
    /// The arguments of a plan for `image`.
    pub fn args(self, image: PathBuf) -> patch::PlanArgs {
        patch::PlanArgs { image, dlls: self.dlls, image_base: self.image_base, bases: self.bases, scheme: self.scheme }
    }
}

/// Worker threads when none are asked for: one per core, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// The exit code once a subcommand's output is written: `code`, also when the reader went away
/// (a closed pipe), else `error_code` with a message.
pub fn finish(r: std::io::Result<()>, code: i32, error_code: i32) -> i32 {
    match r {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            eprintln!("linkscope: writing output: {e}");
            error_code
        }
    }
}

/// Run `inspect`; returns the process exit code.
pub fn inspect(file: &Path, json: bool, pretty: bool, only: Option<Part>, member: Option<&str>, pdb: &PdbFlags) -> i32 {
    if only.is_none() && member.is_none() && crate::session::dump::is_dump(file) {
        return dump::inspect(file, json, pretty);
    }
    let data = match crate::input::Input::open(file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("linkscope: {}: {e}", file.display());
            return 1;
        }
    };
    let mut bin = match crate::load(&data) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("linkscope: {}: {e}", file.display());
            return 1;
        }
    };
    if let Some(name) = member {
        let pos = bin
            .members
            .iter()
            .position(|m| m.member_name == name || m.member_name.rsplit(['/', '\\']).next() == Some(name));
        match pos {
            Some(i) => {
                let m = bin.members.swap_remove(i);
                match m.binary {
                    Some(b) => bin = *b,
                    None => {
                        eprintln!("linkscope: member {name} could not be read");
                        return 1;
                    }
                }
            }
            None => {
                eprintln!("linkscope: {}: no member named {name}", file.display());
                return 1;
            }
        }
    }
    // The image's PDB: its notes are the document's diagnostics.
    let outcome = match member {
        None if bin.pe.is_some() => crate::session::pdb::load(file, &bin, &pdb.choice()),
        _ => Default::default(),
    };
    for n in &outcome.notes {
        bin.diag(crate::model::Severity::Warning, crate::model::Location::both(None, None), n.clone());
    }
    let loaded = outcome.pdb.as_ref();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let pdb_part = matches!(only, Some(Part::Pdb | Part::Contributions));
    let r = if json && (loaded.is_some() || pdb_part) {
        report::pdb::write_json(&mut out, &bin, loaded, only, pretty)
    } else if json {
        report::write_json(&mut out, &bin, only, pretty)
    } else {
        report::text::write_text(&mut out, &bin, only).and_then(|()| report::pdb::write_text(&mut out, loaded, only))
    };
    finish(r.and_then(|()| out.flush()), 0, 1)
}
