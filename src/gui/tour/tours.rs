//! The five tours, as data: each step's document, text, widget and completing state. The numbers
//! in the text are facts computed here from the open documents (their models, the Patch view's
//! plan and verification, the Link view's result), so a sample that changes changes the text.

use crate::gui::app::App;
use crate::gui::document::{Document, TableId, View};
use crate::patch::{PatchPlan, SchemeKind, Status};
use crate::session::place::Preset;

use super::{Done, Facts, Point, StepDef, TourDef};

const fn step(doc: &'static str, view: Option<View>, point: Point, done: Done, text: &'static str) -> StepDef {
    StepDef { doc, view, text, point, done }
}

/// Every tour, in the order of the questions they answer (`--tour 1` … `--tour 5`).
pub static TOURS: [TourDef; 5] = [
    TourDef {
        name: "comdats",
        title: "COMDATs and associated sections",
        question: "Is there something like OMF's associated segments in COFF?",
        // The whole bundled C++ link (crt0 and the two ODR objects too): lld-link links it.
        files: &[
            "comdat.obj",
            "link/crt0.obj",
            "link/a.obj",
            "link/b.obj",
            "link/odr1.obj",
            "link/odr2.obj",
            "omf-comdat.obj",
        ],
        steps: &COMDATS,
        facts: comdat_facts,
    },
    TourDef {
        name: "imported-data",
        title: "Imported data and the offset problem",
        question: "Is something wrong with the whole concept of auto-imported data?",
        files: &["autoimport.exe", "data.dll"],
        steps: &IMPORTED,
        facts: imported_facts,
    },
    TourDef {
        name: "win64-reach",
        title: "Win64 reach",
        question: "Can Win64 code be forced to reach external data with absolute addresses?",
        files: &["autoimport-small.exe", "data.dll", "autoimport.exe"],
        steps: &REACH,
        facts: reach_facts,
    },
    TourDef {
        name: "linux",
        title: "What happens on Linux",
        question: "How does an ELF executable use a shared object's data?",
        files: &["main-nopie", "libdata.so"],
        steps: &LINUX,
        facts: linux_facts,
    },
    TourDef {
        name: "process",
        title: "Check a real process",
        question: "Does the prediction match what a real loader did?",
        files: &["process/autoimport.exe", "process/data.dll"],
        steps: &PROCESS,
        facts: process_facts,
    },
];

static COMDATS: [StepDef; 9] = [
    step("comdat.obj", None, Point::Sidebar(View::Comdats), Done::View(View::Comdats),
        "comdat.obj is a C++ object (clang-cl). Open its COMDATs: {c_leaders} COMDAT leaders, and {c_assoc} associative sections that live and die with them."),
    step("comdat.obj", Some(View::Comdats), Point::Comdat("c_lead_sec"), Done::Read,
        "Section {c_lead_sec}, {c_lead_name} (selection {c_lead_sel}), leads {c_lead_n} associated sections: {c_lead_assoc}. Its unwind data and debug info follow it: kept with it, dropped with it."),
    step("link/a.obj", None, Point::Tab, Done::Doc,
        "The link/ objects are a small C++ program: a.obj and b.obj share inline functions and templates, so each carries its own copy of them, as COMDATs. Click a.obj's tab."),
    step("link/a.obj", None, Point::Sidebar(View::Link), Done::View(View::Link),
        "Open the Link view. It links the open objects as {l_flavor} does: {l_lost} COMDAT copies lose to another copy, and {l_assoc} associative sections go with them."),
    step("link/a.obj", Some(View::Link), Point::Row(TableId::Link, "l_copy_row"), Done::Selected(TableId::Link, "l_copy_row"),
        "Click this row: {l_lost_file}'s copy of {l_sym} (section {l_lost_sec}, selection {l_sel}). Another copy won: {l_kept_file}'s, the first the linker saw."),
    step("link/a.obj", Some(View::Link), Point::Row(TableId::Link, "l_assoc_row"), Done::Selected(TableId::Link, "l_assoc_row"),
        "Click this row: {l_lost_file}'s {l_assoc_name} (section {l_assoc_sec}) is associative to section {l_lost_sec}. Its leader lost, so it is discarded too: no unwind entry for code that is not in the image."),
    step("omf-comdat.obj", None, Point::Tab, Done::Doc,
        "Now OMF, the format of 16- and 32-bit DOS and Windows compilers: omf-comdat.obj holds {o_n} COMDAT records. Click its tab."),
    step("omf-comdat.obj", None, Point::Sidebar(View::Comdats), Done::View(View::Comdats),
        "Open its COMDATs. Selections: {o_sels}; allocations: {o_allocs}. Associative: {o_assoc}."),
    step("omf-comdat.obj", Some(View::Comdats), Point::OmfNote, Done::Read,
        "Why: the record's selection is only no-match, pick-any, same-size or exact-match, and its allocation puts the bytes into a segment other code shares (explicit) or one the linker makes (far code, far data), never one the object names for it. So no side table (exception data, debug info, an initialiser entry) can be told to live or die with one copy; COFF added the associative selection for exactly that."),
];

