//! Headless tests of the app's OMF views (egui_kittest, no display): the Records view with every
//! field and the fixups of FIXUPP and data records, the hex pane naming record and field, OMF
//! segments and groups in the Sections view, OMF COMDATs with their selection and allocation,
//! and OMF library members opened in their own tab. They drive `App::ui_contents` and assert on
//! the app's state and on what is drawn, never on pixels.

#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod corpus_support;
mod gui_support;
mod omf_support;

use gui_support::{active, harness};

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui::{self, Key, Modifiers};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use linkscope::gui::action::TableAction;
use linkscope::gui::document::DocCore;
use linkscope::gui::regions::What;
use linkscope::gui::{Action, App, RecordTab, Settings, TableId, Target, View};
use linkscope::model::{OmfFixup, Span};

fn omf_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/omf").join(name)
}

fn loaded(paths: &[PathBuf]) -> App {
    gui_support::loaded_paths(paths)
}

/// An app with one document built from bytes in memory (named `name`).
fn from_bytes(name: &str, bytes: Vec<u8>) -> App {
    let bin = linkscope::load(&bytes).expect("loads");
    let mut app = App::new(Vec::new(), Settings::default());
    app.add_core(DocCore::analyse(PathBuf::from(name), name.to_string(), bytes, bin), View::Overview);
    app
}

/// Click the sidebar entry of `view` and check that it is shown.
fn click_view(h: &mut Harness<'_, App>, view: View) {
    gui_support::click_view(h, view);
    assert_eq!(active(h).view, view);
}

/// Whether a node labelled exactly `label` is drawn (any number of times).
fn has(h: &Harness<'_, App>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

/// Whether a node whose label contains `part` is drawn.
fn has_part(h: &Harness<'_, App>, part: &str) -> bool {
    h.query_all_by_label_contains(part).next().is_some()
}

fn record_index(h: &Harness<'_, App>, type_name: &str, nth: usize) -> usize {
    let recs = &active(h).core.bin.omf_records;
    recs.iter().enumerate().filter(|(_, r)| r.type_name == type_name).nth(nth).map(|(i, _)| i).expect("record")
}

fn select_record(h: &mut Harness<'_, App>, r: usize) {
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::Row(TableId::OmfRecords, r) });
    h.run();
    assert_eq!(active(h).view, View::Records);
    assert_eq!(active(h).table(TableId::OmfRecords).selected, Some(r));
}

fn fixups_in(h: &Harness<'_, App>, record: usize) -> Vec<OmfFixup> {
    let omf = active(h).core.bin.omf.as_ref().expect("omf info");
    omf.fixups_in_record(record).cloned().collect()
}

/// The committed `tests/fixtures/omf/comdat.obj` (used by the screenshots) is the byte-built
/// COMDAT sample of `tests/omf_support`. `LINKSCOPE_UPDATE_FIXTURES=1` rewrites it.
#[test]
fn comdat_fixture_matches_its_builder() {
    let built = omf_support::comdat_object();
    assert!(built.len() < 1024, "the fixture stays tiny: {} bytes", built.len());
    let path = omf_fixture("comdat.obj");
    if std::env::var_os("LINKSCOPE_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &built).expect("write fixture");
    }
    let committed =
        std::fs::read(&path).expect("tests/fixtures/omf/comdat.obj (LINKSCOPE_UPDATE_FIXTURES=1 writes it)");
    assert_eq!(
        committed, built,
        "comdat.obj differs from omf_support::comdat_object(); rerun with LINKSCOPE_UPDATE_FIXTURES=1"
    );
}

