//! The one table widget every list view uses: virtualised rows (`egui_extras` `body.rows`, so only
//! visible rows are built), a text filter (Ctrl+F) optionally limited to one column, facets,
//! sortable columns, row selection, copy of cells and rows, and export.
//!
//! A view describes its rows with a [`TableModel`]; the filtered and sorted order is computed in
//! [`super::App::apply`] (on a worker thread for big tables) and kept in [`TableState`].

use std::cell::Cell as StdCell;
use std::sync::Arc;

use eframe::egui::{self, RichText};
use egui_extras::{Column as EColumn, TableBuilder};

use crate::model::{Severity, Span};

use super::action::{Action, ExportFormat, TableAction};
use super::document::TableId;
use super::theme::{self, RefKind};

/// Tables with more rows than this are filtered and sorted on a worker thread.
pub const SYNC_ORDER_LIMIT: usize = 50_000;

/// A column of a table model.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Header text.
    pub name: &'static str,
    /// Initial width in points.
    pub width: f32,
    /// Whether the column holds numbers (sorts numerically, right-aligned feel).
    pub numeric: bool,
    /// Tooltip for the header, explaining the column.
    pub help: &'static str,
}

impl Column {
    /// A text column.
    pub const fn text(name: &'static str, width: f32, help: &'static str) -> Self {
        Column { name, width, numeric: false, help }
    }
    /// A numeric column.
    pub const fn num(name: &'static str, width: f32, help: &'static str) -> Self {
        Column { name, width, numeric: true, help }
    }
}

/// A table's columns as an enum, so views name a column instead of numbering it. The order of
/// [`ColumnEnum::ALL`] is the table's column order; declare one with [`columns!`], which writes
/// the variants, their order and their [`Column`] descriptors once.
pub trait ColumnEnum: Copy + 'static {
    /// Every column, in table order.
    const ALL: &'static [Self];
    /// The descriptor of each column, in the same order.
    const COLUMNS: &'static [Column];
    /// The column at position `i` (the number the table framework passes).
    fn from_index(i: usize) -> Option<Self> {
        Self::ALL.get(i).copied()
    }
    /// Position of the column in the table.
    fn index(self) -> usize;
}

/// The columns of one layout of a table whose columns depend on the document (the Sections
/// table): which columns, and how each is drawn, in table order. Declare one with
/// `columns!(@set Enum; Variant => descriptor, …)`.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSet<C: 'static> {
    /// The columns, in table order.
    pub ids: &'static [C],
    /// The descriptor of each, in the same order.
    pub columns: &'static [Column],
}

impl<C: Copy> ColumnSet<C> {
    /// The column at position `i`.
    pub fn get(&self, i: usize) -> Option<C> {
        self.ids.get(i).copied()
    }
}

/// Declare a column enum (`enum Col { Variant => descriptor, … }`: the enum, and its
/// [`ColumnEnum`] impl with `ALL` and `COLUMNS` in that order), or, with `@set Enum; Variant =>
/// descriptor, …`, a [`ColumnSet`] of an existing enum.
macro_rules! columns {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($var:ident => $col:expr),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $(
                #[allow(missing_docs)]
                $var
            ),+
        }
        impl $crate::gui::table::ColumnEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$var),+];
            const COLUMNS: &'static [$crate::gui::table::Column] = &[$($col),+];
            fn index(self) -> usize {
                self as usize
            }
        }
    };
    (@set $name:ident; $($var:ident => $col:expr),+ $(,)?) => {
        $crate::gui::table::ColumnSet { ids: &[$($name::$var),+], columns: &[$($col),+] }
    };
}
pub(crate) use columns;

/// How a cell is coloured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tone {
    /// Ordinary text.
    Plain,
    /// Coloured as a kind of reference.
    Kind(RefKind),
    /// Coloured as a diagnostic severity.
    Severity(Severity),
    /// De-emphasised.
    Weak,
    /// Coloured as a data-reference site of this mode.
    Site(crate::analysis::Mode),
}

