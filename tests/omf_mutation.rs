//! Mutation test of the OMF reader, a fixed amount of work so it runs in CI: every truncation of
//! the nasm fixtures and the spec-built samples (COMDAT, threads, library, LIDATA code), then random bit flips,
//! byte overwrites with boundary values, and record-length rewrites, from a fixed seed. Every
//! mutant must load or be rejected without a panic, with bounded work (the reader only moves
//! forward through the records; nothing it lists outgrows the data), and every document read must
//! satisfy the structural invariants (spans inside the data, fields inside their records, one
//! relocation per fixup, fixups naming existing sections) and be disassembled without a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod omf_support;

use std::path::PathBuf;
use std::time::Instant;

use omf_support::{check_bounded_work, check_invariants};

/// Random mutants per input.
const MUTANTS_PER_INPUT: usize = 4000;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/omf");
    let mut v: Vec<(String, Vec<u8>)> = ["omf16", "omf32", "omf16-borland", "omfidx", "omfcode"]
        .iter()
        .map(|n| (format!("{n}.obj"), std::fs::read(dir.join(format!("{n}.obj"))).expect("fixture")))
        .collect();
    v.push(("comdat sample".into(), omf_support::comdat_object()));
    v.push(("threads sample".into(), omf_support::threads_object()));
    v.push(("library sample".into(), omf_support::library()));
    v.push(("LIDATA code sample".into(), omf_support::code_object()));
    v
}

/// Offsets where records start, following the length fields.
fn record_starts(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 3 <= data.len() && out.len() < 10_000 {
        out.push(pos);
        let len = u16::from_le_bytes([data[pos + 1], data[pos + 2]]) as usize;
        pos += 3 + len;
    }
    out
}

fn check(name: &str, what: &str, data: &[u8]) {
    let result = std::panic::catch_unwind(|| linkscope::load(data));
    match result {
        Err(_) => panic!("{name} {what}: the reader panicked"),
        Ok(Err(_)) => {}
        Ok(Ok(bin)) => {
            if let Err(e) = check_invariants(&bin, data.len() as u64) {
                panic!("{name} {what}: {e}");
            }
            if let Err(e) = check_bounded_work(&bin, data.len() as u64) {
                panic!("{name} {what}: {e}");
            }
            // The code's disassembly, every fixup named: never a panic either, at most a line
            // per byte. (A mutant's LIDATA may expand to 16 MiB of code, listed like any other
            // but too slowly for this test: those are left to the small ones' code path.)
            let code = omf_support::code_bytes(&bin, data);
            if code <= 1 << 16 {
                let listed = std::panic::catch_unwind(|| omf_support::listing_lines(&bin, data));
                match listed {
                    Err(_) => panic!("{name} {what}: the disassembly panicked"),
                    Ok(n) => assert!(n <= code, "{name} {what}: {n} lines for {code} bytes of code"),
                }
            }
        }
    }
}

#[test]
fn truncations_and_bit_flips_never_panic() {
    let start = Instant::now();
    let mut total = 0usize;
    for (name, data) in inputs() {
        // Every truncation (sampled for long inputs).
        let step = (data.len() / 1500).max(1);
        for len in (0..data.len()).step_by(step) {
            check(&name, &format!("truncated to {len}"), &data[..len]);
            total += 1;
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, data) in inputs() {
        let starts = record_starts(&data);
        for i in 0..MUTANTS_PER_INPUT {
            let mut m = data.clone();
            let what = match rng.below(4) {
                0 => {
                    let flips = 1 + rng.below(4);
                    for _ in 0..flips {
                        let at = rng.below(m.len());
                        m[at] ^= 1 << rng.below(8);
                    }
                    format!("mutant {i}: {flips} bit flip(s)")
                }
                1 => {
                    let at = rng.below(m.len());
                    m[at] = [0x00, 0xff, 0x7f, 0x80, 0x81, 0x01][rng.below(6)];
                    format!("mutant {i}: byte {at:#x} overwritten")
                }
                2 => {
                    let r = starts[rng.below(starts.len())];
                    let len = [0u16, 1, 2, 0xffff, 0x7fff, rng.next() as u16][rng.below(6)];
                    if r + 3 <= m.len() {
                        m[r + 1..r + 3].copy_from_slice(&len.to_le_bytes());
                    }
                    format!("mutant {i}: record at {r:#x} length {len:#x}")
                }
                _ => {
                    // Flip a byte inside a record body, then fix its checksum so the reader
                    // decodes the body rather than only noting a bad checksum.
                    let k = rng.below(starts.len());
                    let r = starts[k];
                    let end = starts.get(k + 1).copied().unwrap_or(m.len());
                    if end > r + 4 {
                        let at = r + 3 + rng.below(end - r - 4);
                        m[at] = rng.next() as u8;
                        let sum = m[r..end - 1].iter().fold(0u8, |a, &b| a.wrapping_add(b));
                        m[end - 1] = 0u8.wrapping_sub(sum);
                    }
                    format!("mutant {i}: body byte rewritten, checksum fixed")
                }
            };
            check(&name, &what, &m);
            total += 1;
        }
    }
    eprintln!("{total} mutants in {:?}", start.elapsed());
    assert!(total > 5000, "only {total} mutants ran");
}
