//! Linker directives an object carries in its `.drectve` section (lld reads them as it reads
//! the object): `/include` adds a root, `/alternatename:A=B` lets an undefined `A` resolve to
//! `B`, `/merge` joins the command line's merges (which win), `/defaultlib` names a library
//! searched as lld-link searches it ([`super::search`]) once the objects read so far are in.
//! Everything else (`/export`, `/failifmismatch`, `/manifestdependency`, …) is listed in a note.

use super::resolve::World;

/// The text of object `oi`'s `.drectve` (a UTF-8 byte-order mark dropped).
fn directives(w: &World, oi: usize) -> Option<String> {
    let o = &w.objs[oi];
    let sec = o.bin.sections.iter().find(|s| s.name == ".drectve")?;
    let bytes = sec.bytes(o.data());
    Some(String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).into_owned())
}

/// GNU ld's reading of the directives (`deffilep.y` `def_file_add_directive`): only the exports
/// are modelled, `-export:name[,data]` as gcc and clang write them for `__declspec(dllexport)`
/// (MSVC's `/EXPORT:` is not among GNU ld's spellings); the names get i386's `_`.
pub fn gnu_exports(w: &mut World, oi: usize) {
    let Some(text) = directives(w, oi) else { return };
    for arg in super::args::split_command_line(&text) {
        if let Some(v) = arg.strip_prefix("-export:") {
            match super::exports::parse(v) {
                Ok(e) => w.cfg.exports.push(super::exports::Export { decorate: true, ..e }),
                Err(e) => w.error_plain(e.to_string()),
            }
        }
    }
}

/// Apply the directives of object `oi`.
pub fn apply(w: &mut World, oi: usize) {
    let Some(text) = directives(w, oi) else { return };
    let name = w.objs[oi].name.clone();
    let mut other = Vec::new();
    for arg in super::args::split_command_line(&text) {
        let body = arg.trim_start_matches(['/', '-']);
        let (key, value) = match body.split_once(':') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
            None => (body.to_ascii_lowercase(), None),
        };
        match (key.as_str(), value) {
            ("include", Some(s)) => w.cfg.includes.push(s),
            ("alternatename", Some(v)) => match v.split_once('=') {
                Some((from, to)) => w.cfg.alternates.push((from.to_string(), to.to_string())),
                None => other.push(arg),
            },
            ("merge", Some(v)) => match v.split_once('=') {
                Some((from, to)) => w.cfg.merges.push((from.to_string(), to.to_string())),
                None => other.push(arg),
            },
            ("defaultlib", Some(lib)) => w.pending_libs.push(lib),
            // __declspec(dllexport): `/EXPORT:f` (MSVC), `-export:f[,data]` (MinGW).
            ("export", Some(v)) => match super::exports::parse(&v) {
                Ok(e) => {
                    let decorate = w.cfg.mingw;
                    w.cfg.exports.push(super::exports::Export { decorate, ..e })
                }
                Err(e) => w.error(e.to_string()),
            },
            _ => other.push(arg),
        }
    }
    if !other.is_empty() {
        w.note(format!("{name}: directives not modelled: {}", other.join(" ")));
    }
}
