//! Symbol demangling (MSVC, Itanium C++, Rust), keeping the raw name beside the result.

/// Longest name handed to a demangler (bounds their recursion on hostile input).
const MAX_LEN: usize = 1024;

/// Demangle `name` if it is mangled; None when it is not (or cannot be demangled).
pub fn demangle(name: &str) -> Option<String> {
    if name.len() > MAX_LEN || name.len() < 3 {
        return None;
    }
    let stripped = name.strip_prefix("__imp_").unwrap_or(name);
    let out = std::panic::catch_unwind(|| demangle_inner(stripped)).ok().flatten()?;
    (out != name).then_some(out)
}

fn demangle_inner(name: &str) -> Option<String> {
    if name.starts_with('?') {
        return msvc_demangler::demangle(name, msvc_demangler::DemangleFlags::llvm()).ok();
    }
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return Some(format!("{d:#}"));
    }
    let itanium = if name.starts_with("_Z") {
        name
    } else if name.starts_with("__Z") {
        &name[1..]
    } else {
        return None;
    };
    let sym = cpp_demangle::Symbol::new(itanium).ok()?;
    sym.demangle(&cpp_demangle::DemangleOptions::default()).ok()
}

#[cfg(test)]
mod tests {
    use super::demangle;

    #[test]
    fn demangles_the_three_schemes() {
        assert_eq!(demangle("_ZN3foo3barEv").as_deref(), Some("foo::bar()"));
        assert_eq!(demangle("?f@@YAHH@Z").as_deref(), Some("int __cdecl f(int)"));
        assert_eq!(
            demangle("_ZN4core3ptr13drop_in_place17h0123456789abcdefE").as_deref(),
            Some("core::ptr::drop_in_place")
        );
        assert_eq!(demangle("printf"), None);
    }
}
