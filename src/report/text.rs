//! Human-readable text report: one aligned table per part.

use std::io::Write;

use super::table::Table;
use super::Part;
use crate::analysis::namer::signed_hex;
use crate::model::Binary;

fn hex(v: u64) -> String {
    format!("0x{v:x}")
}

fn opt_hex(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), hex)
}

fn heading(w: &mut impl Write, title: &str, count: usize) -> std::io::Result<()> {
    writeln!(w, "\n== {title} ({count}) ==")
}

/// Write the text report for `bin` (everything, or only `only`).
pub fn write_text(w: &mut impl Write, bin: &Binary, only: Option<Part>) -> std::io::Result<()> {
    let want = |p: Part| only.is_none_or(|o| o == p);
    writeln!(
        w,
        "format: {}   arch: {}{}{}",
        bin.format.name(),
        bin.arch,
        bin.image_base.map_or(String::new(), |b| format!("   image base: 0x{b:x}")),
        bin.entry_rva.map_or(String::new(), |e| format!("   entry: rva 0x{e:x}"))
    )?;
    if want(Part::Headers) {
        write_headers(w, bin)?;
    }
    if want(Part::Sections) && !bin.sections.is_empty() {
        write_sections(w, bin)?;
    }
    if want(Part::Segments) && !bin.segments.is_empty() {
        write_segments(w, bin)?;
    }
    if want(Part::Symbols) {
        write_symbols(w, bin)?;
    }
    if want(Part::Comdats) {
        write_comdats(w, bin)?;
    }
    if want(Part::Imports) {
        write_imports(w, bin)?;
    }
    if want(Part::Exports) && !bin.exports.is_empty() {
        write_exports(w, bin)?;
    }
    if want(Part::Basereloc) && !bin.base_reloc_blocks.is_empty() {
        write_base_relocs(w, bin)?;
    }
    if want(Part::Relocs) && !bin.relocations.is_empty() {
        write_relocations(w, bin)?;
    }
    if want(Part::PseudoRelocs) {
        write_pseudo_relocs(w, bin, only == Some(Part::PseudoRelocs))?;
    }
    if want(Part::Records) {
        write_omf_records(w, bin)?;
    }
    if want(Part::Diagnostics) && !bin.diagnostics.is_empty() {
        write_diagnostics(w, bin)?;
    }
    for m in &bin.members {
        writeln!(w, "\n#### member {} @ 0x{:x} ({} bytes)", m.member_name, m.member_offset, m.member_size)?;
        match &m.binary {
            Some(b) => write_text(w, b, only)?,
            None => writeln!(w, "(not readable)")?,
        }
    }
    Ok(())
}

/// The address of `rva` in an image at its preferred base; None for objects.
fn va(bin: &Binary, rva: u64) -> Option<u64> {
    bin.image_base.map(|b| b.wrapping_add(rva))
}

/// Header groups, then what the format adds: the import object, PE directories, ELF dynamic
/// information, DOS relocations.
fn write_headers(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    for g in &bin.headers {
        writeln!(w, "\n== {} @ file 0x{:x} ==", g.name, g.span.offset)?;
        let mut t = Table::new(&["offset>", "field", "value"]);
        for f in &g.fields {
            t.row(vec![hex(f.span.offset), f.name.clone(), f.display.clone()]);
        }
        t.print(w)?;
    }
    if let Some(o) = &bin.import_object {
        writeln!(
            w,
            "\nimport object: {} from {} ({}, name type {}, ordinal/hint {}){}",
            o.symbol,
            o.dll,
            o.kind,
            o.name_type,
            o.ordinal_or_hint,
            o.import_name.as_ref().map_or(String::new(), |n| format!(", imports {n}"))
        )?;
    }
    if let Some(pe) = &bin.pe {
        write_pe_extras(w, bin, pe)?;
    }
    if let Some(elf) = &bin.elf {
        write_elf_info(w, bin, elf)?;
    }
    if !bin.mz_relocations.is_empty() {
        heading(w, "DOS relocations", bin.mz_relocations.len())?;
        let mut t = Table::new(&["segment>", "offset>", "file offset>"]);
        for r in &bin.mz_relocations {
            t.row(vec![format!("0x{:04x}", r.segment), format!("0x{:04x}", r.offset), hex(r.file_offset)]);
        }
        t.print(w)?;
    }
    Ok(())
}

