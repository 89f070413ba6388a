//! A command line as typed, program name first: `lld-link /out:x.exe a.obj`, `ld.lld -m i386pep
//! …`, `x86_64-w64-mingw32-ld …`, or a compiler driver's link line (`clang`, `gcc`, `*-gcc`,
//! `*-g++`) whose inputs and `-Wl,` options are taken where that is simple. The program name picks
//! the linker; what a driver line does that is not modelled is said in [`Command::notes`].

use super::Flavor;

/// A command line with its program name read off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The linker the program name says (None: no program name recognised).
    pub flavor: Option<Flavor>,
    /// The program name as written (None: the line starts with an option or an input).
    pub program: Option<String>,
    /// The linker's arguments, without the program (a driver line's, translated).
    pub args: Vec<String>,
    /// What was not modelled (a driver's own options, its start-up files and libraries).
    pub notes: Vec<String>,
}

/// What a program name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Linker(Flavor),
    /// A compiler driver: `true` for clang (whose MinGW toolchains link with lld by default).
    Driver {
        clang: bool,
    },
}

/// The program a (path to a) name is: `C:\llvm\bin\LLD-LINK.EXE` → lld-link.
fn program(arg: &str) -> Option<Program> {
    let base = arg.rsplit(['/', '\\']).next().unwrap_or(arg).to_ascii_lowercase();
    let base = base.strip_suffix(".exe").unwrap_or(&base);
    let is_driver = |names: &[&str]| {
        names.iter().any(|n| {
            base == *n
                || base.ends_with(&format!("-{n}"))
                || base
                    .strip_prefix(&format!("{n}-"))
                    .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
    };
    Some(match base {
        "lld-link" | "link" => Program::Linker(Flavor::LldLink),
        b if b == "ld.lld" || b.ends_with("-ld.lld") => Program::Linker(Flavor::LldMingw),
        b if b == "ld" || b == "ld.bfd" || b == "collect2" || b.ends_with("-ld") || b.ends_with("-ld.bfd") => {
            Program::Linker(Flavor::GnuLd)
        }
        _ if is_driver(&["clang", "clang++"]) => Program::Driver { clang: true },
        _ if is_driver(&["gcc", "g++", "cc", "c++"]) => Program::Driver { clang: false },
        _ => return None,
    })
}

/// The linker a command line's program names, and the arguments without it: the one reading
/// of a pasted line, for the app and the CLI.
pub fn strip_program(args: &[String]) -> (Option<Flavor>, Vec<String>) {
    let c = read(args);
    (c.flavor, c.args)
}

/// Read a command line as typed: the program name (when the first word is one), the linker it
/// picks, its arguments, and notes on what a driver line does that is not modelled.
pub fn read(args: &[String]) -> Command {
    let Some((first, rest)) = args.split_first() else {
        return Command { flavor: None, program: None, args: Vec::new(), notes: Vec::new() };
    };
    match program(first) {
        None => Command { flavor: None, program: None, args: args.to_vec(), notes: Vec::new() },
        Some(Program::Linker(f)) => {
            Command { flavor: Some(f), program: Some(first.clone()), args: rest.to_vec(), notes: Vec::new() }
        }
        Some(Program::Driver { clang }) => driver(first, clang, rest),
    }
}

/// Whether a driver argument names a linker input by its ending.
fn is_link_input(a: &str) -> bool {
    let l = a.to_ascii_lowercase();
    [".obj", ".o", ".lib", ".a"].iter().any(|e| l.ends_with(e))
}

/// A driver line: its inputs, `-Wl,a,b` and `-Xlinker a` options, `-o`, `-e`, `-shared`,
/// `-m32`/`-m64`; the rest named in a note.
fn driver(prog: &str, clang: bool, rest: &[String]) -> Command {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut fuse = None;
    let mut m32 = None;
    let mut nostdlib = false;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        if let Some(list) = a.strip_prefix("-Wl,") {
            out.extend(list.split(',').filter(|s| !s.is_empty()).map(str::to_string));
        } else if a == "-Xlinker" || a == "-o" || a == "-e" {
            if a != "-Xlinker" {
                out.push(a.clone());
            }
            if let Some(v) = it.next() {
                out.push(v.clone());
            }
        } else if let Some(v) = a.strip_prefix("-fuse-ld=") {
            fuse = Some(v.to_ascii_lowercase());
        } else if a == "-shared" {
            out.push("--shared".into());
        } else if a == "-m32" || a == "-m64" {
            m32 = Some(a == "-m32");
        } else if a == "-nostdlib" || a == "-nostartfiles" {
            nostdlib = true;
        } else if a.starts_with("-l") || a.starts_with("-L") || (!a.starts_with('-') && is_link_input(a)) {
            out.push(a.clone());
        } else {
            skipped.push(a.clone());
        }
    }
    let lld = match fuse.as_deref() {
        Some(f) => f == "lld" || f.ends_with("ld.lld"),
        None => clang,
    };
    let flavor = if lld { Flavor::LldMingw } else { Flavor::GnuLd };
    if let Some(m32) = m32 {
        out.splice(0..0, ["-m".to_string(), if m32 { "i386pe" } else { "i386pep" }.to_string()]);
    }
    let mut notes = vec![format!(
        "{prog} is a compiler driver: linked as {} would link the inputs and -Wl, options it passes",
        if lld { "ld.lld (MinGW)" } else { "GNU ld" }
    )];
    if !nostdlib {
        notes.push(
            "the driver's own start-up objects and default libraries (crt2.o, -lmingw32, -lkernel32, …) are not added"
                .into(),
        );
    }
    if !skipped.is_empty() {
        notes.push(format!("driver arguments not modelled: {}", skipped.join(" ")));
    }
    Command { flavor: Some(flavor), program: Some(prog.to_string()), args: out, notes }
}
