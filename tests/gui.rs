//! Headless tests of the desktop app (egui_kittest, no display, no GPU): they drive the real UI
//! code (`App::ui_contents`) with clicks, keys and dropped files, or call `App::apply` directly,
//! and assert on the app's state, never on pixels.

#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gui_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui::{self, Key, Modifiers};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use gui_support::{active, click_view, harness};
use linkscope::gui::action::{DiffAction, LinkAction, PatchAction, TableAction};
use linkscope::gui::nav::AddrKind;
use linkscope::gui::regions::What;
use linkscope::gui::{Action, App, DocId, ExportFormat, Settings, TableId, Target, View};
use linkscope::model::Span;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples").join(name)
}

fn loaded(files: &[&str]) -> App {
    gui_support::loaded_paths(&files.iter().map(|f| sample(f)).collect::<Vec<_>>())
}

fn activate(h: &mut Harness<'_, App>, name: &str) {
    let id = h.state().doc_named(name).expect("document open").id;
    h.state_mut().apply(Action::ActivateDoc(id));
    h.run();
}

#[test]
fn opens_the_bundled_samples_and_visits_every_view() {
    let files = linkscope::gui::app::sample_paths();
    assert_eq!(files.len(), 13, "bundled samples present");
    let mut app = App::new(files, Settings::default());
    assert!(app.wait_for_loads(Duration::from_secs(60)));
    let names: Vec<String> = app.docs.iter().map(|d| d.core.name.clone()).collect();
    let all = [
        "autoimport.exe",
        "autoimport-small.exe",
        "data.dll",
        "comdat.obj",
        "omf32.obj",
        "main-nopie",
        "libdata.so",
        "crt0.obj",
        "a.obj",
        "b.obj",
        "odr1.obj",
        "odr2.obj",
        "cxx.exe",
    ];
    assert_eq!(names, all);
    assert_eq!(app.active_doc().map(|d| d.core.name.as_str()), Some("autoimport.exe"));
    let mut h = harness(app);
    for name in all {
        h.get_by_role_and_label(egui::accesskit::Role::Button, name).click();
        h.run();
        assert_eq!(active(&h).core.name, name);
        for view in View::ALL {
            if !linkscope::gui::views::applies(&active(&h).core, view) {
                continue; // e.g. only archives have members, only OMF files have records
            }
            click_view(&mut h, view);
            assert_eq!(active(&h).view, view, "{name}: {view:?}");
        }
    }
    // Views draw real content: a few spot checks.
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::PseudoRelocs);
    assert!(h.query_by_label_contains("found through the __RUNTIME_PSEUDO_RELOC_LIST__ symbols").is_some());
    assert_eq!(
        h.query_all_by_label("data.dll!arr").count(),
        3,
        "three pseudo-relocs name arr (two in .data, one .refptr)"
    );
    activate(&mut h, "comdat.obj");
    click_view(&mut h, View::Comdats);
    assert!(h.query_by_label_contains("Leaders (14)").is_some());
}

#[test]
fn ctrl_f_filters_the_current_table() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Imports);
    assert!(h.query_by_label("Sleep").is_some());
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    h.run();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("data_");
    h.run();
    let doc = active(&h);
    assert_eq!(doc.table(TableId::Imports).filter, "data_");
    assert_eq!(doc.table(TableId::Imports).shown(57), 3);
    assert!(h.query_by_label("data_add").is_some());
    assert!(h.query_by_label("data_get_counter").is_some());
    assert!(h.query_by_label("Sleep").is_none(), "filtered out");
    assert!(h.query_by_label_contains("3 of 57 rows").is_some());
}

#[test]
fn clicking_an_import_lands_on_its_iat_bytes() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Imports);
    // Only rows on screen exist as widgets: narrow the table to data.dll first.
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Filter("data.dll".into())));
    h.run();
    // The IAT RVA of data.dll!arr.
    h.get_by_label("0xd3d0").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Hex);
    let (module, entry) = doc
        .core
        .bin
        .imports
        .iter()
        .flat_map(|m| m.entries.iter().map(move |e| (m, e)))
        .find(|(_, e)| e.name.as_deref() == Some("arr"))
        .expect("arr imported");
    assert_eq!(module.dll, "data.dll");
    let iat = entry.iat_span.expect("IAT slot has bytes");
    assert_eq!(doc.hex.selection, Some(iat));
    assert_eq!(iat.len, 8);
    let leaf = doc.core.regions().leaf_at(iat.offset).expect("a structure at the slot");
    assert!(matches!(leaf.what, What::IatSlot { .. }), "{:?}", leaf.what);
    // The hex view says what the bytes are.
    assert!(h.query_by_label_contains("Import address table slot data.dll!arr").is_some());
}

#[test]
fn import_links_to_the_export_in_the_open_dll_and_back() {
    let mut h = harness(loaded(&["autoimport.exe", "data.dll"]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Imports);
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Filter("data.dll".into())));
    h.run();
    h.get_by_label("counter").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.core.name, "data.dll");
    assert_eq!(doc.view, View::Exports);
    let row = doc.table(TableId::Exports).selected.expect("export selected");
    assert_eq!(doc.core.bin.exports[row].name.as_deref(), Some("counter"));
    // And back from the export to its importer (the selected row shows in the table and, in
    // full, in the details pane: either link goes back).
    h.get_all_by_label("counter").next().expect("the export's link").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.core.name, "autoimport.exe");
    assert_eq!(doc.view, View::Imports);
    let row = doc.table(TableId::Imports).selected.expect("import selected");
    let (_, m, e) = linkscope::gui::views::imports::import_at(&doc.core, row).expect("row exists");
    assert_eq!((m.dll.as_str(), e.name.as_deref()), ("data.dll", Some("counter")));
}

#[test]
fn goto_takes_a_va_an_rva_and_a_file_offset() {
    let mut h = harness(loaded(&["autoimport.exe", "comdat.obj"]));
    activate(&mut h, "autoimport.exe");
    // Through the real prompt: Ctrl+G, type, Enter.
    h.key_press_modifiers(Modifiers::COMMAND, Key::G);
    h.run();
    assert!(h.state().goto_open);
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("0x140009e80");
    h.key_press(Key::Enter);
    h.run();
    let r = h.state().last_goto.clone().expect("go to succeeded");
    assert_eq!(r.kind, AddrKind::Va);
    assert_eq!(r.rva, Some(0x9e80));
    let doc = active(&h);
    let off = doc.core.bin.rva_to_offset(0x9e80).expect("mapped");
    assert_eq!(r.offset, Some(off));
    assert_eq!(doc.view, View::Hex);
    assert_eq!(doc.hex.selection.map(|s| s.offset), Some(off));
    assert!(h.state().status.as_ref().is_some_and(|s| s.text.contains("read as a VA")), "{:?}", h.state().status);
    assert!(!h.state().goto_open, "prompt closes");

    h.state_mut().apply(Action::GoTo("rva:0x14d0".into()));
    let r = h.state().last_goto.clone().expect("rva");
    assert_eq!((r.kind, r.rva, r.offset), (AddrKind::Rva, Some(0x14d0), Some(0x8d0)));
    assert!(r.message.contains("read as an RVA") && r.message.contains(".text+0x4d0"), "{}", r.message);

    h.state_mut().apply(Action::GoTo("file:0x400".into()));
    let r = h.state().last_goto.clone().expect("file");
    assert_eq!((r.kind, r.offset, r.rva), (AddrKind::File, Some(0x400), Some(0x1000)));
    assert_eq!(active(&h).hex.selection.map(|s| s.offset), Some(0x400));

    // A VA below the image base is read as an RVA, and the message says so.
    h.state_mut().apply(Action::GoTo("0x14d0".into()));
    let r = h.state().last_goto.clone().expect("low va");
    assert_eq!(r.kind, AddrKind::Rva);
    assert!(r.message.contains("below the image base"));

    // .bss has no file bytes: the section is shown instead.
    h.state_mut().apply(Action::GoTo("rva:0xc010".into()));
    let doc = active(&h);
    assert_eq!(doc.view, View::Sections);
    assert_eq!(doc.table(TableId::Sections).selected.map(|p| doc.core.bin.sections[p].name.as_str()), Some(".bss"));

    // An object file has no addresses: 0x… is a file offset, rva: is refused.
    activate(&mut h, "comdat.obj");
    h.state_mut().apply(Action::GoTo("0x10".into()));
    let r = h.state().last_goto.clone().expect("object");
    assert_eq!((r.kind, r.offset), (AddrKind::File, Some(0x10)));
    h.state_mut().apply(Action::GoTo("rva:0x10".into()));
    assert!(h.state().status.as_ref().is_some_and(|s| s.error && s.text.contains("no RVAs")));
    h.state_mut().apply(Action::GoTo("zzz".into()));
    assert!(h.state().status.as_ref().is_some_and(|s| s.error));
}

#[test]
fn back_and_forward_with_keys_and_mouse_buttons() {
    let mut h = harness(loaded(&["autoimport.exe", "data.dll"]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Sections);
    click_view(&mut h, View::Imports);
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Filter("data.dll".into())));
    h.run();
    h.get_by_label("0xd3d0").click(); // → hex
    h.run();
    assert_eq!(active(&h).view, View::Hex);
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
    h.run();
    assert_eq!(active(&h).view, View::Imports);
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
    h.run();
    assert_eq!(active(&h).view, View::Sections);
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowRight);
    h.run();
    assert_eq!(active(&h).view, View::Imports);
    // The mouse's side buttons.
    let pos = egui::pos2(640.0, 400.0);
    for (button, expect) in [(egui::PointerButton::Extra2, View::Hex), (egui::PointerButton::Extra1, View::Imports)] {
        for pressed in [true, false] {
            h.event(egui::Event::PointerButton { pos, button, pressed, modifiers: Modifiers::NONE });
        }
        h.run();
        assert_eq!(active(&h).view, expect);
    }
    // History crosses tabs: follow an import into data.dll, then come back.
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::View(View::Imports) });
    h.run();
    h.get_by_label("pt").click();
    h.run();
    assert_eq!(active(&h).core.name, "data.dll");
    h.get_by_label("◀ Back").click();
    h.run();
    assert_eq!(active(&h).core.name, "autoimport.exe");
    assert_eq!(active(&h).view, View::Imports);
    h.get_by_label("Forward ▶").click();
    h.run();
    assert_eq!(active(&h).core.name, "data.dll");
}

