//! Where each linker finds its inputs: `-l` libraries in the `-L` directories (GNU ld and the
//! ld.lld MinGW driver, each in its own order of names), lld-link's inputs and `/defaultlib:`
//! libraries in the current directory, `/libpath:` and the `LIB` environment variable, and the
//! messages each prints for what it cannot find. Pure: [`candidates`] lists the paths a linker
//! tries, in its order; the caller tries them with its file reader (the first that exists wins).
//!
//! The orders, from the linkers' sources and checked against GNU ld 2.40 (`--verbose` prints
//! every `attempt to open`) and lld 14.0.6 (`ld.lld -###` prints the paths it found):
//! * GNU ld (binutils `ld/ldfile.c` `ldfile_open_file` → `ldfile_open_file_search`, once with
//!   `lib`/`.a` and once more through `ld/emultempl/pe.em` `find_potential_libraries` with
//!   `.lib`; each directory first asks pe.em's `open_dynamic_archive`, whose `libname_fmt` table
//!   is `lib%s.dll.a`, `%s.dll.a`, `lib%s.a`, `%s.lib`, `lib%s.lib`, `lib%s.dll`, `%s.dll`, unless
//!   `-Bstatic`): for `-lfoo`, every directory in turn with those seven names (the second pass
//!   finds nothing new); under `-Bstatic`, `libfoo.a` in every directory, then `foo.lib` in
//!   every directory; `-l:file` is `file` in every directory. The directories: every `-L` in
//!   command-line order wherever it stands (a leading `=` or `$SYSROOT` is the `--sysroot`,
//!   `ldfile_add_library_path`), then the default script's `SEARCH_DIR`, on Debian
//!   `/usr/<triple>/lib`. Plain file names are opened as written. Not found:
//!   `cannot find -lfoo: No such file or directory`, for every input, and the link stops.
//! * ld.lld's MinGW driver (`lld/MinGW/Driver.cpp` `searchLibrary`): every `-L` directory in
//!   order (no sysroot, `=` not read), each with `libfoo.dll.a`, `foo.dll.a`, `libfoo.a`,
//!   `foo.lib`, `libfoo.dll`, `foo.dll`; under `-Bstatic` only `libfoo.a`. Not found:
//!   `lld: error: unable to find library -lfoo`, for every library, and nothing else runs.
//! * lld-link (`lld/COFF/Driver.cpp` `doFindFile`, `doFindLib`, `doFindLibMinGW`, `findLib`,
//!   `addLibSearchPaths`): a name with a `/` or `\` as written; else the current directory,
//!   every `/libpath:` in order, then every `LIB` entry (`;`-separated, unless
//!   `/lldignoreenv`), each with the name and, when it has no `.`, the name + `.obj`. A library
//!   (`/defaultlib:`, also from `.drectve`) gets `.lib` when it has no `.`; in MinGW mode, when
//!   that is not found, `lib<name>.a`. A file already read (the same path) or a library name
//!   already seen is not read again. Not found: `could not open 'foo.lib': No such file or
//!   directory`; the link stops after reading everything else.

use std::collections::HashSet;

use super::args::Machine;
use super::Flavor;

/// One input on the command line, in order: a file, or a library to search for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// A file as named (lld-link searches its directories for it too).
    File(String),
    /// `-lname` (`name` without the `-l`; `:file` for `-l:file`), with whether `-Bdynamic` was
    /// in force (import libraries and DLLs are searched for too).
    Library {
        /// The name after `-l`.
        name: String,
        /// `-Bdynamic` (the default) rather than `-Bstatic`.
        dynamic: bool,
    },
}

impl InputSpec {
    /// The input as the command line writes it (`a.o`, `-lkernel32`, `-l:crt2.o`).
    pub fn as_written(&self) -> String {
        match self {
            InputSpec::File(f) => f.clone(),
            InputSpec::Library { name, .. } => format!("-l{name}"),
        }
    }

    /// The file name, for a plain file.
    pub fn file(&self) -> Option<&str> {
        match self {
            InputSpec::File(f) => Some(f),
            InputSpec::Library { .. } => None,
        }
    }
}

