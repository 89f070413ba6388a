//! The PDB parts of `inspect`: `--only pdb` (the PDB used, its publics and procedures) and
//! `--only contributions` (the section contributions), in JSON and as text tables.

use std::io::Write;

use serde_json::Value;

use super::table::Table;
use super::Part;
use crate::model::pdb::LoadedPdb;
use crate::model::Binary;

/// Whether `only` asks for a PDB part (everything asks for all of them).
fn wants(only: Option<Part>, part: Part) -> bool {
    only.is_none_or(|o| o == part)
}

/// The PDB's keys of the `inspect` document: `pdb`, `publics`, `procedures` (part `pdb`) and
/// `contributions` (part `contributions`). Without a PDB, a part asked for by `--only` is written
/// empty (`pdb: null`), and nothing else is added.
pub fn json_keys(pdb: Option<&LoadedPdb>, only: Option<Part>) -> Result<Vec<(&'static str, Value)>, serde_json::Error> {
    let mut keys = Vec::new();
    if pdb.is_none() && only.is_none() {
        return Ok(keys);
    }
    let empty = LoadedPdb::default();
    let p = pdb.unwrap_or(&empty);
    if wants(only, Part::Pdb) {
        keys.push(("pdb", serde_json::to_value(&p.header)?));
        keys.push(("publics", serde_json::to_value(&p.publics)?));
        keys.push(("procedures", serde_json::to_value(&p.procedures)?));
    }
    if wants(only, Part::Contributions) {
        keys.push(("contributions", serde_json::to_value(&p.contributions)?));
    }
    Ok(keys)
}

/// Write the `inspect` JSON document for `bin` with its PDB's keys (see [`json_keys`]) after
/// the file's own.
pub fn write_json(
    w: &mut impl Write,
    bin: &Binary,
    pdb: Option<&LoadedPdb>,
    only: Option<Part>,
    pretty: bool,
) -> std::io::Result<()> {
    let keys = json_keys(pdb, only)?;
    if !pretty {
        return super::json::write_document(w, bin, only, &keys);
    }
    let mut v = super::document_value(bin, only)?;
    if let Value::Object(map) = &mut v {
        map.extend(keys.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    serde_json::to_writer_pretty(&mut *w, &v)?;
    writeln!(w)
}

fn opt_hex(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("0x{v:x}"))
}

/// Write the PDB's text tables (after `inspect`'s own): the PDB used, publics and procedures
/// (part `pdb`), contributions (part `contributions`).
pub fn write_text(w: &mut impl Write, pdb: Option<&LoadedPdb>, only: Option<Part>) -> std::io::Result<()> {
    let Some(p) = pdb else {
        if only.is_some_and(|o| matches!(o, Part::Pdb | Part::Contributions)) {
            writeln!(w, "\n== pdb ==\n(no PDB)")?;
        }
        return Ok(());
    };
    if wants(only, Part::Pdb) {
        writeln!(w, "\n== pdb ==")?;
        if let Some(h) = &p.header {
            writeln!(w, "path: {}\nguid: {}   age: {}   matches: {}", h.path, h.guid, h.age, h.matches)?;
        }
        writeln!(w, "\n== PDB publics ({}) ==", p.publics.len())?;
        let mut t = Table::new(&["rva>", "name", "demangled"]);
        for x in &p.publics {
            t.row(vec![opt_hex(x.rva), x.name.clone(), x.demangled.clone().unwrap_or_default()]);
        }
        t.print(w)?;
        writeln!(w, "\n== PDB procedures ({}) ==", p.procedures.len())?;
        let mut t = Table::new(&["rva>", "length>", "name", "module"]);
        for x in &p.procedures {
            t.row(vec![opt_hex(x.rva), x.length.to_string(), x.name.clone(), x.module.clone()]);
        }
        t.print(w)?;
    }
    if wants(only, Part::Contributions) {
        writeln!(w, "\n== PDB section contributions ({}) ==", p.contributions.len())?;
        let mut t = Table::new(&["rva>", "size>", "section>", "characteristics>", "data crc>", "module", "archive"]);
        for x in &p.contributions {
            t.row(vec![
                opt_hex(x.rva),
                format!("0x{:x}", x.size),
                x.section.to_string(),
                format!("0x{:08x}", x.characteristics),
                format!("0x{:08x}", x.data_crc),
                x.module.clone().unwrap_or_else(|| "-".into()),
                x.archive.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        t.print(w)?;
    }
    Ok(())
}
