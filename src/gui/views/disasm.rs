//! The disassembly: every instruction of the code sections (an index of starts built with the
//! scan, off the UI thread; only visible rows are decoded and formatted), operands naming imports
//! and symbols, each site coloured by its mode with badges for offset / unreachable / ambiguous,
//! and a tooltip that explains it in words.

use std::cell::RefCell;
use std::sync::Arc;

use eframe::egui;

use crate::analysis::code;
use crate::analysis::listing::{data_text, Lister, Names};
use crate::analysis::namer::OperandName;
use crate::analysis::{Site, TargetKind};
use crate::gui::action::{Action, Target};
use crate::gui::document::{DocCore, TableId};
use crate::gui::table::{columns, Cell, Column, ColumnEnum, TableModel, Tone};
use crate::gui::theme::RefKind;
use crate::model::Span;
use crate::report::refs::{explain, reach_text, Namer};

use super::{intro, show_table, ViewCtx};

columns! {
    /// Columns of the disassembly.
    pub enum DisasmCol {
        Address => Column::num("Address", 110.0, "Virtual address of the instruction (section offset in objects)."),
        Label => Column::text("Label", 100.0, "The function this instruction starts: a symbol, export, the entry point, a TLS callback, an import thunk (j_name, name@plt), or sub_<address> for a .pdata function start or call target nothing names. Right-click for the references to it."),
        Section => Column::text("Section", 64.0, "The code section."),
        Bytes => Column::text("Bytes", 150.0, "The instruction's bytes."),
        Instruction => Column::text("Instruction", 330.0, "Intel syntax; addresses named after imports, thunks, symbols and exports."),
        DataRef => Column::text("Data reference", 330.0, "The site's mode, what it reaches with its offset, and its reach. Click to follow the target."),
    }
}

thread_local! {
    /// One formatter per thread, for the names of one document at a time.
    static LISTER: RefCell<Option<(usize, u32, Lister)>> = const { RefCell::new(None) };
}

/// Format with the thread's formatter for `names` (made anew when the document changes), the
/// operands the instruction's sites name called by their targets.
fn format(
    names: &Arc<Names>,
    (bitness, section): (u32, usize),
    bytes: &[u8],
    va: u64,
    operands: &[OperandName],
) -> Option<(usize, String)> {
    LISTER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let key = Arc::as_ptr(names) as usize;
        if !matches!(&*slot, Some((k, b, _)) if *k == key && *b == bitness) {
            *slot = Some((key, bitness, Lister::new(bitness, names.clone())));
        }
        let (_, _, lister) = slot.as_mut()?;
        lister.set_section(section);
        lister.format_named(bytes, va, operands).map(|(ins, text)| (ins.len(), text))
    })
}

/// The disassembly rows.
pub struct DisasmModel<'a> {
    /// The document.
    pub core: &'a DocCore,
}

impl DisasmModel<'_> {
    /// Section position, RVA, bytes from the row on, VA.
    fn at(&self, row: usize) -> Option<(usize, u64, &[u8], u64)> {
        let (reg, rva) = self.core.refs.insns.at(row)?;
        let off = usize::try_from(rva - reg.rva).ok()?;
        let bytes = code::section_code(&self.core.bin, &self.core.data, reg.section);
        let b = bytes.get(off..(off + 15).min(bytes.len()))?;
        let base =
            if crate::gui::lookup::is_object(&self.core.bin) { 0 } else { self.core.bin.image_base.unwrap_or(0) };
        Some((reg.section, rva, b, base.wrapping_add(rva)))
    }

    fn decoded(&self, row: usize) -> Option<(usize, String)> {
        let (sec, _, b, va) = self.at(row)?;
        match self.core.refs.insns.data_width(row) {
            Some(w) => Some((usize::from(w), data_text(b, w))),
            None => {
                let operands = self.namer().operand_names(&self.sites(row));
                let bits = code::section_bitness(&self.core.bin, sec).unwrap_or(self.core.refs.insns.bitness);
                format(self.core.names(), (bits, sec), b, va, &operands)
            }
        }
    }

    /// The sites of the row's instruction, built from the compact table for the row drawn.
    fn sites(&self, row: usize) -> Vec<Site> {
        match self.at(row) {
            Some((sec, rva, _, _)) => self.core.refs.sites_at(sec as u32, rva),
            None => Vec::new(),
        }
    }

    /// The label of the function the row's instruction starts, if any.
    fn label(&self, row: usize) -> Option<&crate::analysis::labels::Label> {
        let (sec, rva, _, _) = self.at(row)?;
        self.core.labels().at(sec, rva)
    }

    fn namer(&self) -> Namer<'_> {
        Namer { bin: &self.core.bin, index: &self.core.index }
    }
}

