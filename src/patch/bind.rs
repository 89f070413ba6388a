//! The loader's binding: every IAT slot of the image gets the address of the export it names,
//! by ordinal or by name, following forwarders among the given DLLs.

use std::collections::HashMap;

use serde::Serialize;

use super::{write_le, DllInput, LoadedModule, Unresolved};
use crate::model::index::import_name;
use crate::model::Binary;

/// Forwarder chains longer than this are taken as cycles.
const MAX_FORWARDS: usize = 32;

/// One IAT slot as the loader bound it.
#[derive(Debug, Clone, Serialize)]
pub struct Binding {
    /// RVA of the slot in the image.
    pub slot_rva: u64,
    /// `dll!name` as the image imports it.
    pub import: String,
    /// The address written (None: unresolved, the slot keeps its file value).
    pub value: Option<u64>,
    /// The export that provided it, after forwarders (`data.dll!arr`).
    pub bound_to: Option<String>,
    /// The forwarders followed, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forwarded: Vec<String>,
    /// The section holding the slot.
    pub section: Option<String>,
    /// Why not bound, or what is unusual about the slot (e.g. inside code).
    pub note: Option<String>,
}

/// Exports of one DLL by name and by ordinal.
struct Table<'a> {
    name: &'a str,
    base: u64,
    bin: Option<&'a Binary>,
    by_name: HashMap<&'a str, usize>,
    by_ordinal: HashMap<u32, usize>,
}

impl<'a> Table<'a> {
    fn new(m: &'a LoadedModule, d: Option<&DllInput<'a>>) -> Self {
        let mut by_name = HashMap::new();
        let mut by_ordinal = HashMap::new();
        if let Some(d) = d {
            for (i, e) in d.bin.exports.iter().enumerate() {
                if let Some(n) = &e.name {
                    by_name.entry(n.as_str()).or_insert(i);
                }
                by_ordinal.entry(e.ordinal).or_insert(i);
            }
        }
        Table { name: &m.name, base: m.base, bin: d.map(|d| d.bin), by_name, by_ordinal }
    }
}

/// What a name or ordinal resolves to.
enum Found {
    Address(u64, String, Vec<String>),
    Missing(String),
}

fn resolve(tables: &[Table<'_>], dll: &str, want: &Want<'_>) -> Found {
    let mut dll = dll.to_string();
    let mut want = match want {
        Want::Name(n) => Want::Owned(n.to_string()),
        Want::Ordinal(o) => Want::Ordinal(*o),
        Want::Owned(n) => Want::Owned(n.clone()),
    };
    let mut chain: Vec<String> = Vec::new();
    loop {
        let Some(t) =
            tables.iter().find(|t| t.name.eq_ignore_ascii_case(&dll) || strip_dll(t.name).eq_ignore_ascii_case(&dll))
        else {
            return Found::Missing(format!("{dll} was not given"));
        };
        let Some(bin) = t.bin else {
            return Found::Missing(format!("{dll} has a base but no file: its exports are unknown"));
        };
        let pos = match &want {
            Want::Ordinal(o) => t.by_ordinal.get(&u32::from(*o)).copied(),
            Want::Owned(n) => t.by_name.get(n.as_str()).copied(),
            Want::Name(n) => t.by_name.get(*n).copied(),
        };
        let Some(e) = pos.and_then(|p| bin.exports.get(p)) else {
            return Found::Missing(format!("{} does not export {}", t.name, want.text()));
        };
        let here = format!("{}!{}", t.name, e.name.clone().unwrap_or_else(|| format!("#{}", e.ordinal)));
        let Some(fwd) = &e.forwarder else {
            return Found::Address(t.base.wrapping_add(e.rva), here, chain);
        };
        if chain.len() >= MAX_FORWARDS || chain.contains(fwd) {
            return Found::Missing(format!("forwarder cycle: {} → {fwd}", chain.join(" → ")));
        }
        chain.push(fwd.clone());
        let Some((m, n)) = fwd.rsplit_once('.') else {
            return Found::Missing(format!("forwarder {fwd} has no '.'"));
        };
        dll = m.to_string();
        want = match n.strip_prefix('#').and_then(|o| o.parse::<u16>().ok()) {
            Some(o) => Want::Ordinal(o),
            None => Want::Owned(n.to_string()),
        };
    }
}

enum Want<'a> {
    Name(&'a str),
    Owned(String),
    Ordinal(u16),
}

impl Want<'_> {
    fn text(&self) -> String {
        match self {
            Want::Name(n) => n.to_string(),
            Want::Owned(n) => n.clone(),
            Want::Ordinal(o) => format!("ordinal {o}"),
        }
    }
}

fn strip_dll(n: &str) -> &str {
    n.len()
        .checked_sub(4)
        .filter(|&k| n.is_char_boundary(k) && n[k..].eq_ignore_ascii_case(".dll"))
        .map_or(n, |k| &n[..k])
}

/// Bind every ordinary import of `bin` into `mem` (delay-load slots are bound later, by the
/// program, and stay as relocated). Returns the bindings sorted by slot and the unresolved ones.
pub fn bind(
    bin: &Binary,
    mem: &mut [u8],
    modules: &[LoadedModule],
    dlls: &[Option<DllInput<'_>>],
    ptr: usize,
) -> (Vec<Binding>, Vec<Unresolved>) {
    let tables: Vec<Table<'_>> = modules.iter().skip(1).zip(dlls).map(|(m, d)| Table::new(m, d.as_ref())).collect();
    let section_of = |rva: u64| bin.section_by_rva(rva);
    let mut out = Vec::new();
    let mut unresolved = Vec::new();
    for m in &bin.imports {
        for e in &m.entries {
            let import = format!("{}!{}", m.dll, import_name(e));
            let want = match (&e.name, e.ordinal) {
                (Some(n), _) => Want::Name(n),
                (None, Some(o)) => Want::Ordinal(o),
                (None, None) => continue,
            };
            let sec = section_of(e.iat_rva);
            let mut note = sec.filter(|s| s.is_exec).map(|s| {
                format!(
                    "the slot lies in the executable section {}: the loader writes a {}-byte address into code",
                    s.name, ptr
                )
            });
            let (value, bound_to, forwarded) = match resolve(&tables, &m.dll, &want) {
                Found::Address(v, to, chain) => {
                    if !write_le(mem, e.iat_rva, ptr, v) {
                        note = Some("the slot lies outside the image".into());
                    }
                    (Some(v), Some(to), chain)
                }
                Found::Missing(why) => {
                    unresolved.push(Unresolved { import: import.clone(), slot_rva: e.iat_rva, reason: why.clone() });
                    note = Some(why);
                    (None, None, Vec::new())
                }
            };
            out.push(Binding {
                slot_rva: e.iat_rva,
                import,
                value,
                bound_to,
                forwarded,
                section: sec.map(|s| s.name.clone()),
                note,
            });
        }
    }
    out.sort_by_key(|b| b.slot_rva);
    (out, unresolved)
}
