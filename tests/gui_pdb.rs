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

#[test]
fn layout_map_has_an_objects_lane_coloured_by_object() {
    use linkscope::gui::action::Target;
    use linkscope::gui::document::TableId;
    use linkscope::gui::views::{map, map_objects};
    let mut h = harness(loaded_paths(&[fixture("x64.exe")]));
    click_view(&mut h, View::Map);
    let core = active(&h).core.clone();
    let pdb = core.pdb.clone().expect("the PDB beside the image is loaded");
    let (lanes, _) = map::lanes(&core);
    let names: Vec<&str> = lanes.iter().map(|l| l.name).collect();
    assert_eq!(names[..2], ["Sections", "Objects"], "{names:?}");
    let lane = &lanes[1];
    // One box per contribution that holds bytes, where the PDB puts it, in address order.
    let mut want: Vec<(u64, u64)> = pdb
        .contributions
        .iter()
        .filter(|c| c.size > 0)
        .filter_map(|c| Some((c.rva?, c.rva? + u64::from(c.size))))
        .collect();
    want.sort_unstable();
    let got: Vec<(u64, u64)> = lane.items.iter().map(|i| (i.start, i.end)).collect();
    assert_eq!(got, want);
    for i in &lane.items {
        let Some(Target::Row(TableId::Contributions, p)) = i.target else { panic!("{i:?}") };
        let c = &pdb.contributions[p];
        assert_eq!(c.rva, Some(i.start));
        assert!(c.module.as_deref().unwrap().ends_with(&i.label), "{i:?}");
        // The colour is the object's: the same for each of its contributions.
        assert_eq!(i.kind, map_objects::color_of(c.module_index));
    }
    let of = |name: &str| lane.items.iter().filter(|i| i.label == name).collect::<Vec<_>>();
    let (helper, text) = (of("helper.obj"), of("text.obj"));
    assert!(helper.len() > 1 && !text.is_empty(), "{:?}", lane.items);
    assert_ne!(helper[0].kind, text[0].kind, "two objects, two colours");
    // The tooltip names the object, its archive, the output section and the size.
    let tip = map_objects::tooltip(&core, lane, helper[0]).unwrap();
    assert!(tip.contains("Object helper.obj") && tip.contains("archive ") && tip.contains("helper.lib"), "{tip}");
    assert!(tip.contains("section .text") && tip.contains(&format!("{:#x} bytes", helper[0].end - helper[0].start)));
    assert!(map_objects::tooltip(&core, &lanes[0], &lanes[0].items[0]).is_none(), "other lanes keep theirs");
    // Clicking the object in the map's index selects its contribution.
    let Some(Target::Row(_, row)) = helper[0].target else { unreachable!() };
    h.query_all_by_label("helper.obj").next().expect("listed under the map").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Contributions);
    assert_eq!(doc.table(TableId::Contributions).selected, Some(row));
}

#[test]
fn neighbouring_objects_have_different_colours() {
    use linkscope::gui::views::{map, map_objects};
    let h = harness(loaded_paths(&[fixture("x64.exe")]));
    let core = active(&h).core.clone();
    let (lanes, _) = map::lanes(&core);
    let lane = lanes.iter().find(|l| l.name == map_objects::NAME).unwrap();
    // Boxes side by side are of one object (one colour) or of two (two colours).
    for w in lane.items.windows(2) {
        assert_eq!(w[0].label == w[1].label, w[0].kind == w[1].kind, "{:?} {:?}", w[0], w[1]);
    }
    let kinds: std::collections::HashSet<_> = (0..40).map(map_objects::color_of).collect();
    assert_eq!(kinds.len(), usize::from(linkscope::gui::theme::RefKind::OBJECT_COLORS));
}

#[test]
fn diff_view_names_the_object_of_each_change() {
    use linkscope::gui::action::DiffAction;
    use linkscope::gui::views::diff::DiffModel;
    use linkscope::gui::Action;
    let mut h = harness(loaded_paths(&[fixture("x64.exe"), fixture("x64_changed.exe")]));
    let first = h.state().doc_named("x64.exe").unwrap().id;
    h.state_mut().apply(Action::ActivateDoc(first));
    let other = h.state().doc_named("x64_changed.exe").unwrap().id;
    h.state_mut().apply(Action::Diff(DiffAction::With(other)));
    let mut data = None;
    for _ in 0..2000 {
        h.run();
        let d = &active(&h).diff;
        if let (None, Some(Ok(x))) = (&d.job, &d.result) {
            data = Some(x.clone());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let data = data.expect("the diff is in");
    assert_eq!(active(&h).view, View::Diff);
    let m = DiffModel { data: Some(data.clone()) };
    let col = m.columns().iter().position(|c| c.name == "Object").unwrap();
    // Each change names the object the second build's PDB says holds its bytes.
    let pdb = h.state().doc(other).unwrap().core.pdb.clone().unwrap();
    for (row, c) in data.diff.changes.iter().enumerate() {
        let want = c.rva.and_then(|r| pdb.contribution_at(r)).and_then(|x| x.module.clone());
        assert_eq!(m.text(row, col), want.unwrap_or_else(|| "none".into()), "{c:?}");
    }
    let facets = m.facets();
    let objects = facets.iter().find(|f| f.name == "Object").expect("an Object facet");
    assert!(objects.options.iter().any(|o| o.ends_with("/x64/text.obj")), "{:?}", objects.options);
    assert!(h.query_all_by_label_contains("/x64/text.obj").next().is_some(), "the column is drawn");
}
