//! The hex view's search bar: a hex pattern with `??` wildcards, text or UTF-16 text; every hit
//! listed, stepped through forward and back (Enter, the arrows), each selected and scrolled to.
//! Ctrl+F in the hex view focuses it.

use eframe::egui;

use crate::analysis::search::{self, SearchKind};
use crate::gui::action::Action;
use crate::model::Span;

use super::ViewCtx;

/// Hits listed at most.
pub const MAX_HITS: usize = 100_000;

/// What a search found (kept in the document's hex state).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HexSearch {
    /// The query searched for, and how it was read.
    pub query: String,
    /// How it was read.
    pub kind: SearchKind,
    /// Its length in bytes.
    pub len: u64,
    /// File offsets of the hits, in order.
    pub hits: Vec<u64>,
    /// There were more than [`MAX_HITS`].
    pub truncated: bool,
    /// The hit shown.
    pub current: Option<usize>,
    /// Why the query is not a pattern.
    pub error: Option<String>,
}

/// What the search bar asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchAction {
    /// Search `data` for the query read as `kind`; show the first hit at or after the selection.
    Find(SearchKind, String),
    /// Show the next hit (or the previous), wrapping around.
    Step(bool),
    /// Show hit `usize`.
    Go(usize),
}

impl HexSearch {
    /// Apply `a` to the search over `data`; returns the bytes to show.
    pub fn apply(&mut self, a: SearchAction, data: &[u8], selection: Option<Span>) -> Option<Span> {
        match a {
            SearchAction::Find(kind, query) => {
                *self = HexSearch { kind, query: query.clone(), ..HexSearch::default() };
                match search::pattern(kind, &query) {
                    Ok(p) => {
                        self.len = p.len() as u64;
                        (self.hits, self.truncated) = search::find_all(data, &p, MAX_HITS);
                        let from = selection.map_or(0, |s| s.offset);
                        let first = self.hits.partition_point(|&h| h < from);
                        self.current = (!self.hits.is_empty()).then_some(first % self.hits.len().max(1));
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            SearchAction::Step(forward) => {
                let n = self.hits.len();
                if n > 0 {
                    self.current = Some(match (self.current, forward) {
                        (Some(c), true) => (c + 1) % n,
                        (Some(c), false) => (c + n - 1) % n,
                        (None, _) => 0,
                    });
                }
            }
            SearchAction::Go(k) => {
                if k < self.hits.len() {
                    self.current = Some(k);
                }
            }
        }
        self.current.and_then(|c| self.hits.get(c)).map(|&h| Span::new(h, self.len))
    }
}

/// The query being typed and its kind, until Find.
#[derive(Debug, Clone, Default)]
struct Draft {
    kind: SearchKind,
    text: String,
}

/// The id of the search field (Ctrl+F focuses it).
pub fn field_id(cx: &ViewCtx<'_>) -> egui::Id {
    egui::Id::unique(("hex-search", cx.doc.id.0))
}

/// Draw the search bar and, folded, the list of hits.
pub fn bar(ui: &mut egui::Ui, cx: &ViewCtx<'_>, actions: &mut Vec<Action>) {
    let st = &cx.doc.hex.search;
    let id = field_id(cx);
    let mut draft: Draft = ui.data(|d| d.get_temp(id.with("draft"))).unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Find");
        ui.label_inputs_by(label.id, |ui| {
            egui::ComboBox::from_id_salt(id.with("kind")).selected_text(draft.kind.label()).show_ui(ui, |ui| {
                for k in SearchKind::ALL {
                    ui.selectable_value(&mut draft.kind, k, k.label());
                }
            });
        });
        let hint = match draft.kind {
            SearchKind::Hex => "4d 5a ?? 00",
            SearchKind::Ascii | SearchKind::Utf16 => "text",
        };
        let edit = ui.add(egui::TextEdit::singleline(&mut draft.text).id(id).hint_text(hint).desired_width(200.0));
        if cx.focus_filter {
            edit.request_focus();
        }
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let same = st.query == draft.text && st.kind == draft.kind && st.error.is_none();
        if enter && same && !st.hits.is_empty() {
            let back = ui.input(|i| i.modifiers.shift);
            actions.push(Action::HexSearch(SearchAction::Step(!back)));
            edit.request_focus();
        } else if (enter || ui.button("Search").clicked()) && !draft.text.is_empty() {
            actions.push(Action::HexSearch(SearchAction::Find(draft.kind, draft.text.clone())));
            edit.request_focus();
        }
        let any = !st.hits.is_empty();
        if ui.add_enabled(any, egui::Button::new("◀")).on_hover_text("Previous hit (Shift+Enter)").clicked() {
            actions.push(Action::HexSearch(SearchAction::Step(false)));
        }
        if ui.add_enabled(any, egui::Button::new("▶")).on_hover_text("Next hit (Enter)").clicked() {
            actions.push(Action::HexSearch(SearchAction::Step(true)));
        }
        match (&st.error, st.current) {
            (Some(e), _) => {
                ui.colored_label(ui.visuals().warn_fg_color, e);
            }
            (None, Some(c)) => {
                let more = if st.truncated { "+" } else { "" };
                ui.label(format!("hit {} of {}{more}", c + 1, st.hits.len()));
            }
            (None, None) if !st.query.is_empty() => {
                ui.label("no hits");
            }
            _ => {}
        }
    });
    ui.data_mut(|d| d.insert_temp(id.with("draft"), draft));
    if st.hits.len() > 1 {
        egui::CollapsingHeader::new(format!("All {} hits", st.hits.len())).id_salt(id.with("list")).show(ui, |ui| {
            egui::ScrollArea::vertical().max_height(120.0).id_salt(id.with("scroll")).show_rows(
                ui,
                ui.text_style_height(&egui::TextStyle::Monospace),
                st.hits.len(),
                |ui, range| {
                    for k in range {
                        let text = egui::RichText::new(format!("{:#010x}", st.hits[k])).monospace();
                        if ui.selectable_label(st.current == Some(k), text).clicked() {
                            actions.push(Action::HexSearch(SearchAction::Go(k)));
                        }
                    }
                },
            );
        });
    }
}