#[test]
fn dropping_a_file_opens_it_in_a_new_tab() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    assert_eq!(h.state().docs.len(), 1);
    h.input_mut().dropped_files.push(Arc::new(gui_support::Dropped(sample("libdata.so"))));
    h.step();
    assert_eq!(h.state().loads.len(), 1, "loading started off the UI thread");
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(60)));
    h.run();
    let names: Vec<&str> = h.state().docs.iter().map(|d| d.core.name.as_str()).collect();
    assert_eq!(names, ["autoimport.exe", "libdata.so"]);
    assert_eq!(active(&h).core.name, "libdata.so");
    assert!(h.state().settings.recent.iter().any(|p| p.ends_with("libdata.so")), "remembered in Recent");
    // Dropping it again only switches to its tab.
    activate(&mut h, "autoimport.exe");
    h.input_mut().dropped_files.push(Arc::new(gui_support::Dropped(sample("libdata.so"))));
    h.run();
    assert_eq!(h.state().docs.len(), 2);
    assert_eq!(active(&h).core.name, "libdata.so");
    // Closing a tab.
    let id = active(&h).id;
    h.state_mut().apply(Action::CloseDoc(id));
    h.run();
    assert_eq!(h.state().docs.len(), 1);
    assert_eq!(active(&h).core.name, "autoimport.exe");
}

#[test]
fn loading_can_be_cancelled_and_errors_are_reported() {
    let mut app = App::new(vec![sample("autoimport.exe")], Settings::default());
    let id = app.loads[0].id;
    app.apply(Action::CancelLoad(id));
    assert!(app.loads.is_empty());
    assert!(app.wait_for_loads(Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(200));
    app.poll();
    assert!(app.docs.is_empty(), "a cancelled load never opens");
    app.apply(Action::OpenFiles(vec![PathBuf::from("/nonexistent/file.dll")]));
    assert!(app.wait_for_loads(Duration::from_secs(5)));
    assert!(app.docs.is_empty());
    assert!(app.status.as_ref().is_some_and(|s| s.error));
}

#[test]
fn sorting_copying_and_exporting_a_table() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Imports);
    // Sort by hint, descending (click twice).
    h.get_by_label("Hint").click();
    h.run();
    h.get_by_label("Hint ▲").click();
    h.run();
    let doc = active(&h);
    let state = doc.table(TableId::Imports);
    assert_eq!(state.sort, Some((4, false)));
    let first = state.row_at(0).expect("rows");
    let (_, _, e) = linkscope::gui::views::imports::import_at(&doc.core, first).expect("row");
    assert_eq!(e.name.as_deref(), Some("WideCharToMultiByte"), "highest hint first");
    // Select a row and copy it with Ctrl+C.
    h.get_by_label("WideCharToMultiByte").click(); // follows the link; data.dll is not open
    h.run();
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Select(Some(first))));
    h.event(egui::Event::Copy);
    h.run();
    let copied = h.state().last_copied.clone().expect("copied");
    assert!(copied.starts_with("KERNEL32.dll\tWideCharToMultiByte\t"), "{copied}");
    // Export what is shown, sorted.
    let dir = std::env::temp_dir().join(format!("linkscope-gui-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("imports.csv");
    let json = dir.join("imports.json");
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Filter("msvcrt".into())));
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Export(ExportFormat::Csv, csv.clone())));
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Export(ExportFormat::Json, json.clone())));
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "DLL,Name,Sites,Ordinal,Hint,IAT RVA,IAT VA,On disk,Table");
    assert_eq!(lines.len(), 1 + 35, "header + the 35 msvcrt imports");
    assert!(lines[1].starts_with("msvcrt.dll,wcslen,"), "sorted by hint, descending: {}", lines[1]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid json");
    assert_eq!(v.as_array().map(Vec::len), Some(35));
    assert_eq!(v[0]["Name"], "wcslen");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn relocations_filter_by_kind_and_section_and_link_to_sites() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Relocations);
    let app = h.state_mut();
    app.apply(Action::Table(TableId::Relocations, TableAction::Facet(2, Some(".data".into()))));
    let doc = app.active_doc().expect("doc");
    assert_eq!(doc.table(TableId::Relocations).shown(58), 14, "14 base relocations in .data");
    app.apply(Action::Table(TableId::Relocations, TableAction::Facet(1, Some("padding".into()))));
    assert_eq!(app.active_doc().expect("doc").table(TableId::Relocations).shown(58), 0);
    app.apply(Action::Table(TableId::Relocations, TableAction::Facet(1, None)));
    app.apply(Action::Table(TableId::Relocations, TableAction::FilterColumn(Some(6))));
    app.apply(Action::Table(TableId::Relocations, TableAction::Filter("14000d3d".into())));
    // Base relocations whose target is one of data.dll's IAT slots (the pseudo-reloc sites).
    assert_eq!(app.active_doc().expect("doc").table(TableId::Relocations).shown(58), 2);
    h.run();
    h.get_by_label("0x8020").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Hex);
    let site = doc.hex.selection.expect("site selected");
    assert_eq!(Some(site.offset), doc.core.bin.rva_to_offset(0x8020));
    assert_eq!(site.len, 8);
}

#[test]
fn sections_link_to_their_comdat_leader() {
    let mut h = harness(loaded(&["comdat.obj"]));
    click_view(&mut h, View::Sections);
    h.state_mut().apply(Action::Table(TableId::Sections, TableAction::Filter("associative → .text#4".into())));
    h.run();
    assert_eq!(active(&h).table(TableId::Sections).shown(38), 3, ".xdata, .debug$S and .pdata follow section 4");
    h.get_all_by_label("associative → .text#4 (#4)").next().expect("a link").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Comdats);
    assert_eq!(doc.comdat_selected, Some(4));
}

#[test]
fn invalid_comdat_associations_are_highlighted_with_their_diagnostic() {
    let data = std::fs::read(sample("comdat.obj")).expect("sample");
    let mut bin = linkscope::load(&data).expect("loads");
    // Break one association the way a corrupt file would: section 26 points at section 99.
    let pos = bin.comdats.iter().position(|c| c.section == 26).expect("section 26 is a COMDAT");
    bin.comdats[pos].associated_section = Some(99);
    for c in &mut bin.comdats {
        c.associated_by.retain(|&s| s != 26);
    }
    let header = bin.sections.iter().find(|s| s.index == 26).expect("section").header_span.offset;
    bin.diag(
        linkscope::model::Severity::Error,
        linkscope::model::Location::file(header),
        "associative COMDAT section 26 points at section 99, which does not exist",
    );
    let core = linkscope::gui::document::DocCore::analyse(sample("comdat.obj"), "broken.obj".into(), data, bin);
    let mut app = App::new(Vec::new(), Settings::default());
    app.add_core(core, View::Comdats);
    let h = harness(app);
    assert!(h.query_by_label_contains("Invalid associations (1)").is_some());
    assert!(h.query_by_label_contains("points at section 99, which does not exist").is_some());
}

#[test]
fn ctrl_f_in_the_hex_view_searches_bytes_and_text() {
    use linkscope::analysis::search::SearchKind;
    use linkscope::gui::views::hex_search::SearchAction;
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Hex);
    // Ctrl+F focuses the search field; typed text and Enter search it.
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    h.run();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("4d 5a");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.hex.search.kind, SearchKind::Hex);
    assert_eq!(doc.hex.search.hits.first(), Some(&0), "the MZ signature");
    assert_eq!(doc.hex.selection, Some(Span::new(0, 2)));
    // Text: autoimport.c's format string, where GNU strings puts it (0x7451).
    h.state_mut().apply(Action::HexSearch(SearchAction::Find(SearchKind::Ascii, "add=%d counter".into())));
    let doc = active(&h);
    assert_eq!(doc.hex.search.hits, vec![0x7451]);
    assert_eq!(doc.hex.selection, Some(Span::new(0x7451, 14)));
    // A wildcard pattern with several hits: forward and back wrap around.
    h.state_mut().apply(Action::HexSearch(SearchAction::Find(SearchKind::Hex, "ff 25 ?? ??".into())));
    let n = active(&h).hex.search.hits.len();
    assert!(n > 1, "jmp [rip+…] thunks");
    h.state_mut().apply(Action::HexSearch(SearchAction::Step(false)));
    let doc = active(&h);
    assert_eq!(doc.hex.search.current, Some(n - 1));
    assert_eq!(doc.hex.selection.map(|s| s.offset), doc.hex.search.hits.last().copied());
    // A bad pattern says why, and selects nothing new.
    h.state_mut().apply(Action::HexSearch(SearchAction::Find(SearchKind::Hex, "4g".into())));
    assert!(active(&h).hex.search.error.as_deref().is_some_and(|e| e.contains("not a hex byte")));
    h.run();
    assert!(h.query_by_label_contains("not a hex byte").is_some());
}

#[test]
fn hex_view_explains_bytes_and_selects_structures() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    // Select the e_lfanew field from the Headers table: its bytes are highlighted.
    click_view(&mut h, View::Headers);
    h.state_mut().apply(Action::Table(TableId::Headers, TableAction::Filter("e_lfanew".into())));
    h.run();
    h.get_by_label("e_lfanew").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.hex.selection, Some(Span::new(0x3c, 4)));
    let text = linkscope::gui::views::hex::describe_at(&doc.core, 0x3c);
    assert!(text.contains("e_lfanew"), "{text}");
    let text = linkscope::gui::views::hex::describe_at(&doc.core, doc.core.bin.rva_to_offset(0x8010).expect("mapped"));
    assert!(text.contains("Patched by a pseudo-relocation") && text.contains("Patched by a base relocation"), "{text}");
    // Selecting bytes directly, and double-click navigation targets.
    h.state_mut().apply(Action::HexSelect(Some(Span::new(0x80, 4))));
    assert_eq!(active(&h).hex.selection, Some(Span::new(0x80, 4)));
    let core = active(&h).core.clone();
    let leaf = core.regions().leaf_at(0x3c).expect("field");
    let target = linkscope::gui::views::hex::target_of(leaf.what, &core).expect("listed somewhere");
    h.state_mut().apply(Action::Navigate { doc: None, target });
    let doc = active(&h);
    assert_eq!(doc.view, View::Headers);
    let row = doc.table(TableId::Headers).selected.expect("selected");
    assert_eq!(
        linkscope::gui::table::row_text(
            linkscope::gui::views::model(&doc.core, &doc.results, TableId::Headers, h.state().opts()).as_ref(),
            row
        )
        .split('\t')
        .nth(2),
        Some("e_lfanew")
    );
}

