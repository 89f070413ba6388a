//! Attribution: the claims over a run of differing bytes, checked against the memory, and the
//! ranges of the run by cause.

use super::claims::{self, Claim, From, Want};
use super::{hook, Cause, FileImage, Inputs, Range, MAX_DECODED, MAX_SHOWN};
use crate::model::index::base_reloc_width;
use crate::model::memory::ModuleMemory;
use crate::patch::{ifunc, PatchPlan};

/// The attribution's state: the claims and where to look things up.
pub(super) struct Attr<'a> {
    plan: &'a PatchPlan,
    inp: &'a Inputs<'a>,
    file: &'a FileImage<'a>,
    mem: &'a ModuleMemory<'a>,
    delta: u64,
    claims: Vec<Claim>,
    /// Base relocations (positions in the model's list) sorted by RVA, when the image moved.
    relocs: Vec<u32>,
}

/// What an IFUNC slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IfuncState {
    /// An address in a loaded module's code: a resolver's choice.
    Resolved,
    /// A `JUMP_SLOT` still pointing into the image (lazy binding has not bound it yet).
    NotYetBound,
    /// Anything else: not what a resolver returns.
    Bad,
}

/// One claim over a byte, checked.
#[derive(Clone, Copy)]
struct Checked {
    claim: Claim,
    want: Want,
    holds: bool,
}

impl<'a> Attr<'a> {
    pub(super) fn new(
        plan: &'a PatchPlan,
        inp: &'a Inputs<'a>,
        file: &'a FileImage<'a>,
        mem: &'a ModuleMemory<'a>,
        delta: u64,
    ) -> Self {
        let claims = claims::claims(plan, inp.bin, file);
        let mut relocs: Vec<u32> = Vec::new();
        if delta != 0 && inp.bin.format.is_pe() {
            relocs = (0..inp.bin.base_relocations.len() as u32)
                .filter(|&i| base_reloc_width(inp.bin.base_relocations[i as usize].raw_type) > 0)
                .collect();
            let r = &inp.bin.base_relocations;
            if !relocs.windows(2).all(|w| r[w[0] as usize].rva <= r[w[1] as usize].rva) {
                relocs.sort_by_key(|&i| r[i as usize].rva);
            }
        }
        Attr { plan, inp, file, mem, delta, claims, relocs }
    }

    /// The claims overlapping `[s, e)`, checked against the memory.
    fn over(&self, s: u64, e: u64) -> Vec<Checked> {
        let from = s.saturating_sub(8);
        let mut v: Vec<Claim> = Vec::new();
        let i = self.claims.partition_point(|c| c.rva < from);
        v.extend(self.claims[i..].iter().take_while(|c| c.rva < e).filter(|c| c.rva + u64::from(c.len) > s));
        let r = &self.inp.bin.base_relocations;
        let j = self.relocs.partition_point(|&k| r[k as usize].rva < from);
        for &k in self.relocs[j..].iter().take_while(|&&k| r[k as usize].rva < e) {
            let len = base_reloc_width(r[k as usize].raw_type) as u8;
            if r[k as usize].rva + u64::from(len) > s {
                v.push(Claim { rva: r[k as usize].rva, len, from: From::Reloc(k) });
            }
        }
        v.sort_by_key(|c| (c.rva, c.from.stage()));
        v.into_iter()
            .map(|c| {
                let want = claims::want(c, self.plan, self.inp.bin, self.file, self.inp.dlls, self.delta);
                let holds = match want {
                    Want::Any => true,
                    Want::Code => self.ifunc_state(c) == IfuncState::Resolved,
                    Want::Value(x) => (0..u64::from(c.len)).all(|k| {
                        let at = c.rva + k;
                        !self.mem.holds(at, 1) || self.mem.bytes.get(at as usize) == Some(&((x >> (8 * k)) as u8))
                    }),
                };
                Checked { claim: c, want, holds }
            })
            .collect()
    }

