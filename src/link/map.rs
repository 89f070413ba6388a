//! Linker map files (LLD's `/lldmap` / `--Map` and GNU ld's `-Map`) read into one shape, so the
//! link simulator can compare its predictions with what a real linker did.
//!
//! The parsers never fail on a line they do not understand: such lines are skipped. Only the
//! format detection can fail. Addresses are RVAs: GNU ld's VMAs minus `__image_base__`.

use serde::Serialize;

/// Which linker wrote the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MapKind {
    /// LLD (`lld-link /lldmap`, `ld.lld --Map`, including ld.lld's MinGW mode).
    Lld,
    /// GNU ld (`ld -Map`).
    Gnu,
}

/// An output section as the map lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapSection {
    /// Section name (`.text`).
    pub name: String,
    /// Relative virtual address.
    pub rva: u64,
    /// Size in bytes as the map gives it (GNU ld: rounded to the file alignment).
    pub size: u64,
}

/// An input section (chunk) placed in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapChunk {
    /// Object file, as the map names it (`a.obj`, `libm.a(m1.obj)`, `m1.obj`).
    pub file: String,
    /// Input section name (`.text$c_f`).
    pub section: String,
    /// Name of the output section it was placed in.
    pub output_section: String,
    /// Relative virtual address.
    pub rva: u64,
    /// Size in bytes.
    pub size: u64,
    /// Alignment (LLD maps only).
    pub align: Option<u64>,
    /// Symbols the map lists under the chunk, in map order (LLD repeats a name once per file
    /// that has a symbol for it).
    pub symbols: Vec<String>,
}

/// An input section the map lists as discarded (GNU ld only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapDiscarded {
    /// Object file.
    pub file: String,
    /// Input section name.
    pub section: String,
    /// Size in bytes.
    pub size: u64,
}

/// A parsed map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkMap {
    /// Which linker wrote it.
    pub kind: MapKind,
    /// Image base (GNU ld's `__image_base__`, subtracted from its VMAs). LLD maps do not give
    /// it; a GNU map without it (not PE) keeps VMAs.
    pub image_base: Option<u64>,
    /// Output sections in map order (GNU ld: only those with an address; `/DISCARD/` never).
    pub sections: Vec<MapSection>,
    /// Placed input sections in map order.
    pub chunks: Vec<MapChunk>,
    /// Discarded input sections (COMDAT losers, GC'd sections, `/DISCARD/` contents).
    pub discarded: Vec<MapDiscarded>,
}

/// Why a text is not read as a link map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// Nothing but white space.
    #[error("empty map file")]
    Empty,
    /// ld.lld's ELF map.
    #[error("ld.lld ELF map (VMA/LMA columns) is not supported")]
    ElfMap,
    /// Neither kind of map.
    #[error("not an LLD or GNU ld map (first line {first_line:?})")]
    Unknown {
        /// The first non-empty line, trimmed, at most 60 characters.
        first_line: String,
    },
}

/// Parse an LLD or GNU ld map (detected from its first non-empty lines). Err with a one-line
/// reason when it is neither.
pub fn parse(text: &str) -> Result<LinkMap, MapError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Err(MapError::Empty);
    };
    let head = lines[first].trim();
    let words: Vec<&str> = head.split_whitespace().collect();
    if words == ["Address", "Size", "Align", "Out", "In", "Symbol"] {
        return Ok(parse_lld(&lines[first + 1..]));
    }
    if words.starts_with(&["VMA", "LMA"]) {
        return Err(MapError::ElfMap);
    }
    if GNU_HEADERS.iter().any(|h| head.starts_with(h)) {
        return Ok(parse_gnu(&lines[first..]));
    }
    Err(MapError::Unknown { first_line: head.chars().take(60).collect() })
}

/// Block headers a GNU ld map can start with.
const GNU_HEADERS: [&str; 6] = [
    "Archive member included to satisfy reference",
    "As-needed library included to satisfy reference",
    "Allocating common symbols",
    "Discarded input sections",
    "Memory Configuration",
    "Linker script and memory map",
];

/// Hex digits only (no prefix, no sign), within u64.
fn hex(s: &str) -> Option<u64> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    digits.then(|| u64::from_str_radix(s, 16).ok()).flatten()
}

/// `0x`-prefixed hex, as GNU ld prints addresses and sizes.
fn hex0x(s: &str) -> Option<u64> {
    s.strip_prefix("0x").and_then(hex)
}

/// The first whitespace-separated token of `s` and the rest right after it (untrimmed).
fn split_tok(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    s.split_at(s.find(char::is_whitespace).unwrap_or(s.len()))
}

/// Leading spaces of a line.
fn indent(s: &str) -> usize {
    s.len() - s.trim_start_matches(' ').len()
}

