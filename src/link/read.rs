//! Reading the inputs in the linker's order (the second half of [`super::resolve`]): archives
//! and when their members load, each object's sections and symbols, COMDAT leaders and their
//! copies, associative sections. lld's rules follow its `ObjFile::initializeSymbols` order
//! (non-COMDAT sections read at once, a COMDAT section read only when its leader prevails,
//! associative sections after their parents); GNU ld's reading is in [`super::gnu`].

use std::collections::{HashMap, VecDeque};

use super::comdat::{self, Verdict};
use super::inputs::{Input, Obj};
use super::resolve::{ChunkId, ComdatGroup, Def, Fate, GlobalId, Loaded, ObjId, Target, World};
use super::{par, Flavor};
use crate::formats::coff::header::scn;

/// An archive member fetched for an undefined symbol, waiting to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLoad {
    /// The archive's position in [`World::archives`].
    pub archive: usize,
    /// The member's position in the archive.
    pub member: usize,
    /// The undefined symbol that fetched it.
    pub symbol: String,
}

/// Fetched members, read in the order fetched (lld).
pub type LoadQueue = VecDeque<MemberLoad>;

/// Names of sections lld never places in the image.
fn not_linked(name: &str, flags: u32, debug: bool) -> Option<&'static str> {
    if flags & scn::LNK_REMOVE != 0 || name == ".drectve" {
        return Some("directives / IMAGE_SCN_LNK_REMOVE");
    }
    if name.starts_with(".debug$") {
        return Some("CodeView debug information (goes to the PDB)");
    }
    if !debug && name.starts_with(".debug_") {
        return Some("DWARF without /debug");
    }
    if matches!(name, ".llvm_addrsig" | ".llvm.call-graph-profile" | ".llvm.lto" | ".sxdata")
        || name.starts_with(".gfids$")
        || name.starts_with(".giats$")
        || name.starts_with(".gljmp$")
        || name.starts_with(".gehcont$")
    {
        return Some("linker metadata");
    }
    None
}

/// GNU ld's `/DISCARD/` patterns and non-allocated sections; `strip`: `-s` / `-S`, under which
/// GNU ld drops every debugging section (`SEC_DEBUGGING`: BFD's COFF reader gives it to
/// `.debug*` / `.zdebug*`) before the script sees it (`ldlang.c` `lang_add_section`).
fn gnu_not_linked(name: &str, flags: u32, strip: bool) -> Option<&'static str> {
    if strip && (name.starts_with(".debug") || name.starts_with(".zdebug")) {
        return Some("debugging section, stripped (-s / -S)");
    }
    if matches!(name, ".debug$S" | ".debug$T" | ".debug$F" | ".drectve" | ".note.GNU-stack")
        || name.starts_with(".gnu.lto_")
    {
        return Some("/DISCARD/ in the default script");
    }
    if flags & scn::LNK_REMOVE != 0 {
        return Some("IMAGE_SCN_LNK_REMOVE");
    }
    if matches!(name, ".llvm_addrsig" | ".llvm.call-graph-profile") {
        return Some("linker metadata");
    }
    None
}

