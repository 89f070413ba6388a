//! The import library lld-link writes beside a DLL (LLVM's `writeImportLibrary`), listed, not
//! written: the import descriptor, the null import descriptor and the null thunk, then one short
//! import member per export that is not `PRIVATE`, in the exports' sorted order. lld writes it
//! for a DLL (or any image with exports; lld 14 has no `/noimplib`); in MinGW mode only when
//! `--out-implib` names it. GNU ld's `--out-implib` library (dlltool's long-form members) is not
//! listed.

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
    /// `import-descriptor`, `null-import-descriptor`, `null-thunk` or `short-import`.
    pub kind: &'static str,
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
            symbols: vec![symbol],
            import_type: None,
            name_type: None,
            import_name: None,
            ordinal_or_hint: None,
        }
    }
}

/// The import library of a link whose exports are `exports` (after lld's fixup, sorted), or
/// `None` when the linker writes none (or it is GNU ld's).
pub fn listing(cfg: &Config, exports: &[Export], x86: bool) -> Option<ImportLibrary> {
    let named = super::args::named_file(&cfg.outputs, "implib:", &["--out-implib"]).map(str::to_string);
    let writes = match cfg.flavor {
        Flavor::GnuLd => false,
        _ if cfg.mingw => named.is_some(),
        _ => cfg.dll || !exports.is_empty(),
    };
    if !writes {
        return None;
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
            symbols,
            import_type: Some(import_type),
            name_type: Some(name_type),
            import_name: name_type.import_name(sym, None),
            ordinal_or_hint: Some(if e.ordinal_given { e.ordinal } else { 0 }),
        });
    }
    Some(ImportLibrary { path, dll, members })
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
        let l = listing(&cfg(&["/dll", "/out:d/x.dll", "a.obj"], Flavor::LldLink), &e, false);
        let l = l.unwrap_or_else(|| panic!("no library"));
        assert_eq!((l.path.as_str(), l.dll.as_str(), l.members.len()), ("d/x.lib", "x.dll", 4));
        assert_eq!(l.members[3].symbols, ["__imp_f", "f"]);
        assert!(listing(&cfg(&["/dll", "a.obj"], Flavor::GnuLd), &e, false).is_none());
        assert!(listing(&cfg(&["/dll", "/implib:y.lib", "a.obj"], Flavor::LldLink), &e, false)
            .is_some_and(|l| l.path == "y.lib"));
    }
}