#[test]
fn records_view_lists_every_record_and_explains_the_selected_one() {
    let mut h = harness(loaded(&[omf_fixture("omf32.obj")]));
    click_view(&mut h, View::Records);
    assert!(has_part(&h, "21 rows"), "every record is listed");
    assert!(has(&h, "THEADR"));
    assert!(has(&h, "module \"omf32.asm\""), "summaries are shown");
    assert!(has_part(&h, "Select a record"), "nothing selected yet");

    // Click a row (its summary): the record's bytes are selected, every field is listed.
    h.state_mut().apply(Action::Table(TableId::OmfRecords, TableAction::Facet(0, Some("SEGDEF".into()))));
    h.run();
    assert!(has_part(&h, "3 of 21 rows"));
    h.get_by_label("#1 _TEXT class CODE paragraph public USE32 length 0x2f").click();
    h.run();
    let r = record_index(&h, "SEGDEF", 0);
    let doc = active(&h);
    assert_eq!(doc.table(TableId::OmfRecords).selected, Some(r));
    let rec = doc.core.bin.omf_records[r].clone();
    let span = Span::new(rec.offset, u64::from(rec.length) + 3);
    assert_eq!(doc.hex.selection, Some(span), "the hex selection covers the whole record");
    assert_eq!(span, Span::new(0xdd, 10));
    assert!(has(&h, &format!("Fields ({})", rec.fields.len())));
    for f in &rec.fields {
        assert!(has(&h, &f.name), "field {} listed", f.name);
        assert!(has(&h, &f.display), "value of {} listed: {}", f.name, f.display);
        assert!(has(&h, &format!("{:#x}", f.span.offset)), "offset of {} listed", f.name);
    }
    // Every byte of the record belongs to one of its fields, and hovering names record and field.
    let core = doc.core.clone();
    for off in span.offset..span.end() {
        let leaf = core.regions().leaf_at(off).expect("a field at every byte");
        let What::OmfField(rr, f) = leaf.what else { panic!("{off:#x}: {:?}", leaf.what) };
        assert_eq!(rr as usize, r);
        let field = &rec.fields[f as usize];
        let said = linkscope::gui::views::hex::describe_at(&core, off);
        assert!(said.contains(&format!("SEGDEF #{r}")) && said.contains(&field.name), "{said}");
    }
    // The record's type explains itself.
    assert!(has_part(&h, "Segment definition: name, class and length"));

    // Clicking a field's offset selects the field's bytes (and keeps the record selected).
    let field = rec.fields.iter().find(|f| f.name.contains("length") || f.name.contains("Length")).expect("field");
    let field_span = field.span;
    h.get_all_by_label(&format!("{:#x}", field_span.offset)).last().expect("offset link").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.hex.selection, Some(field_span));
    assert_eq!(doc.table(TableId::OmfRecords).selected, Some(r));
    // The hex pane names the selected field.
    assert!(has_part(&h, &format!("SEGDEF #{r} {} =", field.name)));
}

#[test]
fn a_fixupp_record_lists_its_fixups_in_words_and_selects_their_bytes() {
    let mut h = harness(loaded(&[omf_fixture("omf32.obj")]));
    click_view(&mut h, View::Records);
    let r = record_index(&h, "FIXUPP32", 0);
    select_record(&mut h, r);
    let fixups = fixups_in(&h, r);
    assert_eq!(fixups.len(), 8);
    assert!(has(&h, "Fixups (8)"));
    for (label, count) in [
        ("32-bit offset of SEGDEF `_DATA`, frame: group FLAT", 2),
        ("self-relative 32-bit offset of EXTDEF `_printf`, frame: target", 1),
        ("32-bit offset of COMDEF `_counter`, frame: target", 1),
        ("32-bit offset of EXTDEF `MessageBoxA`, frame: target", 1),
        ("self-relative 32-bit offset of EXTDEF `_exit`, frame: target", 1),
    ] {
        assert_eq!(h.query_all_by_label(label).count(), count, "{label}");
    }
    // Locations in the segment, the raw Locat / Fix Data bytes, and the data record patched.
    assert!(has(&h, "_TEXT+0x1"));
    assert!(has(&h, "_TEXT+0x6"));
    assert!(has(&h, "a4 06"), "Locat of the self-relative call, high byte first");
    assert!(has(&h, "56"), "its Fix Data byte");
    let data = record_index(&h, "LEDATA", 0);
    assert!(h.query_all_by_label(&format!("#{data} LEDATA")).count() >= 8);

    // Clicking a fixup selects its subrecord's bytes.
    h.get_by_label("self-relative 32-bit offset of EXTDEF `_printf`, frame: target").click();
    h.run();
    let printf = fixups.iter().find(|f| f.description.contains("_printf")).expect("printf fixup").clone();
    assert_eq!(active(&h).hex.selection, Some(printf.span));
    assert_eq!(printf.span.len, 4, "Locat, Fix Data and a one-byte target index");
    assert_eq!(active(&h).view, View::Records, "selecting bytes stays in the view");

    // Clicking its location selects the four bytes of the call's operand, inside the LEDATA data.
    h.get_by_label("_TEXT+0x6").click();
    h.run();
    let doc = active(&h);
    let rec = &doc.core.bin.omf_records[data];
    let data_field = rec.fields.iter().find(|f| f.name == "Data").expect("data field");
    let site = Span::new(data_field.span.offset + 6, 4);
    assert_eq!(doc.hex.selection, Some(site));
    assert_eq!(doc.core.data[site.offset as usize - 1], 0xe8, "the byte before is the call opcode");
    let leaf = doc.core.regions().leaf_at(site.offset).expect("site indexed");
    assert!(matches!(leaf.what, What::RelocSite(_)), "{:?}", leaf.what);
    assert!(linkscope::gui::views::hex::describe_at(&doc.core, site.offset).contains("Patched by a fixup"));

    // The data record lists the same fixups, from the other side (its fields come first).
    select_record(&mut h, data);
    assert!(has(&h, "Fields (6)"));
    assert!(has(&h, "Data"), "the LEDATA's fields are shown first");
    h.get_by_label("Fixups patching it (8)").click();
    h.run();
    assert_eq!(active(&h).record_tab, Some(RecordTab::Fixups));
    assert_eq!(h.query_all_by_label(&format!("#{r} FIXUPP32")).count(), 8);
    assert!(has(&h, "self-relative 32-bit offset of EXTDEF `_exit`, frame: target"));

    // Follow a fixup's data record link back.
    select_record(&mut h, r);
    h.get_all_by_label(&format!("#{data} LEDATA")).next().expect("link").click();
    h.run();
    assert_eq!(active(&h).table(TableId::OmfRecords).selected, Some(data));
}

