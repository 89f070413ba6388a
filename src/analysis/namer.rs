//! What a site refers to, by name: its import (`dll!name`), symbol, and the offset into it, in the
//! one notation every output uses for a signed offset (`+0xc`, `-0x8`). The listing names operands
//! with these, the data-reference tables and the patch steps show the same text.

use serde::Serialize;

use super::site::{ImportRef, Site, SymRef, TargetKind};
use crate::model::index::{import_name, is_object, Index};
use crate::model::Binary;

/// A signed number in the one notation of every output: hex with its sign (`+0xc`, `-0x8`,
/// `+0x0`).
pub fn signed_hex(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("+{v:#x}")
    }
}

/// A name with an offset into it: `name` at offset 0 (or none), else `name+0xc` / `name-0x8`.
pub fn with_offset(name: &str, offset: Option<i64>) -> String {
    match offset {
        Some(o) if o != 0 => format!("{name}{}", signed_hex(o)),
        _ => name.to_string(),
    }
}

/// What a site says one operand of its instruction names: the field's offset in the instruction
/// and the target's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperandName {
    /// Offset of the site's field from the instruction's start.
    pub field: u8,
    /// The target, `dll!name+0xc`.
    pub label: String,
    /// Name the operand only when it reaches this address (after patching: where the target
    /// was loaded); `None`: whatever the field holds.
    pub address: Option<u64>,
}

/// An import as the JSON shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImportJson {
    /// DLL (`null` for objects' external symbols and ELF GOT slots).
    pub dll: Option<String>,
    /// Imported name (`#ordinal` when by ordinal).
    pub name: String,
    /// RVA of the IAT / GOT slot.
    pub slot_rva: Option<u64>,
}

/// The names a site refers to, resolved against the model.
pub struct Namer<'a> {
    /// The model.
    pub bin: &'a Binary,
    /// Its index.
    pub index: &'a Index,
}

