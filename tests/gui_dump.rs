//! The app's side of process memory (issue 19): a minidump or an ELF core opens as a Process
//! document (modules and memory ranges); a module opens as an image linked to its memory, whose
//! Verify view checks and explains it — with the counts `verify --explain --json` gives, computed
//! here through the library — and whose layout map gains the "memory vs file" lane.

#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gui_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::{active, harness, loaded_paths};
use linkscope::gui::views::{self, map};
use linkscope::gui::{Action, App, TableId, View};
use linkscope::patch::PatchOptions;
use linkscope::session::dump::{find_module, OpenedDump};
use linkscope::session::verify as sv;
use linkscope::session::{Analysis, Analyzed, Scan};
use serde_json::Value;

const OPTS: views::ModelOpts = views::ModelOpts { demangle: false };

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps").join(rel)
}

/// The dumps and the modules of each that have their files beside them.
const CASES: [(&str, &str, &[&str]); 3] = [
    ("elf-core", "core.gz", &["main", "libdata.so"]),
    ("md-x64-gnu", "self.dmp.gz", &["autoimport.exe", "data.dll"]),
    ("md-x64-collide", "self.dmp.gz", &["collide.exe", "data2.dll"]),
];

/// `linkscope verify IMAGE --dump DUMP --explain --json`, computed as the CLI computes it (the
/// module found by the image's file name, every base from the dump), as its JSON document.
fn cli_explain_json(image: &Path, dump: &Path) -> Value {
    let d = OpenedDump::open(dump).unwrap();
    let bytes = std::fs::read(image).unwrap();
    let name = image.file_name().unwrap().to_string_lossy().into_owned();
    let (found, _) = find_module(&d.dump, None, &name, &bytes, &|b, s| d.memory(b, s).ok()).unwrap();
    let img = Analyzed::open(image, &Analysis::scan(Scan::OnDemand, 2)).unwrap();
    let opts = PatchOptions { image_path: Some(image.display().to_string()), ..Default::default() };
    let c = sv::check_in(&img, &d, found, Vec::new(), opts).unwrap();
    let e = sv::explain(&img, &c.plan, &c.modules, &c.memory);
    let mut out = Vec::new();
    linkscope::report::explain::write_explain_json(&mut out, &c.plan, &c.verification, &e).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// Open module `name` of the active Process document and wait until it is loaded and verified.
fn open_module(app: &mut App, name: &str) {
    let row = app
        .active_doc()
        .and_then(|d| d.core.process.as_ref())
        .and_then(|p| p.modules.iter().position(|m| m.module.name == name))
        .unwrap_or_else(|| panic!("{name} is not a module of the process"));
    app.apply(Action::OpenModule(row));
    assert!(app.wait_for_loads(Duration::from_secs(60)), "loading {name} timed out");
    assert!(app.load_errors.is_empty(), "load errors: {:?}", app.load_errors);
    gui_support::settle_jobs(app);
}

#[test]
fn a_dump_opens_as_a_process_document_with_its_modules_and_ranges() {
    for (case, dump, modules) in CASES {
        let path = fixture(&format!("{case}/{dump}"));
        let app = loaded_paths(std::slice::from_ref(&path));
        let doc = app.active_doc().unwrap();
        assert_eq!(doc.view, View::Process, "{case}");
        let p = doc.core.process.as_ref().expect("a Process document");
        // The same modules and ranges `inspect DUMP` lists.
        let d = OpenedDump::open(&path).unwrap();
        assert_eq!(p.modules.len(), d.dump.modules.len(), "{case}");
        for m in modules {
            let row = p.modules.iter().find(|r| r.module.name == *m).unwrap_or_else(|| panic!("{case}: {m}"));
            assert!(row.file.is_some(), "{case}: {m}'s file is beside the dump");
            assert!(row.complete, "{case}: {m} is held whole");
        }
        let model = views::model(&doc.core, &doc.results, TableId::MemoryRanges, OPTS);
        assert_eq!(model.len(), d.dump.memory.len(), "{case}");
        let model = views::model(&doc.core, &doc.results, TableId::Modules, OPTS);
        assert_eq!(model.len(), d.dump.modules.len(), "{case}");
        // A process is not an image: no Overview, Hex or Verify of it.
        for v in [View::Overview, View::Hex, View::Verify, View::Map] {
            assert!(!views::applies(&doc.core, v), "{case}: {v:?}");
        }
    }
}

#[test]
fn each_module_verifies_as_the_cli_does() {
    for (case, dump, modules) in CASES {
        let path = fixture(&format!("{case}/{dump}"));
        let mut app = loaded_paths(std::slice::from_ref(&path));
        for m in modules {
            app.active = app.docs.iter().find(|d| d.core.process.is_some()).map(|d| d.id);
            open_module(&mut app, m);
            let doc = app.active_doc().unwrap();
            assert_eq!(doc.view, View::Verify, "{case}/{m}");
            let link = doc.core.memory.as_ref().expect("linked to its memory");
            let data = match &doc.verify.result {
                Some(Ok(d)) => d.clone(),
                other => panic!("{case}/{m}: {other:?}"),
            };
            let cli = cli_explain_json(&fixture(&format!("{case}/{m}")), &path);
            let v = &data.verification;
            assert!(v.checked > 30, "{case}/{m}: {} places", v.checked);
            assert_eq!(v.checked, cli["checked"].as_u64().unwrap(), "{case}/{m}");
            assert_eq!(v.matched, cli["matched"].as_u64().unwrap(), "{case}/{m}");
            assert_eq!(v.mismatches.len(), cli["mismatches"].as_array().unwrap().len(), "{case}/{m}");
            let e = &data.explanation;
            assert_eq!(e.explained.len(), cli["explained"].as_array().unwrap().len(), "{case}/{m}");
            assert_eq!(e.unexplained.len(), cli["unexplained"].as_array().unwrap().len(), "{case}/{m}");
            assert_eq!(e.bytes_differing, cli["explain"]["bytes_differing"].as_u64().unwrap(), "{case}/{m}");
            let by_cause = cli["explain"]["by_cause"].as_object().unwrap();
            assert_eq!(e.by_cause.len(), by_cause.len(), "{case}/{m}");
            for (cause, n) in &e.by_cause {
                let want = &by_cause[cause.name()];
                assert_eq!(n.ranges, want["ranges"].as_u64().unwrap(), "{case}/{m} {}", cause.name());
                assert_eq!(n.bytes, want["bytes"].as_u64().unwrap(), "{case}/{m} {}", cause.name());
            }
            // The base is the dump's.
            assert_eq!(data.base, link.module.base, "{case}/{m}");
            // The table lists every range; the layout map draws them in the "memory vs file" lane.
            let model = views::model(&doc.core, &doc.results, TableId::Verify, OPTS);
            assert_eq!(model.len(), e.explained.len() + e.unexplained.len(), "{case}/{m}");
            let (lanes, _) = map::lanes(&doc.core);
            let lane =
                lanes.iter().find(|l| l.name == "Memory vs file").unwrap_or_else(|| panic!("{case}/{m}: no lane"));
            assert_eq!(lane.items.len(), model.len(), "{case}/{m}");
        }
    }
}

#[test]
fn the_moved_dll_is_explained_in_the_verify_view_and_its_rows_lead_to_its_bytes() {
    let path = fixture("md-x64-collide/self.dmp.gz");
    let mut h = harness(loaded_paths(std::slice::from_ref(&path)));
    // The module's name in the Process view's table opens it.
    h.get_by(|n| n.role() == egui::accesskit::Role::Link && n.label().as_deref() == Some("data2.dll")).click();
    // A few frames take the click; the verification's progress bar repaints until its job ends.
    h.run_steps(2);
    let app = h.state_mut();
    assert!(app.wait_for_loads(Duration::from_secs(60)));
    gui_support::settle_jobs(app);
    h.run();
    let doc = active(&h);
    assert_eq!(doc.core.name, "data2.dll");
    let data = doc.verify.result.as_ref().unwrap().as_ref().unwrap().clone();
    let cli = cli_explain_json(&fixture("md-x64-collide/data2.dll"), &path);
    // Moved by wine: relocations and IAT slots explain every differing byte, and the view says so.
    assert!(data.explanation.count(linkscope::patch::explain::Cause::BaseReloc).places > 0);
    assert_eq!(data.explanation.unexplained.len(), 0);
    let text = format!("checked {} places, {} matched", cli["checked"], cli["matched"]);
    h.get_by_label(&text);
    h.get_by_label("0 mismatches");
    // Facet by cause: only the IAT slots.
    let n = data.explanation.count(linkscope::patch::explain::Cause::Iat);
    let iat = n.ranges as usize;
    let label = format!("iat {} ({} B)", n.ranges, n.bytes);
    h.get_by_label(&label).click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.table(TableId::Verify).shown(data.len()), iat);
    // A row's RVA leads to its bytes in the Hex view.
    let first = data.ranges().find(|r| r.cause == linkscope::patch::explain::Cause::Iat).unwrap();
    h.get_by_label(&format!("{:#x}", first.rva)).click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Hex);
    let span = doc.core.index.rva_span(first.rva, first.len, &doc.core.bin).unwrap();
    assert_eq!(doc.hex.selection.map(|s| s.offset), Some(span.offset));
}