/// The section table (objects: by size and file position; images: with addresses).
fn write_sections(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    heading(w, "sections", bin.sections.len())?;
    // Objects have no addresses: their sections are shown by size and file position only.
    let image = bin.image_base.is_some();
    let mut t = if image {
        Table::new(&["#>", "name", "rva>", "va>", "vsize>", "file off>", "file size>", "flags>", "decoded"])
    } else {
        Table::new(&["#>", "name", "size>", "file off>", "file size>", "relocs>", "flags>", "decoded"])
    };
    for s in &bin.sections {
        let decoded: Vec<&str> =
            s.flag_names.iter().map(|n| n.trim_start_matches("IMAGE_SCN_").trim_start_matches("SHF_")).collect();
        let kind = s.kind.as_ref().map_or(String::new(), |k| format!("{k} "));
        let decoded = format!("{kind}{}", decoded.join(" "));
        if image {
            let shown_va = if s.is_alloc { opt_hex(va(bin, s.rva)) } else { "-".into() };
            t.row(vec![
                s.index.to_string(),
                s.name.clone(),
                hex(s.rva),
                shown_va,
                hex(s.virtual_size),
                hex(s.file_offset),
                hex(s.file_size),
                hex(s.flags),
                decoded,
            ]);
        } else {
            t.row(vec![
                s.index.to_string(),
                s.name.clone(),
                hex(s.virtual_size),
                hex(s.file_offset),
                hex(s.file_size),
                s.reloc_count.to_string(),
                hex(s.flags),
                decoded,
            ]);
        }
    }
    t.print(w)?;
    Ok(())
}

/// The ELF program headers.
fn write_segments(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    heading(w, "segments", bin.segments.len())?;
    let mut t = Table::new(&["#>", "type", "vaddr>", "memsz>", "offset>", "filesz>", "flags", "align>"]);
    for s in &bin.segments {
        t.row(vec![
            s.index.to_string(),
            s.kind.to_string(),
            hex(s.vaddr),
            hex(s.mem_size),
            hex(s.file_offset),
            hex(s.file_size),
            s.flag_names.join(""),
            hex(s.align),
        ]);
    }
    t.print(w)?;
    Ok(())
}

/// The symbol table, then an archive's symbol index.
fn write_symbols(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    if !bin.symbols.is_empty() {
        heading(w, "symbols", bin.symbols.len())?;
        let mut t = Table::new(&["#>", "value>", "section", "kind", "binding", "name"]);
        for s in &bin.symbols {
            let sec =
                s.section.map_or_else(|| s.section_kind.map(|k| k.to_string()).unwrap_or_default(), |n| n.to_string());
            let name = match &s.demangled {
                Some(d) => format!("{}  [{}]", s.name, d),
                None => s.name.clone(),
            };
            t.row(vec![s.index.to_string(), hex(s.value), sec, s.kind.to_string(), s.binding.to_string(), name]);
            for a in &s.aux {
                t.row(vec![
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    format!("  aux: {a}"),
                ]);
            }
        }
        t.print(w)?;
    }
    if !bin.archive_symbols.is_empty() {
        heading(w, "archive symbol index", bin.archive_symbols.len())?;
        let mut t = Table::new(&["member offset>", "symbol"]);
        for s in &bin.archive_symbols {
            t.row(vec![hex(s.member_offset), s.name.clone()]);
        }
        t.print(w)?;
    }
    Ok(())
}

/// COFF COMDAT sections, ELF section groups and `SHF_LINK_ORDER` associations.
fn write_comdats(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    if !bin.comdats.is_empty() {
        heading(w, "COMDAT sections", bin.comdats.len())?;
        let mut t = Table::new(&["section", "selection", "symbol / leader", "associated"]);
        let sname = |i: u32| bin.sections.iter().find(|s| s.index == i).map_or_else(|| "?".into(), |s| s.name.clone());
        for c in &bin.comdats {
            let sel = match (c.selection, &c.omf_selection) {
                (Some(n), _) => format!("{n} {}", c.selection_name),
                (None, Some(o)) => o.clone(),
                _ => c.selection_name.clone(),
            };
            let who = match c.associated_section {
                Some(a) => format!("-> section {a} ({})", sname(a)),
                None => c.symbol.clone().unwrap_or_default(),
            };
            let by = if c.associated_by.is_empty() {
                String::new()
            } else {
                c.associated_by.iter().map(|i| format!("{i} ({})", sname(*i))).collect::<Vec<_>>().join(", ")
            };
            t.row(vec![format!("{} ({})", c.section, sname(c.section)), sel, who, by]);
        }
        t.print(w)?;
    }
    if !bin.groups.is_empty() {
        heading(w, "section groups", bin.groups.len())?;
        let mut t = Table::new(&["section>", "signature", "comdat", "members"]);
        for g in &bin.groups {
            t.row(vec![
                g.section.to_string(),
                g.signature.clone(),
                g.comdat.to_string(),
                g.members.iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
            ]);
        }
        t.print(w)?;
    }
    if !bin.link_order.is_empty() {
        heading(w, "SHF_LINK_ORDER associations", bin.link_order.len())?;
        let mut t = Table::new(&["section>", "linked to>"]);
        for l in &bin.link_order {
            t.row(vec![l.section.to_string(), l.linked_section.to_string()]);
        }
        t.print(w)?;
    }
    Ok(())
}

