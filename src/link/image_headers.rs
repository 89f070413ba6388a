//! The simulated image's headers: lld's DOS header and stub, the COFF header, the optional
//! header with the data directories found in the layout (exports, imports, exceptions, base
//! relocations, debug, TLS, IAT, delay imports), and the section table. The values the simulation does not
//! model (subsystem, stack sizes, versions) are lld's defaults: the headers are written so that
//! the image can be read and loaded, not compared.

use super::args::Machine;
use super::image::{Addresses, Inputs};
use super::layout::{align_up, Layout, Origin};
use super::resolve::{Def, World};
use crate::formats::coff::header::scn;

/// lld's DOS stub program (after the 64-byte DOS header).
const DOS_PROGRAM: [u8; 56] =
    *b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.$\0\0";

/// The VA of a symbol the linker defines, for those whose value the layout gives.
pub fn linker_symbol(w: &World, lay: &Layout, addr: &Addresses, name: &str) -> Option<u64> {
    let at = |rva: u64| Some(addr.base + rva);
    let chunk_named = |n: &str| lay.chunks.iter().find(|c| matches!(c.origin, Origin::Synthetic(_)) && c.name == n);
    let list = lay.chunks.iter().find(|c| c.origin == Origin::Synthetic("runtime pseudo-relocation list"));
    // GNU ld's script: `__rt_psrelocs_start` / `_end` around the `.rdata_runtime_pseudo_reloc`
    // inputs (kept last in `.rdata`), `__RUNTIME_PSEUDO_RELOC_LIST_END__ = .` after `.rdata`,
    // `__RUNTIME_PSEUDO_RELOC_LIST__` that minus the inputs' size.
    let gnu_list = || {
        let rdata = lay.sections.iter().find(|s| s.name == ".rdata")?;
        let end = rdata.rva + rdata.virtual_size;
        let mut inputs = lay
            .chunks
            .iter()
            .filter(|c| matches!(c.origin, Origin::Input(_)) && c.name == ".rdata_runtime_pseudo_reloc");
        let (lo, hi) = match inputs.next() {
            Some(first) => inputs.fold((first.rva, first.rva + first.size), |(lo, hi), c| (lo, hi.max(c.rva + c.size))),
            None => (end, end),
        };
        Some((lo, hi, end))
    };
    match name.trim_start_matches('_') {
        "ImageBase" | "image_base__" => Some(addr.base),
        "RUNTIME_PSEUDO_RELOC_LIST__" => match list {
            Some(c) => at(c.rva),
            None => gnu_list().and_then(|(lo, hi, end)| at(end - (hi - lo))),
        },
        "RUNTIME_PSEUDO_RELOC_LIST_END__" => match list {
            Some(c) => at(c.rva + c.size),
            None => gnu_list().and_then(|(_, _, end)| at(end)),
        },
        "rt_psrelocs_start" => gnu_list().and_then(|(lo, _, _)| at(lo)),
        "rt_psrelocs_end" => gnu_list().and_then(|(_, hi, _)| at(hi)),
        "CTOR_LIST__" => at(chunk_named("__CTOR_LIST__ head (-1)").or(chunk_named("__CTOR_LIST__ (LONG -1)"))?.rva),
        "DTOR_LIST__" => at(chunk_named("__DTOR_LIST__ head (-1)").or(chunk_named("__DTOR_LIST__ (LONG -1)"))?.rva),
        "section_alignment__" => Some(w.cfg.align),
        "file_alignment__" => Some(w.cfg.file_align),
        "dll__" => Some(u64::from(w.cfg.dll)),
        _ => None,
    }
}

/// Whether GNU ld's default script assigns `name` outright (not `PROVIDE`): its value is the
/// script's even when an object defines the symbol too (libgcc's `_ctors.o` defines
/// `__CTOR_LIST__`, the runtime's objects the pseudo-relocation list's bounds).
pub fn gnu_script_assigns(name: &str) -> bool {
    // The script names each as `__X` and `___X` (binutils' `pep.sc` / `pe.sc`), for both machines.
    let bare = name.strip_prefix("___").or_else(|| name.strip_prefix("__"));
    bare.is_some_and(|b| {
        !b.starts_with('_')
            && matches!(
                b,
                "CTOR_LIST__"
                    | "DTOR_LIST__"
                    | "RUNTIME_PSEUDO_RELOC_LIST__"
                    | "RUNTIME_PSEUDO_RELOC_LIST_END__"
                    | "rt_psrelocs_start"
                    | "rt_psrelocs_end"
            )
    })
}