/// One cell as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The text (also what is copied and exported).
    pub text: String,
    /// Colour.
    pub tone: Tone,
    /// Monospace font (addresses, numbers, bytes).
    pub mono: bool,
    /// Clicking the text does this.
    pub link: Option<Action>,
    /// Hover text.
    pub tooltip: Option<String>,
}

impl Cell {
    /// Plain proportional text.
    pub fn plain(text: impl Into<String>) -> Self {
        Cell { text: text.into(), tone: Tone::Plain, mono: false, link: None, tooltip: None }
    }
    /// Monospace text.
    pub fn mono(text: impl Into<String>) -> Self {
        Cell { mono: true, ..Cell::plain(text) }
    }
    /// A monospace link coloured as `kind`.
    pub fn link(text: impl Into<String>, kind: RefKind, action: Action) -> Self {
        Cell { text: text.into(), tone: Tone::Kind(kind), mono: true, link: Some(action), tooltip: None }
    }
    /// Set the tone.
    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }
    /// Set the hover text.
    pub fn tip(mut self, tip: impl Into<String>) -> Self {
        self.tooltip = Some(tip.into());
        self
    }
}

/// A filter on the exact value of one column ([`TableModel::facet_text`]: the cell's text unless
/// the model says otherwise), with the values to choose from.
#[derive(Debug, Clone)]
pub struct Facet {
    /// Label in the toolbar.
    pub name: &'static str,
    /// Column whose text is compared.
    pub col: usize,
    /// Values present.
    pub options: Vec<String>,
}

impl Facet {
    /// A facet on column `col`.
    pub fn new(name: &'static str, col: impl ColumnEnum, options: Vec<String>) -> Self {
        Facet { name, col: col.index(), options }
    }

    /// A facet on column `col` offering every non-empty text the model's rows hold there, in
    /// the order first met.
    pub fn distinct(name: &'static str, col: impl ColumnEnum, model: &dyn TableModel) -> Self {
        let c = col.index();
        let mut seen = std::collections::HashSet::new();
        let options = (0..model.len())
            .map(|row| model.text(row, c))
            .filter(|t| !t.is_empty() && seen.insert(t.clone()))
            .collect();
        Facet { name, col: c, options }
    }

