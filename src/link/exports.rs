//! A DLL's exports as lld-link reads them (`lld/COFF/Driver.cpp` `parseExport`, `fixupExports`,
//! `assignExportOrdinals`; `lld/COFF/DLL.cpp` `EdataContents`): `/export:` on the command line
//! and `/EXPORT:` / `-export:` in an object's `.drectve` (what `__declspec(dllexport)` writes),
//! `name[=internal][,@ordinal[,NONAME]][,DATA][,PRIVATE]`, `name=dll.func` a forwarder. Each
//! exported symbol is a GC root; lld-link lays the export directory out as the `.edata` chunks
//! (merged into `.rdata`): the directory (40 bytes), the DLL name, the address table (4 bytes per
//! ordinal from 0 to the largest: lld writes `Base` 0 and an empty slot 0), the name pointers (4
//! per named export), the ordinals (2 per named export), then each name, sorted, then each
//! forwarder's `dll.func`; none aligned.
//!
//! Simulated for lld-link (MSVC and MinGW mode, whose export-everything default is
//! [`super::autoexport::lld_mingw`]), i386 names decorated and undecorated as lld does, and GNU ld's
//! `.edata` (its `-export:` directives, `.def` files and export-everything default
//! [`super::autoexport::gnu`], its ordinals [`gnu_ordinals`]).

/// One export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The symbol exported (`internal` of `name=internal`, else `name`).
    pub symbol: String,
    /// The name in the export table.
    pub name: String,
    /// `@ordinal` (0: assigned by the linker).
    pub ordinal: u16,
    /// `NONAME`: by ordinal only (no name pointer).
    pub noname: bool,
    /// `DATA`.
    pub data: bool,
    /// `PRIVATE`: not in the import library (still in the table).
    pub private: bool,
    /// `name=other.dll.func`: a forwarder.
    pub forward: Option<String>,
    /// On i386 the names get the C `_` unless decorated already (the command line's `/export:`,
    /// MinGW's `-export:` directives; MSVC's directives and `.def` files come decorated).
    pub decorate: bool,
    /// The ordinal was written (`@n`), not assigned by [`finish`].
    pub ordinal_given: bool,
    /// The symbol of its member in lld's import library (set by [`finish`]): the exported name,
    /// on i386 decorated as the symbol is (`_f`, `_alias` for `alias=f`).
    pub import_symbol: String,
}

impl Export {
    /// `symbol` exported as `name`: no ordinal written, no flags, not a forwarder.
    pub fn new(symbol: &str, name: &str) -> Self {
        Export {
            symbol: symbol.to_string(),
            name: name.to_string(),
            ordinal: 0,
            noname: false,
            data: false,
            private: false,
            forward: None,
            decorate: false,
            ordinal_given: false,
            import_symbol: String::new(),
        }
    }
}

/// Why an export cannot be read, in lld's words (`invalid /export: f,NONAME`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// An empty name.
    #[error("invalid /export: {0}")]
    NoName(String),
    /// A word after the name that is none of `@N` (1–65535), `NONAME` (after an ordinal),
    /// `DATA`, `PRIVATE`, `CONSTANT`.
    #[error("invalid /export: {arg}")]
    Invalid {
        /// The export as written.
        arg: String,
        /// The word.
        word: String,
    },
}

/// Read one `/export:` value (lld's `parseExport`).
pub fn parse(arg: &str) -> Result<Export, ExportError> {
    let mut words = arg.split(',');
    let head = words.next().unwrap_or_default();
    let (name, symbol, forward) = match head.split_once('=') {
        Some((x, y)) if y.contains('.') => (x, x, Some(y.to_string())),
        Some((x, y)) => (x, y, None),
        None => (head, head, None),
    };
    if name.is_empty() || symbol.is_empty() {
        return Err(ExportError::NoName(arg.to_string()));
    }
    let mut e = Export { forward, ..Export::new(symbol, name) };
    if e.forward.is_some() {
        // lld returns a forwarder as soon as it is read: what follows the name is not looked at.
        return Ok(e);
    }
    let invalid = |w: &str| ExportError::Invalid { arg: arg.to_string(), word: w.to_string() };
    for w in words {
        match w.to_ascii_lowercase().as_str() {
            // lld: NONAME only after an ordinal.
            "noname" if e.ordinal != 0 => e.noname = true,
            "data" => e.data = true,
            "private" => e.private = true,
            "constant" => {}
            x if x.starts_with('@') => {
                e.ordinal = x[1..].parse::<u16>().ok().filter(|&n| n != 0).ok_or_else(|| invalid(w))?;
            }
            _ => return Err(invalid(w)),
        }
    }
    Ok(e)
}