/// GNU ld's `0xADDR 0xSIZE rest`, rest trimmed.
fn addr_size(s: &str) -> Option<(u64, u64, &str)> {
    let (a, r) = split_tok(s);
    let (z, r) = split_tok(r);
    Some((hex0x(a)?, hex0x(z)?, r.trim()))
}

/// A map with nothing in it yet.
fn empty(kind: MapKind) -> LinkMap {
    LinkMap { kind, image_base: None, sections: Vec::new(), chunks: Vec::new(), discarded: Vec::new() }
}

/// A chunk with no symbols yet.
fn new_chunk(file: &str, section: &str, out: &str, rva: u64, size: u64, align: Option<u64>) -> MapChunk {
    let (file, section, output_section) = (file.to_string(), section.to_string(), out.to_string());
    MapChunk { file, section, output_section, rva, size, align, symbols: Vec::new() }
}

/// LLD: every line is `ADDR SIZE ALIGN ` then the name, indented by 0 (output section),
/// 8 (input chunk) or 16 (symbol) spaces relative to the end of the align column.
fn parse_lld(lines: &[&str]) -> LinkMap {
    let mut map = empty(MapKind::Lld);
    let mut out = "";
    let mut in_chunk = false;
    for line in lines {
        let (a, r) = split_tok(line);
        let (s, r) = split_tok(r);
        let (al, r) = split_tok(r);
        let align = al.bytes().all(|b| b.is_ascii_digit()).then(|| al.parse::<u64>().ok()).flatten();
        let (Some(rva), Some(size), Some(align), Some(r)) = (hex(a), hex(s), align, r.strip_prefix(' ')) else {
            continue;
        };
        let name = r.trim();
        match indent(r) {
            _ if name.is_empty() => {}
            0..=3 => {
                (out, in_chunk) = (name, false);
                map.sections.push(MapSection { name: name.to_string(), rva, size });
            }
            4..=11 => {
                let (file, section) = match name.split_once(":(") {
                    Some((f, sec)) => (f, sec.strip_suffix(')').unwrap_or(sec)),
                    None => (name, ""),
                };
                in_chunk = true;
                map.chunks.push(new_chunk(file, section, out, rva, size, Some(align)));
            }
            _ => match map.chunks.last_mut() {
                Some(c) if in_chunk => c.symbols.push(name.to_string()),
                _ => {}
            },
        }
    }
    map
}

/// GNU ld: where in the map a line is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    /// Archive members, common symbols, memory configuration: nothing we keep.
    Other,
    /// "Discarded input sections".
    Discarded,
    /// "Linker script and memory map".
    Script,
}

/// A GNU input-section entry: ` NAME ADDR SIZE FILE`, or ` NAME` alone with `ADDR SIZE FILE` on
/// the next line. Gives name, address, size, file and how many extra lines it used. Script
/// patterns (`*(.text)`) and `*fill*` are not entries.
fn gnu_entry<'a>(line: &'a str, next: Option<&'a str>) -> Option<(&'a str, u64, u64, &'a str, usize)> {
    let (name, rest) = split_tok(line);
    if name.is_empty() || name.contains(['*', '(']) {
        return None;
    }
    let wrapped = rest.trim().is_empty();
    let (vma, size, file) = addr_size(if wrapped { next.filter(|n| indent(n) >= 2)? } else { rest })?;
    (!file.is_empty()).then_some((name, vma, size, file, usize::from(wrapped)))
}

