//! GNU ld's image layout under its default PE script (`pep.sc` for x64, `pe.sc` for x86,
//! binutils 2.40): each input section goes to the first script statement whose pattern it
//! matches, `SORT(...)` statements order by name (ties in input order), the script's own data
//! (`__CTOR_LIST__`'s `LONG (-1)` … `LONG (0)`, the import terminator) takes its place, and
//! sections no statement names are orphans placed by pe.em's rule: into the output section
//! named before `$`, after the script's statements, sorted by name.

use super::args::Machine;
use super::layout::{chunk_align, Chunk, Layout, Origin, OutSection};
use super::live::Live;
use super::resolve::{ChunkId, Def, GlobalId, ObjId, World};

/// One statement of an output section.
enum Stmt {
    /// Input sections matching the pattern (`*` only at the end), sorted by name if `sort`.
    Wild(&'static str, bool),
    /// `SORT(*)(pattern)`: sorted by file name (an archive's name, then the member's), for
    /// dlltool's import libraries.
    ByFile(&'static str),
    /// Script data: bytes, written as `LONG`s.
    Data(&'static str, u64),
    /// `. = ALIGN(n)`.
    Align(u64),
    /// `*(COMMON)`.
    Common,
}

use Stmt::{Align, ByFile, Common, Data, Wild};

/// The default script's output sections, in order, with their characteristics.
fn script(x64: bool, edata: u64) -> Vec<(&'static str, u32, Vec<Stmt>)> {
    // `LONG (-1); LONG (-1);` on x64, one `LONG (-1);` on x86 (and the same for the 0 end).
    let list = if x64 { 8 } else { 4 };
    let mut text = vec![
        Wild(".init", false),
        Wild(".text", false),
        Wild(".text$*", true),
        Wild(".text.*", false),
        Wild(".gnu.linkonce.t.*", false),
        Wild(".glue_7t", false),
        Wild(".glue_7", false),
    ];
    if x64 {
        text.push(Align(8));
    }
    text.extend([
        Data("__CTOR_LIST__ (LONG -1)", list),
        Wild(".ctors", false),
        Wild(".ctor", false),
        Wild(".ctors.*", true),
        Data("__CTOR_LIST__ end (LONG 0)", list),
        Data("__DTOR_LIST__ (LONG -1)", list),
        Wild(".dtors", false),
        Wild(".dtor", false),
        Wild(".dtors.*", true),
        Data("__DTOR_LIST__ end (LONG 0)", list),
        Wild(".fini", false),
        Wild(".gcc_exc", false),
        Wild(".gcc_except_table", false),
    ]);
    let mut idata = vec![ByFile(".idata$2"), ByFile(".idata$3"), Data("import directory terminator", 20)];
    if x64 {
        idata.push(Align(8));
    }
    idata.extend([ByFile(".idata$4"), ByFile(".idata$5"), ByFile(".idata$6"), ByFile(".idata$7")]);
    let mut out = vec![
        (".text", 0x6000_0020, text),
        (
            ".data",
            0xC000_0040,
            vec![
                Wild(".data", false),
                Wild(".data2", false),
                Wild(".data$*", true),
                Wild(".jcr", false),
                Wild(".data_cygwin_nocopy", false),
            ],
        ),
        (
            ".rdata",
            0x4000_0040,
            vec![Wild(".rdata", false), Wild(".rdata$*", true), Align(4), Wild(".rdata_runtime_pseudo_reloc", false)],
        ),
        (".eh_frame", 0x4000_0040, vec![Wild(".eh_frame*", false)]),
        (".pdata", 0x4000_0040, vec![Wild(".pdata*", false)]),
    ];
    if x64 {
        out.push((".xdata", 0x4000_0040, vec![Wild(".xdata*", false)]));
    }
    out.extend([
        (".bss", 0xC000_0080, vec![Wild(".bss", false), Common]),
        (".edata", 0x4000_0040, {
            // The export directory GNU ld makes for a DLL's exports (`pe-dll.c`).
            let mut v = vec![Wild(".edata", false)];
            if edata > 0 {
                v.push(Data("export directory", edata));
            }
            v
        }),
        (".idata", 0xC000_0040, idata),
        (
            ".CRT",
            0xC000_0040,
            vec![
                Wild(".CRT$XC*", true),
                Wild(".CRT$XI*", true),
                Wild(".CRT$XL*", true),
                Wild(".CRT$XP*", true),
                Wild(".CRT$XT*", true),
            ],
        ),
        (
            ".tls",
            0xC000_0040,
            vec![
                Wild(".tls$AAA", false),
                Wild(".tls", false),
                Wild(".tls$", false),
                Wild(".tls$*", true),
                Wild(".tls$ZZZ", false),
            ],
        ),
        (".rsrc", 0x4000_0040, vec![Wild(".rsrc", false), Wild(".rsrc$*", false)]),
    ]);
    // After `.reloc`: the stabs and DWARF sections (`-g`), NOLOAD, each in a section of its own
    // name (discardable, initialised, read).
    for (name, patterns) in AFTER_RELOC {
        out.push((name, 0x4200_0040, patterns.iter().map(|p| Wild(p, false)).collect()));
    }
    out
}

/// `.reloc` (`reloc` bytes of base-relocation blocks) at `rva` / `file`, which move past it.
fn push_reloc(
    sections: &mut Vec<OutSection>,
    chunks: &mut Vec<Chunk>,
    reloc: u64,
    rva: &mut u64,
    file: &mut u64,
    cfg: &super::args::Config,
) {
    sections.push(OutSection {
        name: ".reloc".into(),
        characteristics: 0x4200_0040,
        rva: *rva,
        virtual_size: reloc,
        file_offset: *file,
        raw_size: align_up(reloc, cfg.file_align),
        chunks: vec![chunks.len()],
    });
    chunks.push(Chunk {
        origin: Origin::Synthetic("base relocations"),
        name: "base relocations".into(),
        out: sections.len() - 1,
        rva: *rva,
        size: reloc,
        align: 4,
        has_data: true,
    });
    *rva += align_up(reloc, cfg.align);
    *file += align_up(reloc, cfg.file_align);
}

/// The default script's sections after `.reloc`, with their input patterns (binutils 2.40).
const AFTER_RELOC: [(&str, &[&str]); 46] = [
    (".stab", &[".stab"]),
    (".stabstr", &[".stabstr"]),
    (".debug_aranges", &[".debug_aranges"]),
    (".zdebug_aranges", &[".zdebug_aranges"]),
    (".debug_pubnames", &[".debug_pubnames"]),
    (".zdebug_pubnames", &[".zdebug_pubnames"]),
    (".debug_info", &[".debug_info", ".gnu.linkonce.wi.*"]),
    (".zdebug_info", &[".zdebug_info", ".zdebug.gnu.linkonce.wi.*"]),
    (".debug_abbrev", &[".debug_abbrev"]),
    (".zdebug_abbrev", &[".zdebug_abbrev"]),
    (".debug_line", &[".debug_line"]),
    (".zdebug_line", &[".zdebug_line"]),
    (".debug_frame", &[".debug_frame*"]),
    (".zdebug_frame", &[".zdebug_frame*"]),
    (".debug_str", &[".debug_str"]),
    (".zdebug_str", &[".zdebug_str"]),
    (".debug_loc", &[".debug_loc"]),
    (".zdebug_loc", &[".zdebug_loc"]),
    (".debug_macinfo", &[".debug_macinfo"]),
    (".zdebug_macinfo", &[".zdebug_macinfo"]),
    (".debug_weaknames", &[".debug_weaknames"]),
    (".zdebug_weaknames", &[".zdebug_weaknames"]),
    (".debug_funcnames", &[".debug_funcnames"]),
    (".zdebug_funcnames", &[".zdebug_funcnames"]),
    (".debug_typenames", &[".debug_typenames"]),
    (".zdebug_typenames", &[".zdebug_typenames"]),
    (".debug_varnames", &[".debug_varnames"]),
    (".zdebug_varnames", &[".zdebug_varnames"]),
    (".debug_pubtypes", &[".debug_pubtypes"]),
    (".zdebug_pubtypes", &[".zdebug_pubtypes"]),
    (".debug_ranges", &[".debug_ranges"]),
    (".zdebug_ranges", &[".zdebug_ranges"]),
    (".debug_types", &[".debug_types", ".gnu.linkonce.wt.*"]),
    (".zdebug_types", &[".zdebug_types"]),
    (".debug_addr", &[".debug_addr"]),
    (".zdebug_addr", &[".zdebug_addr"]),
    (".debug_line_str", &[".debug_line_str"]),
    (".zdebug_line_str", &[".zdebug_line_str"]),
    (".debug_loclists", &[".debug_loclists"]),
    (".zdebug_loclists", &[".zdebug_loclists"]),
    (".debug_macro", &[".debug_macro"]),
    (".debug_names", &[".debug_names"]),
    (".debug_rnglists", &[".debug_rnglists"]),
    (".debug_str_offsets", &[".debug_str_offsets"]),
    (".debug_sup", &[".debug_sup"]),
    (".debug_gdb_scripts", &[".debug_gdb_scripts"]),
];

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn align_up(v: u64, a: u64) -> u64 {
    if a <= 1 {
        v
    } else {
        v.div_ceil(a).saturating_mul(a)
    }
}

/// Lay out the live sections as GNU ld's default script does.
pub fn layout(w: &World, live: &Live) -> Layout {
    let x64 = w.machine == Machine::X64;
    let edata =
        if w.cfg.dll && !w.exports.is_empty() { super::exports::gnu_edata_size(&w.exports, &w.dll_name) } else { 0 };
    let script = script(x64, edata);
    // (object, section) in input order, assigned to (output, statement) or orphaned.
    let mut placed: Vec<Vec<Vec<ChunkId>>> = script.iter().map(|(_, _, s)| vec![Vec::new(); s.len()]).collect();
    let mut orphans: Vec<Vec<ChunkId>> = vec![Vec::new(); script.len()];
    let mut notes = Vec::new();
    let mut common_offsets = Vec::new();
    for (oi, o) in w.objs.iter().enumerate() {
        for s in &o.bin.sections {
            if !live[oi][s.index as usize - 1] {
                continue;
            }
            let hit = script.iter().enumerate().find_map(|(oi2, (_, _, stmts))| {
                stmts
                    .iter()
                    .position(|st| matches!(st, Wild(p, _) | ByFile(p) if matches(p, &s.name)))
                    .map(|si| (oi2, si))
            });
            match hit {
                Some((out, st)) => placed[out][st].push(ChunkId::new(oi, s.index)),
                None => {
                    let prefix = s.name.split('$').next().unwrap_or(&s.name);
                    match script.iter().position(|(n, _, _)| *n == prefix) {
                        Some(out) => orphans[out].push(ChunkId::new(oi, s.index)),
                        None => notes.push(format!(
                            "{}: section {} matches no statement of the default script and has no output section of its name: not placed here",
                            o.gnu_name, s.name
                        )),
                    }
                }
            }
        }
    }
    if w.objs.iter().any(|o| o.bin.import_object.is_some()) {
        notes.push(
            "GNU ld makes .idata itself for MSVC-style (short) import members; that is not laid out here: sections after .text may move"
                .into(),
        );
    }
    let name_of = |c: &ChunkId| w.objs[c.obj].section(c.section).map(|s| s.name.to_string()).unwrap_or_default();
    let is64 = x64;
    let mut sections: Vec<OutSection> = Vec::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut pending: Vec<(String, u32, Vec<Chunk>, u64)> = Vec::new();
    for (out, (name, chars, stmts)) in script.iter().enumerate() {
        let mut list: Vec<Chunk> = Vec::new();
        let mut off = 0u64;
        let mut chars = *chars;
        let push =
            |list: &mut Vec<Chunk>, origin: Origin, n: String, size: u64, align: u64, data: bool, off: &mut u64| {
                *off = align_up(*off, align);
                list.push(Chunk { origin, name: n, out: 0, rva: *off, size, align, has_data: data });
                *off += size;
            };
        // An input section at its place; its flags come back (the output takes its content type).
        let input = |list: &mut Vec<Chunk>, id: ChunkId, off: &mut u64| {
            let s = w.objs[id.obj].section(id.section);
            let flags = s.map_or(0, |s| s.flags as u32);
            let data = flags & crate::formats::coff::header::scn::CNT_UNINIT == 0;
            push(list, Origin::Input(id), name_of(&id), s.map_or(0, |s| s.virtual_size), chunk_align(flags), data, off);
            flags
        };
        for (si, st) in stmts.iter().enumerate() {
            match st {
                Wild(_, _) | ByFile(_) => {
                    let mut ids = placed[out][si].clone();
                    if matches!(st, Wild(_, true)) {
                        ids.sort_by_key(name_of);
                    }
                    if matches!(st, ByFile(_)) {
                        ids.sort_by_key(|c| {
                            let o = &w.objs[c.obj];
                            match &o.archive {
                                Some(a) => (a.clone(), o.short.clone()),
                                None => (o.name.clone(), String::new()),
                            }
                        });
                    }
                    for id in ids {
                        chars |= input(&mut list, id, &mut off) & 0xE0;
                    }
                }
                Data(what, size) => {
                    push(&mut list, Origin::Synthetic(what), what.to_string(), *size, 1, true, &mut off)
                }
                Align(a) => off = align_up(off, *a),
                Common => {
                    // One COMMON input per declaring object, in input order; the storage of each
                    // symbol in the largest declaration's (the first of equals).
                    for oi in 0..w.objs.len() {
                        let (at, size, align) = common_block(w, oi);
                        common_offsets.extend(at.into_iter().map(|(g, off)| (g, oi, off)));
                        if w.common_holders.contains(&ObjId(oi)) {
                            push(
                                &mut list,
                                Origin::Common(GlobalId(usize::MAX), oi),
                                "COMMON".into(),
                                size,
                                align,
                                false,
                                &mut off,
                            );
                        }
                    }
                }
            }
        }
        let mut orph = orphans[out].clone();
        orph.sort_by_key(name_of);
        for id in orph {
            input(&mut list, id, &mut off);
        }
        pending.push((name.to_string(), chars, list, off));
    }
    // The script's sections with contents, then .reloc; addresses in __section_alignment__ steps.
    // Empty output sections stay in the list (their zero-size inputs are in the map) but not in
    // the image. bfd counts the sections it created for SIZEOF_HEADERS: the nine the script
    // always makes, and the others that have contents.
    let reloc = base_reloc_size(w, &pending);
    let always = [".text", ".data", ".rdata", ".bss", ".idata", ".CRT", ".tls", ".endjunk"];
    let nsec = 9 + pending.iter().filter(|p| p.3 > 0 && !always.contains(&p.0.as_str())).count();
    let headers = 128 + 4 + 20 + if is64 { 240 } else { 224 } + 40 * nsec as u64;
    let size_of_headers = align_up(headers, w.cfg.file_align);
    let mut rva = align_up(size_of_headers, w.cfg.align);
    let mut file = size_of_headers;
    let mut reloc_placed = reloc == 0;
    for (name, chars, list, size) in pending {
        if !reloc_placed && AFTER_RELOC.iter().any(|(n, _)| *n == name) {
            push_reloc(&mut sections, &mut chunks, reloc, &mut rva, &mut file, &w.cfg);
            reloc_placed = true;
        }
        let si = sections.len();
        let data_end = list.iter().filter(|c| c.has_data).map(|c| c.rva + c.size).max().unwrap_or(0);
        let raw = align_up(data_end, w.cfg.file_align);
        let mut idx = Vec::new();
        for mut c in list {
            c.rva += rva;
            c.out = si;
            idx.push(chunks.len());
            chunks.push(c);
        }
        sections.push(OutSection {
            name,
            characteristics: chars,
            rva,
            virtual_size: size,
            file_offset: if raw != 0 { file } else { 0 },
            raw_size: raw,
            chunks: idx,
        });
        rva += align_up(size, w.cfg.align);
        file += raw;
    }
    if !reloc_placed {
        push_reloc(&mut sections, &mut chunks, reloc, &mut rva, &mut file, &w.cfg);
    }
    Layout { sections, chunks, size_of_headers, notes, merged: Vec::new(), common_offsets }
}

/// GNU ld's `.reloc` size: blocks of `8 + 2n` bytes per page, padded to 4, for the fields
/// ADDR64 (x64) / DIR32 (x86) relocations patch. Page offsets are taken relative to the section
/// start, which is page aligned.
fn base_reloc_size(w: &World, pending: &[(String, u32, Vec<Chunk>, u64)]) -> u64 {
    if !w.cfg.relocatable {
        return 0;
    }
    let mut fields = Vec::new();
    let mut base = 0u64;
    for (_, chars, list, size) in pending {
        for c in list {
            // Debugging sections (NOLOAD, discardable) are never relocated by the loader.
            if chars & 0x0200_0000 != 0 {
                continue;
            }
            let Origin::Input(ChunkId { obj: ObjId(oi), section: sec }) = c.origin else { continue };
            for r in w.objs[oi].relocs(sec) {
                if super::layout::makes_base_reloc(w, oi, r) {
                    fields.push(base + c.rva + r.offset);
                }
            }
        }
        base += align_up(*size, 0x1000);
    }
    let total = super::layout::reloc_blocks(fields).iter().map(|b| b.1).sum();
    total
}

/// The common symbols whose storage object `oi` holds (the largest declaration's, the first of
/// equals), each at its offset in the object's COMMON input, and that input's size and
/// alignment: in declaration order, each aligned to its size's power of two (at most 16).
fn common_block(w: &World, oi: usize) -> (Vec<(GlobalId, u64)>, u64, u64) {
    let (mut at, mut size, mut align) = (Vec::new(), 0, 1);
    let common = w.objs[oi].bin.symbols.iter().filter(|s| s.section_kind == Some(crate::model::SpecialSection::Common));
    for s in common {
        let Some(&g) = w.by_name.get(s.name.as_ref()) else { continue };
        if matches!(w.globals[g].def, Def::Common { obj, .. } if obj == ObjId(oi)) {
            let a = s.value.max(1).next_power_of_two().min(16);
            size = align_up(size, a);
            at.push((g, size));
            size += s.value;
            align = align.max(a);
        }
    }
    (at, size, align)
}