#[test]
fn an_unexplained_byte_is_shown_in_red_with_its_instructions() {
    // A copy of the dump with a byte of data.dll's code changed: the Verify view lists it as
    // unexplained and links it to its instruction.
    let path = fixture("md-x64-collide/self.dmp.gz");
    let dir = std::env::temp_dir().join(format!("linkscope-gui-dump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["collide.exe", "data.dll", "data2.dll"] {
        std::fs::copy(fixture(&format!("md-x64-collide/{f}")), dir.join(f)).unwrap();
    }
    let d = OpenedDump::open(&path).unwrap();
    let mut raw = d.data().to_vec();
    let m = d.dump.module("data.dll").unwrap().clone();
    let bin = linkscope::load(&std::fs::read(dir.join("data.dll")).unwrap()).unwrap();
    let text = bin.sections.iter().find(|s| s.name == ".text").unwrap();
    let va = m.base + text.rva + 4;
    let r = d.dump.memory.iter().find(|r| va >= r.start && va < r.start + r.size).unwrap();
    let at = usize::try_from(r.offset + (va - r.start)).unwrap();
    raw[at] ^= 0xff;
    let seeded = dir.join("seeded.dmp");
    std::fs::write(&seeded, &raw).unwrap();
    let mut app = loaded_paths(std::slice::from_ref(&seeded));
    open_module(&mut app, "data.dll");
    let doc = app.active_doc().unwrap();
    let data = doc.verify.result.as_ref().unwrap().as_ref().unwrap().clone();
    let cli = cli_explain_json(&dir.join("data.dll"), &seeded);
    assert_eq!(data.explanation.unexplained.len(), cli["unexplained"].as_array().unwrap().len());
    let u = &data.explanation.unexplained[0];
    assert!(u.rva <= text.rva + 4 && text.rva + 4 < u.rva + u.len, "{u:?}");
    assert!(data.unexplained_in(text.rva + 4, 1));
    assert!(data.explanation.unexplained_protected > 0);
    // Its row's Code cell leads to the Disassembly.
    let model = views::model(&doc.core, &doc.results, TableId::Verify, OPTS);
    let row = (0..model.len()).find(|&r| model.text(r, 3) == "unexplained").unwrap();
    let to = model.activate(row).unwrap();
    assert!(matches!(to, Action::Navigate { target: linkscope::gui::Target::Row(TableId::Disasm, _), .. }), "{to:?}");
    drop(model);
    // The lane draws it in the unexplained colour.
    let (lanes, _) = map::lanes(&doc.core);
    let lane = lanes.iter().find(|l| l.name == "Memory vs file").unwrap();
    assert!(lane.items.iter().any(|i| i.kind == linkscope::gui::theme::RefKind::Unexplained));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_dump_opens_and_says_so_and_its_modules_are_not_verified() {
    // The collide minidump cut in half: its ranges past the end are cut, with diagnostics.
    let path = fixture("md-x64-collide/self.dmp.gz");
    let d = OpenedDump::open(&path).unwrap();
    let half = &d.data()[..d.data().len() / 2];
    let dir = std::env::temp_dir().join(format!("linkscope-gui-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.dmp");
    std::fs::write(&cut, half).unwrap();
    let mut app = App::new(vec![cut.clone()], linkscope::gui::Settings::default());
    assert!(app.wait_for_loads(Duration::from_secs(60)));
    match app.active_doc() {
        Some(doc) => {
            // Read as far as it goes: listed, with its diagnostics, and not verified.
            assert_eq!(doc.view, View::Process);
            assert!(!doc.core.bin.diagnostics.is_empty());
            app.apply(Action::OpenModule(0));
            assert!(app.loads.is_empty(), "a damaged dump's module is not opened");
            assert!(app.status.as_ref().is_some_and(|s| s.error && s.text.contains("damaged")), "{:?}", app.status);
        }
        // Or refused whole, with the reader's message.
        None => assert!(!app.load_errors.is_empty()),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_with_offers_no_process_document() {
    // The minidump (a Process document) and a module's file: File → Compare with lists files only.
    let dump = fixture("md-x64-collide/self.dmp.gz");
    let dll = fixture("md-x64-collide/data2.dll");
    let mut h = harness(loaded_paths(&[dump, dll.clone()]));
    let dll_doc = h.state().docs.iter().find(|d| d.core.name == "data2.dll").unwrap().id;
    let process = h.state().docs.iter().find(|d| d.core.process.is_some()).unwrap().id;
    let process_name = h.state().doc(process).unwrap().core.name.clone();
    h.state_mut().apply(Action::ActivateDoc(dll_doc));
    h.run();
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Compare with").click();
    h.run();
    assert!(h.query_by_label("A file…").is_some(), "the submenu is open");
    // Its tab only; no entry in the menu.
    assert_eq!(h.query_all_by_label(&process_name).count(), 1, "the Process document is not offered");
    // From the Process document, nothing is offered, not even a file.
    h.key_press(egui::Key::Escape);
    h.state_mut().apply(Action::ActivateDoc(process));
    h.run();
    let before = h.query_all_by_label("data2.dll").count();
    // The menu's File (the first; the modules table has a File column too); a click may first
    // close the menu still open.
    for _ in 0..2 {
        if h.query_by_label("Compare with").is_none() {
            h.query_all_by_label("File").next().unwrap().click();
            h.run();
        }
    }
    h.get_by_label("Compare with").click();
    h.run();
    assert!(h.query_by_label("A file…").is_some(), "the submenu is open");
    assert_eq!(h.query_all_by_label("data2.dll").count(), before, "no entry for the module's file");
    assert!(h.get_by_label("A file…").accesskit_node().is_disabled());
    // Asked anyway, the diff says why and starts nothing.
    let app = h.state_mut();
    app.apply(Action::Diff(linkscope::gui::action::DiffAction::With(dll_doc)));
    let doc = app.active_doc().unwrap();
    assert!(doc.diff.job.is_none() && doc.view == View::Process);
    assert!(app.status.as_ref().is_some_and(|s| s.error && s.text.contains("is a process")), "{:?}", app.status);
}
