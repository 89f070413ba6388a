//! A minimal PE32+ writer for tests that need an image of a given size: `functions` copies of a
//! small x64 function (a stack frame, two RIP-relative accesses to a global, a call to the next
//! function, a branch), each with its `.pdata` entry, so the sweep knows every function start.

/// Instructions of one function, its alignment padding (one `int3`) included.
pub const INSTRUCTIONS_PER_FUNCTION: usize = 15;

/// Bytes of one function with its padding.
const FUNCTION_BYTES: usize = 48;

const TEXT_RVA: u32 = 0x1000;
const FILE_ALIGN: usize = 0x200;
const SECTION_ALIGN: u32 = 0x1000;

fn align(v: usize, a: usize) -> usize {
    v.div_ceil(a) * a
}

/// The function at `rva` whose global is at `global` and whose callee is at `next`.
fn function(rva: u32, global: u32, next: u32) -> Vec<u8> {
    let mut f = Vec::with_capacity(FUNCTION_BYTES);
    let rel = |f: &Vec<u8>, target: u32| (target as i64 - (rva as i64 + f.len() as i64 + 4)) as i32;
    f.extend_from_slice(&[0x48, 0x83, 0xec, 0x28]); // sub rsp, 0x28
    f.extend_from_slice(&[0x48, 0x8b, 0x05]); // mov rax, [rip+global]
    f.extend_from_slice(&rel(&f, global).to_le_bytes());
    f.extend_from_slice(&[0x48, 0x83, 0xc0, 0x10]); // add rax, 0x10
    f.extend_from_slice(&[0x48, 0x89, 0x05]); // mov [rip+global], rax
    f.extend_from_slice(&rel(&f, global).to_le_bytes());
    f.extend_from_slice(&[0x89, 0xc1]); // mov ecx, eax
    f.extend_from_slice(&[0x31, 0xd2]); // xor edx, edx
    f.push(0xe8); // call next
    f.extend_from_slice(&rel(&f, next).to_le_bytes());
    f.extend_from_slice(&[0x8d, 0x0c, 0x51]); // lea ecx, [rcx+rdx*2]
    f.extend_from_slice(&[0xff, 0xc1]); // inc ecx
    f.extend_from_slice(&[0x85, 0xc9]); // test ecx, ecx
    f.extend_from_slice(&[0x74, 0x02]); // je +2
    f.extend_from_slice(&[0x31, 0xc0]); // xor eax, eax
    f.extend_from_slice(&[0x48, 0x83, 0xc4, 0x28]); // add rsp, 0x28
    f.push(0xc3); // ret
    f.resize(FUNCTION_BYTES, 0xcc); // int3
    f
}

