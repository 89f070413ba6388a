//! The linker's own command line, read into a [`Config`]: lld-link's `/opt` spellings here,
//! ld.lld's MinGW driver (which becomes `lld-link -lldmingw`) and GNU ld in `gnu_args.rs`.
//! Options that do not change the layout are accepted; options the simulation does not model
//! are listed in [`Config::ignored`], never dropped silently.

use super::search::InputSpec;
use super::Flavor;

/// What the simulation needs from a command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// The linker being simulated.
    pub flavor: Flavor,
    /// lld-link's MinGW mode (`-lldmingw`, or the ld.lld MinGW driver).
    pub mingw: bool,
    /// `x64` or `x86` when the command line says so; otherwise the first object decides.
    pub machine: Option<Machine>,
    /// Entry symbol as written (not yet decorated).
    pub entry: Option<String>,
    /// Garbage collection (`/opt:ref`, `--gc-sections`).
    pub gc: bool,
    /// Identical COMDAT folding (`/opt:icf`, `--icf=all`).
    pub icf: bool,
    /// lld's tail merging of string literals (`/opt:lldtailmerge`; on with ICF unless
    /// `/opt:nolldtailmerge`).
    pub tail_merge: bool,
    /// `/merge:from=to`, in command-line order.
    pub merges: Vec<(String, String)>,
    /// Section alignment (`/align`).
    pub align: u64,
    /// File alignment (`/filealign`).
    pub file_align: u64,
    /// `/base`, `--image-base`.
    pub image_base: Option<u64>,
    /// Building a DLL.
    pub dll: bool,
    /// `/force:multiple`, `--allow-multiple-definition`: duplicates become warnings.
    pub force_multiple: bool,
    /// `/force`, `/force:unresolved`: undefined symbols become warnings.
    pub force_unresolved: bool,
    /// `/include` symbols (GC roots that must be defined).
    pub includes: Vec<String>,
    /// `/alternatename:A=B`: an undefined `A` resolves to `B`.
    pub alternates: Vec<(String, String)>,
    /// `/nodefaultlib` without a name: default libraries are never searched.
    pub no_default_libs: bool,
    /// `/brepro`: lld writes a debug directory with a REPRO entry.
    pub repro: bool,
    /// `/debug`, `-debug:dwarf`: lld writes a debug directory (and turns ICF off by default).
    pub debug: bool,
    /// `/debug` of a kind that writes a PDB (not `dwarf`): the CodeView record holds its path.
    pub pdb: bool,
    /// `/pdb:` (the MinGW driver's `--pdb=`), as written.
    pub pdb_path: Option<String>,
    /// `/pdbaltpath:`, as written.
    pub pdb_alt_path: Option<String>,
    /// The path the CodeView record holds, once [`super::debug::codeview_path`] has made it
    /// (filled in by the simulation; empty without a PDB).
    pub codeview_path: String,
    /// Automatic import of data, lld's MinGW mode and GNU ld (on unless `-auto-import:no`,
    /// `--disable-auto-import`).
    pub auto_import: bool,
    /// Base relocations are written (`/dynamicbase`, the default; off with `/fixed`).
    pub relocatable: bool,
    /// Inputs in command-line order: files, and `-l` libraries to search for.
    pub inputs: Vec<InputSpec>,
    /// Library directories in command-line order (`-L`, `/libpath:`), as written.
    pub lib_dirs: Vec<String>,
    /// lld-link's `/defaultlib:` libraries from the command line, in order.
    pub default_libs: Vec<String>,
    /// lld-link's `/nodefaultlib:name`: libraries (`.lib` added when there is no `.`, lower
    /// case) never read as default libraries.
    pub no_default_lib_names: Vec<String>,
    /// GNU ld's `--sysroot` (what a leading `=` of a `-L` stands for).
    pub sysroot: Option<String>,
    /// MinGW's `--export-all-symbols` (`Some(true)`) / `--exclude-all-symbols` (`Some(false)`);
    /// by default lld exports every global of a DLL with no export of its own.
    pub export_all: Option<bool>,
    /// GNU ld's `--start-group` … `--end-group` (`-(` … `-)`): ranges of `inputs` positions.
    pub groups: Vec<(usize, usize)>,
    /// lld-link's `/delayload:` DLLs, as written.
    pub delay_loads: Vec<String>,
    /// lld-link's `/def:` (the MinGW driver's `.def` input): a module-definition file.
    pub def_file: Option<String>,
    /// `/export:` (and, once read, the objects' `/EXPORT:` directives), in order.
    pub exports: Vec<super::exports::Export>,
    /// lld-link's `/lldignoreenv`: `LIB` is not searched.
    pub ignore_env: bool,
    /// GNU ld's `-s` / `-S` (`--strip-all`, `--strip-debug`): debugging sections are dropped.
    pub strip_debug: bool,
    /// Options accepted but not modelled, as written.
    pub ignored: Vec<String>,
    /// Options that only name outputs (`/out`, `/lldmap`, `-Map`): accepted, never written.
    pub outputs: Vec<String>,
    /// `--kill-at` (lld-link's `-kill-at`): i386 exports named without their `@n`.
    pub kill_at: bool,
    /// A `.def` file's `LIBRARY` / `NAME` name, as written: the DLL the import library names.
    pub import_name: Option<String>,
}

