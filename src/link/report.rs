//! What the simulated link did, as the JSON contract of `linkscope link --json` gives it (the
//! undefined-symbol messages in each linker's words are in [`super::undefined`], the app's
//! rows in [`super::rows`]).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::layout::{Layout, Origin};
use super::live::Live;
use super::resolve::{ChunkId, Def, Fate, GlobalId, LinkSeverity, World};
use super::Flavor;

pub use super::rows::SectionRow;
pub use super::undefined::{undefined_gnu, undefined_lld};

/// Version of the JSON shape.
pub const SCHEMA_VERSION: u32 = 1;

/// An input section named by file and index.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SectionRef {
    /// `a.obj`, or `lib.lib(m1.obj)` for a member.
    pub file: String,
    /// 1-based section index in that file.
    pub section: u32,
    /// Section name.
    pub name: String,
}

/// An output section.
#[derive(Debug, Clone, Serialize)]
pub struct OutputSection {
    /// Name.
    pub name: String,
    /// RVA.
    pub rva: u64,
    /// VirtualSize.
    pub virtual_size: u64,
    /// Characteristics.
    pub characteristics: u32,
    /// PointerToRawData.
    pub file_offset: u64,
    /// SizeOfRawData.
    pub raw_size: u64,
}

/// A kept input section and where it lands.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    /// File (`lib(member)` for members).
    pub file: String,
    /// 1-based section index.
    pub section: u32,
    /// Section name.
    pub name: String,
    /// Output section name.
    pub output_section: String,
    /// RVA.
    pub rva: u64,
    /// Size.
    pub size: u64,
    /// Alignment.
    pub align: u64,
    /// The COMDAT key when the section is a COMDAT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comdat: Option<String>,
    /// A string literal lld tail-merged: it lies inside the merged chunk (at `rva`, sharing
    /// bytes with others), which the linker's map lists under no object.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub merged: bool,
}

/// An input section that is not in the image.
#[derive(Debug, Clone, Serialize)]
pub struct Discarded {
    /// File.
    pub file: String,
    /// 1-based section index.
    pub section: u32,
    /// Section name.
    pub name: String,
    /// `comdat`, `associative`, `gc` or `icf`.
    pub reason: &'static str,
    /// The section kept instead (the winning copy, the section folded into), if any.
    pub kept: Option<SectionRef>,
    /// The reason in words.
    pub detail: String,
    /// Size of the section.
    pub size: u64,
}

/// One copy of a COMDAT.
#[derive(Debug, Clone, Serialize)]
pub struct Copy {
    /// File.
    pub file: String,
    /// 1-based section index.
    pub section: u32,
    /// Section name.
    pub name: String,
    /// Selection of this copy.
    pub selection: &'static str,
    /// Size.
    pub size: u64,
    /// Whether its bytes differ from the kept copy's.
    pub differs: bool,
}

/// A COMDAT with its copies.
#[derive(Debug, Clone, Serialize)]
pub struct ComdatReport {
    /// The COMDAT symbol (demangled in `demangled`).
    pub symbol: String,
    /// Demangled symbol, when it is mangled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demangled: Option<String>,
    /// Selection of the first copy.
    pub selection: &'static str,
    /// The copy kept.
    pub kept: Option<SectionRef>,
    /// Every copy in the order read.
    pub copies: Vec<Copy>,
    /// Copies differ in size or bytes (an ODR violation when nothing complains).
    pub copies_differ: bool,
    /// Why this copy won, in words.
    pub why: String,
}

/// A section folded into another by ICF.
#[derive(Debug, Clone, Serialize)]
pub struct Fold {
    /// The folded section.
    pub folded: SectionRef,
    /// The section it became.
    pub into: SectionRef,
}

/// A chunk the linker makes itself.
#[derive(Debug, Clone, Serialize)]
pub struct Synthetic {
    /// What it is.
    pub name: String,
    /// Output section.
    pub output_section: String,
    /// RVA.
    pub rva: u64,
    /// Size.
    pub size: u64,
}