static IMPORTED: [StepDef; 6] = [
    step("autoimport.exe", None, Point::Sidebar(View::PseudoRelocs), Done::View(View::PseudoRelocs),
        "autoimport.exe uses data.dll's variables without __declspec(dllimport). The compiler emitted plain addresses; GNU ld pointed them at data.dll's IAT slots and left the MinGW runtime a list of {p_n} pseudo-relocations to fix them."),
    step("autoimport.exe", Some(View::PseudoRelocs), Point::Row(TableId::PseudoRelocs, "p_arr3_row"), Done::Selected(TableId::PseudoRelocs, "p_arr3_row"),
        "Click item {p_arr3_row}: &arr[3]. The field at {p_arr3_rva} refers to {p_arr3_import} + {p_arr3_off}, so the linker stored arr's slot + {p_arr3_off}: an address inside the next slot. Only the list says which import it means."),
    step("autoimport.exe", None, Point::Sidebar(View::Patch), Done::View(View::Patch),
        "Open the Patch view. It simulates the load, data.dll at {dll_base}, then the runtime's list ({scheme}): {counts}."),
    step("autoimport.exe", Some(View::Patch), Point::SchemeMenu, Done::Scheme(SchemeKind::BaserelWalk),
        "The 2013 proposal for D had no list: walk the base relocations and redirect every pointer that lands in the IAT. Choose the scheme baserel-walk."),
    step("autoimport.exe", Some(View::Patch), Point::Row(TableId::Patch, "w_arr3_row"), Done::Selected(TableId::Patch, "w_arr3_row"),
        "Click step {w_arr3_row}, &arr[3] at {p_arr3_rva}: the walk sees {w_arr3_before}, inside {w_arr3_import}'s slot, and stores {w_arr3_after}, what it reads there: {w_arr3_status}, since it is {p_arr3_import} + {p_arr3_off}. {w_mis} of {w_n} steps are misidentified."),
    step("autoimport.exe", Some(View::Patch), Point::SchemeMenu, Done::Scheme(SchemeKind::Mingw),
        "Choose mingw again. The runtime's list names the import and the offset, so the same field gets {m_arr3_after}, {m_arr3_import}: {m_arr3_status}."),
];

static REACH: [StepDef; 6] = [
    step("autoimport-small.exe", None, Point::Sidebar(View::PseudoRelocs), Done::View(View::PseudoRelocs),
        "autoimport-small.exe is the same program built with -mcmodel=small: {s_n32} of its {s_n} pseudo-relocations patch 32-bit fields in {s_sec32}, the disp32 of RIP-relative instructions."),
    step("autoimport-small.exe", None, Point::Sidebar(View::Patch), Done::View(View::Patch),
        "Open the Patch view. data.dll sits at its preferred base {dll_base}, {dll_dist} the image: {counts}. {abort}"),
    step("autoimport-small.exe", Some(View::Patch), Point::Preset(Preset::Far), Done::Preset(Preset::Far),
        "Now let the loader put data.dll more than 4 GiB away: choose Far."),
    step("autoimport-small.exe", Some(View::Patch), Point::Row(TableId::Patch, "s_oor_row"), Done::Selected(TableId::Patch, "s_oor_row"),
        "data.dll at {dll_base}. Click step {s_oor_row}, {s_oor_insn}: a disp32 cannot reach it. The runtime prints \"{failure}\" and aborts; {s_not_reached} steps are never reached."),
    step("autoimport.exe", None, Point::Tab, Done::Doc,
        "autoimport.exe is the default build: its code reads each import's address from a .refptr pointer, 64-bit and absolute. {d_n64} of its {d_n} pseudo-relocations are 64-bit, {d_n32} are 32-bit. Click its tab."),
    step("autoimport.exe", Some(View::Patch), Point::Preset(Preset::Far), Done::Preset(Preset::Far),
        "In its Patch view, choose Far too. data.dll at {dll_base}: {counts}. {abort}"),
];