#[test]
fn diagnostics_and_pseudo_relocations_navigate() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::PseudoRelocs);
    // The import a pseudo-relocation reads from.
    h.get_by_label("data.dll!counter").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Imports);
    let row = doc.table(TableId::Imports).selected.expect("import selected");
    let (_, _, e) = linkscope::gui::views::imports::import_at(&doc.core, row).expect("row");
    assert_eq!(e.name.as_deref(), Some("counter"));
    // Diagnostics navigate to their location.
    let data = std::fs::read(sample("autoimport.exe")).expect("sample");
    let mut bin = linkscope::load(&data).expect("loads");
    bin.diag(
        linkscope::model::Severity::Warning,
        linkscope::model::Location::rva(0x9e80),
        "test diagnostic at the list",
    );
    let core = linkscope::gui::document::DocCore::analyse(sample("autoimport.exe"), "diag.exe".into(), data, bin);
    h.state_mut().add_core(core, View::Diagnostics);
    h.run();
    h.get_by_label("0x9e80").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Hex);
    assert_eq!(doc.hex.selection.map(|s| s.offset), doc.core.bin.rva_to_offset(0x9e80));
}

#[test]
fn settings_survive_a_round_trip_and_bad_state_falls_back_to_defaults() {
    use gui_support::MemStorage as Mem;
    let mut s = Settings::default();
    s.add_recent(&sample("data.dll"));
    s.set_view_for(&sample("data.dll"), View::Exports);
    s.hex_pane = false;
    let mut mem = Mem::default();
    s.save(&mut mem);
    let back = Settings::load(Some(&mem));
    assert_eq!(back, s);
    assert_eq!(back.view_for(&sample("data.dll")), Some(View::Exports));
    // Garbage, or a shape from another version, gives the defaults.
    eframe::Storage::set_string(&mut mem, linkscope::gui::persist::KEY, "(recent: 42, oops".into());
    assert_eq!(Settings::load(Some(&mem)), Settings::default());
    assert_eq!(Settings::load(None), Settings::default());
    // A file opened again shows the view it was closed on.
    let mut app = App::new(vec![sample("data.dll")], back);
    assert!(app.wait_for_loads(Duration::from_secs(60)));
    assert_eq!(app.active_doc().map(|d| d.view), Some(View::Exports));
}

#[test]
fn a_million_relocations_filter_on_a_worker_thread() {
    let core = linkscope_bench_support::million_reloc_core(1_000_000);
    let mut app = App::new(Vec::new(), Settings::default());
    let id: DocId = app.add_core(core, View::Relocations);
    app.apply(Action::Table(TableId::Relocations, TableAction::Facet(1, Some("padding".into()))));
    assert!(
        app.doc(id).expect("doc").table(TableId::Relocations).pending.is_some(),
        "big tables filter off the UI thread"
    );
    assert!(app.wait_for_orders(Duration::from_secs(120)));
    let n = app.doc(id).expect("doc").table(TableId::Relocations).shown(1_000_000);
    assert_eq!(n, 1_000_000 / 512, "one padding entry per block");
    // The wheel scrolls the virtual table: the first row's widgets go away, later ones appear.
    let mut h = harness(app);
    h.state_mut().apply(Action::Table(TableId::Relocations, TableAction::Facet(1, None)));
    h.run();
    let core = active(&h).core.clone();
    let record = |row: usize| format!("{:#x}", core.bin.base_relocations[row].span.offset);
    let first = record(0);
    assert!(h.query_by_label(&first).is_some());
    h.event(egui::Event::PointerMoved(egui::pos2(700.0, 300.0)));
    for _ in 0..10 {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -400.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(30);
    assert!(h.query_by_label(&first).is_none(), "scrolled away from the first row");
    let top = (1..5000).find(|&r| h.query_by_label(&record(r)).is_some()).expect("some later row on screen");
    assert!(top > 50, "scrolled well down the table (first visible row {top})");
    // A row far down can be selected and shown.
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::Row(TableId::Relocations, 999_000) });
    h.run();
    assert_eq!(active(&h).table(TableId::Relocations).selected, Some(999_000));
}

/// A synthetic image with many base relocations (shared with the frame benchmark).
mod linkscope_bench_support {
    include!("../examples/support/million.rs");
}

#[test]
fn layout_map_lists_what_is_in_view_and_navigates() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Map);
    let (lanes, size) = linkscope::gui::views::map::lanes(&active(&h).core);
    let names: Vec<&str> = lanes.iter().map(|l| l.name).collect();
    assert_eq!(
        names,
        ["Sections", "Data directories", "IAT", "Base-reloc pages", "Pseudo-reloc sites", "Import sites"]
    );
    assert_eq!(size, 0x11000, "SizeOfImage");
    assert_eq!(lanes[4].items.len(), 8);
    // Import sites: the pages of .text that call or load through the IAT, and the pages of .data
    // and .rdata whose pointers the runtime patches (&arr[3] there is ambiguous: "at risk").
    let pages: Vec<(u64, &str)> = lanes[5].items.iter().map(|i| (i.start, i.label.as_str())).collect();
    assert!(pages.iter().any(|(p, l)| *p == 0x8000 && l.contains("at risk")), "{pages:?}");
    assert!(pages.iter().any(|(p, _)| *p == 0x1000), "{pages:?}");
    // The index under the map: click a section.
    h.get_by_label(".rdata").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Sections);
    assert_eq!(doc.table(TableId::Sections).selected.map(|p| doc.core.bin.sections[p].name.as_str()), Some(".rdata"));
    // Zooming narrows what is listed.
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::View(View::Map) });
    h.state_mut().apply(Action::SetMap(32.0, 0x8000 as f64 / size as f64));
    h.run();
    assert!(h.query_by_label(".rdata").is_none(), "0x8000..0x8880 does not reach .rdata");
    assert!(h.query_by_label(".data").is_some());
}

#[test]
fn archive_members_open_in_their_own_tab() {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mingw64/libdata.dll.a");
    let mut app = App::new(vec![lib], Settings::default());
    assert!(app.wait_for_loads(Duration::from_secs(60)));
    let mut h = harness(app);
    click_view(&mut h, View::Members);
    assert_eq!(active(&h).view, View::Members);
    h.get_by_label("data_dll_d000008.o").click();
    h.step(); // loading runs on a thread; the tab bar shows its progress meanwhile
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(60)));
    h.run();
    let doc = active(&h);
    assert_eq!(doc.core.name, "libdata.dll.a(data_dll_d000008.o)");
    assert_eq!(doc.core.bin.format.name(), "coff");
    assert_eq!(doc.core.data.len(), 259, "the member's own bytes");
    assert!(
        !h.state().settings.recent.iter().any(|p| p.to_string_lossy().contains('(')),
        "members are not recent files"
    );
}

/// Every view of every fixture, and of truncated copies of them, draws without panicking.
#[test]
fn every_view_of_every_fixture_draws() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures")
        .filter_map(Result::ok)
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().filter_map(Result::ok).map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut app = App::new(Vec::new(), Settings::default());
    let mut n = 0;
    for path in files {
        let Ok(data) = std::fs::read(&path) else { continue };
        for cut in [data.len(), data.len() / 2, data.len() / 7] {
            let bytes = data[..cut].to_vec();
            let Ok(bin) = linkscope::load(&bytes) else { continue };
            let name = format!("{}[..{cut}]", path.file_name().unwrap().to_string_lossy());
            app.add_core(linkscope::gui::document::DocCore::analyse(path.clone(), name, bytes, bin), View::Overview);
            n += 1;
        }
    }
    assert!(n > 40, "fixtures found: {n}");
    let mut h = harness(app);
    for id in h.state().doc_ids() {
        h.state_mut().apply(Action::ActivateDoc(id));
        for view in View::ALL {
            h.state_mut().apply(Action::Navigate { doc: None, target: Target::View(view) });
            h.run_steps(2);
        }
        // And the hex view at the end of the file.
        let len = h.state().doc(id).expect("doc").core.data.len() as u64;
        h.state_mut().apply(Action::Navigate { doc: None, target: Target::Bytes(Span::new(len.saturating_sub(1), 1)) });
        h.run_steps(2);
    }
}

#[test]
fn an_elf_copy_relocation_links_to_the_definition_in_the_open_library() {
    let mut h = harness(loaded(&["main-nopie", "libdata.so"]));
    activate(&mut h, "main-nopie");
    click_view(&mut h, View::Relocations);
    h.get_by_label("counter").click();
    h.run();
    // A shared object exports its defined dynamic symbols: the COPY relocation's symbol lands on
    // the export that defines it.
    let doc = active(&h);
    assert_eq!(doc.core.name, "libdata.so");
    assert_eq!(doc.view, View::Exports);
    let row = doc.table(TableId::Exports).selected.expect("export selected");
    let export = &doc.core.bin.exports[row];
    assert_eq!(export.name.as_deref(), Some("counter"));
    assert_eq!(export.rva, 0x4020);
}

#[test]
fn an_export_row_selects_its_address_table_slot() {
    let mut h = harness(loaded(&["data.dll"]));
    click_view(&mut h, View::Exports);
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::Row(TableId::Exports, 0) });
    h.run();
    let doc = active(&h);
    let export = &doc.core.bin.exports[0];
    let slot = export.span.expect("an export has its EAT slot");
    assert_eq!(slot.len, 4);
    assert_eq!(doc.hex.selection, Some(slot));
    // Hovering the slot names the export, and double-click leads back to its row.
    let text = linkscope::gui::views::hex::describe_at(&doc.core, slot.offset);
    assert!(text.contains("Export address table slot"), "{text}");
    let core = doc.core.clone();
    let leaf = core.regions().leaf_at(slot.offset).expect("a structure at the slot");
    assert_eq!(linkscope::gui::views::hex::target_of(leaf.what, &core), Some(Target::Row(TableId::Exports, 0)));
}

#[test]
fn address_valued_header_fields_are_links() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Headers);
    h.state_mut().apply(Action::Table(TableId::Headers, TableAction::Filter("AddressOfEntryPoint".into())));
    h.run();
    h.get_by_label("0x14d0").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Hex);
    let entry = doc.core.bin.rva_to_offset(0x14d0).expect("entry point is in the file");
    assert_eq!(doc.hex.selection.map(|s| s.offset), Some(entry));
    // e_lfanew is a file offset: it leads to the PE signature.
    let core = doc.core.clone();
    let lfanew = core.bin.headers[0].fields.iter().find(|f| f.name == "e_lfanew").expect("e_lfanew");
    assert_eq!(linkscope::gui::views::headers::field_target(&core, lfanew), Some(Target::Bytes(Span::new(0x80, 1))));
}

#[test]
fn selecting_a_diagnostic_shows_its_bytes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mingw32/autoimport-v1.exe");
    let mut h = harness(gui_support::loaded_paths(&[path]));
    click_view(&mut h, View::Diagnostics);
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::Row(TableId::Diagnostics, 0) });
    h.run();
    let doc = active(&h);
    let d = &doc.core.bin.diagnostics[0];
    let rva = d.location.rva.expect("an RVA");
    let off = doc.core.bin.rva_to_offset(rva).expect("mapped");
    assert_eq!(doc.hex.selection, Some(Span::new(off, 1)));
}