/// Target machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// AMD64.
    X64,
    /// i386.
    X86,
}

impl Machine {
    /// The name lld and the JSON use.
    pub fn name(self) -> &'static str {
        match self {
            Machine::X64 => "x64",
            Machine::X86 => "x86",
        }
    }
}

impl Config {
    /// The defaults of `flavor` before any option.
    pub fn new(flavor: Flavor) -> Self {
        Config {
            flavor,
            mingw: flavor == Flavor::LldMingw,
            machine: None,
            entry: None,
            gc: flavor == Flavor::LldLink,
            icf: flavor == Flavor::LldLink,
            tail_merge: flavor == Flavor::LldLink,
            merges: Vec::new(),
            align: 0x1000,
            file_align: 0x200,
            image_base: None,
            dll: false,
            force_multiple: false,
            force_unresolved: false,
            includes: Vec::new(),
            alternates: Vec::new(),
            no_default_libs: false,
            repro: false,
            debug: false,
            pdb: false,
            auto_import: true,
            def_file: None,
            delay_loads: Vec::new(),
            groups: Vec::new(),
            export_all: None,
            pdb_path: None,
            pdb_alt_path: None,
            codeview_path: String::new(),
            relocatable: true,
            inputs: Vec::new(),
            lib_dirs: Vec::new(),
            default_libs: Vec::new(),
            no_default_lib_names: Vec::new(),
            sysroot: None,
            ignore_env: false,
            exports: Vec::new(),
            strip_debug: false,
            ignored: Vec::new(),
            outputs: Vec::new(),
            import_name: None,
            kill_at: false,
        }
    }
}

/// Why a command line cannot be read: each names the option, as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// An option without its value.
    #[error("{arg}: {option} needs a value")]
    MissingValue {
        /// The argument as written.
        arg: String,
        /// The option, as the message names it (`/entry`, `--entry`).
        option: String,
    },
    /// A value that is not a number.
    #[error("{option}: `{value}` is not a number")]
    BadNumber {
        /// The option (`/base`, `--image-base`).
        option: String,
        /// The value as written.
        value: String,
    },
    /// An alignment that is not a power of two.
    #[error("{option}: `{value}` is not a power of two")]
    NotPowerOfTwo {
        /// The option (`/align`, `--section-alignment`).
        option: String,
        /// The value as written.
        value: String,
    },
    /// An `/opt` value lld-link does not know.
    #[error("{arg}: unknown /opt value `{value}`")]
    UnknownOpt {
        /// The argument as written.
        arg: String,
        /// The value.
        value: String,
    },
    /// A `/debug:` kind lld-link does not know.
    #[error("{arg}: /debug: unknown option")]
    UnknownDebug {
        /// The argument as written.
        arg: String,
    },
    /// `/merge` or `/alternatename` without `from=to`.
    #[error("{arg}: {option} needs from=to")]
    NeedsFromTo {
        /// The argument as written.
        arg: String,
        /// `/merge` or `/alternatename`.
        option: &'static str,
    },
    /// A `/machine` that is not simulated.
    #[error("{arg}: machine `{machine}` is not simulated (x64 and x86 are)")]
    UnknownMachine {
        /// The argument as written.
        arg: String,
        /// The machine, lower-case.
        machine: String,
    },
    /// An `/export:` that cannot be read.
    #[error(transparent)]
    Export(#[from] super::exports::ExportError),
    /// A `-m` emulation that is not simulated.
    #[error("-m {emulation}: emulation not simulated (i386pep and i386pe are)")]
    UnknownEmulation {
        /// The emulation.
        emulation: String,
    },
}