    /// A [`Facet::distinct`] for each `(name, column)`.
    pub fn each_distinct<C: ColumnEnum>(columns: &[(&'static str, C)], model: &dyn TableModel) -> Vec<Self> {
        columns.iter().map(|&(name, col)| Facet::distinct(name, col, model)).collect()
    }
}

/// Sort key of a cell: missing values first, then numbers, then text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    /// No value.
    Missing,
    /// A number.
    Num(i128),
    /// Text, lower-cased.
    Text(String),
}

/// Rows of a table, produced on demand (only visible rows are asked for).
pub trait TableModel {
    /// The columns.
    fn columns(&self) -> &'static [Column];
    /// Number of rows.
    fn len(&self) -> usize;
    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Plain text of a cell (filter, copy, export).
    fn text(&self, row: usize, col: usize) -> String;
    /// The cell as drawn (default: plain text, monospace for numeric columns).
    fn cell(&self, row: usize, col: usize) -> Cell {
        let text = self.text(row, col);
        if self.columns().get(col).is_some_and(|c| c.numeric) {
            Cell::mono(text)
        } else {
            Cell::plain(text)
        }
    }
    /// Sort key of a cell (default: parsed from the text).
    fn sort_key(&self, row: usize, col: usize) -> SortKey {
        let text = self.text(row, col);
        if self.columns().get(col).is_some_and(|c| c.numeric) {
            parse_num(&text).map_or(SortKey::Missing, SortKey::Num)
        } else {
            SortKey::Text(text.to_lowercase())
        }
    }
    /// The bytes of a row's own record, highlighted when the row is selected.
    fn row_span(&self, _row: usize) -> Option<Span> {
        None
    }
    /// What double-clicking a row does.
    fn activate(&self, _row: usize) -> Option<Action> {
        None
    }
    /// Hover text of a whole row.
    fn row_tooltip(&self, _row: usize) -> Option<String> {
        None
    }
    /// What "References to this" on a cell lists the references to (`None`: not offered).
    fn refs_to(&self, _row: usize, _col: usize) -> Option<crate::gui::xrefs::RefsTo> {
        None
    }
    /// Facets offered in the toolbar.
    fn facets(&self) -> Vec<Facet> {
        Vec::new()
    }
    /// The value a facet on column `col` compares (default: the cell's text). A model answers
    /// here when the fact a facet filters by is not the text the column shows.
    fn facet_text(&self, row: usize, col: usize) -> String {
        self.text(row, col)
    }
}

/// Parse `0x…`, `-0x…`, `+0x…`, `rva 0x…` or a decimal number.
pub fn parse_num(text: &str) -> Option<i128> {
    let t = text.trim();
    let t = t.strip_prefix("rva ").unwrap_or(t);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let t = t.split_whitespace().next()?;
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()?
    } else {
        t.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// What the order of a table depends on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderSpec {
    /// Lower-cased filter text.
    pub filter: String,
    /// Column the filter is limited to.
    pub filter_col: Option<usize>,
    /// `(column, value)` pairs that must match exactly.
    pub facets: Vec<(usize, String)>,
    /// Sort column and direction (true: ascending).
    pub sort: Option<(usize, bool)>,
}

impl OrderSpec {
    /// Whether the order is simply all rows in model order.
    pub fn is_identity(&self) -> bool {
        self.filter.is_empty() && self.facets.is_empty() && self.sort.is_none()
    }
}

/// Case-insensitive (ASCII) substring test; `needle` must already be lower-case.
fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return false;
    }
    h.windows(n.len()).any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// The rows (model indices) to show, in display order.
pub fn compute_order(model: &dyn TableModel, spec: &OrderSpec, cancel: &dyn Fn() -> bool) -> Option<Vec<u32>> {
    let n = model.len();
    let ncols = model.columns().len();
    let mut rows: Vec<u32> = Vec::with_capacity(if spec.filter.is_empty() && spec.facets.is_empty() { n } else { 0 });
    for row in 0..n {
        if row % 65_536 == 0 && cancel() {
            return None;
        }
        if !spec.facets.iter().all(|(col, v)| model.facet_text(row, *col) == *v) {
            continue;
        }
        if !spec.filter.is_empty() {
            let hit = match spec.filter_col {
                Some(c) => contains_ci(&model.text(row, c), &spec.filter),
                None => (0..ncols).any(|c| contains_ci(&model.text(row, c), &spec.filter)),
            };
            if !hit {
                continue;
            }
        }
        rows.push(row as u32);
    }
    if let Some((col, asc)) = spec.sort {
        let mut keyed: Vec<(SortKey, u32)> = Vec::with_capacity(rows.len());
        for (i, &r) in rows.iter().enumerate() {
            if i % 65_536 == 0 && cancel() {
                return None;
            }
            keyed.push((model.sort_key(r as usize, col), r));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        if !asc {
            keyed.reverse();
        }
        rows = keyed.into_iter().map(|(_, r)| r).collect();
    }
    Some(rows)
}

/// An order being computed on a worker thread.
#[derive(Debug)]
pub struct PendingOrder {
    /// Generation it was started for.
    pub generation: u64,
    /// The job (cancelled when its result is no longer wanted).
    pub job: crate::session::Job<Option<Vec<u32>>>,
}

/// Filter, sort, selection and scroll state of one table.
#[derive(Debug, Default)]
pub struct TableState {
    /// Filter text as typed.
    pub filter: String,
    /// Column the filter is limited to.
    pub filter_col: Option<usize>,
    /// Facet values by facet position.
    pub facets: Vec<Option<String>>,
    /// Sort column and direction (true: ascending).
    pub sort: Option<(usize, bool)>,
    /// Display order; `None` is every row in model order.
    pub order: Option<Arc<Vec<u32>>>,
    /// Order being computed.
    pub pending: Option<PendingOrder>,
    /// Bumped whenever the spec changes, so stale results are dropped.
    pub generation: u64,
    /// Selected row (model index).
    pub selected: Option<usize>,
    /// One-shot request to scroll to a row (model index).
    pub scroll_to: StdCell<Option<usize>>,
}

impl TableState {
    /// The spec the order depends on; facets are resolved against `facets`.
    pub fn spec(&self, facets: &[Facet]) -> OrderSpec {
        OrderSpec {
            filter: self.filter.trim().to_ascii_lowercase(),
            filter_col: self.filter_col,
            facets: self
                .facets
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((facets.get(i)?.col, v.clone()?)))
                .collect(),
            sort: self.sort,
        }
    }

    /// Number of rows shown, given the model's row count.
    pub fn shown(&self, model_len: usize) -> usize {
        self.order.as_ref().map_or(model_len, |o| o.len())
    }

    /// Model row at display position `pos`.
    pub fn row_at(&self, pos: usize) -> Option<usize> {
        match &self.order {
            None => Some(pos),
            Some(o) => o.get(pos).map(|&r| r as usize),
        }
    }

    /// Display position of model row `row`, if shown.
    pub fn position_of(&self, row: usize, model_len: usize) -> Option<usize> {
        match &self.order {
            None => (row < model_len).then_some(row),
            Some(o) => o.iter().position(|&r| r as usize == row),
        }
    }
}

