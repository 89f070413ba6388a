//! The import library a link writes beside a DLL, listed, not written.
//!
//! lld (LLVM's `writeImportLibrary`): the import descriptor, the null import descriptor and the
//! null thunk, then one short import member per export that is not `PRIVATE`, in the exports'
//! sorted order. lld writes it for a DLL (or any image with exports; lld 14 has no `/noimplib`);
//! in MinGW mode only when `--out-implib` names it.
//!
//! GNU ld (`--out-implib`, binutils' `pe_dll_generate_implib`): dlltool-style long-form members,
//! each an object named `<dll>_dNNNNNN.o` after the DLL's name with every character but letters
//! and digits made `_`: the tail (`<dll>_iname`, the DLL's name) first, then the head (the import
//! descriptor, `_head_<dll>`), then one member per export that is not `PRIVATE`, last export
//! first (`make_one`: `__imp_<name>`, the jump thunk `<name>` unless DATA, `__nm_<name>` for
//! DATA; i386 adds its `_` to each, except to a fastcall `@name`). The members are numbered from
//! the head by one counter that GNU ld also steps for every object it made earlier in the link
//! (one per automatic import's pseudo-relocation, and one for the runtime-relocator reference).

use serde::Serialize;

use super::args::Config;
use super::exports::Export;
use super::Flavor;
use crate::model::{ImportNameType, ImportType};

/// The import library a link writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportLibrary {
    /// Where it is written (`/implib:`, else the output with `.lib`).
    pub path: String,
    /// The DLL its members name (the `.def` file's `LIBRARY`, else the output's file name).
    pub dll: String,
    /// Its members, in order.
    pub members: Vec<ImportMember>,
}

/// One member of the import library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportMember {
    /// lld: `import-descriptor`, `null-import-descriptor`, `null-thunk` or `short-import`;
    /// GNU ld: `tail`, `head` or `long-import`.
    pub kind: &'static str,
    /// GNU ld: the member's name in the archive (`<dll>_d000001.o`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The symbols it defines (an import: `__imp_` and, for code, the thunk's name).
    pub symbols: Vec<String>,
    /// A short import: `code`, `data` or `const`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_type: Option<ImportType>,
    /// A short import: how the imported name is made from the symbol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_type: Option<ImportNameType>,
    /// A short import: the name imported from the DLL (`null` by ordinal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_name: Option<String>,
    /// A short import: the ordinal written (`@n`), else 0 (lld assigns the others after writing
    /// the library).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordinal_or_hint: Option<u16>,
}

impl ImportMember {
    fn special(kind: &'static str, symbol: String) -> Self {
        ImportMember {
            kind,
            member: None,
            symbols: vec![symbol],
            import_type: None,
            name_type: None,
            import_name: None,
            ordinal_or_hint: None,
        }
    }
}

/// The import library of a link whose exports are `exports` (after the linker's fixup, sorted),
/// or `None` when the linker writes none. `made_before`: the objects GNU ld made earlier in the
/// link, which its member numbers count.
pub fn listing(cfg: &Config, exports: &[Export], x86: bool, made_before: usize) -> Option<ImportLibrary> {
    let named = super::args::named_file(&cfg.outputs, "implib:", &["--out-implib"]).map(str::to_string);
    let writes = match cfg.flavor {
        Flavor::GnuLd => named.is_some() && (cfg.dll || !exports.is_empty()),
        _ if cfg.mingw => named.is_some(),
        _ => cfg.dll || !exports.is_empty(),
    };
    if !writes {
        return None;
    }
    if cfg.flavor == Flavor::GnuLd {
        return named.map(|path| gnu_listing(cfg, path, exports, x86, made_before));
    }
    let output = super::debug::output_file(cfg);
    let path = named.unwrap_or_else(|| super::debug::replace_extension(&output, ".lib"));
    // lld's `getImportName`: the `.def` name (with `.dll` / `.exe` when it has none), else the
    // output's file name.
    let dll = match &cfg.import_name {
        Some(n) => super::args::with_image_extension(n, cfg.dll),
        None => super::inputs::base_name(&output),
    };
    let stem = dll.rsplit_once('.').map_or(dll.as_str(), |(s, _)| s).to_string();
    let mut members = vec![
        ImportMember::special("import-descriptor", format!("__IMPORT_DESCRIPTOR_{stem}")),
        ImportMember::special("null-import-descriptor", "__NULL_IMPORT_DESCRIPTOR".into()),
        ImportMember::special("null-thunk", format!("\u{7f}{stem}_NULL_THUNK_DATA")),
    ];
    for e in exports.iter().filter(|e| !e.private) {
        let import_type = if e.data { ImportType::Data } else { ImportType::Code };
        let name_type = if e.noname { ImportNameType::Ordinal } else { name_type(e, x86, cfg.mingw) };
        let sym = &e.import_symbol;
        let mut symbols = vec![format!("__imp_{sym}")];
        if !e.data {
            symbols.push(sym.clone());
        }
        members.push(ImportMember {
            kind: "short-import",
            member: None,
            symbols,
            import_type: Some(import_type),
            name_type: Some(name_type),
            import_name: name_type.import_name(sym, None),
            ordinal_or_hint: Some(if e.ordinal_given { e.ordinal } else { 0 }),
        });
    }
    Some(ImportLibrary { path, dll, members })
}