/// The sixteen data directories, (RVA, size), from the layout.
pub fn directories(w: &World, lay: &Layout, addr: &Addresses) -> [(u64, u64); 16] {
    let mut d = [(0u64, 0u64); 16];
    // The span of the chunks `pick` accepts.
    let span = |pick: &dyn Fn(&super::layout::Chunk) -> bool| {
        let mut it = lay.chunks.iter().filter(|c| pick(c));
        let first = it.next()?;
        let (lo, hi) =
            it.fold((first.rva, first.rva + first.size), |(lo, hi), c| (lo.min(c.rva), hi.max(c.rva + c.size)));
        Some((lo, hi - lo))
    };
    let input = |c: &super::layout::Chunk, n: &str| matches!(c.origin, Origin::Input(_)) && c.name == n;
    let synthetic = |c: &super::layout::Chunk, what: &'static str| c.origin == Origin::Synthetic(what);
    let section = |n: &str| lay.sections.iter().find(|s| s.name == n).map(|s| (s.rva, s.virtual_size));
    d[0] = span(&|c| synthetic(c, "export table") || synthetic(c, "export directory"))
        .or_else(|| section(".edata"))
        .unwrap_or_default();
    d[1] = span(&|c| {
        input(c, ".idata$2")
            || (synthetic(c, "import tables") && c.name.starts_with("import directory"))
            || synthetic(c, "import directory terminator")
    })
    .unwrap_or_default();
    if w.cfg.flavor == super::Flavor::GnuLd {
        // bfd (`_bfd_XXi_final_link_postscript`): the import directory runs from the global
        // symbol `.idata$2` to `.idata$4`, the IAT from `.idata$5` to `.idata$6`, when objects
        // define them; else (`add_data_entry`) the import directory is the `.idata` section.
        let sym = |n: &str| match w.by_name.get(n).map(|g| &w.globals[g.0].def) {
            Some(Def::Regular { chunk, value, .. }) => addr.chunk_rva(*chunk).map(|r| r + value),
            _ => None,
        };
        match (sym(".idata$2"), sym(".idata$4")) {
            (Some(a), Some(b)) if b >= a => d[1] = (a, b - a),
            _ => d[1] = section(".idata").unwrap_or_default(),
        }
        if let (Some(a), Some(b)) = (sym(".idata$5"), sym(".idata$6")) {
            d[12] = (a, b.saturating_sub(a));
        }
    }
    d[3] = section(".pdata").unwrap_or_default();
    d[5] = span(&|c| synthetic(c, "base relocations")).unwrap_or_default();
    d[6] = span(&|c| synthetic(c, "debug directory")).unwrap_or_default();
    let x64 = w.machine == Machine::X64;
    let tls = w.by_name.get(if x64 { "_tls_used" } else { "__tls_used" }).map(|&g| &w.globals[g.0].def);
    if let Some(Def::Regular { chunk, value, .. }) = tls {
        if let Some(rva) = addr.chunk_rva(*chunk) {
            d[9] = (rva + value, if x64 { 0x28 } else { 0x18 });
        }
    }
    d[13] = span(&|c| synthetic(c, "delay-load imports") && c.name.starts_with("delay directory")).unwrap_or_default();
    d[12] = span(&|c| input(c, ".idata$5") || (synthetic(c, "import tables") && c.name.starts_with("IAT ")))
        .unwrap_or_default();
    // An empty directory is written as zeros.
    for e in &mut d {
        if e.1 == 0 {
            *e = (0, 0);
        }
    }
    d
}

