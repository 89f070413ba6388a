//! An open document: the file's bytes, its model, derived indexes, and the per-document view
//! state (current view, table filters and selections, hex selection, layout-map zoom).

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{Binary, Span};
use crate::session::{Analysis, Analyzed, Scan};

use super::lookup::Lookup;
use super::table::TableState;

/// Identifies an open document (or a loading one) for the lifetime of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocId(pub u64);

/// The views of a document, in sidebar order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum View {
    /// Summary: format, machine, entry, counts, diagnostics.
    Overview,
    /// Every header field with its bytes and an explanation.
    Headers,
    /// OMF records, each field explained, with the fixups of FIXUPP and data records.
    Records,
    /// Sections, segments and data directories.
    Sections,
    /// The address space drawn to scale.
    Map,
    /// COMDAT leaders and their associated sections; ELF groups.
    Comdats,
    /// Imports and their IAT slots.
    Imports,
    /// Exports.
    Exports,
    /// Symbols.
    Symbols,
    /// Base, object and dynamic relocations in one table.
    Relocations,
    /// MinGW runtime pseudo-relocations.
    PseudoRelocs,
    /// Every site that references data: mode, target, import + offset, reach.
    Refs,
    /// The printable strings, with the sites that reference each.
    Strings,
    /// The code, decoded, with the sites highlighted.
    Disassembly,
    /// The raw bytes with structure highlighting.
    Hex,
    /// Problems found while reading.
    Diagnostics,
    /// Archive members.
    Members,
    /// The loader and a fix-up scheme simulated on this image.
    Patch,
    /// Changed bytes against another file or a memory image, attributed to structures.
    Diff,
    /// The open objects linked as a chosen linker would link them.
    Link,
    /// The PDB's section contributions: the object of every byte.
    Contributions,
    /// A process dump's modules and memory ranges.
    Process,
    /// An image checked against its memory in a process, every differing byte explained.
    Verify,
}

impl View {
    /// Every view, in sidebar order.
    pub const ALL: [View; 23] = [
        View::Process,
        View::Overview,
        View::Headers,
        View::Records,
        View::Sections,
        View::Map,
        View::Comdats,
        View::Imports,
        View::Exports,
        View::Symbols,
        View::Relocations,
        View::PseudoRelocs,
        View::Refs,
        View::Strings,
        View::Disassembly,
        View::Patch,
        View::Verify,
        View::Diff,
        View::Link,
        View::Contributions,
        View::Hex,
        View::Diagnostics,
        View::Members,
    ];

    /// Short name used on the command line (`--view`) and in saved state.
    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Headers => "headers",
            View::Records => "records",
            View::Sections => "sections",
            View::Map => "map",
            View::Comdats => "comdats",
            View::Imports => "imports",
            View::Exports => "exports",
            View::Symbols => "symbols",
            View::Relocations => "relocations",
            View::PseudoRelocs => "pseudo-relocs",
            View::Refs => "refs",
            View::Strings => "strings",
            View::Disassembly => "disassembly",
            View::Hex => "hex",
            View::Diagnostics => "diagnostics",
            View::Members => "members",
            View::Patch => "patch",
            View::Diff => "diff",
            View::Link => "link",
            View::Contributions => "contributions",
            View::Process => "process",
            View::Verify => "verify",
        }
    }

    /// Title shown in the sidebar.
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Headers => "Headers",
            View::Records => "OMF records",
            View::Sections => "Sections",
            View::Map => "Layout map",
            View::Comdats => "COMDATs",
            View::Imports => "Imports / IAT",
            View::Exports => "Exports",
            View::Symbols => "Symbols",
            View::Relocations => "Relocations",
            View::PseudoRelocs => "Pseudo-relocations",
            View::Refs => "Data references",
            View::Strings => "Strings",
            View::Disassembly => "Disassembly",
            View::Hex => "Hex",
            View::Diagnostics => "Diagnostics",
            View::Members => "Members",
            View::Patch => "Patch",
            View::Diff => "Diff",
            View::Link => "Link",
            View::Contributions => "Contributions",
            View::Process => "Process",
            View::Verify => "Verify",
        }
    }

    /// Parse a view name (as printed by [`View::name`], or a few aliases).
    pub fn from_name(name: &str) -> Option<View> {
        let n = name.trim().to_ascii_lowercase();
        let alias = match n.as_str() {
            "layout" | "layout-map" => Some(View::Map),
            "pseudo" | "pseudo-relocations" | "pseudorelocs" => Some(View::PseudoRelocs),
            "relocs" => Some(View::Relocations),
            "comdat" => Some(View::Comdats),
            "iat" => Some(View::Imports),
            "omf" | "omf-records" => Some(View::Records),
            "disasm" | "code" => Some(View::Disassembly),
            "data-references" | "sites" => Some(View::Refs),
            _ => None,
        };
        alias.or_else(|| View::ALL.into_iter().find(|v| v.name() == n))
    }
}

