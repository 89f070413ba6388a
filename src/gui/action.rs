//! What the user asked for. Views draw and return [`Action`]s; [`super::App::apply`] is the one
//! place that changes state, and tests call it directly.

use std::path::PathBuf;

use crate::model::Span;

use super::document::{DocId, RecordTab, TableId, View};

/// Where a navigation goes, inside one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Show a view.
    View(View),
    /// Show a table's view with `row` (model order) selected and scrolled into view.
    Row(TableId, usize),
    /// Show the hex view with these bytes selected.
    Bytes(Span),
    /// Show the bytes at an RVA (`len` bytes), or say why there are none.
    Rva(u64, u64),
    /// Show a section (format index) in the sections table.
    Section(u32),
    /// Show a COMDAT (by its section index) in the COMDAT tree.
    Comdat(u32),
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// A JSON array of objects keyed by column name.
    Json,
}

impl ExportFormat {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// Everything the GUI can ask the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Read these files (off the UI thread) and open each in a tab.
    OpenFiles(Vec<PathBuf>),
    /// Pick files to open: the system file dialog (rfd), or the built-in browser where that
    /// cannot appear or the user prefers it.
    OpenDialog,
    /// Show (or close) the built-in file browser to open a file (File → Open path…); it works
    /// without a file-dialog portal.
    ShowOpenPath(bool),
    /// Pick a file to diff the active document against (File → Compare with → A file…).
    CompareDialog,
    /// Something done in the built-in file browser.
    Browser(BrowserAction),
    /// Always use the built-in file browser instead of the system dialog.
    SetBuiltinBrowser(bool),
    /// Dark, light, or follow the system.
    SetTheme(super::persist::ThemeChoice),
    /// Activate the next tab (true) or the previous one, wrapping around (Ctrl+Tab, Ctrl+PgDn;
    /// Ctrl+Shift+Tab, Ctrl+PgUp).
    CycleDoc(bool),
    /// Cancel a load in progress.
    CancelLoad(DocId),
    /// Close a tab.
    CloseDoc(DocId),
    /// Switch to a tab (recorded in history).
    ActivateDoc(DocId),
    /// Go somewhere in a document (the active one when `doc` is `None`); recorded in history.
    Navigate {
        /// The document; `None` for the active one.
        doc: Option<DocId>,
        /// Where in it.
        target: Target,
    },
    /// Go back in history.
    Back,
    /// Go forward in history.
    Forward,
    /// Show or hide the Go-to prompt.
    ShowGoto(bool),
    /// Go to an address typed as `0x…` (VA), `rva:…` or `file:…`.
    GoTo(String),
    /// Something done to a table of the active document.
    Table(TableId, TableAction),
    /// Move keyboard focus to the current table's filter.
    FocusFilter,
    /// Put text on the clipboard.
    Copy(String),
    /// Show the export prompt for a table.
    ShowExport(Option<(TableId, ExportFormat)>),
    /// Follow an import of the active document to the export in the open DLL it names.
    FollowImport(usize),
    /// Show the data references that reach this in a panel beside the view.
    ShowRefs(crate::gui::xrefs::RefsTo),
    /// Close that panel.
    CloseRefs,
    /// Find the active document's strings on a worker thread (the Strings view asks while they
    /// are not found; asking again while the job runs does nothing).
    FindStrings,
    /// List the data references that reach import row `usize` of the active document (the Data
    /// references view, its Import facet set to the import).
    RefsToImport(usize),
    /// From an export of the active document, go to an open file that imports it.
    FollowExport(usize),
    /// Find the definition of a symbol name in another open file (ELF libraries, objects).
    FollowSymbol(String),
    /// Select bytes in the hex view without changing view (not recorded in history).
    HexSelect(Option<Span>),
    /// Select bytes and scroll the hex view (or the hex pane) to them, without changing view
    /// (not recorded in history): a field or fixup picked from a list.
    HexShow(Span),
    /// The hex view's search: find, step through the hits, show one.
    HexSearch(super::views::hex_search::SearchAction),
    /// Choose the list the Records view shows for the selected record.
    SetRecordTab(RecordTab),
    /// Choose the table the Sections view shows.
    SetSectionsTable(TableId),
    /// Set the layout-map zoom and left edge.
    SetMap(f64, f64),
    /// Show or hide the hex pane under tables.
    SetHexPane(bool),
    /// Show demangled names where there are some.
    SetDemangle(bool),
    /// Open an archive member in its own tab.
    OpenMember(usize),
    /// Forget the recent-files list.
    ClearRecent,
    /// Clear the status line.
    DismissStatus,
    /// The Patch view.
    Patch(PatchAction),
    /// The Link view.
    Link(LinkAction),
    /// The Diff view.
    Diff(DiffAction),
    /// Open module N of the active Process document as an image linked to its memory.
    OpenModule(usize),
    /// Verify the active document against its memory in the process it was opened from.
    VerifyRun,
    /// Something asked of the guided tour (start, next, back, skip, show me).
    Tour(super::tour::TourAction),
    /// Show (or leave) the Welcome page.
    ShowWelcome(bool),
    /// Something asked of the process picker (File → Open process…) or a live Process document.
    Live(super::live::LiveAction),
}

