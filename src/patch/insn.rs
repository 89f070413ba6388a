//! The instruction around each step's field, before and after the step, from the instruction
//! starts the data-reference scan found.

use std::collections::HashMap;
use std::sync::Arc;

use super::PatchPlan;
use crate::analysis::listing::{Lister, Names};
use crate::analysis::{code, Refs};
use crate::model::Binary;

/// Fill `insn_rva`, `insn_before` and `insn_after` of every step whose field lies inside an
/// instruction the scan decoded.
pub fn annotate(plan: &mut PatchPlan, bin: &Binary, refs: &Refs, names: Arc<Names>) {
    let Some(bits) = code::bitness(bin) else { return };
    let by_field: HashMap<u64, (u64, u8)> =
        refs.sites.iter().filter(|s| s.instr_len > 0).map(|s| (s.field_rva, (s.site_rva, s.instr_len))).collect();
    if by_field.is_empty() {
        return;
    }
    let mut lister = Lister::new(bits, names);
    let base = plan.modules[0].base;
    for st in &mut plan.steps {
        let Some(&(at, len)) = by_field.get(&st.target_rva) else { continue };
        let (s, e) = (at as usize, at as usize + usize::from(len));
        let (Some(before), Some(after)) = (plan.loaded.get(s..e), plan.patched.get(s..e)) else { continue };
        let va = base.wrapping_add(at);
        st.insn_rva = Some(at);
        st.insn_before = lister.format(before, va).map(|(_, t)| t);
        // A step the runtime never writes still shows what it would make of the instruction.
        let mut would = after.to_vec();
        if !st.written {
            let off = (st.target_rva - at) as usize;
            let n = (st.width / 8) as usize;
            for k in 0..n.min(would.len().saturating_sub(off)) {
                would[off + k] = (st.after >> (8 * k)) as u8;
            }
        }
        st.insn_after = lister.format(&would, va).map(|(_, t)| t);
    }
}
