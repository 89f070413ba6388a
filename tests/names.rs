//! Operands name what the program means, not the slot the raw address lands on: at every
//! pseudo-relocated place of the fixtures, `disasm` and `patch --json` are checked against the
//! pseudo-relocation item itself (its import and its signed offset), and offsets keep their sign.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::fixture_path;
use serde_json::Value;

fn cli(args: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope")).args(args).output().unwrap();
    // `diff` exits 1 when its inputs differ.
    assert!(out.status.code().is_some_and(|c| c <= 1), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `name` at `off`, written here independently of the program: `+0xc` / `-0x8`.
fn label(import: &str, off: i64) -> String {
    match off {
        0 => import.to_string(),
        o if o > 0 => format!("{import}+{o:#x}"),
        o => format!("{import}-{:#x}", o.unsigned_abs()),
    }
}

/// One decoded instruction of `disasm --json`: RVA, length, text.
struct Line {
    rva: u64,
    len: u64,
    text: String,
}

fn lines(image: &Path) -> Vec<Line> {
    let doc = cli(&["disasm", "--json", image.to_str().unwrap()]);
    doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| Line {
            rva: l["rva"].as_u64().unwrap(),
            len: l["bytes"].as_str().unwrap().len() as u64 / 2,
            text: l["text"].as_str().unwrap().to_string(),
        })
        .filter(|l| !l.text.starts_with("dd ") && !l.text.starts_with("dq "))
        .collect()
}

/// The truth of pseudo-relocation item `e` of `bin`: its import and the signed offset into it.
/// v1: the addend. v2: the stored pointer minus the slot, or, for a narrower field in 64-bit code
/// (RIP-relative), the end of the instruction plus the stored displacement minus the slot.
fn truth(bin: &linkscope::Binary, e: &linkscope::model::PseudoReloc, insn: Option<&Line>) -> Option<(String, i64)> {
    let import = e.import.clone()?;
    let off = if bin.pseudo_relocations.version == Some(1) {
        i64::from(e.addend? as i32)
    } else if let Some(o) = e.slot_offset {
        o
    } else {
        let l = insn?;
        (l.rva + l.len) as i64 + e.stored_value? - e.sym_rva? as i64
    };
    Some((import, off))
}

/// Every image (with a pseudo-relocation list) of the patch fixtures and the MinGW samples, with
/// the DLLs beside it.
fn images() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let root = fixture_path("patch");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|d| d.unwrap().path()).collect();
    cases.sort();
    for case in cases.iter().filter(|c| c.join("modules.tsv").exists()) {
        let names: Vec<String> = std::fs::read_to_string(case.join("modules.tsv"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split('\t').next().map(str::to_string))
            .collect();
        for n in &names {
            let dlls = names.iter().filter(|o| *o != n).map(|o| case.join(o)).collect();
            out.push((case.join(n), dlls));
        }
    }
    out.push((fixture_path("mingw64/autoimport-small.exe"), Vec::new()));
    out.retain(|(p, _)| {
        let bin = linkscope::load(&std::fs::read(p).unwrap()).unwrap();
        bin.format.is_pe() && !bin.pseudo_relocations.entries.is_empty()
    });
    out
}

fn covering(lines: &[Line], rva: u64) -> Option<&Line> {
    let i = lines.partition_point(|l| l.rva <= rva);
    lines.get(i.checked_sub(1)?).filter(|l| rva < l.rva + l.len)
}

fn names_operand(text: &str, want: &str) -> bool {
    text.contains(&format!("[{want}]")) || text.contains(&format!("+{want}]")) || text.ends_with(&format!(" {want}"))
}

