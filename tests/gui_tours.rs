//! The guided tours, driven from the Welcome page to their last step by the user's actions:
//! clicks on the highlighted widget (a menu item after a menu, a file dropped for a dump), then
//! Next. At every step the widget exists and is on screen (at 1000×700), and the numbers the text
//! names are those of the open file, computed here from the documents' models and plans rather
//! than from the tour's own facts. Each tour's claim is checked on its sample too.

#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gui_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use linkscope::gui::document::{Document, TableId};
use linkscope::gui::tour::{self, Done, Widget, TOURS};
use linkscope::gui::{App, Settings};
use linkscope::model::RelocKind;
use linkscope::patch::{SchemeKind, Status};

const SIZE: egui::Vec2 = egui::vec2(1000.0, 700.0);

fn harness() -> Harness<'static, App> {
    let mut h = Harness::builder()
        .with_size(SIZE)
        .with_max_steps(16)
        .with_context_setup(linkscope::gui::theme::install)
        .build_ui_state(|ui, app: &mut App| app.ui_contents(ui), App::new(Vec::new(), Settings::default()));
    h.run_steps(3);
    h
}

/// Step frames until loads and jobs are done and the step's numbers are known.
fn settle(h: &mut Harness<'_, App>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        h.step();
        let app = h.state();
        let idle = app.loads.is_empty() && !app.busy();
        // A step's numbers may come from its own action (a plan the view computes): they are
        // waited for once it is done.
        if idle && app.tour_step().is_none_or(|s| s.complete || !s.done) {
            break;
        }
        assert!(Instant::now() < deadline, "the app never settled: {:?}", app.tour_step());
        std::thread::sleep(Duration::from_millis(5));
    }
    // A row scrolled to takes a few frames: asked, scrolled, drawn.
    h.run_steps(6);
}

fn click_at(h: &mut Harness<'_, App>, pos: egui::Pos2) {
    h.event(egui::Event::PointerMoved(pos));
    h.step();
    let button = |pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.event(button(true));
    h.step();
    h.event(button(false));
    h.step();
    // Move away, so no tooltip covers the next widget.
    h.event(egui::Event::PointerMoved(egui::pos2(2.0, SIZE.y - 2.0)));
    h.step();
}

/// The highlighted widget's rect: present, on screen, not under the tour's panel.
fn visible_target(h: &Harness<'_, App>, what: &str) -> egui::Rect {
    let rect = tour::target_rect(&h.ctx).unwrap_or_else(|| panic!("{what}: the widget is not on screen"));
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, SIZE);
    assert!(screen.contains_rect(rect), "{what}: {rect:?} is not inside the window");
    assert!(rect.width() >= 4.0 && rect.height() >= 4.0, "{what}: {rect:?} too small to see");
    let panel = h.ctx.memory(|m| m.area_rect(egui::Id::unique("tour-panel")));
    if let Some(p) = panel {
        assert!(!p.contains(rect.center()), "{what}: the tour panel {p:?} covers the widget {rect:?}");
    }
    rect
}

fn doc<'a>(h: &'a Harness<'_, App>, path: &str) -> &'a Document {
    h.state().tour_doc(path).unwrap_or_else(|| panic!("{path} open"))
}