/// Read a command line. `Err` names the option that cannot be read.
pub fn parse(flavor: Flavor, args: &[String]) -> Result<Config, ArgsError> {
    match flavor {
        Flavor::LldLink => parse_lld_link(args),
        Flavor::LldMingw | Flavor::GnuLd => super::gnu_args::parse(flavor, args),
    }
}

pub(super) fn number(v: &str, what: &str) -> Result<u64, ArgsError> {
    let t = v.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    };
    r.map_err(|_| ArgsError::BadNumber { option: what.to_string(), value: v.to_string() })
}

pub(super) fn power_of_two(v: &str, what: &str) -> Result<u64, ArgsError> {
    let n = number(v, what)?;
    if n == 0 || !n.is_power_of_two() {
        return Err(ArgsError::NotPowerOfTwo { option: what.to_string(), value: v.to_string() });
    }
    Ok(n)
}

fn parse_lld_link(args: &[String]) -> Result<Config, ArgsError> {
    let mut c = Config::new(Flavor::LldLink);
    let (mut ref_set, mut icf_set, mut tail) = (None, None, None);
    let mut debug_no_gc = false;
    for a in args {
        let is_opt = (a.starts_with('/') || a.starts_with('-')) && a.len() > 1 && !looks_like_path(a);
        if !is_opt {
            c.inputs.push(InputSpec::File(a.clone()));
            continue;
        }
        let body = &a[1..];
        let (name, value) = match body.find(':') {
            Some(i) => (body[..i].to_ascii_lowercase(), Some(&body[i + 1..])),
            None => (body.to_ascii_lowercase(), None),
        };
        let need =
            |what: &str| value.ok_or_else(|| ArgsError::MissingValue { arg: a.clone(), option: what.to_string() });
        match name.as_str() {
            "lldmingw" => c.mingw = true,
            "entry" => c.entry = Some(need("/entry")?.to_string()),
            "opt" => {
                for o in need("/opt")?.split(',') {
                    match o.to_ascii_lowercase().as_str() {
                        "ref" => ref_set = Some(true),
                        "noref" => ref_set = Some(false),
                        "icf" => icf_set = Some(true),
                        "noicf" => icf_set = Some(false),
                        x if x.starts_with("icf=") => icf_set = Some(true),
                        "safeicf" => {
                            icf_set = Some(true);
                            c.ignored.push("/opt:safeicf (simulated as /opt:icf)".into())
                        }
                        "lldtailmerge" => tail = Some(true),
                        "nolldtailmerge" => tail = Some(false),
                        x if matches!(x, "lbr" | "nolbr") || x.starts_with("lldlto") => {
                            c.ignored.push(format!("/opt:{o}"))
                        }
                        _ => return Err(ArgsError::UnknownOpt { arg: a.clone(), value: o.to_string() }),
                    }
                }
            }
            "merge" => {
                let v = need("/merge")?;
                let from_to = || ArgsError::NeedsFromTo { arg: a.clone(), option: "/merge" };
                let (from, to) = v.split_once('=').ok_or_else(from_to)?;
                if from.is_empty() || to.is_empty() {
                    return Err(from_to());
                }
                c.merges.push((from.to_string(), to.to_string()));
            }
            "align" => c.align = power_of_two(need("/align")?, "/align")?,
            "filealign" => c.file_align = power_of_two(need("/filealign")?, "/filealign")?,
            "base" => {
                let v = need("/base")?;
                c.image_base = Some(number(v.split(',').next().unwrap_or(v), "/base")?);
            }
            "machine" => {
                c.machine = Some(match need("/machine")?.to_ascii_lowercase().as_str() {
                    "x64" | "amd64" => Machine::X64,
                    "x86" | "i386" => Machine::X86,
                    other => return Err(ArgsError::UnknownMachine { arg: a.clone(), machine: other.to_string() }),
                })
            }
            "dll" => c.dll = true,
            "force" => match value.map(str::to_ascii_lowercase).as_deref() {
                None => {
                    c.force_multiple = true;
                    c.force_unresolved = true;
                }
                Some("multiple") => c.force_multiple = true,
                Some("unresolved") => c.force_unresolved = true,
                _ => c.ignored.push(a.clone()),
            },
            "include" => c.includes.push(need("/include")?.to_string()),
            "alternatename" => match need("/alternatename")?.split_once('=') {
                Some((from, to)) => c.alternates.push((from.to_string(), to.to_string())),
                None => return Err(ArgsError::NeedsFromTo { arg: a.clone(), option: "/alternatename" }),
            },
            "nodefaultlib" => match value {
                None => c.no_default_libs = true,
                Some(v) => c.no_default_lib_names.push(library_file_name(v)),
            },
            "defaultlib" => c.default_libs.push(need("/defaultlib")?.to_string()),
            "libpath" => c.lib_dirs.push(need("/libpath")?.to_string()),
            "lldignoreenv" => c.ignore_env = true,
            "export" => match super::exports::parse(need("/export")?) {
                Ok(e) => c.exports.push(super::exports::Export { decorate: true, ..e }),
                Err(e) => return Err(ArgsError::Export(e)),
            },
            "def" => c.def_file = Some(need("/def")?.to_string()),
            "export-all-symbols" => c.export_all = Some(true),
            "exclude-all-symbols" => c.export_all = Some(false),
            "kill-at" => c.kill_at = true,
            "delayload" => c.delay_loads.push(need("/delayload")?.to_string()),
            "brepro" => c.repro = true,
            "auto-import" => c.auto_import = !value.is_some_and(|v| v.eq_ignore_ascii_case("no")),
            "debug" => match super::debug::kind(value) {
                Some(k) => (c.debug, c.pdb, debug_no_gc) = (k.debug, k.pdb, k.no_gc),
                None => return Err(ArgsError::UnknownDebug { arg: a.clone() }),
            },
            "fixed" => c.relocatable = value.is_some_and(|v| v.eq_ignore_ascii_case("no")),
            "dynamicbase" => c.relocatable = !value.is_some_and(|v| v.eq_ignore_ascii_case("no")),
            "out" | "lldmap" | "map" | "pdb" | "implib" | "mapinfo" | "pdbaltpath" => {
                match name.as_str() {
                    "pdb" => c.pdb_path = Some(need("/pdb")?.to_string()),
                    "pdbaltpath" => c.pdb_alt_path = Some(need("/pdbaltpath")?.to_string()),
                    _ => {}
                }
                c.outputs.push(a.clone())
            }
            "subsystem" | "nologo" | "incremental" | "wx" | "timestamp" | "demangle" | "manifest" | "manifestuac"
            | "nxcompat" | "highentropyva" | "largeaddressaware" | "safeseh" | "release" | "verbose" | "threads"
            | "errorlimit" => {
                if name == "timestamp" {
                    c.repro = c.repro || value == Some("0");
                }
                c.ignored.push(a.clone())
            }
            _ => c.ignored.push(a.clone()),
        }
    }
    // lld: /opt:ref is the default unless /debug (of any kind but none); /opt:icf follows
    // /opt:ref unless given.
    let gc = ref_set.unwrap_or(!debug_no_gc);
    c.gc = gc;
    c.icf = icf_set.unwrap_or(ref_set.unwrap_or(!debug_no_gc));
    c.tail_merge = tail.unwrap_or(c.icf);
    Ok(c)
}

