//! Link options as a front end chooses them (the linker, GC, ICF, the entry point), turned into
//! the linker's own command line; and the entry-point rules: the symbol a front end proposes
//! when none is typed ([`guess_entry`]), and the one the linker itself picks when the command
//! line names none ([`default_entries`]).

use super::args::Machine;
use super::Flavor;

/// The options a front end sets; everything else is typed as the linker takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOptions {
    /// The linker.
    pub flavor: Flavor,
    /// `/opt:ref` / `--gc-sections`: None = the linker's default.
    pub gc: Option<bool>,
    /// `/opt:icf` / `--icf=all`: None = the linker's default.
    pub icf: Option<bool>,
    /// The entry symbol, undecorated (None: the linker's default).
    pub entry: Option<String>,
    /// The inputs are x86 objects (the MinGW and GNU drivers' emulation `-m i386pe`, else
    /// `i386pep`).
    pub x86: bool,
}

/// The command line `opts` make: the options in the linker's spelling (lld-link: `/entry:`,
/// `/opt:`; the MinGW driver and GNU ld: `-m`, `-e`, `--gc-sections`, `--icf=all`), then
/// `implied` (options read off an image), then `extra` (typed), then the inputs in link order.
/// Defaults are left out: a `None` option writes nothing, and the MinGW and GNU drivers only get
/// the options that turn something on.
pub fn command_line(opts: &LinkOptions, implied: &[String], extra: &[String], inputs: &[String]) -> Vec<String> {
    let mut args = Vec::new();
    match opts.flavor {
        Flavor::LldLink => {
            if let Some(e) = &opts.entry {
                args.push(format!("/entry:{e}"));
            }
            let mut v = Vec::new();
            if let Some(g) = opts.gc {
                v.push(if g { "ref" } else { "noref" });
            }
            if let Some(i) = opts.icf {
                v.push(if i { "icf" } else { "noicf" });
            }
            if !v.is_empty() {
                args.push(format!("/opt:{}", v.join(",")));
            }
        }
        Flavor::LldMingw | Flavor::GnuLd => {
            args.extend(["-m".to_string(), if opts.x86 { "i386pe" } else { "i386pep" }.to_string()]);
            if let Some(e) = &opts.entry {
                args.extend(["-e".to_string(), e.clone()]);
            }
            if opts.gc == Some(true) {
                args.push("--gc-sections".into());
            }
            if opts.icf == Some(true) && opts.flavor == Flavor::LldMingw {
                args.push("--icf=all".into());
            }
        }
    }
    args.extend(implied.iter().cloned());
    args.extend(extra.iter().cloned());
    args.extend(inputs.iter().cloned());
    args
}

/// The entry points a front end proposes, in order: the CRT entries, then the names hand-written
/// code uses.
pub const ENTRY_GUESSES: [&str; 4] = ["mainCRTStartup", "WinMainCRTStartup", "start", "main"];

/// The entry point to propose when none is typed: the first of [`ENTRY_GUESSES`] the inputs
/// define, undecorated or with x86's `_` (`defined` says whether an input defines a name).
/// None when no input defines one (the linker then picks its default, [`default_entries`]).
pub fn guess_entry(defined: impl Fn(&str) -> bool) -> Option<String> {
    ENTRY_GUESSES.iter().find(|n| defined(n) || defined(&format!("_{n}"))).map(|n| n.to_string())
}

/// The entry points the linker tries when the command line names none, decorated, in its
/// order: it takes the first one defined, else the first. A DLL's is `_DllMainCRTStartup`
/// (`__DllMainCRTStartup@12` on x86); GNU ld's is `mainCRTStartup`; lld's the four CRT entries.
pub fn default_entries(flavor: Flavor, machine: Machine, dll: bool) -> Vec<String> {
    let x86 = machine == Machine::X86;
    let u = if x86 { "_" } else { "" };
    if dll {
        vec![if x86 { "__DllMainCRTStartup@12".into() } else { "_DllMainCRTStartup".into() }]
    } else if flavor == Flavor::GnuLd {
        vec![format!("{u}mainCRTStartup")]
    } else {
        ["mainCRTStartup", "wmainCRTStartup", "WinMainCRTStartup", "wWinMainCRTStartup"]
            .iter()
            .map(|c| format!("{u}{c}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(flavor: Flavor, gc: Option<bool>, icf: Option<bool>) -> LinkOptions {
        LinkOptions { flavor, gc, icf, entry: Some("start".into()), x86: false }
    }

    #[test]
    fn command_lines_in_each_linkers_spelling() {
        let inputs = ["a.obj".to_string()];
        let c = command_line(&opts(Flavor::LldLink, Some(false), Some(true)), &[], &[], &inputs);
        assert_eq!(c, ["/entry:start", "/opt:noref,icf", "a.obj"]);
        let c = command_line(&opts(Flavor::LldLink, None, None), &["/brepro".into()], &[], &inputs);
        assert_eq!(c, ["/entry:start", "/brepro", "a.obj"]);
        let c = command_line(&opts(Flavor::LldMingw, Some(true), Some(true)), &[], &["-s".into()], &inputs);
        assert_eq!(c, ["-m", "i386pep", "-e", "start", "--gc-sections", "--icf=all", "-s", "a.obj"]);
        let c = command_line(&LinkOptions { x86: true, ..opts(Flavor::GnuLd, None, Some(true)) }, &[], &[], &inputs);
        assert_eq!(c, ["-m", "i386pe", "-e", "start", "a.obj"]);
    }

    #[test]
    fn entry_rules() {
        assert_eq!(guess_entry(|n| n == "_main" || n == "start").as_deref(), Some("start"));
        assert_eq!(guess_entry(|_| false), None);
        assert_eq!(default_entries(Flavor::GnuLd, Machine::X86, false), ["_mainCRTStartup"]);
        assert_eq!(default_entries(Flavor::LldLink, Machine::X86, true), ["__DllMainCRTStartup@12"]);
        assert_eq!(default_entries(Flavor::LldMingw, Machine::X64, false).len(), 4);
    }
}
