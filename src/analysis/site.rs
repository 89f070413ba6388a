//! The values of the data-reference scan: a [`Site`] per place that references data, how it
//! addresses it ([`Mode`]), what it reaches ([`TargetKind`], import, symbol, offset), and the
//! [`Summary`] counts.

use serde::Serialize;

/// How a site encodes its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A memory operand relative to the next instruction (`[rip + disp32]`), or a PC-relative
    /// relocation in an object.
    RipRelative,
    /// An absolute memory operand with no register (`[disp32]`, `moffs`).
    Absolute,
    /// A base or index register plus a 32-bit displacement that is an address (`[eax*4 + table]`).
    AbsoluteIndexed,
    /// An immediate operand that is an address (`push offset x`, `mov rax, imm64`).
    Immediate,
    /// A pointer-sized field in data (or in code, outside any instruction) covered by a relocation.
    DataPointer,
}

impl Mode {
    /// Every mode, in summary order.
    pub const ALL: [Mode; 5] =
        [Mode::RipRelative, Mode::Absolute, Mode::AbsoluteIndexed, Mode::Immediate, Mode::DataPointer];
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::RipRelative => "rip-relative",
            Mode::Absolute => "absolute",
            Mode::AbsoluteIndexed => "absolute-indexed",
            Mode::Immediate => "immediate",
            Mode::DataPointer => "data-pointer",
        }
    }
}

/// What a site's target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// An import address table slot (or inside one).
    Iat,
    /// A `jmp [IAT]` thunk (`FF 25`).
    Thunk,
    /// The control-flow-guard check / dispatch pointers the load configuration names.
    CfgPointer,
    /// An ELF GOT slot bound at load time (`GLOB_DAT`, `JUMP_SLOT`): the IAT's counterpart.
    Got,
    /// An ELF object copied into the executable by a `COPY` relocation.
    Copy,
    /// A non-executable section.
    Data,
    /// An executable section.
    Code,
    /// The image headers.
    Header,
    /// Outside every section of the image.
    Outside,
    /// An undefined external symbol of an object (resolved at link or load time).
    External,
}

impl TargetKind {
    /// Every kind, in summary order.
    pub const ALL: [TargetKind; 10] = [
        TargetKind::Iat,
        TargetKind::Thunk,
        TargetKind::CfgPointer,
        TargetKind::Got,
        TargetKind::Copy,
        TargetKind::Data,
        TargetKind::Code,
        TargetKind::Header,
        TargetKind::Outside,
        TargetKind::External,
    ];
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Iat => "iat",
            TargetKind::Thunk => "thunk",
            TargetKind::CfgPointer => "cfg-pointer",
            TargetKind::Got => "got",
            TargetKind::Copy => "copy",
            TargetKind::Data => "data",
            TargetKind::Code => "code",
            TargetKind::Header => "header",
            TargetKind::Outside => "outside",
            TargetKind::External => "external",
        }
    }
}

/// The import a site reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportRef {
    /// A PE import: row of the flattened import list ([`crate::model::index::Index::imports`]).
    Row(u32),
    /// An object's `__imp_` or undefined symbol (position in `bin.symbols`).
    Symbol(u32),
    /// An ELF GOT slot (position in `elf.got_slots`).
    Got(u32),
    /// An ELF `COPY` relocation (position in `elf.copy_relocations`).
    Copy(u32),
}

/// The symbol nearest below a site's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymRef {
    /// Position in `bin.symbols`.
    Symbol(u32),
    /// Position in `bin.exports`.
    Export(u32),
}