/// What is done in the built-in file browser.
#[derive(Debug, Clone, PartialEq)]
pub enum BrowserAction {
    /// Go to the parent folder.
    Up,
    /// The folder path as typed (listed when Enter picks it).
    DirText(String),
    /// Filter the entries by name.
    Filter(String),
    /// The file name to save as.
    Name(String),
    /// Select an entry (index into the folder's entries).
    Select(Option<usize>),
    /// A path picked: a folder is listed, a file completes the browser's purpose.
    Pick(PathBuf),
    /// Close the browser without picking.
    Close,
}

/// What is done to one table of the active document.
#[derive(Debug, Clone, PartialEq)]
pub enum TableAction {
    /// Select a row (model order), highlighting its bytes.
    Select(Option<usize>),
    /// Set the text filter.
    Filter(String),
    /// Restrict the text filter to one column (`None`: all columns).
    FilterColumn(Option<usize>),
    /// Set a facet (`None`: any value).
    Facet(usize, Option<String>),
    /// Sort by a column (again: reverse; a third time: unsorted).
    SortBy(usize),
    /// Copy a row (tab-separated) to the clipboard.
    CopyRow(usize),
    /// Copy the address of a row's bytes (VA in images, file offset otherwise).
    CopyAddress(usize),
    /// Ask the system file dialog for an export path.
    ExportDialog(ExportFormat),
    /// Write the rows (filtered and sorted as shown) to a file, atomically.
    Export(ExportFormat, PathBuf),
}

/// What the Patch view asks for (of the active document).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchAction {
    /// Compute the plan.
    Run,
    /// Where the DLLs go.
    Preset(crate::session::place::Preset),
    /// The scheme (None: the image's default).
    Scheme(Option<crate::patch::SchemeKind>),
    /// Switch a step off or on.
    Toggle(usize),
    /// Pick a memory dump to verify.
    DumpDialog,
    /// Verify against this memory dump.
    Dump(PathBuf),
    /// The base typed for a module (`""` = the image); empty text clears it.
    Base(String, String),
}

/// What the Link view asks for (of the active document).
#[derive(Debug, Clone, PartialEq)]
pub enum LinkAction {
    /// Run the simulation again.
    Run,
    /// The linker to simulate.
    Flavor(crate::link::Flavor),
    /// Garbage collection: None = the linker's default.
    Gc(Option<bool>),
    /// Identical COMDAT folding: None = the linker's default.
    Icf(Option<bool>),
    /// The entry symbol (empty: guessed).
    Entry(String),
    /// More linker options, as typed.
    Extra(String),
    /// A pasted command line (empty: the inputs and options).
    Paste(String),
    /// Move an input earlier (true) or later.
    Move(String, bool),
    /// Switch an input on or off.
    Include(String, bool),
    /// The image to compare the prediction with (None: nothing).
    CompareWith(Option<DocId>),
    /// A map file to compare the prediction with, alone.
    CompareMap(std::path::PathBuf),
    /// Open the image the link would write, in the Patch view.
    LoadImage,
}

/// What the Diff view asks for (of the active document).
#[derive(Debug, Clone, PartialEq)]
pub enum DiffAction {
    /// Diff the active document against this one.
    With(DocId),
    /// Diff the simulated load: the file as mapped against after the loader and the scheme.
    PatchApply,
    /// Diff the prediction against the dump loaded in the Patch view.
    PatchDump,
    /// Select the next (true) or previous change.
    Step(bool),
}