    /// The ranges of `[s, e)` (differing bytes) by cause.
    pub(super) fn attribute(&self, s: u64, e: u64, decoded: &mut usize) -> Vec<Range> {
        let over = self.over(s, e);
        // Per byte: the claim that explains it (a value that holds, the latest writer first;
        // else one that accepts any value), as a position in `over`.
        let best = |b: u64| -> Option<usize> {
            let lo = over.partition_point(|c| c.claim.rva < b.saturating_sub(7));
            let hi = over.partition_point(|c| c.claim.rva <= b);
            let covering = over[lo..hi.max(lo)]
                .iter()
                .enumerate()
                .map(|(k, c)| (k + lo, c))
                .filter(|(_, c)| b < c.claim.rva + u64::from(c.claim.len));
            let exact = covering
                .clone()
                .filter(|(_, c)| c.holds && c.want != Want::Any)
                .max_by_key(|(_, c)| c.claim.from.stage());
            exact
                .or_else(|| covering.filter(|(_, c)| c.holds).max_by_key(|(_, c)| c.claim.from.stage()))
                .map(|(i, _)| i)
        };
        let mut out = Vec::new();
        let mut b = s;
        while b < e {
            let who = best(b);
            let mut n = b + 1;
            while n < e && best(n) == who && self.section_pos(n) == self.section_pos(b) {
                n += 1;
            }
            match who {
                Some(i) => {
                    out.push(self.explained(b, n, &over[i]));
                }
                None => out.push(self.unexplained(b, n, &over, decoded)),
            }
            b = n;
        }
        out
    }

    fn section_pos(&self, rva: u64) -> Option<usize> {
        self.inp.index.section_pos_by_rva(rva)
    }

    fn section(&self, rva: u64) -> Option<String> {
        self.section_pos(rva).map(|p| self.inp.bin.sections[p].name.clone())
    }

    /// Whether `rva` lies in a writable section (ELF: or a writable `PT_LOAD` segment outside
    /// every section).
    fn writable(&self, rva: u64) -> bool {
        let bin = self.inp.bin;
        match self.section_pos(rva) {
            Some(p) => bin.sections[p].is_write,
            None if bin.format.is_elf() => {
                let low =
                    bin.segments.iter().filter(|s| s.kind == crate::model::SegmentKind::Load).map(|s| s.vaddr).min();
                let va = rva.wrapping_add(low.unwrap_or(0));
                bin.segments.iter().any(|s| {
                    s.kind == crate::model::SegmentKind::Load
                        && s.flags & 2 != 0
                        && va >= s.vaddr
                        && va - s.vaddr < s.mem_size
                })
            }
            None => false,
        }
    }

    /// A range with no explanation yet: the bytes and where it lies.
    fn range(&self, s: u64, e: u64, cause: Cause, detail: String) -> Range {
        let n = ((e - s) as usize).min(MAX_SHOWN);
        let mut f = vec![0u8; n];
        self.file.window(s, &mut f);
        let m = self.mem.bytes.get(s as usize..s as usize + n).unwrap_or(&[]);
        Range {
            rva: s,
            len: e - s,
            section: self.section(s),
            cause,
            detail,
            place: None,
            writable: self.writable(s),
            file: hex(&f),
            memory: hex(m),
            insn_rva: None,
            before: None,
            after: None,
            target: None,
            target_va: None,
        }
    }

    fn explained(&self, s: u64, e: u64, c: &Checked) -> Range {
        let cause = c.claim.from.cause(self.plan.scheme);
        let mut r = self.range(s, e, cause, self.detail(c));
        r.place = Some(c.claim.rva);
        if let (From::Binding(_) | From::Delay(..), Some(v)) = (c.claim.from, self.value_at(c.claim.rva, c.claim.len)) {
            r.target_va = Some(v);
            r.target = Some(hook::name_va(v, self.plan, self.inp.dlls, self.inp.names));
        }
        if let (From::Ifunc(_), Some(v)) = (c.claim.from, self.value_at(c.claim.rva, c.claim.len)) {
            r.target_va = Some(v);
            r.target = Some(ifunc::name_va(v, self.plan, self.inp.bin, self.inp.dlls));
        }
        r
    }

    /// What the IFUNC slot of claim `c` holds.
    fn ifunc_state(&self, c: Claim) -> IfuncState {
        let From::Ifunc(i) = c.from else { return IfuncState::Bad };
        let Some(step) = self.plan.steps.get(i as usize) else { return IfuncState::Bad };
        let Some(f) = step.ifunc.as_ref() else { return IfuncState::Bad };
        let Some(v) = self.value_at(c.rva, c.len) else { return IfuncState::Bad };
        let l = ifunc::landing(&self.plan.modules, v.wrapping_sub(f.addend as u64));
        if l.module == Some(0) && l.in_code && f.module_index != 0 && step.reason.contains("JUMP_SLOT") {
            IfuncState::NotYetBound
        } else if l.plausible() {
            IfuncState::Resolved
        } else {
            IfuncState::Bad
        }
    }

    /// The memory's little-endian value of `len` bytes at `rva`.
    fn value_at(&self, rva: u64, len: u8) -> Option<u64> {
        let s = usize::try_from(rva).ok()?;
        let b = self.mem.bytes.get(s..s.checked_add(usize::from(len))?)?;
        Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    }

