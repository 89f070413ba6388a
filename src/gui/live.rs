//! Running processes in the app (Linux): File → Open process… lists them ([`Picker`], drawn by
//! [`super::live_picker`]), and the one picked opens as a Process document whose modules come
//! from `/proc/PID/maps` through [`crate::session::process::Process`] — the reader `verify --pid`
//! uses. Nothing is read from the process's memory until a module is verified: each verification
//! reads it then (a snapshot, its time shown), and "Read again" takes a new one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use crate::model::{Location, Severity};
use crate::session::process::{Process, ProcessError};
use crate::session::{Analysis, Analyzed, JobCx, Scan};

use super::action::Action;
use super::app::App;
use super::document::{DocCore, DocId, TableId};
use super::loader::LoadJob;
use super::process::{ModuleRow, ProcessData, Source};

/// What File → Open process… does, in its tooltip.
pub const MENU_TIP: &str = "List the running processes and open one: its modules from /proc/PID/maps, each verified against the process's memory (Linux)";

/// A running process as a Process document holds it: its mappings read at `read_at` (when the
/// kernel let us), and why its memory cannot be read, if it cannot.
#[derive(Debug)]
pub struct Live {
    /// Its id.
    pub pid: u32,
    /// Its name (`/proc/PID/comm`).
    pub comm: String,
    /// Its executable (`/proc/PID/exe`), when it can be read.
    pub exe: Option<PathBuf>,
    /// When its mappings were read.
    pub read_at: SystemTime,
    /// Its mappings and modules; None when reading them was refused.
    pub process: Option<Process>,
    /// Why its mappings or its memory cannot be read (the kernel's refusal, and what to do).
    pub refused: Option<String>,
}

impl Live {
    /// The title of its document: `name (pid N)`.
    pub fn title(&self) -> String {
        title(&self.comm, self.pid)
    }
}

/// A document's title for process `pid` named `comm`.
fn title(comm: &str, pid: u32) -> String {
    if comm.is_empty() {
        format!("process {pid}")
    } else {
        format!("{comm} (pid {pid})")
    }
}

/// The path a live Process document is known by: `/proc/PID`.
pub fn proc_path(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

/// `t` as a time of day, `HH:MM:SS UTC`.
pub fn clock(t: SystemTime) -> String {
    let s = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

/// One running process, as the picker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// Its id.
    pub pid: u32,
    /// Its name (`/proc/PID/comm`).
    pub name: String,
    /// Its executable (`/proc/PID/exe`); None for a kernel thread or another user's process.
    pub exe: Option<PathBuf>,
    /// Whether it is this app.
    pub own: bool,
}

impl Running {
    /// Whether `filter` (lower case) is part of its id, name or executable's path.
    pub fn matches(&self, filter: &str) -> bool {
        filter.is_empty()
            || self.pid.to_string().contains(filter)
            || self.name.to_lowercase().contains(filter)
            || self.exe.as_ref().is_some_and(|e| e.to_string_lossy().to_lowercase().contains(filter))
    }
}

/// The running processes (every numeric entry of `/proc`), sorted by name (case-insensitive),
/// then id. Err: `/proc` cannot be listed (not Linux).
pub fn list() -> Result<Vec<Running>, String> {
    let own = std::process::id();
    let dir = std::fs::read_dir("/proc")
        .map_err(|e| format!("/proc cannot be listed ({e}): running processes are read on Linux only"))?;
    let mut out: Vec<Running> = dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            // A process that ended while listing is left out.
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?.trim_end().to_string();
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            Some(Running { pid, name, exe, own: pid == own })
        })
        .collect();
    out.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.pid.cmp(&b.pid)));
    Ok(out)
}

/// The process picker's state (File → Open process…).
#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    /// The processes listed, sorted by name then id.
    pub entries: Vec<Running>,
    /// Why they could not be listed.
    pub error: Option<String>,
    /// The filter text (part of an id, a name or a path; case-insensitive).
    pub filter: String,
    /// Sort by id instead of by name.
    pub by_pid: bool,
    /// The selected process's id.
    pub selected: Option<u32>,
    /// When the list was read.
    pub listed_at: SystemTime,
}

