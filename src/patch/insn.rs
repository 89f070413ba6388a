//! The instruction around each step's field, before and after the step, from the instruction
//! starts the data-reference scan found, its operand named by the site's target both times; and
//! the offset into the import of a step whose list item does not say it (a v2 item of a
//! RIP-relative field), from the site.

use std::collections::HashMap;
use std::sync::Arc;

use super::PatchPlan;
use crate::analysis::listing::{Lister, Names};
use crate::analysis::namer::Namer;
use crate::analysis::{code, Refs, Site};
use crate::model::index::Index;
use crate::model::Binary;

/// Fill `insn_rva`, `insn_before` and `insn_after` of every step whose field lies inside an
/// instruction the scan decoded, and the `offset` of a step into the import its site reaches when
/// the scheme left it unknown.
pub fn annotate(plan: &mut PatchPlan, bin: &Binary, index: &Index, refs: &Refs, names: Arc<Names>) {
    let mut by_field: HashMap<u64, &Site> = HashMap::new();
    for s in &refs.sites {
        // A field inside an instruction over a pointer the sweep saw as data.
        if s.instr_len > 0 || !by_field.contains_key(&s.field_rva) {
            by_field.insert(s.field_rva, s);
        }
    }
    if by_field.is_empty() {
        return;
    }
    let namer = Namer { bin, index };
    for st in &mut plan.steps {
        let Some(site) = by_field.get(&st.target_rva) else { continue };
        if st.offset.is_none() && st.import.is_some() && site.import.map(|i| namer.import_label(i)) == st.import {
            st.offset = site.offset;
        }
    }
    let Some(bits) = code::bitness(bin) else { return };
    let mut lister = Lister::new(bits, names);
    let bound: HashMap<u64, u64> = plan.bindings.iter().filter_map(|b| Some((b.slot_rva, b.value?))).collect();
    let base = plan.modules[0].base;
    let mut steps = std::mem::take(&mut plan.steps);
    for st in &mut steps {
        let Some(site) = by_field.get(&st.target_rva).filter(|s| s.instr_len > 0) else { continue };
        let (at, len) = (site.site_rva, site.instr_len);
        let (s, e) = (at as usize, at as usize + usize::from(len));
        let (Some(before), Some(after)) = (plan.loaded_bytes(at, usize::from(len)), plan.patched.get(s..e)) else {
            continue;
        };
        let va = base.wrapping_add(at);
        let here = refs.sites_at(site.section, at);
        let operands = namer.operand_names(here);
        // After the step an operand keeps its target's name only where it reaches that target
        // as loaded: a wrong write shows its address.
        let loaded = namer.loaded_operand_names(here, base, &|slot| bound.get(&slot).copied());
        st.insn_rva = Some(at);
        st.insn_before = lister.format_named(&before, va, &operands).map(|(_, t)| t);
        // A step the runtime never writes still shows what it would make of the instruction.
        let mut would = after.to_vec();
        if !st.written {
            let off = (st.target_rva - at) as usize;
            let n = (st.width / 8) as usize;
            for k in 0..n.min(would.len().saturating_sub(off)) {
                would[off + k] = (st.after >> (8 * k)) as u8;
            }
        }
        st.insn_after = lister.format_named(&would, va, &loaded).map(|(_, t)| t);
    }
    plan.steps = steps;
}
