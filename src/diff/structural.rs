//! Structural changes between two builds: sections, imports, exports, symbols, COMDATs and
//! relocation counts added, removed or changed, with the model's field names.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::index::import_name;
use crate::model::{Binary, SymbolKind};

/// Lists longer than this are compared by count only (symbols of a large image).
const MAX_ITEMS: usize = 200_000;

/// One structural change.
#[derive(Debug, Clone, Serialize)]
pub struct StructuralChange {
    /// `section`, `import`, `import-module`, `export`, `symbol`, `comdat`, `base-relocations`,
    /// `relocations`, `pseudo-relocations`, `format`.
    pub kind: &'static str,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// What it is (section name, `dll!name`, symbol, …).
    pub name: String,
    /// For `changed`: each field that differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// One field of a changed item.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// The model's field name (`virtual_size`, `rva`, `selection`, …).
    pub field: &'static str,
    /// Value in the first file.
    pub before: String,
    /// Value in the second.
    pub after: String,
}

fn keyed<T>(items: impl Iterator<Item = (String, T)>) -> BTreeMap<String, T> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (k, v) in items {
        let n = seen.entry(k.clone()).or_insert(0);
        let key = if *n == 0 { k } else { format!("{k}#{n}") };
        *n += 1;
        out.insert(key, v);
    }
    out
}

fn diff_maps(
    out: &mut Vec<StructuralChange>,
    kind: &'static str,
    a: &BTreeMap<String, Vec<(&'static str, String)>>,
    b: &BTreeMap<String, Vec<(&'static str, String)>>,
) {
    for (k, fa) in a {
        match b.get(k) {
            None => out.push(StructuralChange { kind, change: "removed", name: k.clone(), fields: Vec::new() }),
            Some(fb) => {
                let fields: Vec<FieldChange> = fa
                    .iter()
                    .zip(fb)
                    .filter(|(x, y)| x.1 != y.1)
                    .map(|(x, y)| FieldChange { field: x.0, before: x.1.clone(), after: y.1.clone() })
                    .collect();
                if !fields.is_empty() {
                    out.push(StructuralChange { kind, change: "changed", name: k.clone(), fields });
                }
            }
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        out.push(StructuralChange { kind, change: "added", name: k.clone(), fields: Vec::new() });
    }
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

fn sections(bin: &Binary) -> BTreeMap<String, Vec<(&'static str, String)>> {
    keyed(bin.sections.iter().map(|s| {
        (
            s.name.clone(),
            vec![
                ("rva", hex(s.rva)),
                ("virtual_size", hex(s.virtual_size)),
                ("file_size", hex(s.file_size)),
                ("file_offset", hex(s.file_offset)),
                ("flags", hex(s.flags)),
            ],
        )
    }))
}

fn imports(bin: &Binary) -> BTreeMap<String, Vec<(&'static str, String)>> {
    keyed(bin.imports.iter().chain(&bin.delay_imports).flat_map(|m| {
        m.entries.iter().map(move |e| (format!("{}!{}", m.dll, import_name(e)), vec![("iat_rva", hex(e.iat_rva))]))
    }))
}

fn exports(bin: &Binary) -> BTreeMap<String, Vec<(&'static str, String)>> {
    keyed(bin.exports.iter().map(|e| {
        let name = e.name.clone().unwrap_or_else(|| format!("#{}", e.ordinal));
        (
            name,
            vec![
                ("ordinal", e.ordinal.to_string()),
                ("rva", hex(e.rva)),
                ("forwarder", e.forwarder.clone().unwrap_or_default()),
            ],
        )
    }))
}

fn symbols(bin: &Binary) -> BTreeMap<String, Vec<(&'static str, String)>> {
    keyed(
        bin.symbols
            .iter()
            .filter(|s| !s.name.is_empty() && !matches!(s.kind, SymbolKind::Section | SymbolKind::File))
            .map(|s| {
                (
                    s.name.clone(),
                    vec![
                        ("value", hex(s.value)),
                        (
                            "section",
                            s.section.map_or_else(
                                || s.section_kind.map(|k| k.to_string()).unwrap_or_default(),
                                |x| x.to_string(),
                            ),
                        ),
                        ("binding", s.binding.to_string()),
                    ],
                )
            }),
    )
}

fn comdats(bin: &Binary) -> BTreeMap<String, Vec<(&'static str, String)>> {
    let name = |c: &crate::model::Comdat| {
        c.symbol.clone().unwrap_or_else(|| {
            bin.sections
                .iter()
                .find(|s| s.index == c.section)
                .map_or_else(|| format!("section {}", c.section), |s| s.name.clone())
        })
    };
    keyed(bin.comdats.iter().map(|c| {
        (
            name(c),
            vec![
                ("selection", c.selection.map_or_else(String::new, |s| s.to_string())),
                ("associated_section", c.associated_section.map_or_else(String::new, |s| s.to_string())),
            ],
        )
    }))
}

fn count(out: &mut Vec<StructuralChange>, kind: &'static str, a: usize, b: usize) {
    if a != b {
        out.push(StructuralChange {
            kind,
            change: "changed",
            name: kind.replace('-', " "),
            fields: vec![FieldChange { field: "count", before: a.to_string(), after: b.to_string() }],
        });
    }
}

/// Every structural change from `a` to `b`.
pub fn compare(a: &Binary, b: &Binary) -> Vec<StructuralChange> {
    let mut out = Vec::new();
    if a.format != b.format || a.arch != b.arch {
        out.push(StructuralChange {
            kind: "format",
            change: "changed",
            name: "format".into(),
            fields: vec![FieldChange {
                field: "format",
                before: format!("{} {}", a.format.name(), a.arch),
                after: format!("{} {}", b.format.name(), b.arch),
            }],
        });
    }
    diff_maps(&mut out, "section", &sections(a), &sections(b));
    let dlls = |bin: &Binary| bin.imports.iter().map(|m| m.dll.to_ascii_lowercase()).collect::<BTreeSet<_>>();
    let (da, db) = (dlls(a), dlls(b));
    for d in da.difference(&db) {
        out.push(StructuralChange { kind: "import-module", change: "removed", name: d.clone(), fields: Vec::new() });
    }
    for d in db.difference(&da) {
        out.push(StructuralChange { kind: "import-module", change: "added", name: d.clone(), fields: Vec::new() });
    }
    diff_maps(&mut out, "import", &imports(a), &imports(b));
    diff_maps(&mut out, "export", &exports(a), &exports(b));
    if a.symbols.len() <= MAX_ITEMS && b.symbols.len() <= MAX_ITEMS {
        diff_maps(&mut out, "symbol", &symbols(a), &symbols(b));
    } else {
        count(&mut out, "symbols", a.symbols.len(), b.symbols.len());
    }
    diff_maps(&mut out, "comdat", &comdats(a), &comdats(b));
    count(&mut out, "base-relocations", a.base_relocations.len(), b.base_relocations.len());
    count(&mut out, "relocations", a.relocations.len(), b.relocations.len());
    count(&mut out, "pseudo-relocations", a.pseudo_relocations.entries.len(), b.pseudo_relocations.entries.len());
    out
}
