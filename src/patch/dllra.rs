//! The `_dllra_beg` / `_dllra_end` list (skl131313/druntime `dllfixup.d`): records between the
//! two symbols, zero words skipped as padding. Win32 `{void** address; size_t offset}`; Win64
//! `{i32 rel; i32 offset}` with the field at `record + rel + 4`. For each, the field holds the
//! address of an IAT slot and becomes `*slot + offset`.

use super::{reldata::redirect, Cx, Outcome, Scheme, SchemeKind};
use crate::model::Binary;

/// The `_dllra` scheme.
pub struct Dllra;

/// RVAs of `_dllra_beg` and `_dllra_end` (i386: with the extra leading underscore).
fn bounds(bin: &Binary) -> Option<(u64, u64)> {
    let find = |name: &str| {
        bin.symbols.iter().find(|s| s.name == name || s.name.strip_prefix('_') == Some(name)).and_then(|s| {
            let sec = bin.sections.iter().find(|x| Some(x.index) == s.section)?;
            Some(sec.rva + s.value)
        })
    };
    let (b, e) = (find("_dllra_beg")?, find("_dllra_end")?);
    (b <= e).then_some((b, e))
}

impl Scheme for Dllra {
    fn kind(&self) -> SchemeKind {
        SchemeKind::Dllra
    }

    fn detect(&self, bin: &Binary) -> bool {
        bounds(bin).is_some_and(|(b, e)| e > b)
    }

    fn run(&self, cx: &mut Cx<'_>) -> Outcome {
        let mut out = Outcome::default();
        let Some((begin, end)) = bounds(cx.bin) else {
            out.notes.push("no _dllra_beg / _dllra_end symbols (an image without a symbol table cannot say)".into());
            return out;
        };
        let p = cx.ptr as u64;
        let mut at = begin;
        // dllfixup.d: skip leading zero words, then records; a zero word is padding.
        while at + p <= end {
            let word = cx.read(at, cx.ptr).unwrap_or(0);
            if word == 0 {
                at += p;
                continue;
            }
            if cx.ptr == 8 {
                let rel = cx.read(at, 4).unwrap_or(0) as u32 as i32;
                let off = cx.read(at + 4, 4).unwrap_or(0) as u32 as i32;
                let field = at.wrapping_add(i64::from(rel) as u64).wrapping_add(4);
                redirect(cx, &mut out, field, 8, i64::from(off), at);
                at += 8;
            } else {
                let off = cx.read(at + 4, 4).unwrap_or(0) as u32 as i32;
                let field = word.wrapping_sub(cx.base);
                redirect(cx, &mut out, field, 4, i64::from(off), at);
                at += 8;
            }
        }
        out
    }
}