#[test]
fn sixteen_bit_fixups_name_groups_segment_bases_and_self_relative_calls() {
    let mut h = harness(loaded(&[omf_fixture("omf16.obj")]));
    click_view(&mut h, View::Records);
    let r = record_index(&h, "FIXUPP", 0);
    select_record(&mut h, r);
    assert!(has(&h, "Fixups (13)"));
    for label in [
        "16-bit segment base of GRPDEF `DGROUP`, frame: target",
        "16-bit offset of EXTDEF `_dgvar`, frame: group DGROUP",
        "self-relative 16-bit offset of EXTDEF `_extfunc`, frame: target",
        "16-bit segment base of EXTDEF `_extfunc`, frame: target",
    ] {
        assert!(has(&h, label), "{label}");
    }
    assert!(has(&h, "_TEXT+0x16"));
    // The second FIXUPP patches _DATA, with a 32-bit offset in a 16-bit segment.
    let r2 = record_index(&h, "FIXUPP", 1);
    select_record(&mut h, r2);
    assert!(has(&h, "Fixups (6)"));
    assert!(has(&h, "32-bit offset of EXTDEF `_extfunc`, frame: target"));
    assert!(has(&h, "_DATA+0x8"));
    // The segment-base fixup's location: two bytes.
    h.get_by_label("_DATA+0xc").click();
    h.run();
    assert_eq!(active(&h).hex.selection.map(|s| s.len), Some(2));
}

#[test]
fn the_records_table_filters_by_text_and_type() {
    let mut h = harness(loaded(&[omf_fixture("omf32.obj")]));
    click_view(&mut h, View::Records);
    // Through the real filter box: Ctrl+F, then type.
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    h.run();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("fixupp");
    h.run();
    let doc = active(&h);
    assert_eq!(doc.table(TableId::OmfRecords).filter, "fixupp");
    assert_eq!(doc.table(TableId::OmfRecords).shown(21), 2);
    assert!(has_part(&h, "2 of 21 rows"));
    assert!(!has(&h, "THEADR"), "filtered out");
    // Arrow keys walk the filtered rows (focus leaves the filter first).
    h.state_mut().apply(Action::Table(TableId::OmfRecords, TableAction::Filter(String::new())));
    h.state_mut().apply(Action::Table(TableId::OmfRecords, TableAction::Facet(0, Some("COMENT".into()))));
    h.run();
    assert_eq!(active(&h).table(TableId::OmfRecords).shown(21), 6);
    assert!(has(&h, "translator: The Netwide Assembler"));
    assert!(!has(&h, "LNAMES"));
    // The hex-pane selection follows the filtered row chosen.
    let row = active(&h).table(TableId::OmfRecords).row_at(5).expect("row");
    h.state_mut().apply(Action::Table(TableId::OmfRecords, TableAction::Select(Some(row))));
    h.run();
    let doc = active(&h);
    let rec = &doc.core.bin.omf_records[row];
    assert_eq!(rec.type_name, "COMENT");
    assert_eq!(doc.hex.selection, Some(Span::new(rec.offset, u64::from(rec.length) + 3)));
}