/// Ordinary, delay-load and ignored imports, one row per entry.
fn write_imports(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    for (title, mods) in [
        ("imports", &bin.imports),
        ("delay-load imports", &bin.delay_imports),
        ("ignored import descriptors (after the loader's terminator; not bound)", &bin.ignored_imports),
    ] {
        if mods.is_empty() {
            continue;
        }
        heading(w, title, mods.iter().map(|m| m.entries.len()).sum())?;
        let mut t = Table::new(&["dll", "name", "ordinal>", "hint>", "iat rva>", "iat va>", "on disk>"]);
        for m in mods {
            for e in &m.entries {
                t.row(vec![
                    m.dll.clone(),
                    e.name.clone().unwrap_or_else(|| "-".into()),
                    e.ordinal.map_or("-".into(), |o| o.to_string()),
                    e.hint.map_or("-".into(), |o| o.to_string()),
                    hex(e.iat_rva),
                    opt_hex(va(bin, e.iat_rva)),
                    opt_hex(e.iat_value),
                ]);
            }
        }
        t.print(w)?;
    }
    Ok(())
}

/// The exports.
fn write_exports(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    heading(w, "exports", bin.exports.len())?;
    let mut t = Table::new(&["ordinal>", "rva>", "va>", "name", "forwarder"]);
    for e in &bin.exports {
        t.row(vec![
            e.ordinal.to_string(),
            hex(e.rva),
            opt_hex(va(bin, e.rva)),
            e.name.clone().unwrap_or_else(|| "-".into()),
            e.forwarder.clone().unwrap_or_default(),
        ]);
    }
    t.print(w)?;
    Ok(())
}

/// PE base relocations, one row per entry.
fn write_base_relocs(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    heading(w, "base relocations", bin.base_relocations.len())?;
    let mut t = Table::new(&["block>", "page>", "rva>", "va>", "kind", "value>"]);
    for r in &bin.base_relocations {
        let page = bin.base_reloc_blocks.get(r.block as usize).map_or(0, |b| b.page_rva);
        let value = match (r.value, r.param) {
            (Some(v), Some(p)) => format!("0x{v:x} (param 0x{p:x})"),
            (v, _) => opt_hex(v),
        };
        t.row(vec![r.block.to_string(), hex(page), hex(r.rva), opt_hex(va(bin, r.rva)), r.kind.to_string(), value]);
    }
    t.print(w)?;
    Ok(())
}

/// Object and dynamic relocations, with what each computes.
fn write_relocations(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    heading(w, "relocations", bin.relocations.len())?;
    let mut t = Table::new(&["section", "offset>", "kind", "width>", "symbol", "addend>", "computes"]);
    let sname = |i: u32| bin.sections.iter().find(|s| s.index == i).map_or_else(String::new, |s| s.name.clone());
    for r in &bin.relocations {
        let sec = r.section.map_or_else(|| "(dynamic)".into(), |s| format!("{s} {}", sname(s)));
        t.row(vec![
            sec,
            hex(r.offset),
            r.kind.to_string(),
            r.width.to_string(),
            r.symbol.clone().unwrap_or_else(|| "-".into()),
            signed_hex(r.addend),
            crate::model::relocation_formula(&r.kind).unwrap_or("").to_string(),
        ]);
    }
    t.print(w)?;
    Ok(())
}

