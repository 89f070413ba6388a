//! Module-definition (`.def`) files as lld reads them (LLVM's `COFFModuleDefinition.cpp`
//! lexer and parser; lld-link's `parseModuleDefs`): `LIBRARY` / `NAME` (the output file unless
//! `/out:` names one), `EXPORTS` entries `name[=internal] [@ordinal [NONAME]] [DATA]
//! [CONSTANT] [PRIVATE]` (an `internal` with a `.` is a forwarder), `HEAPSIZE`, `STACKSIZE`,
//! `VERSION` (read, not modelled). Keywords are upper case; `;` starts a comment.

use super::exports::Export;

/// What a `.def` file gives the link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleDef {
    /// `LIBRARY name` / `NAME name`: the output file (with `.dll` / `.exe` when it has no
    /// extension).
    pub output: Option<String>,
    /// That name as written (the DLL an import library names).
    pub import_name: Option<String>,
    /// The exports, in file order.
    pub exports: Vec<Export>,
}

/// Why a `.def` file cannot be read, in LLVM's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefError {
    /// A word where a directive was expected.
    #[error("unknown directive: {0}")]
    UnknownDirective(String),
    /// `name =` without the internal name.
    #[error("identifier expected, but got {0}")]
    IdentifierExpected(String),
    /// A number that is not one.
    #[error("integer expected")]
    IntegerExpected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Eof,
    Equal,
    EqualEqual,
    Comma,
    Word(&'a str),
    /// A quoted identifier (never a keyword).
    Quoted(&'a str),
}

struct Lexer<'a> {
    buf: &'a str,
    back: Option<Tok<'a>>,
}

impl<'a> Lexer<'a> {
    fn next(&mut self) -> Tok<'a> {
        if let Some(t) = self.back.take() {
            return t;
        }
        loop {
            self.buf = self.buf.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
            let Some(c) = self.buf.chars().next() else { return Tok::Eof };
            match c {
                '\0' => return Tok::Eof,
                ';' => {
                    self.buf = self.buf.find('\n').map_or("", |i| &self.buf[i..]);
                }
                '=' => {
                    if let Some(rest) = self.buf.strip_prefix("==") {
                        self.buf = rest;
                        return Tok::EqualEqual;
                    }
                    self.buf = &self.buf[1..];
                    return Tok::Equal;
                }
                ',' => {
                    self.buf = &self.buf[1..];
                    return Tok::Comma;
                }
                '"' => {
                    let rest = &self.buf[1..];
                    let (s, after) = rest.split_once('"').unwrap_or((rest, ""));
                    self.buf = after;
                    return Tok::Quoted(s);
                }
                _ => {
                    let end = self.buf.find(['=', ',', ';', '\r', '\n', ' ', '\t', '\x0b']).unwrap_or(self.buf.len());
                    let (w, rest) = self.buf.split_at(end);
                    self.buf = rest;
                    return Tok::Word(w);
                }
            }
        }
    }

    fn unget(&mut self, t: Tok<'a>) {
        self.back = Some(t);
    }
}

const KEYWORDS: [&str; 11] =
    ["BASE", "CONSTANT", "DATA", "EXPORTS", "HEAPSIZE", "LIBRARY", "NAME", "NONAME", "PRIVATE", "STACKSIZE", "VERSION"];

fn identifier<'a>(t: &Tok<'a>) -> Option<&'a str> {
    match *t {
        Tok::Word(w) if !KEYWORDS.contains(&w) => Some(w),
        Tok::Quoted(q) => Some(q),
        _ => None,
    }
}

/// Read a `.def` file. `x86`: names get the `_` of the C calling convention unless decorated
/// already (`@`, `@@`, `?`; outside MinGW any `@`).
pub fn parse(text: &str, x86: bool, mingw: bool) -> Result<ModuleDef, DefError> {
    let mut lx = Lexer { buf: text, back: None };
    let mut def = ModuleDef::default();
    loop {
        let t = lx.next();
        match t {
            Tok::Eof => return Ok(def),
            Tok::Word("EXPORTS") => loop {
                let t = lx.next();
                let Some(name) = identifier(&t) else {
                    lx.unget(t);
                    break;
                };
                def.exports.push(export(&mut lx, name, x86, mingw)?);
            },
            Tok::Word(k @ ("LIBRARY" | "NAME")) => {
                let t = lx.next();
                if let Some(name) = identifier(&t) {
                    let has_ext = name.rsplit(['/', '\\']).next().is_some_and(|f| f.rfind('.').is_some_and(|i| i > 0));
                    let ext = if has_ext {
                        ""
                    } else if k == "LIBRARY" {
                        ".dll"
                    } else {
                        ".exe"
                    };
                    def.output = Some(format!("{name}{ext}"));
                    def.import_name = Some(name.to_string());
                    // `BASE=n` after the name.
                    let t = lx.next();
                    if t == Tok::Word("BASE") {
                        if lx.next() != Tok::Equal {
                            return Err(DefError::IntegerExpected);
                        }
                        number(&mut lx)?;
                    } else {
                        lx.unget(t);
                    }
                } else {
                    lx.unget(t);
                }
            }
            Tok::Word("HEAPSIZE" | "STACKSIZE") => {
                number(&mut lx)?;
                let t = lx.next();
                if t == Tok::Comma {
                    number(&mut lx)?;
                } else {
                    lx.unget(t);
                }
            }
            Tok::Word("VERSION") => {
                let t = lx.next();
                if identifier(&t).is_none() {
                    return Err(DefError::IdentifierExpected(word(&t)));
                }
            }
            other => return Err(DefError::UnknownDirective(word(&other))),
        }
    }
}