/// The import row of `dll!name` in `doc`.
fn import_row(doc: &linkscope::gui::Document, dll: &str, name: &str) -> usize {
    (0..doc.core.index.imports.len())
        .find(|&r| {
            linkscope::gui::views::imports::import_at(&doc.core, r)
                .is_some_and(|(_, m, e)| m.dll == dll && e.name.as_deref() == Some(name))
        })
        .expect("the import")
}

#[test]
fn an_imports_site_count_lists_the_sites_that_reach_it() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Imports);
    let doc = active(&h);
    let row = import_row(doc, "data.dll", "arr");
    // Every site whose true import is arr (&arr[3] lands on counter's slot, and counts here).
    let want: Vec<usize> = (0..doc.core.refs.sites.len())
        .filter(|&i| {
            doc.core.refs.sites.get(i).unwrap().import == Some(linkscope::analysis::ImportRef::Row(row as u32))
        })
        .collect();
    assert!(want.len() >= 3 && want.iter().any(|&i| doc.core.refs.sites.get(i).unwrap().ambiguous));
    assert_eq!(doc.core.import_uses()[row] as usize, want.len());
    // The Sites cell's link (the count is drawn as a link that does this).
    h.state_mut().apply(Action::RefsToImport(row));
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Refs);
    let t = doc.table(TableId::Refs);
    let shown: Vec<usize> = (0..t.shown(doc.core.refs.sites.len())).filter_map(|p| t.row_at(p)).collect();
    let mut sorted = shown.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, want);
}

#[test]
fn the_strings_view_lists_a_format_string_and_the_instruction_that_loads_it() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    // Found by a job, off the UI thread; the view shows a spinner until then.
    click_view(&mut h, View::Strings);
    assert!(active(&h).strings_job.is_some(), "the strings are found by a job");
    let doc = active(&h);
    let t = doc.core.strings_found().expect("found");
    let k = t
        .found
        .iter()
        .position(|f| f.text(&doc.core.data).starts_with("add=%d counter=%d"))
        .expect("autoimport.c's format");
    assert_eq!(t.sites_of(k).len(), 1);
    let site = doc.core.refs.sites.get(t.sites_of(k)[0] as usize).unwrap();
    assert_eq!(site.target_rva, t.found[k].rva(&doc.core.bin));
    let n = t.found.len();
    h.state_mut().apply(Action::Table(TableId::Strings, TableAction::Filter("add=%d counter".into())));
    h.run();
    assert_eq!(active(&h).table(TableId::Strings).shown(n), 1);
    // Its reference count links to the instruction in the disassembly.
    h.get_by_label("1").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Disassembly);
    let row = doc.table(TableId::Disasm).selected.expect("instruction selected");
    assert_eq!(doc.core.refs.insns.at(row).map(|(_, rva)| rva), Some(site.site_rva));
}

#[test]
fn references_to_an_import_list_its_sites_in_a_panel_linked_to_the_code() {
    use linkscope::gui::xrefs::RefsTo;
    let mut h = harness(loaded(&["autoimport-small.exe"]));
    click_view(&mut h, View::Imports);
    let doc = active(&h);
    let row = import_row(doc, "data.dll", "arr");
    // Right-click → References to this.
    h.state_mut().apply(Action::ShowRefs(RefsTo::Import(row)));
    h.run();
    let doc = active(&h);
    let panel = doc.refs_panel.as_ref().expect("panel");
    assert_eq!(panel.title, "data.dll!arr");
    assert_eq!(panel.sites.len(), doc.core.import_uses()[row] as usize);
    // &arr[3]: the RIP-relative site at 0x159a whose address lands on counter's slot.
    assert!(panel.sites.iter().any(|&i| doc.core.refs.sites.get(i as usize).unwrap().site_rva == 0x159a));
    assert!(h.query_by_label_contains("to data.dll!arr:").is_some());
    h.get_by_label("0x159a").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Disassembly);
    let sel = doc.table(TableId::Disasm).selected.expect("instruction selected");
    assert_eq!(doc.core.refs.insns.at(sel).map(|(_, rva)| rva), Some(0x159a));
    // An address: the slot of arr names the same import's sites.
    let slot = linkscope::gui::views::imports::import_at(&doc.core, row).expect("row").2.iat_rva;
    h.state_mut().apply(Action::ShowRefs(RefsTo::Rva(slot)));
    let n = active(&h).refs_panel.as_ref().expect("panel").sites.len();
    assert!(n >= active(&h).core.import_uses()[row] as usize);
    h.state_mut().apply(Action::CloseRefs);
    assert!(active(&h).refs_panel.is_none());
}

#[test]
fn a_function_is_labelled_in_the_disassembly_and_its_callers_are_listed() {
    use linkscope::gui::xrefs::RefsTo;
    let mut h = harness(loaded(&["autoimport.exe"]));
    click_view(&mut h, View::Disassembly);
    let doc = active(&h);
    let (rva, p) = doc
        .core
        .index
        .symbols_sorted
        .iter()
        .copied()
        .find(|&(_, p)| doc.core.bin.symbols[p as usize].name == "main")
        .expect("main");
    let row = doc.core.refs.insns.row_of(rva, None).expect("main's first instruction");
    assert_eq!(
        doc.core.labels().at(doc.core.refs.insns.at(row).unwrap().0.section, rva).map(|l| l.name.as_str()),
        Some("main")
    );
    // The label is drawn in its row, and `__tmainCRTStartup` calls it by that name.
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::Row(TableId::Disasm, row) });
    h.run();
    assert!(h.query_all_by_label("main").next().is_some(), "the Label column shows main");
    h.state_mut().apply(Action::ShowRefs(RefsTo::Symbol(p as usize)));
    h.run();
    let doc = active(&h);
    let panel = doc.refs_panel.as_ref().expect("panel");
    assert_eq!(panel.branches.len(), 1, "one call to main");
    let (site, jmp) = panel.branches[0];
    assert!(!jmp);
    let caller = doc.core.labels().before(site).map(|(l, _)| l.name.clone());
    assert_eq!(caller.as_deref(), Some("__tmainCRTStartup"));
    assert!(h.query_by_label_contains("1 calls and jumps").is_some());
    // Following it lands on the call, which names main.
    h.get_by_label(&format!("{site:#x}")).click();
    h.run();
    let doc = active(&h);
    let sel = doc.table(TableId::Disasm).selected.expect("call selected");
    assert_eq!(doc.core.refs.insns.at(sel).map(|(_, r)| r), Some(site));
    use linkscope::gui::table::TableModel;
    let model = linkscope::gui::views::disasm::DisasmModel { core: &doc.core };
    let col = model.columns().iter().position(|c| c.name == "Instruction").expect("column");
    let text = model.text(sel, col);
    assert_eq!(text, "call main");
    // "References to this" on the operand is about main again; on the address, about the call.
    assert_eq!(model.refs_to(sel, col), Some(RefsTo::Rva(rva)));
    let addr = model.columns().iter().position(|c| c.name == "Address").expect("column");
    assert_eq!(model.refs_to(sel, addr), Some(RefsTo::Rva(site)));
}

#[test]
fn an_exports_site_count_is_the_references_panels_list() {
    use linkscope::gui::xrefs::{RefsPanel, RefsTo};
    let h = harness(loaded(&["data.dll"]));
    let doc = active(&h);
    let uses = doc.core.export_uses();
    assert_eq!(uses.len(), doc.core.bin.exports.len());
    for (i, &n) in uses.iter().enumerate() {
        assert_eq!(RefsPanel::new(&doc.core, RefsTo::Export(i)).sites.len(), n as usize, "export {i}");
    }
    assert!(uses.iter().any(|&n| n > 0), "data.dll's code uses its own exported data");
}

#[test]
fn data_references_and_disassembly_link_to_each_other() {
    let mut h = harness(loaded(&["autoimport-small.exe", "data.dll"]));
    activate(&mut h, "autoimport-small.exe");
    click_view(&mut h, View::Refs);
    // The three sites whose naive reading names the wrong import (&arr[3] and &arr[2]).
    h.state_mut().apply(Action::Table(TableId::Refs, TableAction::Filter("ambiguous".into())));
    h.run();
    let doc = active(&h);
    assert_eq!(doc.table(TableId::Refs).shown(doc.core.refs.sites.len()), 3);
    // Its site address opens the instruction in the disassembly.
    h.get_by_label("0x159a").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Disassembly);
    let row = doc.table(TableId::Disasm).selected.expect("instruction selected");
    assert_eq!(doc.core.refs.insns.at(row).map(|(_, rva)| rva), Some(0x159a));
    // The instruction names what the runtime patches in (the pseudo-relocation's import and
    // offset), not the slot its stored address lands on; the naive reading is the ambiguity note.
    assert!(h.query_all_by_label("mov r8d, [data.dll!arr+0xc]").next().is_some());
    assert!(h.query_all_by_label("mov r8d, [data.dll!counter+0x4]").next().is_none());
    assert!(h
        .query_all_by_label_contains(
            "rip-relative data.dll!arr+0xc [WRAPS 3.0 GiB] [AMBIGUOUS: naive data.dll!counter+0x4]"
        )
        .next()
        .is_some());
    // Clicking the reference follows the import to the export in the open DLL.
    h.get_all_by_label_contains("rip-relative data.dll!arr+0xc").next().expect("the reference").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.core.name, "data.dll");
    let row = doc.table(TableId::Exports).selected.expect("export selected");
    assert_eq!(doc.core.bin.exports[row].name.as_deref(), Some("arr"));
    // Go to in the disassembly lands on the instruction holding the address.
    activate(&mut h, "autoimport-small.exe");
    click_view(&mut h, View::Disassembly);
    h.state_mut().apply(Action::GoTo("0x140001585".into()));
    h.run();
    let doc = active(&h);
    let row = doc.table(TableId::Disasm).selected.expect("instruction selected");
    assert_eq!(doc.core.refs.insns.at(row).map(|(_, rva)| rva), Some(0x1583), "inside mov ecx, [pt+4]");
}

#[test]
fn a_large_disassembly_draws_only_what_is_visible() {
    let exe = std::fs::read(sample("autoimport.exe")).expect("sample");
    let bin = linkscope::load(&exe).expect("loads");
    let text = bin.sections.iter().find(|s| s.name == ".text").expect(".text").bytes(&exe).to_vec();
    let core = linkscope_bench_support::million_insn_core(&text, 200_000);
    let n = core.refs.insns.len();
    assert!(n > 200_000, "{n} instructions");
    let mut app = App::new(Vec::new(), Settings::default());
    app.add_core(core, View::Disassembly);
    let mut h = harness(app);
    h.run();
    // Jump to the last instruction: it is selected and drawn.
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::Row(TableId::Disasm, n - 1) });
    h.run();
    let doc = active(&h);
    assert_eq!(doc.table(TableId::Disasm).selected, Some(n - 1));
    let (_, rva) = doc.core.refs.insns.at(n - 1).expect("row");
    let va = format!("{:#x}", doc.core.bin.image_base.unwrap_or(0) + rva);
    assert!(h.query_all_by_label(&va).next().is_some(), "{va} on screen");
}

