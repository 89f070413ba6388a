//! The instruction around each step's field, before and after the step, from the instruction
//! starts the data-reference scan found, its operand named by the site's target both times; and
//! the offset into the import of a step whose list item does not say it (a v2 item of a
//! RIP-relative field), from the site.

use std::collections::HashMap;
use std::sync::Arc;

use super::PatchPlan;
use crate::analysis::listing::{Lister, Names};
use crate::analysis::namer::Namer;
use crate::analysis::stream::SiteSource;
use crate::analysis::{code, sites_at, Site};
use crate::model::index::Index;
use crate::model::Binary;

/// Fill `insn_rva`, `insn_before` and `insn_after` of every step whose field lies inside an
/// instruction the scan decoded, and the `offset` of a step into the import its site reaches when
/// the scheme left it unknown. `names` (the listing's names, costly in a big image) is asked for
/// only when some step lies in an instruction.
pub fn annotate<S: SiteSource + ?Sized>(
    plan: &mut PatchPlan,
    bin: &Binary,
    index: &Index,
    sites: &S,
    names: impl FnOnce() -> Arc<Names>,
) {
    let kept = steps_sites(plan, sites);
    let mut by_field: HashMap<u64, &Site> = HashMap::new();
    for s in &kept {
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
    let mut lister = Lister::new(bits, names());
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
        let here = sites_at(&kept, site.section, at);
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

/// The sites whose field a step writes, and every site of their instructions, in the scan's
/// order: all `annotate` reads of the scan, kept while the rest streams past.
fn steps_sites<S: SiteSource + ?Sized>(plan: &PatchPlan, sites: &S) -> Vec<Site> {
    let mut fields: Vec<u64> = plan.steps.iter().map(|s| s.target_rva).collect();
    fields.sort_unstable();
    fields.dedup();
    let mut kept = Vec::new();
    if fields.is_empty() {
        return kept;
    }
    let piece = |b: &[Site]| -> Vec<Site> {
        let mut mine: Vec<Site> = Vec::new();
        // Sites of one instruction are neighbours in a piece (sorted by section, then site).
        for group in b.chunk_by(|x, y| (x.section, x.site_rva) == (y.section, y.site_rva)) {
            if group.iter().any(|s| fields.binary_search(&s.field_rva).is_ok()) {
                mine.extend_from_slice(group);
            }
        }
        mine
    };
    // Nothing but the sink can fail, and it does not.
    let _ = sites.each_piece(piece, |p| {
        kept.extend(p);
        Ok(())
    });
    kept
}