/// One place that references data (or code) through an address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Site {
    /// Instruction start (or the field, for data pointers); section offset in objects.
    pub site_rva: u64,
    /// The bytes a patch rewrites start here.
    pub field_rva: u64,
    /// Width of the field in bits.
    pub width: u8,
    /// Length of the instruction (0 for data pointers).
    pub instr_len: u8,
    /// How the target is encoded.
    pub mode: Mode,
    /// Position of the section holding the site in `bin.sections`.
    pub section: u32,
    /// The address the field names at link time (VA in images; section offset in objects).
    pub target_va: u64,
    /// `target_va` minus the image base (`None` below the base; in objects, the offset in
    /// `target_section`).
    pub target_rva: Option<u64>,
    /// Objects: position of the section holding the target.
    pub target_section: Option<u32>,
    /// What the target is.
    pub target_kind: TargetKind,
    /// The import the site reaches: the IAT slot it names or, authoritative, the pseudo-relocation
    /// that covers it.
    pub import: Option<ImportRef>,
    /// What the naive reading of the address says (the IAT slot the target lands in), when it
    /// differs from `import`.
    pub naive_import: Option<ImportRef>,
    /// Nearest symbol or export at or below the target (same section).
    pub symbol: Option<SymRef>,
    /// Target minus the start of the import slot or symbol (`&arr[3]` → 12).
    pub offset: Option<i64>,
    /// Index in `bin.base_relocations` of the entry covering the field (PE).
    pub base_reloc: Option<u32>,
    /// Index in `bin.relocations` of the relocation covering the field (objects, ELF dynamic).
    pub reloc: Option<u32>,
    /// Index in `bin.pseudo_relocations.entries` of the item covering the field.
    pub pseudo_reloc: Option<u32>,
    /// The naive "slot + offset lands on slot X" reading disagrees with the pseudo-relocation list.
    pub ambiguous: bool,
    /// For fields narrower than a pointer: whether the value fits once the DLLs are placed
    /// (`None`: pointer-wide, or the DLL's place is unknown).
    pub reachable: Option<bool>,
    /// For fields narrower than a pointer: the value the field must hold after loading
    /// (RIP-relative: target minus the next instruction's address).
    pub distance: Option<i64>,
    /// A pseudo-relocated RIP-relative field whose new value the runtime accepts (it allows the
    /// unsigned range too) but that the CPU sign-extends to a different address: silently wrong.
    pub wraps: bool,
    /// Objects: the target is undefined external data, which needs an import fix-up at link or
    /// load time.
    pub needs_import_fixup: bool,
}

impl Site {
    /// What the site really reaches: an import's kind (IAT slot, GOT slot, copy, external
    /// symbol) when it reaches an import, through a pseudo-relocation or as import + offset,
    /// whatever slot or section the raw address lands on; else the kind of its target address.
    /// A `jmp [IAT]` thunk stays a thunk.
    pub fn reached_kind(&self) -> TargetKind {
        match (self.import, self.target_kind) {
            (None, k) | (Some(_), k @ (TargetKind::Iat | TargetKind::Thunk | TargetKind::Got | TargetKind::Copy)) => k,
            (Some(ImportRef::Row(_)), _) => TargetKind::Iat,
            (Some(ImportRef::Got(_)), _) => TargetKind::Got,
            (Some(ImportRef::Copy(_)), _) => TargetKind::Copy,
            (Some(ImportRef::Symbol(_)), _) => TargetKind::External,
        }
    }

    /// Whether the field reaches its target once the DLLs are placed, in one word; `None` where
    /// there is nothing to say (a pointer-wide field, or one that reaches inside its own image).
    pub fn reach(&self, pointer_bits: u8) -> Option<Reach> {
        if self.import.is_none() && self.reachable != Some(false) {
            return None;
        }
        match (self.reachable, self.distance) {
            (Some(true), Some(_)) if self.wraps => Some(Reach::Wraps),
            (Some(true), Some(_)) => Some(Reach::Ok),
            (Some(false), Some(_)) => Some(Reach::Out),
            _ if self.import.is_some() && self.width < pointer_bits && self.pseudo_reloc.is_some() => {
                Some(Reach::Unknown)
            }
            _ => None,
        }
    }
}

/// A site's reach in one word ([`Site::reach`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The value the field must hold fits it.
    Ok,
    /// It does not fit: the MinGW runtime aborts (a pseudo-relocated field), or the field cannot
    /// name its target.
    Out,
    /// The runtime accepts the value (its unsigned range), but the CPU sign-extends the
    /// displacement: the field silently reaches another address.
    Wraps,
    /// A narrow pseudo-relocated field reaching an import whose DLL's place is not known.
    Unknown,
}

impl Reach {
    /// Every reach, in display order.
    pub const ALL: [Reach; 4] = [Reach::Ok, Reach::Out, Reach::Wraps, Reach::Unknown];

    /// The word (`ok`, `out`, `wraps`, `unknown`).
    pub fn name(self) -> &'static str {
        match self {
            Reach::Ok => "ok",
            Reach::Out => "out",
            Reach::Wraps => "wraps",
            Reach::Unknown => "unknown",
        }
    }
}