/// GNU ld's text map: blocks with headers at column 0; in the script block output sections at
/// column 0, input sections at column 1, symbols and statements indented further.
fn parse_gnu(lines: &[&str]) -> LinkMap {
    let mut map = empty(MapKind::Gnu);
    let (mut block, mut out, mut discard, mut in_chunk) = (Block::Other, "", false, false);
    let mut i = 0;
    while let Some(&line) = lines.get(i) {
        i += 1;
        let (trimmed, next) = (line.trim(), lines.get(i).copied());
        let base = map.image_base.unwrap_or(0);
        let rva = move |vma: u64| vma.checked_sub(base).unwrap_or(vma);
        if indent(line) == 0 && GNU_HEADERS.iter().any(|h| trimmed.starts_with(h)) {
            block = match trimmed {
                "Discarded input sections" => Block::Discarded,
                "Linker script and memory map" => Block::Script,
                _ => Block::Other,
            };
            continue;
        }
        match indent(line) {
            _ if trimmed.is_empty() || block == Block::Other => {}
            0 if trimmed == "Cross Reference Table" => break,
            1 => {
                in_chunk = false;
                let Some((section, vma, size, file, used)) = gnu_entry(line, next) else {
                    continue;
                };
                i += used;
                if block == Block::Discarded || discard {
                    map.discarded.push(MapDiscarded { file: file.into(), section: section.into(), size });
                } else {
                    in_chunk = true;
                    map.chunks.push(new_chunk(file, section, out, rva(vma), size, None));
                }
            }
            _ if block != Block::Script => {}
            0 => {
                // `NAME ADDR SIZE`, NAME alone with `ADDR SIZE` on the next line, NAME alone
                // (not placed), or a statement (`LOAD x`, `OUTPUT(...)`).
                in_chunk = false;
                let (name, rest) = split_tok(line);
                let wrapped = rest.trim().is_empty();
                let at = if wrapped { next.filter(|n| indent(n) >= 2) } else { Some(rest) };
                let placed = at.and_then(addr_size).filter(|(_, _, r)| r.is_empty() || r.starts_with("load address"));
                if placed.is_none() && !wrapped {
                    continue;
                }
                i += usize::from(wrapped && placed.is_some());
                (out, discard) = (name, name == "/DISCARD/");
                if let (Some((vma, size, _)), false) = (placed, discard) {
                    map.sections.push(MapSection { name: name.to_string(), rva: rva(vma), size });
                }
            }
            _ => {
                // `ADDR symbol`, `ADDR name = expr`, `ADDR SIZE LONG x`, `[!provide] PROVIDE (...)`.
                let (a, rest) = split_tok(line);
                let (vma, rest) = (hex0x(a), rest.trim());
                if rest.starts_with("__image_base__ = ") && map.image_base.is_none() {
                    map.image_base = vma;
                }
                let symbol = vma.is_some() && !rest.is_empty() && !rest.contains(" = ");
                in_chunk &= symbol && hex0x(split_tok(rest).0).is_none();
                match map.chunks.last_mut() {
                    Some(c) if in_chunk => c.symbols.push(rest.to_string()),
                    _ => {}
                }
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/link");

    fn load(rel: &str) -> LinkMap {
        parse(&std::fs::read_to_string(format!("{ROOT}/{rel}")).unwrap()).unwrap()
    }

    fn chunk<'a>(m: &'a LinkMap, file: &str, section: &str) -> &'a MapChunk {
        m.chunks.iter().find(|c| c.file == file && c.section == section).unwrap()
    }

    fn discarded(m: &LinkMap) -> Vec<(&str, &str, u64)> {
        m.discarded.iter().map(|d| (d.file.as_str(), d.section.as_str(), d.size)).collect()
    }

    #[test]
    fn lld_ab() {
        let m = load("asm64/any/lld-ab.lldmap");
        assert_eq!((m.kind, m.image_base), (MapKind::Lld, None));
        let secs: Vec<(&str, u64)> = m.sections.iter().map(|s| (s.name.as_str(), s.rva)).collect();
        assert_eq!(secs, [(".text", 0x1000), (".rdata", 0x2000), (".data", 0x3000)]);
        let c = chunk(&m, "a.obj", ".text$c_f");
        assert_eq!((c.rva, c.size, c.align, c.output_section.as_str()), (0x1008, 6, Some(1), ".text"));
        assert_eq!(c.symbols, ["c_f", "c_f", "c_f"]);
        // Demangled names with spaces and parentheses stay symbols, not chunks.
        let m = load("msvc64/lld-default.lldmap");
        assert!(m.chunks.iter().all(|c| c.file.ends_with(".obj") && !c.section.is_empty()));
        let sym = "int __cdecl inline_f(int)";
        let c = m.chunks.iter().find(|c| c.symbols.iter().any(|s| s == sym));
        assert_eq!(c.map(|c| (c.file.as_str(), c.rva)), Some(("a.obj", 0x10c0)));
    }

    #[test]
    fn gnu_ab() {
        let m = load("asm64/any/gnu-ab.gnumap");
        assert_eq!((m.kind, m.image_base), (MapKind::Gnu, Some(0x1_4000_0000)));
        assert_eq!(discarded(&m), [("b.obj", ".text$c_f", 8), ("b.obj", ".data$c_d", 8)]);
        let c = chunk(&m, "a.obj", ".text$c_f");
        assert_eq!((c.rva, c.size, c.align, c.output_section.as_str()), (0x1008, 6, None, ".text"));
        assert_eq!(c.symbols, ["c_f"]);
        assert_eq!(m.sections[0], MapSection { name: ".text".into(), rva: 0x1000, size: 0x200 });
        // Size-0 entries are kept; the unplaced `.eh_frame` and `/DISCARD/` are not sections.
        assert_eq!(chunk(&m, "b.obj", ".bss").size, 0);
        assert!(!m.sections.iter().any(|s| s.name == ".eh_frame" || s.name == "/DISCARD/"));
        // Script assignments and `LONG` statements are not symbols.
        assert_eq!(chunk(&m, "main.obj", ".text").symbols, ["start"]);
        assert!(chunk(&m, "a.obj", ".data$c_d").symbols == ["c_d"]);
    }

    #[test]
    fn gnu_wrapped() {
        let m = load("asm64/archive/gnu-main-lib.gnumap");
        let want = [("libm.a(m2.obj)", ".text$c_shared", 6), ("libm.a(m3.obj)", ".text$c_shared", 6)];
        assert_eq!(discarded(&m), want);
        let c = chunk(&m, "libm.a(m1.obj)", ".text$c_shared");
        assert_eq!((c.rva, c.size, c.output_section.as_str()), (0x102e, 6, ".text"));
        // 32-bit map: wrapped input sections followed by demangled symbols; a file with a space.
        let m = load("mingw32/gnu-gcc.gnumap");
        assert_eq!(m.image_base, Some(0x40_0000));
        let c = chunk(&m, "g-a.o", ".text$_Z4tmaxIiET_S0_S0_");
        assert_eq!((c.rva, c.size, c.symbols.join("|")), (0x10d8, 0x10, "int tmax<int>(int, int)".into()));
        assert_eq!(chunk(&m, "dll stuff", ".reloc").output_section, ".reloc");
    }

    fn maps(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for p in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            match p.extension().and_then(|e| e.to_str()) {
                _ if p.is_dir() => maps(&p, found),
                Some("lldmap" | "gnumap") => found.push(p),
                _ => {}
            }
        }
    }

    #[test]
    fn every_fixture() {
        let mut found = Vec::new();
        maps(std::path::Path::new(ROOT), &mut found);
        assert!(found.len() > 100, "{}", found.len());
        for p in &found {
            let text = std::fs::read_to_string(p).unwrap();
            let m = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let lld = p.extension().is_some_and(|e| e == "lldmap");
            assert_eq!(m.kind, if lld { MapKind::Lld } else { MapKind::Gnu }, "{}", p.display());
            // GNU ld writes a map when it stops before the layout too (an input not found):
            // no sections then.
            let exit = std::fs::read_to_string(p.with_extension("exit")).unwrap_or_default();
            let stopped = !lld && exit.trim() != "0" && !text.contains("Linker script and memory map");
            assert!(stopped || (!m.sections.is_empty() && !m.chunks.is_empty()), "{}", p.display());
            // Holds for GNU maps too (their section sizes are rounded up to the file alignment).
            for c in &m.chunks {
                let s = m.sections.iter().find(|s| s.name == c.output_section).unwrap();
                let end = |rva: u64, size: u64| u128::from(rva) + u128::from(size);
                assert!(s.rva <= c.rva && end(c.rva, c.size) <= end(s.rva, s.size), "{}: {c:?}", p.display());
            }
            for cut in (0..text.len()).step_by(97).filter(|&c| text.is_char_boundary(c)) {
                let _ = parse(&text[..cut]);
            }
        }
    }

    #[test]
    fn garbage() {
        for bad in ["", "\n  \n", "hello\nAddress  Size     Align Out     In      Symbol", "   VMA LMA Size"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let bytes: Vec<u8> =
            (0..20_000).map(|_| (x ^= x << 13, x ^= x >> 7, x ^= x << 17, (x >> 24) as u8).3).collect();
        let noise = String::from_utf8_lossy(&bytes);
        assert!(parse(&noise).is_err());
        let odd = ["ffffffffffffffffffff 1 1 .x", "0 0 99999999999999999999999 .y", "0 0 +1 .z", "ffff ffff 4 \u{e9}"];
        let odd =
            odd.join("\n") + "\n0 0 1 \t\t a:(\n0 0 1                   s\n1 ffffffffffffffff 1         f:(.t)\n0 0 0 ";
        for head in ["Address  Size     Align Out     In      Symbol\n", "Memory Configuration\n"] {
            let _ = parse(&format!("{head}{odd}\n{noise}"));
        }
        // `~` stands for the 16-space indentation of GNU ld's address column.
        let gnu =
            "Discarded input sections\n .x\n\nLinker script and memory map\n~0x1 __image_base__ = 0x1\n.t\n 0x5 0x\n \
                   .a\n~0xffffffffffffffffff 0x1 f\n.long_name_here\n~0x0 0x10\n .b 0x0 0x1 f\n~0x1 sym\n/DISCARD/\n \
                   .c 0x0 0x4 g\n .d";
        let m = parse(&gnu.replace('~', &" ".repeat(16))).unwrap();
        assert_eq!(m.image_base, Some(1));
        assert_eq!(m.sections, [MapSection { name: ".long_name_here".into(), rva: 0, size: 0x10 }]);
        assert_eq!((m.chunks.len(), m.chunks[0].symbols.join("|")), (1, "sym".into()));
        assert_eq!(discarded(&m), [("g", ".c", 4)]);
    }
}
