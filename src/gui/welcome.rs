//! The Welcome page: shown when the app starts with no file, and from Help. What linkscope is
//! for, the guided tours, the bundled samples with what each shows, recent files, and Open….

use eframe::egui::{self, RichText};

use super::action::Action;
use super::app::App;
use super::theme;
use super::tour::{self, TourAction, TOURS};

/// The bundled samples (paths under `assets/samples`), each with what it shows.
pub const SAMPLES: [(&str, &str); 15] = [
    ("autoimport.exe", "MinGW-w64 x64 program (GNU ld) using data.dll's variables without dllimport: pseudo-relocations, .refptr pointers."),
    ("autoimport-small.exe", "The same, built with -mcmodel=small: RIP-relative 32-bit fields the runtime has to patch."),
    ("data.dll", "The DLL whose data (arr, counter, pt, ptr) both programs import."),
    ("comdat.obj", "A clang-cl C++ object: COMDAT leaders with their associated .xdata, .pdata and .debug$S."),
    ("omf32.obj", "A 32-bit OMF object (NASM): records, segments, fixups and the instructions they patch."),
    ("omf-comdat.obj", "OMF COMDAT records with every selection and allocation (built byte by byte)."),
    ("main-nopie", "A non-PIE Linux executable using libdata.so's data: COPY relocations."),
    ("libdata.so", "The shared object: position-independent code, GLOB_DAT slots in its GOT."),
    ("link/a.obj", "A C++ object sharing inline functions and templates with b.obj: link them in the Link view."),
    ("link/b.obj", "Its partner: its copies of the shared COMDATs lose, and their unwind data goes with them."),
    ("link/crt0.obj", "A minimal entry point and .CRT$XC* markers for the link samples."),
    ("link/odr1.obj", "Defines inline odr_f one way …"),
    ("link/odr2.obj", "… and this one another (an ODR violation the link picks one copy of)."),
    ("link/cxx.exe", "The real lld-link image of the link samples (with its map) to compare a simulated link with."),
    ("process/autoimport.exe", "autoimport.exe as run under wine, with self.dmp.gz, the minidump it wrote of itself (and self-hooked.dmp.gz, one byte changed)."),
];

/// Draw the Welcome page.
pub fn show(ui: &mut egui::Ui, app: &App, actions: &mut Vec<Action>) {
    egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
        let width = ui.available_width().min(820.0);
        let margin = ((ui.available_width() - width) / 2.0).max(0.0);
        ui.horizontal(|ui| {
            ui.add_space(margin);
            ui.vertical(|ui| {
                ui.set_width(width);
                contents(ui, app, actions);
            });
        });
    });
}

fn contents(ui: &mut egui::Ui, app: &App, actions: &mut Vec<Action>) {
    ui.add_space(16.0);
    ui.horizontal(|ui| {
        ui.heading(RichText::new("linkscope").strong());
        if !app.docs.is_empty() {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Back to the tabs").clicked() {
                    actions.push(Action::ShowWelcome(false));
                }
            });
        }
    });
    ui.label("Look inside executables, DLLs and object files: PE/COFF, OMF, ELF, archives.");
    ui.label("See what a linker keeps and discards, and how a loader patches an image and its DLLs.");
    ui.label("Check the prediction against a real process's memory, byte by byte.");
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        if ui.button(RichText::new("Open…").strong()).on_hover_text("Open files (Ctrl+O)").clicked() {
            actions.push(Action::OpenDialog);
        }
        if ui.button("Type a path…").clicked() {
            actions.push(Action::ShowOpenPath(true));
        }
        // Running processes are read from /proc (Linux).
        if std::path::Path::new("/proc/self/maps").exists()
            && ui.button("Open a running process…").on_hover_text(super::live::MENU_TIP).clicked()
        {
            actions.push(Action::Live(super::live::LiveAction::ShowPicker(true)));
        }
        let samples = super::app::sample_paths();
        if !samples.is_empty() && ui.button("Open every sample").clicked() {
            actions.push(Action::OpenFiles(samples));
        }
        ui.weak("…or drop files onto this window.");
    });
    if !app.loads.is_empty() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Loading…");
        });
    }
    for (p, e) in &app.load_errors {
        ui.label(
            RichText::new(format!("{}: {e}", p.display()))
                .color(theme::severity_color(crate::model::Severity::Error, ui.visuals())),
        );
    }
    ui.add_space(10.0);
    ui.label(RichText::new("Guided tours").strong().size(16.0));
    ui.weak("Each opens its samples and walks you through them step by step: you act, the app shows what happens.");
    egui::Grid::new("welcome-tours").num_columns(2).spacing(egui::vec2(10.0, 6.0)).show(ui, |ui| {
        for (i, t) in TOURS.iter().enumerate() {
            let resp = ui.button(format!("{}. {}", i + 1, t.title)).on_hover_text(format!("{} steps", t.steps.len()));
            if resp.clicked() {
                actions.push(Action::Tour(TourAction::Start(i)));
            }
            ui.add(egui::Label::new(RichText::new(t.question).color(ui.visuals().weak_text_color())).wrap());
            ui.end_row();
        }
    });
    ui.add_space(10.0);
    ui.label(RichText::new("Samples").strong().size(16.0));
    match tour::samples_dir() {
        None => {
            ui.weak("The bundled samples (assets/samples) are not beside the program.");
        }
        Some(dir) => {
            egui::Grid::new("welcome-samples").num_columns(2).spacing(egui::vec2(10.0, 4.0)).show(ui, |ui| {
                for (p, what) in SAMPLES {
                    let path = dir.join(p);
                    if !path.is_file() {
                        continue;
                    }
                    if ui.link(theme::mono(p)).on_hover_text(path.display().to_string()).clicked() {
                        actions.push(Action::OpenFiles(vec![path]));
                    }
                    ui.add(egui::Label::new(what).wrap());
                    ui.end_row();
                }
            });
        }
    }
    ui.add_space(10.0);
    ui.label(RichText::new("Recent files").strong().size(16.0));
    if app.settings.recent.is_empty() {
        ui.weak("None yet.");
    }
    for p in app.settings.recent.iter().take(8) {
        if ui.link(p.display().to_string()).clicked() {
            actions.push(Action::OpenFiles(vec![p.clone()]));
        }
    }
    ui.add_space(16.0);
}
