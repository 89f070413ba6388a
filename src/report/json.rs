//! The compact `inspect --json` document written key by key, without building a
//! `serde_json::Value` of the file: `--only PART` serializes that part alone (not the whole
//! file first and then filtered), and the base relocations — 131,728 of them in a 120 MB DLL, half
//! of the document's time through serde — are written by hand. The bytes are exactly those of
//! the derived serialization ([`super::document_value`], checked on every fixture by
//! `tests/inspect_only.rs`): every field of [`Binary`] is listed here in its declaration order.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::{selected, Part, SCHEMA_VERSION};
use crate::model::{BaseReloc, Binary, Member};

/// Write the compact document for `bin` restricted to `only`, then the `extra` keys (the PDB's),
/// and a newline.
pub fn write_document(w: &mut impl Write, bin: &Binary, only: Option<Part>, extra: &[(&str, Value)]) -> io::Result<()> {
    write!(w, "{{\"schema_version\":{SCHEMA_VERSION}")?;
    let mut f = Fields { w, only, first: false };
    f.binary(bin)?;
    for (k, v) in extra {
        f.field(k, v)?;
    }
    f.w.write_all(b"}\n")
}

/// The fields of one JSON object, written in turn, each only when `only` selects it.
struct Fields<'w, W: Write> {
    w: &'w mut W,
    only: Option<Part>,
    /// No field written yet (no comma before the next).
    first: bool,
}

impl<W: Write> Fields<'_, W> {
    /// Write `"key":` (after a comma unless first) when `key` is selected.
    fn key(&mut self, key: &str) -> io::Result<bool> {
        if !selected(key, self.only) {
            return Ok(false);
        }
        if !std::mem::take(&mut self.first) {
            self.w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *self.w, key)?;
        self.w.write_all(b":")?;
        Ok(true)
    }

    fn field(&mut self, key: &str, value: &impl Serialize) -> io::Result<()> {
        if self.key(key)? {
            serde_json::to_writer(&mut *self.w, value)?;
        }
        Ok(())
    }

    /// The fields of `b`, as `#[derive(Serialize)]` on [`Binary`] writes them.
    fn binary(&mut self, b: &Binary) -> io::Result<()> {
        self.field("format", &b.format)?;
        self.field("arch", &b.arch)?;
        self.field("is_64", &b.is_64)?;
        self.field("image_base", &b.image_base)?;
        self.field("entry_rva", &b.entry_rva)?;
        self.field("file_size", &b.file_size)?;
        self.field("headers", &b.headers)?;
        self.field("sections", &b.sections)?;
        self.field("segments", &b.segments)?;
        self.field("symbols", &b.symbols)?;
        self.field("comdats", &b.comdats)?;
        self.field("groups", &b.groups)?;
        self.field("link_order", &b.link_order)?;
        self.field("imports", &b.imports)?;
        self.field("delay_imports", &b.delay_imports)?;
        if !b.ignored_imports.is_empty() {
            self.field("ignored_imports", &b.ignored_imports)?;
        }
        self.field("exports", &b.exports)?;
        self.field("base_reloc_blocks", &b.base_reloc_blocks)?;
        if self.key("base_relocations")? {
            base_relocations(self.w, &b.base_relocations)?;
        }
        self.field("relocations", &b.relocations)?;
        self.field("pseudo_relocations", &b.pseudo_relocations)?;
        self.field("pe", &b.pe)?;
        self.field("elf", &b.elf)?;
        self.field("import_object", &b.import_object)?;
        if self.key("members")? {
            self.w.write_all(b"[")?;
            for (i, m) in b.members.iter().enumerate() {
                if i > 0 {
                    self.w.write_all(b",")?;
                }
                self.member(m)?;
            }
            self.w.write_all(b"]")?;
        }
        self.field("archive_symbols", &b.archive_symbols)?;
        self.field("omf_records", &b.omf_records)?;
        if b.omf.is_some() {
            self.field("omf", &b.omf)?;
        }
        self.field("mz_relocations", &b.mz_relocations)?;
        self.field("diagnostics", &b.diagnostics)
    }

    /// A member: its own fields, then its document's (flattened), filtered alike.
    fn member(&mut self, m: &Member) -> io::Result<()> {
        self.w.write_all(b"{")?;
        let mut f = Fields { w: &mut *self.w, only: self.only, first: true };
        f.field("member_name", &m.member_name)?;
        f.field("member_offset", &m.member_offset)?;
        f.field("member_size", &m.member_size)?;
        if let Some(b) = &m.binary {
            f.binary(b)?;
        }
        f.w.write_all(b"}")
    }
}

/// The base relocations as `#[derive(Serialize)]` on [`BaseReloc`] writes them.
fn base_relocations(w: &mut impl Write, relocs: &[BaseReloc]) -> io::Result<()> {
    let mut n = itoa::Buffer::new();
    w.write_all(b"[")?;
    for (i, r) in relocs.iter().enumerate() {
        w.write_all(if i == 0 { b"{\"rva\":" } else { b",{\"rva\":" })?;
        w.write_all(n.format(r.rva).as_bytes())?;
        w.write_all(b",\"kind\":")?;
        serde_json::to_writer(&mut *w, r.kind)?;
        w.write_all(b",\"raw_type\":")?;
        w.write_all(n.format(r.raw_type).as_bytes())?;
        w.write_all(b",\"value\":")?;
        match r.value {
            Some(v) => w.write_all(n.format(v).as_bytes())?,
            None => w.write_all(b"null")?,
        }
        if let Some(p) = r.param {
            w.write_all(b",\"param\":")?;
            w.write_all(n.format(p).as_bytes())?;
        }
        w.write_all(b",\"block\":")?;
        w.write_all(n.format(r.block).as_bytes())?;
        w.write_all(b",\"span\":{\"offset\":")?;
        w.write_all(n.format(r.span.offset).as_bytes())?;
        w.write_all(b",\"len\":")?;
        w.write_all(n.format(r.span.len).as_bytes())?;
        w.write_all(b"}}")?;
    }
    w.write_all(b"]")
}