#[test]
fn omf_segments_and_groups_show_in_the_sections_view() {
    let mut h = harness(loaded(&[omf_fixture("omf16.obj")]));
    click_view(&mut h, View::Sections);
    for label in ["_TEXT", "_DATA", "STACK", "ABSSEG", "paragraph", "word", "stack", "absolute", "USE16", "CODE"] {
        assert!(h.query_all_by_label(label).count() > 0, "{label}");
    }
    assert!(h.query_all_by_label("DGROUP").count() >= 2, "_DATA and _BSS are in DGROUP");
    assert!(has_part(&h, "absolute at 0040:0000"));
    // The group table.
    h.get_by_label("Groups (1)").click();
    h.run();
    assert_eq!(active(&h).sections_table, TableId::OmfGroups);
    assert!(has(&h, "_DATA, _BSS"));
    // A group's name leads to its GRPDEF record.
    h.get_by_label("DGROUP").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Records);
    let r = doc.table(TableId::OmfRecords).selected.expect("selected");
    assert_eq!(doc.core.bin.omf_records[r].type_name, "GRPDEF");

    // 32-bit segments in an empty FLAT group.
    let mut h = harness(loaded(&[omf_fixture("omf32.obj")]));
    click_view(&mut h, View::Sections);
    assert_eq!(h.query_all_by_label("USE32").count(), 3);
    assert!(has(&h, "dword"));
    h.get_by_label("Groups (1)").click();
    h.run();
    assert!(has(&h, "(no segments)"));
}

#[test]
fn omf_fixups_are_in_the_relocations_view_with_their_sites() {
    let mut h = harness(loaded(&[omf_fixture("omf32.obj")]));
    click_view(&mut h, View::Relocations);
    assert!(has_part(&h, "14 rows"));
    // A site link selects the patched bytes in the LEDATA record.
    h.get_all_by_label("+0x6").next().expect("site").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Hex);
    let sel = doc.hex.selection.expect("selection");
    assert_eq!(sel.len, 4);
    assert_eq!(doc.core.data[sel.offset as usize - 1], 0xe8);
    // From the Relocations view to the FIXUPP record.
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::View(View::Relocations) });
    h.run();
    h.get_by_label("0x18f").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Records);
    assert_eq!(
        doc.table(TableId::OmfRecords).selected.map(|r| doc.core.bin.omf_records[r].type_name.as_str()),
        Some("FIXUPP32")
    );
}