/// The output file a command line names: the last `/out:` (lld takes the last), or the MinGW
/// driver's `-o` / `--out`.
pub fn named_output(outputs: &[String]) -> Option<&str> {
    named_file(outputs, "out:", &["-o", "--out"])
}

/// The file the last of the output options names: lld-link's `/name:` / `-name:` (`lld_key`,
/// with its colon, any case), or a GNU-style `key value` as the argument readers keep it.
pub fn named_file<'a>(outputs: &'a [String], lld_key: &str, gnu_keys: &[&str]) -> Option<&'a str> {
    outputs.iter().rev().find_map(|o| {
        if let Some(v) = gnu_keys.iter().find_map(|k| o.strip_prefix(k)?.strip_prefix(' ')) {
            return Some(v);
        }
        let v = o.strip_prefix('/').or_else(|| o.strip_prefix('-')).unwrap_or(o);
        let n = lld_key.len();
        v.get(..n).is_some_and(|k| k.eq_ignore_ascii_case(lld_key)).then(|| &v[n..])
    })
}

/// A module name as a file name: `.dll` (a DLL) or `.exe` added when its file name has no
/// extension (LLVM's `getImportName`, GNU ld's `def_image_name`).
pub fn with_image_extension(name: &str, dll: bool) -> String {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if file.contains('.') {
        name.to_string()
    } else {
        format!("{name}{}", if dll { ".dll" } else { ".exe" })
    }
}