impl TableModel for DisasmModel<'_> {
    fn columns(&self) -> &'static [Column] {
        DisasmCol::COLUMNS
    }
    fn len(&self) -> usize {
        self.core.refs.insns.len()
    }
    fn text(&self, row: usize, col: usize) -> String {
        let Some(col) = DisasmCol::from_index(col) else { return String::new() };
        match col {
            DisasmCol::Address => self.at(row).map_or_else(String::new, |(_, _, _, va)| format!("{va:#x}")),
            DisasmCol::Label => self.label(row).map(|l| l.name.clone()).unwrap_or_default(),
            DisasmCol::Section => {
                self.at(row).map_or_else(String::new, |(sec, ..)| self.core.index.section_label_at(sec).to_string())
            }
            DisasmCol::Bytes => match (self.at(row), self.decoded(row)) {
                (Some((_, _, b, _)), Some((len, _))) => {
                    b[..len.min(b.len())].iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
                }
                _ => String::new(),
            },
            DisasmCol::Instruction => self.decoded(row).map(|(_, t)| t).unwrap_or_default(),
            DisasmCol::DataRef => {
                let n = self.namer();
                let ptr = if self.core.bin.is_64 { 64 } else { 32 };
                self.sites(row)
                    .iter()
                    .map(|s| {
                        let mut t = format!("{} {}", s.mode.name(), n.site_label(s).unwrap_or_default());
                        let reach = reach_text(s, ptr);
                        if !reach.is_empty() && (s.pseudo_reloc.is_some() || s.reachable == Some(false)) {
                            t.push_str(&format!(" [{reach}]"));
                        }
                        if s.ambiguous {
                            t.push_str(&format!(" [AMBIGUOUS: naive {}]", n.naive_label(s).unwrap_or_default()));
                        }
                        t
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        }
    }
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        let Some(col) = DisasmCol::from_index(col) else { return Cell::plain(text) };
        let sites = self.sites(row);
        let first = sites.first();
        match col {
            // OMF: the bytes a fixup patches link to its FIXUPP record.
            DisasmCol::Bytes => match crate::gui::omf::fixup_record_link(&self.core.bin, &sites) {
                Some((action, tip)) => Cell::link(text, RefKind::Reloc, action).tip(tip),
                None => Cell::mono(text).tone(Tone::Weak),
            },
            DisasmCol::Address => Cell::mono(text).tone(Tone::Weak),
            DisasmCol::Instruction => match first {
                Some(s) => Cell::mono(text).tone(Tone::Site(s.mode)),
                None if self.core.refs.insns.data_width(row).is_some() => {
                    Cell::mono(text).tone(Tone::Kind(RefKind::Other))
                }
                None => Cell::mono(text),
            },
            DisasmCol::DataRef => {
                let Some(s) = first else { return Cell::plain(text) };
                let tip = sites
                    .iter()
                    .map(|s| explain(&self.namer(), s, &self.core.modules))
                    .collect::<Vec<_>>()
                    .join("\n\n");
                let bad = sites.iter().any(|s| s.reachable == Some(false) || s.ambiguous || s.wraps);
                let action = target_action(self.core, s);
                let mut cell = match action {
                    Some(a) => Cell::link(text, RefKind::Address, a),
                    None => Cell::mono(text),
                };
                cell.tone = if bad { Tone::Severity(crate::model::Severity::Error) } else { Tone::Site(s.mode) };
                cell.tip(tip)
            }
            DisasmCol::Section => Cell::mono(text),
            DisasmCol::Label => {
                let tip = self.label(row).map(|l| format!("{} ({})", l.name, l.kind.name())).unwrap_or_default();
                Cell::mono(text).tone(Tone::Kind(RefKind::Symbol)).tip(tip)
            }
        }
    }
    /// On the instruction or its data reference: the references to what its operand names (its
    /// import, the address it reaches, a call's or jump's target); elsewhere, to the
    /// instruction's own address (a function, a jump table's entry, a function pointer).
    fn refs_to(&self, row: usize, col: usize) -> Option<crate::gui::xrefs::RefsTo> {
        use crate::gui::xrefs::RefsTo;
        let (_, rva, b, va) = self.at(row)?;
        if matches!(DisasmCol::from_index(col), Some(DisasmCol::Instruction | DisasmCol::DataRef)) {
            if let Some(s) = self.sites(row).first() {
                return match (s.import, s.target_rva) {
                    (Some(crate::analysis::ImportRef::Row(r)), _) => Some(RefsTo::Import(r as usize)),
                    (_, Some(t)) => Some(RefsTo::Rva(t)),
                    _ => None,
                };
            }
            let bitness = self.core.refs.insns.bitness;
            if self.core.refs.insns.data_width(row).is_none() && bitness != 0 {
                let ins = iced_x86::Decoder::with_ip(bitness, b, va, iced_x86::DecoderOptions::NONE).decode();
                use iced_x86::OpKind::{NearBranch16, NearBranch32, NearBranch64};
                if matches!(ins.op0_kind(), NearBranch16 | NearBranch32 | NearBranch64) {
                    let t = ins.near_branch_target();
                    if t != 0 && !crate::gui::lookup::is_object(&self.core.bin) {
                        return Some(RefsTo::Rva(t.wrapping_sub(va.wrapping_sub(rva))));
                    }
                }
            }
        }
        Some(RefsTo::Rva(rva))
    }
    fn row_span(&self, row: usize) -> Option<Span> {
        let (sec, rva, _, _) = self.at(row)?;
        let (len, _) = self.decoded(row)?;
        let s = self.core.bin.sections.get(sec)?;
        code::file_span(&self.core.bin, sec, rva.checked_sub(s.rva)?, len as u64)
    }
    fn activate(&self, row: usize) -> Option<Action> {
        let sites = self.sites(row);
        match sites.first() {
            Some(s) => target_action(self.core, s),
            None => Some(Action::Navigate { doc: None, target: Target::Bytes(self.row_span(row)?) }),
        }
    }
}

/// Where clicking a site's target goes: code in the disassembly, an import to its DLL's export,
/// anything else to its bytes.
fn target_action(core: &DocCore, s: &Site) -> Option<Action> {
    if let Some(crate::analysis::ImportRef::Row(r)) = s.import {
        return Some(Action::FollowImport(r as usize));
    }
    let t = s.target_rva?;
    if s.target_kind == TargetKind::Code {
        let section = s
            .target_section
            .map(|p| p as usize)
            .or(Some(s.section as usize))
            .filter(|_| crate::gui::lookup::is_object(&core.bin));
        if let Some(row) = core.refs.insns.row_of(t, section) {
            return Some(Action::Navigate { doc: None, target: Target::Row(TableId::Disasm, row) });
        }
    }
    if crate::gui::lookup::is_object(&core.bin) {
        return None;
    }
    Some(Action::Navigate { doc: None, target: Target::Rva(t, 1) })
}

/// Draw the Disassembly view.
pub fn show(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    intro(
        ui,
        "Disassembly",
        "The code, decoded by a linear sweep that restarts at every known instruction start (entry point, exports, functions, .pdata). A function's first instruction carries its label, and calls and jumps are named by those labels (sub_<address> where nothing names a called function). Instructions that reference data are coloured by how they address it; hover the reference for an explanation, click it to follow the target.",
    );
    let core = &cx.doc.core;
    if core.refs.insns.is_empty() {
        let why = core.refs.note.clone().unwrap_or_else(|| "No executable section with bytes in this file.".into());
        crate::gui::table::empty_note(ui, &why);
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Sites:");
        for m in crate::analysis::Mode::ALL {
            ui.label(egui::RichText::new(m.name()).monospace().color(crate::gui::theme::mode_color(m, ui.visuals())))
                .on_hover_text(super::refs::mode_help(m));
        }
        ui.separator();
        ui.label(rows_text(core.refs.summary.instructions, core.refs.insns.data_rows))
            .on_hover_text("Each row is an instruction or a relocated pointer the sweep found inside code.");
    });
    if !core.modules.is_empty() {
        super::placement_bar(ui, cx, actions);
    }
    show_table(ui, cx, TableId::Disasm, actions);
}

/// The Disassembly's rows in words: instructions (the count Data references shows too) and
/// pointers in code, which are rows but not instructions.
fn rows_text(instructions: u64, pointers: usize) -> String {
    match pointers {
        0 => format!("{instructions} instructions"),
        1 => format!("{instructions} instructions and 1 pointer in code"),
        n => format!("{instructions} instructions and {n} pointers in code"),
    }
}