/// A message, worded as the linker words it (severity `error` / `warning`), or a note of the
/// simulation's own (`note`).
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// `error`, `warning` or `note`.
    pub severity: LinkSeverity,
    /// The text.
    pub message: String,
}

/// The entry point.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Symbol (decorated).
    pub symbol: String,
    /// RVA, when defined and placed.
    pub rva: Option<u64>,
}

/// An archive member loaded, and the symbol that pulled it in.
#[derive(Debug, Clone, Serialize)]
pub struct MemberLoad {
    /// `lib(member)`.
    pub file: String,
    /// The symbol.
    pub symbol: String,
}

/// An input section never placed by any linker (`.drectve`, `.debug$S`, …).
#[derive(Debug, Clone, Serialize)]
pub struct NotLinked {
    /// File.
    pub file: String,
    /// Section index.
    pub section: u32,
    /// Name.
    pub name: String,
    /// Why.
    pub why: &'static str,
}

/// Where a global symbol resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    /// Raw name.
    pub symbol: String,
    /// `defined`, `common`, `absolute`, `import`, `import-thunk`, `linker`, `undefined`.
    pub kind: &'static str,
    /// The file that defines it.
    pub file: Option<String>,
    /// Its RVA in the image (absolute symbols: the value).
    pub value: Option<u64>,
    /// It stayed undefined but a weak external's default stands in.
    pub weak_default: bool,
}

/// An import the image binds, with its IAT slot and thunk (lld's import tables).
#[derive(Debug, Clone, Serialize)]
pub struct ImportSlot {
    /// `dll!name` (`dll!#ordinal` by ordinal).
    pub import: String,
    /// RVA of its IAT slot.
    pub iat_rva: u64,
}

/// The simulated link.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Shape version.
    pub schema_version: u32,
    /// Linker.
    pub flavor: &'static str,
    /// `x64` or `x86`.
    pub machine: &'static str,
    /// Whether the linker would write the image.
    pub succeeds: bool,
    /// Preferred base.
    pub image_base: u64,
    /// Entry point.
    pub entry: Option<Entry>,
    /// Output sections in image order.
    pub output_sections: Vec<OutputSection>,
    /// Every kept input section.
    pub placements: Vec<Placement>,
    /// Every input section that is not in the image, with the reason.
    pub discarded: Vec<Discarded>,
    /// COMDATs with their copies.
    pub comdats: Vec<ComdatReport>,
    /// ICF folds.
    pub folds: Vec<Fold>,
    /// Linker-made chunks.
    pub synthetic: Vec<Synthetic>,
    /// The IAT slots of lld's import tables, in table order.
    pub imports: Vec<ImportSlot>,
    /// Every global symbol and what it resolved to.
    pub symbols: Vec<Resolved>,
    /// The `.CRT$XC*` / `.CRT$XI*` initialiser sections in image order.
    pub crt: Vec<Placement>,
    /// Archive members loaded, in load order.
    pub members_loaded: Vec<MemberLoad>,
    /// The export table the linker writes, by ordinal.
    pub exports: Vec<super::exports::ExportReport>,
    /// The import library lld-link writes beside the DLL, listed (`null`: none is written, or
    /// it is GNU ld's).
    pub import_library: Option<super::implib::ImportLibrary>,
    /// MinGW (lld): the runtime pseudo-relocation list lld writes for data imported
    /// automatically, in its order.
    pub pseudo_relocs: Vec<super::autoimport::PseudoReloc>,
    /// The imports of delay-loaded DLLs (`/delayload:`), with their delay IAT slots.
    pub delay_imports: Vec<ImportSlot>,
    /// Sections no linker places.
    pub not_linked: Vec<NotLinked>,
    /// Options accepted and not modelled.
    pub ignored_options: Vec<String>,
    /// Messages.
    pub diagnostics: Vec<Message>,
}