/// Id of a table's filter text field (so Ctrl+F can focus it).
pub fn filter_id(t: TableId) -> egui::Id {
    egui::Id::unique(("linkscope-filter", t.name()))
}

/// Tab-separated text of a whole row.
pub fn row_text(model: &dyn TableModel, row: usize) -> String {
    (0..model.columns().len()).map(|c| model.text(row, c)).collect::<Vec<_>>().join("\t")
}

/// Draw the toolbar (filter, facets, row count, export) and the table itself.
pub fn show(ui: &mut egui::Ui, t: TableId, model: &dyn TableModel, state: &TableState, actions: &mut Vec<Action>) {
    toolbar(ui, t, model, state, actions);
    ui.add_space(2.0);
    if let Some(row) = state.selected.filter(|&r| r < model.len()) {
        egui::Panel::bottom(egui::Id::unique(("row-details", t.name())))
            .resizable(true)
            // A share of the room, so the table keeps most of a small window.
            .default_size((ui.available_height() * 0.22).clamp(60.0, 150.0))
            .size_range(48.0..=400.0)
            .show(ui, |ui| details(ui, t, model, row, actions));
    }
    body(ui, t, model, state, actions);
}

/// The selected row in full: every column's text wrapped (a cell may be cut off in the table),
/// and the row's explanation; links work here too.
fn details(ui: &mut egui::Ui, t: TableId, model: &dyn TableModel, row: usize, actions: &mut Vec<Action>) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.strong(format!("Row {row}"));
        ui.weak("in full (the selected row; drag the edge above to resize)");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("Deselect").on_hover_text("Deselect the row and close these details").clicked() {
                actions.push(Action::Table(t, TableAction::Select(None)));
            }
        });
    });
    let visuals = ui.visuals().clone();
    let cells: Vec<(usize, Cell)> =
        (0..model.columns().len()).map(|c| (c, model.cell(row, c))).filter(|(_, cell)| !cell.text.is_empty()).collect();
    let field = |ui: &mut egui::Ui, c: usize, cell: &Cell, actions: &mut Vec<Action>| {
        let col = &model.columns()[c];
        ui.label(RichText::new(format!("{}:", col.name)).color(visuals.weak_text_color())).on_hover_text(col.help);
        let rt = cell_text(cell, &visuals);
        match &cell.link {
            Some(link) => {
                if ui.add(egui::Link::new(rt)).clicked() {
                    actions.push(link.clone());
                }
            }
            None => {
                ui.add(egui::Label::new(rt).wrap());
            }
        }
    };
    egui::ScrollArea::vertical().id_salt(("row-details-scroll", t.name())).auto_shrink(false).show(ui, |ui| {
        // Short values side by side, long ones (reasons, notes, instructions) each on a line.
        ui.horizontal_wrapped(|ui| {
            for (c, cell) in cells.iter().filter(|(_, cell)| cell.text.chars().count() <= 40) {
                field(ui, *c, cell, actions);
                ui.add_space(10.0);
            }
        });
        for (c, cell) in cells.iter().filter(|(_, cell)| cell.text.chars().count() > 40) {
            ui.horizontal_wrapped(|ui| field(ui, *c, cell, actions));
        }
        if let Some(tip) = model.row_tooltip(row) {
            ui.add_space(4.0);
            ui.add(egui::Label::new(RichText::new(tip).color(visuals.weak_text_color())).wrap());
        }
    });
}