    /// What a claim that holds says.
    fn detail(&self, c: &Checked) -> String {
        let plan = self.plan;
        let bin = self.inp.bin;
        let width = u32::from(c.claim.len) * 8;
        match c.claim.from {
            From::Header => format!("OptionalHeader.ImageBase set to the load base 0x{:x}", plan.image().base),
            From::Reloc(i) => {
                let kind = bin.base_relocations.get(i as usize).map_or("?", |r| r.kind);
                format!("base relocation ({kind}): file value + delta 0x{:x}", self.delta)
            }
            From::Binding(i) => {
                let Some(b) = plan.bindings.get(i as usize) else { return String::new() };
                match (&b.bound_to, b.value) {
                    (Some(to), Some(v)) => {
                        let named = if b.forwarded.is_empty() && !same_import(&b.import, to) {
                            format!(" (not the export the import names, {})", b.import)
                        } else if !b.forwarded.is_empty() {
                            format!(" (forwarded: {})", b.forwarded.join(" → "))
                        } else {
                            String::new()
                        };
                        format!("IAT slot of {} bound to {to} = 0x{v:x}{named}", b.import)
                    }
                    _ => format!(
                        "IAT slot of {}: not predicted ({}); the loader's value is taken as it is",
                        b.import,
                        b.note.as_deref().unwrap_or("unbound")
                    ),
                }
            }
            From::Delay(m, e) => {
                let module = &bin.delay_imports[m as usize];
                let name = crate::model::index::import_name(&module.entries[e as usize]);
                match c.want {
                    Want::Value(v) => format!("delay-load slot of {}!{name} bound to 0x{v:x}", module.dll),
                    Want::Any | Want::Code => {
                        format!(
                            "delay-load slot of {}!{name}, bound at run time (its DLL's exports are not at hand)",
                            module.dll
                        )
                    }
                }
            }
            From::LoadConfig(n) => format!("load config {n}: {}", claims::load_config_words(n)),
            From::TlsIndex => "the TLS directory's AddressOfIndex: the loader writes the module's TLS index".into(),
            From::Dynamic(true) => "the DT_DEBUG entry of .dynamic: ld.so writes the address of its r_debug".into(),
            From::Dynamic(false) => {
                format!(".dynamic entry: an address ld.so moves by the load bias 0x{:x} in place", self.delta)
            }
            From::Ifunc(i) => {
                let Some(f) = plan.steps.get(i as usize).and_then(|s| s.ifunc.as_ref()) else { return String::new() };
                let v = self.value_at(c.claim.rva, c.claim.len).unwrap_or(0);
                ifunc::explain(f, v, plan, bin, self.inp.dlls)
            }
            From::Step(i) => {
                let Some(s) = plan.steps.get(i as usize) else { return String::new() };
                let what = match plan.scheme {
                    crate::patch::SchemeKind::Mingw => "pseudo-relocation item",
                    crate::patch::SchemeKind::Elf => "dynamic relocation",
                    _ => "scheme step",
                };
                let import = s.import.as_deref().map_or(String::new(), |i| format!(" {i}"));
                match c.want {
                    Want::Value(v) => format!("{what} {}{import}: 0x{:x} → 0x{v:x} ({width}-bit)", s.index, s.before),
                    Want::Any | Want::Code => {
                        format!("{what} {}{import}: not predicted ({}); taken as it is", s.index, s.reason)
                    }
                }
            }
        }
    }

