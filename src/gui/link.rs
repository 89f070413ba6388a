//! The Link view's state: the linker, its options and the order of the inputs (the open COFF
//! objects and archives, and the objects and archives beside them on disk), or a pasted command
//! line (the program name, when it starts with one, picks the linker); the simulation and, against
//! an open image (with its map from beside it) or a map alone, the comparison, computed on a
//! worker thread.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::action::LinkAction;
use super::app::App;
use super::document::{DocCore, DocId};
use crate::link::compare::Comparison;
use crate::link::report::SectionRow;
use crate::link::{self, Flavor, Report};
use crate::model::{Arch, Binding, Format};
use crate::session::{Job, Waker};

use super::loader::LoadJob;

/// A finished simulation.
#[derive(Debug)]
pub struct LinkData {
    /// What the linker would do.
    pub report: Report,
    /// The command line simulated, as one string.
    pub command: String,
    /// Every input section.
    pub rows: Vec<SectionRow>,
    /// The comparison with the real image or map, when one was chosen: (its name, result).
    pub compare: Option<(String, Result<Comparison, String>)>,
    /// What a pasted line's program does that is not modelled (a compiler driver's options).
    pub notes: Vec<String>,
    /// The image the link would write (when it runs to the end; or why none can be), and its
    /// file name.
    pub image: Option<(String, Result<Arc<link::image::Image>, String>)>,
    /// The directory the inputs are read from (where the written image would go).
    pub dir: Option<PathBuf>,
}

/// The result of a link job.
pub type LinkResult = Result<Arc<LinkData>, String>;

/// The Link view's state of one document.
#[derive(Debug, Default)]
pub struct LinkState {
    /// The linker.
    pub flavor: Option<Flavor>,
    /// `/opt:ref` / `--gc-sections`: None = the linker's default.
    pub gc: Option<bool>,
    /// `/opt:icf` / `--icf=all`: None = the linker's default.
    pub icf: Option<bool>,
    /// The entry symbol (empty: picked from the inputs).
    pub entry: String,
    /// More options, as typed (`/merge:.CRT=.rdata`).
    pub extra: String,
    /// A pasted command line: used instead of everything above when set.
    pub pasted: Option<String>,
    /// Input names in the order chosen (open documents not listed come after, in tab order).
    pub order: Vec<String>,
    /// Inputs switched off.
    pub excluded: Vec<String>,
    /// Files beside the document switched on (those off by default: see [`LinkState::entries`]).
    pub added: Vec<String>,
    /// The objects and archives beside the document on disk that are not open (names), as last
    /// listed.
    pub beside: Vec<String>,
    /// The map files beside the document on disk, as last listed.
    pub maps: Vec<PathBuf>,
    /// The image to compare with (None: the first open image named like an input's directory).
    pub compare: Option<Option<DocId>>,
    /// A map file to compare with alone (wins over `compare`).
    pub compare_map: Option<PathBuf>,
    /// The job.
    pub job: Option<Job<LinkResult>>,
    /// The last result.
    pub result: Option<LinkResult>,
}

/// Whether a document can be a linker input.
pub fn is_input(core: &DocCore) -> bool {
    matches!(core.bin.format, Format::Coff | Format::CoffBigobj | Format::Archive)
}

impl LinkState {
    /// The pasted command line read (program name off), when one is pasted.
    pub fn pasted_command(&self) -> Option<link::command::Command> {
        self.pasted.as_ref().map(|p| link::command::read(&split_args(p)))
    }

    /// The linker: the one a pasted line's program names, else the one chosen, else lld-link.
    pub fn flavor(&self) -> Flavor {
        self.pasted_command().and_then(|c| c.flavor).or(self.flavor).unwrap_or(Flavor::LldLink)
    }

    /// The inputs in link order (names): a pasted line's, else the open objects and archives in
    /// the directory of the document `here` (all open ones when none is there) and the files
    /// beside them on disk.
    pub fn inputs(&self, open: &[Arc<DocCore>], here: &DocCore) -> Vec<String> {
        self.entries(open, here).into_iter().map(|e| e.name).collect()
    }

