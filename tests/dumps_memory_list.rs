//! A small minidump (`MemoryList`, not `Memory64List`): md-x64-gnu's program writing
//! `MiniDumpNormal | MiniDumpWithDataSegs` of itself under wine (tests/fixtures/dumps/
//! md-x64-datasegs, build.sh). wine 8's dbghelp holds only the modules' unwind data (`.xdata`)
//! in it: `inspect` lists the modules and ranges, `verify` compares what is held and counts the
//! rest (code included) `not_in_dump`, never a mismatch; `--explain` compares every held byte,
//! and a byte changed in a copy is found.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture_path, json_of, run};

fn p(rel: &str) -> String {
    fixture_path(&format!("dumps/md-x64-datasegs/{rel}")).display().to_string()
}

/// `module NAME base 0x.. size 0x..` lines the program printed.
fn recorded() -> Vec<(String, u64, u64)> {
    std::fs::read_to_string(p("run.out"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&"module")).then(|| {
                let hex = |s: &str| u64::from_str_radix(&s[2..], 16).unwrap();
                (f[1].to_string(), hex(f[3]), hex(f[5]))
            })
        })
        .collect()
}

/// The `[start, end)` of the executable sections of module file `name` at `base`.
fn code_of(name: &str, base: u64) -> Vec<(u64, u64)> {
    let bin = linkscope::formats::load(&std::fs::read(p(name)).unwrap()).unwrap();
    bin.sections.iter().filter(|s| s.is_exec).map(|s| (base + s.rva, base + s.rva + s.virtual_size)).collect()
}

#[test]
fn inspect_lists_the_modules_and_the_memory_list() {
    let out = run(&["inspect", &p("self.dmp.gz"), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    assert_eq!(v["format"], "minidump");
    assert_eq!(v["arch"], "x86_64");
    let rec = recorded();
    assert_eq!(rec.len(), 2, "{rec:?}");
    let memory = v["memory"].as_array().unwrap();
    assert!(!memory.is_empty());
    let ranges: Vec<(u64, u64)> = memory
        .iter()
        .map(|r| (r["start"].as_u64().unwrap(), r["start"].as_u64().unwrap() + r["size"].as_u64().unwrap()))
        .collect();
    for (name, base, size) in &rec {
        let m = v["modules"].as_array().unwrap().iter().find(|m| m["name"] == name.as_str()).unwrap();
        assert_eq!(m["base"], *base, "{name}");
        assert_eq!(m["size"], *size, "{name}");
        assert_eq!(m["file_found"], true, "{name}");
        // A small dump: part of each module, none of its code.
        assert_eq!(m["complete"], false, "{name}");
        assert!(ranges.iter().any(|&(s, _)| s >= *base && s < base + size), "{name}: no range held");
        for (cs, ce) in code_of(name, *base) {
            assert!(ranges.iter().all(|&(s, e)| e <= cs || ce <= s), "{name}: code held");
        }
    }
    // trim.py kept only the fixture modules' ranges.
    assert!(ranges.iter().all(|&(s, _)| rec.iter().any(|(_, b, n)| s >= *b && s < b + n)));
}

#[test]
fn verify_compares_what_is_held_and_explain_every_held_byte() {
    for (name, _, size) in recorded() {
        let out = run(&["verify", &p(&name), "--dump", &p("self.dmp.gz"), "--json"]);
        let v = json_of(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {v}");
        assert!(v["mismatches"].as_array().unwrap().is_empty(), "{name}");
        // The IAT, the pseudo-relocations, every site: in pages the dump leaves out.
        assert!(v["not_in_dump"].as_u64().unwrap() > 0, "{name}: {v}");
        assert_eq!(v["dump"]["format"], "minidump");
        let held = v["dump"]["held"].as_u64().unwrap();
        assert!(held > 0 && held < size, "{name}: {held}");
        let out = run(&["verify", &p(&name), "--dump", &p("self.dmp.gz"), "--json", "--explain"]);
        let v = json_of(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {v}");
        let e = &v["explain"];
        assert_eq!(e["bytes_compared"], held, "{name}: {e}");
        assert_eq!(e["bytes_differing"], 0, "{name}: {e}");
        assert_eq!(e["not_in_dump"], size - held, "{name}: {e}");
        assert!(v["unexplained"].as_array().unwrap().is_empty());
        let text = run(&["verify", &p(&name), "--dump", &p("self.dmp.gz"), "--explain"]);
        assert!(String::from_utf8_lossy(&text.stdout).contains("not in the dump"), "{name}");
    }
}

#[test]
fn a_byte_changed_in_a_held_range_is_unexplained() {
    let (name, base, size) = recorded().into_iter().find(|(n, ..)| n == "autoimport.exe").unwrap();
    let mut bytes = linkscope::formats::dump::gunzip(&std::fs::read(p("self.dmp.gz")).unwrap(), 1 << 30).unwrap();
    let d = linkscope::formats::dump::read(&bytes).unwrap();
    let r = d.memory.iter().find(|r| r.start >= base && r.start < base + size && r.size >= 4).unwrap();
    let va = r.start + 2;
    bytes[(r.offset + 2) as usize] ^= 0x5a;
    let dir = std::env::temp_dir().join(format!("linkscope-memlist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("seeded.dmp");
    std::fs::write(&f, &bytes).unwrap();
    let out = run(&["verify", &p(&name), "--dump", &f.display().to_string(), "--json", "--explain"]);
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{v}");
    let un = v["unexplained"].as_array().unwrap();
    assert_eq!(un.len(), 1, "{un:?}");
    assert_eq!(un[0]["rva"], va - base);
    assert_eq!(un[0]["len"], 1);
    assert_eq!(un[0]["writable"], false);
    assert_eq!(v["explain"]["unexplained_protected_bytes"], 1);
}

/// A `MemoryList` descriptor past the end of the file, one overlapping another, a count the
/// stream cannot hold: a diagnostic and exit 2, never a panic.
#[test]
fn a_hostile_memory_list_fails_with_a_diagnostic() {
    let md = linkscope::formats::dump::gunzip(&std::fs::read(p("self.dmp.gz")).unwrap(), 1 << 30).unwrap();
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let (n, dir) = (u32_at(&md, 8), u32_at(&md, 12));
    let list = (0..n).map(|i| dir + 12 * i).find(|&e| u32_at(&md, e) == 5).map(|e| u32_at(&md, e + 8)).unwrap();
    assert!(u32_at(&md, list) >= 2);
    // Descriptor k: start (8), size (4), rva (4), from list + 4.
    let desc = |k: usize| list + 4 + 16 * k;
    let mut past = md.clone();
    past[desc(0) + 12..desc(0) + 16].copy_from_slice(&(md.len() as u32 - 2).to_le_bytes());
    let mut overlap = md.clone();
    let first_start = md[desc(0)..desc(0) + 8].to_vec();
    overlap[desc(1)..desc(1) + 8].copy_from_slice(&first_start);
    let mut count = md.clone();
    count[list..list + 4].copy_from_slice(&0x0fff_ffffu32.to_le_bytes());
    let dir_tmp = std::env::temp_dir().join(format!("linkscope-memlist-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir_tmp).unwrap();
    for (name, bytes) in [("past-end", past), ("overlap", overlap), ("count", count)] {
        let f = dir_tmp.join(name);
        std::fs::write(&f, bytes).unwrap();
        let f = f.display().to_string();
        let out = run(&["inspect", &f, "--json"]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty(), "{name}");
        let out = run(&["verify", &p("data.dll"), "--dump", &f]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