impl World {
    /// Add a command-line input, in order. Archive members are queued (lld) or scanned now (GNU).
    pub fn add_input(&mut self, input: Input, queue: &mut LoadQueue) {
        match input {
            Input::Object(o) => self.add_object(*o, queue),
            Input::Archive(a) => {
                let ai = self.archives.len();
                self.loaded_members.push(vec![false; a.members.len()]);
                let symbols = a.symbols.clone();
                self.archives.push(a);
                match self.cfg.flavor {
                    Flavor::GnuLd => self.gnu_scan_archive(ai),
                    _ => {
                        for (name, member) in symbols {
                            let new = !self.by_name.contains_key(&name);
                            let g = self.global(&name);
                            if new {
                                self.globals[g].def = Def::Lazy { archive: ai, member };
                            } else if self.globals[g].def == Def::Undefined
                                && self.globals[g].weak_alias.is_none()
                                && self.pending_load.insert(g)
                            {
                                self.fetch(ai, member, &name, queue);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Queue a member for loading (lld loads fetched members in the order they were fetched).
    pub(super) fn fetch(&mut self, ai: usize, member: usize, symbol: &str, queue: &mut LoadQueue) {
        if let Some(slot) = self.loaded_members.get_mut(ai).and_then(|m| m.get_mut(member)) {
            if !*slot {
                *slot = true;
                queue.push_back(MemberLoad { archive: ai, member, symbol: symbol.to_string() });
            }
        }
    }

    /// Load queued members until the queue is empty, in the order fetched. The members queued
    /// together are read in parallel, then added one by one in that order (the members they
    /// fetch are queued after them, as one by one).
    pub fn drain(&mut self, queue: &mut LoadQueue) {
        while !queue.is_empty() {
            let batch: Vec<MemberLoad> = queue.drain(..).collect();
            let archives = &self.archives;
            let read = par::map_ordered(&batch, self.threads, |l| archives.get(l.archive).map(|a| a.member(l.member)));
            for (MemberLoad { archive, member, symbol }, obj) in batch.into_iter().zip(read) {
                self.add_member(archive, member, symbol, obj, queue);
            }
        }
    }

    fn load_member(&mut self, ai: usize, m: usize, symbol: String, queue: &mut LoadQueue) {
        let obj = self.archives.get(ai).map(|a| a.member(m));
        self.add_member(ai, m, symbol, obj, queue);
    }

    /// Add member `m` of archive `ai`, read as `obj` (None: no such archive).
    fn add_member(
        &mut self,
        ai: usize,
        m: usize,
        symbol: String,
        obj: Option<Result<Obj, super::inputs::InputError>>,
        queue: &mut LoadQueue,
    ) {
        let (Some(a), Some(obj)) = (self.archives.get(ai), obj) else { return };
        let member = a.members.get(m).map(|x| x.name.clone()).unwrap_or_default();
        let archive = a.name.clone();
        match obj {
            Ok(o) => {
                self.loaded.push(Loaded { archive, member, symbol });
                self.add_object(o, queue)
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    /// GNU ld's `--start-group` … `--end-group`: the group's archives searched again, in order,
    /// until none loads another member.
    pub(super) fn gnu_rescan_group(&mut self, group: &[usize]) {
        let loaded =
            |w: &World| group.iter().map(|&ai| w.loaded_members[ai].iter().filter(|&&l| l).count()).sum::<usize>();
        loop {
            let before = loaded(self);
            for &ai in group {
                self.gnu_scan_archive(ai);
            }
            if loaded(self) == before {
                break;
            }
        }
    }

    fn gnu_scan_archive(&mut self, ai: usize) {
        let mut none = VecDeque::new();
        loop {
            let mut changed = false;
            let symbols = self.archives[ai].symbols.clone();
            for (name, member) in symbols {
                if self.loaded_members[ai].get(member).copied().unwrap_or(true) {
                    continue;
                }
                // A weak external is BFD's `undefweak`, which loads no member.
                let undefined = |n: &str| {
                    self.by_name
                        .get(n)
                        .is_some_and(|&g| self.globals[g].def == Def::Undefined && self.globals[g].weak_alias.is_none())
                };
                // With automatic import an armap `__imp_X` that names no symbol yet satisfies an
                // undefined `X` (bfd's `_bfd_generic_link_add_archive_symbols`).
                let wanted = match self.by_name.get(&name) {
                    Some(_) => undefined(&name).then(|| name.clone()),
                    None => {
                        name.strip_prefix("__imp_").filter(|n| self.cfg.auto_import && undefined(n)).map(str::to_string)
                    }
                };
                if let Some(wanted) = wanted {
                    self.loaded_members[ai][member] = true;
                    self.load_member(ai, member, wanted, &mut none);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Read one object: sections, then symbols in table order, then the pending COMDATs.
    fn add_object(&mut self, o: Obj, queue: &mut LoadQueue) {
        let oi = self.objs.len();
        let gnu = self.cfg.flavor == Flavor::GnuLd;
        let nsec = o.bin.sections.len();
        let mut fates = Vec::with_capacity(nsec);
        for s in &o.bin.sections {
            let flags = s.flags as u32;
            let why = if gnu {
                gnu_not_linked(&s.name, flags, self.cfg.strip_debug)
            } else {
                not_linked(&s.name, flags, self.cfg.debug)
            };
            fates.push(match why {
                Some(w) => Fate::NotLinked(w),
                None if flags & scn::LNK_COMDAT != 0 => Fate::Pending,
                None => Fate::Read,
            });
        }
        let nsym = o.bin.symbols.len();
        let order = fates.iter().enumerate().filter(|(_, f)| **f == Fate::Read).map(|(i, _)| i as u32 + 1).collect();
        self.read_order.push(order);
        self.objs.push(o);
        self.fates.push(fates);
        self.children.push(HashMap::new());
        self.sym_targets.push(vec![Target::None; nsym]);
        if self.objs[oi].bin.import_object.is_some() {
            self.add_import(oi);
            return;
        }
        if gnu {
            super::drectve::gnu_exports(self, oi);
            super::gnu::add_symbols(self, oi);
        } else {
            super::drectve::apply(self, oi);
            self.add_symbols_lld(oi, queue);
        }
    }

    fn add_import(&mut self, oi: usize) {
        let Some(imp) = self.objs[oi].bin.import_object.clone() else { return };
        self.imports.push(ObjId(oi));
        let mut names = vec![(format!("__imp_{}", imp.symbol), Def::Import { obj: ObjId(oi) })];
        if imp.kind == crate::model::ImportType::Code {
            names.push((imp.symbol.clone(), Def::ImportThunk { obj: ObjId(oi) }));
        }
        for (n, def) in names {
            let g = self.global(&n);
            if matches!(self.globals[g].def, Def::Undefined | Def::Lazy { .. }) {
                self.globals[g].def = def;
            } else {
                self.duplicate(g, oi);
            }
        }
    }

    fn add_symbols_lld(&mut self, oi: usize, queue: &mut LoadQueue) {
        let nsym = self.objs[oi].bin.symbols.len();
        let mut def_seen: HashMap<u32, usize> = HashMap::new();
        let mut leader_done: HashMap<u32, bool> = HashMap::new();
        let mut pending: Vec<usize> = Vec::new();
        let mut weak: Vec<(GlobalId, u32)> = Vec::new();
        for pos in 0..nsym {
            if self.fatal {
                return;
            }
            // The symbol without its name (cloned only where a global is looked up).
            let s = self.objs[oi].bin.symbols[pos].without_name();
            let external = s.binding == crate::model::Binding::External;
            let name = self.objs[oi].bin.symbols[pos].name.clone();
            match (s.section, s.section_kind) {
                (None, Some(crate::model::SpecialSection::Common)) => {
                    let size = s.value;
                    let g = self.global(&name);
                    self.sym_targets[oi][pos] = Target::Global(g);
                    match self.globals[g].def {
                        Def::Common { size: old, .. } if old >= size => {}
                        Def::Undefined | Def::Lazy { .. } | Def::Common { .. } => {
                            self.globals[g].def = Def::Common { obj: ObjId(oi), size }
                        }
                        _ => {}
                    }
                }
                (None, Some(crate::model::SpecialSection::Undefined))
                    if external || s.binding == crate::model::Binding::WeakExternal =>
                {
                    let g = self.global(&name);
                    self.sym_targets[oi][pos] = Target::Global(g);
                    if s.binding == crate::model::Binding::WeakExternal {
                        weak.push((g, self.weak_tag(oi, pos)));
                    }
                    if let Def::Lazy { archive, member } = self.globals[g].def {
                        self.fetch(archive, member, &name, queue);
                        self.pending_load.insert(g);
                        self.globals[g].def = Def::Undefined;
                    }
                }
                (None, Some(crate::model::SpecialSection::Absolute)) if external => {
                    let g = self.global(&name);
                    self.sym_targets[oi][pos] = Target::Global(g);
                    match self.globals[g].def {
                        Def::Undefined | Def::Lazy { .. } => self.globals[g].def = Def::Absolute(s.value),
                        Def::Absolute(v) if v == s.value => {}
                        _ => self.duplicate(g, oi),
                    }
                }
                (Some(sec), _) => {
                    let is_def = s.kind == crate::model::SymbolKind::Section
                        && self.objs[oi].is_comdat(sec)
                        && !def_seen.contains_key(&sec);
                    if is_def {
                        def_seen.insert(sec, pos);
                        pending.push(pos);
                        continue;
                    }
                    let fate = self.fates[oi].get(sec as usize - 1).cloned().unwrap_or(Fate::NotLinked("bad"));
                    if fate == Fate::Pending && def_seen.contains_key(&sec) && !leader_done.contains_key(&sec) {
                        let (sel, _) = self.comdat_aux(oi, sec).unwrap_or((0, 0));
                        if sel != 5 {
                            leader_done.insert(sec, true);
                            self.handle_leader(oi, sec, pos, sel);
                            continue;
                        }
                    }
                    if fate == Fate::Pending {
                        pending.push(pos);
                    } else {
                        self.define_in_section(oi, pos);
                    }
                }
                _ => {}
            }
        }
        // Associative sections after their parents (a later parent is an error), then
        // MinGW's implicit .pdata$/.xdata$ association, then the symbols that waited.
        let mut waiting = Vec::new();
        for pos in pending {
            let s = &self.objs[oi].bin.symbols[pos];
            let Some(sec) = s.section else { continue };
            let is_def = def_seen.get(&sec) == Some(&pos);
            if !is_def {
                waiting.push(pos);
                continue;
            }
            let (sel, parent) = self.comdat_aux(oi, sec).unwrap_or((0, 0));
            if sel == 5 {
                self.read_associative(oi, sec, parent);
            } else if self.cfg.mingw && self.fates[oi][sec as usize - 1] == Fate::Pending {
                self.associate_seh_mingw(oi, sec);
            }
        }
        for f in self.fates[oi].iter_mut() {
            if *f == Fate::Pending {
                *f = Fate::LostComdat { kept: None, key: String::new() };
            }
        }
        for pos in waiting {
            self.define_in_section(oi, pos);
        }
        // Section symbols of COMDATs (and other statics that waited) reach their section.
        for pos in 0..nsym {
            if self.sym_targets[oi][pos] != Target::None {
                continue;
            }
            let s = &self.objs[oi].bin.symbols[pos];
            if let Some(sec) = s.section {
                if s.binding != crate::model::Binding::External
                    && self.fates[oi].get(sec as usize - 1) == Some(&Fate::Read)
                {
                    self.sym_targets[oi][pos] = Target::Local(ChunkId::new(oi, sec), s.value);
                }
            }
        }
        for (g, tag) in weak {
            let p = self.objs[oi].sym_at(tag);
            let t = p.map_or(Target::None, |p| self.symbol_target(oi, p));
            self.globals[g].weak_alias = Some(t);
        }
    }

    /// What symbol `pos` of object `oi` reaches, for a static symbol computed from its section.
    pub fn symbol_target(&mut self, oi: usize, pos: usize) -> Target {
        let t = self.sym_targets[oi][pos];
        if t != Target::None {
            return t;
        }
        let s = &self.objs[oi].bin.symbols[pos];
        match s.section {
            Some(sec) if self.fates[oi].get(sec as usize - 1) == Some(&Fate::Read) => {
                if s.binding == crate::model::Binding::External {
                    let name = s.name.clone();
                    Target::Global(self.global(&name))
                } else {
                    Target::Local(ChunkId::new(oi, sec), s.value)
                }
            }
            _ if s.binding == crate::model::Binding::External || s.binding == crate::model::Binding::WeakExternal => {
                let name = s.name.clone();
                Target::Global(self.global(&name))
            }
            _ => Target::None,
        }
    }

    /// A symbol defined in a section that was read (or lost: then it resolves to nothing here).
    fn define_in_section(&mut self, oi: usize, pos: usize) {
        let s = &self.objs[oi].bin.symbols[pos];
        let Some(sec) = s.section else { return };
        let read = self.fates[oi].get(sec as usize - 1) == Some(&Fate::Read);
        if s.binding != crate::model::Binding::External {
            if read {
                self.sym_targets[oi][pos] = Target::Local(ChunkId::new(oi, sec), s.value);
            }
            return;
        }
        let name = s.name.clone();
        let value = s.value;
        let g = self.global(&name);
        if !read {
            // A symbol of a discarded COMDAT copy refers to whatever prevails.
            self.sym_targets[oi][pos] = Target::Global(g);
            return;
        }
        self.sym_targets[oi][pos] = Target::Global(g);
        match self.globals[g].def {
            Def::Undefined | Def::Lazy { .. } | Def::Common { .. } => {
                self.globals[g].def = Def::Regular { chunk: ChunkId::new(oi, sec), value, comdat: false }
            }
            _ => self.duplicate(g, oi),
        }
    }

    /// Section `sec` of `oi` takes part in the link, read now.
    pub(super) fn mark_read(&mut self, oi: usize, sec: u32) {
        if let Some(f) = self.fates[oi].get_mut(sec as usize - 1) {
            if !matches!(f, Fate::Read | Fate::NotLinked(_)) {
                *f = Fate::Read;
                self.read_order[oi].push(sec);
            }
        }
    }

    /// lld's duplicate-symbol error (a warning under /force:multiple).
    pub(super) fn duplicate(&mut self, g: GlobalId, oi: usize) {
        let name = self.lld_name(&self.globals[g].name);
        let first = match &self.globals[g].def {
            Def::Regular { chunk, .. } => self.objs[chunk.obj].name.clone(),
            Def::Common { obj, .. } | Def::Import { obj } | Def::ImportThunk { obj } => self.objs[*obj].name.clone(),
            _ => "<internal>".into(),
        };
        let text = format!("duplicate symbol: {name}\n>>> defined at {first}\n>>> defined at {}", self.objs[oi].name);
        if self.cfg.force_multiple {
            self.warn(text, true);
        } else {
            self.error(text);
        }
    }

    /// lld's `addComdat` + `handleComdatSelection` for a leader symbol.
    fn handle_leader(&mut self, oi: usize, sec: u32, pos: usize, sel: u8) {
        let s = &self.objs[oi].bin.symbols[pos];
        let name = s.name.clone();
        let value = s.value;
        let external = s.binding == crate::model::Binding::External;
        if sel == 0 || sel > 6 {
            let text = format!("unknown comdat type {sel} for {name} in {}", self.objs[oi].name);
            self.error(text);
            self.fatal = true;
            return;
        }
        if !external {
            // A static leader always prevails.
            self.mark_read(oi, sec);
            self.sym_targets[oi][pos] = Target::Local(ChunkId::new(oi, sec), value);
            return;
        }
        let g = self.global(&name);
        self.sym_targets[oi][pos] = Target::Global(g);
        let group = self.group_for(&name, &name, sel);
        self.comdats[group].copies.push(ChunkId::new(oi, sec));
        let existing = self.globals[g].def.clone();
        let prevail = match existing {
            Def::Regular { comdat: true, chunk, .. } => {
                let leader_sel = self.comdat_aux(chunk.oi(), chunk.section).map_or(2, |a| a.0);
                let verdict = comdat::lld(self, chunk, leader_sel, ChunkId::new(oi, sec), sel);
                match verdict {
                    Verdict::Keep => false,
                    Verdict::Duplicate => {
                        self.duplicate(g, oi);
                        false
                    }
                    Verdict::Replace => {
                        self.comdats[group].replaced.push(chunk);
                        true
                    }
                }
            }
            Def::Regular { comdat: false, .. }
            | Def::Absolute(_)
            | Def::Import { .. }
            | Def::ImportThunk { .. }
            | Def::Linker => {
                if matches!(existing, Def::Regular { .. }) {
                    self.duplicate(g, oi);
                    false
                } else {
                    true
                }
            }
            Def::Undefined | Def::Lazy { .. } | Def::Common { .. } => true,
        };
        if prevail {
            self.globals[g].def = Def::Regular { chunk: ChunkId::new(oi, sec), value, comdat: true };
            self.mark_read(oi, sec);
            self.comdats[group].kept = Some(ChunkId::new(oi, sec));
        } else {
            let kept = match self.globals[g].def {
                Def::Regular { chunk, .. } => Some(chunk),
                _ => None,
            };
            self.fates[oi][sec as usize - 1] = Fate::LostComdat { kept, key: name.into_owned() };
        }
    }

    /// The group for `key`, created with `selection` when new.
    pub(super) fn group_for(&mut self, key: &str, symbol: &str, selection: u8) -> usize {
        if let Some(&i) = self.comdat_by_key.get(key) {
            return i;
        }
        let i = self.comdats.len();
        self.comdats.push(ComdatGroup {
            key: key.to_string(),
            symbol: symbol.to_string(),
            selection,
            copies: Vec::new(),
            kept: None,
            replaced: Vec::new(),
        });
        self.comdat_by_key.insert(key.to_string(), i);
        i
    }

    fn read_associative(&mut self, oi: usize, sec: u32, parent: u32) {
        let nsec = self.fates[oi].len() as u32;
        let parent_fate =
            if parent == 0 || parent > nsec { None } else { Some(self.fates[oi][parent as usize - 1].clone()) };
        match parent_fate {
            Some(Fate::Read) => {
                self.mark_read(oi, sec);
                self.children[oi].entry(parent).or_default().push(sec);
            }
            Some(Fate::Pending) | None => {
                let o = &self.objs[oi];
                let name = o.section(sec).map(|s| s.name.clone()).unwrap_or_default();
                let pname = o.section(parent).map(|s| s.name.clone()).unwrap_or_default();
                let text = format!(
                    "{}: associative comdat {name} (sec {sec}) has invalid reference to section {pname} (sec {parent})",
                    o.name
                );
                self.error(text);
                self.fates[oi][sec as usize - 1] = Fate::LostAssociative { parent };
            }
            Some(_) => self.fates[oi][sec as usize - 1] = Fate::LostAssociative { parent },
        }
    }

    /// MinGW: `.pdata$X`, `.xdata$X` and `.eh_frame$X` without a leader go with the prevailing
    /// executable `.text$X` COMDAT of the same file.
    fn associate_seh_mingw(&mut self, oi: usize, sec: u32) {
        let o = &self.objs[oi];
        let Some(name) = o.section(sec).map(|s| s.name.clone()) else { return };
        let suffix = [".pdata", ".xdata", ".eh_frame"].iter().find_map(|p| name.strip_prefix(p));
        let Some(suffix) = suffix.and_then(|s| s.strip_prefix('$')) else { return };
        let parent = o.bin.sections.iter().find(|p| {
            p.is_exec
                && p.flags as u32 & scn::LNK_COMDAT != 0
                && p.name.split_once('$').map(|x| x.1) == Some(suffix)
                && self.fates[oi].get(p.index as usize - 1) == Some(&Fate::Read)
        });
        if let Some(p) = parent.map(|p| p.index) {
            self.mark_read(oi, sec);
            self.children[oi].entry(p).or_default().push(sec);
        }
    }
}