#[test]
fn disasm_names_the_pseudo_relocation_target_at_every_pseudo_relocated_instruction() {
    let mut checked = 0;
    for (image, _) in images() {
        let bin = linkscope::load(&std::fs::read(&image).unwrap()).unwrap();
        let mut lines = lines(&image);
        lines.sort_by_key(|l| l.rva);
        for (i, e) in bin.pseudo_relocations.entries.iter().enumerate() {
            let Some(insn) = covering(&lines, e.target_rva) else { continue };
            let (import, off) = truth(&bin, e, Some(insn)).unwrap();
            let want = label(&import, off);
            assert!(
                names_operand(&insn.text, &want),
                "{}: item #{i} at {:#x}: `{}` does not name {want}",
                image.display(),
                e.target_rva,
                insn.text
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} pseudo-relocated instructions checked");
}

#[test]
fn patch_json_offsets_are_the_items_signed_offsets_and_filled_for_v2() {
    let mut checked = 0;
    for (image, dlls) in images() {
        let bin = linkscope::load(&std::fs::read(&image).unwrap()).unwrap();
        let mut lines = lines(&image);
        lines.sort_by_key(|l| l.rva);
        let mut args = vec!["patch", "--json", "--scheme", "mingw", image.to_str().unwrap()];
        for d in &dlls {
            args.extend(["--dll", d.to_str().unwrap()]);
        }
        let plan = cli(&args);
        for st in plan["steps"].as_array().unwrap() {
            let i = st["source"].as_u64().unwrap() as usize;
            let e = &bin.pseudo_relocations.entries[i];
            let insn = covering(&lines, e.target_rva);
            let Some((import, off)) = truth(&bin, e, insn) else { continue };
            assert_eq!(st["import"].as_str(), Some(import.as_str()), "{}: step {i}", image.display());
            assert_eq!(st["offset"].as_i64(), Some(off), "{}: step {i}: {st}", image.display());
            if let Some(insn) = insn.filter(|_| st["written"].as_bool() == Some(true)) {
                let want = label(&import, off);
                let before = st["insn_before"].as_str().unwrap_or_default();
                assert!(
                    names_operand(before, &want),
                    "{}: step {i} before `{before}` ({})",
                    image.display(),
                    insn.text
                );
                // The fixtures' programs ran: each field reaches its target. The sample's DLL
                // lies 3 GiB above it: the runtime accepts the displacements, the CPU
                // sign-extends them, and the instruction after reaches another address.
                let after = st["insn_after"].as_str().unwrap_or_default();
                let reaches = !dlls.is_empty();
                assert_eq!(names_operand(after, &want), reaches, "{}: step {i} after `{after}`", image.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} steps checked");
}

/// A v1 item whose addend is -8 (`&arr[-2]`): the patch step's offset is -8, the text says
/// `data.dll!arr-0x8`, and the instruction names it.
#[test]
fn a_negative_v1_addend_keeps_its_sign() {
    let case = fixture_path("patch/x86-gnu-v1");
    let mut data = std::fs::read(case.join("autoimport.exe")).unwrap();
    let bin = linkscope::load(&data).unwrap();
    // The item at .text+0x600 (`mov ecx, [data.dll!arr+0xc]`): v1 items are {addend, target}.
    let (i, e) = bin.pseudo_relocations.entries.iter().enumerate().find(|(_, e)| e.target_rva == 0x1600).unwrap();
    let at = e.span.offset as usize;
    data[at..at + 4].copy_from_slice(&(-8i32).to_le_bytes());
    let dir = std::env::temp_dir().join(format!("linkscope-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("autoimport.exe");
    std::fs::write(&exe, &data).unwrap();
    std::fs::copy(case.join("data.dll"), dir.join("data.dll")).unwrap();

    let plan = cli(&["patch", "--json", exe.to_str().unwrap()]);
    let st = &plan["steps"][i];
    assert_eq!(st["offset"].as_i64(), Some(-8), "{st}");
    assert!(st["insn_before"].as_str().unwrap().contains("[data.dll!arr-0x8]"), "{st}");
    assert!(st["insn_after"].as_str().unwrap().contains("[data.dll!arr-0x8]"), "{st}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope"))
        .args(["patch", exe.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("data.dll!arr-0x8 "), "{text}");
    assert!(!text.contains("4294967288"), "{text}");
    let lines = lines(&exe);
    assert!(lines.iter().any(|l| l.text.contains("[data.dll!arr-0x8]")));
    let inspect = std::process::Command::new(env!("CARGO_BIN_EXE_linkscope"))
        .args(["inspect", exe.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8(inspect.stdout).unwrap().contains("-0x8"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The base-relocation walk guesses the import from the address: where it writes the wrong
/// value, the instruction after its step shows where it really points, not the true target.
#[test]
fn a_wrong_write_is_not_named_after_the_true_target() {
    let case = fixture_path("patch/x86-gnu");
    let exe = case.join("autoimport.exe");
    let dll = case.join("data.dll");
    let bin = linkscope::load(&std::fs::read(&exe).unwrap()).unwrap();
    let plan =
        cli(&["patch", "--json", "--scheme", "baserel-walk", exe.to_str().unwrap(), "--dll", dll.to_str().unwrap()]);
    let mut seen = 0;
    for st in plan["steps"].as_array().unwrap() {
        if st["status"] != "misidentified" || st["insn_after"].is_null() {
            continue;
        }
        let rva = st["target_rva"].as_u64().unwrap();
        let Some(e) = bin.pseudo_relocations.entries.iter().find(|e| e.target_rva == rva) else { continue };
        let (import, off) = truth(&bin, e, None).unwrap();
        let want = label(&import, off);
        assert!(st["insn_before"].as_str().unwrap().contains(&want), "{st}");
        assert!(!st["insn_after"].as_str().unwrap().contains(&want), "{st}");
        seen += 1;
    }
    assert!(seen > 0, "no misidentified instruction in {}", exe.display());
}

/// The diff of an image with the memory the loader and the runtime gave it: each
/// pseudo-relocated instruction is named by its item's target before, and after where the
/// runtime made it reach that target.
#[test]
fn the_diff_with_a_dump_names_pseudo_relocated_instructions_by_their_targets() {
    let case = fixture_path("patch/x86-gnu");
    let exe = case.join("autoimport.exe");
    let bin = linkscope::load(&std::fs::read(&exe).unwrap()).unwrap();
    let mut lines = lines(&exe);
    lines.sort_by_key(|l| l.rva);
    let diff =
        cli(&["diff", "--json", exe.to_str().unwrap(), "--dump", case.join("autoimport.exe.mem.gz").to_str().unwrap()]);
    let mut seen = 0;
    for e in &bin.pseudo_relocations.entries {
        let Some(insn) = covering(&lines, e.target_rva) else { continue };
        let (import, off) = truth(&bin, e, Some(insn)).unwrap();
        let want = label(&import, off);
        let insn_structure = diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["structures"].as_array().unwrap())
            .find(|s| s["kind"] == "instruction" && s["name"] == format!("{:#x}", insn.rva))
            .unwrap_or_else(|| panic!("no instruction at {:#x} in the diff", insn.rva));
        for k in ["before", "after"] {
            let text = insn_structure[k].as_str().unwrap();
            assert!(names_operand(text, &want), "{k} `{text}` does not name {want}");
        }
        seen += 1;
    }
    assert!(seen >= 5, "{seen}");
}