/// lld's `fixupExports` and `assignExportOrdinals`: sorted by name, one per name (a second
/// naming a different symbol is dropped), ordinals given from the largest written one up.
/// What lld's fixup of the exports makes of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixup {
    /// The exports, sorted by name, ordinals assigned.
    pub exports: Vec<Export>,
    /// lld's warnings (`duplicate /export option: f`: a name exported twice otherwise).
    pub warnings: Vec<String>,
    /// lld's errors (`duplicate export ordinal: f`).
    pub errors: Vec<String>,
}

/// lld's `isDecorated`: an i386 name that needs no `_`.
pub fn is_decorated(sym: &str, mingw: bool) -> bool {
    sym.starts_with('@') || sym.contains("@@") || sym.starts_with('?') || (!mingw && sym.contains('@'))
}

/// lld's i386 names: the symbol decorated where the export asks for it, the exported name
/// undecorated (`_f` → `f`; MSVC keeps a stdcall `_f@4`, MinGW exports it as `f@4`).
fn x86_names(e: &mut Export, mingw: bool) {
    let had_ext = e.name != e.symbol;
    if e.decorate && e.forward.is_none() {
        if !is_decorated(&e.symbol, mingw) {
            e.symbol.insert(0, '_');
        }
        if had_ext && !is_decorated(&e.name, mingw) {
            e.name.insert(0, '_');
        }
    }
    // lld's import library names the member by the symbol, its name replaced by the one
    // exported under (`writeImportLibrary`'s `replace`); a forwarder by its name.
    e.import_symbol = if had_ext || e.forward.is_some() { e.name.clone() } else { e.symbol.clone() };
    let exported = if had_ext || e.forward.is_some() { &e.name } else { &e.symbol };
    let keep = exported.starts_with('_') && exported.contains('@') && !mingw;
    e.name = if keep { exported.clone() } else { exported.strip_prefix('_').unwrap_or(exported).to_string() };
}

/// `--kill-at` (lld's `killAt`, GNU ld's `pe_dll_kill_ats`): an i386 name without its stdcall or
/// fastcall `@n` (`f@4` → `f`, `@g@8` → `g`); `prefix`: with the C `_` (`_f`).
fn without_at(name: &str, prefix: bool) -> String {
    if name.is_empty() {
        return String::new();
    }
    let cut = name.get(1..).and_then(|r| r.find('@')).map_or(name.len(), |i| i + 1);
    let base = &name[..cut];
    match base.strip_prefix('@') {
        Some(fast) if prefix => format!("_{fast}"),
        Some(fast) => fast.to_string(),
        None if prefix && !base.starts_with('_') => format!("_{base}"),
        None => base.to_string(),
    }
}