/// The tables of a document; each belongs to one view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableId {
    /// Header fields.
    Headers,
    /// Sections.
    Sections,
    /// ELF program headers.
    Segments,
    /// PE data directories.
    DataDirs,
    /// Symbols.
    Symbols,
    /// Imports and delay imports.
    Imports,
    /// Exports.
    Exports,
    /// Base, object and dynamic relocations.
    Relocations,
    /// Pseudo-relocations.
    PseudoRelocs,
    /// Diagnostics.
    Diagnostics,
    /// Archive members.
    Members,
    /// OMF records.
    OmfRecords,
    /// OMF groups (GRPDEF).
    OmfGroups,
    /// Data-reference sites.
    Refs,
    /// Strings.
    Strings,
    /// Disassembly rows.
    Disasm,
    /// Steps of the patch plan.
    Patch,
    /// Changes of the diff.
    Diff,
    /// Input sections of the simulated link.
    Link,
    /// The PDB's section contributions.
    Contributions,
    /// A process's modules.
    Modules,
    /// A process's memory ranges.
    MemoryRanges,
    /// The differing ranges of a module's memory, with their causes.
    Verify,
}

impl TableId {
    /// Every table.
    pub const ALL: [TableId; 23] = [
        TableId::Headers,
        TableId::Sections,
        TableId::Segments,
        TableId::DataDirs,
        TableId::Symbols,
        TableId::Imports,
        TableId::Exports,
        TableId::Relocations,
        TableId::PseudoRelocs,
        TableId::Diagnostics,
        TableId::Members,
        TableId::OmfRecords,
        TableId::OmfGroups,
        TableId::Refs,
        TableId::Strings,
        TableId::Disasm,
        TableId::Patch,
        TableId::Diff,
        TableId::Link,
        TableId::Contributions,
        TableId::Modules,
        TableId::MemoryRanges,
        TableId::Verify,
    ];

    /// The view that shows this table.
    pub fn view(self) -> View {
        match self {
            TableId::Headers => View::Headers,
            TableId::Sections | TableId::Segments | TableId::DataDirs | TableId::OmfGroups => View::Sections,
            TableId::Symbols => View::Symbols,
            TableId::Imports => View::Imports,
            TableId::Exports => View::Exports,
            TableId::Relocations => View::Relocations,
            TableId::PseudoRelocs => View::PseudoRelocs,
            TableId::Diagnostics => View::Diagnostics,
            TableId::Members => View::Members,
            TableId::OmfRecords => View::Records,
            TableId::Refs => View::Refs,
            TableId::Strings => View::Strings,
            TableId::Disasm => View::Disassembly,
            TableId::Patch => View::Patch,
            TableId::Diff => View::Diff,
            TableId::Link => View::Link,
            TableId::Contributions => View::Contributions,
            TableId::Modules | TableId::MemoryRanges => View::Process,
            TableId::Verify => View::Verify,
        }
    }