/// Run frames until the active document's plan (and its dump verification) is in.
fn wait_for_plan(h: &mut Harness<'_, App>) -> Arc<linkscope::patch::PatchPlan> {
    for _ in 0..1000 {
        h.run();
        let p = &active(h).patch;
        let verifying = p.dump.as_ref().is_some_and(|(_, v)| matches!(v, Err(e) if e == "verifying…"));
        if p.job.is_none() && !verifying {
            if let Some(Ok(plan)) = &p.result {
                return plan.clone();
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no plan");
}

#[test]
fn patch_view_plans_aborts_toggles_takes_typed_bases_and_verifies_a_dump() {
    use linkscope::patch::Status;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/x64-gnu-small-near");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("autoimport.exe"), dir.join("data.dll")]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Patch);
    // data.dll (open) at its preferred base, 256 MiB away: the small-model code reaches it.
    let plan = wait_for_plan(&mut h);
    assert_eq!(plan.modules[1].base, 0x1_5000_0000);
    assert!(h.query_by_label_contains("No abort predicted").is_some());
    assert_eq!(h.query_all_by_label("needs-writable-page").count(), 5, "the five RIP-relative fields in .text");
    // Far away: the runtime's abort, as it prints it.
    h.get_by_label("Far (> 4 GiB away)").click();
    let plan = wait_for_plan(&mut h);
    assert!(h.query_by_label_contains("32 bit pseudo relocation at 000000014000157A out of range").is_some());
    let first = plan.steps.iter().position(|s| s.status == Status::OutOfRange).unwrap();
    // Switching that step off (its "on" cell) lets the runtime go on to the next bad one.
    h.get_all_by_label("on").nth(first).unwrap().click();
    let plan = wait_for_plan(&mut h);
    assert!(!plan.steps[first].enabled);
    let next = plan.steps.iter().position(|s| s.status == Status::OutOfRange && s.enabled).unwrap();
    assert!(plan
        .failure
        .as_deref()
        .unwrap()
        .contains(&format!("{:016X}", 0x1_4000_0000u64 + plan.steps[next].target_rva)));
    // A typed base wins over the preset.
    h.state_mut().apply(Action::Patch(PatchAction::Base("data.dll".into(), "0x150000000".into())));
    let plan = wait_for_plan(&mut h);
    assert_eq!(plan.modules[1].base, 0x1_5000_0000);
    assert_eq!(plan.failure, None);
    // The memory wine gave the process matches the prediction (with every step on).
    h.state_mut().apply(Action::Patch(PatchAction::Toggle(first)));
    wait_for_plan(&mut h);
    h.state_mut().apply(Action::Patch(PatchAction::Dump(dir.join("autoimport.exe.mem.gz"))));
    wait_for_plan(&mut h);
    assert!(h.query_by_label_contains("match, 0 differ").is_some());
}

#[test]
fn patch_view_verifies_against_a_minidump_with_the_bases_it_records() {
    // wine moved data2.dll to 0x830000 (a collision): the preset says nothing of it, the dump does.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps/md-x64-collide");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("data2.dll")]));
    click_view(&mut h, View::Patch);
    wait_for_plan(&mut h);
    h.state_mut().apply(Action::Patch(PatchAction::Dump(dir.join("self.dmp.gz"))));
    let plan = wait_for_plan(&mut h);
    assert_eq!(plan.image().base, 0x830000, "the base comes from the dump");
    let (_, v) = active(&h).patch.dump.as_ref().expect("a dump");
    let v = v.as_ref().expect("verified");
    assert!(v.checked > 100 && v.mismatches.is_empty(), "{} checked, {:?}", v.checked, v.mismatches);
    assert!(h.query_by_label_contains("match, 0 differ").is_some());
}

#[test]
fn patch_view_names_each_instruction_by_its_target_before_and_after() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/x64-gnu-small-near");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("autoimport.exe"), dir.join("data.dll")]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Patch);
    let plan = wait_for_plan(&mut h);
    // &arr[3] in small-model code: its v2 item has no offset of its own; the site gives +0xc.
    let st = plan.steps.iter().find(|s| s.target_rva == 0x1598).expect("step");
    assert_eq!((st.import.as_deref(), st.offset), (Some("data.dll!arr"), Some(12)));
    assert_eq!(st.insn_before.as_deref(), Some("mov r8d, [data.dll!arr+0xc]"));
    assert_eq!(st.insn_after.as_deref(), Some("mov r8d, [data.dll!arr+0xc]"), "the same target after");
    assert_eq!(
        h.query_all_by_label("data.dll!arr+0xc").count(),
        2,
        "the Import column: the code field and &arr[3] in .data"
    );
    assert!(h.query_by_label("mov r8d, [data.dll!arr+0xc]  →  mov r8d, [data.dll!arr+0xc]").is_some());
}

/// Run frames until the active document's diff is in.
fn wait_for_diff(h: &mut Harness<'_, App>) -> Arc<linkscope::gui::diff::DiffData> {
    for _ in 0..1000 {
        h.run();
        let d = &active(h).diff;
        if d.job.is_none() {
            if let Some(Ok(data)) = &d.result {
                return data.clone();
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no diff");
}

#[test]
fn diff_view_compares_two_files_steps_through_changes_and_shows_a_patch_applied() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch");
    let mut h = harness(gui_support::loaded_paths(&[
        dir.join("x64-gnu-small-near/autoimport.exe"),
        dir.join("x64-gnu-small-near/data.dll"),
    ]));
    activate(&mut h, "autoimport.exe");
    // Patch view → Apply: the file as mapped against after the loader and the runtime.
    click_view(&mut h, View::Patch);
    wait_for_plan(&mut h);
    h.get_by_label("Apply → Diff").click();
    let data = wait_for_diff(&mut h);
    assert_eq!(active(&h).view, View::Diff);
    let sites = data.diff.changes.iter().filter(|c| c.structures[0].kind == "pseudo-reloc-site").count();
    assert_eq!(sites, 9, "every pseudo-relocated field is a change of its own");
    assert!(data
        .diff
        .changes
        .iter()
        .any(|c| c.structures[0].kind == "iat-slot" && c.structures[0].name == "data.dll!arr"));
    // F8 selects the first change, then the next; Shift+F8 goes back.
    h.key_press(Key::F8);
    h.run();
    assert_eq!(active(&h).table(TableId::Diff).selected, Some(0));
    h.get_by_label("Next ▶").click();
    h.run();
    assert_eq!(active(&h).table(TableId::Diff).selected, Some(1));
    h.key_press_modifiers(Modifiers::SHIFT, Key::F8);
    h.run();
    assert_eq!(active(&h).table(TableId::Diff).selected, Some(0));
    // The selected change's bytes side by side.
    assert!(h.query_by_label("before").is_some() && h.query_by_label("after").is_some());
    // Filter by structure kind.
    h.state_mut().apply(Action::Table(TableId::Diff, TableAction::Facet(0, Some("pseudo-reloc-site".into()))));
    h.run();
    let doc = active(&h);
    assert_eq!(doc.table(TableId::Diff).shown(data.diff.changes.len()), 9);
    // Two files: File → Compare with the other document.
    let other = h.state().doc_named("data.dll").unwrap().id;
    h.state_mut().apply(Action::Diff(DiffAction::With(other)));
    let data = wait_for_diff(&mut h);
    assert!(!data.diff.summary.identical);
    assert!(data.diff.structural.iter().any(|s| s.kind == "export" && s.change == "added"));
}

/// Run frames until the active document's link simulation is in.
fn wait_for_link(h: &mut Harness<'_, App>) -> Arc<linkscope::gui::link::LinkData> {
    for _ in 0..1000 {
        h.run();
        let l = &active(h).link;
        if l.job.is_none() {
            match &l.result {
                Some(Ok(data)) => return data.clone(),
                Some(Err(e)) => panic!("link: {e}"),
                None => {}
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no link");
}

#[test]
fn link_view_links_the_open_objects_compares_with_the_image_and_follows_the_input_order() {
    use linkscope::link::Flavor;
    let files = ["crt0.obj", "a.obj", "b.obj", "odr1.obj", "odr2.obj", "cxx.exe"];
    let mut h = harness(loaded(&files.map(|f| format!("link/{f}")).iter().map(String::as_str).collect::<Vec<_>>()));
    activate(&mut h, "crt0.obj");
    click_view(&mut h, View::Link);
    let data = wait_for_link(&mut h);
    // The objects beside crt0.obj, in tab order; the image beside them with its map is compared.
    assert_eq!(data.command, "/entry:start /brepro crt0.obj a.obj b.obj odr1.obj odr2.obj");
    assert!(h.query_by_label_contains("lld-link would link it").is_some());
    assert!(h.query_by_label_contains("64 input sections compared, no difference").is_some());
    let odr = |d: &linkscope::gui::link::LinkData| {
        d.report.comdats.iter().find(|c| c.symbol == "?odr_f@@YAHXZ").unwrap().kept.clone().unwrap().file
    };
    assert_eq!(odr(&data), "odr1.obj");
    // The COMDATs panel flags the two different odr_f copies.
    h.get_by_label_contains("COMDATs (").click();
    h.run();
    assert!(h.query_by_label_contains("copies differ").is_some());
    // odr2.obj before odr1.obj: its copy wins, and the image no longer matches.
    h.get_all_by_label("◀").last().unwrap().click();
    let data = wait_for_link(&mut h);
    assert_eq!(odr(&data), "odr2.obj");
    assert!(!data.compare.as_ref().unwrap().1.as_ref().unwrap().differences.is_empty());
    // Without b.obj, and under GNU ld's rules.
    h.state_mut().apply(Action::Link(LinkAction::Include("b.obj".into(), false)));
    let data = wait_for_link(&mut h);
    assert!(!data.command.contains("b.obj"));
    h.state_mut().apply(Action::Link(LinkAction::Flavor(Flavor::GnuLd)));
    let data = wait_for_link(&mut h);
    assert_eq!(data.report.flavor, "gnu-ld");
    // A pasted command line wins over the options.
    h.state_mut().apply(Action::Link(LinkAction::Paste("-e start crt0.obj".into())));
    let data = wait_for_link(&mut h);
    assert_eq!(data.command, "-e start crt0.obj");
    assert!(!data.report.succeeds, "crt0.obj alone needs a.obj's functions");
    h.get_by_label_contains("Input sections (").click();
    h.run();
    assert!(data.rows.iter().any(|r| r.fate == "placed"));
    assert!(h.query_all_by_label("placed").count() >= 1);
}

#[test]
fn far_preset_counts_the_steps_after_the_abort_as_not_reached_and_recounts_on_a_switch() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/x64-gnu-small-near");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("autoimport.exe"), dir.join("data.dll")]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Patch);
    wait_for_plan(&mut h);
    h.get_by_label("Far (> 4 GiB away)").click();
    let plan = wait_for_plan(&mut h);
    // The runtime aborts at step 0: nothing after it is applied, and the summary says so.
    assert!(plan.failure.is_some());
    let n = plan.steps.len();
    assert_eq!(plan.steps[0].status.name(), "out-of-range");
    assert!(plan.steps[1..].iter().all(|s| s.status.name() == "not-reached" && !s.reached), "{:?}", plan.steps);
    assert!(h.query_by_label(&format!("mingw: 1 out-of-range, {} not-reached", n - 1)).is_some());
    assert!(h.query_by_label("applied").is_none(), "no step's status reads applied");
    // The Status facet offers not-reached and keeps exactly those rows.
    let facet = Action::Table(TableId::Patch, TableAction::Facet(0, Some("not-reached".into())));
    h.state_mut().apply(facet);
    h.run();
    assert_eq!(active(&h).table(TableId::Patch).shown(n), n - 1);
    h.state_mut().apply(Action::Table(TableId::Patch, TableAction::Facet(0, None)));
    h.run();
    // Switching step 0 off recomputes the plan and its counts: the runtime stops at step 1.
    h.get_all_by_label("on").next().unwrap().click();
    let plan = wait_for_plan(&mut h);
    assert!(!plan.steps[0].enabled && plan.steps[1].reached && !plan.steps[2].reached);
    assert!(h.query_by_label(&format!("mingw: 2 out-of-range, {} not-reached; 1 switched off", n - 2)).is_some());
}

#[test]
fn the_target_facet_keeps_every_site_whose_true_target_is_an_import() {
    // x86: `pt.y` through a pseudo-relocation is data.dll!pt + 8, an address past its IAT slot
    // that lands on data: its naive kind is `data`, its true target an import.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/x86-collide");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("collide.exe")]));
    click_view(&mut h, View::Refs);
    let sites = &active(&h).core.refs.sites;
    let n = sites.len();
    let imports = sites
        .iter()
        .filter(|s| {
            matches!(s.import, Some(linkscope::analysis::ImportRef::Row(_)))
                && s.target_kind != linkscope::analysis::TargetKind::Thunk
        })
        .count();
    let naive_data = sites.iter().filter(|s| s.import.is_some() && s.target_kind.name() == "data").count();
    assert!(naive_data >= 1, "the fixture has a site whose address lands on data");
    h.state_mut().apply(Action::Table(TableId::Refs, TableAction::Facet(1, Some("iat".into()))));
    h.run();
    assert_eq!(active(&h).table(TableId::Refs).shown(n), imports);
    h.state_mut().apply(Action::Table(TableId::Refs, TableAction::Facet(1, Some("data".into()))));
    h.run();
    let doc = active(&h);
    let shown: Vec<usize> =
        (0..doc.table(TableId::Refs).shown(n)).filter_map(|p| doc.table(TableId::Refs).row_at(p)).collect();
    assert!(shown.iter().all(|&r| doc.core.refs.sites.get(r).unwrap().import.is_none()), "no import site under data");
}

#[test]
fn the_reach_facet_filters_by_reach_not_by_text() {
    // data.dll far away: the five pseudo-relocated RIP-relative fields are out of reach; one
    // pointer's target lies outside the image (kind `outside`), which the text "OUT" matches too.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/x64-gnu-small-far");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("autoimport.exe")]));
    click_view(&mut h, View::Refs);
    let n = active(&h).core.refs.sites.len();
    h.state_mut().apply(Action::Table(TableId::Refs, TableAction::Facet(3, Some("out".into()))));
    h.run();
    let doc = active(&h);
    assert_eq!(doc.table(TableId::Refs).shown(n), 5);
    assert_eq!(doc.core.refs.summary.unreachable, 5);
    h.state_mut().apply(Action::Table(TableId::Refs, TableAction::Facet(3, Some("ok".into()))));
    h.run();
    let ok = active(&h).table(TableId::Refs).shown(n);
    assert!(ok > 0);
    // Near enough to be accepted, far enough to wrap: the same five fields.
    let mut h = harness(loaded(&["autoimport-small.exe", "data.dll"]));
    activate(&mut h, "autoimport-small.exe");
    click_view(&mut h, View::Refs);
    let n = active(&h).core.refs.sites.len();
    h.state_mut().apply(Action::Table(TableId::Refs, TableAction::Facet(3, Some("wraps".into()))));
    h.run();
    assert_eq!(active(&h).table(TableId::Refs).shown(n), 5);
}

#[test]
fn following_an_import_names_the_export_by_its_ordinal() {
    let mut h = harness(loaded(&["autoimport.exe", "data.dll"]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Imports);
    h.state_mut().apply(Action::Table(TableId::Imports, TableAction::Filter("data_name".into())));
    h.run();
    h.get_by_label("data_name").click();
    h.run();
    let doc = active(&h);
    let row = doc.table(TableId::Exports).selected.expect("export selected");
    let ordinal = doc.core.bin.exports[row].ordinal;
    assert_ne!(row as u32, ordinal, "row and ordinal differ in data.dll");
    let status = h.state().status.as_ref().expect("a status line").text.clone();
    assert_eq!(status, format!("data.dll!data_name → export #{ordinal} of data.dll"));
}

#[test]
fn the_instruction_count_is_one_fact_across_views() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    let doc = active(&h);
    let instructions = doc.core.refs.summary.instructions;
    let rows = doc.core.refs.insns.len();
    // One relocated pointer in .text is a row of the listing, not an instruction.
    assert_eq!(rows as u64, instructions + 1);
    click_view(&mut h, View::Refs);
    assert!(h.query_by_label_contains(&format!("{instructions} instructions,")).is_some());
    click_view(&mut h, View::Disassembly);
    assert!(h.query_by_label(&format!("{instructions} instructions and 1 pointer in code")).is_some());
    assert!(h.query_by_label_contains(&format!("{rows} instructions")).is_none());
}

#[test]
fn a_selected_row_shows_in_full_below_the_table_which_scrolls_sideways() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/x64-gnu-small-near");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("autoimport.exe"), dir.join("data.dll")]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Patch);
    let plan = wait_for_plan(&mut h);
    // The Patch table's columns need more than 1280 px: the table scrolls sideways (the reason
    // column stays its width, off to the right) instead of squeezing the last column.
    let reason = plan.steps[4].reason.clone();
    assert!(reason.chars().count() > 40, "{reason}");
    let in_table = h.query_all_by_label(&reason).count();
    assert!(h.query_by_label_contains("in full").is_none(), "no details without a selection");
    h.state_mut().apply(Action::Table(TableId::Patch, TableAction::Select(Some(4))));
    h.run();
    // The whole row, the reason unabridged and wrapped, in the details pane.
    assert!(h.query_by_label_contains("in full").is_some());
    assert!(h.query_by_label("Why:").is_some());
    assert_eq!(h.query_all_by_label(&reason).count(), in_table + 1, "the reason in full");
    // Deselecting closes it.
    h.get_by_label("Deselect").click();
    h.run();
    assert_eq!(active(&h).table(TableId::Patch).selected, None);
    assert!(h.query_by_label_contains("in full").is_none());
}

#[test]
fn link_view_lists_the_runtime_pseudo_relocations_of_automatic_imports() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/link/autoimport64");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("main.o")]));
    click_view(&mut h, View::Link);
    wait_for_link(&mut h);
    h.state_mut().apply(Action::Link(LinkAction::Paste("ld.lld -m i386pep -e start main.o libdata.a".into())));
    let data = wait_for_link(&mut h);
    assert!(data.report.succeeds, "{:?}", data.report.diagnostics);
    h.get_by_label_contains("Image: sections").click();
    h.run();
    assert!(h.query_by_label("Runtime pseudo-relocations (3)").is_some());
    // Each entry names the import whose IAT slot it adds: arr[3]'s address in .data.
    assert!(h.query_by_label("0x4000 ← data.dll!arr (64 bits)").is_some());
}

/// Objects → link → load → patch: the image the simulated link writes opens in the Patch view,
/// which binds it to the open data.dll and applies the three pseudo-relocations as for the
/// image ld.lld wrote (`patch lld-autoimport.exe --dll data.dll`: the same values).
#[test]
fn link_view_hands_the_simulated_image_to_the_patch_view() {
    use linkscope::patch::Status;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/link/autoimport64");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("main.o"), sample("data.dll")]));
    activate(&mut h, "main.o");
    click_view(&mut h, View::Link);
    wait_for_link(&mut h);
    h.state_mut().apply(Action::Link(LinkAction::Paste("ld.lld -m i386pep -e start main.o libdata.a".into())));
    let data = wait_for_link(&mut h);
    assert!(data.image.is_some());
    // The Image panel names what the simulation cannot know: lld's debug time stamp and GUID.
    h.get_by_label_contains("Image: sections").click();
    h.run();
    assert!(h.query_by_label("a.exe, as written (3584 bytes)").is_some());
    assert!(h.query_by_label_contains("the CodeView GUID").is_some());
    h.get_by_label("Load a.exe in the Patch view").click();
    h.run_steps(2);
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(20)));
    let doc = active(&h);
    assert_eq!(doc.core.name, "a.exe (simulated)");
    assert_eq!(doc.core.path, dir.join("a.exe"));
    assert_eq!(doc.view, View::Patch);
    let plan = wait_for_plan(&mut h);
    let got: Vec<(u64, u64, Status)> = plan.steps.iter().map(|s| (s.target_rva, s.after, s.status)).collect();
    assert_eq!(
        got,
        [
            (0x4000, 0x1_fe10_304c, Status::Applied),
            (0x4008, 0x1_fe10_3034, Status::Applied),
            (0x4010, 0x1_fe10_3020, Status::Applied)
        ]
    );
}

#[test]
fn link_view_lists_a_dlls_exports_and_its_import_library() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/link/exports64");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("dll.obj")]));
    click_view(&mut h, View::Link);
    wait_for_link(&mut h);
    let cmd = "lld-link /entry:start /dll /out:lld-dll.dll dll.obj /export:f_b /export:alias=f_c,@5 /export:f_hidden,@9,NONAME";
    h.state_mut().apply(Action::Link(LinkAction::Paste(cmd.into())));
    let data = wait_for_link(&mut h);
    assert!(data.report.succeeds, "{:?}", data.report.diagnostics);
    h.get_by_label_contains("Image: sections").click();
    h.run();
    let n = data.report.exports.len();
    assert!(n >= 4 && h.query_by_label(&format!("Exports ({n})")).is_some());
    let alias = data.report.exports.iter().find(|e| e.name.as_deref() == Some("alias")).unwrap();
    assert!(h.query_by_label(&format!("  5 {:#x} alias", alias.rva.unwrap())).is_some());
    assert!(h.query_by_label_contains("Import library lld-dll.lib").is_some());
    assert!(h.query_by_label("__imp_alias → lld-dll.dll!alias (name)").is_some());
    // GNU ld's --out-implib library: long-form members, each named by its archive member.
    let cmd = "x86_64-w64-mingw32-ld --shared -e start --out-implib g.dll.a dllm.obj ../src/exports/dll.def";
    h.state_mut().apply(Action::Link(LinkAction::Paste(cmd.into())));
    let data = wait_for_link(&mut h);
    assert!(data.report.succeeds, "{:?}", data.report.diagnostics);
    h.run();
    assert!(h.query_by_label("Import library g.dll.a (5 imports)").is_some());
    assert!(h.query_by_label("__imp_alias → defdll.dll!alias (defdll_dll_d000001.o)").is_some());
}

#[test]
fn link_view_takes_the_neighbours_of_one_object_a_pasted_program_name_and_a_map_alone() {
    use linkscope::link::Flavor;
    let mut h = harness(loaded(&["link/crt0.obj"]));
    click_view(&mut h, View::Link);
    let data = wait_for_link(&mut h);
    // Opened on one object: the objects beside it on disk are inputs too, listed and switchable.
    assert_eq!(data.command, "/entry:start crt0.obj a.obj b.obj odr1.obj odr2.obj");
    assert!(data.report.succeeds, "{:?}", data.report.diagnostics);
    let doc = active(&h);
    let open: Vec<_> = h.state().docs.iter().map(|d| d.core.clone()).collect();
    let entries = doc.link.entries(&open, &doc.core);
    assert!(entries.iter().all(|e| e.on));
    assert_eq!(entries.iter().filter(|e| e.beside).count(), 4);
    h.run();
    assert!(h.query_by_label("odr2.obj").is_some(), "a neighbour has its checkbox");
    h.state_mut().apply(Action::Link(LinkAction::Include("b.obj".into(), false)));
    let data = wait_for_link(&mut h);
    assert_eq!(data.command, "/entry:start crt0.obj a.obj odr1.obj odr2.obj");
    h.state_mut().apply(Action::Link(LinkAction::Include("b.obj".into(), true)));
    wait_for_link(&mut h);
    // "Compare with" offers the map beside the inputs alone; comparing with it compares its chunks.
    let map = active(&h).link.maps.iter().find(|m| m.ends_with("cxx.lldmap")).cloned().expect("map listed");
    h.state_mut().apply(Action::Link(LinkAction::Extra("/brepro".into())));
    wait_for_link(&mut h);
    h.state_mut().apply(Action::Link(LinkAction::CompareMap(map)));
    let data = wait_for_link(&mut h);
    let (name, c) = data.compare.as_ref().expect("compared");
    assert_eq!(name, "cxx.lldmap");
    let c = c.as_ref().expect("the map reads");
    assert_eq!(c.placements_compared, 64);
    assert!(c.differences.is_empty(), "{:?}", c.differences);
    assert!(h.query_by_label_contains("64 input sections compared, no difference").is_some());
    // A command line pasted as typed: the program name picks the linker, the view says so, and
    // the inputs row shows the inputs it names, in its order.
    h.state_mut().apply(Action::Link(LinkAction::Paste("lld-link /entry:start /brepro crt0.obj a.obj b.obj".into())));
    let data = wait_for_link(&mut h);
    assert_eq!(data.report.flavor, "lld-link");
    assert_eq!(data.command, "/entry:start /brepro crt0.obj a.obj b.obj");
    assert!(h.query_by_label_contains("picked from `lld-link`").is_some());
    h.state_mut().apply(Action::Link(LinkAction::Paste("x86_64-w64-mingw32-ld -e start b.obj crt0.obj a.obj".into())));
    let data = wait_for_link(&mut h);
    assert_eq!(data.report.flavor, Flavor::GnuLd.name());
    assert_eq!(active(&h).link.flavor(), Flavor::GnuLd);
    let doc = active(&h);
    let names: Vec<String> = doc.link.entries(&open, &doc.core).into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["b.obj", "crt0.obj", "a.obj"]);
    h.run();
    assert!(h.query_by_label_contains("picked from `x86_64-w64-mingw32-ld`").is_some());
    assert!(h.query_by_label("odr2.obj").is_none(), "the inputs row follows the pasted line");
    assert!(h.query_all_by_label("b.obj").next().is_some());
}

