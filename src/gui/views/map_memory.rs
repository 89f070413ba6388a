//! The layout map's "memory vs file" lane, for an image linked to its memory in a process: every
//! range in which the memory differs from the file (the Verify view's latest explanation), one
//! box each, coloured by its cause (red: unexplained); clicking one selects its row.

use crate::gui::action::Target;
use crate::gui::document::{DocCore, TableId};
use crate::gui::theme;

use super::map::{Item, Lane};

/// Name of the lane.
pub const NAME: &str = "Memory vs file";

/// The lane of `core`, when it is linked to a process's memory and verified.
pub fn lane(core: &DocCore) -> Option<Lane> {
    let data = core.memory.as_ref()?.latest()?;
    let items = data
        .ranges()
        .enumerate()
        .map(|(row, r)| Item {
            start: r.rva,
            end: r.rva.saturating_add(r.len.max(1)),
            label: r.cause.name().to_string(),
            kind: theme::cause_kind(r.cause),
            target: Some(Target::Row(TableId::Verify, row)),
        })
        .collect();
    Some(Lane {
        name: NAME,
        help: "Where this module's memory in the process differs from its file, coloured by what wrote each range (relocation, IAT binding, pseudo-relocation, run-time write, …); red where nothing explains it. From the Verify view's latest run.",
        items,
    })
}