/// The MinGW pseudo-relocation list; when it is the only part asked for and there is none, says so.
fn write_pseudo_relocs(w: &mut impl Write, bin: &Binary, alone: bool) -> std::io::Result<()> {
    let p = &bin.pseudo_relocations;
    if let Some(by) = &p.found_by {
        writeln!(
            w,
            "\n== pseudo-relocations (v{}, {} entries, list at rva {}, found by {by}) ==",
            p.version.map_or("?".into(), |v| v.to_string()),
            p.entries.len(),
            opt_hex(p.list_rva)
        )?;
        let mut t = Table::new(&["slot rva>", "import", "target rva>", "target", "width>", "stored>", "addend>"]);
        for e in &p.entries {
            t.row(vec![
                opt_hex(e.sym_rva),
                e.import.clone().unwrap_or_else(|| "-".into()),
                hex(e.target_rva),
                match (&e.target_section, e.target_offset) {
                    (Some(s), Some(o)) => format!("{s}+0x{o:x}"),
                    _ => "-".into(),
                },
                e.width.to_string(),
                match (e.stored_value, e.slot_offset) {
                    (Some(v), Some(o)) => format!("{v:#x} (slot{})", signed_hex(o)),
                    (Some(v), None) => format!("{v:#x}"),
                    _ => "-".into(),
                },
                e.signed_addend().map_or("-".into(), signed_hex),
            ]);
        }
        t.print(w)?;
    } else if alone {
        writeln!(w, "\nno pseudo-relocation list")?;
        if let Some(note) = &p.note {
            writeln!(w, "note: {note}")?;
        }
    }
    Ok(())
}

/// Problems found while reading.
fn write_diagnostics(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    heading(w, "diagnostics", bin.diagnostics.len())?;
    let mut t = Table::new(&["severity", "file off>", "rva>", "message"]);
    for d in &bin.diagnostics {
        t.row(vec![
            d.severity.name().into(),
            opt_hex(d.location.file_offset),
            opt_hex(d.location.rva),
            d.message.clone(),
        ]);
    }
    t.print(w)?;
    Ok(())
}

/// The ELF file type, interpreter, soname, needed libraries, dynamic section, version needs and
/// the slots the loader binds.
fn write_elf_info(w: &mut impl Write, bin: &Binary, elf: &crate::model::ElfInfo) -> std::io::Result<()> {
    writeln!(w, "\nELF type: {}", elf.file_type)?;
    if let Some(i) = &elf.interpreter {
        writeln!(w, "interpreter: {i}")?;
    }
    if let Some(s) = &elf.soname {
        writeln!(w, "soname: {s}")?;
    }
    for n in &elf.needed {
        writeln!(w, "needed: {n}")?;
    }
    if !elf.dynamic.is_empty() {
        heading(w, "dynamic section", elf.dynamic.len())?;
        let mut t = Table::new(&["tag", "value"]);
        for d in &elf.dynamic {
            t.row(vec![d.tag.clone(), d.string.clone().unwrap_or_else(|| hex(d.value))]);
        }
        t.print(w)?;
    }
    for v in &elf.version_needs {
        writeln!(w, "version needs: {}: {}", v.file, v.versions.join(", "))?;
    }
    if !elf.got_slots.is_empty() || !elf.copy_relocations.is_empty() {
        heading(w, "loader-bound slots (GOT / PLT / COPY)", elf.got_slots.len() + elf.copy_relocations.len())?;
        let mut t = Table::new(&["rva>", "va>", "kind", "symbol", "size>"]);
        for s in elf.got_slots.iter().chain(&elf.copy_relocations) {
            t.row(vec![
                hex(s.rva),
                opt_hex(va(bin, s.rva)),
                s.kind.clone(),
                s.symbol.clone(),
                s.size.map_or("-".into(), |x| x.to_string()),
            ]);
        }
        t.print(w)?;
    }
    Ok(())
}

