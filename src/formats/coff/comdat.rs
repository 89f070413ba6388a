//! COFF COMDAT sections: selection, COMDAT symbol and ASSOCIATIVE links, with diagnostics.

use super::header::scn;
use super::symbols::{selection_name, SymbolTable};
use crate::model::{Binary, Comdat, Location, Severity};

/// Fill `bin.comdats` from the section flags and the section symbols' aux records.
pub fn read_comdats(bin: &mut Binary, data: &[u8], table: &SymbolTable, bigobj: bool) {
    let nsec = bin.sections.len() as u32;
    // Section symbol (first STATIC symbol with an aux record for the section) per section.
    let mut section_sym: Vec<Option<usize>> = vec![None; nsec as usize + 1];
    for (pos, s) in table.symbols.iter().enumerate() {
        if s.section > 0 && (s.section as u32) <= nsec && table.aux_section(data, s, bigobj).is_some() {
            let slot = &mut section_sym[s.section as usize];
            if slot.is_none() {
                *slot = Some(pos);
            }
        }
    }
    let mut rows = Vec::new();
    for sec in &bin.sections {
        if sec.flags as u32 & scn::LNK_COMDAT == 0 {
            continue;
        }
        let Some(pos) = section_sym[sec.index as usize] else {
            bin.diagnostics.push(crate::model::Diagnostic {
                severity: Severity::Warning,
                location: Location::file(sec.header_span.offset),
                message: format!(
                    "section {} ({}) has IMAGE_SCN_LNK_COMDAT but no section symbol with a section-definition aux record",
                    sec.index, sec.name
                ),
            });
            continue;
        };
        let sym = &table.symbols[pos];
        let Some(aux) = table.aux_section(data, sym, bigobj) else {
            continue;
        };
        // The COMDAT symbol: the first symbol after the section symbol with the same section number.
        let comdat_sym = table.symbols[pos + 1..].iter().find(|s| s.section == sym.section).map(|s| s.name.clone());
        rows.push(Comdat {
            section: sec.index,
            selection: Some(aux.selection),
            selection_name: selection_name(aux.selection).to_string(),
            symbol: if aux.selection == 5 { None } else { comdat_sym },
            associated_section: (aux.selection == 5).then_some(aux.number),
            associated_by: Vec::new(),
            checksum: aux.checksum,
            omf_selection: None,
            omf_allocation: None,
        });
    }
    // Validate associations and fill each leader's list.
    let sel_of = |rows: &[Comdat], idx: u32| rows.iter().find(|c| c.section == idx).and_then(|c| c.selection);
    let mut links = Vec::new();
    for c in &rows {
        if c.selection == Some(0) || c.selection.is_some_and(|s| s > 7) {
            bin.diag(
                Severity::Warning,
                Location::file(bin.sections[c.section as usize - 1].header_span.offset),
                format!("COMDAT section {} has invalid selection {}", c.section, c.selection.unwrap_or(0)),
            );
        }
        let Some(target) = c.associated_section else {
            continue;
        };
        let loc = Location::file(bin.sections[c.section as usize - 1].header_span.offset);
        if target == 0 || target > nsec {
            bin.diag(
                Severity::Error,
                loc,
                format!("associative COMDAT section {} points at section {target}, which does not exist", c.section),
            );
        } else if target == c.section {
            bin.diag(
                Severity::Error,
                loc,
                format!("associative COMDAT section {} is associated with itself", c.section),
            );
        } else {
            match sel_of(&rows, target) {
                None => bin.diag(
                    Severity::Warning,
                    loc,
                    format!(
                        "associative COMDAT section {} points at section {target} ({}), which is not a COMDAT",
                        c.section,
                        bin.sections[target as usize - 1].name
                    ),
                ),
                Some(5) => bin.diag(
                    Severity::Warning,
                    loc,
                    format!(
                        "associative COMDAT section {} points at section {target}, which is itself associative",
                        c.section
                    ),
                ),
                Some(_) => {}
            }
            links.push((target, c.section));
        }
    }
    for (leader, member) in links {
        if let Some(l) = rows.iter_mut().find(|c| c.section == leader) {
            l.associated_by.push(member);
        }
    }
    bin.comdats = rows;
}
