//! Overview: what the file is, where it starts, how much of everything it has, and what went wrong
//! while reading it.

use eframe::egui::{self, RichText};

use crate::gui::action::{Action, TableAction, Target};
use crate::gui::document::View;
use crate::gui::theme::{self, RefKind};
use crate::model::{Format, Severity};

use super::{count, ViewCtx};

/// One sentence on what a format is, for someone who has never seen one.
pub fn format_help(f: Format) -> &'static str {
    match f {
        Format::Pe32 | Format::Pe32Plus => {
            "A Windows image (EXE or DLL): ready to be mapped into memory by the loader, which then binds its imports and, if it cannot use the preferred base, applies base relocations."
        }
        Format::Coff | Format::CoffBigobj => {
            "A COFF object file: compiler output the linker combines with others; its sections have no addresses yet and its relocations say what the linker must patch."
        }
        Format::Archive => "An archive (static library or import library): a bundle of members the linker picks from.",
        Format::ImportObject => "A short import member: tells the linker that a name comes from a DLL.",
        Format::Elf32 | Format::Elf64 => {
            "An ELF file (Linux and most Unix systems): an executable, shared library or object, described by sections (linker view) and segments (loader view)."
        }
        Format::Omf => "An OMF object module (16/32-bit DOS and Windows toolchains).",
        Format::OmfLibrary => "An OMF library: a bundle of OMF object modules.",
        Format::Mz => "A DOS MZ executable.",
        Format::ProcessDump => "A process's memory: a minidump or an ELF core file.",
    }
}

fn row(ui: &mut egui::Ui, key: &str, add: impl FnOnce(&mut egui::Ui)) {
    ui.label(RichText::new(key).color(ui.visuals().weak_text_color()));
    add(ui);
    ui.end_row();
}

/// The facts of an OMF module or library: its name, translator, start address, library layout.
fn omf_rows(ui: &mut egui::Ui, bin: &crate::model::Binary, omf: &crate::model::OmfInfo, actions: &mut Vec<Action>) {
    if let Some(name) = &omf.module_name {
        row(ui, "Module", |ui| {
            ui.label(theme::mono(name)).on_hover_text("The name in the THEADR / LHEADR record.");
        });
    }
    if let Some(t) = &omf.translator {
        row(ui, "Translator", |ui| {
            ui.label(theme::mono(t));
        });
    }
    if let Some(d) = &omf.debug_style {
        row(ui, "Debug information", |ui| {
            ui.label(theme::mono(d));
        });
    }
    if let Some(start) = &omf.start {
        row(ui, "Start address", |ui| {
            let disp = start.displacement.map_or_else(String::new, |d| format!(" + {d:#x}"));
            let text = format!("{}{disp}, frame: {}", start.target, start.frame);
            if theme::link(ui, text, RefKind::Address)
                .on_hover_text("Given by the MODEND record of a main module. Click to see the record.")
                .clicked()
            {
                let modend = bin.omf_records.iter().rposition(|r| r.type_name.starts_with("MODEND"));
                let target = match modend {
                    Some(r) => Target::Row(crate::gui::document::TableId::OmfRecords, r),
                    None => Target::View(View::Records),
                };
                actions.push(Action::Navigate { doc: None, target });
            }
        });
    }
    if let Some(lib) = &omf.library {
        row(ui, "Library", |ui| {
            ui.label(theme::mono(format!(
                "{}-byte pages; dictionary at {:#x}, {} block(s), {} entries{}",
                lib.page_size,
                lib.dictionary_offset,
                lib.dictionary_blocks,
                lib.dictionary_entries,
                if lib.flags & 1 != 0 { ", case-sensitive" } else { "" }
            )));
        });
    }
}

