//! The exports a MinGW DLL gets without asking: every global it defines, except each linker's
//! lists of runtime symbols, start-up objects and libraries. lld's MinGW mode (`AutoExporter`)
//! does it for a DLL with no export of its own or with `--export-all-symbols`; GNU ld
//! (`pe-dll.c`'s `process_def_file_and_drectve` and `auto_export`) likewise, with its own lists.

use super::exports::Export;
use super::resolve::{Def, World};

/// lld's MinGW default (`maybeExportMinGWSymbols`, `AutoExporter`): a DLL with no export of its
/// own (or `--export-all-symbols`) exports every defined global of a regular object, except
/// lld's lists of runtime symbols, prefixes, suffixes, libraries and start-up objects, and any
/// symbol whose `__imp_` symbol exists; data when its section is not code.
pub fn lld_mingw(w: &World) -> Vec<Export> {
    const LIBS: [&str; 24] = [
        "libgcc",
        "libgcc_s",
        "libstdc++",
        "libmingw32",
        "libmingwex",
        "libg2c",
        "libsupc++",
        "libobjc",
        "libgcj",
        "libclang_rt.builtins",
        "libclang_rt.builtins-aarch64",
        "libclang_rt.builtins-arm",
        "libclang_rt.builtins-i386",
        "libclang_rt.builtins-x86_64",
        "libclang_rt.profile",
        "libclang_rt.profile-aarch64",
        "libclang_rt.profile-arm",
        "libclang_rt.profile-i386",
        "libclang_rt.profile-x86_64",
        "libc++",
        "libc++abi",
        "libunwind",
        "libmsvcrt",
        "libucrtbase",
    ];
    const OBJECTS: [&str; 12] = [
        "crt0.o",
        "crt1.o",
        "crt1u.o",
        "crt2.o",
        "crt2u.o",
        "dllcrt1.o",
        "dllcrt2.o",
        "gcrt0.o",
        "gcrt1.o",
        "gcrt2.o",
        "crtbegin.o",
        "crtend.o",
    ];
    const PREFIXES: [&str; 9] =
        ["__imp_", "__IMPORT_DESCRIPTOR_", "__nm_", "__rtti_", "__builtin_", ".", "__profc_", "__profd_", "__profvp_"];
    const SUFFIXES: [&str; 2] = ["_iname", "_NULL_THUNK_DATA"];
    const X64: [&str; 11] = [
        "__NULL_IMPORT_DESCRIPTOR",
        "_pei386_runtime_relocator",
        "do_pseudo_reloc",
        "impure_ptr",
        "_impure_ptr",
        "_fmode",
        "environ",
        "__dso_handle",
        "DllMain",
        "DllEntryPoint",
        "DllMainCRTStartup",
    ];
    const X86: [&str; 11] = [
        "__NULL_IMPORT_DESCRIPTOR",
        "__pei386_runtime_relocator",
        "_do_pseudo_reloc",
        "_impure_ptr",
        "__impure_ptr",
        "__fmode",
        "_environ",
        "___dso_handle",
        "_DllMain@12",
        "_DllEntryPoint@12",
        "_DllMainCRTStartup@12",
    ];
    let x86 = w.machine == super::args::Machine::X86;
    let (symbols, head) = if x86 { (&X86, "__head_") } else { (&X64, "_head_") };
    let mut out = Vec::new();
    for (name, oi, data) in defined(w) {
        if name.is_empty()
            || symbols.contains(&name)
            || name.starts_with(head)
            || PREFIXES.iter().any(|p| name.starts_with(p))
            || SUFFIXES.iter().any(|s| name.ends_with(s))
            || w.by_name.contains_key(&format!("__imp_{name}"))
        {
            continue;
        }
        let o = &w.objs[oi];
        let excluded = match &o.archive {
            Some(a) => {
                let file = super::inputs::base_name(a);
                LIBS.contains(&file.rsplit_once('.').map_or(file.as_str(), |(s, _)| s))
            }
            None => OBJECTS.contains(&super::inputs::base_name(&o.name).as_str()),
        };
        if !excluded {
            out.push(Export { data, ..Export::new(name, name) });
        }
    }
    out
}

