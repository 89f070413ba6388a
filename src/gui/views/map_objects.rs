//! The layout map's "Objects" lane: with a PDB loaded, each section contribution (the run of the
//! image one object's input section filled) as a box, coloured by its object, named in its
//! tooltip with its archive, output section and size; a click selects it in the Contributions
//! view.

use crate::gui::action::Target;
use crate::gui::document::{DocCore, TableId};
use crate::gui::theme::RefKind;
use crate::model::pdb::PdbContribution;

use super::map::{uses_rva, Item, Lane};

/// The lane's name.
pub const NAME: &str = "Objects";

/// What the lane shows.
const HELP: &str = "From the PDB: each run of the image one object's input section filled (a section contribution), coloured by the object. Click: the contribution in the Contributions view.";

/// The colour of an object: one of [`RefKind::OBJECT_COLORS`], by its module index in the DBI
/// stream (link order). So every contribution of one object has its colour, objects next to each
/// other in link order (whose contributions the linker lays out side by side) have different
/// ones, and two builds of one command line colour their objects alike.
pub fn color_of(module_index: u32) -> RefKind {
    RefKind::Object((module_index % u32::from(RefKind::OBJECT_COLORS)) as u8)
}

/// The object's file name: the last component of the module's stored path.
fn short(module: &str) -> &str {
    module.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or(module)
}

/// The Objects lane of `core`: None without a PDB, or for a map of file offsets.
pub fn lane(core: &DocCore) -> Option<Lane> {
    if !uses_rva(core) {
        return None;
    }
    let pdb = core.pdb.as_deref()?;
    let items: Vec<Item> = pdb
        .by_rva()
        .runs()
        .iter()
        .filter_map(|&(start, end, p)| {
            let c = pdb.contributions.get(p)?;
            Some(Item {
                start,
                end,
                label: short(c.module.as_deref().unwrap_or("")).to_string(),
                kind: color_of(c.module_index),
                target: Some(Target::Row(TableId::Contributions, p)),
            })
        })
        .collect();
    (!items.is_empty()).then_some(Lane { name: NAME, help: HELP, items })
}

/// The contribution an item of the Objects lane stands for.
fn contribution<'a>(core: &'a DocCore, item: &Item) -> Option<&'a PdbContribution> {
    match item.target {
        Some(Target::Row(TableId::Contributions, p)) => core.pdb.as_deref()?.contributions.get(p),
        _ => None,
    }
}

/// The tooltip of an item of the Objects lane: object, archive, output section, RVA and size.
/// None for items of other lanes.
pub fn tooltip(core: &DocCore, lane: &Lane, item: &Item) -> Option<String> {
    if lane.name != NAME {
        return None;
    }
    let c = contribution(core, item)?;
    let module = c.module.as_deref().unwrap_or("(no module)");
    let archive = match c.archive.as_deref() {
        Some(a) if a != module && !a.is_empty() => format!("\narchive {a}"),
        _ => String::new(),
    };
    let section = usize::from(c.section)
        .checked_sub(1)
        .and_then(|i| core.bin.sections.get(i))
        .map_or_else(|| format!("#{}", c.section), |s| s.name.clone());
    let clipped = if item.end - item.start != u64::from(c.size) {
        format!(" ({:#x} of them here: another contribution overlaps)", item.end - item.start)
    } else {
        String::new()
    };
    Some(format!(
        "Object {module}{archive}\nsection {section}, RVA {:#x} – {:#x}, {:#x} bytes{clipped}\ninput section characteristics {:#010x}, data CRC {:#010x}\nClick: the contribution in the Contributions view.",
        item.start, item.end, c.size, c.characteristics, c.data_crc
    ))
}