/// Draw the Overview.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let core = &cx.doc.core;
    let bin = &core.bin;
    egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
        ui.heading(&core.name);
        ui.label(RichText::new(core.path.display().to_string()).small().color(ui.visuals().weak_text_color()));
        ui.add_space(6.0);
        ui.label(format_help(bin.format));
        ui.add_space(8.0);
        egui::Grid::new("overview-facts").num_columns(2).spacing([24.0, 6.0]).show(ui, |ui| {
            row(ui, "Format", |ui| {
                ui.label(theme::mono(bin.format.name()));
            });
            row(ui, "Machine", |ui| {
                ui.label(theme::mono(format!("{}{}", bin.arch, if bin.is_64 { " (64-bit)" } else { "" })));
            });
            row(ui, "File size", |ui| {
                ui.label(theme::mono(format!("{} bytes ({:#x})", bin.file_size, bin.file_size)));
            });
            if let Some(base) = bin.image_base {
                row(ui, "Image base", |ui| {
                    ui.label(theme::mono_kind(format!("{base:#x}"), RefKind::Address, ui.visuals()))
                        .on_hover_text("The preferred load address; RVAs are relative to it.");
                });
            }
            if let Some(entry) = bin.entry_rva {
                row(ui, "Entry point", |ui| {
                    let va =
                        bin.image_base.map_or_else(String::new, |b| format!("  (VA {:#x})", b.wrapping_add(entry)));
                    let place = core.index.rva_place(entry, bin).map_or_else(String::new, |p| format!("  {p}"));
                    ui.horizontal(|ui| {
                        if theme::link(ui, format!("rva {entry:#x}"), RefKind::Address)
                            .on_hover_text("Where execution starts. Click to see the bytes.")
                            .clicked()
                        {
                            actions.push(Action::Navigate { doc: None, target: Target::Rva(entry, 16) });
                        }
                        ui.label(theme::mono(format!("{va}{place}")));
                    });
                });
            }
            if let Some(pe) = &bin.pe {
                pe_rows(ui, bin, pe, actions);
            }
            if let Some(elf) = &bin.elf {
                elf_rows(ui, elf);
            }
            import_rows(ui, cx, actions);
            if let Some(omf) = &bin.omf {
                omf_rows(ui, bin, omf, actions);
            }
            if let Some(io) = &bin.import_object {
                row(ui, "Imports", |ui| {
                    ui.label(theme::mono(format!(
                        "{}!{} ({}, {})",
                        io.dll,
                        io.import_name.as_deref().unwrap_or(&io.symbol),
                        io.kind,
                        io.name_type
                    )));
                });
            }
        });
        counts(ui, core, actions);
        diagnostics(ui, bin, actions);
    });
}

/// The facts of a PE image: subsystem, characteristics, checksum, TLS, Rich header, overlay.
fn pe_rows(ui: &mut egui::Ui, bin: &crate::model::Binary, pe: &crate::model::PeInfo, actions: &mut Vec<Action>) {
    row(ui, "Subsystem", |ui| {
        ui.label(theme::mono(&pe.subsystem));
    });
    if !pe.characteristics.is_empty() {
        row(ui, "Characteristics", |ui| {
            ui.add(egui::Label::new(theme::mono(pe.characteristics.join(" "))).wrap());
        });
    }
    if !pe.dll_characteristics.is_empty() {
        row(ui, "DLL characteristics", |ui| {
            ui.add(egui::Label::new(theme::mono(pe.dll_characteristics.join(" "))).wrap());
        });
    }
    row(ui, "Checksum", |ui| {
        let computed = pe.checksum_computed.map_or_else(|| "not computed".to_string(), |c| format!("{c:#010x}"));
        let ok = Some(pe.checksum_stored) == pe.checksum_computed;
        let text = if pe.checksum_stored == 0 {
            "0 (not set; only drivers and boot DLLs need one)".to_string()
        } else if ok {
            format!("{:#010x} (matches)", pe.checksum_stored)
        } else {
            format!("{:#010x} stored, {computed} computed", pe.checksum_stored)
        };
        ui.label(theme::mono(text));
    });
    if let Some(tls) = &bin.pe.as_ref().and_then(|p| p.tls.clone()) {
        row(ui, "TLS callbacks", |ui| {
            ui.label(theme::mono(tls.callbacks.iter().map(|c| format!("{c:#x}")).collect::<Vec<_>>().join(" ")));
        });
    }
    if let Some(rich) = &pe.rich {
        row(ui, "Rich header", |ui| {
            let valid = if rich.checksum_valid { "checksum valid" } else { "checksum does not match" };
            if theme::link(ui, format!("{} entries, {valid}", rich.entries.len()), RefKind::Header).clicked() {
                actions.push(Action::Navigate { doc: None, target: Target::Bytes(rich.span) });
            }
        });
    }
    if let Some(overlay) = pe.overlay {
        row(ui, "Overlay", |ui| {
            if theme::link(ui, format!("{:#x} bytes at {:#x}", overlay.len, overlay.offset), RefKind::Other).clicked() {
                actions.push(Action::Navigate { doc: None, target: Target::Bytes(overlay) });
            }
        });
    }
}

