//! The undefined-symbol messages in each linker's words: lld's errors with the places that
//! refer to the symbol, GNU ld's `undefined reference` lines.

use std::collections::HashMap;

use super::live::Live;
use super::resolve::{ChunkId, Def, Fate, GlobalId, Target, World};

/// The symbol of object `oi` nearest before `off` in section `sec` (lld's `getSymbol`).
fn symbol_at(w: &World, oi: usize, sec: u32, off: u64) -> Option<String> {
    let mut best: Option<(u64, &str)> = None;
    for s in &w.objs[oi].bin.symbols {
        if s.section != Some(sec) || s.value > off || s.kind == crate::model::SymbolKind::File {
            continue;
        }
        if best.is_none_or(|(v, _)| s.value >= v) {
            best = Some((s.value, &s.name));
        }
    }
    best.map(|(_, n)| w.lld_name(n))
}

/// lld's undefined-symbol errors: the roots' (`<root>: undefined symbol: x`), then per symbol
/// an object refers to, in file and symbol-table order, at most three places.
pub fn undefined_lld(w: &mut World, roots: &[GlobalId]) {
    let undefined = |w: &World, g: GlobalId| matches!(w.globals[g].def, Def::Undefined | Def::Lazy { .. });
    // The roots first (lld's `reportProblemSymbols`: the entry, /include, the exports), each
    // once, in its own words whether or not an object refers to it too.
    let mut seen = std::collections::HashSet::new();
    for &g in roots {
        if undefined(w, g) && seen.insert(g) {
            let text = format!("<root>: undefined symbol: {}", w.lld_name(&w.globals[g].name));
            if w.cfg.force_unresolved {
                w.warn(text, true);
            } else {
                w.error(text);
            }
        }
    }
    let mut order: Vec<GlobalId> = Vec::new();
    let mut places: HashMap<GlobalId, Vec<String>> = HashMap::new();
    for oi in 0..w.objs.len() {
        for pos in 0..w.objs[oi].bin.symbols.len() {
            let Target::Global(g) = w.sym_targets[oi][pos] else { continue };
            if !undefined(w, g) || w.objs[oi].bin.symbols[pos].section.is_some() {
                continue;
            }
            let index = w.objs[oi].bin.symbols[pos].index;
            let mut here = Vec::new();
            for r in &w.objs[oi].bin.relocations {
                let Some(sec) = r.section else { continue };
                if r.symbol_index != Some(index) || w.fates[oi].get(sec as usize - 1) != Some(&Fate::Read) {
                    continue;
                }
                if let Some(sym) = symbol_at(w, oi, sec, r.offset) {
                    here.push(format!("\n>>> referenced by {}:({sym})", w.objs[oi].name));
                }
            }
            if here.is_empty() {
                here.push(format!("\n>>> referenced by {}\n", w.objs[oi].name));
            }
            if !places.contains_key(&g) {
                order.push(g);
            }
            places.entry(g).or_default().extend(here);
        }
    }
    for g in order {
        let list = places.remove(&g).unwrap_or_default();
        let mut text = format!("undefined symbol: {}", w.lld_name(&w.globals[g].name));
        for p in list.iter().take(3) {
            text.push_str(p);
        }
        if list.len() > 3 {
            text.push_str(&format!("\n>>> referenced {} more times", list.len() - 3));
        }
        let text = text.trim_end().to_string();
        if w.cfg.force_unresolved {
            w.warn(text, true);
        } else {
            w.error(text);
        }
    }
}

/// GNU ld's `undefined reference` errors, one per relocation of a live section (at most five
/// in a row for one symbol), and for the entry point a warning, as ld gives it.
pub fn undefined_gnu(w: &mut World, live: &Live) {
    let mut lines = Vec::new();
    let mut last: Option<(GlobalId, usize)> = None;
    for (oi, sec, r, g) in w.live_global_refs(live) {
        if !matches!(w.globals[g].def, Def::Undefined | Def::Lazy { .. }) {
            continue;
        }
        let run = match last {
            Some((lg, n)) if lg == g => n + 1,
            _ => 0,
        };
        last = Some((g, run));
        let name = w.gnu_name(&w.globals[g].name);
        if run < 5 {
            lines.push(format!(
                "{}: undefined reference to `{name}'",
                super::gnu::place(w, ChunkId::new(oi, sec), r.offset)
            ));
        } else if run == 5 {
            lines.push(format!("{}: more undefined references to `{name}' follow", w.objs[oi].gnu_name));
        }
    }
    for l in lines {
        w.error_plain(l);
    }
}