#[test]
fn omf_comdats_show_selection_allocation_and_why_there_is_no_associative() {
    let mut h = harness(loaded(&[omf_fixture("comdat.obj")]));
    click_view(&mut h, View::Comdats);
    assert!(has(&h, "Why OMF has no associative COMDATs"));
    assert!(has(&h, linkscope::model::OMF_NO_ASSOCIATIVE_NOTE));
    let comdats = active(&h).core.bin.comdats.clone();
    assert_eq!(comdats.len(), 5);
    for c in &comdats {
        let sel = c.omf_selection.as_deref().expect("omf_selection");
        let alloc = c.omf_allocation.as_deref().expect("omf_allocation");
        assert!(h.query_all_by_label(sel).count() > 0, "{sel}");
        assert!(h.query_all_by_label(alloc).count() > 0, "{alloc}");
        assert!(has(&h, c.symbol.as_deref().unwrap_or("?")));
    }
    for (sel, alloc) in [("any", "explicit"), ("same-size", "far-code"), ("exact", "far-data"), ("no-match", "code32")]
    {
        assert!(comdats
            .iter()
            .any(|c| c.omf_selection.as_deref() == Some(sel) && c.omf_allocation.as_deref() == Some(alloc)));
    }
    assert!(has_part(&h, "all copies must have identical contents"), "selection legend");
    assert!(!has(&h, "DGROUP:_TEXT"));
    assert!(has(&h, "frame 0x1234"), "explicit allocation to a frame number");
    let f = active(&h).core.bin.omf.as_ref().expect("omf").comdats[0].clone();
    assert_eq!((f.name.as_str(), f.records.len()), ("_f", 2));
    let first = f.records[0];
    let records_label = format!("#{first} +1 cont.");
    assert!(has(&h, &records_label), "_f has a continuation record");
    // Navigating to a COMDAT selects its row.
    let sec = comdats[1].section;
    h.state_mut().apply(Action::Navigate { doc: None, target: Target::Comdat(sec) });
    h.run();
    assert_eq!(active(&h).comdat_selected, Some(sec));
    // Its record link leads to the Records view.
    h.get_by_label(&records_label).click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Records);
    assert_eq!(doc.table(TableId::OmfRecords).selected, Some(first));
    h.get_by_label("Fixups patching it (1)").click();
    h.run();
    assert!(has_part(&h, "self-relative 16-bit offset of CEXTDEF `_g`"));
    // The Sections view links COMDATs to the COMDAT view.
    click_view(&mut h, View::Sections);
    assert_eq!(h.query_all_by_label("any, explicit").count(), 2, "_f and _abs");
    h.get_all_by_label("any, explicit").next().expect("link").click();
    h.run();
    assert_eq!(active(&h).view, View::Comdats);
    // The note shows for an OMF module without COMDATs too.
    let mut h = harness(loaded(&[omf_fixture("omf16.obj")]));
    click_view(&mut h, View::Comdats);
    assert!(has(&h, linkscope::model::OMF_NO_ASSOCIATIVE_NOTE));
    assert!(has(&h, "This module has no COMDAT records."));
}

#[test]
fn threads_are_listed_with_their_fixupp_record() {
    let mut h = harness(from_bytes("threads.obj", omf_support::threads_object()));
    click_view(&mut h, View::Records);
    let r = record_index(&h, "FIXUPP", 0);
    select_record(&mut h, r);
    assert!(has(&h, "Threads (4)"));
    let omf = active(&h).core.bin.omf.clone().expect("omf");
    let t = omf.threads.iter().find(|t| t.record == r).expect("thread");
    h.get_by_label(&t.description).click();
    h.run();
    assert_eq!(active(&h).hex.selection, Some(t.span));
    // The next FIXUPP record's fixups take their frames and targets from those threads.
    let r2 = record_index(&h, "FIXUPP", 1);
    select_record(&mut h, r2);
    assert!(has(&h, "Fixups (6)"));
}

#[test]
fn a_bad_checksum_is_flagged_in_the_records_table() {
    let mut bytes = omf_support::comdat_object();
    // Record starts, following the length fields.
    let mut starts = vec![0usize];
    while let Some(&at) = starts.last() {
        let next = at + 3 + u16::from_le_bytes([bytes[at + 1], bytes[at + 2]]) as usize;
        if next >= bytes.len() {
            break;
        }
        starts.push(next);
    }
    // A wrong checksum on the LNAMES record, a zero one ("not computed") on the first SEGDEF.
    bytes[starts[2] - 1] ^= 0x55;
    bytes[starts[3] - 1] = 0;
    let mut h = harness(from_bytes("checksums.obj", bytes));
    click_view(&mut h, View::Records);
    assert!(has(&h, "bad"));
    assert!(has(&h, "zero"));
    // The checksum facet appears when statuses differ.
    h.state_mut().apply(Action::Table(TableId::OmfRecords, TableAction::Facet(1, Some("bad".into()))));
    h.run();
    assert!(has_part(&h, "1 of"));
}

