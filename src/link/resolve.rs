//! Reading the inputs in the linker's order: which sections are read, how symbols resolve,
//! which archive members are loaded and when, and which COMDAT copy prevails. lld's rules
//! (its `ObjFile::initializeSymbols` order: non-COMDAT sections read at once, a COMDAT section
//! read only when its leader prevails, associative sections after their parents) and GNU ld's
//! (a COMDAT is a link-once section keyed by name and COMDAT symbol; associativity ignored).

use std::collections::{HashMap, VecDeque};

use super::args::{Config, Machine};
use super::comdat::{self, Verdict};
use super::inputs::{Input, Obj};
use super::Flavor;
use crate::formats::coff::header::scn;

/// An input section: (object position, 1-based section index).
pub type ChunkId = (usize, u32);

/// What a global symbol currently is.
#[derive(Debug, Clone, PartialEq)]
pub enum Def {
    /// Referenced, not defined.
    Undefined,
    /// Defined by an archive member not yet loaded.
    Lazy {
        /// Archive position.
        archive: usize,
        /// Member position.
        member: usize,
    },
    /// Defined in an input section.
    Regular {
        /// The section.
        chunk: ChunkId,
        /// Offset in it.
        value: u64,
        /// Whether the definition is a COMDAT leader.
        comdat: bool,
    },
    /// A common symbol (the largest size wins); lld places it in `.bss`.
    Common {
        /// Declaring object.
        obj: usize,
        /// Size in bytes.
        size: u64,
    },
    /// An absolute symbol.
    Absolute(u64),
    /// Defined by the linker itself (`__ImageBase`, `__CTOR_LIST__`, the script's symbols).
    Linker,
    /// An import library's short import member: its `__imp_` symbol (the IAT slot).
    Import {
        /// The member.
        obj: usize,
    },
    /// A short import member's function symbol: the thunk the linker makes (`jmp [IAT]`).
    ImportThunk {
        /// The member.
        obj: usize,
    },
}

/// A global symbol.
#[derive(Debug, Clone)]
pub struct Global {
    /// Raw name.
    pub name: String,
    /// Current definition.
    pub def: Def,
    /// A weak external's default, when the symbol stays undefined.
    pub weak_alias: Option<Target>,
    /// The weak default stands in (nothing else defined the symbol).
    pub weak_default_used: bool,
}

/// What a relocation or symbol reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A global symbol.
    Global(usize),
    /// A static symbol: section and offset.
    Local(ChunkId, u64),
    /// Nothing (a symbol of a section that was not read, or a bad index).
    None,
}

/// Why a section of an input is not in the image.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// Not decided yet (a COMDAT waiting for its leader).
    Pending,
    /// Read: it takes part in the link (GC and ICF may still remove it).
    Read,
    /// Lost to another COMDAT copy.
    LostComdat {
        /// The copy that prevailed (None: the linker never reads a leaderless COMDAT).
        kept: Option<ChunkId>,
        /// The COMDAT key.
        key: String,
    },
    /// An associative section whose parent was not read.
    LostAssociative {
        /// The parent section in the same file.
        parent: u32,
    },
    /// Never linked (`.drectve`, `.debug$S`, `IMAGE_SCN_LNK_REMOVE`, …): the reason.
    NotLinked(&'static str),
}

/// A COMDAT group as the simulation saw it.
#[derive(Debug, Clone)]
pub struct ComdatGroup {
    /// The key: the COMDAT symbol (lld) or `section[symbol]` (GNU ld).
    pub key: String,
    /// The display symbol.
    pub symbol: String,
    /// Selection of the first copy.
    pub selection: u8,
    /// Every copy seen, in the order read.
    pub copies: Vec<ChunkId>,
    /// The copy that prevailed.
    pub kept: Option<ChunkId>,
    /// Copies replaced by a later LARGEST copy but still read (lld 14 keeps them unless GC).
    pub replaced: Vec<ChunkId>,
}

/// A diagnostic as the simulated linker would print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkerMessage {
    /// `error` or `warning`.
    pub severity: &'static str,
    /// The text, with the linker's prefix, exactly as it prints it.
    pub text: String,
}

