//! The printers of `strings`: a table, or one JSON document written string by string.

use std::io::{self, Write};

use serde::Serialize;

use crate::analysis::strings::{Encoding, Found};
use crate::model::Binary;

/// JSON schema version of `strings`.
pub const SCHEMA_VERSION: u32 = 1;

/// What `strings` prints.
pub struct Strings<'a> {
    /// The model.
    pub bin: &'a Binary,
    /// The file's bytes.
    pub data: &'a [u8],
    /// The shortest string listed.
    pub min: usize,
    /// The strings, in section and offset order.
    pub found: &'a [Found],
    /// For each string, the RVAs of the sites that reference it.
    pub refs: &'a [Vec<u64>],
}

/// One string as JSON.
#[derive(Serialize)]
struct StringJson<'a> {
    rva: Option<u64>,
    offset: u64,
    section: Option<&'a str>,
    section_offset: u64,
    len: u64,
    encoding: Encoding,
    text: String,
    refs: &'a [u64],
}

/// Write the JSON document: `schema_version`, `format`, `arch`, `min`, `strings[]`.
pub fn write_json(w: &mut impl Write, s: &Strings<'_>) -> io::Result<()> {
    super::write_json_head(
        w,
        &[
            ("schema_version", SCHEMA_VERSION.into()),
            ("format", s.bin.format.name().into()),
            ("arch", s.bin.arch.to_string().into()),
            ("min", s.min.into()),
        ],
    )?;
    w.write_all(b",\"strings\":[")?;
    for (k, f) in s.found.iter().enumerate() {
        if k > 0 {
            w.write_all(b",")?;
        }
        let j = StringJson {
            rva: f.rva(s.bin),
            offset: f.offset,
            section: s.bin.sections.get(f.section() as usize).map(|x| x.name.as_str()),
            section_offset: f.section_offset(s.bin),
            len: u64::from(f.len),
            encoding: f.encoding(),
            text: f.text(s.data),
            refs: s.refs.get(k).map_or(&[], Vec::as_slice),
        };
        serde_json::to_writer(&mut *w, &j)?;
    }
    writeln!(w, "]}}")
}

/// Write the table: where, how, how many sites reference it, the text.
pub fn write_text(w: &mut impl Write, s: &Strings<'_>) -> io::Result<()> {
    let ascii = s.found.iter().filter(|f| f.encoding() == Encoding::Ascii).count();
    writeln!(
        w,
        "format: {}   arch: {}\n{} strings of at least {} characters: {} ascii, {} utf-16le; {} referenced by a site\n",
        s.bin.format.name(),
        s.bin.arch,
        s.found.len(),
        s.min,
        ascii,
        s.found.len() - ascii,
        s.refs.iter().filter(|r| !r.is_empty()).count()
    )?;
    let t = super::table::Table::new(&["rva>", "offset>", "section", "encoding", "refs>", "text"]);
    let row = |k: usize, f: &Found| {
        vec![
            f.rva(s.bin).map_or_else(String::new, |r| format!("{r:#x}")),
            format!("{:#x}", f.offset),
            s.bin.sections.get(f.section() as usize).map_or_else(String::new, |x| x.name.clone()),
            f.encoding().name().to_string(),
            s.refs.get(k).map_or(0, Vec::len).to_string(),
            f.text(s.data).replace('\t', "\\t"),
        ]
    };
    let mut width = t.header_widths();
    t.measure(&mut width, s.found.iter().enumerate().map(|(k, f)| row(k, f)));
    t.write_head(w, &width)?;
    for (k, f) in s.found.iter().enumerate() {
        t.write_row(w, &width, &row(k, f))?;
    }
    Ok(())
}