fn toolbar(ui: &mut egui::Ui, t: TableId, model: &dyn TableModel, state: &TableState, actions: &mut Vec<Action>) {
    let columns = model.columns();
    ui.horizontal_wrapped(|ui| {
        let mut text = state.filter.clone();
        let edit =
            egui::TextEdit::singleline(&mut text).id(filter_id(t)).hint_text("Filter (Ctrl+F)").desired_width(180.0);
        if ui.add(edit).changed() {
            actions.push(Action::Table(t, TableAction::Filter(text)));
        }
        let col_name = state.filter_col.and_then(|c| columns.get(c)).map_or("all columns", |c| c.name);
        let label = ui.label("in");
        ui.label_inputs_by(label.id, |ui| {
            egui::ComboBox::from_id_salt(("filter-col", t.name())).selected_text(col_name).show_ui(ui, |ui| {
                if ui.selectable_label(state.filter_col.is_none(), "all columns").clicked() {
                    actions.push(Action::Table(t, TableAction::FilterColumn(None)));
                }
                for (i, c) in columns.iter().enumerate() {
                    if ui.selectable_label(state.filter_col == Some(i), c.name).clicked() {
                        actions.push(Action::Table(t, TableAction::FilterColumn(Some(i))));
                    }
                }
            });
        });
        for (i, facet) in model.facets().iter().enumerate() {
            let current = state.facets.get(i).cloned().flatten();
            let label = ui.label(format!("{}:", facet.name));
            ui.label_inputs_by(label.id, |ui| {
                egui::ComboBox::from_id_salt(("facet", t.name(), i))
                    .selected_text(current.clone().unwrap_or_else(|| "any".into()))
                    .show_ui(ui, |ui| {
                        if ui.selectable_label(current.is_none(), "any").clicked() {
                            actions.push(Action::Table(t, TableAction::Facet(i, None)));
                        }
                        for opt in &facet.options {
                            if ui.selectable_label(current.as_deref() == Some(opt.as_str()), opt).clicked() {
                                actions.push(Action::Table(t, TableAction::Facet(i, Some(opt.clone()))));
                            }
                        }
                    });
            });
        }
        let total = model.len();
        let shown = state.shown(total);
        if state.pending.is_some() {
            ui.spinner();
            ui.weak("filtering…");
        } else if shown == total {
            ui.weak(format!("{total} {}", if total == 1 { "row" } else { "rows" }));
        } else {
            ui.weak(format!("{shown} of {total} rows"));
        }
        // In the flow (not right-aligned): on a narrow window it wraps instead of overlapping.
        ui.separator();
        ui.weak("Export:");
        if ui.button("CSV").on_hover_text("Export the rows shown to a CSV file").clicked() {
            actions.push(Action::ShowExport(Some((t, ExportFormat::Csv))));
        }
        if ui.button("JSON").on_hover_text("Export the rows shown to a JSON file").clicked() {
            actions.push(Action::ShowExport(Some((t, ExportFormat::Json))));
        }
    });
}

