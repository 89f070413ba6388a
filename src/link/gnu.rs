//! GNU ld's reading of a COFF object: COMDATs other than NODUPLICATES and ASSOCIATIVE are
//! link-once sections keyed by (section name, COMDAT symbol) — the first copy is kept and later
//! ones earn a warning for SAME_SIZE / EXACT_MATCH mismatches — and every other section,
//! associative ones included, is an ordinary section whose symbols may clash.

use super::resolve::{ChunkId, Def, Fate, GlobalId, ObjId, Target, World};

/// The COMDAT name bfd gives a section: the symbol after the section symbol, or the section.
pub fn comdat_name(w: &World, oi: usize, sec: u32) -> String {
    let o = &w.objs[oi];
    let mut seen_def = false;
    for s in &o.bin.symbols {
        if s.section != Some(sec) {
            continue;
        }
        if !seen_def && s.kind == crate::model::SymbolKind::Section {
            seen_def = true;
            continue;
        }
        if seen_def {
            return s.name.to_string();
        }
    }
    o.section(sec).map(|s| s.name.to_string()).unwrap_or_default()
}

/// How GNU ld names a section in messages: `.text$c_f[c_f]` for a COMDAT.
pub fn section_desc(w: &World, c: ChunkId) -> String {
    let name = w.objs[c.obj].section(c.section).map(|s| s.name.to_string()).unwrap_or_default();
    if w.objs[c.obj].is_comdat(c.section) {
        format!("{name}[{}]", comdat_name(w, c.oi(), c.section))
    } else {
        name
    }
}

/// `file:source:(section+0xN)`, as GNU ld locates a place.
pub fn place(w: &World, c: ChunkId, off: u64) -> String {
    let o = &w.objs[c.obj];
    let src = o
        .bin
        .symbols
        .iter()
        .position(|s| s.kind == crate::model::SymbolKind::File)
        .and_then(|pos| o.bin.file_name(o.data(), pos))
        .map(|f| format!(":{f}"))
        .unwrap_or_default();
    format!("{}{src}:({}+0x{off:x})", o.gnu_name, section_desc(w, c))
}