#[test]
fn an_omf_library_member_opens_in_its_own_tab() {
    let lib = omf_support::library();
    let mut h = harness(from_bytes("test.lib", lib.clone()));
    assert_eq!(active(&h).core.bin.format.name(), "omf-library");
    click_view(&mut h, View::Members);
    assert!(has_part(&h, "records, 1 segments, 1 publics, 0 fixups"));
    // The library's own records: LIBHDR and LIBEND.
    click_view(&mut h, View::Records);
    assert!(has(&h, "LIBHDR") && has(&h, "LIBEND"));
    click_view(&mut h, View::Members);
    h.get_by_label("m2.obj").click();
    h.step();
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(60)));
    h.run();
    let doc = active(&h);
    assert_eq!(doc.core.name, "test.lib(m2.obj)");
    assert_eq!(doc.core.bin.format.name(), "omf");
    let m = &h.state().doc_named("test.lib").expect("library").core.bin.members[1];
    let start = m.member_offset as usize;
    assert_eq!(doc.core.data[..], lib[start..start + m.member_size as usize], "the module's own bytes");
    assert!(doc.core.bin.diagnostics.is_empty(), "{:?}", doc.core.bin.diagnostics);
    click_view(&mut h, View::Records);
    assert!(has(&h, "THEADR"));
    let n = active(&h).core.bin.omf_records.len();
    assert!(has_part(&h, &format!("{n} rows")));
    assert_eq!(active(&h).core.bin.omf_records.last().map(|r| r.type_name.as_str()), Some("MODEND"));
    select_record(&mut h, 0);
    assert_eq!(active(&h).hex.selection.map(|s| s.offset), Some(0), "offsets are the member's own");
}

/// An OMF library from the shared corpus (skipped when the corpus is absent): a member opens,
/// every view draws, and a FIXUPP record in it lists fixups.
#[test]
fn a_corpus_library_member_opens_and_its_fixups_are_listed() {
    let Some(dir) = corpus_support::corpus_path("omf/ms-dos/v4.0/src/TOOLS/BLD/LIB") else { return };
    let mut libs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("lib")))
        .collect();
    libs.sort();
    let lib = libs.first().cloned().unwrap_or_else(|| panic!("no .LIB in {}", dir.display()));
    let mut h = harness(loaded(std::slice::from_ref(&lib)));
    assert_eq!(active(&h).core.bin.format.name(), "omf-library");
    let members = active(&h).core.bin.members.clone();
    assert!(!members.is_empty());
    // The first member with a FIXUPP record.
    let pick = members
        .iter()
        .position(|m| {
            m.binary.as_ref().is_some_and(|b| b.omf_records.iter().any(|r| r.type_name.starts_with("FIXUPP")))
        })
        .expect("a member with fixups");
    h.state_mut().apply(Action::OpenMember(pick));
    assert!(h.state_mut().wait_for_loads(Duration::from_secs(60)));
    h.run();
    let name = active(&h).core.name.clone();
    assert!(name.contains(&members[pick].member_name), "{name}");
    assert_eq!(active(&h).core.bin.format.name(), "omf");
    for view in View::ALL {
        h.state_mut().apply(Action::Navigate { doc: None, target: Target::View(view) });
        h.run_steps(2);
    }
    let r = active(&h).core.bin.omf_records.iter().position(|r| r.type_name.starts_with("FIXUPP")).expect("FIXUPP");
    select_record(&mut h, r);
    let fixups = fixups_in(&h, r);
    if let Some(f) = fixups.first() {
        assert!(h.query_all_by_label(&f.description).count() > 0, "{}", f.description);
    } else {
        assert!(has_part(&h, "Threads ("), "a FIXUPP with neither fixups nor threads");
    }
}

/// Every record of every OMF fixture (and of a few corpus files, when present) shows its details
/// without panicking, and every view draws.
#[test]
fn every_record_of_the_omf_fixtures_draws() {
    let mut paths: Vec<PathBuf> = ["omf16.obj", "omf32.obj", "omf16-borland.obj", "omfidx.obj", "comdat.obj"]
        .iter()
        .map(|n| omf_fixture(n))
        .collect();
    if let Some(corpus) = corpus_support::corpus_path("omf/object-testfiles/omf") {
        for n in ["comdat-watcom.obj", "comdat-borland.obj", "test_lidata.obj", "comprehensive_test.obj"] {
            let p = corpus.join(n);
            if p.is_file() {
                paths.push(p);
            }
        }
    }
    let mut h = harness(loaded(&paths));
    for id in h.state().doc_ids() {
        h.state_mut().apply(Action::ActivateDoc(id));
        for view in View::ALL {
            h.state_mut().apply(Action::Navigate { doc: None, target: Target::View(view) });
            h.run_steps(2);
        }
        let n = h.state().doc(id).expect("doc").core.bin.omf_records.len();
        assert!(n > 0);
        for r in 0..n {
            h.state_mut().apply(Action::Table(TableId::OmfRecords, TableAction::Select(Some(r))));
            h.state_mut().apply(Action::Navigate { doc: None, target: Target::View(View::Records) });
            h.run_steps(1);
        }
    }
}

