// A synthetic PE32+ image with `n` base relocations (512 per 4 KiB page, the last of each block an
// ABSOLUTE padding entry), for the frame benchmark (`examples/frame_bench.rs`) and the GUI tests.
// Included with `include!`, so it names everything by full path.

/// Build the document: `.data` holds the patched sites, `.reloc` the 2-byte entries.
pub fn million_reloc_core(n: usize) -> linkscope::gui::document::DocCore {
    use linkscope::model::{BaseReloc, BaseRelocBlock, Binary, Format, Section, Span};
    const PER_BLOCK: usize = 512;
    const HEADERS: u64 = 0x400;
    let blocks = n.div_ceil(PER_BLOCK);
    let data_size = blocks as u64 * 0x1000;
    let reloc_size = blocks as u64 * (8 + 2 * PER_BLOCK as u64);
    let data_off = HEADERS;
    let reloc_off = data_off + data_size;
    let file_size = reloc_off + reloc_size;
    let image_base = 0x1_4000_0000u64;
    let mut bin = Binary::new(Format::Pe32Plus, file_size);
    bin.arch = linkscope::model::Arch::X86_64;
    bin.is_64 = true;
    bin.image_base = Some(image_base);
    let section = |index: u32, name: &str, rva: u64, off: u64, size: u64| Section {
        index,
        name: name.into(),
        rva,
        virtual_size: size,
        file_offset: off,
        file_size: size,
        flags: 0xc000_0040,
        flag_names: vec!["CNT_INITIALIZED_DATA".into(), "MEM_READ".into()],
        kind: None,
        is_alloc: true,
        is_exec: false,
        is_write: index == 1,
        align: Some(0x1000),
        header_span: Span::new(0x188 + 40 * u64::from(index - 1), 40),
        reloc_count: 0,
    };
    bin.sections.push(section(1, ".data", 0x1000, data_off, data_size));
    bin.sections.push(section(2, ".reloc", 0x1000 + data_size, reloc_off, reloc_size));
    bin.base_relocations.reserve(n);
    for b in 0..blocks {
        let page = 0x1000 + b as u64 * 0x1000;
        let block_off = reloc_off + b as u64 * (8 + 2 * PER_BLOCK as u64);
        let count = (n - b * PER_BLOCK).min(PER_BLOCK);
        for k in 0..count {
            let padding = k == PER_BLOCK - 1;
            bin.base_relocations.push(BaseReloc {
                rva: page + if padding { 0 } else { k as u64 * 8 },
                kind: if padding { "ABSOLUTE" } else { "DIR64" },
                raw_type: if padding { 0 } else { 10 },
                value: (!padding).then(|| image_base + 0x1000 + ((b * 7 + k) as u64 * 8) % data_size),
                param: None,
                block: b as u32,
                span: Span::new(block_off + 8 + 2 * k as u64, 2),
            });
        }
        bin.base_reloc_blocks.push(BaseRelocBlock {
            page_rva: page,
            size: (8 + 2 * count) as u32,
            entry_count: count as u32,
            span: Span::new(block_off, 8 + 2 * count as u64),
        });
    }
    let data = vec![0u8; usize::try_from(file_size).unwrap_or(0)];
    linkscope::gui::document::DocCore::analyse("synthetic-1M.dll".into(), "synthetic-1M.dll".into(), data, bin)
}

/// A synthetic PE32+ image whose `.text` is `code` repeated until it holds about `n` instructions
/// (the frame benchmark's million-instruction disassembly).
pub fn million_insn_core(code: &[u8], n: usize) -> linkscope::gui::document::DocCore {
    use linkscope::model::{Binary, Format, Section, Span};
    const HEADERS: u64 = 0x400;
    // About 4 bytes per instruction in compiled x64 code.
    let size = (n * 4).div_ceil(0x1000) * 0x1000;
    let mut data = vec![0u8; HEADERS as usize];
    while data.len() < HEADERS as usize + size {
        data.extend_from_slice(code);
    }
    data.truncate(HEADERS as usize + size);
    let mut bin = Binary::new(Format::Pe32Plus, data.len() as u64);
    bin.arch = linkscope::model::Arch::X86_64;
    bin.is_64 = true;
    bin.image_base = Some(0x1_4000_0000);
    bin.entry_rva = Some(0x1000);
    bin.sections.push(Section {
        index: 1,
        name: ".text".into(),
        rva: 0x1000,
        virtual_size: size as u64,
        file_offset: HEADERS,
        file_size: size as u64,
        flags: 0x6000_0020,
        flag_names: vec!["CNT_CODE".into(), "MEM_EXECUTE".into(), "MEM_READ".into()],
        kind: None,
        is_alloc: true,
        is_exec: true,
        is_write: false,
        align: Some(0x1000),
        header_span: Span::new(0x188, 40),
        reloc_count: 0,
    });
    linkscope::gui::document::DocCore::analyse("synthetic-code.exe".into(), "synthetic-code.exe".into(), data, bin)
}
