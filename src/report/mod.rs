//! Reports: the JSON document of `inspect --json` (with a `schema_version`) and the text tables.
//! Printers write to an injected `impl Write`.

pub mod diff;
pub mod disasm;
pub mod explain;
pub mod json;
pub mod link;
pub mod patch;
pub mod pdb;
pub mod refs;
pub mod spill;
pub mod strings;
pub mod table;
pub mod text;

use std::io::Write;

use serde::Serialize;

use crate::model::Binary;

/// Version of the JSON document's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// The parts of a report that `--only` can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// File, optional and format headers.
    Headers,
    /// Sections.
    Sections,
    /// Segments (ELF program headers).
    Segments,
    /// Symbols.
    Symbols,
    /// COMDATs, ELF groups and link-order associations.
    Comdats,
    /// Imports and delay imports.
    Imports,
    /// Exports.
    Exports,
    /// Base relocations.
    Basereloc,
    /// Object and dynamic relocations.
    Relocs,
    /// MinGW pseudo-relocations.
    PseudoRelocs,
    /// Diagnostics.
    Diagnostics,
    /// OMF records (with their decoded fields) and OMF fixups.
    Records,
    /// The image's PDB: which file, its publics and procedures.
    Pdb,
    /// The PDB's section contributions.
    Contributions,
}

impl Part {
    /// Every part, in the order `--help` lists them.
    pub const ALL: [Part; 14] = [
        Part::Headers,
        Part::Sections,
        Part::Segments,
        Part::Symbols,
        Part::Comdats,
        Part::Imports,
        Part::Exports,
        Part::Basereloc,
        Part::Relocs,
        Part::PseudoRelocs,
        Part::Diagnostics,
        Part::Records,
        Part::Pdb,
        Part::Contributions,
    ];

    /// The JSON keys this part consists of.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Part::Headers => {
                &["image_base", "entry_rva", "file_size", "headers", "pe", "elf", "import_object", "mz_relocations"]
            }
            Part::Sections => &["sections"],
            Part::Segments => &["segments"],
            Part::Symbols => &["symbols", "archive_symbols"],
            Part::Comdats => &["comdats", "groups", "link_order"],
            Part::Imports => &["imports", "delay_imports", "ignored_imports", "import_object"],
            Part::Exports => &["exports"],
            Part::Basereloc => &["base_relocations", "base_reloc_blocks"],
            Part::Relocs => &["relocations"],
            Part::PseudoRelocs => &["pseudo_relocations"],
            Part::Diagnostics => &["diagnostics"],
            Part::Records => &["omf_records", "omf"],
            Part::Pdb => &["pdb", "publics", "procedures"],
            Part::Contributions => &["contributions"],
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    #[serde(flatten)]
    binary: &'a Binary,
}

/// Keys every filtered document keeps.
const ALWAYS: [&str; 4] = ["schema_version", "format", "arch", "members"];

/// Write the JSON document for `bin`, optionally restricted to `only`: compact, key by key
/// ([`json::write_document`]); pretty through serde.
pub fn write_json(w: &mut impl Write, bin: &Binary, only: Option<Part>, pretty: bool) -> std::io::Result<()> {
    if !pretty {
        return json::write_document(w, bin, only, &[]);
    }
    match only {
        None => serde_json::to_writer_pretty(&mut *w, &Document { schema_version: SCHEMA_VERSION, binary: bin })?,
        Some(_) => serde_json::to_writer_pretty(&mut *w, &document_value(bin, only)?)?,
    }
    writeln!(w)
}

/// The document for `bin` as a value, restricted to `only` (for a caller that adds keys).
pub fn document_value(bin: &Binary, only: Option<Part>) -> serde_json::Result<serde_json::Value> {
    let mut v = serde_json::to_value(Document { schema_version: SCHEMA_VERSION, binary: bin })?;
    if let Some(part) = only {
        filter(&mut v, part);
    }
    Ok(v)
}

/// Whether a document restricted to `only` keeps `key` (a file's or a member's).
fn selected(key: &str, only: Option<Part>) -> bool {
    only.is_none_or(|p| ALWAYS.contains(&key) || p.keys().contains(&key) || key.starts_with("member_"))
}

fn filter(v: &mut serde_json::Value, part: Part) {
    if let serde_json::Value::Object(map) = v {
        map.retain(|k, _| selected(k, Some(part)));
        if let Some(serde_json::Value::Array(members)) = map.get_mut("members") {
            for m in members {
                filter(m, part);
            }
        }
    }
}

/// Start a JSON object that is written piece by piece: `{` and the small leading `fields` (no
/// closing brace). A caller then writes its long list element by element and the `}` itself, so
/// no tree of the whole document is ever built.
pub fn write_json_head(w: &mut impl Write, fields: &[(&str, serde_json::Value)]) -> std::io::Result<()> {
    w.write_all(b"{")?;
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, k)?;
        w.write_all(b":")?;
        serde_json::to_writer(&mut *w, v)?;
    }
    Ok(())
}