static LINUX: [StepDef; 6] = [
    step("main-nopie", None, Point::Sidebar(View::Relocations), Done::View(View::Relocations),
        "main-nopie is a non-PIE executable: its code addresses libdata.so's variables directly. Open its relocations: {e_ncopy} are COPY relocations ({e_copy_syms})."),
    step("main-nopie", Some(View::Relocations), Point::Row(TableId::Relocations, "e_copy_row"), Done::Selected(TableId::Relocations, "e_copy_row"),
        "Click the COPY of {e_copy_sym}: ld.so copies the object's {e_copy_size} bytes from libdata.so into the executable's {e_copy_sec} at {e_copy_rva}; from then on that copy is the object, libdata.so's code included."),
    step("main-nopie", None, Point::Sidebar(View::Patch), Done::View(View::Patch),
        "Open the Patch view. Scheme {scheme}: {counts}. The fields are {e_widths} bits wide, none in code ({e_in_text} in .text): no field too narrow, nothing to patch in code."),
    step("libdata.so", None, Point::Tab, Done::Doc,
        "libdata.so is position-independent code. Click its tab."),
    step("libdata.so", None, Point::Sidebar(View::Relocations), Done::View(View::Relocations),
        "Open its relocations: {g_n} GLOB_DAT relocations fill GOT slots with the addresses of {g_syms}; its code loads each address from its slot."),
    step("libdata.so", Some(View::Relocations), Point::Row(TableId::Relocations, "g_row"), Done::Selected(TableId::Relocations, "g_row"),
        "Click the GOT slot of {g_sym} at {g_rva}: {g_width} bits, in {g_sec}, a data slot. Wherever {g_sym} ends up, ld.so writes its address here; the instructions never change."),
];

static PROCESS: [StepDef; 5] = [
    step("process/autoimport.exe", None, Point::Sidebar(View::Patch), Done::View(View::Patch),
        "process/autoimport.exe ran under wine and wrote a minidump of itself (self.dmp.gz) first thing in main. Open the Patch view. The prediction: {counts}."),
    step("process/autoimport.exe", Some(View::Patch), Point::LoadDump, Done::Dump("process/self.dmp.gz"),
        "Load the dump: Load dump… → assets/samples/process/self.dmp.gz (or drop it on the window). Every module's base is taken from it."),
    step("process/autoimport.exe", Some(View::Patch), Point::Verification, Done::Read,
        "{v_checked} places checked (pseudo-relocation targets, IAT slots, base-relocated fields, data-reference sites): {v_matched} match, {v_differ} differ."),
    step("process/autoimport.exe", Some(View::Patch), Point::LoadDump, Done::Dump("process/self-hooked.dmp.gz"),
        "Flip a byte: load self-hooked.dmp.gz, the same dump with one byte changed (by make-hooked.py beside it), as an IAT hook would change it."),
    step("process/autoimport.exe", Some(View::Patch), Point::Verification, Done::Read,
        "Flagged: {v_differ} place differs, {v_first}. A hook or a patch in a real process shows up the same way."),
];

// ---- facts ----

fn doc<'a>(app: &'a App, path: &str) -> Option<&'a Document> {
    app.tour_doc(path)
}

/// The document's current plan, once computed (and not being recomputed).
fn plan(d: &Document) -> Option<&PatchPlan> {
    match (&d.patch.job, &d.patch.result) {
        (None, Some(Ok(p))) => Some(p),
        _ => None,
    }
}

