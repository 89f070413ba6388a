//! The app's side of live processes (issue 19): File → Open process… lists the running
//! processes, and the one picked opens as a Process document whose modules come from
//! `/proc/PID/maps`; a module opened from it verifies against the process's memory with the
//! counts the library's `verify --pid` path gives. The program is the core fixture's own
//! (`tests/fixtures/dumps/elf-core/main wait`, as tests/dumps.rs runs it), ended by a guard.

#![cfg(all(feature = "gui", target_os = "linux"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gui_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use gui_support::{active, harness};
use linkscope::gui::live::LiveAction;
use linkscope::gui::{Action, App, Settings, View};
use linkscope::patch::PatchOptions;
use linkscope::session::dump::find_module;
use linkscope::session::process::Process;
use linkscope::session::verify as sv;
use linkscope::session::{Analysis, Analyzed, Scan};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps").join(rel)
}

/// The fixture program, running until dropped (killed and reaped whatever the test does).
struct Running(Child);

impl Running {
    /// Start `main wait` (binding every symbol at once, as it was dumped) and wait until it
    /// says it is ready.
    fn start() -> Self {
        let mut child = Command::new(fixture("elf-core/main"))
            .arg("wait")
            .env("LD_BIND_NOW", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the fixture program starts");
        let mut ready = [0u8; 6];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
        Running(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether this test process may read `pid`'s memory (the kernel's ptrace check).
fn readable(pid: u32) -> bool {
    Process::open(pid).is_ok()
}

/// After a click that starts a job (a progress bar repaints until it ends): a few frames, the
/// job waited for, then a settled run.
fn after_job(h: &mut Harness<'_, App>) {
    h.run_steps(2);
    let app = h.state_mut();
    assert!(app.wait_for_loads(Duration::from_secs(60)), "loading timed out");
    gui_support::settle_jobs(app);
    h.run();
}

/// The base of the file named `name` in `pid`'s `/proc/PID/maps`: its mapping at offset 0.
fn base_in_maps(pid: u32, name: &str) -> u64 {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    maps.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let path = f.get(5)?;
            let (start, _) = f[0].split_once('-')?;
            (path.rsplit('/').next() == Some(name) && u64::from_str_radix(f[2], 16).ok()? == 0)
                .then(|| u64::from_str_radix(start, 16).unwrap())
        })
        .min()
        .unwrap_or_else(|| panic!("{name} is not mapped in process {pid}"))
}

#[test]
fn a_running_process_opens_from_the_menu_and_its_module_verifies_as_the_library_does() {
    let child = Running::start();
    let pid = child.pid();
    if !readable(pid) {
        eprintln!("skipped: process {pid}'s memory is unreadable here");
        return;
    }
    let mut h = harness(App::new(Vec::new(), Settings::default()));
    // File → Open process…: the picker lists the running processes, this one marked.
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Open process…").click();
    h.run();
    let picker = h.state().process_picker.clone().expect("the picker is shown");
    let own = picker.entries.iter().find(|r| r.own).expect("this test is listed");
    assert_eq!(own.pid, std::process::id());
    // Filtered to this test's executable, its row is marked as this app.
    let me = std::env::current_exe().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    h.get_by_label("Filter:").type_text(&me);
    h.run();
    h.get_by_label(&format!("process {} {} (this app)", own.pid, own.name));
    h.state_mut().apply(Action::Live(LiveAction::Filter(String::new())));
    h.run();
    let listed = picker.entries.iter().find(|r| r.pid == pid).expect("the child is listed");
    assert_eq!(listed.name, "main");
    assert_eq!(listed.exe.as_deref(), Some(std::fs::canonicalize(fixture("elf-core/main")).unwrap().as_path()));
    // The filter keeps the child (by its executable's path); its row selects it; Open opens it.
    h.get_by_label("Filter:").type_text("elf-core/main");
    h.run();
    let shown: Vec<u32> = h.state().process_picker.as_ref().unwrap().shown().iter().map(|r| r.pid).collect();
    assert!(shown.contains(&pid) && !shown.contains(&std::process::id()), "{shown:?}");
    h.get_by_label(&format!("process {pid} main")).click();
    h.run();
    h.get_by_label(&format!("Open process {pid}")).click();
    after_job(&mut h);
    assert!(h.state().process_picker.is_none(), "the picker closed");
    assert!(h.state().load_errors.is_empty(), "{:?}", h.state().load_errors);
    let doc = active(&h);
    assert_eq!(doc.view, View::Process);
    assert_eq!(doc.core.name, format!("main (pid {pid})"));
    let p = doc.core.process.clone().expect("a Process document");
    assert_eq!(p.source.live().map(|l| l.pid), Some(pid));
    assert!(doc.core.bin.diagnostics.is_empty(), "{:?}", doc.core.bin.diagnostics);
    // Named as what it is (the sidebar, the status bar), with its executable's machine.
    assert_eq!(doc.core.kind_name(), "process");
    assert_eq!(doc.core.bin.arch.to_string(), std::env::consts::ARCH);
    // Its modules, each at its base in /proc/PID/maps, with their files at hand.
    for name in ["main", "libdata.so"] {
        let row = p.modules.iter().find(|m| m.module.name == name).unwrap_or_else(|| panic!("{name} listed"));
        assert_eq!(row.module.base, base_in_maps(pid, name), "{name}");
        assert!(row.file.is_some() && row.complete, "{name}: {row:?}");
        // Shown in the modules table (and as its first mapping's start).
        assert!(h.query_all_by_label(&format!("{:#x}", row.module.base)).count() >= 1, "{name}");
    }
    // "Read again" reads the mappings again into the same document.
    let (id, first_read) = (doc.id, p.source.live().unwrap().read_at);
    h.get_by_label("Read again").click();
    after_job(&mut h);
    assert_eq!(h.state().docs.len(), 1, "replaced in place");
    let doc = active(&h);
    assert_eq!(doc.id, id);
    let p2 = doc.core.process.clone().unwrap();
    assert!(!std::ptr::eq(p2.source.live().unwrap(), p.source.live().unwrap()), "a new reading");
    assert!(p2.source.same(&p.source), "of the same process");
    assert!(p2.source.live().unwrap().read_at >= first_read);
    assert_eq!(p2.modules.len(), p.modules.len());
    // The module opens from its row and verifies against the process's memory.
    h.get_by(|n| n.role() == egui::accesskit::Role::Link && n.label().as_deref() == Some("main")).click();
    after_job(&mut h);
    let doc = active(&h);
    assert_eq!(doc.view, View::Verify);
    let data = match &doc.verify.result {
        Some(Ok(d)) => d.clone(),
        other => panic!("{other:?}"),
    };
    assert!(data.read_at.is_some(), "a live process's memory is a snapshot with its time");
    // What the library's `verify --pid` path gives for the same process and module.
    let src = Process::open(pid).unwrap();
    // The process's machine, from its executable's ELF header.
    assert_eq!(src.dump.arch.as_ref().map(ToString::to_string).as_deref(), Some(std::env::consts::ARCH));
    let image_path = fixture("elf-core/main");
    let bytes = std::fs::read(&image_path).unwrap();
    let (found, _) = find_module(&src.dump, None, "main", &bytes, &|b, s| src.memory(b, s).ok()).unwrap();
    let found = found.clone();
    let img = Analyzed::open(&image_path, &Analysis::scan(Scan::OnDemand, 2)).unwrap();
    let opts = PatchOptions { image_path: Some(image_path.display().to_string()), ..Default::default() };
    let c = sv::check_in(&img, &src, &found, Vec::new(), opts).unwrap();
    let e = sv::explain(&img, &c.plan, &c.modules, &c.memory);
    let v = &data.verification;
    assert!(v.checked > 30, "{} places", v.checked);
    assert_eq!(v.checked, c.verification.checked);
    assert_eq!(v.matched, c.verification.matched);
    assert_eq!(v.mismatches.len(), c.verification.mismatches.len());
    assert_eq!(v.mismatches.len(), 0, "{:?}", v.mismatches);
    assert_eq!(data.base, c.base);
    assert_eq!(data.base, base_in_maps(pid, "main"));
    assert_eq!(data.explanation.explained.len(), e.explained.len());
    assert_eq!(data.explanation.unexplained.len(), e.unexplained.len());
    assert_eq!(data.explanation.bytes_differing, e.bytes_differing);
    h.get_by_label(&format!("checked {} places, {} matched", v.checked, v.matched));
    // "Read again" reads the memory again: a new snapshot, no later than now.
    let first = data.read_at.unwrap();
    h.get_by_label("Read again").click();
    after_job(&mut h);
    let again = match &active(&h).verify.result {
        Some(Ok(d)) => d.clone(),
        other => panic!("{other:?}"),
    };
    assert!(!std::sync::Arc::ptr_eq(&again, &data), "a new verification");
    assert!(again.read_at.unwrap() >= first);
    assert_eq!(again.verification.checked, v.checked);
    drop(child);
}

#[test]
fn a_process_that_does_not_exist_says_so() {
    // No process has an id above the kernel's limit.
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max").map_or(4_194_304, |s| s.trim().parse().unwrap());
    let pid = max + 1;
    let mut h = harness(App::new(Vec::new(), Settings::default()));
    h.state_mut().apply(Action::Live(LiveAction::Open(pid)));
    after_job(&mut h);
    let app = h.state();
    assert!(app.docs.is_empty(), "no document for a process that does not exist");
    let (_, e) = app.load_errors.first().expect("a load error");
    assert!(e.contains(&format!("process {pid}: no such process")), "{e}");
    let status = app.status.as_ref().expect("a status line");
    assert!(status.error && status.text.contains("no such process"), "{status:?}");
    // Said on screen (the status line and the Welcome page).
    assert!(h.query_all_by_label_contains("no such process").count() >= 1);
    // The picker (from the Welcome page's entry) closes with Esc.
    h.get_by_label("Open a running process…").click();
    h.run();
    assert!(h.state().process_picker.is_some());
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.state().process_picker.is_none());
}