impl Namer<'_> {
    /// The import a reference names.
    pub fn import(&self, r: ImportRef) -> Option<ImportJson> {
        match r {
            ImportRef::Row(row) => {
                let m = self.index.import_module(self.bin, row as usize)?;
                let e = self.index.import_entry(self.bin, row as usize)?;
                Some(ImportJson { dll: Some(m.dll.clone()), name: import_name(e), slot_rva: Some(e.iat_rva) })
            }
            ImportRef::Symbol(p) => {
                let s = self.bin.symbols.get(p as usize)?;
                let name = s.name.strip_prefix("__imp_").unwrap_or(&s.name).to_string();
                Some(ImportJson { dll: None, name, slot_rva: None })
            }
            ImportRef::Got(i) => {
                let g = self.bin.elf.as_ref()?.got_slots.get(i as usize)?;
                Some(ImportJson { dll: None, name: g.symbol.clone(), slot_rva: Some(g.rva) })
            }
            ImportRef::Copy(i) => {
                let g = self.bin.elf.as_ref()?.copy_relocations.get(i as usize)?;
                Some(ImportJson { dll: None, name: g.symbol.clone(), slot_rva: Some(g.rva) })
            }
        }
    }

    /// `dll!name` of an import reference.
    pub fn import_label(&self, r: ImportRef) -> String {
        match self.import(r) {
            Some(ImportJson { dll: Some(d), name, .. }) => format!("{d}!{name}"),
            Some(i) => i.name,
            None => "?".into(),
        }
    }

    /// The name of a symbol reference.
    pub fn symbol(&self, r: SymRef) -> Option<String> {
        match r {
            SymRef::Symbol(p) => self.bin.symbols.get(p as usize).map(|s| s.name.clone()),
            SymRef::Export(p) => self.bin.exports.get(p as usize).and_then(|e| e.name.clone()),
        }
    }

    /// What a site reaches, by name: its import (`dll!name`), else its symbol, else (OMF) the
    /// segment or group its fixup targets; `None` when it has none of these. An OMF segment-base
    /// fixup reads as nasm writes it: `seg name`.
    pub fn site_name(&self, s: &Site) -> Option<String> {
        let name = match (s.import, s.symbol) {
            (Some(i), _) => self.import_label(i),
            (None, Some(sym)) => self.symbol(sym).unwrap_or_default(),
            (None, None) if self.bin.omf.is_some() => {
                self.bin.relocations.get(s.reloc? as usize)?.symbol.clone().filter(|n| !n.is_empty())?
            }
            _ => return None,
        };
        match s.reloc {
            Some(r) if super::omf::is_segment_base(self.bin, r as usize) => Some(format!("seg {name}")),
            _ => Some(name),
        }
    }

    /// What a site reaches with its offset (`data.dll!arr+0xc`); `None` when it has no name.
    pub fn site_label(&self, s: &Site) -> Option<String> {
        Some(with_offset(&self.site_name(s)?, s.offset))
    }

    /// The naive reading of an ambiguous site: the IAT slot its stored address lands on, with the
    /// offset into that slot (`data.dll!counter+0x4`).
    pub fn naive_label(&self, s: &Site) -> Option<String> {
        let r = s.naive_import?;
        let slot = self.import(r).and_then(|i| i.slot_rva);
        let off = match (slot, s.target_rva) {
            (Some(slot), Some(t)) => Some(t.wrapping_sub(slot) as i64),
            _ => None,
        };
        let label = with_offset(&self.import_label(r), off);
        // Another slot of the same import (a v1 extra descriptor's): say which.
        match slot {
            Some(slot) if s.import.map(|i| self.import_label(i)) == Some(self.import_label(r)) => {
                Some(format!("{label} (slot {slot:#x})"))
            }
            _ => Some(label),
        }
    }

    /// The names the sites of one instruction give its operands (see [`Namer::operand_name`]).
    pub fn operand_names(&self, sites: &[Site]) -> Vec<OperandName> {
        sites.iter().filter_map(|s| self.operand_name(s)).collect()
    }

    /// The name a site gives the operand holding its field, when its target is known beyond its
    /// address (an import, a pseudo-relocation item, an object's relocation); `None` leaves the
    /// operand to be named by its address.
    pub fn operand_name(&self, s: &Site) -> Option<OperandName> {
        let known = s.pseudo_reloc.is_some()
            || (s.import.is_some() && s.target_kind != TargetKind::Thunk)
            || (is_object(self.bin) && s.reloc.is_some());
        if s.instr_len == 0 || !known {
            return None;
        }
        let field = u8::try_from(s.field_rva.checked_sub(s.site_rva)?).ok()?;
        Some(OperandName { field, label: self.site_label(s)?, address: None })
    }

    /// Where a site's target lies once the image is loaded at `base`: for a pseudo-relocated field
    /// (the runtime makes it point at the imported object) the address its import's slot was
    /// bound to, `slot_value(slot RVA)`, plus the offset; for an operand that addresses an
    /// import's slot (`call [IAT]`), that slot. `None` when it cannot be told.
    pub fn loaded_target(&self, s: &Site, base: u64, slot_value: &dyn Fn(u64) -> Option<u64>) -> Option<u64> {
        if s.pseudo_reloc.is_some() {
            let slot = self.import(s.import?)?.slot_rva?;
            return Some(slot_value(slot)?.wrapping_add_signed(s.offset.unwrap_or(0)));
        }
        s.import?;
        Some(base.wrapping_add(s.target_rva?))
    }

    /// The operand names of an instruction after loading (see [`Namer::operand_name`]), each
    /// kept only where the operand reaches [`Namer::loaded_target`].
    pub fn loaded_operand_names(
        &self,
        sites: &[Site],
        base: u64,
        slot_value: &dyn Fn(u64) -> Option<u64>,
    ) -> Vec<OperandName> {
        sites
            .iter()
            .filter_map(|s| {
                let mut o = self.operand_name(s)?;
                o.address = Some(self.loaded_target(s, base, slot_value)?);
                Some(o)
            })
            .collect()
    }

    /// The label of section position `p`.
    pub fn section(&self, p: u32) -> Option<String> {
        (p != u32::MAX).then(|| self.index.section_label_at(p as usize).to_string())
    }
}
