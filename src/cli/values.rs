//! The command line's names for the core's enums: `clap` stays in the CLI, the core only has
//! plain enums. Each value's name and help are what `--help` and the parser show.

use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::link::Flavor;
use crate::patch::SchemeKind;
use crate::report::refs::RefFilter;
use crate::report::Part;

/// A value with its help.
fn value(name: &'static str, help: &'static str) -> PossibleValue {
    PossibleValue::new(name).help(help)
}

/// `inspect --only`.
impl ValueEnum for Part {
    fn value_variants<'a>() -> &'a [Self] {
        &Part::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Part::Headers => value("headers", "File, optional and format headers"),
            Part::Sections => value("sections", "Sections"),
            Part::Segments => value("segments", "Segments (ELF program headers)"),
            Part::Symbols => value("symbols", "Symbols"),
            Part::Comdats => value("comdats", "COMDATs, ELF groups and link-order associations"),
            Part::Imports => value("imports", "Imports and delay imports"),
            Part::Exports => value("exports", "Exports"),
            Part::Basereloc => value("basereloc", "Base relocations"),
            Part::Relocs => value("relocs", "Object and dynamic relocations"),
            Part::PseudoRelocs => value("pseudo-relocs", "MinGW pseudo-relocations"),
            Part::Diagnostics => value("diagnostics", "Diagnostics"),
            Part::Records => value("records", "OMF records (with their decoded fields) and OMF fixups"),
            Part::Pdb => value("pdb", "The image's PDB (found beside it, or --pdb): publics and procedures"),
            Part::Contributions => value("contributions", "The PDB's section contributions (object of every byte)"),
        })
    }
}

/// `refs --only`.
impl ValueEnum for RefFilter {
    fn value_variants<'a>() -> &'a [Self] {
        &[RefFilter::Iat, RefFilter::Offset, RefFilter::RipRelative, RefFilter::Unreachable, RefFilter::Ambiguous]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            RefFilter::Iat => {
                value("iat", "Sites that reach an import (IAT / GOT slot, thunk, or through a pseudo-relocation)")
            }
            RefFilter::Offset => value("offset", "Sites with a non-zero offset into their import or symbol"),
            RefFilter::RipRelative => value("rip-relative", "RIP-relative sites"),
            RefFilter::Unreachable => {
                value("unreachable", "Fields that cannot reach their target once the DLLs are placed")
            }
            RefFilter::Ambiguous => {
                value("ambiguous", "Sites where the naive reading disagrees with the pseudo-relocation list")
            }
        })
    }
}

/// `patch --scheme`, `verify --scheme`: the names of [`SchemeKind::name`].
impl ValueEnum for SchemeKind {
    fn value_variants<'a>() -> &'a [Self] {
        &SchemeKind::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            SchemeKind::Mingw => "MinGW runtime pseudo-relocations (v1 and v2), as `_pei386_runtime_relocator`",
            SchemeKind::BaserelWalk => "The 2013 D proposal: redirect base-relocated pointers into the IAT",
            SchemeKind::Reldata => "D `.reldata` `{adr, symbolOff}` pairs (i386 only)",
            SchemeKind::Dllra => {
                "`_dllra_beg` / `_dllra_end` records (Win32 `{address, offset}`, Win64 `{rel, offset}`)"
            }
            SchemeKind::Elf => "ELF dynamic relocations as ld.so applies them",
        };
        Some(value(self.name(), help))
    }
}

/// `link --flavor`: the names of [`Flavor::name`] (the argument hides them in `--help`, whose
/// text lists them).
impl ValueEnum for Flavor {
    fn value_variants<'a>() -> &'a [Self] {
        &[Flavor::LldLink, Flavor::LldMingw, Flavor::GnuLd]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}