/// A PE32+ executable with `functions` functions in `.text`, their `.pdata` and their unwind
/// information and global in `.data`.
pub fn image(functions: usize) -> Vec<u8> {
    let text_len = functions * FUNCTION_BYTES;
    let pdata_len = functions * 12;
    let pdata_rva = TEXT_RVA as usize + align(text_len, SECTION_ALIGN as usize);
    let data_rva = pdata_rva + align(pdata_len.max(1), SECTION_ALIGN as usize);
    let (unwind, global) = (data_rva as u32, data_rva as u32 + 16);
    let data_len = 32;
    let image_size = data_rva + align(data_len, SECTION_ALIGN as usize);

    let mut text = Vec::with_capacity(text_len);
    let mut pdata = Vec::with_capacity(pdata_len);
    for i in 0..functions {
        let rva = TEXT_RVA + (i * FUNCTION_BYTES) as u32;
        let next = if i + 1 < functions { rva + FUNCTION_BYTES as u32 } else { TEXT_RVA };
        text.extend_from_slice(&function(rva, global, next));
        for v in [rva, rva + FUNCTION_BYTES as u32 - 1, unwind] {
            pdata.extend_from_slice(&v.to_le_bytes());
        }
    }
    // UNWIND_INFO: version 1, prolog 4 bytes, one code: UWOP_ALLOC_SMALL 0x28 at offset 4.
    let mut data = vec![0x01, 0x04, 0x01, 0x00, 0x04, 0x42, 0x00, 0x00];
    data.resize(data_len, 0);

    let sections: [(&[u8; 8], usize, &[u8], u32); 3] = [
        (b".text\0\0\0", TEXT_RVA as usize, &text, 0x6000_0020),
        (b".pdata\0\0", pdata_rva, &pdata, 0x4000_0040),
        (b".data\0\0\0", data_rva, &data, 0xc000_0040),
    ];
    let headers = 0x400usize;
    let mut out = vec![0u8; headers];
    out[0..2].copy_from_slice(b"MZ");
    out[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    let mut h = Vec::new();
    h.extend_from_slice(b"PE\0\0");
    // COFF header: x64, 3 sections, optional header of 240 bytes, executable + large address aware.
    h.extend_from_slice(&0x8664u16.to_le_bytes());
    h.extend_from_slice(&3u16.to_le_bytes());
    h.extend_from_slice(&[0; 12]);
    h.extend_from_slice(&240u16.to_le_bytes());
    h.extend_from_slice(&0x0022u16.to_le_bytes());
    // Optional header (PE32+).
    let oh = h.len();
    h.extend_from_slice(&0x20bu16.to_le_bytes());
    h.extend_from_slice(&[14, 0]);
    h.extend_from_slice(&(align(text_len, FILE_ALIGN) as u32).to_le_bytes()); // SizeOfCode
    h.extend_from_slice(&((align(pdata_len, FILE_ALIGN) + FILE_ALIGN) as u32).to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&TEXT_RVA.to_le_bytes()); // AddressOfEntryPoint
    h.extend_from_slice(&TEXT_RVA.to_le_bytes()); // BaseOfCode
    h.extend_from_slice(&0x1_4000_0000u64.to_le_bytes()); // ImageBase
    h.extend_from_slice(&SECTION_ALIGN.to_le_bytes());
    h.extend_from_slice(&(FILE_ALIGN as u32).to_le_bytes());
    for v in [6u16, 0, 0, 0, 6, 0] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&0u32.to_le_bytes()); // Win32VersionValue
    h.extend_from_slice(&(image_size as u32).to_le_bytes());
    h.extend_from_slice(&(headers as u32).to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // CheckSum
    h.extend_from_slice(&3u16.to_le_bytes()); // console
    h.extend_from_slice(&0u16.to_le_bytes());
    for v in [0x10_0000u64, 0x1000, 0x10_0000, 0x1000] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&0u32.to_le_bytes()); // LoaderFlags
    h.extend_from_slice(&16u32.to_le_bytes());
    for d in 0..16 {
        let (rva, size) = if d == 3 { (pdata_rva as u32, pdata_len as u32) } else { (0, 0) };
        h.extend_from_slice(&rva.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
    }
    assert_eq!(h.len() - oh, 240);
    // Section table, then the sections' bytes.
    let mut file_off = headers;
    let mut bodies = Vec::new();
    for (name, rva, bytes, flags) in sections {
        let raw = align(bytes.len(), FILE_ALIGN);
        h.extend_from_slice(name);
        h.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        h.extend_from_slice(&(rva as u32).to_le_bytes());
        h.extend_from_slice(&(raw as u32).to_le_bytes());
        h.extend_from_slice(&(if raw == 0 { 0 } else { file_off } as u32).to_le_bytes());
        h.extend_from_slice(&[0; 12]);
        h.extend_from_slice(&flags.to_le_bytes());
        let mut b = bytes.to_vec();
        b.resize(raw, 0);
        bodies.push(b);
        file_off += raw;
    }
    out[0x40..0x40 + h.len()].copy_from_slice(&h);
    for b in bodies {
        out.extend_from_slice(&b);
    }
    out
}
