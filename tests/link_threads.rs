//! The link simulation reads its objects (and each batch of fetched archive members) on
//! several threads and resolves them in the linker's order: on every recorded link in
//! `tests/fixtures/link`, the report — JSON and text, byte for byte — is the same on 1, 2, 3
//! and 7 threads, and an input that cannot be read is the first one in command-line order
//! whatever the count (inputs not found: every one, in that order, as the linker says it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use linkscope::link::{self, Flavor};

fn cases() -> Vec<(PathBuf, Flavor, Vec<String>)> {
    common::link_cmd_files()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let mut lines = text.lines().filter(|l| !l.is_empty());
            let flavor = match lines.next().unwrap() {
                "lld-link" => Flavor::LldLink,
                "ld.lld" => Flavor::LldMingw,
                _ => Flavor::GnuLd,
            };
            let args = lines.map(str::to_string).collect();
            (p, flavor, args)
        })
        .collect()
}

/// The report's JSON and text, or the error, on `threads` threads.
fn outputs(dir: &Path, flavor: Flavor, args: &[String], threads: usize) -> String {
    let read = |p: &str| std::fs::read(dir.join(p));
    match link::simulate_threads(flavor, args, &read, threads) {
        Ok(rep) => {
            let mut out = Vec::new();
            linkscope::report::link::write_json(&mut out, &rep, None).unwrap();
            linkscope::report::link::write_text(&mut out, &rep, None).unwrap();
            String::from_utf8(out).unwrap()
        }
        Err(e) => format!("unreadable: {e}"),
    }
}

#[test]
fn every_recorded_link_reports_the_same_on_any_thread_count() {
    let cases = cases();
    assert!(cases.len() >= 200, "{} links", cases.len());
    let mut with_members = 0;
    for (cmd, flavor, args) in &cases {
        let dir = cmd.parent().unwrap();
        let one = outputs(dir, *flavor, args, 1);
        if one.contains("\"members_loaded\":[{") {
            with_members += 1;
        }
        for threads in [2, 3, 7] {
            let many = outputs(dir, *flavor, args, threads);
            assert!(one == many, "{}: {threads} threads differ from one", cmd.display());
        }
    }
    // Archive members fetched in batches are among them.
    assert!(with_members >= 10, "{with_members} links load archive members");
}

#[test]
fn the_first_unreadable_input_in_command_line_order_is_reported_on_any_thread_count() {
    let (cmd, flavor, args) = cases().into_iter().find(|(_, f, a)| *f == Flavor::LldLink && a.len() >= 3).unwrap();
    let dir = cmd.parent().unwrap();
    let at = args.iter().position(|a| a.ends_with(".obj")).unwrap();
    // Two inputs that cannot be read (directories), then the link's own: the first is named.
    let mut bad = args.clone();
    bad.insert(at, ".".into());
    bad.insert(at, "..".into());
    let one = outputs(dir, flavor, &bad, 1);
    assert!(one.starts_with("unreadable: ..:"), "{one}");
    for threads in [2, 3, 7] {
        assert_eq!(outputs(dir, flavor, &bad, threads), one);
    }
    // Two that do not exist: lld-link's own errors, both, in command-line order.
    let mut missing = args.clone();
    missing.insert(at, "missing-second.obj".into());
    missing.insert(at, "missing-first.obj".into());
    let one = outputs(dir, flavor, &missing, 1);
    let first = one.find("could not open 'missing-first.obj'").unwrap();
    assert!(one[first..].contains("could not open 'missing-second.obj'"), "{one}");
    for threads in [2, 3, 7] {
        assert_eq!(outputs(dir, flavor, &missing, threads), one);
    }
}