fn plan(d: &Document) -> &linkscope::patch::PatchPlan {
    match &d.patch.result {
        Some(Ok(p)) => p,
        other => panic!("{}: no plan: {other:?}", d.core.name),
    }
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// What the text of step `at` of tour `tour` must say, from the open documents.
fn expected(h: &Harness<'_, App>, tour: usize, at: usize) -> Vec<String> {
    match (tour, at) {
        (0, 0) => {
            let b = &doc(h, "comdat.obj").core.bin;
            let leaders = b.comdats.iter().filter(|c| c.associated_section.is_none()).count();
            let assoc = b.comdats.len() - leaders;
            vec![format!("{leaders} COMDAT leaders"), format!("{assoc} associative")]
        }
        (0, 1) => {
            let b = &doc(h, "comdat.obj").core.bin;
            let most = b.comdats.iter().map(|c| c.associated_by.len()).max().unwrap();
            vec![format!("leads {most} associated sections")]
        }
        (0, 3) => {
            let d = doc(h, "link/a.obj");
            let rows = &d.link.result.as_ref().unwrap().as_ref().unwrap().rows;
            let lost = rows.iter().filter(|r| r.fate == "comdat").count();
            let assoc = rows.iter().filter(|r| r.fate == "associative").count();
            vec![format!("{lost} COMDAT copies"), format!("{assoc} associative sections")]
        }
        (0, 6) => vec![format!("holds {} COMDAT records", doc(h, "omf-comdat.obj").core.bin.comdats.len())],
        (1, 0) => {
            vec![format!("{} pseudo-relocations", doc(h, "autoimport.exe").core.bin.pseudo_relocations.entries.len())]
        }
        (1, 1) => {
            let e = &doc(h, "autoimport.exe").core.bin.pseudo_relocations.entries;
            let arr3 = e.iter().find(|e| e.slot_offset == Some(12)).unwrap();
            vec![hex(arr3.target_rva), format!("{} + 12", arr3.import.as_deref().unwrap())]
        }
        (1, 4) => {
            let d = doc(h, "autoimport.exe");
            let p = plan(d);
            let rva =
                d.core.bin.pseudo_relocations.entries.iter().find(|e| e.slot_offset == Some(12)).unwrap().target_rva;
            let s = p.steps.iter().find(|s| s.target_rva == rva).unwrap();
            let mis = p.steps.iter().filter(|s| s.status == Status::Misidentified).count();
            vec![hex(s.after), hex(s.before), format!("{mis} of {} steps", p.steps.len())]
        }
        (2, 0) => {
            let e = &doc(h, "autoimport-small.exe").core.bin.pseudo_relocations.entries;
            vec![format!("{} of its {} pseudo-relocations", e.iter().filter(|e| e.width == 32).count(), e.len())]
        }
        (2, 3) => {
            let p = plan(doc(h, "autoimport-small.exe"));
            vec![hex(p.modules[1].base), p.failure.clone().expect("the runtime aborts")]
        }
        (3, 0) => {
            let b = &doc(h, "main-nopie").core.bin;
            vec![format!(
                "{} are COPY relocations",
                b.relocations.iter().filter(|r| r.normalized == RelocKind::Copy).count()
            )]
        }
        (3, 4) => {
            let b = &doc(h, "libdata.so").core.bin;
            vec![format!("{} GLOB_DAT", b.relocations.iter().filter(|r| r.normalized == RelocKind::GlobDat).count())]
        }
        (4, 2) | (4, 4) => {
            let d = doc(h, "process/autoimport.exe");
            let v = d.patch.dump.as_ref().unwrap().1.as_ref().unwrap();
            vec![format!("{} differ", v.mismatches.len())]
                .into_iter()
                .filter(|_| at == 2)
                .chain([format!("{} places checked", v.checked)].into_iter().filter(|_| at == 2))
                .chain([format!("{} place differs", v.mismatches.len())].into_iter().filter(|_| at == 4))
                .chain(v.mismatches.iter().take(1).map(|m| format!("{:#x}", m.rva)).filter(|_| at == 4))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The claim the tour makes, on its sample, once the step is done.
fn claim(h: &Harness<'_, App>, tour: usize, at: usize) {
    match (tour, at) {
        (0, 5) => {
            // A COMDAT copy lost, and an associative section of it went with it.
            let rows = &doc(h, "link/a.obj").link.result.as_ref().unwrap().as_ref().unwrap().rows;
            assert!(rows.iter().any(|r| r.fate == "associative" && r.why.contains("not in the image")));
        }
        (0, 8) => {
            let b = &doc(h, "omf-comdat.obj").core.bin;
            assert!(!b.comdats.is_empty());
            assert!(b.comdats.iter().all(|c| c.associated_section.is_none() && c.associated_by.is_empty()));
        }
        (1, 4) => {
            // The walk still misidentifies &arr[3]: it reads it as another import's slot.
            let d = doc(h, "autoimport.exe");
            let p = plan(d);
            assert_eq!(p.scheme, SchemeKind::BaserelWalk);
            let e = d.core.bin.pseudo_relocations.entries.iter().find(|e| e.slot_offset == Some(12)).unwrap();
            let s = p.steps.iter().find(|s| s.target_rva == e.target_rva).unwrap();
            assert_eq!(s.status, Status::Misidentified);
            assert_ne!(s.import.as_deref(), e.import.as_deref(), "read as the neighbouring slot");
        }
        (1, 5) => {
            let d = doc(h, "autoimport.exe");
            let p = plan(d);
            let e = d.core.bin.pseudo_relocations.entries.iter().find(|e| e.slot_offset == Some(12)).unwrap();
            let s = p.steps.iter().find(|s| s.target_rva == e.target_rva).unwrap();
            assert_eq!((s.status, s.import.as_deref(), s.offset), (Status::Applied, e.import.as_deref(), Some(12)));
        }
        (2, 3) => {
            let p = plan(doc(h, "autoimport-small.exe"));
            assert!(p.failure.is_some(), "the Far preset aborts the small model");
            assert!(p.steps.iter().any(|s| s.status == Status::OutOfRange && s.width == 32));
        }
        (2, 5) => {
            let p = plan(doc(h, "autoimport.exe"));
            assert_eq!(p.failure, None, "the default model reaches a far DLL");
            assert!(p.steps.iter().all(|s| s.width == 64));
        }
        (3, 2) => {
            let p = plan(doc(h, "main-nopie"));
            assert_eq!(p.scheme, SchemeKind::Elf);
            assert!(p.steps.iter().all(|s| s.section.as_deref() != Some(".text")), "nothing to patch in code");
            assert!(p.steps.iter().any(|s| s.reason.starts_with("COPY")));
        }
        (4, 2) => {
            let v = doc(h, "process/autoimport.exe").patch.dump.as_ref().unwrap().1.as_ref().unwrap();
            assert!(v.checked > 100 && v.mismatches.is_empty(), "every checked place matches: {v:?}");
        }
        (4, 4) => {
            // The one byte flipped in the hooked dump, in an IAT slot, is flagged and nothing else.
            let d = doc(h, "process/autoimport.exe");
            let (path, v) = d.patch.dump.as_ref().unwrap();
            assert!(path.ends_with("self-hooked.dmp.gz"));
            let v = v.as_ref().unwrap();
            assert_eq!(v.mismatches.len(), 1, "{:?}", v.mismatches);
            assert!(v.mismatches[0].structure.starts_with("iat-slot"), "{:?}", v.mismatches);
            let slot = plan(d).bindings.iter().find(|b| b.slot_rva == v.mismatches[0].rva);
            assert!(slot.is_some(), "the flagged place is an IAT slot the loader binds");
        }
        _ => {}
    }
}

/// Do what step `at` asks, on its highlighted widget.
fn act(h: &mut Harness<'_, App>, tour: usize, at: usize) {
    let def = &TOURS[tour].steps[at];
    let what = format!("tour {} step {}", tour + 1, at + 1);
    for _ in 0..4 {
        let step = h.state().tour_step().unwrap();
        if step.done {
            return;
        }
        match (def.done, step.detour.is_some()) {
            (Done::Read, false) => return,
            (Done::Dump(path), false) => {
                let p = tour::samples_dir().unwrap().join(path);
                h.input_mut().dropped_files.push(Arc::new(gui_support::Dropped(p)));
                h.step();
            }
            (Done::Scheme(k), false) => {
                let rect = visible_target(h, &what);
                click_at(h, rect.center());
                h.get_by_label(k.name()).click();
                h.step();
            }
            _ => {
                let rect = visible_target(h, &what);
                // A row: its left end, where no link sits.
                let pos = match tour::target(&h.ctx) {
                    Some(Widget::Row(..)) => egui::pos2(rect.left() + 12.0, rect.center().y),
                    _ => rect.center(),
                };
                click_at(h, pos);
            }
        }
        settle(h);
    }
    panic!("{what}: not done after acting on it: {:?}", h.state().tour_step());
}

fn run_tour(tour: usize) {
    let mut h = harness();
    // From the Welcome page.
    assert!(h.state().active_doc().is_none());
    h.get_by_label(&format!("{}. {}", tour + 1, TOURS[tour].title)).click();
    h.step();
    settle(&mut h);
    let n = TOURS[tour].steps.len();
    for at in 0..n {
        let what = format!("tour {} step {}", tour + 1, at + 1);
        let st = h.state().tour.clone().expect("the tour runs");
        assert_eq!(st.step, at, "{what}");
        h.get_by_label(&format!("{} of {n}", at + 1));
        let step = h.state().tour_step().unwrap();
        if step.detour.is_none() {
            visible_target(&h, &what);
        }
        act(&mut h, tour, at);
        let step = h.state().tour_step().unwrap();
        assert!(step.done && step.complete, "{what}: {step:?}");
        for want in expected(&h, tour, at) {
            assert!(step.text.contains(&want), "{what}: {:?} does not say {want:?}", step.text);
        }
        claim(&h, tour, at);
        eprintln!("{what}: {}", step.text);
        let next = if at + 1 == n { "Finish" } else { "Next ▶" };
        h.get_by_label(next).click();
        h.step();
        settle(&mut h);
    }
    assert!(h.state().tour.is_none(), "the tour ends after its last step");
}

#[test]
fn tour_1_comdats() {
    run_tour(0);
}

#[test]
fn tour_2_imported_data() {
    run_tour(1);
}

#[test]
fn tour_3_win64_reach() {
    run_tour(2);
}

#[test]
fn tour_4_linux() {
    run_tour(3);
}

#[test]
fn tour_5_process() {
    run_tour(4);
}

#[test]
fn tours_are_found_by_name_and_number_and_their_placeholders_are_facts() {
    assert_eq!(tour::find("3"), Some(2));
    assert_eq!(tour::find("linux"), Some(3));
    assert_eq!(tour::find("6"), None);
    assert_eq!(tour::find("nope"), None);
    for t in &TOURS {
        for f in t.files {
            assert!(tour::samples_dir().unwrap().join(f).is_file(), "{}: {f} bundled", t.name);
        }
        assert!(t.steps.len() >= 5, "{}", t.name);
    }
}

#[test]
fn show_me_does_the_step_and_back_and_skip_work() {
    let mut h = harness();
    h.get_by_label("4. What happens on Linux").click();
    h.step();
    settle(&mut h);
    assert!(!h.state().tour_step().unwrap().done);
    h.get_by_label("Show me").click();
    h.step();
    settle(&mut h);
    assert!(h.state().tour_step().unwrap().done);
    assert_eq!(h.state().active_doc().unwrap().view, linkscope::gui::View::Relocations);
    h.get_by_label("Next ▶").click();
    settle(&mut h);
    assert_eq!(h.state().tour.as_ref().unwrap().step, 1);
    h.get_by_label("◀ Previous").click();
    settle(&mut h);
    assert_eq!(h.state().tour.as_ref().unwrap().step, 0);
    h.get_by_label("Skip tour").click();
    settle(&mut h);
    assert!(h.state().tour.is_none());
    let _ = TableId::Patch;
}

#[test]
fn escape_closes_a_dialog_first_then_the_tour() {
    let mut h = harness();
    h.get_by_label("4. What happens on Linux").click();
    h.step();
    settle(&mut h);
    assert!(h.state().tour.is_some());
    h.state_mut().goto_open = true;
    h.key_press(egui::Key::Escape);
    settle(&mut h);
    assert!(!h.state().goto_open, "Escape closes Go to");
    assert!(h.state().tour.is_some(), "and leaves the tour");
    h.key_press(egui::Key::Escape);
    settle(&mut h);
    assert!(h.state().tour.is_none(), "a second Escape leaves the tour");
}

#[test]
fn the_tour_is_reachable_by_keyboard() {
    let mut h = harness();
    // The Welcome page's tour buttons and the tour panel's buttons take the focus with Tab and
    // answer Enter.
    let mut found = false;
    for _ in 0..40 {
        h.key_press(egui::Key::Tab);
        h.run_steps(2);
        if h.get_by_label("4. What happens on Linux").is_focused() {
            found = true;
            break;
        }
    }
    assert!(found, "Tab reaches the tour button");
    h.key_press(egui::Key::Enter);
    h.step();
    settle(&mut h);
    assert_eq!(h.state().tour.as_ref().map(|t| t.tour), Some(3));
    let mut shown = false;
    for _ in 0..80 {
        h.key_press(egui::Key::Tab);
        h.run_steps(2);
        if h.get_by_label("Show me").is_focused() {
            shown = true;
            break;
        }
    }
    assert!(shown, "Tab reaches Show me");
    h.key_press(egui::Key::Enter);
    h.step();
    settle(&mut h);
    assert!(h.state().tour_step().unwrap().done);
}