/// A member the simulation loaded from an archive, and why.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The archive.
    pub archive: String,
    /// The member.
    pub member: String,
    /// The undefined symbol that pulled it in.
    pub symbol: String,
}

/// The state of the link after reading every input.
#[derive(Debug)]
pub struct World {
    /// The command line.
    pub cfg: Config,
    /// Target machine.
    pub machine: Machine,
    /// Every object, in the order read.
    pub objs: Vec<Obj>,
    /// Per object, per section (index - 1): what happened to it.
    pub fates: Vec<Vec<Fate>>,
    /// Per object: associative children of each section.
    pub children: Vec<HashMap<u32, Vec<u32>>>,
    /// Per object, per symbol position: what the symbol reaches.
    pub sym_targets: Vec<Vec<Target>>,
    /// Global symbols.
    pub globals: Vec<Global>,
    /// Name → global.
    pub by_name: HashMap<String, usize>,
    /// COMDAT groups, in first-seen order.
    pub comdats: Vec<ComdatGroup>,
    /// Key → group.
    pub comdat_by_key: HashMap<String, usize>,
    /// Archives in command-line order.
    pub archives: Vec<super::inputs::Archive>,
    /// Loaded members per archive.
    pub loaded_members: Vec<Vec<bool>>,
    /// Members loaded, in load order.
    pub loaded: Vec<Loaded>,
    /// Linker messages.
    pub messages: Vec<LinkerMessage>,
    /// A fatal error stopped the link.
    pub fatal: bool,
    /// First definition site per global (GNU ld's "first defined here").
    pub first_def: HashMap<usize, (usize, u32, u64)>,
    /// Per object: sections in the order lld reads them (non-COMDAT in section order, then
    /// COMDATs as their leaders are met, associative ones last): the order chunks are laid out.
    pub read_order: Vec<Vec<u32>>,
    /// Objects that held a common symbol's storage at some point (GNU ld gives each a
    /// `COMMON` input).
    pub common_holders: std::collections::HashSet<usize>,
    /// Short import members, in load order (lld's `ImportFile::instances`).
    pub imports: Vec<usize>,
    /// Globals with a member load pending (lld's `pendingArchiveLoad`).
    pub pending_load: std::collections::HashSet<usize>,
}

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