impl Report {
    /// The linker's errors and warnings as it prints them on stderr: lld puts an empty line
    /// after a message of several lines; GNU ld prints one line each.
    pub fn linker_output(&self) -> String {
        let mut out = String::new();
        let mut sep = "";
        for m in self.diagnostics.iter().filter(|m| m.severity != LinkSeverity::Note) {
            out.push_str(sep);
            out.push_str(&m.message);
            out.push('\n');
            sep = if self.flavor != "gnu-ld" && m.message.contains('\n') { "\n" } else { "" };
        }
        out
    }

    /// 0 when the link succeeds, 1 when the simulated linker refuses it.
    pub fn exit_code(&self) -> i32 {
        if self.succeeds {
            0
        } else {
            1
        }
    }
}

fn sref(w: &World, c: ChunkId) -> SectionRef {
    let o = &w.objs[c.obj];
    SectionRef {
        file: o.name.clone(),
        section: c.section,
        name: o.section(c.section).map(|s| s.name.to_string()).unwrap_or_default(),
    }
}

/// What NODUPLICATES means, in the words the Link view and the COMDAT report use.
pub(super) const NODUP_RULE: &str =
    "NODUPLICATES: only one definition may exist; a second definition is an error (duplicate symbol)";

fn selection_name(s: u8) -> &'static str {
    crate::formats::coff::symbols::selection_name(s)
}

pub(crate) fn default_base(w: &World) -> u64 {
    match (w.machine, w.cfg.dll) {
        (super::args::Machine::X64, false) => 0x1_4000_0000,
        (super::args::Machine::X64, true) => 0x1_8000_0000,
        (super::args::Machine::X86, false) => 0x40_0000,
        (super::args::Machine::X86, true) => 0x1000_0000,
    }
}

/// What a link that ran to the end produced: liveness, ICF folds (folded, into), the layout.
pub type Finished = (Live, Vec<(ChunkId, ChunkId)>, Layout);

/// Assemble the report. `done` is None when a fatal error stopped the link early.
pub fn build(w: &World, roots: &[GlobalId], done: Option<Finished>) -> Report {
    let mut rep = Report {
        schema_version: SCHEMA_VERSION,
        flavor: w.cfg.flavor.name(),
        machine: w.machine.name(),
        succeeds: !w.failed(),
        image_base: w.cfg.image_base.unwrap_or_else(|| default_base(w)),
        entry: None,
        output_sections: Vec::new(),
        placements: Vec::new(),
        discarded: Vec::new(),
        comdats: Vec::new(),
        folds: Vec::new(),
        synthetic: Vec::new(),
        imports: Vec::new(),
        symbols: Vec::new(),
        crt: Vec::new(),
        members_loaded: w
            .loaded
            .iter()
            .map(|l| MemberLoad { file: format!("{}({})", l.archive, l.member), symbol: l.symbol.clone() })
            .collect(),
        exports: Vec::new(),
        import_library: None,
        pseudo_relocs: Vec::new(),
        delay_imports: Vec::new(),
        not_linked: Vec::new(),
        ignored_options: w.cfg.ignored.clone(),
        diagnostics: w.messages.iter().map(|m| Message { severity: m.severity, message: m.text.clone() }).collect(),
    };
    let Some((live, folds, lay)) = done else { return rep };
    if w.threads > 1 {
        // The COMDAT reports (demangled names, every copy compared) on a thread of their own.
        std::thread::scope(|s| {
            let comdats = s.spawn(|| comdat_reports(w));
            let join = || comdats.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            finish(w, roots, &mut rep, (live, folds, lay), join);
        });
    } else {
        finish(w, roots, &mut rep, (live, folds, lay), || comdat_reports(w));
    }
    rep
}