/// What the linker reads from its environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `LIB`: lld-link's further library directories, `;`-separated.
    pub lib: Option<String>,
    /// The directory the link runs in: lld-link makes the PDB path it writes into the CodeView
    /// record absolute against it.
    pub cwd: Option<String>,
}

/// The directories a linker searches, in order. `machine` picks GNU ld's default script
/// directory; `env` is read for lld-link's `LIB`.
pub fn directories(flavor: Flavor, cfg: &super::args::Config, machine: Machine, env: &Environment) -> Vec<String> {
    match flavor {
        Flavor::GnuLd => {
            let sysroot = cfg.sysroot.as_deref().unwrap_or("");
            let mut dirs: Vec<String> = cfg
                .lib_dirs
                .iter()
                .map(|d| match d.strip_prefix('=').or_else(|| d.strip_prefix("$SYSROOT")) {
                    Some(rest) => format!("{sysroot}{rest}"),
                    None => d.clone(),
                })
                .collect();
            // The default script's SEARCH_DIR (Debian's binutils-mingw-w64: the tool directory).
            dirs.push(match machine {
                Machine::X64 => "/usr/x86_64-w64-mingw32/lib".into(),
                Machine::X86 => "/usr/i686-w64-mingw32/lib".into(),
            });
            dirs
        }
        Flavor::LldMingw | Flavor::LldLink => {
            // lld-link: the current directory, /libpath: (the MinGW driver's -L), LIB.
            let mut dirs = vec![String::new()];
            dirs.extend(cfg.lib_dirs.iter().cloned());
            if !cfg.ignore_env {
                if let Some(lib) = &env.lib {
                    dirs.extend(lib.split(';').filter(|d| !d.is_empty()).map(str::to_string));
                }
            }
            dirs
        }
    }
}