/// GNU ld's `--out-implib` library (`pe_dll_generate_implib`).
fn gnu_listing(cfg: &Config, path: String, exports: &[Export], x86: bool, first: usize) -> ImportLibrary {
    let dll = super::exports::dll_name(cfg);
    let sym = super::exports::gnu_symname(cfg);
    let u = if x86 { "_" } else { "" };
    let object = |n: usize| Some(format!("{sym}_d{n:06}.o"));
    let long = |e: &Export, n: usize| {
        let name = &e.name;
        // Fastcall: no prefix, and no auto-import symbol (functions only).
        let fastcall = name.starts_with('@');
        let p = if fastcall { "" } else { u };
        let mut symbols = Vec::new();
        if !e.data {
            symbols.push(format!("{p}{name}"));
        }
        symbols.push(format!("__imp_{p}{name}"));
        if e.data && !fastcall {
            symbols.push(format!("__nm_{p}{name}"));
        }
        ImportMember {
            kind: "long-import",
            member: object(n),
            symbols,
            import_type: Some(if e.data { ImportType::Data } else { ImportType::Code }),
            name_type: None,
            import_name: (!e.noname).then(|| name.clone()),
            ordinal_or_hint: Some(e.ordinal),
        }
    };
    let listed: Vec<&Export> = exports.iter().filter(|e| !e.private).collect();
    let tail = first + listed.len() + 1;
    let mut members = vec![
        ImportMember { member: object(tail), ..ImportMember::special("tail", format!("{u}{sym}_iname")) },
        ImportMember { member: object(first), ..ImportMember::special("head", format!("{u}_head_{sym}")) },
    ];
    members.extend(listed.iter().enumerate().rev().map(|(i, e)| long(e, first + 1 + i)));
    ImportLibrary { path, dll, members }
}

/// LLVM's `getNameType`, for an export whose symbol and name are lld's (the internal symbol, a
/// forwarder's name): an MSVC stdcall `_f@4` by name, another i386 `_f` without its prefix.
fn name_type(e: &Export, x86: bool, mingw: bool) -> ImportNameType {
    let sym = if e.forward.is_some() { &e.name } else { &e.symbol };
    if sym.starts_with('_') && sym.contains('@') && !mingw {
        ImportNameType::Name
    } else if x86 && sym.starts_with('_') {
        ImportNameType::NoPrefix
    } else {
        ImportNameType::Name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dll_gets_its_library_unless_told_otherwise() {
        let cfg = |a: &[&str], f: Flavor| {
            let v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            super::super::args::parse(f, &v).unwrap_or_else(|e| panic!("{e}"))
        };
        let e = super::super::exports::finish(&[Export::new("f", "f")], false, false, false).exports;
        let l = listing(&cfg(&["/dll", "/out:d/x.dll", "a.obj"], Flavor::LldLink), &e, false, 0);
        let l = l.unwrap_or_else(|| panic!("no library"));
        assert_eq!((l.path.as_str(), l.dll.as_str(), l.members.len()), ("d/x.lib", "x.dll", 4));
        assert_eq!(l.members[3].symbols, ["__imp_f", "f"]);
        assert!(listing(&cfg(&["--shared", "a.obj"], Flavor::GnuLd), &e, false, 0).is_none());
        assert!(listing(&cfg(&["--shared", "--out-implib", "l.a", "a.obj"], Flavor::GnuLd), &e, false, 0).is_some());
        assert!(listing(&cfg(&["/dll", "/implib:y.lib", "a.obj"], Flavor::LldLink), &e, false, 0)
            .is_some_and(|l| l.path == "y.lib"));
    }
}