#[test]
fn link_table_says_another_copy_won_demangled() {
    let files = ["crt0.obj", "a.obj", "b.obj", "odr1.obj", "odr2.obj"];
    let mut h = harness(loaded(&files.map(|f| format!("link/{f}")).iter().map(String::as_str).collect::<Vec<_>>()));
    activate(&mut h, "crt0.obj");
    click_view(&mut h, View::Link);
    let data = wait_for_link(&mut h);
    let lost = data.rows.iter().find(|r| r.fate == "comdat" && r.why.contains("odr_f")).expect("a copy lost");
    assert!(lost.why.starts_with("another copy of COMDAT int __cdecl odr_f(void) won"), "{}", lost.why);
    h.get_by_label_contains("Input sections (").click();
    h.run();
    // The Fate facet offers the words the column shows, and keeps exactly those rows.
    h.state_mut().apply(Action::Table(TableId::Link, TableAction::Facet(0, Some("another copy won".into()))));
    h.run();
    let lost = data.rows.iter().filter(|r| r.fate == "comdat").count();
    assert_eq!(active(&h).table(TableId::Link).shown(data.rows.len()), lost);
    assert!(h.query_all_by_label("another copy won").count() >= 1);
}

#[test]
fn link_view_leaves_out_neighbours_it_cannot_link_and_those_beside_an_image() {
    // comdat.obj sits beside omf32.obj (OMF: not a COFF input) and two images.
    let mut h = harness(loaded(&["comdat.obj", "autoimport.exe"]));
    activate(&mut h, "comdat.obj");
    click_view(&mut h, View::Link);
    h.run();
    let open: Vec<_> = h.state().docs.iter().map(|d| d.core.clone()).collect();
    let doc = active(&h);
    let names: Vec<String> = doc.link.entries(&open, &doc.core).into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["comdat.obj"]);
    // Beside an image, only open inputs: nothing is picked up from disk.
    let mut h = harness(loaded(&["link/cxx.exe"]));
    click_view(&mut h, View::Link);
    h.run();
    let open: Vec<_> = h.state().docs.iter().map(|d| d.core.clone()).collect();
    let doc = active(&h);
    assert!(doc.link.entries(&open, &doc.core).is_empty());
}