    /// A range nothing explains: a run-time write in a writable section, else unexplained
    /// (with its instructions in code); an IAT slot holding something else is unexplained
    /// anywhere.
    fn unexplained(&self, s: u64, e: u64, over: &[Checked], decoded: &mut usize) -> Range {
        let covering: Vec<&Checked> =
            over.iter().filter(|c| c.claim.rva < e && s < c.claim.rva + u64::from(c.claim.len)).collect();
        let mut why: Vec<String> = Vec::new();
        let mut iat_hook = None;
        for c in &covering {
            let held = self.value_at(c.claim.rva, c.claim.len).unwrap_or(0);
            if let From::Ifunc(i) = c.claim.from {
                let Some(f) = self.plan.steps.get(i as usize).and_then(|s| s.ifunc.as_ref()) else { continue };
                if self.ifunc_state(c.claim) == IfuncState::NotYetBound {
                    why.push(format!(
                        "the JUMP_SLOT of {} still points into this module (lazy binding: not bound yet)",
                        f.describe()
                    ));
                } else {
                    iat_hook = Some(held);
                    why.push(ifunc::explain(f, held, self.plan, self.inp.bin, self.inp.dlls));
                }
                continue;
            }
            let Want::Value(want) = c.want else { continue };
            let what = match c.claim.from {
                From::Binding(i) => {
                    let b = &self.plan.bindings[i as usize];
                    iat_hook = Some(held);
                    let other = hook::export_at(held, self.plan, self.inp.dlls)
                        .map_or(String::new(), |x| format!(" = {x}, not the export it names"));
                    format!("the IAT slot of {} holds 0x{held:x}{other}; bound, it holds 0x{want:x}", b.import)
                }
                From::Reloc(i) => format!(
                    "base relocation {i} at 0x{:x} predicts 0x{want:x} (file value + delta 0x{:x}), the memory holds 0x{held:x}",
                    c.claim.rva, self.delta
                ),
                From::Step(i) => format!(
                    "step {} at 0x{:x} predicts 0x{want:x}, the memory holds 0x{held:x}",
                    self.plan.steps.get(i as usize).map_or(i as usize, |x| x.index),
                    c.claim.rva
                ),
                From::Delay(..) => format!("the delay-load slot at 0x{:x} holds 0x{held:x}, not 0x{want:x}", c.claim.rva),
                From::Header => format!("ImageBase holds 0x{held:x}, not the load base 0x{want:x}"),
                From::LoadConfig(_) | From::TlsIndex | From::Ifunc(_) => continue,
                From::Dynamic(_) => format!(
                    "the .dynamic entry's value at 0x{:x} predicts 0x{want:x} (file value + load bias), the memory holds 0x{held:x}",
                    c.claim.rva
                ),
            };
            why.push(what);
        }
        let writable = self.writable(s);
        if writable && iat_hook.is_none() {
            let mut d = format!("written at run time (writable section {})", self.section(s).as_deref().unwrap_or("?"));
            if !why.is_empty() {
                d.push_str(": ");
                d.push_str(&why.join("; "));
            }
            return self.range(s, e, Cause::RuntimeWrite, d);
        }
        let place = match self.section_pos(s) {
            Some(p) if self.inp.bin.sections[p].is_exec => "code",
            Some(_) if writable => "writable data",
            Some(_) => "read-only data",
            None => "the headers or no section",
        };
        let mut d = format!("changed in {place}; nothing the loader or the runtime writes covers it");
        if !why.is_empty() {
            d = format!("changed in {place}: {}", why.join("; "));
        }
        let mut r = self.range(s, e, Cause::Unexplained, d);
        if let Some(v) = iat_hook {
            r.target_va = Some(v);
            r.target = Some(hook::name_va(v, self.plan, self.inp.dlls, self.inp.names));
            return r;
        }
        let exec = self.section_pos(s).is_some_and(|p| self.inp.bin.sections[p].is_exec);
        if let (true, Some(bits)) = (exec && *decoded < MAX_DECODED, crate::analysis::code::bitness(self.inp.bin)) {
            *decoded += 1;
            let base = self.plan.image().base;
            let win = self.inp.names.function(s).map(|(_, f)| f).filter(|&f| f <= s && s - f <= 1 << 16).unwrap_or(s);
            let end = e.saturating_add(64).min(self.file.len() as u64);
            let mut before = vec![0u8; (end - win) as usize];
            self.file.window(win, &mut before);
            self.relocate_window(win, &mut before);
            let ins = hook::instructions(bits, self.inp.names, base, win, &before, self.mem, s, e);
            r.insn_rva = ins.rva;
            r.before = ins.before;
            r.after = ins.after;
            if let Some(t) = ins.target_va {
                r.target_va = Some(t);
                r.target = Some(hook::name_va(t, self.plan, self.inp.dlls, self.inp.names));
            }
        }
        r
    }

    /// Apply the base relocations of `[win, win + buf.len())` to the file bytes `buf`.
    fn relocate_window(&self, win: u64, buf: &mut [u8]) {
        let r = &self.inp.bin.base_relocations;
        let end = win + buf.len() as u64;
        let j = self.relocs.partition_point(|&k| r[k as usize].rva < win);
        for &k in self.relocs[j..].iter().take_while(|&&k| r[k as usize].rva < end) {
            let x = &r[k as usize];
            let w = base_reloc_width(x.raw_type) as usize;
            let at = x.rva - win;
            if let Some(v) = crate::patch::read_le(buf, at, w) {
                crate::patch::write_le(buf, at, w, claims::relocated(x.raw_type, v, self.delta, x.param));
            }
        }
    }
}

/// Whether export `to` (`dll!name`) is the one `import` (`dll!name`) names.
fn same_import(import: &str, to: &str) -> bool {
    let tail = |s: &str| s.rsplit_once('!').map_or(s.to_string(), |(_, n)| n.to_string());
    tail(import) == tail(to)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