/// GNU ld's `/DISCARD/` patterns and non-allocated sections.
fn gnu_not_linked(name: &str, flags: u32) -> Option<&'static str> {
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
    /// Start a link of `inputs` (already read) under `cfg`.
    pub fn new(cfg: Config, machine: Machine) -> Self {
        World {
            cfg,
            machine,
            objs: Vec::new(),
            fates: Vec::new(),
            children: Vec::new(),
            sym_targets: Vec::new(),
            globals: Vec::new(),
            by_name: HashMap::new(),
            comdats: Vec::new(),
            comdat_by_key: HashMap::new(),
            archives: Vec::new(),
            loaded_members: Vec::new(),
            loaded: Vec::new(),
            messages: Vec::new(),
            fatal: false,
            first_def: HashMap::new(),
            pending_load: std::collections::HashSet::new(),
            read_order: Vec::new(),
            imports: Vec::new(),
            common_holders: std::collections::HashSet::new(),
        }
    }

    /// The linker's prefix for its messages.
    pub fn prefix(&self) -> &'static str {
        match (self.cfg.flavor, self.machine) {
            (Flavor::LldLink, _) => "lld-link",
            (Flavor::LldMingw, _) => "ld.lld",
            (Flavor::GnuLd, Machine::X64) => "x86_64-w64-mingw32-ld",
            (Flavor::GnuLd, Machine::X86) => "i686-w64-mingw32-ld",
        }
    }

    pub(super) fn error(&mut self, text: String) {
        let text = format!("{}: error: {text}", self.prefix());
        self.messages.push(LinkerMessage { severity: "error", text });
    }

    /// An error printed as `prefix: text` (GNU ld's undefined and multiple definitions).
    pub(super) fn error_plain(&mut self, text: String) {
        let text = format!("{}: {text}", self.prefix());
        self.messages.push(LinkerMessage { severity: "error", text });
    }

    pub(super) fn warn(&mut self, text: String, prefixed: bool) {
        let text = if prefixed { format!("{}: warning: {text}", self.prefix()) } else { text };
        self.messages.push(LinkerMessage { severity: "warning", text });
    }

    /// Whether an error was reported.
    pub fn failed(&self) -> bool {
        self.fatal || self.messages.iter().any(|m| m.severity == "error")
    }

    /// The global for `name`, created undefined when new.
    pub fn global(&mut self, name: &str) -> usize {
        if let Some(&g) = self.by_name.get(name) {
            return g;
        }
        let g = self.globals.len();
        self.globals.push(Global {
            name: name.to_string(),
            def: Def::Undefined,
            weak_alias: None,
            weak_default_used: false,
        });
        self.by_name.insert(name.to_string(), g);
        g
    }

    /// A symbol name as lld prints it (demangled, x86's `_` kept when nothing demangles).
    pub fn lld_name(&self, raw: &str) -> String {
        let (prefix, rest) = match raw.strip_prefix("__imp_") {
            Some(r) => ("__declspec(dllimport) ", r),
            None => ("", raw),
        };
        let input = if self.machine == Machine::X86 { rest.strip_prefix('_').unwrap_or(rest) } else { rest };
        match crate::demangle::demangle(input) {
            Some(d) if d != input => format!("{prefix}{d}"),
            _ => format!("{prefix}{rest}"),
        }
    }

    /// A symbol name as GNU ld prints it (undecorated on x86, demangled).
    pub fn gnu_name(&self, raw: &str) -> String {
        let input = if self.machine == Machine::X86 { raw.strip_prefix('_').unwrap_or(raw) } else { raw };
        crate::demangle::demangle(input).unwrap_or_else(|| input.to_string())
    }

    /// Define the symbols the linker makes itself: lld before reading any input; GNU ld's
    /// script symbols after (they never pull members, and they win over an object's).
    pub fn define_linker_symbols(&mut self, before_inputs: bool) {
        let x86 = self.machine == Machine::X86;
        let u = if x86 { "_" } else { "" };
        let names: Vec<String> = match (self.cfg.flavor, before_inputs) {
            (Flavor::GnuLd, true) | (Flavor::LldLink | Flavor::LldMingw, false) => return,
            (Flavor::GnuLd, false) => [
                "__image_base__",
                "__ImageBase",
                "__dll__",
                "__section_alignment__",
                "__file_alignment__",
                "__major_os_version__",
                "__minor_os_version__",
                "__major_image_version__",
                "__minor_image_version__",
                "__major_subsystem_version__",
                "__minor_subsystem_version__",
                "__subsystem__",
                "__size_of_stack_reserve__",
                "__size_of_stack_commit__",
                "__size_of_heap_reserve__",
                "__size_of_heap_commit__",
                "__loader_flags__",
                "__dll_characteristics__",
                "__CTOR_LIST__",
                "___CTOR_LIST__",
                "__DTOR_LIST__",
                "___DTOR_LIST__",
                "etext",
                "__data_start__",
                "__data_end__",
                "__bss_start__",
                "__bss_end__",
                "__rt_psrelocs_start",
                "__rt_psrelocs_end",
                "__rt_psrelocs_size",
                "__RUNTIME_PSEUDO_RELOC_LIST__",
                "___RUNTIME_PSEUDO_RELOC_LIST__",
                "__RUNTIME_PSEUDO_RELOC_LIST_END__",
                "___RUNTIME_PSEUDO_RELOC_LIST_END__",
                "__IAT_start__",
                "__IAT_end__",
                "___crt_xc_start__",
                "___crt_xc_end__",
                "___crt_xi_start__",
                "___crt_xi_end__",
                "___crt_xl_start__",
                "___crt_xp_start__",
                "___crt_xp_end__",
                "___crt_xt_start__",
                "___crt_xt_end__",
                "___tls_start__",
                "___tls_end__",
                "__end__",
                "end",
                "_end",
            ]
            .iter()
            .flat_map(|n| [n.to_string(), format!("_{n}")])
            .collect(),
            (_, true) => {
                let mut v: Vec<String> =
                    ["__ImageBase", "__enclave_config"].iter().map(|n| format!("{u}{n}")).collect();
                v.extend(
                    [
                        "__guard_fids_count",
                        "__guard_fids_table",
                        "__guard_flags",
                        "__guard_iat_count",
                        "__guard_iat_table",
                        "__guard_longjmp_count",
                        "__guard_longjmp_table",
                        "__guard_eh_cont_count",
                        "__guard_eh_cont_table",
                    ]
                    .iter()
                    .map(|n| n.to_string()),
                );
                if x86 {
                    v.extend(["___safe_se_handler_table".to_string(), "___safe_se_handler_count".to_string()]);
                }
                if self.cfg.mingw {
                    for n in [
                        "__RUNTIME_PSEUDO_RELOC_LIST__",
                        "__RUNTIME_PSEUDO_RELOC_LIST_END__",
                        "__CTOR_LIST__",
                        "__DTOR_LIST__",
                    ] {
                        v.push(format!("{u}{n}"));
                    }
                    // The MinGW driver's -alternatename:__image_base__=__ImageBase.
                    v.push(format!("{u}__image_base__"));
                }
                v
            }
        };
        for n in names {
            let g = self.global(&n);
            if before_inputs || matches!(self.globals[g].def, Def::Undefined | Def::Lazy { .. }) {
                self.globals[g].def = Def::Linker;
            }
        }
    }

    /// Add a command-line input, in order. Archive members are queued (lld) or scanned now (GNU).
    pub fn add_input(&mut self, input: Input, queue: &mut VecDeque<(usize, usize, String)>) {
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
    fn fetch(&mut self, ai: usize, member: usize, symbol: &str, queue: &mut VecDeque<(usize, usize, String)>) {
        if let Some(slot) = self.loaded_members.get_mut(ai).and_then(|m| m.get_mut(member)) {
            if !*slot {
                *slot = true;
                queue.push_back((ai, member, symbol.to_string()));
            }
        }
    }

    /// Load queued members until the queue is empty.
    pub fn drain(&mut self, queue: &mut VecDeque<(usize, usize, String)>) {
        while let Some((ai, m, symbol)) = queue.pop_front() {
            self.load_member(ai, m, symbol, queue);
        }
    }

    fn load_member(&mut self, ai: usize, m: usize, symbol: String, queue: &mut VecDeque<(usize, usize, String)>) {
        let Some(a) = self.archives.get(ai) else { return };
        let member = a.members.get(m).map(|x| x.name.clone()).unwrap_or_default();
        let archive = a.name.clone();
        match a.member(m) {
            Ok(o) => {
                self.loaded.push(Loaded { archive, member, symbol });
                self.add_object(o, queue)
            }
            Err(e) => self.error(e),
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
                let undefined = self.by_name.get(&name).is_some_and(|&g| self.globals[g].def == Def::Undefined);
                if undefined {
                    self.loaded_members[ai][member] = true;
                    self.load_member(ai, member, name, &mut none);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Read one object: sections, then symbols in table order, then the pending COMDATs.
    fn add_object(&mut self, o: Obj, queue: &mut VecDeque<(usize, usize, String)>) {
        let oi = self.objs.len();
        let gnu = self.cfg.flavor == Flavor::GnuLd;
        let nsec = o.bin.sections.len();
        let mut fates = Vec::with_capacity(nsec);
        for s in &o.bin.sections {
            let flags = s.flags as u32;
            let why = if gnu { gnu_not_linked(&s.name, flags) } else { not_linked(&s.name, flags, self.cfg.debug) };
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
            super::gnu::add_symbols(self, oi);
        } else {
            self.add_symbols_lld(oi, queue);
        }
    }

    fn add_import(&mut self, oi: usize) {
        let Some(imp) = self.objs[oi].bin.import_object.clone() else { return };
        self.imports.push(oi);
        let mut names = vec![(format!("__imp_{}", imp.symbol), Def::Import { obj: oi })];
        if imp.kind == "code" {
            names.push((imp.symbol.clone(), Def::ImportThunk { obj: oi }));
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

    /// A weak external's default symbol (its aux record's tag index).
    pub fn weak_tag(&self, oi: usize, pos: usize) -> u32 {
        let s = &self.objs[oi].bin.symbols[pos];
        let rs = s.span.len / (1 + u64::from(s.aux_count));
        crate::formats::bytes::u32_at(self.objs[oi].data(), s.span.offset + rs).unwrap_or(u32::MAX)
    }

    /// Every relocation of a live section that names a global: (object, section, relocation,
    /// global).
    pub fn live_global_refs<'a>(
        &'a self,
        live: &'a super::live::Live,
    ) -> impl Iterator<Item = (usize, u32, &'a crate::model::Relocation, usize)> + 'a {
        self.objs.iter().enumerate().flat_map(move |(oi, o)| {
            o.bin.relocations.iter().filter_map(move |r| {
                let sec = r.section?;
                if !live[oi].get(sec as usize - 1).copied().unwrap_or(false) {
                    return None;
                }
                let pos = *r.symbol_index.and_then(|i| o.sym_at.get(&i))?;
                match self.sym_targets[oi][pos] {
                    Target::Global(g) => Some((oi, sec, r, g)),
                    _ => None,
                }
            })
        })
    }

    /// The COMDAT section-definition aux of section `sec`: (selection, associated section).
    pub fn comdat_aux(&self, oi: usize, sec: u32) -> Option<(u8, u32)> {
        self.objs[oi].comdat_of.get(&sec).copied()
    }

    fn add_symbols_lld(&mut self, oi: usize, queue: &mut VecDeque<(usize, usize, String)>) {
        let nsym = self.objs[oi].bin.symbols.len();
        let mut def_seen: HashMap<u32, usize> = HashMap::new();
        let mut leader_done: HashMap<u32, bool> = HashMap::new();
        let mut pending: Vec<usize> = Vec::new();
        let mut weak: Vec<(usize, u32)> = Vec::new();
        for pos in 0..nsym {
            if self.fatal {
                return;
            }
            let s = self.objs[oi].bin.symbols[pos].clone();
            let external = s.binding == "EXTERNAL";
            let name = s.name.clone();
            match (s.section, s.section_kind.as_deref()) {
                (None, Some("COMMON")) => {
                    let size = s.value;
                    let g = self.global(&name);
                    self.sym_targets[oi][pos] = Target::Global(g);
                    match self.globals[g].def {
                        Def::Common { size: old, .. } if old >= size => {}
                        Def::Undefined | Def::Lazy { .. } | Def::Common { .. } => {
                            self.globals[g].def = Def::Common { obj: oi, size }
                        }
                        _ => {}
                    }
                }
                (None, Some("UNDEFINED")) if external || s.binding == "WEAK_EXTERNAL" => {
                    let g = self.global(&name);
                    self.sym_targets[oi][pos] = Target::Global(g);
                    if s.binding == "WEAK_EXTERNAL" {
                        weak.push((g, self.weak_tag(oi, pos)));
                    }
                    if let Def::Lazy { archive, member } = self.globals[g].def {
                        self.fetch(archive, member, &name, queue);
                        self.pending_load.insert(g);
                        self.globals[g].def = Def::Undefined;
                    }
                }
                (None, Some("ABSOLUTE")) if external => {
                    let g = self.global(&name);
                    self.sym_targets[oi][pos] = Target::Global(g);
                    match self.globals[g].def {
                        Def::Undefined | Def::Lazy { .. } => self.globals[g].def = Def::Absolute(s.value),
                        Def::Absolute(v) if v == s.value => {}
                        _ => self.duplicate(g, oi),
                    }
                }
                (Some(sec), _) => {
                    let is_def = s.kind == "section" && self.objs[oi].is_comdat(sec) && !def_seen.contains_key(&sec);
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
                if s.binding != "EXTERNAL" && self.fates[oi].get(sec as usize - 1) == Some(&Fate::Read) {
                    self.sym_targets[oi][pos] = Target::Local((oi, sec), s.value);
                }
            }
        }
        for (g, tag) in weak {
            let p = self.objs[oi].sym_at.get(&tag).copied();
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
                if s.binding == "EXTERNAL" {
                    let name = s.name.clone();
                    Target::Global(self.global(&name))
                } else {
                    Target::Local((oi, sec), s.value)
                }
            }
            _ if s.binding == "EXTERNAL" || s.binding == "WEAK_EXTERNAL" => {
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
        if s.binding != "EXTERNAL" {
            if read {
                self.sym_targets[oi][pos] = Target::Local((oi, sec), s.value);
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
                self.globals[g].def = Def::Regular { chunk: (oi, sec), value, comdat: false }
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
    pub(super) fn duplicate(&mut self, g: usize, oi: usize) {
        let name = self.lld_name(&self.globals[g].name);
        let first = match &self.globals[g].def {
            Def::Regular { chunk, .. } => self.objs[chunk.0].name.clone(),
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
        let external = s.binding == "EXTERNAL";
        if sel == 0 || sel > 6 {
            let text = format!("unknown comdat type {sel} for {name} in {}", self.objs[oi].name);
            self.error(text);
            self.fatal = true;
            return;
        }
        if !external {
            // A static leader always prevails.
            self.mark_read(oi, sec);
            self.sym_targets[oi][pos] = Target::Local((oi, sec), value);
            return;
        }
        let g = self.global(&name);
        self.sym_targets[oi][pos] = Target::Global(g);
        let group = self.group_for(&name, &name, sel);
        self.comdats[group].copies.push((oi, sec));
        let existing = self.globals[g].def.clone();
        let prevail = match existing {
            Def::Regular { comdat: true, chunk, .. } => {
                let leader_sel = self.comdat_aux(chunk.0, chunk.1).map_or(2, |a| a.0);
                let verdict = comdat::lld(self, chunk, leader_sel, (oi, sec), sel);
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
            self.globals[g].def = Def::Regular { chunk: (oi, sec), value, comdat: true };
            self.mark_read(oi, sec);
            self.comdats[group].kept = Some((oi, sec));
        } else {
            let kept = match self.globals[g].def {
                Def::Regular { chunk, .. } => Some(chunk),
                _ => None,
            };
            self.fates[oi][sec as usize - 1] = Fate::LostComdat { kept, key: name };
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

    /// Resolve weak aliases, report undefined symbols (lld's words), the entry point last.
    pub fn finish_symbols(&mut self) {
        for g in 0..self.globals.len() {
            if self.globals[g].def == Def::Undefined {
                if let Some(Target::Global(d)) = self.globals[g].weak_alias {
                    if d != g {
                        self.globals[g].def = self.globals[d].def.clone();
                        self.globals[g].weak_default_used = true;
                    }
                } else if let Some(Target::Local(chunk, value)) = self.globals[g].weak_alias {
                    self.globals[g].def = Def::Regular { chunk, value, comdat: false };
                    self.globals[g].weak_default_used = true;
                }
            }
        }
    }

    /// Every (object, section, offset, global) where a read section refers to a global.
    pub fn references(&self) -> Vec<(usize, u32, u64, usize)> {
        let mut out = Vec::new();
        for (oi, o) in self.objs.iter().enumerate() {
            for r in &o.bin.relocations {
                let Some(sec) = r.section else { continue };
                if self.fates[oi].get(sec as usize - 1) != Some(&Fate::Read) {
                    continue;
                }
                let Some(&pos) = r.symbol_index.and_then(|i| o.sym_at.get(&i)) else { continue };
                if let Target::Global(g) = self.sym_targets[oi][pos] {
                    out.push((oi, sec, r.offset, g));
                }
            }
        }
        out
    }
}