/// Write the headers into the first `SizeOfHeaders` bytes of `out`. `Err`: they do not fit.
pub fn write(out: &mut [u8], w: &World, lay: &Layout, inp: &Inputs, dirs: &[(u64, u64); 16]) -> Result<(), String> {
    let x64 = w.machine == Machine::X64;
    let opt_size: usize = if x64 { 240 } else { 224 };
    let e_lfanew = 64 + DOS_PROGRAM.len();
    // Empty output sections are not written.
    let sections: Vec<&super::layout::OutSection> = lay.sections.iter().filter(|s| s.virtual_size > 0).collect();
    let need = e_lfanew + 4 + 20 + opt_size + 40 * sections.len();
    if need as u64 > lay.size_of_headers || out.len() < need {
        return Err(format!("the headers take {need} bytes, more than SizeOfHeaders ({})", lay.size_of_headers));
    }
    let mut h = Vec::with_capacity(need);
    // DOS header: e_magic, e_cblp, e_cp, e_crlc, e_cparhdr, …, e_lfarlc, …, e_lfanew.
    h.extend(b"MZ");
    for v in [e_lfanew as u16, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0x40] {
        h.extend(v.to_le_bytes());
    }
    h.resize(0x3c, 0);
    h.extend((e_lfanew as u32).to_le_bytes());
    h.extend(DOS_PROGRAM);
    h.extend(b"PE\0\0");
    let mut chars: u16 = 0x0002; // EXECUTABLE_IMAGE
    if x64 {
        chars |= 0x0020; // LARGE_ADDRESS_AWARE
    } else {
        chars |= 0x0100; // 32BIT_MACHINE
    }
    if w.cfg.dll {
        chars |= 0x2000;
    }
    if !w.cfg.relocatable {
        chars |= 0x0001; // RELOCS_STRIPPED
    }
    let machine: u16 = if x64 { 0x8664 } else { 0x14c };
    h.extend(machine.to_le_bytes());
    h.extend((sections.len() as u16).to_le_bytes());
    h.extend([0u8; 12]); // time stamp, symbol table, symbol count
    h.extend((opt_size as u16).to_le_bytes());
    h.extend(chars.to_le_bytes());
    // Optional header.
    let sum = |f: &dyn Fn(u32) -> bool| -> u32 {
        lay.sections.iter().filter(|s| f(s.characteristics)).map(|s| s.raw_size as u32).sum()
    };
    let code = sum(&|c| c & scn::CNT_CODE != 0);
    let init = sum(&|c| c & 0x40 != 0);
    let uninit: u32 = lay
        .sections
        .iter()
        .filter(|s| s.characteristics & scn::CNT_UNINIT != 0)
        .map(|s| align_up(s.virtual_size, w.cfg.file_align) as u32)
        .sum();
    let base_of_code = lay.sections.iter().find(|s| s.characteristics & scn::CNT_CODE != 0).map_or(0, |s| s.rva);
    let size_of_image = lay.sections.iter().map(|s| s.rva + s.virtual_size).max().unwrap_or(lay.size_of_headers);
    h.extend((if x64 { 0x20bu16 } else { 0x10b }).to_le_bytes());
    h.extend([14u8, 0]);
    for v in [code, init, uninit, inp.entry.unwrap_or(0) as u32, base_of_code as u32] {
        h.extend(v.to_le_bytes());
    }
    if x64 {
        h.extend(inp.image_base.to_le_bytes());
    } else {
        let base_of_data = lay.sections.iter().find(|s| s.characteristics & scn::CNT_CODE == 0).map_or(0, |s| s.rva);
        h.extend((base_of_data as u32).to_le_bytes());
        h.extend((inp.image_base as u32).to_le_bytes());
    }
    h.extend((w.cfg.align as u32).to_le_bytes());
    h.extend((w.cfg.file_align as u32).to_le_bytes());
    for v in [6u16, 0, 0, 0, 6, 0] {
        h.extend(v.to_le_bytes()); // OS, image and subsystem versions
    }
    h.extend(0u32.to_le_bytes()); // Win32VersionValue
    h.extend((align_up(size_of_image, w.cfg.align) as u32).to_le_bytes());
    h.extend((lay.size_of_headers as u32).to_le_bytes());
    h.extend(0u32.to_le_bytes()); // CheckSum
    h.extend(3u16.to_le_bytes()); // console
    let mut dll_chars: u16 = 0x0100; // NX_COMPAT
    if w.cfg.relocatable {
        dll_chars |= 0x0040 | if x64 { 0x0020 } else { 0 };
    }
    if !w.cfg.dll {
        dll_chars |= 0x8000; // TERMINAL_SERVER_AWARE
    }
    h.extend(dll_chars.to_le_bytes());
    for v in [0x10_0000u64, 0x1000, 0x10_0000, 0x1000] {
        if x64 {
            h.extend(v.to_le_bytes());
        } else {
            h.extend((v as u32).to_le_bytes());
        }
    }
    h.extend(0u32.to_le_bytes()); // LoaderFlags
    h.extend(16u32.to_le_bytes());
    for &(rva, size) in dirs {
        h.extend((rva as u32).to_le_bytes());
        h.extend((size as u32).to_le_bytes());
    }
    for s in sections {
        let mut name = [0u8; 8];
        let n = s.name.len().min(8);
        name[..n].copy_from_slice(&s.name.as_bytes()[..n]);
        h.extend(name);
        for v in [s.virtual_size, s.rva, s.raw_size, if s.raw_size > 0 { s.file_offset } else { 0 }] {
            h.extend((v as u32).to_le_bytes());
        }
        h.extend([0u8; 12]);
        h.extend(s.characteristics.to_le_bytes());
    }
    out[..h.len()].copy_from_slice(&h);
    Ok(())
}
