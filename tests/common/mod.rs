//! Shared helpers for the integration tests: fixture loading and parsers for the reference
//! outputs of llvm-readobj, GNU objdump and readelf captured beside each fixture.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use linkscope::Binary;

/// The loader ground-truth cases of `tests/fixtures/patch/` whose modules wine loaded (the
/// MinGW runtime's schemes); `explicit/` adds the cases built for the other schemes.
pub const WINE_PE_CASES: [&str; 10] = [
    "x64-gnu",
    "x64-gnu-small-near",
    "x64-lld",
    "x86-gnu",
    "x86-gnu-v1",
    "x86-lld",
    "x64-collide",
    "x86-collide",
    "x64-reloc-holder",
    "x86-reloc-holder",
];

/// Every recorded link's command file (`tests/fixtures/link/**.cmd`), sorted.
pub fn link_cmd_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![fixture_path("link")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "cmd") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Path of a fixture file.
pub fn fixture_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// Read a fixture's bytes.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(fixture_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Load a fixture into the model.
pub fn load(rel: &str) -> Binary {
    linkscope::load(&fixture_bytes(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Read a reference output beside a fixture.
pub fn reference(rel: &str, suffix: &str) -> String {
    let p = fixture_path(&format!("{rel}.{suffix}"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A node of llvm-readobj's indented output: a block with children, or a line.
#[derive(Debug, Clone)]
pub enum Node {
    /// `Name {` … `}` or `Name [ (…)` … `]`.
    Block {
        /// Text before the brace.
        name: String,
        /// Children.
        children: Vec<Node>,
    },
    /// Any other line, trimmed.
    Line(String),
}

impl Node {
    /// Block name (empty for lines).
    pub fn name(&self) -> &str {
        match self {
            Node::Block { name, .. } => name,
            Node::Line(_) => "",
        }
    }
    /// Children of a block.
    pub fn children(&self) -> &[Node] {
        match self {
            Node::Block { children, .. } => children,
            Node::Line(_) => &[],
        }
    }
    /// Child blocks whose name starts with `prefix`.
    pub fn blocks<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children().iter().filter(move |c| matches!(c, Node::Block { .. }) && c.name().starts_with(prefix))
    }
    /// The value of a `Key: value` line (or of a block named `Key [ (value)`).
    pub fn get(&self, key: &str) -> Option<String> {
        for c in self.children() {
            match c {
                Node::Line(l) => {
                    if let Some(v) = l.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
                        return Some(v.trim().to_string());
                    }
                }
                Node::Block { name, .. } => {
                    if let Some(v) = name.strip_prefix(key).map(str::trim) {
                        if v.starts_with("(") || v.is_empty() {
                            return Some(v.trim_matches(|c| c == '(' || c == ')').to_string());
                        }
                    }
                }
            }
        }
        None
    }
    /// A numeric value (`0x…` or decimal, first word).
    pub fn num(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(|v| parse_num(v.split_whitespace().next().unwrap_or("")))
    }
    /// Plain lines inside this block.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.children().iter().filter_map(|c| match c {
            Node::Line(l) => Some(l.as_str()),
            Node::Block { .. } => None,
        })
    }
}

/// Parse `0x1F`, `31` or `(0x1F)`.
pub fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim().trim_matches(|c| c == '(' || c == ')');
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// Parse llvm-readobj output into a root block.
pub fn parse_readobj(text: &str) -> Node {
    let mut stack: Vec<(String, Vec<Node>)> = vec![(String::new(), Vec::new())];
    for raw in text.lines() {
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        if l == "}" || l == "]" {
            if stack.len() > 1 {
                let (name, children) = stack.pop().unwrap();
                stack.last_mut().unwrap().1.push(Node::Block { name, children });
            }
            continue;
        }
        if let Some(n) = l.strip_suffix('{') {
            stack.push((n.trim().to_string(), Vec::new()));
            continue;
        }
        if let Some(pos) = l.find(" [") {
            if l.ends_with(')') || l.ends_with('[') {
                let name = format!("{} {}", &l[..pos], l[pos + 2..].trim());
                stack.push((name.trim().to_string(), Vec::new()));
                continue;
            }
        }
        if l.ends_with('[') {
            stack.push((l.trim_end_matches('[').trim().to_string(), Vec::new()));
            continue;
        }
        stack.last_mut().unwrap().1.push(Node::Line(l.to_string()));
    }
    while stack.len() > 1 {
        let (name, children) = stack.pop().unwrap();
        stack.last_mut().unwrap().1.push(Node::Block { name, children });
    }
    let (name, children) = stack.pop().unwrap();
    Node::Block { name, children }
}

/// A symbol line of `objdump -x`: (section number, value, name).
pub fn objdump_symbols(text: &str) -> Vec<(i32, u64, String)> {
    text.lines()
        .filter(|l| l.starts_with('[') && l.contains("(sec"))
        .filter_map(|l| {
            let sec = l.split("(sec").nth(1)?.split(')').next()?.trim().parse().ok()?;
            let mut words = l.rsplitn(2, ' ');
            let name = words.next()?.to_string();
            let value = words.next()?.rsplit(' ').next()?;
            Some((sec, parse_num(value)?, name))
        })
        .collect()
}

/// Section VMAs from `objdump -x` (`Idx Name Size VMA …`): (name, vma, size).
pub fn objdump_sections(text: &str) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    let mut on = false;
    for l in text.lines() {
        if l.starts_with("Idx Name") {
            on = true;
            continue;
        }
        if on {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() >= 6 && w[0].parse::<u32>().is_ok() {
                out.push((
                    w[1].to_string(),
                    u64::from_str_radix(w[3], 16).unwrap(),
                    u64::from_str_radix(w[2], 16).unwrap(),
                ));
            } else if !l.starts_with(' ') {
                on = false;
            }
        }
    }
    out
}