/// lld's `fixupExports` and `assignExportOrdinals` ([`Fixup`]); `x86`: i386's names, without
/// their `@n` when `kill_at`.
pub fn finish(exports: &[Export], x86: bool, mingw: bool, kill_at: bool) -> Fixup {
    let exports: Vec<Export> = exports
        .iter()
        .cloned()
        .map(|mut e| {
            if x86 {
                x86_names(&mut e, mingw);
                if kill_at {
                    e.name = without_at(&e.name, false);
                    e.import_symbol = without_at(&e.import_symbol, true);
                }
            } else {
                e.import_symbol = e.name.clone();
            }
            e.ordinal_given = e.ordinal != 0;
            e
        })
        .collect();
    let mut v: Vec<Export> = Vec::new();
    let mut warnings = Vec::new();
    // Written ordinals must be unique, over every export in command-line order.
    let mut ordinals = std::collections::HashSet::new();
    let errors = exports
        .iter()
        .filter(|e| e.ordinal != 0 && !ordinals.insert(e.ordinal))
        .map(|e| format!("duplicate export ordinal: {}", e.symbol))
        .collect();
    // lld keeps the first of each name in command-line order, then sorts.
    for e in &exports {
        match v.iter().find(|x| x.name == e.name) {
            None => v.push(e.clone()),
            Some(x) if x != e && x.symbol == e.symbol => {
                warnings.push(format!("duplicate /export option: {}", e.symbol))
            }
            Some(_) => {}
        }
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    let mut max = v.iter().map(|e| e.ordinal).max().unwrap_or(0);
    for e in &mut v {
        if e.ordinal == 0 {
            max = max.saturating_add(1);
            e.ordinal = max;
        }
    }
    Fixup { exports: v, warnings, errors }
}

/// The `.edata` chunks lld-link writes, in order: (what, size).
pub fn edata_chunks(exports: &[Export], dll_name: &str) -> Vec<(String, u64)> {
    let max = exports.iter().map(|e| u64::from(e.ordinal)).max().unwrap_or(0);
    let named: Vec<&Export> = exports.iter().filter(|e| !e.noname).collect();
    let n = named.len() as u64;
    let mut out = vec![
        ("export directory".to_string(), 40),
        (format!("DLL name {dll_name}"), dll_name.len() as u64 + 1),
        // Ordinal base 0: slot 0 is written, empty.
        ("export address table".to_string(), 4 * (max + 1)),
        ("export name pointers".to_string(), 4 * n),
        ("export ordinals".to_string(), 2 * n),
    ];
    out.extend(named.iter().map(|e| (format!("export name {}", e.name), e.name.len() as u64 + 1)));
    // Then each forwarder's `dll.name` string, which its address-table slot points at.
    out.extend(exports.iter().filter_map(|e| {
        let f = e.forward.as_ref()?;
        Some((format!("export forwarder {}", e.name), f.len() as u64 + 1))
    }));
    out
}

/// The size of GNU ld's `.edata` (`pe-dll.c` `generate_edata`): the directory, an address per
/// ordinal, a name pointer and an ordinal per named export, every export's name and forwarder,
/// and the DLL's name; written as one block.
pub fn gnu_edata_size(exports: &[Export], dll_name: &str) -> u64 {
    let min = exports.iter().map(|e| u64::from(e.ordinal)).min().unwrap_or(1);
    let max = exports.iter().map(|e| u64::from(e.ordinal)).max().unwrap_or(0);
    let named = exports.iter().filter(|e| !e.noname).count() as u64;
    let names: u64 = exports.iter().map(|e| e.name.len() as u64 + 1).sum();
    let forwards: u64 = exports.iter().filter_map(|e| e.forward.as_ref()).map(|f| f.len() as u64 + 1).sum();
    40 + 4 * (max + 1).saturating_sub(min) + 6 * named + names + forwards + dll_name.len() as u64 + 1
}

/// One entry of the export table the link writes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportReport {
    /// Its ordinal.
    pub ordinal: u16,
    /// The name in the table (None: `NONAME`).
    pub name: Option<String>,
    /// The symbol exported.
    pub symbol: String,
    /// The symbol's RVA (None: undefined).
    pub rva: Option<u64>,
    /// `DATA`.
    pub data: bool,
    /// `PRIVATE`.
    pub private: bool,
    /// `dll.name` of a forwarder (its `rva` is the string's).
    pub forwarder: Option<String>,
}

/// The export table, by ordinal, with each symbol's RVA from the report's `symbols`.
pub fn report(
    w: &super::resolve::World,
    symbols: &[super::report::Resolved],
    chunks: &[super::layout::Chunk],
) -> Vec<ExportReport> {
    let mut out: Vec<ExportReport> = w
        .exports
        .iter()
        .map(|e| ExportReport {
            ordinal: e.ordinal,
            name: (!e.noname).then(|| e.name.clone()),
            symbol: e.symbol.clone(),
            rva: match &e.forward {
                Some(_) => {
                    let want = format!("export forwarder {}", e.name);
                    chunks.iter().find(|c| c.name == want).map(|c| c.rva)
                }
                None => symbols.iter().find(|s| s.symbol == e.symbol).and_then(|s| s.value),
            },
            data: e.data,
            private: e.private,
            forwarder: e.forward.clone(),
        })
        .collect();
    out.sort_by_key(|e| e.ordinal);
    out
}