fn cell_text(cell: &Cell, visuals: &egui::Visuals) -> RichText {
    let mut rt = RichText::new(cell.text.as_str());
    if cell.mono {
        rt = rt.monospace();
    }
    match cell.tone {
        Tone::Plain => rt,
        Tone::Kind(k) => rt.color(k.color(visuals)),
        Tone::Severity(s) => rt.color(theme::severity_color(s, visuals)),
        Tone::Weak => rt.color(visuals.weak_text_color()),
        Tone::Site(m) => rt.color(theme::mode_color(m, visuals)),
    }
}

fn body(ui: &mut egui::Ui, t: TableId, model: &dyn TableModel, state: &TableState, actions: &mut Vec<Action>) {
    let columns = model.columns();
    if model.is_empty() {
        return;
    }
    let row_height =
        ui.text_style_height(&egui::TextStyle::Body).max(ui.text_style_height(&egui::TextStyle::Monospace)) + 4.0;
    let ui_height = ui.available_height();
    // Columns keep their widths (resized ones are remembered with the table's id); when they
    // need more room than there is, the table scrolls sideways instead of squeezing the last
    // column, and the last (widest, text) column takes whatever room is left otherwise.
    let wanted: f32 = columns.iter().map(|c| c.width + 8.0).sum();
    let fits = wanted <= ui.available_width();
    egui::ScrollArea::horizontal().id_salt(("table-h", t.name())).auto_shrink([false, true]).show(ui, |ui| {
        table_body(ui, t, model, state, actions, (row_height, ui_height, fits));
    });
}

