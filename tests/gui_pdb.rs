//! The app with an MSVC-style image and its PDB (tests/fixtures/pdb): the PDB is found beside
//! the image on the loader's thread, the Contributions view lists and facets its contributions,
//! and the image without a PDB has the view greyed.

#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gui_support;

use std::path::PathBuf;

use egui_kittest::kittest::Queryable;
use gui_support::{active, click_view, harness, loaded_paths};
use linkscope::gui::table::TableModel;
use linkscope::gui::views::contributions::ContribModel;
use linkscope::gui::View;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pdb").join(name)
}

#[test]
fn contributions_view_lists_and_facets_the_pdb_contributions() {
    let mut h = harness(loaded_paths(&[fixture("x64.exe")]));
    let pdb = active(&h).core.pdb.clone().expect("the PDB beside the image is loaded");
    assert!(pdb.header.as_ref().unwrap().matches);
    click_view(&mut h, View::Contributions);
    assert_eq!(active(&h).view, View::Contributions);
    assert!(h.query_all_by_label_contains("From the image's PDB").next().is_some());
    assert!(h.query_all_by_label_contains("helper.obj").next().is_some());
    let core = &active(&h).core;
    let m = ContribModel { core };
    assert_eq!(m.len(), pdb.contributions.len());
    let facets = m.facets();
    let names: Vec<&str> = facets.iter().map(|f| f.name).collect();
    assert_eq!(names, ["Object", "Archive", "Section"]);
    assert!(facets[0].options.iter().any(|o| o == "helper.obj"));
    assert!(facets[1].options.iter().any(|o| o.ends_with("helper.lib")));
    assert!(facets[2].options.iter().any(|o| o == ".rdata"));
    // The PDB's names are the document's symbols (the Symbols view, labels, operands).
    assert!(core.bin.symbols.iter().any(|s| s.name == "?total_area@@YAHPEAPEBUShape@@H@Z"));
    assert!(core.labels().iter().any(|l| l.name == "int __cdecl total_area(struct Shape const **, int)"));
}

#[test]
fn go_to_takes_the_pdb_s_names_mangled_demangled_or_as_a_function_name() {
    use linkscope::gui::Action;
    let mut h = harness(loaded_paths(&[fixture("x64.exe")]));
    let core = active(&h).core.clone();
    let want = core
        .labels()
        .iter()
        .find(|l| l.name == "int __cdecl total_area(struct Shape const **, int)")
        .map(|l| l.rva)
        .expect("the PDB's public labels the function");
    for text in
        ["?total_area@@YAHPEAPEBUShape@@H@Z", "int __cdecl total_area(struct Shape const **, int)", "total_area"]
    {
        h.state_mut().apply(Action::GoTo(text.into()));
        let r = h.state().last_goto.clone().unwrap_or_else(|| panic!("{text}: {:?}", h.state().status));
        assert_eq!(r.rva, Some(want), "{text}");
    }
    h.state_mut().apply(Action::GoTo("no_such_name".into()));
    assert!(h.state().last_goto.is_none());
}