/// Read the sections' link-once status and the symbols of object `oi`.
pub fn add_symbols(w: &mut World, oi: usize) {
    let nsec = w.fates[oi].len() as u32;
    for sec in 1..=nsec {
        if w.fates[oi][sec as usize - 1] != Fate::Pending {
            continue;
        }
        let (sel, _) = w.comdat_aux(oi, sec).unwrap_or((2, 0));
        if sel == 1 || sel == 5 {
            w.mark_read(oi, sec);
            continue;
        }
        let name = w.objs[oi].section(sec).map(|s| s.name.to_string()).unwrap_or_default();
        let cname = comdat_name(w, oi, sec);
        let key = format!("{name}[{cname}]");
        let symbol = if cname == name { name.clone() } else { cname.clone() };
        let group = w.group_for(&key, &symbol, sel);
        w.comdats[group].copies.push(ChunkId::new(oi, sec));
        match w.comdats[group].kept {
            None => {
                w.comdats[group].kept = Some(ChunkId::new(oi, sec));
                w.mark_read(oi, sec);
            }
            Some(first) => {
                if let Some(why) = super::comdat::gnu_warning(w, first, ChunkId::new(oi, sec), sel) {
                    let text = format!("{}: duplicate section `{key}' {why}", w.objs[oi].gnu_name);
                    w.warn(text, false);
                }
                w.fates[oi][sec as usize - 1] = Fate::LostComdat { kept: Some(first), key };
            }
        }
    }
    let nsym = w.objs[oi].bin.symbols.len();
    let mut weak = Vec::new();
    for pos in 0..nsym {
        let s = w.objs[oi].bin.symbols[pos].clone();
        let external = s.binding == crate::model::Binding::External;
        let name = s.name.clone();
        let value = s.value;
        match (s.section, s.section_kind) {
            (None, Some(crate::model::SpecialSection::Common)) => {
                let g = w.global(&name);
                w.sym_targets[oi][pos] = Target::Global(g);
                match w.globals[g].def {
                    Def::Common { size, .. } if size >= value => {}
                    Def::Undefined | Def::Lazy { .. } | Def::Common { .. } => {
                        w.globals[g].def = Def::Common { obj: ObjId(oi), size: value };
                        w.common_holders.insert(ObjId(oi));
                    }
                    _ => {}
                }
            }
            (None, Some(crate::model::SpecialSection::Undefined))
                if external || s.binding == crate::model::Binding::WeakExternal =>
            {
                let g = w.global(&name);
                w.sym_targets[oi][pos] = Target::Global(g);
                if s.binding == crate::model::Binding::WeakExternal {
                    weak.push((g, w.weak_tag(oi, pos)));
                }
            }
            (None, Some(crate::model::SpecialSection::Absolute)) if external => {
                let g = w.global(&name);
                w.sym_targets[oi][pos] = Target::Global(g);
                if matches!(w.globals[g].def, Def::Undefined | Def::Lazy { .. } | Def::Common { .. }) {
                    w.globals[g].def = Def::Absolute(value);
                }
            }
            (Some(sec), _) => {
                let read = w.fates[oi].get(sec as usize - 1) == Some(&Fate::Read);
                if !external {
                    if read {
                        w.sym_targets[oi][pos] = Target::Local(ChunkId::new(oi, sec), value);
                    }
                    continue;
                }
                let g = w.global(&name);
                w.sym_targets[oi][pos] = Target::Global(g);
                if !read {
                    continue;
                }
                match w.globals[g].def.clone() {
                    Def::Undefined | Def::Lazy { .. } | Def::Common { .. } => {
                        w.globals[g].def =
                            Def::Regular { chunk: ChunkId::new(oi, sec), value, comdat: w.objs[oi].is_comdat(sec) };
                        w.first_def.insert(g, (ChunkId::new(oi, sec), value));
                    }
                    Def::Regular { chunk, value: v0, .. } if !w.cfg.force_multiple => {
                        let text = format!(
                            "{}: multiple definition of `{}'; {}: first defined here",
                            place(w, ChunkId::new(oi, sec), value),
                            w.gnu_name(&name),
                            place(w, chunk, v0)
                        );
                        w.error_plain(text);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for (g, tag) in weak {
        if let Some(p) = w.objs[oi].sym_at(tag) {
            let t = w.symbol_target(oi, p);
            w.globals[g].weak_alias = Some(t);
        }
    }
}

/// GNU ld for i386 (`i386pe`) leaves out the `.text` thunk of a dlltool import member whose
/// function nothing calls (the member was pulled in for its `__imp_` symbol only); binutils'
/// x64 emulation keeps it. Seen in `tests/fixtures/link/imports32`.
pub fn drop_unused_thunks(w: &World, live: &mut super::live::Live) {
    let mut referenced = std::collections::HashSet::new();
    for (oi, o) in w.objs.iter().enumerate() {
        for r in &o.bin.relocations {
            let Some(pos) = r.symbol_index.and_then(|i| o.sym_at(i)) else { continue };
            if let Target::Global(g) = w.sym_targets[oi][pos] {
                referenced.insert((g, oi));
            }
        }
    }
    for (oi, o) in w.objs.iter().enumerate() {
        if o.archive.is_none() || !o.bin.sections.iter().any(|s| s.name == ".idata$5") {
            continue;
        }
        for s in o.bin.sections.iter().filter(|s| s.name == ".text" && s.virtual_size > 0) {
            let defines: Vec<GlobalId> = o
                .bin
                .symbols
                .iter()
                .filter(|x| x.section == Some(s.index) && x.binding == crate::model::Binding::External)
                .filter_map(|x| w.by_name.get(x.name.as_ref()).copied())
                .collect();
            let called = defines.iter().any(|g| referenced.iter().any(|&(rg, ro)| rg == *g && ro != oi));
            if !defines.is_empty() && !called {
                if let Some(l) = live.get_mut(oi).and_then(|l| l.get_mut(s.index as usize - 1)) {
                    *l = false;
                }
            }
        }
    }
}