    /// The inputs in link order, each with whether it takes part and whether it is a file beside
    /// the document that is not open. A pasted line names its own inputs, all taking part. Files
    /// beside the document take part by default when it is the only open input there.
    pub fn entries(&self, open: &[Arc<DocCore>], here: &DocCore) -> Vec<InputEntry> {
        if let Some(cmd) = self.pasted_command() {
            let inputs = link::args::parse(self.flavor(), &cmd.args).map(|c| c.inputs).unwrap_or_default();
            return inputs.iter().map(|i| InputEntry { name: i.as_written(), on: true, beside: false }).collect();
        }
        let dir = here.path.parent();
        let here_open: Vec<&Arc<DocCore>> = open.iter().filter(|c| is_input(c) && c.path.parent() == dir).collect();
        // Files beside it on disk: only when the document is an input itself.
        let alone = here_open.len() <= 1 && is_input(here);
        let pool: Vec<&Arc<DocCore>> =
            if here_open.is_empty() { open.iter().filter(|c| is_input(c)).collect() } else { here_open };
        // Sets, not list searches: a folder can hold thousands of objects, and this runs each frame.
        let mut names: Vec<String> = pool.iter().map(|c| c.name.clone()).collect();
        let open_names: HashSet<&str> = pool.iter().map(|c| c.name.as_str()).collect();
        let beside: HashSet<&str> = if is_input(here) {
            self.beside.iter().map(String::as_str).filter(|n| !open_names.contains(n)).collect()
        } else {
            HashSet::new()
        };
        names.extend(self.beside.iter().filter(|n| beside.contains(n.as_str())).cloned());
        let known: HashSet<&str> = names.iter().map(String::as_str).collect();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out: Vec<&str> = Vec::new();
        for n in self.order.iter().map(String::as_str).chain(names.iter().map(String::as_str)) {
            if known.contains(n) && seen.insert(n) {
                out.push(n);
            }
        }
        let excluded: HashSet<&str> = self.excluded.iter().map(String::as_str).collect();
        let added: HashSet<&str> = self.added.iter().map(String::as_str).collect();
        out.into_iter()
            .map(|name| {
                let is_beside = beside.contains(name);
                let on = if excluded.contains(name) {
                    false
                } else if added.contains(name) {
                    true
                } else {
                    !is_beside || alone
                };
                InputEntry { name: name.to_string(), on, beside: is_beside }
            })
            .collect()
    }

    /// Switch input `name` on or off.
    pub fn include(&mut self, name: String, on: bool) {
        self.excluded.retain(|n| *n != name);
        self.added.retain(|n| *n != name);
        if on {
            self.added.push(name);
        } else {
            self.excluded.push(name);
        }
    }

    /// Move input `name` one place up or down.
    pub fn move_input(&mut self, open: &[Arc<DocCore>], here: &DocCore, name: &str, up: bool) {
        let mut list = self.inputs(open, here);
        if let Some(i) = list.iter().position(|n| n == name) {
            let j = if up { i.checked_sub(1) } else { (i + 1 < list.len()).then_some(i + 1) };
            if let Some(j) = j {
                list.swap(i, j);
            }
        }
        self.order = list;
    }

    /// The command line the options and inputs make; `implied` are options read off the image
    /// compared with (see [`implied_options`]).
    pub fn command_line(&self, open: &[Arc<DocCore>], here: &DocCore, implied: &[String]) -> Vec<String> {
        if let Some(cmd) = self.pasted_command() {
            return cmd.args;
        }
        let inputs: Vec<String> = self.entries(open, here).into_iter().filter(|e| e.on).map(|e| e.name).collect();
        let entry =
            if self.entry.trim().is_empty() { guess_entry(open, &inputs) } else { Some(self.entry.trim().to_string()) };
        let x86 = open.iter().any(|c| inputs.contains(&c.name) && c.bin.arch == Arch::X86);
        let opts = link::options::LinkOptions { flavor: self.flavor(), gc: self.gc, icf: self.icf, entry, x86 };
        link::options::command_line(&opts, implied, &split_args(&self.extra), &inputs)
    }
}

/// One input of the Link view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEntry {
    /// Its name (as a pasted line writes it).
    pub name: String,
    /// Whether it takes part in the link.
    pub on: bool,
    /// A file beside the document on disk that is not open (read from disk by the link job).
    pub beside: bool,
}

/// Options a real image shows it was linked with: lld-link's `/brepro` leaves a REPRO debug
/// entry (and changes the image: a debug directory in `.rdata`).
pub fn implied_options(flavor: Flavor, image: &DocCore) -> Vec<String> {
    let repro = image.bin.pe.as_ref().is_some_and(|p| p.debug.iter().any(|d| d.raw_type == 16));
    match flavor {
        Flavor::LldLink if repro => vec!["/brepro".into()],
        _ => Vec::new(),
    }
}

/// Split a pasted command line at white space (double quotes group).
pub fn split_args(s: &str) -> Vec<String> {
    crate::link::args::split_command_line(s)
}