#[test]
fn ctrl_tab_and_ctrl_page_keys_switch_tabs() {
    let mut h = harness(loaded(&["autoimport.exe", "autoimport-small.exe", "data.dll"]));
    activate(&mut h, "autoimport.exe");
    let name = |h: &Harness<'_, App>| active(h).core.name.clone();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Tab);
    h.run();
    assert_eq!(name(&h), "autoimport-small.exe");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Tab);
    h.run();
    assert_eq!(name(&h), "autoimport.exe", "Ctrl+Shift+Tab goes back");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Tab);
    h.run();
    assert_eq!(name(&h), "data.dll", "wraps around to the last tab");
    h.key_press_modifiers(Modifiers::COMMAND, Key::PageDown);
    h.run();
    assert_eq!(name(&h), "autoimport.exe", "Ctrl+PgDn wraps around to the first");
    h.key_press_modifiers(Modifiers::COMMAND, Key::PageDown);
    h.run();
    assert_eq!(name(&h), "autoimport-small.exe");
    h.key_press_modifiers(Modifiers::COMMAND, Key::PageUp);
    h.run();
    assert_eq!(name(&h), "autoimport.exe");
    // Switching tabs is history: Back returns to the tab before.
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
    h.run();
    assert_eq!(name(&h), "autoimport-small.exe");
}

#[test]
fn goto_with_a_bad_address_keeps_the_prompt_open_with_its_text_and_selects_it_when_reopened() {
    let mut h = harness(loaded(&["autoimport.exe"]));
    h.key_press_modifiers(Modifiers::COMMAND, Key::G);
    h.run();
    let input = |h: &Harness<'_, App>| {
        let n = h.get_by_role(egui::accesskit::Role::TextInput);
        (n.value().unwrap_or_default(), n.is_focused())
    };
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("0xzz12");
    h.key_press(Key::Enter);
    h.run();
    assert!(h.state().goto_open, "the prompt stays open after an error");
    assert!(
        h.state().status.as_ref().is_some_and(|s| s.error && s.text.starts_with("Go to:")),
        "{:?}",
        h.state().status
    );
    assert_eq!(input(&h), ("0xzz12".to_string(), true), "its text is kept and it keeps the keyboard");
    // Typing more goes on from the text (nothing was selected after the error).
    h.event(egui::Event::Key {
        key: Key::Backspace,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: Modifiers::NONE,
    });
    h.run();
    assert_eq!(input(&h).0, "0xzz1");
    // Closed and opened again, the old text is selected: typing replaces it.
    h.key_press(Key::Escape);
    h.run();
    assert!(!h.state().goto_open);
    h.key_press_modifiers(Modifiers::COMMAND, Key::G);
    h.run();
    assert_eq!(input(&h), ("0xzz1".to_string(), true));
    h.event(egui::Event::Text("0x140009e80".into()));
    h.run();
    assert_eq!(input(&h).0, "0x140009e80", "the old text was selected and replaced");
    h.key_press(Key::Enter);
    h.run();
    assert!(!h.state().goto_open, "a good address closes the prompt");
    assert_eq!(h.state().last_goto.as_ref().and_then(|r| r.rva), Some(0x9e80));
}