fn write_pe_extras(w: &mut impl Write, bin: &Binary, pe: &crate::model::PeInfo) -> std::io::Result<()> {
    writeln!(
        w,
        "\nsubsystem: {}   checksum: stored 0x{:08x}, computed {}{}",
        pe.subsystem,
        pe.checksum_stored,
        pe.checksum_computed.map_or_else(|| "(not computed)".to_string(), |c| format!("0x{c:08x}")),
        if pe.checksum_stored != 0 && Some(pe.checksum_stored) != pe.checksum_computed { " (MISMATCH)" } else { "" }
    )?;
    if !pe.data_directories.is_empty() {
        heading(w, "data directories", pe.data_directories.len())?;
        let mut t = Table::new(&["#>", "name", "rva>", "size>", "section"]);
        for d in &pe.data_directories {
            t.row(vec![
                d.index.to_string(),
                d.name.clone(),
                hex(d.rva),
                hex(d.size),
                d.section.clone().unwrap_or_default(),
            ]);
        }
        t.print(w)?;
    }
    for d in &pe.debug {
        writeln!(
            w,
            "debug: {} size 0x{:x} at rva 0x{:x}{}",
            d.kind,
            d.size,
            d.rva,
            match (&d.pdb_path, &d.guid, d.age) {
                (Some(p), Some(g), Some(a)) => format!(" PDB {p} GUID {g} age {a}"),
                (Some(p), _, _) => format!(" PDB {p}"),
                _ => String::new(),
            }
        )?;
    }
    if let Some(t) = &pe.tls {
        writeln!(
            w,
            "TLS: raw data 0x{:x}..0x{:x}, index at 0x{:x}, {} callback(s){}",
            t.start_raw_data,
            t.end_raw_data,
            t.address_of_index,
            t.callbacks.len(),
            t.callbacks.iter().map(|c| format!(" 0x{c:x}")).collect::<String>()
        )?;
    }
    if let Some(lc) = &pe.load_config {
        writeln!(
            w,
            "load config: size 0x{:x}, {} fields, {} CFG functions, {} SEH handlers",
            lc.size,
            lc.fields.len(),
            lc.guard_functions.len(),
            lc.seh_handlers.len()
        )?;
    }
    if !pe.exceptions.is_empty() {
        writeln!(w, "exception directory: {} RUNTIME_FUNCTION entries", pe.exceptions.len())?;
    }
    if !pe.resources.is_empty() {
        heading(w, "resources", pe.resources.len())?;
        let mut t = Table::new(&["type", "name", "lang>", "rva>", "size>"]);
        for r in &pe.resources {
            t.row(vec![r.kind.clone(), r.name.clone(), r.language.to_string(), hex(r.rva), hex(u64::from(r.size))]);
        }
        t.print(w)?;
    }
    if let Some(r) = &pe.rich {
        writeln!(
            w,
            "Rich header: {} entries, key 0x{:08x} ({})",
            r.entries.len(),
            r.key,
            if r.checksum_valid { "checksum valid" } else { "checksum MISMATCH" }
        )?;
    }
    for b in &pe.bound_imports {
        writeln!(
            w,
            "bound import: {} (timestamp 0x{:x}){}",
            b.dll,
            b.timestamp,
            if b.forwarders.is_empty() { String::new() } else { format!(" forwarders: {}", b.forwarders.join(", ")) }
        )?;
    }
    if let Some(o) = &pe.overlay {
        writeln!(w, "overlay: 0x{:x} bytes at file offset 0x{:x}", o.len, o.offset)?;
    }
    let _ = bin;
    Ok(())
}

/// OMF records (offset, type, length, checksum, summary) and fixups in words.
fn write_omf_records(w: &mut impl Write, bin: &Binary) -> std::io::Result<()> {
    if !bin.omf_records.is_empty() {
        heading(w, "OMF records", bin.omf_records.len())?;
        let mut t = Table::new(&["#>", "offset>", "type", "length>", "checksum", "summary"]);
        for (i, r) in bin.omf_records.iter().enumerate() {
            t.row(vec![
                i.to_string(),
                hex(r.offset),
                r.type_name.clone(),
                r.length.to_string(),
                r.checksum.clone(),
                r.summary.clone(),
            ]);
        }
        t.print(w)?;
    }
    let Some(omf) = &bin.omf else { return Ok(()) };
    if !omf.threads.is_empty() {
        heading(w, "OMF FIXUPP threads", omf.threads.len())?;
        let mut t = Table::new(&["record>", "offset>", "thread"]);
        for th in &omf.threads {
            t.row(vec![th.record.to_string(), hex(th.span.offset), th.description.clone()]);
        }
        t.print(w)?;
    }
    if !omf.fixups.is_empty() {
        heading(w, "OMF fixups", omf.fixups.len())?;
        let mut t = Table::new(&["record>", "offset>", "data rec>", "section", "at>", "locat>", "fixdat>", "fixup"]);
        let sname =
            |i: u32| bin.sections.iter().find(|s| s.index == i).map_or_else(String::new, |s| format!("{i} {}", s.name));
        for f in &omf.fixups {
            t.row(vec![
                f.record.to_string(),
                hex(f.span.offset),
                f.data_record.map_or("-".into(), |r| r.to_string()),
                f.section.map_or("-".into(), sname),
                opt_hex(f.offset),
                format!("{:04x}", f.locat),
                format!("{:02x}", f.fix_data),
                f.description.clone(),
            ]);
        }
        t.print(w)?;
    }
    Ok(())
}