/// The table itself (inside [`body`]'s horizontal scroll area).
fn table_body(
    ui: &mut egui::Ui,
    t: TableId,
    model: &dyn TableModel,
    state: &TableState,
    actions: &mut Vec<Action>,
    (row_height, ui_height, fits): (f32, f32, bool),
) {
    let columns = model.columns();
    let total = model.len();
    let shown = state.shown(total);
    let visuals = ui.visuals().clone();
    let (ctx, outer) = (ui.ctx().clone(), ui.clip_rect());
    let mut builder = TableBuilder::new(ui)
        .id_salt(("table", t.name()))
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .animate_scrolling(false)
        // Fit the space given (a table may share its view with a details pane).
        .min_scrolled_height(0.0)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
    for (i, c) in columns.iter().enumerate() {
        let col = if i + 1 == columns.len() && fits {
            EColumn::remainder().at_least(c.width.min(120.0))
        } else {
            EColumn::initial(c.width).at_least(24.0)
        };
        builder = builder.column(col.clip(true));
    }
    if let Some(row) = state.scroll_to.take() {
        if let Some(pos) = state.position_of(row, total) {
            // Centre the row, except near the end where centring would scroll past the last row
            // (the scroll area then springs back over many frames).
            let visible = (ui_height / (row_height + 4.0)).max(1.0) as usize;
            let align = (pos + visible / 2 < shown).then_some(egui::Align::Center);
            builder = builder.scroll_to_row(pos, align);
        }
    }
    builder
        .header(row_height + 2.0, |mut header| {
            for (i, c) in columns.iter().enumerate() {
                header.col(|ui| {
                    let arrow = match state.sort {
                        Some((col, true)) if col == i => " ▲",
                        Some((col, false)) if col == i => " ▼",
                        _ => "",
                    };
                    let resp = ui
                        .add(egui::Button::new(RichText::new(format!("{}{arrow}", c.name)).strong()).frame(false))
                        .on_hover_text(format!("{}\n\nClick to sort.", c.help));
                    if resp.clicked() {
                        actions.push(Action::Table(t, TableAction::SortBy(i)));
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_height, shown, |mut row| {
                let Some(model_row) = state.row_at(row.index()) else { return };
                let has_span = model.row_span(model_row).is_some();
                row.set_selected(state.selected == Some(model_row));
                // Where the table's body shows rows (for the tour's highlight of a row).
                let mut clip = egui::Rect::NOTHING;
                for c in 0..columns.len() {
                    let cell = model.cell(model_row, c);
                    let (_, resp) = row.col(|ui| {
                        if c == 0 {
                            clip = ui.clip_rect();
                        }
                        let rt = cell_text(&cell, &visuals);
                        let r = if let Some(link) = &cell.link {
                            let r = ui.add(egui::Link::new(rt));
                            super::tour::mark(ui, &r, || super::tour::Widget::Cell(t, model_row, c));
                            if r.clicked() {
                                actions.push(link.clone());
                            }
                            r
                        } else {
                            ui.add(egui::Label::new(rt).truncate())
                        };
                        if let Some(tip) = &cell.tooltip {
                            r.on_hover_text(tip.as_str());
                        }
                    });
                    resp.context_menu(|ui| {
                        if ui.button("Copy cell").clicked() {
                            actions.push(Action::Copy(cell.text.clone()));
                        }
                        if ui.button("Copy row").clicked() {
                            actions.push(Action::Table(t, TableAction::CopyRow(model_row)));
                        }
                        if has_span && ui.button("Copy address").on_hover_text("The VA of the row's bytes (a file offset where the file is not mapped), in the notation Go to takes").clicked() {
                            actions.push(Action::Table(t, TableAction::CopyAddress(model_row)));
                        }
                        if let Some(link) = &cell.link {
                            if ui.button("Follow link").clicked() {
                                actions.push(link.clone());
                            }
                        }
                        if let Some(to) = model.refs_to(model_row, c) {
                            if ui.button("References to this").on_hover_text("The data references that reach it, in a panel").clicked() {
                                actions.push(Action::ShowRefs(to));
                            }
                        }
                    });
                }
                let resp = row.response();
                let clip = egui::Rect::from_x_y_ranges(outer.x_range(), clip.y_range());
                super::tour::mark_in(&ctx, clip, &resp, || super::tour::Widget::Row(t, model_row));
                if resp.double_clicked() {
                    if let Some(a) = model.activate(model_row) {
                        actions.push(a);
                    }
                } else if resp.clicked() {
                    actions.push(Action::Table(t, TableAction::Select(Some(model_row))));
                }
                if let Some(tip) = model.row_tooltip(model_row) {
                    resp.on_hover_text(tip);
                }
            });
        });
}

/// Write `model`'s rows in `order` as CSV.
pub fn to_csv(model: &dyn TableModel, rows: impl Iterator<Item = usize>) -> String {
    fn esc(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let cols = model.columns();
    let mut out = cols.iter().map(|c| esc(c.name)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for r in rows {
        let line = (0..cols.len()).map(|c| esc(&model.text(r, c))).collect::<Vec<_>>().join(",");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Write `model`'s rows in `order` as a JSON array of objects keyed by column name.
pub fn to_json(model: &dyn TableModel, rows: impl Iterator<Item = usize>) -> String {
    let cols = model.columns();
    let arr: Vec<serde_json::Value> = rows
        .map(|r| {
            let mut obj = serde_json::Map::new();
            for (c, col) in cols.iter().enumerate() {
                obj.insert(col.name.to_string(), serde_json::Value::String(model.text(r, c)));
            }
            serde_json::Value::Object(obj)
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&arr).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// Muted fill used behind "nothing here" messages.
pub fn empty_note(ui: &mut egui::Ui, text: &str) {
    ui.add_space(12.0);
    ui.label(RichText::new(text).color(ui.visuals().weak_text_color()));
}