/// Facts every Patch step can name: the scheme, the counts, the DLL's base, the abort.
fn plan_facts(f: &mut Facts, p: &PatchPlan) {
    f.set("scheme", p.scheme.name());
    f.set("counts", crate::report::patch::counts_text(p));
    if let Some(m) = p.modules.get(1) {
        f.set("dll_base", format!("{:#x}", m.base));
        let dist = m.base.abs_diff(p.image().base);
        let side = if m.base >= p.image().base { "above" } else { "below" };
        f.set("dll_dist", format!("{:.1} GiB {side}", dist as f64 / f64::from(1u32 << 30)));
    }
    f.set("abort", if p.failure.is_some() { "The runtime aborts." } else { "No abort." });
    f.set_opt("failure", p.failure.as_deref());
}

fn comdat_facts(app: &App) -> Facts {
    let mut f = Facts::default();
    if let Some(d) = doc(app, "comdat.obj") {
        let b = &d.core.bin;
        f.set("c_leaders", b.comdats.iter().filter(|c| c.associated_section.is_none()).count());
        f.set("c_assoc", b.comdats.iter().filter(|c| c.associated_section.is_some()).count());
        // The leader with the most followers.
        if let Some(c) = b
            .comdats
            .iter()
            .filter(|c| c.associated_section.is_none())
            .max_by_key(|c| (c.associated_by.len(), std::cmp::Reverse(c.section)))
        {
            f.set("c_lead_sec", c.section);
            f.set("c_lead_name", c.symbol.as_deref().unwrap_or("?"));
            f.set("c_lead_sel", &c.selection_name);
            f.set("c_lead_n", c.associated_by.len());
            let names: Vec<&str> = c.associated_by.iter().filter_map(|&s| d.core.index.section_label(s)).collect();
            f.set("c_lead_assoc", names.join(", "));
        }
    }
    if let Some(d) = doc(app, "link/a.obj") {
        link_facts(app, d, &mut f);
    }
    if let Some(d) = doc(app, "omf-comdat.obj") {
        let c = &d.core.bin.comdats;
        f.set("o_n", c.len());
        let distinct = |get: &dyn Fn(&crate::model::Comdat) -> Option<String>| {
            let mut v: Vec<String> = c.iter().filter_map(get).collect();
            v.dedup();
            v.sort();
            v.dedup();
            v.join(", ")
        };
        f.set("o_sels", distinct(&|x| x.omf_selection.clone()));
        f.set("o_allocs", distinct(&|x| x.omf_allocation.clone()));
        let assoc = c.iter().filter(|x| x.associated_section.is_some() || !x.associated_by.is_empty()).count();
        f.set("o_assoc", if assoc == 0 { "none".to_string() } else { assoc.to_string() });
    }
    f
}

/// The Link view's result on `d`: a COMDAT copy that lost and an associative section that went
/// with it.
fn link_facts(app: &App, d: &Document, f: &mut Facts) {
    let Some(data) = d.link.result.as_ref().and_then(|r| r.as_ref().ok()) else { return };
    f.set("l_flavor", d.link.flavor().name());
    let rows = &data.rows;
    f.set("l_lost", rows.iter().filter(|r| r.fate == "comdat").count());
    f.set("l_assoc", rows.iter().filter(|r| r.fate == "associative").count());
    // An associative row whose leader is a COMDAT copy that lost.
    for (ai, a) in rows.iter().enumerate().filter(|(_, r)| r.fate == "associative") {
        let Some(obj) = doc(app, &format!("link/{}", a.file)) else { continue };
        let comdats = &obj.core.bin.comdats;
        let Some(leader) = comdats.iter().find(|c| c.section == a.section).and_then(|c| c.associated_section) else {
            continue;
        };
        let Some(ci) = rows.iter().position(|r| r.fate == "comdat" && r.file == a.file && r.section == leader) else {
            continue;
        };
        let Some(lc) = comdats.iter().find(|c| c.section == leader) else { continue };
        let sym = lc.symbol.clone().unwrap_or_default();
        // The copy that won: a placed section of another input with the same COMDAT symbol.
        let kept = rows.iter().find(|r| {
            r.fate == "placed"
                && r.file != a.file
                && doc(app, &format!("link/{}", r.file)).is_some_and(|o| {
                    o.core
                        .bin
                        .comdats
                        .iter()
                        .any(|c| c.section == r.section && c.symbol.as_deref() == Some(sym.as_str()))
                })
        });
        let Some(kept) = kept else { continue };
        f.set("l_copy_row", ci);
        f.set("l_assoc_row", ai);
        f.set("l_lost_file", &a.file);
        f.set("l_lost_sec", leader);
        f.set("l_sym", &sym);
        f.set("l_sel", &lc.selection_name);
        f.set("l_kept_file", &kept.file);
        f.set("l_assoc_name", &a.name);
        f.set("l_assoc_sec", a.section);
        return;
    }
}

