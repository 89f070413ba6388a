//! The state of a link: every object read, what became of each section, the global symbols,
//! the COMDAT groups and the linker's messages; the symbols the linker defines itself and the
//! last resolution step. How the inputs are read into it is in [`super::read`].

use std::collections::HashMap;

use super::args::{Config, Machine};
use super::inputs::Obj;
use super::Flavor;

/// An object's position in [`World::objs`] (the order the objects were read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjId(pub usize);

impl std::ops::Index<ObjId> for Vec<Obj> {
    type Output = Obj;

    fn index(&self, o: ObjId) -> &Obj {
        &self[o.0]
    }
}

/// A global symbol's position in [`World::globals`] (the order they were first named).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlobalId(pub usize);

impl std::ops::Index<GlobalId> for Vec<Global> {
    type Output = Global;

    fn index(&self, g: GlobalId) -> &Global {
        &self[g.0]
    }
}

impl std::ops::IndexMut<GlobalId> for Vec<Global> {
    fn index_mut(&mut self, g: GlobalId) -> &mut Global {
        &mut self[g.0]
    }
}

/// An input section: an object and a section of it. Ordered by object, then section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId {
    /// The object.
    pub obj: ObjId,
    /// The section's 1-based index in it.
    pub section: u32,
}

impl ChunkId {
    /// Section `section` (1-based) of the object at position `obj`.
    pub fn new(obj: usize, section: u32) -> Self {
        ChunkId { obj: ObjId(obj), section }
    }

    /// The object's position in [`World::objs`].
    pub fn oi(self) -> usize {
        self.obj.0
    }
}

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
        obj: ObjId,
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
        obj: ObjId,
    },
    /// A short import member's function symbol: the thunk the linker makes (`jmp [IAT]`).
    ImportThunk {
        /// The member.
        obj: ObjId,
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
    Global(GlobalId),
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

/// How serious a link message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkSeverity {
    /// The linker refuses the link.
    Error,
    /// The linker warns and links.
    Warning,
    /// Not a linker message: a note of the simulation's own (what it does not model).
    Note,
}

impl LinkSeverity {
    /// The name the JSON and the views use: `error`, `warning`, `note`.
    pub fn name(self) -> &'static str {
        match self {
            LinkSeverity::Error => "error",
            LinkSeverity::Warning => "warning",
            LinkSeverity::Note => "note",
        }
    }
}

