//! lld-link's debug records: which `/debug` kinds write a PDB, and the PDB path the CodeView
//! record holds, whose length decides the record's size and so where everything after it in
//! `.rdata` lands (lld's `Driver.cpp`: `parseDebugKind`, the PDB path next to the image,
//! `parsePDBAltPath`; `Writer.cpp`: `CVDebugRecordChunk`).

use super::args::Config;

/// What a `/debug[:kind]` value turns on (lld 14's `parseDebugKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugKind {
    /// lld's `config->debug`: a debug directory with a CodeView record, DWARF sections kept,
    /// and `/opt:ref` / `/opt:icf` off unless asked.
    pub debug: bool,
    /// A PDB is written (and its path goes into the CodeView record).
    pub pdb: bool,
    /// `/opt:ref` (and with it `/opt:icf`) is off unless asked: every kind but `none`.
    pub no_gc: bool,
}

/// `/debug` with `value` (`None` for a bare `/debug`); `None` when lld rejects the value.
pub fn kind(value: Option<&str>) -> Option<DebugKind> {
    let v = value.map(str::to_ascii_lowercase);
    Some(match v.as_deref() {
        // A bare /debug, and /debug:fastlink, which lld warns about and treats as full.
        None | Some("full" | "fastlink" | "ghash" | "noghash") => DebugKind { debug: true, pdb: true, no_gc: true },
        Some("dwarf") => DebugKind { debug: true, pdb: false, no_gc: true },
        Some("symtab") => DebugKind { debug: false, pdb: false, no_gc: true },
        Some("none") => DebugKind { debug: false, pdb: false, no_gc: false },
        Some(_) => return None,
    })
}

/// The path lld-link writes into the CodeView record, and a note when it depends on what the
/// simulation does not know. Empty when no PDB is written (`/debug:dwarf`, MinGW's default).
/// `cwd` is the directory the link runs in: without `/pdbaltpath:`, lld makes the PDB path
/// absolute against it.
pub fn codeview_path(cfg: &Config, cwd: Option<&str>) -> (String, Option<String>) {
    if !cfg.pdb {
        return (String::new(), None);
    }
    let out = output_file(cfg);
    let pdb = match &cfg.pdb_path {
        Some(p) => p.clone(),
        None => replace_extension(&out, ".pdb"),
    };
    if let Some(alt) = &cfg.pdb_alt_path {
        return (expand_alt_path(alt, &pdb, &out), None);
    }
    if pdb.starts_with('/') {
        return (remove_dots(&pdb), None);
    }
    match cwd {
        Some(dir) => (remove_dots(&format!("{dir}/{pdb}")), None),
        None => (
            remove_dots(&pdb),
            Some(format!(
                "the CodeView record holds the PDB path made absolute against the directory the link runs in, which is not known here: counted as {pdb}"
            )),
        ),
    }
}

/// lld-link's output file: `/out:` (the MinGW driver's `-o`), else the first input with the
/// image's extension (lld's `getOutputPath`).
pub fn output_file(cfg: &Config) -> String {
    if let Some(out) = super::args::named_output(&cfg.outputs) {
        return out.to_string();
    }
    let first = cfg.inputs.iter().find_map(|i| i.file()).unwrap_or("a");
    replace_extension(first, if cfg.dll { ".dll" } else { ".exe" })
}

/// LLVM's `sys::path::replace_extension`: the file name's extension (after its last `.`, not a
/// leading one) replaced, or `ext` appended.
pub fn replace_extension(path: &str, ext: &str) -> String {
    let name_start = path.rfind(['/', '\\']).map_or(0, |i| i + 1);
    let name = &path[name_start..];
    let stem_len = match name.rfind('.') {
        Some(i) if i > 0 && name != ".." => i,
        _ => name.len(),
    };
    format!("{}{ext}", &path[..name_start + stem_len])
}

/// LLVM's `sys::path::remove_dots` without `..` removal: `.` components and doubled separators
/// dropped.
fn remove_dots(path: &str) -> String {
    let root = path.starts_with('/');
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let joined = parts.join("/");
    if root {
        format!("/{joined}")
    } else {
        joined
    }
}

/// lld's `parsePDBAltPath`: `%_PDB%` becomes the PDB's file name, `%_EXT%` the output's extension
/// without its dot; other `%var%` stay as written (lld warns), as does an unmatched `%`.
fn expand_alt_path(alt: &str, pdb: &str, out: &str) -> String {
    let file_name = |p: &str| p.rsplit(['/', '\\']).next().unwrap_or(p).to_string();
    let ext = {
        let name = file_name(out);
        match name.rfind('.') {
            Some(i) if i > 0 => name[i + 1..].to_string(),
            _ => String::new(),
        }
    };
    let mut res = String::new();
    let mut rest = alt;
    while let Some(start) = rest.find('%') {
        let Some(len) = rest[start + 1..].find('%') else { break };
        let end = start + 1 + len;
        res.push_str(&rest[..start]);
        let var = &rest[start..=end];
        if var.eq_ignore_ascii_case("%_PDB%") {
            res.push_str(&file_name(pdb));
        } else if var.eq_ignore_ascii_case("%_EXT%") {
            res.push_str(&ext);
        } else {
            res.push_str(var);
        }
        rest = &rest[end + 1..];
    }
    res.push_str(rest);
    res
}

/// The CodeView record's size: `RSDS`, the GUID, the age, the path and its NUL.
pub fn codeview_size(path: &str) -> u64 {
    24 + path.len() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Flavor;

    fn cfg(args: &[&str]) -> Config {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        crate::link::args::parse(Flavor::LldLink, &v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pdb_paths_as_lld_writes_them() {
        let c = cfg(&["/debug", "/out:d/t.exe", "a.obj"]);
        assert_eq!(codeview_path(&c, Some("/w")), ("/w/d/t.pdb".into(), None));
        assert!(codeview_path(&c, None).1.is_some());
        let c = cfg(&["/debug", "/pdb:./s/../y.pdb", "a.obj"]);
        assert_eq!(codeview_path(&c, Some("/w/")).0, "/w/s/../y.pdb");
        let c = cfg(&["/debug", "/pdbaltpath:x/%_pdb%.%_EXT%.%Q%", "/dll", "lib.v1.obj"]);
        assert_eq!(codeview_path(&c, None), ("x/lib.v1.pdb.dll.%Q%".into(), None));
        let c = cfg(&["/debug:dwarf", "/pdbaltpath:x.pdb", "a.obj"]);
        assert_eq!(codeview_path(&c, None).0, "");
        assert_eq!(codeview_size(""), 25);
        assert_eq!(kind(Some("SymTab")), Some(DebugKind { debug: false, pdb: false, no_gc: true }));
        assert_eq!(kind(Some("what")), None);
        assert_eq!(replace_extension(".hidden", ".pdb"), ".hidden.pdb");
        assert_eq!(replace_extension("a.b/c", ".pdb"), "a.b/c.pdb");
    }
}
