//! Hand-made damage to real fixtures: each kind of malformation the readers diagnose gets a
//! diagnostic, and the rest of the file still shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use linkscope::model::{Format, Severity, SymbolKind};
use linkscope::Binary;

fn messages(bin: &Binary) -> Vec<String> {
    bin.diagnostics.iter().map(|d| format!("{}: {}", d.severity.name(), d.message)).collect()
}

fn has(bin: &Binary, needle: &str) -> bool {
    bin.diagnostics.iter().any(|d| d.message.contains(needle))
}

#[test]
fn malformed_base_relocation_blocks_are_diagnosed_not_skipped() {
    let mut data = common::fixture_bytes("mingw64/autoimport.exe");
    let bin = linkscope::load(&data).unwrap();
    let dir = &bin.pe.as_ref().unwrap().data_directories[5];
    let off = bin.rva_to_offset(dir.rva).unwrap() as usize;
    let image_size = 0x11000u32; // SizeOfImage of this fixture
                                 // Blocks: empty; odd-sized with one entry; HIGHADJ with its parameter slot; a page again;
                                 // a page outside the image; then a SizeOfBlock < 8 that ends the walk.
    let mut blocks: Vec<u8> = Vec::new();
    let mut block = |page: u32, size: u32, entries: &[u16]| {
        blocks.extend_from_slice(&page.to_le_bytes());
        blocks.extend_from_slice(&size.to_le_bytes());
        for e in entries {
            blocks.extend_from_slice(&e.to_le_bytes());
        }
    };
    block(0x1000, 8, &[]);
    block(0x2000, 10, &[0xa010]);
    block(0x3000, 16, &[0x4020, 0x1234, 0x3030, 0x0000]);
    block(0x2000, 12, &[0xa018, 0x0000]);
    block(image_size + 0x1000, 12, &[0xa000, 0x0000]);
    block(0x5000, 4, &[]);
    assert!(blocks.len() as u64 <= dir.size + 8);
    data[off..off + blocks.len()].copy_from_slice(&blocks);
    // Point the directory size at exactly these bytes.
    let size_field = dir.span.offset as usize + 4;
    data[size_field..size_field + 4].copy_from_slice(&(blocks.len() as u32).to_le_bytes());

    let bin = linkscope::load(&data).unwrap();
    let m = messages(&bin);
    assert!(has(&bin, "page 0x1000) is empty"), "{m:#?}");
    assert!(has(&bin, "is not 32-bit aligned (SizeOfBlock 10)"), "{m:#?}");
    assert!(has(&bin, "covers page 0x2000 again"), "{m:#?}");
    assert!(has(&bin, "lies outside the image"), "{m:#?}");
    assert!(has(&bin, "SizeOfBlock 4 (< 8)"), "{m:#?}");
    // Every entry is listed, padding included; HIGHADJ carries its parameter slot.
    let kinds: Vec<&str> = bin.base_relocations.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, ["DIR64", "HIGHADJ", "HIGHLOW", "ABSOLUTE", "DIR64", "ABSOLUTE", "DIR64", "ABSOLUTE"]);
    let adj = bin.base_relocations.iter().find(|r| r.kind == "HIGHADJ").unwrap();
    assert_eq!(adj.param, Some(0x1234));
    assert_eq!(adj.rva, 0x3020);
    assert_eq!(bin.base_reloc_blocks.len(), 5);
    // The rest of the image still reads.
    assert_eq!(bin.imports.len(), 3);
    assert_eq!(bin.pseudo_relocations.entries.len(), 8);
}

#[test]
fn bad_associations_are_diagnosed() {
    let mut data = common::fixture_bytes("msvc64/comdat.obj");
    let bin = linkscope::load(&data).unwrap();
    // Aux records of three associative sections: point them out of range, at a non-COMDAT
    // section (1, .text) and at another associative section.
    let assoc: Vec<u32> = bin.comdats.iter().filter(|c| c.selection == Some(5)).map(|c| c.section).take(3).collect();
    let aux_of = |sec: u32| {
        let s = bin.symbols.iter().find(|s| s.section == Some(sec) && s.kind == SymbolKind::Section).unwrap();
        (s.span.offset + 18) as usize
    };
    let targets = [999u16, 1, assoc[0] as u16];
    for (sec, target) in assoc.iter().skip(1).chain(std::iter::once(&assoc[0])).zip(targets) {
        let aux = aux_of(*sec);
        data[aux + 12..aux + 14].copy_from_slice(&target.to_le_bytes());
    }
    let bin = linkscope::load(&data).unwrap();
    let m = messages(&bin);
    assert!(has(&bin, "points at section 999, which does not exist"), "{m:#?}");
    assert!(has(&bin, "points at section 1 (.text), which is not a COMDAT"), "{m:#?}");
    assert!(has(&bin, "is associated with itself"), "{m:#?}");
    assert!(bin.diagnostics.iter().any(|d| d.severity == Severity::Error));
    assert_eq!(bin.comdats.len(), 27, "every COMDAT row is still listed");
}

#[test]
fn a_truncated_image_shows_what_it_can() {
    let data = common::fixture_bytes("mingw64/autoimport.exe");
    let half = &data[..data.len() / 2];
    let bin = linkscope::load(half).unwrap();
    assert_eq!(bin.format, Format::Pe32Plus);
    assert_eq!(bin.sections.len(), 10);
    assert!(!bin.diagnostics.is_empty());
    assert!(has(&bin, "extends past the end of the file"), "{:#?}", messages(&bin));
    // Headers are intact.
    assert_eq!(bin.image_base, Some(0x1_4000_0000));
}

#[test]
fn unrecognised_and_empty_inputs_are_errors() {
    assert!(linkscope::load(b"").is_err());
    let e = linkscope::load(b"hello, world, this is not a binary").unwrap_err();
    assert!(e.to_string().contains("unrecognised"), "{e}");
}

#[test]
fn an_import_descriptor_outside_the_file_is_diagnosed() {
    let mut data = common::fixture_bytes("mingw64/data.dll");
    let bin = linkscope::load(&data).unwrap();
    let dir = &bin.pe.as_ref().unwrap().data_directories[1];
    let first = bin.imports[0].descriptor_span.offset as usize;
    // The first descriptor's name and lookup table point far outside the image.
    data[first..first + 4].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    data[first + 12..first + 16].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    let bin2 = linkscope::load(&data).unwrap();
    assert!(has(&bin2, "is not in the file") || has(&bin2, "runs off"), "{:#?}", messages(&bin2));
    assert_eq!(bin2.imports.len(), bin.imports.len());
    assert_eq!(bin2.exports.len(), bin.exports.len());
    let _ = dir;
}