/// The entry point an input defines, when none is typed: a CRT entry, `main`, `start`.
fn guess_entry(open: &[Arc<DocCore>], inputs: &[String]) -> Option<String> {
    let defined = |name: &str| {
        open.iter().filter(|c| inputs.contains(&c.name)).any(|c| {
            c.bin.symbols.iter().any(|s| s.section.is_some() && s.binding == Binding::External && s.name == name)
        })
    };
    link::options::guess_entry(defined)
}

/// What the Link view compares the prediction with.
#[derive(Debug, Clone)]
pub enum CompareWith {
    /// An open image (with the map beside it, when there is one).
    Image(Arc<DocCore>),
    /// A map file alone.
    Map(PathBuf),
}

/// Run the simulation of `args` on a worker: files are the open documents by name, else read
/// from `dir`; `with` (an image with a map beside it, or a map alone) is compared; `notes` (what
/// the pasted line's program does that is not modelled) are shown with the result.
#[allow(clippy::too_many_arguments)]
pub fn start(
    flavor: Flavor,
    args: Vec<String>,
    notes: Vec<String>,
    open: Vec<Arc<DocCore>>,
    dir: Option<PathBuf>,
    with: Option<CompareWith>,
    wake: Waker,
) -> Job<LinkResult> {
    Job::spawn("link", Some(wake), move |_| compute(flavor, &args, notes, &open, dir.as_deref(), with.as_ref()))
}

fn compute(
    flavor: Flavor,
    args: &[String],
    notes: Vec<String>,
    open: &[Arc<DocCore>],
    dir: Option<&std::path::Path>,
    with: Option<&CompareWith>,
) -> LinkResult {
    let read = |p: &str| {
        let base = crate::link::inputs::base_name(p);
        match open.iter().find(|c| c.name == base || c.path.to_string_lossy() == p) {
            Some(c) => Ok(c.data.to_vec()),
            None => std::fs::read(dir.map_or_else(|| PathBuf::from(p), |d| d.join(p))),
        }
    };
    let env = crate::session::link::environment(dir);
    let (report, image) =
        link::simulate_image(flavor, args, &env, &read, link::par::default_threads()).map_err(|e| e.to_string())?;
    let output = link::args::parse(flavor, args).map_or_else(|_| "a.exe".into(), |c| output_name(&c));
    let image = image.map(|i| (output, i.map(Arc::new).map_err(|e| e.to_string())));
    let compare = with.map(|w| match w {
        CompareWith::Image(img) => {
            let map = crate::session::link::map_beside(&img.path);
            let mut r = crate::link::compare::compare(&report, &img.data, map.as_ref()).map_err(|e| e.to_string());
            // No map: the image's PDB, when it has one, is the truth for every input section.
            if let (Ok(c), None, Some(pdb)) = (&mut r, &map, &img.pdb) {
                crate::link::compare::compare_contributions(&report, &pdb.contributions, c);
            }
            (img.name.clone(), r)
        }
        CompareWith::Map(path) => {
            let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
            let r = crate::session::link::read_map(path)
                .map(|m| crate::link::compare::compare_map_only(&report, &m))
                .map_err(|e| e.to_string());
            (name, r)
        }
    });
    let rows = report.section_rows();
    let dir = dir.map(|d| d.to_path_buf());
    Ok(Arc::new(LinkData { report, command: args.join(" "), rows, compare, notes, image, dir }))
}

/// The file name the link writes: `-o` (GNU ld, and lld's MinGW driver, whose default is
/// `a.exe` / `a.dll`), else lld-link's rule.
fn output_name(cfg: &link::args::Config) -> String {
    let default = if cfg.dll { "a.dll" } else { "a.exe" };
    let out = match cfg.flavor {
        Flavor::GnuLd | Flavor::LldMingw => {
            link::args::named_output(&cfg.outputs).map_or_else(|| default.to_string(), str::to_string)
        }
        Flavor::LldLink => link::debug::output_file(cfg),
    };
    crate::link::inputs::base_name(&out).to_string()
}

impl App {
    /// Apply a Link view action to the active document.
    pub(crate) fn apply_link(&mut self, action: LinkAction) {
        match action {
            LinkAction::Run => self.link_run(),
            LinkAction::Flavor(f) => self.link_change(|st| st.flavor = Some(f)),
            LinkAction::Gc(v) => self.link_change(|st| st.gc = v),
            LinkAction::Icf(v) => self.link_change(|st| st.icf = v),
            LinkAction::Entry(t) => self.link_change(|st| st.entry = t),
            LinkAction::Extra(t) => self.link_change(|st| st.extra = t),
            LinkAction::Paste(t) => self.link_change(|st| st.pasted = (!t.trim().is_empty()).then_some(t)),
            LinkAction::Move(name, up) => {
                let open: Vec<Arc<DocCore>> = self.docs.iter().map(|d| d.core.clone()).collect();
                let Some(here) = self.active_doc().map(|d| d.core.clone()) else { return };
                self.link_change(|st| st.move_input(&open, &here, &name, up));
            }
            LinkAction::Include(name, on) => self.link_change(|st| st.include(name, on)),
            LinkAction::CompareWith(id) => self.link_change(|st| {
                st.compare = Some(id);
                st.compare_map = None;
            }),
            LinkAction::CompareMap(path) => self.link_change(|st| st.compare_map = Some(path)),
            LinkAction::LoadImage => self.link_load_image(),
        }
    }