fn imported_facts(app: &App) -> Facts {
    let mut f = Facts::default();
    let Some(d) = doc(app, "autoimport.exe") else { return f };
    let entries = &d.core.bin.pseudo_relocations.entries;
    f.set("p_n", entries.len());
    // &arr[3]: the item 12 bytes into its import's slot.
    let arr3 = entries.iter().position(|e| e.slot_offset == Some(12));
    let Some((row, e)) = arr3.and_then(|i| entries.get(i).map(|e| (i, e))) else { return f };
    f.set("p_arr3_row", row);
    f.set("p_arr3_rva", format!("{:#x}", e.target_rva));
    f.set("p_arr3_import", e.import.as_deref().unwrap_or("?"));
    f.set("p_arr3_off", e.slot_offset.unwrap_or(0));
    let Some(p) = plan(d) else { return f };
    plan_facts(&mut f, p);
    let Some((srow, s)) = p.steps.iter().enumerate().find(|(_, s)| s.target_rva == e.target_rva) else { return f };
    let import = s.import.as_deref().map_or_else(String::new, |i| crate::analysis::namer::with_offset(i, s.offset));
    match p.scheme {
        SchemeKind::BaserelWalk => {
            f.set("w_arr3_row", srow);
            f.set("w_arr3_before", format!("{:#x}", s.before));
            f.set("w_arr3_after", format!("{:#x}", s.after));
            // The slot the walk reads it as: the import without its offset.
            f.set("w_arr3_import", s.import.as_deref().unwrap_or("?"));
            f.set("w_arr3_status", s.status.name());
            f.set("w_mis", p.steps.iter().filter(|s| s.status == Status::Misidentified).count());
            f.set("w_n", p.steps.len());
        }
        SchemeKind::Mingw => {
            f.set("m_arr3_after", format!("{:#x}", s.after));
            f.set("m_arr3_import", import);
            f.set("m_arr3_status", s.status.name());
        }
        _ => {}
    }
    f
}

fn reach_facts(app: &App) -> Facts {
    let mut f = Facts::default();
    let active_is = |path: &str| doc(app, path).is_some_and(|d| app.active == Some(d.id));
    if let Some(d) = doc(app, "autoimport-small.exe") {
        let e = &d.core.bin.pseudo_relocations.entries;
        f.set("s_n", e.len());
        let narrow: Vec<_> = e.iter().filter(|x| x.width == 32).collect();
        f.set("s_n32", narrow.len());
        let mut secs: Vec<&str> = narrow.iter().filter_map(|x| x.target_section.as_deref()).collect();
        secs.dedup();
        f.set("s_sec32", secs.join(", "));
        if let Some(p) = plan(d) {
            if let Some((row, s)) = p.steps.iter().enumerate().find(|(_, s)| s.status == Status::OutOfRange) {
                f.set("s_oor_row", row);
                f.set("s_oor_insn", s.insn_before.as_deref().unwrap_or("?"));
                f.set("s_not_reached", p.steps.iter().filter(|s| s.status == Status::NotReached).count());
            }
            if !active_is("autoimport.exe") {
                plan_facts(&mut f, p);
            }
        }
    }
    if let Some(d) = doc(app, "autoimport.exe") {
        let e = &d.core.bin.pseudo_relocations.entries;
        f.set("d_n", e.len());
        f.set("d_n64", e.iter().filter(|x| x.width == 64).count());
        f.set("d_n32", e.iter().filter(|x| x.width == 32).count());
        if let (Some(p), true) = (plan(d), active_is("autoimport.exe")) {
            plan_facts(&mut f, p);
        }
    }
    f
}