/// The facts of an ELF file: type, interpreter, SONAME, needed libraries.
fn elf_rows(ui: &mut egui::Ui, elf: &crate::model::ElfInfo) {
    row(ui, "ELF type", |ui| {
        ui.label(theme::mono(&elf.file_type));
    });
    if let Some(interp) = &elf.interpreter {
        row(ui, "Interpreter", |ui| {
            ui.label(theme::mono(interp));
        });
    }
    if let Some(soname) = &elf.soname {
        row(ui, "SONAME", |ui| {
            ui.label(theme::mono(soname));
        });
    }
    if !elf.needed.is_empty() {
        row(ui, "Needs", |ui| {
            ui.label(theme::mono(elf.needed.join(", ")));
        });
    }
}

/// The DLLs imported from, each a link to its imports.
fn import_rows(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let bin = &cx.doc.core.bin;
    let modules: Vec<(bool, &crate::model::ImportModule)> =
        bin.imports.iter().map(|m| (false, m)).chain(bin.delay_imports.iter().map(|m| (true, m))).collect();
    if !modules.is_empty() {
        row(ui, "Imports from", |ui| {
            ui.horizontal_wrapped(|ui| {
                for (delay, m) in modules {
                    let text = format!("{}{} ({})", m.dll, if delay { " [delay]" } else { "" }, m.entries.len());
                    let open = cx.docs.iter().any(|d| d.core.file_name_lower() == m.dll.to_ascii_lowercase());
                    let tip =
                        if open { "Show these imports (the DLL is open in another tab)" } else { "Show these imports" };
                    if theme::link(ui, text, RefKind::Import).on_hover_text(tip).clicked() {
                        actions.push(Action::Navigate { doc: None, target: Target::View(View::Imports) });
                        actions.push(Action::Table(
                            crate::gui::document::TableId::Imports,
                            TableAction::Filter(m.dll.clone()),
                        ));
                    }
                }
            });
        });
    }
}

/// How many items each view lists, each a link to the view.
fn counts(ui: &mut egui::Ui, core: &crate::gui::document::DocCore, actions: &mut Vec<Action>) {
    ui.add_space(12.0);
    ui.strong("Contents");
    ui.add_space(2.0);
    egui::Grid::new("overview-counts").num_columns(2).spacing([24.0, 4.0]).show(ui, |ui| {
        for view in View::ALL {
            let Some(n) = count(core, view) else { continue };
            if view == View::Diagnostics || (n == 0 && matches!(view, View::Members | View::Records)) {
                continue;
            }
            ui.label(view.title());
            let text = theme::mono(n.to_string());
            if ui.add(egui::Link::new(text)).on_hover_text(format!("Open {}", view.title())).clicked() {
                actions.push(Action::Navigate { doc: None, target: Target::View(view) });
            }
            ui.end_row();
        }
    });
}

/// The diagnostics by severity, and the worst six.
fn diagnostics(ui: &mut egui::Ui, bin: &crate::model::Binary, actions: &mut Vec<Action>) {
    ui.add_space(12.0);
    ui.strong("Diagnostics");
    ui.add_space(2.0);
    let by = |s: Severity| bin.diagnostics.iter().filter(|d| d.severity == s).count();
    if bin.diagnostics.is_empty() {
        ui.label("None: every structure that was read is well-formed.");
    } else {
        ui.horizontal(|ui| {
            for s in [Severity::Error, Severity::Warning, Severity::Info] {
                let n = by(s);
                let color = theme::severity_color(s, ui.visuals());
                ui.label(RichText::new(format!("{n} {}", s.name())).color(if n > 0 {
                    color
                } else {
                    ui.visuals().weak_text_color()
                }));
            }
            if ui.link("show all").clicked() {
                actions.push(Action::Navigate { doc: None, target: Target::View(View::Diagnostics) });
            }
        });
        let mut worst: Vec<_> = bin.diagnostics.iter().enumerate().collect();
        worst.sort_by_key(|(i, d)| (std::cmp::Reverse(d.severity), *i));
        for (_, d) in worst.into_iter().take(6) {
            ui.horizontal(|ui| {
                ui.label(RichText::new(d.severity.name()).color(theme::severity_color(d.severity, ui.visuals())));
                let resp = ui.add(egui::Label::new(&d.message).truncate().sense(egui::Sense::click()));
                if let Some(target) = super::diagnostics::target(d) {
                    if resp.on_hover_text("Click to go to its location").clicked() {
                        actions.push(Action::Navigate { doc: None, target });
                    }
                }
            });
        }
    }
}