    /// Open the image the active document's link would write as a document of its own (named
    /// `<output> (simulated)`, placed in the inputs' directory so that the DLLs beside them are
    /// found) in the Patch view: objects → link → load → patch.
    fn link_load_image(&mut self) {
        let Some(doc) = self.active_doc() else { return };
        let Some(Ok(data)) = &doc.link.result else { return };
        let image = match &data.image {
            Some((out, Ok(image))) => (out, image),
            Some((_, Err(e))) => return self.set_status(e.clone(), true),
            None => return self.set_status("The link stops before it lays out an image: nothing to load", true),
        };
        let (out, image) = image;
        let dir = data.dir.clone().or_else(|| doc.core.path.parent().map(|p| p.to_path_buf())).unwrap_or_default();
        let (path, name, bytes) = (dir.join(out), format!("{out} (simulated)"), image.bytes.clone());
        let unknown: u64 = image.unknown.iter().map(|u| u.size).sum();
        let id = self.alloc_id();
        let mut job = LoadJob::start_bytes(id, path, name.clone(), bytes, true, Some(self.waker()));
        job.view = Some(crate::gui::View::Patch);
        self.loads.push(job);
        self.set_status(
            format!("{name}: the image the link writes; {unknown} bytes it cannot know are zero (the Link view's Image panel lists them)"),
            false,
        );
    }

    /// Change the active document's Link inputs and simulate again.
    fn link_change(&mut self, f: impl FnOnce(&mut crate::gui::link::LinkState)) {
        if let Some(doc) = self.active_mut() {
            f(&mut doc.link);
        }
        self.link_run();
    }

    /// Start the active document's link simulation (the open objects and archives and the files
    /// beside the active document are the inputs; files not open are read from disk).
    fn link_run(&mut self) {
        let open: Vec<Arc<DocCore>> = self.docs.iter().map(|d| d.core.clone()).collect();
        let Some(active) = self.active else { return };
        let target = self.doc(active).and_then(|d| link_compare_target(d, &self.docs));
        let image = target.and_then(|id| self.doc(id)).map(|d| d.core.clone());
        let waker = self.waker();
        let Some(doc) = self.active_mut() else { return };
        let dir = doc.core.path.parent().map(|p| p.to_path_buf());
        // What sits beside the document on disk, listed again at each run.
        let (files, maps) = dir.as_deref().map_or_else(Default::default, crate::session::link::files_beside);
        let name = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned());
        doc.link.beside = files.iter().filter_map(name).filter(|n| !open.iter().any(|c| c.name == *n)).collect();
        doc.link.maps = maps;
        let with = match &doc.link.compare_map {
            Some(m) => Some(CompareWith::Map(m.clone())),
            None => image.clone().map(CompareWith::Image),
        };
        let implied = match &with {
            Some(CompareWith::Image(i)) => crate::gui::link::implied_options(doc.link.flavor(), i),
            _ => Vec::new(),
        };
        let args = doc.link.command_line(&open, &doc.core, &implied);
        let notes = doc.link.pasted_command().map_or(Vec::new(), |c| c.notes);
        doc.link.job = Some(crate::gui::link::start(doc.link.flavor(), args, notes, open, dir, with, waker));
    }
}

/// The image the Link view compares with: the one chosen, else the first open image beside the
/// first input (same directory) that has a map beside it.
pub fn link_compare_target(doc: &crate::gui::Document, docs: &[crate::gui::Document]) -> Option<DocId> {
    if let Some(chosen) = doc.link.compare {
        return chosen;
    }
    let first = docs.iter().find(|d| crate::gui::link::is_input(&d.core))?;
    let dir = first.core.path.parent()?;
    docs.iter()
        .filter(|d| d.core.bin.format.is_pe() && d.core.path.parent() == Some(dir))
        .find(|d| crate::session::link::MAP_EXTENSIONS.iter().any(|e| d.core.path.with_extension(e).is_file()))
        .map(|d| d.id)
}
