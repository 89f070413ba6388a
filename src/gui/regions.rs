//! Screen concerns of the structure index ([`crate::model::regions`]): the colour kind of each
//! region and the shade the hex view gives neighbouring fields.

pub use crate::model::index::import_name;
pub use crate::model::regions::{Described, Region, Regions, What};

use crate::model::Binary;

use super::theme::RefKind;

/// Colours of a region.
pub trait RegionKind {
    /// The colour kind of the region (cheap; used per byte by the hex view).
    fn kind(self) -> RefKind;
    /// The colour kind of the region, with the model at hand (OMF records and fields are
    /// coloured by record type; the type, length and checksum bytes as header).
    fn kind_in(self, bin: &Binary) -> RefKind;
    /// Which shade of its colour the hex view gives a leaf: neighbouring fields of an OMF record
    /// alternate by field number; other leaves by their position in file order (`leaf_index`).
    fn shade(self, leaf_index: usize) -> usize;
}

impl RegionKind for What {
    fn kind(self) -> RefKind {
        match self {
            What::HeaderGroup(_) | What::Field(..) | What::Rich => RefKind::Header,
            What::SectionHeader(_) | What::SectionBody(_) | What::SegmentHeader(_) => RefKind::Section,
            What::Symbol(_) => RefKind::Symbol,
            What::ImportDescriptor { .. } | What::IatSlot { .. } => RefKind::Import,
            What::ExportSlot(_) => RefKind::Export,
            What::BaseRelocBlock(_)
            | What::BaseRelocEntry(_)
            | What::BaseRelocSite(_)
            | What::Reloc(_)
            | What::RelocSite(_) => RefKind::Reloc,
            What::PseudoEntry(_) | What::PseudoSite(_) | What::PseudoList => RefKind::PseudoReloc,
            What::DataDirectory(_) | What::DebugEntry(_) => RefKind::DataDir,
            What::Overlay | What::Member(_) => RefKind::Other,
            // Cheap enough per byte: two bounds-checked lookups.
            What::OmfRecord(_) | What::OmfField(..) => RefKind::Other,
        }
    }

    fn kind_in(self, bin: &Binary) -> RefKind {
        match self {
            What::OmfRecord(r) => {
                bin.omf_records.get(r as usize).map_or(RefKind::Other, |rec| super::omf::record_kind(rec.record_type))
            }
            What::OmfField(r, f) => match bin.omf_records.get(r as usize) {
                Some(rec) => match rec.fields.get(f as usize) {
                    Some(field) if super::omf::is_envelope(rec, field.span) => RefKind::Header,
                    _ => super::omf::record_kind(rec.record_type),
                },
                None => RefKind::Other,
            },
            w => w.kind(),
        }
    }

    fn shade(self, leaf_index: usize) -> usize {
        match self {
            What::OmfField(_, f) => f as usize,
            _ => leaf_index,
        }
    }
}