/// The bytes of an `objdump -s` dump: (start VA, bytes).
pub fn objdump_contents(text: &str) -> (u64, Vec<u8>) {
    let mut start = None;
    let mut bytes = Vec::new();
    for l in text.lines() {
        if !l.starts_with(' ') {
            continue;
        }
        let mut w = l.split_whitespace();
        let Some(addr) = w.next().and_then(|a| u64::from_str_radix(a, 16).ok()) else {
            continue;
        };
        if start.is_none() {
            start = Some(addr);
        }
        assert_eq!(start.unwrap() + bytes.len() as u64, addr, "gap in objdump -s dump");
        // Up to four groups of 8 hex digits; the ASCII column follows two spaces.
        let hex_part = &l[1 + format!("{addr:x}").len()..];
        let hex_part = &hex_part[..hex_part.len().min(36)];
        for group in hex_part.split_whitespace() {
            if group.len() % 2 != 0 || !group.chars().all(|c| c.is_ascii_hexdigit()) {
                break;
            }
            for k in (0..group.len()).step_by(2) {
                bytes.push(u8::from_str_radix(&group[k..k + 2], 16).unwrap());
            }
        }
    }
    (start.unwrap_or(0), bytes)
}

/// Run the linkscope binary with `args`.
pub fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).output().unwrap()
}

/// The JSON document a run printed (a panic showing its output when it is not JSON).
pub fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// Whether this machine's libc is the one a core's process bound to (a core does not hold
/// libc's pages: what is read of it comes from the file at the recorded path). `dir`: the core
/// fixture's folder under tests/fixtures, with the process's `maps.txt` and `libc.sha256`.
pub fn same_libc(dir: &str) -> bool {
    let maps = std::fs::read_to_string(fixture_path(&format!("{dir}/maps.txt"))).unwrap();
    let Some(path) = maps.lines().filter_map(|l| l.split_whitespace().nth(5)).find(|p| p.contains("/libc.so")) else {
        return false;
    };
    let want = std::fs::read_to_string(fixture_path(&format!("{dir}/libc.sha256"))).unwrap();
    std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().next() == Some(want.trim()))
}

/// The archive members a GNU ld map says it loaded ("Archive member included to satisfy
/// reference by file"), in order, named as the link report names them (`libx.a(member.o)`).
pub fn gnu_map_members(map: &str) -> Vec<String> {
    let ends = ["Allocating common symbols", "Discarded input sections", "Memory Configuration"];
    map.lines()
        .skip(1)
        .take_while(|l| !ends.iter().any(|e| l.starts_with(e)))
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .map(|l| {
            let (archive, member) = l.split_once('(').unwrap();
            format!("{}({member}", linkscope::link::inputs::base_name(archive))
        })
        .collect()
}