impl serde::Serialize for LinkSeverity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::fmt::Display for LinkSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Compares by [`LinkSeverity::name`].
impl PartialEq<&str> for LinkSeverity {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// A diagnostic as the simulated linker would print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkerMessage {
    /// Error, warning, or a note of the simulation's own.
    pub severity: LinkSeverity,
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
    pub by_name: HashMap<String, GlobalId>,
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
    pub first_def: HashMap<GlobalId, (ChunkId, u64)>,
    /// Per object: sections in the order lld reads them (non-COMDAT in section order, then
    /// COMDATs as their leaders are met, associative ones last): the order chunks are laid out.
    pub read_order: Vec<Vec<u32>>,
    /// Objects that held a common symbol's storage at some point (GNU ld gives each a
    /// `COMMON` input).
    pub common_holders: std::collections::HashSet<ObjId>,
    /// Short import members, in load order (lld's `ImportFile::instances`).
    pub imports: Vec<ObjId>,
    /// Globals with a member load pending (lld's `pendingArchiveLoad`).
    pub pending_load: std::collections::HashSet<GlobalId>,
    /// Threads for reading fetched archive members (1 unless the caller sets more).
    pub threads: usize,
    /// The directories the linker searches ([`super::search::directories`]).
    pub search_dirs: Vec<String>,
    /// What lld has read already (files by path, libraries by name).
    pub visited: super::search::Visited,
    /// `/defaultlib:` libraries objects asked for, not yet searched.
    pub pending_libs: Vec<String>,
    /// The exports after lld's fixup (sorted, one per name, ordinals assigned).
    pub exports: Vec<super::exports::Export>,
    /// The DLL name the export directory gives.
    pub dll_name: String,
    /// Symbols lld imported automatically (MinGW): each relocation against one is an entry of
    /// the runtime pseudo-relocation list.
    pub auto_imported: std::collections::HashSet<GlobalId>,
    /// The relocations against them, the runtime pseudo-relocation list (set before layout).
    pub pseudo_relocs: Vec<super::autoimport::PseudoRef>,
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
            threads: 1,
            search_dirs: Vec::new(),
            visited: super::search::Visited::default(),
            pending_libs: Vec::new(),
            exports: Vec::new(),
            dll_name: String::new(),
            auto_imported: Default::default(),
            pseudo_relocs: Vec::new(),
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
        self.messages.push(LinkerMessage { severity: LinkSeverity::Error, text });
    }

    /// An error as written, prefix included (the MinGW driver's messages name `lld`).
    pub(super) fn error_raw(&mut self, text: String) {
        self.messages.push(LinkerMessage { severity: LinkSeverity::Error, text });
    }

    /// A note of the simulation's own (what it does not model), not a linker message.
    pub(super) fn note(&mut self, text: String) {
        self.messages.push(LinkerMessage { severity: LinkSeverity::Note, text });
    }

    /// An error printed as `prefix: text` (GNU ld's undefined and multiple definitions).
    pub(super) fn error_plain(&mut self, text: String) {
        let text = format!("{}: {text}", self.prefix());
        self.messages.push(LinkerMessage { severity: LinkSeverity::Error, text });
    }

    pub(super) fn warn(&mut self, text: String, prefixed: bool) {
        let text = if prefixed { format!("{}: warning: {text}", self.prefix()) } else { text };
        self.messages.push(LinkerMessage { severity: LinkSeverity::Warning, text });
    }

    /// Whether an error was reported.
    pub fn failed(&self) -> bool {
        self.fatal || self.messages.iter().any(|m| m.severity == LinkSeverity::Error)
    }

    /// The global for `name`, created undefined when new.
    pub fn global(&mut self, name: &str) -> GlobalId {
        if let Some(&g) = self.by_name.get(name) {
            return g;
        }
        let g = GlobalId(self.globals.len());
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

    /// Free every object's symbols and relocations and what they resolved to, once the layout
    /// is done (the report reads sections, fates, globals and COMDAT groups only).
    pub fn release_symbols(&mut self) {
        for o in &mut self.objs {
            o.bin.symbols = Vec::new();
            o.bin.by_index = Vec::new();
            o.bin.relocations = Vec::new();
            o.bin.reloc_ranges = Vec::new();
        }
        self.sym_targets = Vec::new();
    }

    /// A weak external's default symbol (its aux record's tag index).
    pub fn weak_tag(&self, oi: usize, pos: usize) -> u32 {
        let o = &self.objs[oi];
        let at = o.bin.symbols[pos].offset + o.bin.record_size;
        crate::formats::bytes::u32_at(o.data(), at).unwrap_or(u32::MAX)
    }

    /// Every relocation of a live section that names a global: (object, section, relocation,
    /// global).
    pub fn live_global_refs<'a>(
        &'a self,
        live: &'a super::live::Live,
    ) -> impl Iterator<Item = (usize, u32, &'a crate::formats::coff::lean::LeanReloc, GlobalId)> + 'a {
        self.objs.iter().enumerate().flat_map(move |(oi, o)| {
            o.bin.relocations.iter().filter_map(move |r| {
                let sec = r.section?;
                if !live[oi].get(sec as usize - 1).copied().unwrap_or(false) {
                    return None;
                }
                let pos = r.symbol_index.and_then(|i| o.sym_at(i))?;
                match self.sym_targets[oi][pos] {
                    Target::Global(g) => Some((oi, sec, r, g)),
                    _ => None,
                }
            })
        })
    }

    /// The COMDAT section-definition aux of section `sec`: (selection, associated section).
    pub fn comdat_aux(&self, oi: usize, sec: u32) -> Option<(u8, u32)> {
        self.objs[oi].comdat(sec)
    }

    /// Resolve weak aliases and `/alternatename`s of symbols still undefined.
    pub fn finish_symbols(&mut self) {
        for (from, to) in self.cfg.alternates.clone() {
            let (Some(&f), Some(&t)) = (self.by_name.get(&from), self.by_name.get(&to)) else { continue };
            if matches!(self.globals[f].def, Def::Undefined | Def::Lazy { .. })
                && !matches!(self.globals[t].def, Def::Undefined | Def::Lazy { .. })
            {
                self.globals[f].def = self.globals[t].def.clone();
            }
        }
        for g in (0..self.globals.len()).map(GlobalId) {
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
}