/// The rest of [`build`] for a link that ran to the end; `comdats` gives the COMDAT reports.
fn finish(
    w: &World,
    roots: &[GlobalId],
    rep: &mut Report,
    (live, folds, lay): Finished,
    comdats: impl FnOnce() -> Vec<ComdatReport>,
) {
    let fold_of: HashMap<ChunkId, ChunkId> = folds.iter().copied().collect();
    let mut rva_of: HashMap<ChunkId, u64> = HashMap::new();
    for s in lay.sections.iter().filter(|s| s.virtual_size > 0) {
        rep.output_sections.push(OutputSection {
            name: s.name.clone(),
            rva: s.rva,
            virtual_size: s.virtual_size,
            characteristics: s.characteristics,
            file_offset: s.file_offset,
            raw_size: s.raw_size,
        });
    }
    let key_of: HashMap<ChunkId, &str> =
        w.comdats.iter().flat_map(|g| g.copies.iter().map(move |c| (*c, g.key.as_str()))).collect();
    let in_order =
        lay.sections.iter().flat_map(|s| s.chunks.iter().filter_map(|&c| lay.chunks.get(c).map(|ch| (c, ch))));
    let common_rva = super::image::common_rvas(&lay);
    let merged_at: HashMap<usize, &super::merge::Merged> = lay.merged.iter().map(|(i, m)| (*i, m)).collect();
    for (ci, c) in in_order {
        let out = lay.sections.get(c.out).map(|s| s.name.clone()).unwrap_or_default();
        if let Some(m) = merged_at.get(&ci) {
            // The merged chunk, then each literal in it.
            rep.synthetic.push(Synthetic {
                name: c.name.clone(),
                output_section: out.clone(),
                rva: c.rva,
                size: c.size,
            });
            for &(id, off) in &m.pieces {
                rva_of.insert(id, c.rva + off);
                let r = sref(w, id);
                rep.placements.push(Placement {
                    file: r.file,
                    section: r.section,
                    name: r.name,
                    output_section: out.clone(),
                    rva: c.rva + off,
                    size: super::comdat::size(w, id),
                    align: m.align,
                    comdat: key_of.get(&id).map(|k| k.to_string()),
                    merged: true,
                });
            }
            continue;
        }
        match c.origin {
            Origin::Input(id) => {
                rva_of.insert(id, c.rva);
                let r = sref(w, id);
                let p = Placement {
                    file: r.file,
                    section: r.section,
                    name: r.name,
                    output_section: out,
                    rva: c.rva,
                    size: c.size,
                    align: c.align,
                    comdat: key_of.get(&id).map(|k| k.to_string()),
                    merged: false,
                };
                if p.name.starts_with(".CRT$XC") || p.name.starts_with(".CRT$XI") {
                    rep.crt.push(p.clone());
                }
                rep.placements.push(p);
            }
            // GNU ld lists each object's COMMON as an input of its own (section 0).
            Origin::Common(_, oi) if w.cfg.flavor == Flavor::GnuLd => rep.placements.push(Placement {
                file: w.objs[oi].name.clone(),
                section: 0,
                name: "COMMON".into(),
                output_section: out,
                rva: c.rva,
                size: c.size,
                align: c.align,
                comdat: None,
                merged: false,
            }),
            Origin::Common(..) | Origin::Synthetic(_) => {
                if let Some(imp) = super::delay::slot_name(&c.name) {
                    rep.delay_imports.push(ImportSlot { import: imp.to_string(), iat_rva: c.rva });
                }
                if let Some(imp) = c.name.strip_prefix("IAT ").filter(|n| !n.ends_with(" end")) {
                    rep.imports.push(ImportSlot { import: imp.to_string(), iat_rva: c.rva });
                }
                rep.synthetic.push(Synthetic { name: c.name.clone(), output_section: out, rva: c.rva, size: c.size })
            }
        }
    }
    rep.crt.sort_by_key(|p| p.rva);
    // Everything else, with its reason.
    let replaced: HashSet<ChunkId> = w.comdats.iter().flat_map(|g| g.replaced.iter().copied()).collect();
    for (oi, fates) in w.fates.iter().enumerate() {
        for (i, fate) in fates.iter().enumerate() {
            let id = ChunkId::new(oi, i as u32 + 1);
            if *fate == Fate::Read && rva_of.contains_key(&id) {
                continue;
            }
            let r = sref(w, id);
            let d = |reason, kept: Option<ChunkId>, detail: String| Discarded {
                file: r.file.clone(),
                section: r.section,
                name: r.name.clone(),
                reason,
                kept: kept.map(|k| sref(w, k)),
                detail,
                size: super::comdat::size(w, id),
            };
            match fate {
                Fate::Read if rva_of.contains_key(&id) => {}
                Fate::Read => {
                    if let Some(&into) = fold_of.get(&id) {
                        rep.discarded.push(d("icf", Some(into), "identical to the section it was folded into".into()));
                    } else if !live[oi][i] {
                        let why = if replaced.contains(&id) {
                            "a larger LARGEST copy replaced it, and nothing else refers to it"
                        } else {
                            "nothing live refers to it"
                        };
                        rep.discarded.push(d("gc", None, why.into()));
                    }
                }
                Fate::LostComdat { kept, key } => {
                    let detail = match kept {
                        Some(_) => format!("another copy of COMDAT {key} prevailed"),
                        None => "a COMDAT section without a COMDAT symbol: the linker never reads it".into(),
                    };
                    rep.discarded.push(d("comdat", *kept, detail));
                }
                Fate::LostAssociative { parent } => {
                    let pname = w.objs[oi].section(*parent).map(|s| s.name.clone()).unwrap_or_default();
                    rep.discarded.push(d(
                        "associative",
                        None,
                        format!("associated with section {parent} ({pname}), which is not in the image"),
                    ));
                }
                Fate::NotLinked(why) => rep.not_linked.push(NotLinked {
                    file: r.file.clone(),
                    section: r.section,
                    name: r.name.clone(),
                    why,
                }),
                Fate::Pending => {}
            }
        }
    }
    for (f, into) in &folds {
        rep.folds.push(Fold { folded: sref(w, *f), into: sref(w, *into) });
    }
    rep.comdats = comdats();
    // GNU ld's script assigns some symbols outright: their value is the script's even where an
    // object defines them too.
    let gnu = w.cfg.flavor == Flavor::GnuLd;
    let script = gnu.then(|| {
        let inputs = super::image::Inputs { folds: &folds, image_base: rep.image_base, entry: None };
        super::image::Addresses::new(&lay, &inputs)
    });
    for (gi, g) in w.globals.iter().enumerate() {
        let assigned = script
            .as_ref()
            .filter(|_| super::image_headers::gnu_script_assigns(&g.name))
            .and_then(|a| super::image_headers::linker_symbol(w, &lay, a, &g.name));
        if let Some(va) = assigned {
            let value = Some(va - rep.image_base);
            rep.symbols.push(Resolved {
                symbol: g.name.clone(),
                kind: "linker",
                file: None,
                value,
                weak_default: false,
            });
            continue;
        }
        let (kind, file, value) = match &g.def {
            Def::Regular { chunk, value, .. } => {
                let c = fold_of.get(chunk).copied().unwrap_or(*chunk);
                ("defined", Some(w.objs[chunk.obj].name.clone()), rva_of.get(&c).map(|r| r + value))
            }
            Def::Common { obj, .. } => {
                ("common", Some(w.objs[*obj].name.clone()), common_rva.get(&(GlobalId(gi), obj.0)).copied())
            }
            Def::Absolute(v) => ("absolute", None, Some(*v)),
            Def::Import { obj } => ("import", Some(w.objs[*obj].name.clone()), None),
            Def::ImportThunk { obj } => ("import-thunk", Some(w.objs[*obj].name.clone()), None),
            Def::Linker => ("linker", None, None),
            Def::Undefined | Def::Lazy { .. } => ("undefined", None, None),
        };
        rep.symbols.push(Resolved { symbol: g.name.clone(), kind, file, value, weak_default: g.weak_default_used });
    }
    rep.exports = super::exports::report(w, &rep.symbols, &lay.chunks);
    // GNU ld's counter has stepped once per automatic import's pseudo-relocation and once for
    // the runtime relocator's reference by the time it writes the library
    // (`pe_create_import_fixup`, version 2).
    let fixups = if w.cfg.flavor == super::Flavor::GnuLd { w.pseudo_relocs.len() } else { 0 };
    let made_before = if fixups > 0 { fixups + 1 } else { 0 };
    rep.import_library =
        super::implib::listing(&w.cfg, &w.exports, w.machine == super::args::Machine::X86, made_before);
    rep.pseudo_relocs = super::autoimport::entries(w, &lay);
    if let Some(&g) = roots.first() {
        let rva = match w.globals[g].def {
            Def::Regular { chunk, value, .. } => {
                let c = fold_of.get(&chunk).copied().unwrap_or(chunk);
                rva_of.get(&c).map(|r| r + value)
            }
            Def::Absolute(v) => Some(v.wrapping_sub(rep.image_base)),
            _ => None,
        };
        rep.entry = Some(Entry { symbol: w.globals[g].name.clone(), rva });
    }
    for n in &lay.notes {
        rep.diagnostics.push(Message { severity: LinkSeverity::Note, message: n.clone() });
    }
    for g in &w.comdats {
        for r in g.replaced.iter().filter(|r| rva_of.contains_key(r)) {
            rep.diagnostics.push(Message {
                severity: LinkSeverity::Note,
                message: format!(
                    "LARGEST COMDAT {}: the copy in {} was replaced by a larger one but stays in the image (lld 14 reads it before it is replaced; only /opt:ref removes it)",
                    w.lld_name(&g.symbol),
                    w.objs[r.obj].name
                ),
            });
        }
    }
    for c in &rep.comdats {
        if c.copies_differ && c.copies.len() > 1 {
            let shown = c.demangled.as_deref().unwrap_or(&c.symbol);
            rep.diagnostics.push(Message {
                severity: LinkSeverity::Note,
                message: format!(
                    "COMDAT {shown}: the {} copies are not identical ({}); {} kept",
                    c.copies.len(),
                    c.copies.iter().map(|x| format!("{} {} bytes", x.file, x.size)).collect::<Vec<_>>().join(", "),
                    c.kept.as_ref().map_or("none".to_string(), |k| k.file.clone())
                ),
            });
        }
    }
}

