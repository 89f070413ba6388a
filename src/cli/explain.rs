//! `linkscope verify --explain`: after the verification, explain every byte in which the
//! module's memory differs from its file.

use std::io::Write;
use std::path::Path;

use super::patch::Planned;
use crate::model::memory::ModuleMemory;
use crate::patch::verify::Verification;
use crate::patch::PatchPlan;
use crate::report::explain as re;
use crate::session::{Analyzed, Module};

/// Explain the memory of today's dump kinds (a raw image, mapped; or the gunzipped bytes in
/// `whole`) after `v`; returns the exit code. The plan's predicted image is dropped first: the
/// explanation does not read it, and the memory takes its place.
pub fn run(mut p: Planned, v: &Verification, dump: &Path, whole: Option<Vec<u8>>, json: bool) -> i32 {
    p.plan.patched = Vec::new();
    let mapped;
    let bytes: &[u8] = match &whole {
        Some(b) => b,
        None => match crate::input::Input::open(dump) {
            Ok(i) => {
                mapped = i;
                &mapped
            }
            Err(e) => {
                eprintln!("linkscope: {}: {e}", dump.display());
                return 2;
            }
        },
    };
    explain_memory(&p.image, &p.plan, &p.modules, v, &ModuleMemory::whole(bytes), json)
}

/// Explain `mem` (the module's memory from its base) against the plan's image and print the
/// verification `v` with the explanation; returns the exit code: 1 when verify found mismatches
/// or a byte of code, read-only data or the headers is unexplained, else 0 (2: output failed).
pub fn explain_memory(
    image: &Analyzed,
    plan: &PatchPlan,
    modules: &[Module],
    v: &Verification,
    mem: &ModuleMemory<'_>,
    json: bool,
) -> i32 {
    // The explained ranges are written as they are found (JSON) or only counted (text): a moved
    // image has one per relocated field, never held.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let explain = |sink: &mut dyn FnMut(crate::patch::explain::Range)| {
        crate::session::verify::explain_to(image, plan, modules, mem, sink)
    };
    let mut protected = 0;
    let r = if json {
        re::write_explain_json_streamed(&mut out, plan, v, |sink| {
            let e = explain(sink);
            protected = e.unexplained_protected;
            e
        })
    } else {
        let e = explain(&mut |_| {});
        protected = e.unexplained_protected;
        re::write_explain_text(&mut out, v, &e)
    };
    let code = if v.mismatches.is_empty() && protected == 0 { 0 } else { 1 };
    super::finish(r.and_then(|()| out.flush()), code, 2)
}