/// The DLL name written into the export directory: the output file's name (GNU ld: the `.def`
/// file's `LIBRARY` / `NAME`, with `.dll` / `.exe` when it has no extension, when it gives one).
pub fn dll_name(cfg: &super::args::Config) -> String {
    match &cfg.import_name {
        Some(n) if cfg.flavor == super::Flavor::GnuLd => {
            super::args::with_image_extension(&super::inputs::base_name(n), cfg.dll)
        }
        _ => super::inputs::base_name(&super::debug::output_file(cfg)),
    }
}

/// The DLL's name as GNU ld's `dll_symname` spells it in the names of the objects it makes
/// (`pe_process_import_defs`: the `.def`'s name, else the output's): [`dll_name`] with every
/// character but ASCII letters and digits made `_`.
pub fn gnu_symname(cfg: &super::args::Config) -> String {
    dll_name(cfg).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// GNU ld's ordinals (`generate_edata`): the written ones kept; the table starts at the lowest
/// written ordinal, lowered so every export fits below the highest (from 1 when none is written);
/// the others, in name order, take the free ordinals from its start.
pub fn gnu_ordinals(exports: &mut [Export]) {
    let count = exports.len() as u32;
    let given: Vec<u32> = exports.iter().filter(|e| e.ordinal_given).map(|e| u32::from(e.ordinal)).collect();
    let (mut min, max) = (given.iter().copied().min().unwrap_or(1), given.iter().copied().max().unwrap_or(0));
    if given.is_empty() || max <= count {
        min = 1;
    } else if min > max - count + 1 {
        min = max - count + 1;
    }
    let taken: std::collections::HashSet<u32> = given.into_iter().collect();
    let mut next = min;
    for e in exports.iter_mut().filter(|e| !e.ordinal_given) {
        while taken.contains(&next) {
            next += 1;
        }
        e.ordinal = u16::try_from(next).unwrap_or(u16::MAX);
        next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_read_as_lld_reads_them() {
        let e = parse("alias=f_c,@5,NONAME,DATA,PRIVATE").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((e.name.as_str(), e.symbol.as_str(), e.ordinal), ("alias", "f_c", 5));
        assert!(e.noname && e.data && e.private && e.forward.is_none());
        assert_eq!(parse("f=k32.Sleep").map(|e| e.forward), Ok(Some("k32.Sleep".into())));
        assert!(parse("f,@0").is_err() && parse("f,WHAT").is_err() && parse(",DATA").is_err());
        assert_eq!(parse("f,NONAME,@3").map_err(|e| e.to_string()), Err("invalid /export: f,NONAME,@3".into()));
        let fx = finish(&[parse("b,@3").unwrap(), parse("c,@3").unwrap()], false, false, false);
        assert_eq!(fx.errors, ["duplicate export ordinal: c"]);
        let Fixup { exports: v, warnings, errors } = finish(
            &[parse("b").unwrap(), parse("a,@3").unwrap(), parse("c").unwrap(), parse("b,DATA").unwrap()],
            false,
            false,
            false,
        );
        assert_eq!([without_at("_f@4", false), without_at("@g@8", true), without_at("h", true)], ["_f", "_g", "_h"]);
        assert_eq!((warnings, errors.len()), (vec!["duplicate /export option: b".to_string()], 0));
        let got: Vec<(&str, u16)> = v.iter().map(|e| (e.name.as_str(), e.ordinal)).collect();
        assert_eq!(got, [("a", 3), ("b", 4), ("c", 5)]);
        let sizes: Vec<u64> = edata_chunks(&v, "x.dll").iter().map(|c| c.1).collect();
        assert_eq!(sizes, [40, 6, 24, 12, 6, 2, 2, 2]);
        let cfg = |a: &[&str]| {
            let v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            super::super::args::parse(super::super::Flavor::LldLink, &v).unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(dll_name(&cfg(&["/dll", "/out:d/x.dll", "a.obj"])), "x.dll");
        assert_eq!(dll_name(&cfg(&["/dll", "d/lib.v1.obj"])), "lib.v1.dll");
        let mingw = ["--shared", "-o", "d/y.dll", "a.o"].map(String::from);
        let mingw = super::super::args::parse(super::super::Flavor::LldMingw, &mingw).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dll_name(&mingw), "y.dll");
        assert_eq!(dll_name(&cfg(&["/dll", "d/m.obj"])), "m.dll");
    }
}