/// GNU ld's default (`auto_export`, binutils 2.40): a DLL with no export of its own (or
/// `--export-all-symbols`) exports every defined global, except one that is itself `__imp_…` or
/// whose `__imp_` symbol is defined, symbols of its standard libraries and start-up objects, and
/// its symbol, prefix and suffix lists; compared on the name without i386's `_`. Data when its
/// section is not code.
pub fn gnu(w: &World) -> Vec<Export> {
    const LIBS: [&str; 16] = [
        "libcegcc",
        "libcygwin",
        "libgcc",
        "libgcc_s",
        "libstdc++",
        "libmingw32",
        "libmingwex",
        "libg2c",
        "libsupc++",
        "libobjc",
        "libgcj",
        "libmsvcrt",
        "libmsvcrt-os",
        "libucrt",
        "libucrtbase",
        "libucrtapp",
    ];
    const OBJECTS: [&str; 11] = [
        "crt0.o",
        "crt1.o",
        "crt1CRTMT.o",
        "crt2.o",
        "dllcrt1.o",
        "dllcrt2.o",
        "gcrt0.o",
        "gcrt1.o",
        "gcrt2.o",
        "crtbegin.o",
        "crtend.o",
    ];
    const PREFIXES: [&str; 6] = ["__rtti_", "__builtin_", "__nm_", "_head_", "_IMPORT_DESCRIPTOR_", "."];
    const SUFFIXES: [&str; 2] = ["_iname", "_NULL_THUNK_DATA"];
    // `autofilter_symbollist_i386`: the x86-64 build (pep) and the i386 one differ in the entry
    // points' names.
    const COMMON: [&str; 13] = [
        "_NULL_IMPORT_DESCRIPTOR",
        "cygwin_crt0",
        "cygwin_premain0",
        "cygwin_premain1",
        "cygwin_premain2",
        "cygwin_premain3",
        "_pei386_runtime_relocator",
        "do_pseudo_reloc",
        "impure_ptr",
        "_impure_ptr",
        "_fmode",
        "environ",
        "__dso_handle",
    ];
    const X64: [&str; 6] = [
        "DllMain",
        "DllEntryPoint",
        "DllMainCRTStartup",
        "_cygwin_dll_entry",
        "_cygwin_crt0_common",
        "_cygwin_noncygwin_dll_entry",
    ];
    const X86: [&str; 7] = [
        "DllMain@12",
        "DllEntryPoint@0",
        "DllMainCRTStartup@12",
        "_cygwin_dll_entry@12",
        "_cygwin_crt0_common@8",
        "_cygwin_noncygwin_dll_entry@12",
        "cygwin_attach_dll",
    ];
    let x86 = w.machine == super::args::Machine::X86;
    let entries: &[&str] = if x86 { &X86 } else { &X64 };
    let mut out = Vec::new();
    for (sym, oi, data) in defined(w) {
        if sym.starts_with("__imp_") || w.by_name.contains_key(&format!("__imp_{sym}")) {
            continue;
        }
        let n = if x86 { sym.strip_prefix('_').unwrap_or(sym) } else { sym };
        let o = &w.objs[oi];
        let excluded_file = match &o.archive {
            Some(a) => {
                let file = super::inputs::base_name(a);
                LIBS.contains(&file.split('.').next().unwrap_or(&file))
            }
            None => false,
        } || OBJECTS.contains(&super::inputs::base_name(&o.name).as_str());
        if n.is_empty()
            || excluded_file
            || COMMON.contains(&n)
            || entries.contains(&n)
            || PREFIXES.iter().any(|p| n.starts_with(p))
            || SUFFIXES.iter().any(|s| n.ends_with(s))
        {
            continue;
        }
        out.push(Export { data, decorate: x86, ..Export::new(n, n) });
    }
    out
}

/// Every global a regular object defines: its name, the object, and whether it is data (its
/// section is not code; a common symbol).
fn defined(w: &World) -> impl Iterator<Item = (&str, usize, bool)> {
    w.globals.iter().filter_map(|g| {
        let (oi, data) = match g.def {
            Def::Regular { chunk, .. } => {
                let flags = w.objs[chunk.obj.0].section(chunk.section).map_or(0, |s| s.flags as u32);
                (chunk.obj.0, flags & crate::formats::coff::header::scn::EXECUTE == 0)
            }
            Def::Common { obj, .. } => (obj.0, true),
            _ => return None,
        };
        Some((g.name.as_str(), oi, data))
    })
}