#[test]
fn a_process_whose_mappings_are_refused_opens_with_the_reason() {
    // Process 1 belongs to another user, or this sandbox withholds it; where it is readable
    // (root on a plain system) there is nothing refused to show.
    if std::fs::read_to_string("/proc/1/maps").is_ok() {
        eprintln!("skipped: /proc/1/maps is readable here");
        return;
    }
    let mut h = harness(App::new(Vec::new(), Settings::default()));
    h.state_mut().apply(Action::Live(LiveAction::Open(1)));
    after_job(&mut h);
    let doc = active(&h);
    assert_eq!(doc.view, View::Process);
    let d = doc.core.bin.diagnostics.first().expect("the refusal is a diagnostic");
    assert_eq!(d.severity, linkscope::model::Severity::Error);
    assert!(d.message.contains("process 1: reading /proc/1/maps was refused"), "{}", d.message);
    assert!(d.message.contains("To read it"), "says what to do: {}", d.message);
    let p = doc.core.process.clone().unwrap();
    assert!(p.modules.is_empty());
    let message = d.message.clone();
    h.get_by_label(&message);
}

/// The picker's filter takes the keyboard when the picker opens, even from a text field that
/// had it (the Link view's command line here): typing goes to the filter.
#[test]
fn the_pickers_filter_takes_the_keyboard_when_it_opens() {
    let obj = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/link/autoimport64/main.o");
    let mut h = harness(App::new(vec![obj], Settings::default()));
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(20)));
    h.state_mut().apply(Action::Navigate { doc: None, target: linkscope::gui::Target::View(View::Link) });
    after_job(&mut h);
    h.get_by_label("Command line:").focus();
    h.run();
    assert!(h.get_by_label("Command line:").is_focused());
    h.state_mut().apply(Action::Live(LiveAction::ShowPicker(true)));
    h.run();
    assert!(h.get_by_label("Filter:").is_focused());
    assert!(!h.get_by_label("Command line:").is_focused());
}