/// Counts over a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Bytes of code decoded.
    pub code_bytes: u64,
    /// Instructions decoded.
    pub instructions: u64,
    /// Bytes that did not decode (skipped one at a time).
    pub invalid_bytes: u64,
    /// Bytes skipped to re-synchronise at a known instruction start or after data in code.
    pub resync_bytes: u64,
    /// Every RIP-relative memory operand decoded, whatever its target.
    pub rip_relative_operands: u64,
    /// `call [IAT slot]` instructions.
    pub iat_calls: u64,
    /// `jmp [IAT slot]` instructions (thunks included).
    pub iat_jumps: u64,
    /// Sites found.
    pub sites: u64,
    /// Sites per mode, in [`Mode::ALL`] order.
    pub by_mode: [u64; 5],
    /// Sites per target kind, in [`TargetKind::ALL`] order.
    pub by_target_kind: [u64; 10],
    /// Sites that reach an import.
    pub with_import: u64,
    /// Sites with a non-zero offset into their import or symbol.
    pub with_offset: u64,
    /// Fields that cannot reach their target once the DLLs are placed.
    pub unreachable: u64,
    /// Narrow fields reaching an import whose DLL's place is unknown.
    pub reach_unknown: u64,
    /// Sites where the naive reading disagrees with the pseudo-relocation list.
    pub ambiguous: u64,
    /// RIP-relative fields the runtime patches without complaint that then reach a wrong address.
    pub wraps: u64,
    /// Pseudo-relocation items that no decoded site covers (e.g. inside bytes that did not decode).
    pub pseudo_relocs_without_site: u64,
}

impl Summary {
    /// Count one site.
    pub fn add(&mut self, s: &Site) {
        self.sites += 1;
        // The enums are declared in `ALL` order.
        if let Some(c) = self.by_mode.get_mut(s.mode as usize) {
            *c += 1;
        }
        if let Some(c) = self.by_target_kind.get_mut(s.target_kind as usize) {
            *c += 1;
        }
        self.with_import += u64::from(s.import.is_some());
        self.with_offset += u64::from(s.offset.is_some_and(|o| o != 0) && (s.import.is_some() || s.symbol.is_some()));
        self.unreachable += u64::from(s.reachable == Some(false));
        self.ambiguous += u64::from(s.ambiguous);
        self.wraps += u64::from(s.wraps);
    }

    /// Add another worker's counts.
    pub fn merge(&mut self, o: &Summary) {
        self.code_bytes += o.code_bytes;
        self.instructions += o.instructions;
        self.invalid_bytes += o.invalid_bytes;
        self.resync_bytes += o.resync_bytes;
        self.rip_relative_operands += o.rip_relative_operands;
        self.iat_calls += o.iat_calls;
        self.iat_jumps += o.iat_jumps;
        self.sites += o.sites;
        for (a, b) in self.by_mode.iter_mut().zip(o.by_mode) {
            *a += b;
        }
        for (a, b) in self.by_target_kind.iter_mut().zip(o.by_target_kind) {
            *a += b;
        }
        self.with_import += o.with_import;
        self.with_offset += o.with_offset;
        self.unreachable += o.unreachable;
        self.reach_unknown += o.reach_unknown;
        self.ambiguous += o.ambiguous;
        self.wraps += o.wraps;
        self.pseudo_relocs_without_site += o.pseudo_relocs_without_site;
    }
}

/// Whether `value` passes the MinGW runtime's range check for a `bits`-wide field narrower than a
/// pointer: the union of the signed and unsigned ranges, `[-(2^(bits-1)), 2^bits - 1]`.
pub fn runtime_fits(value: i64, bits: u8) -> bool {
    if bits >= 64 {
        return true;
    }
    let max = (1i128 << bits) - 1;
    let min = -(1i128 << (bits - 1));
    (min..=max).contains(&i128::from(value))
}

/// Whether `value` fits a signed field of `bits` (the CPU's rule for a RIP-relative displacement).
pub fn signed_fits(value: i64, bits: u8) -> bool {
    if bits >= 64 {
        return true;
    }
    let lim = 1i128 << (bits - 1);
    (-lim..lim).contains(&i128::from(value))
}
