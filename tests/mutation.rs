//! Mutation test over the PE / COFF / archive / ELF readers and the data-reference scan:
//! truncations and bit flips of every fixture must load or be rejected cleanly — no panic, no
//! hang — and still render as JSON (every 8th also through `refs`, `disasm`, the patch engine
//! and the diff against the unmutated fixture; every object and archive through the link
//! simulation).
//! Deterministic (fixed seed): a fixed number of inputs, each checked for bounded work (the
//! diagnostics capped, every decoded instruction covering code bytes), not against a clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use linkscope::input::Input;
use linkscope::session::{Analysis, Analyzed, Scan};

const FIXTURES: &[&str] = &[
    "mingw64/autoimport.exe",
    "mingw64/autoimport-small.exe",
    "mingw64/data.dll",
    "mingw32/autoimport-v1.exe",
    "lld64/autoimport.exe",
    "msvc64/data.dll",
    "msvc64/features.dll",
    "msvc32/features.dll",
    "msvc64/comdat.obj",
    "msvc32/comdat.obj",
    "mingw64/relocs.o",
    "mingw64/bigobj.o",
    "yaml2obj/rel32k.obj",
    "msvc64/data.lib",
    "mingw64/libdata.dll.a",
    "elf/main-nopie",
    "elf/libdata.so",
    "elf/pic.o",
    "elf/rel32.o",
    "link/msvc64/a.obj",
    "link/mingw64/g-a.o",
    "link/asm64/archive/lib.lib",
];

/// xorshift64*: a small deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Link a damaged object or archive with its original under each linker's rules: a report or
/// an "unreadable" error, never a panic.
fn link(data: &[u8], orig: &[u8], format: linkscope::model::Format) {
    use linkscope::link::Flavor;
    use linkscope::model::Format;
    let (m, o) = match format {
        Format::Coff | Format::CoffBigobj => ("m.obj", "o.obj"),
        Format::Archive => ("m.lib", "o.lib"),
        _ => return,
    };
    let read = |p: &str| Ok(if p == m { data.to_vec() } else { orig.to_vec() });
    for flavor in [Flavor::LldLink, Flavor::LldMingw, Flavor::GnuLd] {
        let args = vec!["--entry".to_string(), "main".into(), m.into(), o.into()];
        let args = if flavor == Flavor::LldLink { vec!["/entry:main".into(), m.into(), o.into()] } else { args };
        if let Ok(r) = linkscope::link::simulate(flavor, &args, &read) {
            assert!(r
                .placements
                .iter()
                .all(|p| r.output_sections.iter().any(|s| s.name == p.output_section) || p.size == 0));
            serde_json::to_string(&r).unwrap();
        }
    }
}