fn word(t: &Tok<'_>) -> String {
    match *t {
        Tok::Eof => String::new(),
        Tok::Equal => "=".into(),
        Tok::EqualEqual => "==".into(),
        Tok::Comma => ",".into(),
        Tok::Word(w) | Tok::Quoted(w) => w.to_string(),
    }
}

fn number(lx: &mut Lexer<'_>) -> Result<u64, DefError> {
    match lx.next() {
        Tok::Word(w) => parse_int(w).ok_or(DefError::IntegerExpected),
        _ => Err(DefError::IntegerExpected),
    }
}

/// LLVM's `getAsInteger(0, …)`: decimal, `0x` hex, `0` octal.
fn parse_int(w: &str) -> Option<u64> {
    if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if w.len() > 1 && w.starts_with('0') {
        u64::from_str_radix(&w[1..], 8).ok()
    } else {
        w.parse().ok()
    }
}

/// One `EXPORTS` entry after its first name (LLVM's `parseExport`), as lld-link's
/// `parseModuleDefs` makes it an export.
fn export(lx: &mut Lexer<'_>, first: &str, x86: bool, mingw: bool) -> Result<Export, DefError> {
    let (mut name, mut ext) = (first.to_string(), String::new());
    let t = lx.next();
    if t == Tok::Equal {
        let t = lx.next();
        let Some(internal) = identifier(&t) else { return Err(DefError::IdentifierExpected(word(&t))) };
        ext = std::mem::replace(&mut name, internal.to_string());
    } else {
        lx.unget(t);
    }
    if x86 {
        if !super::exports::is_decorated(&name, mingw) {
            name.insert(0, '_');
        }
        if !ext.is_empty() && !super::exports::is_decorated(&ext, mingw) {
            ext.insert(0, '_');
        }
    }
    let mut e = Export::new(&name, if ext.is_empty() { &name } else { &ext });
    loop {
        let t = lx.next();
        match t {
            Tok::Word(w) if w.starts_with('@') => {
                let ord = if w == "@" {
                    match lx.next() {
                        Tok::Word(n) => n.parse::<u16>().unwrap_or(0),
                        _ => 0,
                    }
                } else {
                    match w[1..].parse::<u16>() {
                        Ok(n) => n,
                        // `@name` on the next line: the next (fastcall) export, not an ordinal.
                        Err(_) => {
                            lx.unget(t);
                            break;
                        }
                    }
                };
                e.ordinal = ord;
                let t = lx.next();
                if t == Tok::Word("NONAME") {
                    e.noname = true;
                } else {
                    lx.unget(t);
                }
            }
            Tok::Word("DATA") => e.data = true,
            Tok::Word("CONSTANT") => {}
            Tok::Word("PRIVATE") => e.private = true,
            Tok::EqualEqual => {
                // `==importname`: the name the import library uses (not in the table).
                let _ = lx.next();
            }
            other => {
                lx.unget(other);
                break;
            }
        }
    }
    // lld-link: `ext=Other.Func` is a forwarder named `ext`.
    if !ext.is_empty() && ext != name && name.contains('.') {
        e = Export { symbol: ext.clone(), name: ext, forward: Some(name), ..e };
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn def_files_read_as_llvm_reads_them() {
        let text = "; comment\nLIBRARY mydll\nEXPORTS\n  f_a\n  alias = f_c @5\n  f_n @ 9 NONAME ; by ordinal\n  \"d_x\" DATA PRIVATE\n  fw=k32.Sleep\nHEAPSIZE 0x1000,4\n";
        let d = parse(text, false, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.output.as_deref(), Some("mydll.dll"));
        let got: Vec<(&str, &str, u16, bool, bool, bool)> = d
            .exports
            .iter()
            .map(|e| (e.name.as_str(), e.symbol.as_str(), e.ordinal, e.noname, e.data, e.private))
            .collect();
        assert_eq!(
            got,
            [
                ("f_a", "f_a", 0, false, false, false),
                ("alias", "f_c", 5, false, false, false),
                ("f_n", "f_n", 9, true, false, false),
                ("d_x", "d_x", 0, false, true, true),
                ("fw", "fw", 0, false, false, false),
            ]
        );
        assert_eq!(d.exports[4].forward.as_deref(), Some("k32.Sleep"));
        let x86 = parse("EXPORTS\n f\n g@4\n ?h@@YAXXZ\n", true, true).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = x86.exports.iter().map(|e| e.symbol.as_str()).collect();
        assert_eq!(names, ["_f", "_g@4", "?h@@YAXXZ"]);
        assert_eq!(parse("BOGUS\nEXPORTS f", false, false), Err(DefError::UnknownDirective("BOGUS".into())));
        assert_eq!(parse("EXPORTS f\nHEAPSIZE big", false, false), Err(DefError::IntegerExpected));
        assert_eq!(parse("EXPORTS a =", false, false), Err(DefError::IdentifierExpected(String::new())));
        assert!(parse("NAME prog.x", false, false).is_ok_and(|d| d.output.as_deref() == Some("prog.x")));
    }
}