#[test]
fn the_theme_and_the_file_browser_choice_round_trip_through_settings() {
    use gui_support::MemStorage as Mem;
    use linkscope::gui::persist::ThemeChoice;
    assert_eq!(Settings::default().theme, ThemeChoice::System, "follows the system by default");
    for choice in ThemeChoice::ALL {
        let mut h = harness(App::new(Vec::new(), Settings::default()));
        h.state_mut().apply(Action::SetTheme(choice));
        h.state_mut().apply(Action::SetBuiltinBrowser(true));
        h.run();
        let want = match choice {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
            ThemeChoice::Light => egui::ThemePreference::Light,
        };
        assert_eq!(h.ctx.options(|o| o.theme_preference), want, "{choice:?} is applied");
        let mut mem = Mem::default();
        h.state().settings.save(&mut mem);
        let back = Settings::load(Some(&mem));
        assert_eq!((back.theme, back.builtin_browser), (choice, true));
        assert_eq!(back, h.state().settings);
    }
    // Settings stored before these fields existed still load, with the defaults for them.
    let mut mem = Mem::default();
    eframe::Storage::set_string(
        &mut mem,
        linkscope::gui::persist::KEY,
        "(recent: [], last_view: {}, hex_pane: false, demangle: true)".into(),
    );
    let old = Settings::load(Some(&mem));
    assert_eq!((old.hex_pane, old.theme, old.builtin_browser), (false, ThemeChoice::System, false));
    // The View menu's radio buttons set it.
    let mut h = harness(App::new(Vec::new(), Settings::default()));
    h.get_by_label("View").click();
    h.run();
    h.get_by_label("Light").click();
    h.run();
    assert_eq!(h.state().settings.theme, ThemeChoice::Light);
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
}

#[test]
fn the_built_in_file_browser_lists_filters_opens_compares_and_saves() {
    use linkscope::gui::action::BrowserAction;
    use linkscope::gui::browser::Purpose;
    let dir = std::env::temp_dir().join(format!("linkscope-browser-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("Sub")).unwrap();
    std::fs::create_dir_all(dir.join("another")).unwrap();
    std::fs::copy(sample("data.dll"), dir.join("data.dll")).unwrap();
    std::fs::copy(sample("autoimport-small.exe"), dir.join("autoimport-small.exe")).unwrap();
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    let dir = std::fs::canonicalize(&dir).unwrap();
    let settings = Settings { builtin_browser: true, ..Settings::default() };
    // Frames a 60th of a second apart, so that two clicks make a double-click.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(64)
        .with_context_setup(linkscope::gui::theme::install)
        .build_ui_state(|ui, app: &mut App| app.ui_contents(ui), App::new(Vec::new(), settings));
    // Open… shows the built-in browser (the setting asks for it).
    h.state_mut().apply(Action::OpenDialog);
    h.run();
    assert_eq!(h.state().browser.as_ref().map(|b| b.purpose.clone()), Some(Purpose::Open));
    h.state_mut().apply(Action::Browser(BrowserAction::Pick(dir.clone())));
    h.run();
    let b = h.state().browser.clone().expect("open");
    assert_eq!(b.dir, dir);
    let names: Vec<(&str, bool)> = b.entries.iter().map(|e| (e.name.as_str(), e.dir)).collect();
    assert_eq!(
        names,
        [("another", true), ("Sub", true), ("autoimport-small.exe", false), ("data.dll", false), ("notes.txt", false)],
        "folders first, each by name"
    );
    assert!(
        h.query_by_label_contains("notes.txt").is_some(),
        "entries are drawn (a name the Welcome page behind does not list)"
    );
    // A double-click opens a folder in place; ↑ / ↓ in the filter move the selection.
    h.get_by_label("Sub/").click();
    h.step();
    h.get_by_label("Sub/").click();
    h.run();
    assert_eq!(h.state().browser.as_ref().map(|b| b.dir.clone()), Some(dir.join("Sub")));
    h.state_mut().apply(Action::Browser(BrowserAction::Pick(dir.clone())));
    h.run();
    h.key_press(Key::ArrowDown);
    h.key_press(Key::ArrowDown);
    h.run();
    assert_eq!(h.state().browser.as_ref().and_then(|b| b.selected), Some(1));
    // Up, and back into the folder by typing its path.
    h.state_mut().apply(Action::Browser(BrowserAction::Up));
    assert_eq!(h.state().browser.as_ref().map(|b| b.dir.clone()), dir.parent().map(Path::to_path_buf));
    h.state_mut().apply(Action::Browser(BrowserAction::Pick(dir.clone())));
    h.run();
    // Typing filters (the filter has the keyboard); Enter opens the only match.
    h.event(egui::Event::Text("DATA".into()));
    h.run();
    let b = h.state().browser.clone().expect("open");
    assert_eq!(b.filter, "DATA");
    assert_eq!(b.shown().iter().map(|&i| b.entries[i].name.as_str()).collect::<Vec<_>>(), ["data.dll"]);
    assert!(h.query_by_label_contains("notes.txt").is_none(), "filtered out");
    h.key_press(Key::Enter);
    h.step(); // the welcome screen's spinner repaints while the file loads
    assert!(h.state().browser.is_none(), "closed once a file is picked");
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(60)));
    h.run();
    assert_eq!(active(&h).core.name, "data.dll");
    assert_eq!(h.state().settings.last_dir.as_deref(), Some(dir.as_path()), "the folder is remembered");
    // File → Open path… is the same browser, at the folder used last.
    h.state_mut().apply(Action::ShowOpenPath(true));
    assert_eq!(h.state().browser.as_ref().map(|b| b.dir.clone()), Some(dir.clone()));
    // A missing file is refused in the browser.
    h.state_mut().apply(Action::Browser(BrowserAction::Pick(dir.join("missing.exe"))));
    assert!(h.state().browser.as_ref().is_some_and(|b| b.error.as_deref().is_some_and(|e| e.contains("no such file"))));
    h.key_press(Key::Escape);
    h.run();
    assert!(h.state().browser.is_none(), "Esc closes it");

    // Compare with → A file…: the file is opened and the active document diffed against it.
    h.state_mut().apply(Action::CompareDialog);
    assert!(matches!(h.state().browser.as_ref().map(|b| &b.purpose), Some(Purpose::Compare(_))));
    h.state_mut().apply(Action::Browser(BrowserAction::Pick(dir.join("autoimport-small.exe"))));
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(60)));
    let diff = wait_for_diff(&mut h);
    assert_eq!(active(&h).core.name, "data.dll");
    assert_eq!(active(&h).view, View::Diff);
    assert!(!diff.diff.changes.is_empty());

    // Export → Browse…: the browser asks for a file name, suggested from the table.
    activate(&mut h, "data.dll");
    h.state_mut().apply(Action::ShowExport(Some((TableId::Exports, ExportFormat::Csv))));
    h.state_mut().apply(Action::Table(TableId::Exports, TableAction::ExportDialog(ExportFormat::Csv)));
    let b = h.state().browser.clone().expect("export browser");
    assert!(b.purpose.saves());
    assert_eq!(b.dir, dir, "beside the document");
    assert!(b.name.ends_with(".csv"), "{}", b.name);
    h.state_mut().apply(Action::Browser(BrowserAction::Name("exports.csv".into())));
    h.run();
    h.get_by_label("Save").click();
    h.run();
    assert!(h.state().browser.is_none());
    let text = std::fs::read_to_string(dir.join("exports.csv")).expect("written");
    assert!(text.lines().count() > 1, "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Run frames until the active document's re-scan (after a placement change) is in.
fn wait_for_rescan(h: &mut Harness<'_, App>) {
    for _ in 0..1000 {
        h.run();
        if active(h).rescan.is_none() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no re-scan");
}

#[test]
fn the_dll_placement_is_one_setting_shared_by_data_references_and_the_patch_view() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/x64-gnu-small-near");
    let mut h = harness(gui_support::loaded_paths(&[dir.join("autoimport.exe"), dir.join("data.dll")]));
    activate(&mut h, "autoimport.exe");
    click_view(&mut h, View::Refs);
    // data.dll at its preferred base, 256 MiB away: every small-model site reaches it.
    assert_eq!(active(&h).core.refs.summary.unreachable, 0);
    assert!(h.query_by_label("0 unreachable").is_some());
    // Far, picked in Data references: the sites are scanned again with the DLL > 4 GiB away.
    h.get_by_label("Far (> 4 GiB away)").click();
    wait_for_rescan(&mut h);
    let out = active(&h).core.refs.summary.unreachable;
    assert!(out >= 5, "the five RIP-relative fields no longer reach: {out}");
    let data_dll = active(&h).core.modules.iter().find(|m| m.name == "data.dll").and_then(|m| m.base);
    assert!(data_dll.is_some_and(|b| b >= 0x1_4000_0000 + (4 << 30)), "{data_dll:x?}");
    // The Patch view follows the same setting: its plan aborts.
    let plan = wait_for_plan(&mut h);
    assert!(plan.failure.is_some());
    assert_eq!(active(&h).patch.preset, linkscope::session::place::Preset::Far);
    // "N unreachable" links to those rows: the Reach facet set to "out".
    click_view(&mut h, View::Refs);
    h.get_by_label(&format!("{out} unreachable")).click();
    h.run();
    assert_eq!(active(&h).table(TableId::Refs).shown(active(&h).core.refs.sites.len()), out as usize);
    // A typed base in Data references (Enter applies) brings it back within reach.
    h.state_mut().apply(Action::Patch(PatchAction::Base("data.dll".into(), "0x150000000".into())));
    wait_for_rescan(&mut h);
    assert_eq!(active(&h).core.refs.summary.unreachable, 0);
    // The Disassembly shows the same placement bar.
    click_view(&mut h, View::Disassembly);
    assert!(h.query_by_label("DLLs placed:").is_some());
}

#[test]
fn copy_address_gives_the_va_of_a_rows_bytes_in_go_to_notation() {
    let mut app =
        gui_support::loaded_paths(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/autoimport.exe")]);
    let doc = app.active_doc().expect("doc");
    let row = doc.core.index.imports[0];
    let slot = doc.core.bin.imports[row.module as usize].entries[row.entry as usize].iat_rva;
    let base = doc.core.bin.image_base.expect("an image");
    app.apply(Action::Table(TableId::Imports, TableAction::CopyAddress(0)));
    assert_eq!(app.last_copied.as_deref(), Some(format!("{:#x}", base + slot).as_str()));
    // The copied text goes back to the same bytes through Go to.
    let copied = app.last_copied.clone().expect("copied");
    app.apply(Action::GoTo(copied));
    assert!(app.status.as_ref().is_some_and(|s| !s.error), "{:?}", app.status);
}

#[test]
fn a_document_opened_later_joins_the_link_shown() {
    let mut h = harness(loaded(&["link/crt0.obj", "link/a.obj"]));
    activate(&mut h, "crt0.obj");
    click_view(&mut h, View::Link);
    let data = wait_for_link(&mut h);
    assert!(!data.command.contains("b.obj"), "b.obj beside, not open, is off: {}", data.command);
    // Opening b.obj (as a load finishing late would) links again with it.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/link");
    h.state_mut().apply(Action::OpenFiles(vec![dir.join("b.obj")]));
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(60)));
    activate(&mut h, "crt0.obj");
    let data = wait_for_link(&mut h);
    assert!(data.command.contains("b.obj"), "{}", data.command);
}