impl Picker {
    /// The processes running now.
    pub fn new() -> Self {
        let (entries, error) = match list() {
            Ok(v) => (v, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        Picker { entries, error, filter: String::new(), by_pid: false, selected: None, listed_at: SystemTime::now() }
    }

    /// The entries the filter keeps, in the order shown.
    pub fn shown(&self) -> Vec<&Running> {
        let f = self.filter.trim().to_lowercase();
        let mut v: Vec<&Running> = self.entries.iter().filter(|r| r.matches(&f)).collect();
        if self.by_pid {
            v.sort_by_key(|r| r.pid);
        }
        v
    }

    /// The process Enter opens: the selected one if the filter keeps it, else the only one kept.
    pub fn enter_target(&self) -> Option<u32> {
        let shown = self.shown();
        match self.selected.filter(|s| shown.iter().any(|r| r.pid == *s)) {
            Some(s) => Some(s),
            None if shown.len() == 1 => Some(shown[0].pid),
            None => None,
        }
    }
}

impl Default for Picker {
    fn default() -> Self {
        Self::new()
    }
}

/// Something asked of the process picker or of a live Process document.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveAction {
    /// Show the picker (listing the processes running now), or close it.
    ShowPicker(bool),
    /// List the running processes again.
    Refresh,
    /// The picker's filter text.
    Filter(String),
    /// Sort by id (true) or by name.
    SortByPid(bool),
    /// Select a process in the picker.
    Select(u32),
    /// Open running process `pid` as a Process document (closing the picker).
    Open(u32),
    /// Read a live Process document's mappings again, in place.
    Reread(DocId),
}

/// Read process `pid` as a Process document (on the loader's thread): its modules from
/// `/proc/PID/maps`, each module's file where the process mapped it from. A process whose
/// mappings or memory the kernel refuses opens with the refusal in its diagnostics; one that
/// does not exist is an error.
pub fn load(pid: u32, cx: &JobCx) -> Result<DocCore, String> {
    cx.set_stage(1);
    let read_at = SystemTime::now();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|s| s.trim_end().to_string());
    let (process, refused) = match Process::read_maps(pid) {
        Ok(p) => {
            let refused = p.check().err().map(|e| e.to_string());
            (Some(p), refused)
        }
        Err(e @ ProcessError::Refused { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(e.to_string()),
    };
    cx.set_stage(2);
    let live = Live {
        pid,
        comm: comm.unwrap_or_default(),
        exe: std::fs::read_link(format!("/proc/{pid}/exe")).ok(),
        read_at,
        process,
        refused,
    };
    let (modules, ranges) = match &live.process {
        Some(p) => {
            let maps = p.mappings();
            let rows = p
                .dump
                .modules
                .iter()
                .map(|m| {
                    let held = mapped(maps, m.base, m.size);
                    ModuleRow {
                        file: crate::session::dump::module_file(m, None),
                        complete: held >= m.size,
                        held,
                        module: m.clone(),
                    }
                })
                .collect();
            (rows, maps.iter().map(|&(s, e)| (s, e - s)).collect())
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut bin = super::process::process_binary(live.process.as_ref().map(|p| &p.dump), 0);
    if let Some(why) = &live.refused {
        bin.diag(Severity::Error, Location::both(None, None), why.clone());
    }
    let name = live.title();
    let file = Analyzed::from_parts(
        proc_path(pid),
        name,
        crate::input::Input::Owned(Vec::new()),
        bin,
        &Analysis::scan(Scan::None, 1),
    );
    let mut core = DocCore::new(Arc::new(file));
    core.process = Some(Arc::new(ProcessData { source: Source::Live(Arc::new(live)), modules, ranges }));
    Ok(core)
}

/// Bytes of `[base, base + size)` that the mappings `maps` (sorted, `[start, end)`) cover.
fn mapped(maps: &[(u64, u64)], base: u64, size: u64) -> u64 {
    let end = base.saturating_add(size);
    maps.iter().map(|&(s, e)| e.min(end).saturating_sub(s.max(base))).sum()
}

impl App {
    /// Do what the picker or a live Process document asked.
    pub(crate) fn apply_live(&mut self, a: LiveAction) {
        match a {
            LiveAction::ShowPicker(true) | LiveAction::Refresh => {
                let keep = self.process_picker.take();
                let mut p = Picker::new();
                if let Some(old) = keep {
                    (p.filter, p.by_pid, p.selected) = (old.filter, old.by_pid, old.selected);
                }
                self.process_picker = Some(p);
            }
            LiveAction::ShowPicker(false) => self.process_picker = None,
            LiveAction::Filter(f) => {
                if let Some(p) = &mut self.process_picker {
                    p.filter = f;
                }
            }
            LiveAction::SortByPid(b) => {
                if let Some(p) = &mut self.process_picker {
                    p.by_pid = b;
                }
            }
            LiveAction::Select(pid) => {
                if let Some(p) = &mut self.process_picker {
                    p.selected = Some(pid);
                }
            }
            LiveAction::Open(pid) => {
                self.process_picker = None;
                self.open_process(pid);
            }
            LiveAction::Reread(id) => self.reread_process(id),
        }
    }

    /// Open running process `pid` as a Process document (off the UI thread), or show it when
    /// it is open already.
    pub fn open_process(&mut self, pid: u32) {
        let open = self
            .docs
            .iter()
            .find(|d| d.core.process.as_ref().and_then(|p| p.source.live()).is_some_and(|l| l.pid == pid));
        if let Some(d) = open {
            let id = d.id;
            self.apply(Action::ActivateDoc(id));
            return;
        }
        if self.loads.iter().any(|j| j.path == proc_path(pid)) {
            return;
        }
        let id = self.alloc_id();
        self.loads.push(LoadJob::start_process(id, pid, true, Some(self.waker())));
    }

    /// Read live Process document `id`'s mappings again; the new reading replaces it in place
    /// (modules opened from the old one keep theirs).
    fn reread_process(&mut self, id: DocId) {
        let Some(pid) = self.doc(id).and_then(|d| d.core.process.as_ref()?.source.live().map(|l| l.pid)) else {
            return;
        };
        if self.loads.iter().any(|j| j.id == id) {
            return;
        }
        self.loads.push(LoadJob::start_process(id, pid, false, Some(self.waker())));
    }
}

impl super::Document {
    /// Take a new reading of this Process document (Read again): its tables start over.
    pub(crate) fn replace_core(&mut self, core: DocCore) {
        self.core = Arc::new(core);
        for t in [TableId::Modules, TableId::MemoryRanges, TableId::Diagnostics] {
            self.reset_table(t, true);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn mapped_bytes_are_clipped_to_the_module() {
        let maps = [(0x1000, 0x3000), (0x4000, 0x5000)];
        assert_eq!(mapped(&maps, 0x2000, 0x3000), 0x1000 + 0x1000);
        assert_eq!(mapped(&maps, 0x6000, 0x1000), 0);
        assert_eq!(mapped(&maps, 0, u64::MAX), 0x3000);
    }

    #[test]
    fn the_clock_reads_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400 * 3 + 3600 * 13 + 60 * 5 + 9);
        assert_eq!(clock(t), "13:05:09 UTC");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_list_holds_this_process_marked_and_the_filter_keeps_it() {
        let mut p = Picker::new();
        assert!(p.error.is_none(), "{:?}", p.error);
        let me = p.entries.iter().find(|r| r.own).expect("this process is listed");
        assert_eq!(me.pid, std::process::id());
        assert_eq!(p.entries.iter().filter(|r| r.own).count(), 1);
        let sorted = p.entries.windows(2).all(|w| w[0].name.to_lowercase() <= w[1].name.to_lowercase());
        assert!(sorted, "sorted by name");
        p.filter = std::process::id().to_string();
        assert!(p.shown().iter().any(|r| r.own));
        p.selected = Some(std::process::id());
        assert_eq!(p.enter_target(), Some(std::process::id()));
        p.by_pid = true;
        p.filter.clear();
        assert!(p.shown().windows(2).all(|w| w[0].pid < w[1].pid));
    }
}