fn exercise(data: &[u8], orig: &[u8]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    if let Ok(bin) = linkscope::load(data) {
        link(data, orig, bin.format);
        let mut out = Vec::new();
        linkscope::report::write_json(&mut out, &bin, None, false).unwrap();
        assert!(bin.diagnostics.len() <= linkscope::model::MAX_DIAGNOSTICS + 1);
        // Every 8th input also goes through the data-reference scan, its listing and its JSON.
        if N.fetch_add(1, Ordering::Relaxed).is_multiple_of(8) {
            let analysis = Analysis { scan: Scan::Listing, threads: 2, min_chunk: 4096, ..Analysis::default() };
            let a =
                Analyzed::from_parts("self.dll".into(), "self.dll".into(), Input::Owned(data.to_vec()), bin, &analysis);
            let (bin, index, refs) = (&a.bin, &a.index, &a.refs);
            // Bounded work: the decoder advances through each code byte.
            assert!(refs.summary.instructions <= refs.summary.code_bytes, "{:?}", refs.summary);
            // The patch engine (with the file as its own DLL, a collision) and the diff against
            // the unmutated fixture, by file and by memory image.
            let dll = linkscope::patch::DllInput { path: "self.dll", data, bin };
            let file_side = linkscope::diff::Side {
                bin: Some(bin),
                data,
                file: data,
                index: Some(index),
                regions: Some(a.regions()),
                refs: Some(refs),
                pdb: None,
            };
            let limits = linkscope::diff::Limits::default();
            if let Ok(plan) = linkscope::patch::plan(bin, data, index, &[dll], &Default::default()) {
                let v = linkscope::patch::verify::verify(&plan, bin, Some(refs), &plan.patched);
                assert!(v.mismatches.is_empty());
                let raw = linkscope::diff::Side {
                    bin: None,
                    data: &plan.patched,
                    file: &[],
                    index: None,
                    regions: None,
                    refs: None,
                    pdb: None,
                };
                let loaded = plan.loaded_image();
                linkscope::diff::diff_memory(linkscope::diff::Side { data: &loaded, ..file_side }, raw, limits);
            }
            let original = linkscope::diff::Side {
                bin: None,
                data: orig,
                file: orig,
                index: None,
                regions: None,
                refs: None,
                pdb: None,
            };
            let d = linkscope::diff::diff_files(file_side, original, limits);
            assert_eq!(d.identical(), data == orig);
            let namer = linkscope::report::refs::Namer { bin, index };
            let mut out = Vec::new();
            linkscope::report::refs::write_refs_json(
                &mut out,
                &namer,
                refs,
                &refs.sites,
                &[],
                &|_| true,
                &Default::default(),
            )
            .unwrap();
            assert!(refs.insns.len() as u64 >= refs.summary.instructions);
            // The listing, swept piece by piece on three threads: one line per row of the index.
            let sweep = linkscope::analysis::listing::PieceSweep::new(bin, data, index, Vec::new(), 4096);
            let names = a.names().clone();
            let labels = a.labels().clone();
            let l = linkscope::report::disasm::Listing { bin, index, data, sweep: &sweep, names, labels, threads: 3 };
            let mut text = Vec::new();
            l.write_text(&mut text, &|_, _| true).unwrap();
            let lines = text.split(|&b| b == b'\n').filter(|l| l.windows(3).any(|w| w == b":  ")).count();
            assert_eq!(lines, refs.insns.len());
        }
    }
}

#[test]
fn truncated_and_bit_flipped_fixtures_never_panic() {
    // LINKSCOPE_MUTATION_SCALE=N runs N times as many bit flips (for local campaigns).
    let scale: usize = std::env::var("LINKSCOPE_MUTATION_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let start = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0u32;
    for rel in FIXTURES {
        let orig = common::fixture_bytes(rel);
        // Truncations: every header-sized prefix near the start, then evenly spaced cuts.
        let mut cuts: Vec<usize> = (0..orig.len().min(512)).step_by(7).collect();
        cuts.extend((1..24).map(|k| orig.len() * k / 24));
        for cut in cuts {
            exercise(&orig[..cut], &orig);
            runs += 1;
        }
        // Bit flips: the first 4 KiB (headers and tables) get most of them.
        for i in 0..150 * scale {
            let mut d = orig.clone();
            let flips = 1 + (rng.next() % 4) as usize;
            for _ in 0..flips {
                let span = if i % 3 == 0 { d.len() } else { d.len().min(4096) };
                let pos = (rng.next() as usize) % span;
                d[pos] ^= 1 << (rng.next() % 8);
            }
            exercise(&d, &orig);
            runs += 1;
        }
        // Multi-byte corruption of 32-bit fields: counts and offsets set to extremes.
        for _ in 0..60 * scale {
            let mut d = orig.clone();
            let pos = (rng.next() as usize) % d.len().min(4096).saturating_sub(4).max(1);
            let v: u32 = match rng.next() % 4 {
                0 => u32::MAX,
                1 => 0x8000_0000,
                2 => 0x7fff_ffff,
                _ => rng.next() as u32,
            };
            if let Some(s) = d.get_mut(pos..pos + 4) {
                s.copy_from_slice(&v.to_le_bytes());
            }
            exercise(&d, &orig);
            runs += 1;
        }
    }
    eprintln!("{runs} mutated inputs in {:?}", start.elapsed());
}