#[test]
fn omf_code_in_the_disassembly_links_to_its_fixupp_records_and_back() {
    let mut h = harness(loaded(&[omf_fixture("omf32.obj")]));
    click_view(&mut h, View::Disassembly);
    // The use32 code of _TEXT, each fixup's operand named by its target.
    for text in [
        "push _DATA",
        "call _printf",
        "mov eax, [_table+0x8]",
        "mov ebx, [_counter]",
        "call dword ptr [MessageBoxA]",
        "jmp _exit",
    ] {
        assert!(has(&h, text), "{text}");
    }
    assert!(has(&h, "rip-relative _printf"), "the site in words");
    assert!(has_part(&h, "9 instructions"));

    // The bytes the fixup patches link to its FIXUPP record.
    h.get_by_label("e8 00 00 00 00").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Records);
    let r = doc.table(TableId::OmfRecords).selected.expect("a record selected");
    assert_eq!(doc.core.bin.omf_records[r].type_name, "FIXUPP32");
    assert_eq!(r, record_index(&h, "FIXUPP32", 0));

    // Its fixups list the instruction each patches; following one lands on that instruction.
    for insn in ["push _DATA", "mov eax, [_table+0x8]", "call dword ptr [MessageBoxA]", "jmp _exit"] {
        assert!(h.query_by_label(insn).is_some(), "the fixup list shows `{insn}`");
    }
    let fixups = fixups_in(&h, r);
    assert!(fixups.iter().any(|f| f.description.contains("_printf")), "printf fixup");
    h.get_by_label("call _printf").click();
    h.run();
    let doc = active(&h);
    assert_eq!(doc.view, View::Disassembly);
    let row = doc.table(TableId::Disasm).selected.expect("an instruction selected");
    assert_eq!(doc.core.refs.insns.at(row).map(|(_, rva)| rva), Some(5), "call _printf at _TEXT+0x5");
    // Its bytes are selected in the LEDATA record that holds them.
    let sel = doc.hex.selection.expect("bytes selected");
    assert_eq!(sel.len, 5);
    assert_eq!(doc.core.data[sel.offset as usize], 0xe8);

    // The data segment's fixups are not in code.
    let r2 = record_index(&h, "FIXUPP32", 1);
    select_record(&mut h, r2);
    assert!(h.query_by_label("call _printf").is_none());
    assert!(h.query_all_by_label("not in code").count() > 0);
}

#[test]
fn use16_and_use32_segments_of_one_module_are_decoded_each_with_its_bitness() {
    let mut h = harness(loaded(&[omf_fixture("omfcode.obj")]));
    click_view(&mut h, View::Disassembly);
    assert!(has(&h, "mov ax, seg DGROUP"));
    assert!(has(&h, "call far ExtFunc16, seg ExtFunc16"));
    let show = |h: &mut Harness<'_, App>, seg: &str, off: u64| {
        let doc = active(h);
        let p = doc.core.bin.sections.iter().position(|s| s.name == seg).expect("segment");
        let row = doc.core.refs.insns.row_of(off, Some(p)).expect("a row");
        h.state_mut().apply(Action::Navigate { doc: None, target: Target::Row(TableId::Disasm, row) });
        h.run();
    };
    show(&mut h, "CODE16", 0x31);
    assert!(has(&h, "mov bp, sp"), "16-bit registers in CODE16");
    assert!(has(&h, "mov si, helper16+0x8"));
    show(&mut h, "CODE32", 0);
    assert!(has(&h, "mov eax, [counter32]"), "32-bit code in CODE32");
    assert!(has(&h, "add eax, [table32+0x8]"));
}
