//! The Unix-style command line of GNU ld and of ld.lld's MinGW driver into a [`Config`]: the
//! options each reads, `-L` / `-l` / `-Bstatic` / `-Bdynamic` / `--sysroot` for the library
//! search ([`super::search`]), a compiler driver's `-plugin` / `-plugin-opt` (accepted and
//! ignored), and the MinGW driver's defaults (`-opt:noref -opt:noicf -debug:dwarf`).

use super::args::{number, power_of_two, ArgsError, Config, Machine};
use super::search::InputSpec;
use super::Flavor;

/// Read a GNU-style command line (`flavor`: GNU ld or the MinGW driver).
pub(super) fn parse(flavor: Flavor, args: &[String]) -> Result<Config, ArgsError> {
    let mut c = Config::new(flavor);
    let mut icf = false;
    // -Bstatic / -Bdynamic hold for the -l's after them (GNU ld, and the MinGW driver).
    let mut dynamic = true;
    let mut group_start: Option<usize> = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        // Joined -L / -l before `=` is looked at: `-L=/lib` is the directory `=/lib` (the
        // sysroot's /lib for GNU ld), `-l:file` a file name.
        if let Some(dir) = a.strip_prefix("-L").filter(|d| !d.is_empty()) {
            c.lib_dirs.push(dir.to_string());
            continue;
        }
        if let Some(name) = a.strip_prefix("-l").filter(|n| !n.is_empty()) {
            c.inputs.push(InputSpec::Library { name: name.to_string(), dynamic });
            continue;
        }
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with('-') => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut take = |what: &str| -> Result<String, ArgsError> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| ArgsError::MissingValue { arg: a.clone(), option: what.to_string() }),
            }
        };
        match key.as_str() {
            "-m" => {
                c.machine = Some(match take("-m")?.as_str() {
                    "i386pep" => Machine::X64,
                    "i386pe" => Machine::X86,
                    other => return Err(ArgsError::UnknownEmulation { emulation: other.to_string() }),
                })
            }
            "-e" | "--entry" | "-entry" => c.entry = Some(take("--entry")?),
            "--gc-sections" => c.gc = true,
            "--no-gc-sections" => c.gc = false,
            "--icf" => icf = matches!(take("--icf")?.as_str(), "all" | "safe"),
            "--image-base" => c.image_base = Some(number(&take("--image-base")?, "--image-base")?),
            "--shared" | "-shared" => c.dll = true,
            "--allow-multiple-definition" | "-z" => {
                if key == "-z" {
                    let v = take("-z")?;
                    if v == "muldefs" {
                        c.force_multiple = true;
                    } else {
                        c.ignored.push(format!("-z {v}"));
                    }
                } else {
                    c.force_multiple = true;
                }
            }
            "-u" | "--undefined" => c.includes.push(take("--undefined")?),
            "--section-alignment" => c.align = power_of_two(&take("--section-alignment")?, "--section-alignment")?,
            "--file-alignment" => c.file_align = power_of_two(&take("--file-alignment")?, "--file-alignment")?,
            "--disable-dynamicbase" => c.relocatable = false,
            "-L" | "--library-path" => c.lib_dirs.push(take("-L")?),
            "-l" | "--library" => c.inputs.push(InputSpec::Library { name: take("-l")?, dynamic }),
            // Archives searched again together until none loads more (GNU ld); lld, which
            // searches every archive it has seen anyway, accepts and ignores them.
            "--export-all-symbols" => c.export_all = Some(true),
            "--exclude-all-symbols" => c.export_all = Some(false),
            "--kill-at" => c.kill_at = true,
            "--start-group" | "-(" => group_start = Some(c.inputs.len()),
            "--end-group" | "-)" => {
                if let Some(start) = group_start.take() {
                    c.groups.push((start, c.inputs.len()));
                }
            }
            "-Bstatic" | "--Bstatic" | "-dn" | "-non_shared" | "-static" => dynamic = false,
            "-Bdynamic" | "--Bdynamic" | "-dy" | "-call_shared" => dynamic = true,
            "--sysroot" => {
                let v = take("--sysroot")?;
                // lld's MinGW driver accepts it and reads no `=` in -L.
                if flavor == Flavor::GnuLd {
                    c.sysroot = Some(v);
                } else {
                    c.ignored.push(format!("--sysroot {v}"));
                }
            }
            // The compiler driver's LTO plugin and its options (gcc's collect2 line): accepted and
            // ignored, as the linkers do when no LTO object is linked.
            "-plugin" | "--plugin" | "-plugin-opt" | "--plugin-opt" => {
                let v = take(&key)?;
                c.ignored.push(format!("{key} {v}"));
            }
            "-o" | "--out" | "-Map" | "--Map" | "-M" | "--print-map" | "--out-implib" | "--pdb" => {
                if matches!(key.as_str(), "-M" | "--print-map") {
                    c.outputs.push(a.clone());
                } else {
                    let v = take(&key)?;
                    if key == "--pdb" && flavor == Flavor::LldMingw {
                        // The MinGW driver: `--pdb=` passes `-debug` (and `-pdb:` when named).
                        c.pdb = true;
                        c.pdb_path = (!v.is_empty()).then(|| v.clone());
                    }
                    c.outputs.push(format!("{key} {v}"));
                }
            }
            "--subsystem"
            | "--major-os-version"
            | "--minor-os-version"
            | "--major-subsystem-version"
            | "--minor-subsystem-version"
            | "--stack"
            | "--heap" => {
                let v = take(&key)?;
                c.ignored.push(format!("{key} {v}"));
            }
            "--no-insert-timestamp"
            | "--insert-timestamp"
            | "--enable-auto-import"
            | "--disable-auto-import"
            | "--dynamicbase"
            | "--nxcompat"
            | "--high-entropy-va"
            | "--no-seh"
            | "--verbose" => {
                if key.ends_with("insert-timestamp") && key.starts_with("--no") {
                    c.repro = flavor == Flavor::LldMingw;
                }
                // Both linkers import data automatically unless told not to.
                if key.ends_with("auto-import") {
                    c.auto_import = key == "--enable-auto-import";
                    continue;
                }
                c.ignored.push(a.clone())
            }
            "-s" | "--strip-all" | "-S" | "--strip-debug" => {
                // The MinGW driver: -s passes no -debug:dwarf, -S passes -debug:symtab (below).
                c.strip_debug = true;
                c.ignored.push(a.clone())
            }
            k if k.starts_with('-') && k.len() > 1 => c.ignored.push(a.clone()),
            // A module-definition file (GNU ld and the MinGW driver take it as an input; the
            // driver passes it to lld-link as `-def:`).
            _ if a.to_ascii_lowercase().ends_with(".def") => c.def_file = Some(a.clone()),
            _ => c.inputs.push(InputSpec::File(a.clone())),
        }
    }
    if flavor == Flavor::LldMingw {
        // The MinGW driver passes -opt:noref -opt:noicf unless asked; `-debug` with `--pdb`, else
        // `-debug:symtab` with -S, else `-debug:dwarf` unless -s.
        c.icf = icf;
        c.tail_merge = icf;
        c.debug = c.pdb || !c.strip_debug;
        c.repro = false;
    }
    Ok(c)
}