/// `dir` and `name` joined as the linkers join them (`sys::path::append`: nothing for an empty
/// directory, one separator).
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if dir.ends_with(['/', '\\']) {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn has_separator(name: &str) -> bool {
    name.contains(['/', '\\'])
}

/// The paths a linker tries for an input, in its order, and the name its "not found" message
/// gives. `dirs` are [`directories`]; GNU ld's and the MinGW driver's `-L` are only searched for
/// `-l` (the MinGW driver hands plain files to lld-link, which searches them: `dirs` are then
/// lld-link's).
pub fn candidates(flavor: Flavor, spec: &InputSpec, dirs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |p: String| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    match (flavor, spec) {
        (Flavor::GnuLd, InputSpec::File(f)) => push(f.clone()),
        (Flavor::LldLink | Flavor::LldMingw, InputSpec::File(f)) => {
            for p in lld_find_file(f, dirs) {
                push(p);
            }
        }
        (_, InputSpec::Library { name, .. }) if name.starts_with(':') => {
            for d in library_dirs(flavor, dirs) {
                push(join(d, &name[1..]));
            }
        }
        (Flavor::GnuLd, InputSpec::Library { name, dynamic: true }) => {
            // pe.em's libname_fmt (the "%s%s.dll" with --dll-search-prefix is not modelled),
            // then ldfile.c's own lib%s.a (already tried).
            for d in dirs {
                for f in ["lib{}.dll.a", "{}.dll.a", "lib{}.a", "{}.lib", "lib{}.lib", "lib{}.dll", "{}.dll"] {
                    push(join(d, &f.replace("{}", name)));
                }
            }
        }
        (Flavor::GnuLd, InputSpec::Library { name, dynamic: false }) => {
            for f in ["lib{}.a", "{}.lib"] {
                for d in dirs {
                    push(join(d, &f.replace("{}", name)));
                }
            }
        }
        (_, InputSpec::Library { name, dynamic }) => {
            let names: &[&str] = if *dynamic {
                &["lib{}.dll.a", "{}.dll.a", "lib{}.a", "{}.lib", "lib{}.dll", "{}.dll"]
            } else {
                &["lib{}.a"]
            };
            for d in library_dirs(flavor, dirs) {
                for f in names {
                    push(join(d, &f.replace("{}", name)));
                }
            }
        }
    }
    out
}

/// The directories `-l` searches: lld-link's list starts with the current directory and ends
/// with `LIB`, the MinGW driver's is only its `-L`s.
fn library_dirs(flavor: Flavor, dirs: &[String]) -> &[String] {
    match flavor {
        Flavor::GnuLd => dirs,
        // [ "", -L..., LIB... ]: the -L's are the libpaths the driver passed.
        Flavor::LldMingw | Flavor::LldLink => dirs.get(1..).unwrap_or(&[]),
    }
}

/// lld-link's `doFindFile`: as written when it has a path separator; else each directory with
/// the name, and with `.obj` added when it has no `.`.
fn lld_find_file(name: &str, dirs: &[String]) -> Vec<String> {
    if has_separator(name) {
        return vec![name.to_string()];
    }
    let mut out = Vec::new();
    for d in dirs {
        out.push(join(d, name));
        if !name.contains('.') {
            out.push(join(d, &format!("{name}.obj")));
        }
    }
    out
}

/// lld-link's `doFindLib` for `/defaultlib:name`: the paths tried, and the name its "could not
/// open" message gives when none exists.
pub fn default_lib_candidates(name: &str, mingw: bool, dirs: &[String]) -> (Vec<String>, String) {
    let name = if name.contains('.') { name.to_string() } else { format!("{name}.lib") };
    let mut paths = lld_find_file(&name, dirs);
    if !mingw || has_separator(&name) {
        return (paths, name);
    }
    // doFindLibMinGW: lib + the name with its extension replaced by .a.
    let stem = match name.rfind('.') {
        Some(i) => &name[..i],
        None => &name,
    };
    let alt = format!("lib{stem}.a");
    paths.extend(lld_find_file(&alt, dirs));
    (paths, alt)
}

/// A path with `.` and `a/..` taken out and separators single: one file named two ways
/// (`/usr/lib/gcc/x/12/../../../../x/lib/crt2.o`, `/usr/x/lib/crt2.o`) is one file to lld.
pub fn normalise(path: &str) -> String {
    let absolute = path.starts_with(['/', '\\']);
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split(['/', '\\']) {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// What lld has read already: files by path, libraries by name (lower case).
#[derive(Debug, Default)]
pub struct Visited {
    files: HashSet<String>,
    libs: HashSet<String>,
}

impl Visited {
    /// lld's `findFile` after the search: false when `path` was read already; a `.lib` is
    /// remembered by its name, so `/defaultlib:` of it is not searched again.
    pub fn file(&mut self, path: &str) -> bool {
        if !self.files.insert(normalise(path)) {
            return false;
        }
        let base = super::inputs::base_name(path).to_ascii_lowercase();
        if base.ends_with(".lib") {
            self.libs.insert(base);
        }
        true
    }

    /// lld's `findLib` before the search: false when a library of this name was asked for
    /// already.
    pub fn library(&mut self, name: &str) -> bool {
        self.libs.insert(name.to_ascii_lowercase())
    }
}

/// The message a linker prints for an input it cannot find, with its prefix.
pub fn not_found(flavor: Flavor, prefix: &str, spec: &InputSpec, tried_name: &str) -> String {
    match (flavor, spec) {
        (Flavor::GnuLd, s) => format!("{prefix}: cannot find {}: No such file or directory", s.as_written()),
        // The MinGW driver's own message, before lld-link runs (its prefix is lld's).
        (Flavor::LldMingw, InputSpec::Library { name, .. }) => format!("lld: error: unable to find library -l{name}"),
        _ => format!("{prefix}: error: could not open '{tried_name}': No such file or directory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(d: &[&str]) -> Vec<String> {
        d.iter().map(|s| s.to_string()).collect()
    }

    fn lib(name: &str, dynamic: bool) -> InputSpec {
        InputSpec::Library { name: name.into(), dynamic }
    }

    #[test]
    fn gnu_ld_tries_each_directory_with_pe_names_then_static_lib_names_across_directories() {
        let d = dirs(&["d1", "d2"]);
        let c = candidates(Flavor::GnuLd, &lib("foo", true), &d);
        assert_eq!(
            &c[..7],
            [
                "d1/libfoo.dll.a",
                "d1/foo.dll.a",
                "d1/libfoo.a",
                "d1/foo.lib",
                "d1/libfoo.lib",
                "d1/libfoo.dll",
                "d1/foo.dll"
            ]
        );
        assert_eq!(c[7], "d2/libfoo.dll.a");
        assert_eq!(c.len(), 14);
        let c = candidates(Flavor::GnuLd, &lib("foo", false), &d);
        assert_eq!(c, ["d1/libfoo.a", "d2/libfoo.a", "d1/foo.lib", "d2/foo.lib"]);
        assert_eq!(candidates(Flavor::GnuLd, &lib(":crt2.o", true), &d), ["d1/crt2.o", "d2/crt2.o"]);
        assert_eq!(candidates(Flavor::GnuLd, &InputSpec::File("x/a.o".into()), &d), ["x/a.o"]);
    }

    #[test]
    fn lld_mingw_searches_only_its_l_directories_and_lld_link_the_current_one_first() {
        let d = dirs(&["", "d1", "d2"]);
        let c = candidates(Flavor::LldMingw, &lib("foo", true), &d);
        assert_eq!(
            &c[..6],
            ["d1/libfoo.dll.a", "d1/foo.dll.a", "d1/libfoo.a", "d1/foo.lib", "d1/libfoo.dll", "d1/foo.dll"]
        );
        assert_eq!(candidates(Flavor::LldMingw, &lib("foo", false), &d), ["d1/libfoo.a", "d2/libfoo.a"]);
        let c = candidates(Flavor::LldLink, &InputSpec::File("tt".into()), &d);
        assert_eq!(c, ["tt", "tt.obj", "d1/tt", "d1/tt.obj", "d2/tt", "d2/tt.obj"]);
        assert_eq!(candidates(Flavor::LldLink, &InputSpec::File("/x/a.obj".into()), &d), ["/x/a.obj"]);
        let (c, name) = default_lib_candidates("kernel32", true, &d);
        assert_eq!(
            c,
            [
                "kernel32.lib",
                "d1/kernel32.lib",
                "d2/kernel32.lib",
                "libkernel32.a",
                "d1/libkernel32.a",
                "d2/libkernel32.a"
            ]
        );
        assert_eq!(name, "libkernel32.a");
        assert_eq!(default_lib_candidates("msvcrt.lib", false, &d).1, "msvcrt.lib");
    }

    #[test]
    fn directories_follow_sysroot_and_lib() {
        let mut cfg = super::super::args::Config::new(Flavor::GnuLd);
        cfg.lib_dirs = dirs(&["=/lib", "$SYSROOT/x", "plain"]);
        cfg.sysroot = Some("/sr".into());
        let d = directories(Flavor::GnuLd, &cfg, Machine::X86, &Environment::default());
        assert_eq!(d, ["/sr/lib", "/sr/x", "plain", "/usr/i686-w64-mingw32/lib"]);
        let mut cfg = super::super::args::Config::new(Flavor::LldLink);
        cfg.lib_dirs = dirs(&["p"]);
        let env = Environment { lib: Some("a;;b".into()), cwd: None };
        assert_eq!(directories(Flavor::LldLink, &cfg, Machine::X64, &env), ["", "p", "a", "b"]);
        cfg.ignore_env = true;
        assert_eq!(directories(Flavor::LldLink, &cfg, Machine::X64, &env), ["", "p"]);
    }

    #[test]
    fn one_file_named_two_ways_is_read_once() {
        assert_eq!(normalise("/usr/lib/gcc/x/12/../../../../x/lib/crt2.o"), "/usr/x/lib/crt2.o");
        assert_eq!(normalise("./a//b/../c.o"), "a/c.o");
        assert_eq!(normalise("../a.o"), "../a.o");
        let mut v = Visited::default();
        assert!(v.file("/usr/x/lib/libk.a") && !v.file("/usr/lib/../x/lib/libk.a"));
        assert!(v.file("d/Kernel32.lib") && !v.library("kernel32.lib") && v.library("user32"));
    }
}