/// Split a command line (a pasted one, or a `.drectve` section) at white space; double quotes
/// group.
pub fn split_command_line(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in s.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if (c.is_whitespace() || c == '\0') && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// A library name as lld-link compares `/nodefaultlib:` with `/defaultlib:`: `.lib` added when
/// it has no `.`, lower case.
pub fn library_file_name(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    if n.contains('.') {
        n
    } else {
        format!("{n}.lib")
    }
}

/// `/path/to/file.obj` is an input on Unix, not an option.
fn looks_like_path(a: &str) -> bool {
    // `/out:/tmp/x.dll` is an option: its name (before the first `:`) has no `/`.
    a.starts_with('/') && a[1..].split(':').next().is_some_and(|name| name.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn lld_link_defaults_and_opt_lists() {
        let c =
            parse(Flavor::LldLink, &v(&["/entry:start", "a.obj", "/opt:noref,icf"])).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.gc && c.icf);
        assert_eq!(c.inputs, [InputSpec::File("a.obj".into())]);
        let c = parse(Flavor::LldLink, &v(&["/debug", "a.obj"])).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.gc && !c.icf);
        let c = parse(Flavor::LldLink, &v(&["/tmp/x/a.obj", "/wibble", "/out:/tmp/x.dll"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.inputs, [InputSpec::File("/tmp/x/a.obj".into())]);
        assert_eq!(c.outputs, ["/out:/tmp/x.dll"]);
        assert_eq!(c.ignored, ["/wibble"]);
        assert!(parse(Flavor::LldLink, &v(&["/merge:.a"])).is_err());
        assert!(parse(Flavor::LldLink, &v(&["/align:3"])).is_err());
    }

    #[test]
    fn mingw_driver_turns_gc_off_unless_asked() {
        let c = parse(Flavor::LldMingw, &v(&["-m", "i386pep", "-e", "start", "a.o"])).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.mingw && !c.gc && !c.icf && c.machine == Some(Machine::X64));
        let c = parse(Flavor::LldMingw, &v(&["--gc-sections", "--icf=all", "-o", "x.exe", "a.o"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.gc && c.icf && c.inputs == [InputSpec::File("a.o".into())]);
        assert!(parse(Flavor::GnuLd, &v(&["-o"])).is_err());
    }

    #[test]
    fn driver_lines_read_libraries_in_order_and_ignore_the_plugin() {
        let c = parse(
            Flavor::GnuLd,
            &v(&[
                "-plugin",
                "/usr/lib/gcc/x/liblto_plugin.so",
                "-plugin-opt=-pass-through=-lgcc",
                "-m",
                "i386pep",
                "-Bdynamic",
                "crt2.o",
                "-L/a",
                "-lmingw32",
                "-Bstatic",
                "-l",
                "gcc",
                "-L",
                "=/b",
                "-l:x.a",
                "--sysroot=/sr",
                "-Bdynamic",
                "--library=k32",
            ]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let lib = |n: &str, dynamic| InputSpec::Library { name: n.into(), dynamic };
        assert_eq!(
            c.inputs,
            [
                InputSpec::File("crt2.o".into()),
                lib("mingw32", true),
                lib("gcc", false),
                lib(":x.a", false),
                lib("k32", true)
            ]
        );
        assert_eq!(c.lib_dirs, ["/a", "=/b"]);
        assert_eq!(c.sysroot.as_deref(), Some("/sr"));
        assert!(c.ignored.iter().any(|i| i.starts_with("-plugin /usr")));
        let c =
            parse(Flavor::LldLink, &v(&["/libpath:d", "/defaultlib:k", "/nodefaultlib:LIBCMT", "/lldignoreenv", "a"]))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.lib_dirs, c.default_libs, c.no_default_lib_names), (v(&["d"]), v(&["k"]), v(&["libcmt.lib"])));
        assert!(c.ignore_env && !c.no_default_libs);
    }
}