    /// File-name friendly name (used for exports).
    pub fn name(self) -> &'static str {
        match self {
            TableId::Headers => "headers",
            TableId::Sections => "sections",
            TableId::Segments => "segments",
            TableId::DataDirs => "data-directories",
            TableId::Symbols => "symbols",
            TableId::Imports => "imports",
            TableId::Exports => "exports",
            TableId::Relocations => "relocations",
            TableId::PseudoRelocs => "pseudo-relocations",
            TableId::Diagnostics => "diagnostics",
            TableId::Members => "members",
            TableId::OmfRecords => "omf-records",
            TableId::OmfGroups => "omf-groups",
            TableId::Refs => "data-references",
            TableId::Strings => "strings",
            TableId::Disasm => "disassembly",
            TableId::Patch => "patch-steps",
            TableId::Diff => "diff-changes",
            TableId::Link => "link-sections",
            TableId::Contributions => "contributions",
            TableId::Modules => "modules",
            TableId::MemoryRanges => "memory-ranges",
            TableId::Verify => "memory-vs-file",
        }
    }

    fn slot(self) -> usize {
        TableId::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The immutable part of a document, shared with worker threads: the analysed file and the
/// lookups only screens need.
#[derive(Debug)]
pub struct DocCore {
    /// The analysed file (bytes, model, index, scan).
    pub file: Arc<Analyzed>,
    /// Facets and indexes only the screens need.
    pub lookup: Lookup,
    /// A Process document's dump and modules.
    pub process: Option<Arc<crate::gui::process::ProcessData>>,
    /// An image opened from a Process document: its module's memory there.
    pub memory: Option<Arc<crate::gui::process::MemoryLink>>,
}

impl std::ops::Deref for DocCore {
    type Target = Analyzed;
    fn deref(&self) -> &Analyzed {
        &self.file
    }
}

impl DocCore {
    /// What the document is, in the words the sidebar and the status bar use: a Process
    /// document's source (`minidump`, `elf-core`, `process`), else the file's format.
    pub fn kind_name(&self) -> &'static str {
        match self.process.as_ref().and_then(|p| p.source.dump()) {
            Some(d) => d.format.name(),
            None => self.bin.format.name(),
        }
    }

    /// The app's lookups for an analysed file.
    pub fn new(file: Arc<Analyzed>) -> Self {
        let lookup = Lookup::new(&file.bin, &file.index);
        DocCore { file, lookup, process: None, memory: None }
    }

    /// Analyse a parsed file as a document needs it (see [`DocCore::analysis`] and
    /// [`DocCore::prepared`]), its DLLs at their preferred bases.
    pub fn analyse(path: PathBuf, name: String, data: Vec<u8>, bin: Binary) -> Self {
        let analysis = Self::analysis(Vec::new());
        Self::prepared(Analyzed::from_parts(path, name, crate::input::Input::Owned(data), bin, &analysis))
    }

    /// The scan a document gets: every site and the instruction index, on up to four threads,
    /// the imported DLLs at `bases` (the others at their preferred bases), and the image's own
    /// PDB (found as debuggers do, on the loader's thread) naming its addresses.
    pub fn analysis(bases: Vec<(String, u64)>) -> Analysis {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
        let pdb = crate::session::pdb::PdbChoice { auto: true, ..Default::default() };
        Analysis { scan: Scan::Listing, threads, bases, pdb, ..Analysis::default() }
    }

    /// A document of an analysed file, with its regions, operand names and site pages built now:
    /// this runs on a worker thread (the loader's, a re-scan's), not the UI's.
    pub fn prepared(file: Analyzed) -> Self {
        let _ = (file.regions(), file.names(), file.site_pages());
        DocCore::new(Arc::new(file))
    }
}

/// What the Patch, Diff and Link views computed last for a document: their tables read these
/// (also on worker threads, which get a clone).
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// The Patch view's current plan.
    pub plan: Option<Arc<crate::patch::PatchPlan>>,
    /// The Diff view's current diff.
    pub diff: Option<Arc<crate::gui::diff::DiffData>>,
    /// The Link view's current simulation.
    pub link: Option<Arc<crate::gui::link::LinkData>>,
    /// The Verify view's latest verification.
    pub verify: Option<Arc<crate::gui::verify::VerifyData>>,
}

/// The lists the Records view shows for the selected record, one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordTab {
    /// The record's decoded fields.
    Fields,
    /// The fixups of a FIXUPP record, or those patching a data record.
    Fixups,
    /// The THREAD subrecords of a FIXUPP record.
    Threads,
}