fn linux_facts(app: &App) -> Facts {
    let mut f = Facts::default();
    let active_is = |path: &str| doc(app, path).is_some_and(|d| app.active == Some(d.id));
    if let Some(d) = doc(app, "main-nopie") {
        let b = &d.core.bin;
        let nb = b.base_relocations.len();
        let copies: Vec<(usize, &crate::model::Relocation)> =
            b.relocations.iter().enumerate().filter(|(_, r)| r.normalized == crate::model::RelocKind::Copy).collect();
        f.set("e_ncopy", copies.len());
        let syms: Vec<&str> = copies.iter().filter_map(|(_, r)| r.symbol.as_deref()).collect();
        f.set("e_copy_syms", syms.join(", "));
        // The biggest object copied.
        let size = |r: &crate::model::Relocation| {
            b.symbols.iter().filter(|s| Some(&s.name) == r.symbol.as_ref()).filter_map(|s| s.size).max().unwrap_or(0)
        };
        if let Some((i, r)) = copies.iter().max_by_key(|(_, r)| size(r)) {
            f.set("e_copy_row", nb + i);
            f.set("e_copy_sym", r.symbol.as_deref().unwrap_or("?"));
            f.set("e_copy_size", size(r));
            f.set("e_copy_rva", format!("{:#x}", r.offset));
            let sec = d.core.index.section_pos_by_rva(r.offset).map(|p| d.core.index.section_label_at(p).to_string());
            f.set("e_copy_sec", sec.unwrap_or_default());
        }
        if let (Some(p), true) = (plan(d), active_is("main-nopie")) {
            plan_facts(&mut f, p);
            let mut widths: Vec<u32> = p.steps.iter().map(|s| s.width).collect();
            widths.sort_unstable();
            widths.dedup();
            f.set("e_widths", widths.iter().map(u32::to_string).collect::<Vec<_>>().join(", "));
            f.set("e_in_text", p.steps.iter().filter(|s| s.section.as_deref() == Some(".text")).count());
        }
    }
    if let Some(d) = doc(app, "libdata.so") {
        let b = &d.core.bin;
        let nb = b.base_relocations.len();
        let gd: Vec<(usize, &crate::model::Relocation)> = b
            .relocations
            .iter()
            .enumerate()
            .filter(|(_, r)| r.normalized == crate::model::RelocKind::GlobDat)
            .collect();
        f.set("g_n", gd.len());
        let syms: Vec<&str> = gd.iter().filter_map(|(_, r)| r.symbol.as_deref()).collect();
        f.set("g_syms", syms.join(", "));
        // A GOT slot of one of its own variables (defined in it, not an import).
        let own = gd.iter().find(|(_, r)| {
            b.exports.iter().any(|e| e.name.is_some() && e.name == r.symbol)
                || b.symbols.iter().any(|s| Some(&s.name) == r.symbol.as_ref() && s.size.is_some_and(|n| n > 0))
        });
        if let Some((i, r)) = own {
            f.set("g_row", nb + i);
            f.set("g_sym", r.symbol.as_deref().unwrap_or("?"));
            f.set("g_rva", format!("{:#x}", r.offset));
            f.set("g_width", r.width);
            let sec = d.core.index.section_pos_by_rva(r.offset).map(|p| d.core.index.section_label_at(p).to_string());
            f.set("g_sec", sec.unwrap_or_default());
        }
    }
    f
}

fn process_facts(app: &App) -> Facts {
    let mut f = Facts::default();
    let Some(d) = doc(app, "process/autoimport.exe") else { return f };
    let Some(p) = plan(d) else { return f };
    plan_facts(&mut f, p);
    // The step to flip: the first pseudo-relocation step in written data (the runtime wrote it).
    if let Some((_, Ok(v))) = &d.patch.dump {
        f.set("v_checked", v.checked);
        f.set("v_matched", v.matched);
        f.set("v_differ", v.mismatches.len());
        if let Some(m) = v.mismatches.first() {
            f.set(
                "v_first",
                format!("{:#x} ({}): the prediction has {}, the process {}", m.rva, m.structure, m.expected, m.actual),
            );
        }
    }
    f
}