fn comdat_reports(w: &World) -> Vec<ComdatReport> {
    let mut out = Vec::with_capacity(w.comdats.len());
    for g in &w.comdats {
        let kept = g.kept;
        let mut copies = Vec::new();
        let mut differ = false;
        for &c in &g.copies {
            let sel = w.comdat_aux(c.oi(), c.section).map_or(0, |a| a.0);
            let size = super::comdat::size(w, c);
            let d = kept.is_some_and(|k| !super::comdat::same_contents(w, k, c));
            differ |= d;
            let r = sref(w, c);
            copies.push(Copy {
                file: r.file,
                section: r.section,
                name: r.name,
                selection: selection_name(sel),
                size,
                differs: d,
            });
        }
        let why = match (w.cfg.flavor, g.selection, kept) {
            (_, _, None) => "no copy was kept".to_string(),
            (Flavor::GnuLd, _, Some(_)) => "GNU ld keeps the first copy of a link-once section".into(),
            (_, 6, Some(k)) if g.copies.first() != Some(&k) => {
                "LARGEST: a later, larger copy replaced the first".into()
            }
            (_, 6, Some(_)) => "LARGEST: no later copy was larger".into(),
            (_, 1, Some(_)) => NODUP_RULE.into(),
            _ => "lld keeps the first definition it reads".into(),
        };
        let demangled = crate::demangle::demangle(&g.symbol).filter(|d| *d != g.symbol);
        out.push(ComdatReport {
            symbol: g.symbol.clone(),
            demangled,
            selection: selection_name(g.selection),
            kept: kept.map(|k| sref(w, k)),
            copies,
            copies_differ: differ,
            why,
        });
    }
    out
}