/// Hex view state.
#[derive(Debug, Default)]
pub struct HexState {
    /// Bytes highlighted as "the selection".
    pub selection: Option<Span>,
    /// One-shot request to scroll so this offset is visible.
    pub scroll_to: Cell<Option<u64>>,
    /// The hex view's search and its hits.
    pub search: super::views::hex_search::HexSearch,
}

/// Layout-map state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapState {
    /// Zoom factor; 1 shows the whole address space.
    pub zoom: f64,
    /// Address at the left edge, as a fraction of the whole range.
    pub start: f64,
}

impl Default for MapState {
    fn default() -> Self {
        MapState { zoom: 1.0, start: 0.0 }
    }
}

/// An open document with its view state.
#[derive(Debug)]
pub struct Document {
    /// Identity.
    pub id: DocId,
    /// Bytes, model and indexes.
    pub core: Arc<DocCore>,
    /// What the Patch, Diff and Link views computed last.
    pub results: Results,
    /// The view shown.
    pub view: View,
    /// Which table the Sections view shows.
    pub sections_table: TableId,
    tables: Vec<TableState>,
    /// Hex view state.
    pub hex: HexState,
    /// Layout-map state.
    pub map: MapState,
    /// Section index of the COMDAT selected in the COMDAT view.
    pub comdat_selected: Option<u32>,
    /// One-shot request to scroll the COMDAT tree to the selection.
    pub comdat_scroll: Cell<bool>,
    /// The list the Records view shows, when the user picked one (else it depends on the record).
    pub record_tab: Option<RecordTab>,
    /// The Patch view's inputs and results.
    pub patch: crate::gui::patch::PatchState,
    /// The Diff view's job and result.
    pub diff: crate::gui::diff::DiffState,
    /// The Link view's inputs, options and result.
    pub link: crate::gui::link::LinkState,
    /// The Verify view's job and result.
    pub verify: crate::gui::verify::VerifyState,
    /// The scan again with the document's DLL placement, when it changed (its result replaces
    /// `core`).
    pub rescan: Option<crate::session::Job<Result<DocCore, String>>>,
    /// "References to this", when asked for: the panel beside the view.
    pub refs_panel: Option<crate::gui::xrefs::RefsPanel>,
    /// The job finding the strings of `core` (the address of the core it works on, so a rescan's
    /// new core gets its own).
    pub strings_job: Option<(usize, crate::session::Job<()>)>,
}

impl Document {
    /// A document showing `view` first.
    pub fn new(id: DocId, core: Arc<DocCore>, view: View) -> Self {
        let sections_table = if core.bin.sections.is_empty() && !core.bin.segments.is_empty() {
            TableId::Segments
        } else {
            TableId::Sections
        };
        Document {
            id,
            core,
            results: Results::default(),
            view,
            sections_table,
            tables: TableId::ALL.iter().map(|_| TableState::default()).collect(),
            hex: HexState::default(),
            map: MapState::default(),
            comdat_selected: None,
            comdat_scroll: Cell::new(false),
            record_tab: None,
            patch: Default::default(),
            diff: Default::default(),
            link: Default::default(),
            verify: Default::default(),
            rescan: None,
            refs_panel: None,
            strings_job: None,
        }
    }

    /// The state of table `t`.
    pub fn table(&self, t: TableId) -> &TableState {
        // `tables` has one entry per TableId::ALL, so the slot always exists.
        &self.tables[t.slot()]
    }

    /// The state of table `t`, for changing it.
    pub fn table_mut(&mut self, t: TableId) -> &mut TableState {
        &mut self.tables[t.slot()]
    }

    /// The table the current view shows, if it shows one.
    pub fn current_table(&self) -> Option<TableId> {
        match self.view {
            View::Sections => Some(self.sections_table),
            v => TableId::ALL
                .into_iter()
                .find(|t| t.view() == v && !matches!(t, TableId::Segments | TableId::DataDirs | TableId::OmfGroups)),
        }
    }

    /// The model.
    pub fn bin(&self) -> &Binary {
        &self.core.bin
    }
}
