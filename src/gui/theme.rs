//! Colours and text styles, defined once and reused by every view.
//!
//! Each kind of reference (section, symbol, import, …) has one colour in the light and one in the
//! dark theme, so a reader learns that "teal is an import" once and sees it everywhere: in tables,
//! in the layout map and as the byte tint in the hex view.

use eframe::egui::{self, Color32, RichText, Visuals};

use crate::model::Severity;

/// The kinds of things a link or a highlighted byte can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// A plain address (RVA, VA or file offset).
    Address,
    /// A header structure or field.
    Header,
    /// A section or segment.
    Section,
    /// A symbol.
    Symbol,
    /// An import (and its IAT slot).
    Import,
    /// An export.
    Export,
    /// A relocation (base, object or dynamic) and its site.
    Reloc,
    /// A MinGW pseudo-relocation and its site.
    PseudoReloc,
    /// A PE data directory.
    DataDir,
    /// A COMDAT section or group.
    Comdat,
    /// Anything else (strings, padding, unclassified bytes).
    Other,
    /// An object of the link (a PDB module): one of [`RefKind::OBJECT_COLORS`] colours, so
    /// neighbouring objects can be told apart.
    Object(u8),
    /// Bytes of a module's memory that nothing explains (a hook, a patch).
    Unexplained,
}

/// An RGB colour.
type Rgb = (u8, u8, u8);

/// The object colours (light theme, dark theme), hues spread around the wheel.
const OBJECT_PALETTE: [(Rgb, Rgb); RefKind::OBJECT_COLORS as usize] = [
    ((0x1f, 0x6f, 0xb4), (0x6f, 0xb1, 0xf0)),
    ((0xc0, 0x5a, 0x0a), (0xff, 0xa9, 0x5c)),
    ((0x2a, 0x8a, 0x2a), (0x86, 0xe0, 0x86)),
    ((0xb0, 0x26, 0x2d), (0xff, 0x8a, 0x8e)),
    ((0x74, 0x4d, 0xb0), (0xc3, 0xa6, 0xf5)),
    ((0x7a, 0x52, 0x3c), (0xd6, 0xad, 0x94)),
    ((0xb8, 0x3f, 0x97), (0xf7, 0x9c, 0xdc)),
    ((0x5c, 0x5c, 0x5c), (0xbd, 0xbd, 0xbd)),
    ((0x8a, 0x8a, 0x10), (0xe0, 0xe0, 0x6a)),
    ((0x10, 0x87, 0x96), (0x6c, 0xdd, 0xea)),
    ((0x3d, 0x5a, 0x0f), (0xaf, 0xd6, 0x72)),
    ((0x4b, 0x3b, 0x9c), (0x9d, 0x92, 0xf0)),
];

impl RefKind {
    /// How many colours [`RefKind::Object`] has.
    pub const OBJECT_COLORS: u8 = 12;

    /// The colour of this kind in the theme described by `visuals`.
    pub fn color(self, visuals: &Visuals) -> Color32 {
        let dark = visuals.dark_mode;
        let (light_c, dark_c) = match self {
            RefKind::Address => ((0x1d, 0x4e, 0xd8), (0x7c, 0xb3, 0xff)),
            RefKind::Header => ((0x6b, 0x4f, 0x1d), (0xe0, 0xc0, 0x7a)),
            RefKind::Section => ((0x7c, 0x2d, 0x12), (0xff, 0xa0, 0x70)),
            RefKind::Symbol => ((0x6d, 0x28, 0xd9), (0xc4, 0xa5, 0xff)),
            RefKind::Import => ((0x0f, 0x76, 0x6e), (0x5e, 0xea, 0xd4)),
            RefKind::Export => ((0x15, 0x80, 0x3d), (0x86, 0xef, 0xac)),
            RefKind::Reloc => ((0xa1, 0x1d, 0x48), (0xfb, 0x8d, 0xb4)),
            RefKind::PseudoReloc => ((0xb4, 0x53, 0x09), (0xfd, 0xba, 0x74)),
            RefKind::DataDir => ((0x0e, 0x74, 0x90), (0x67, 0xe8, 0xf9)),
            RefKind::Comdat => ((0x86, 0x19, 0x8f), (0xf0, 0xab, 0xfc)),
            RefKind::Other => ((0x52, 0x52, 0x5b), (0xa1, 0xa1, 0xaa)),
            RefKind::Object(i) => OBJECT_PALETTE[usize::from(i) % OBJECT_PALETTE.len()],
            RefKind::Unexplained => ((0xdc, 0x26, 0x26), (0xff, 0x55, 0x55)),
        };
        let (r, g, b) = if dark { dark_c } else { light_c };
        Color32::from_rgb(r, g, b)
    }

    /// A translucent version of the colour, for backgrounds (hex tint, map regions).
    pub fn tint(self, visuals: &Visuals, strength: f32) -> Color32 {
        let c = self.color(visuals);
        let alpha = (strength.clamp(0.0, 1.0) * 255.0) as u8;
        Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
    }

    /// Name shown in legends.
    pub fn label(self) -> &'static str {
        match self {
            RefKind::Address => "address",
            RefKind::Header => "header",
            RefKind::Section => "section",
            RefKind::Symbol => "symbol",
            RefKind::Import => "import / IAT",
            RefKind::Export => "export",
            RefKind::Reloc => "relocation",
            RefKind::PseudoReloc => "pseudo-relocation",
            RefKind::DataDir => "data directory",
            RefKind::Comdat => "COMDAT",
            RefKind::Other => "other",
            RefKind::Object(_) => "object",
            RefKind::Unexplained => "unexplained",
        }
    }
}

/// The colour of a cause of `verify --explain` (the Verify view's rows, the layout map's
/// "memory vs file" lane): what wrote the bytes, as the kind of structure it is; red for bytes
/// nothing explains.
pub fn cause_kind(cause: crate::patch::explain::Cause) -> RefKind {
    use crate::patch::explain::Cause;
    match cause {
        Cause::Header => RefKind::Header,
        Cause::BaseReloc | Cause::DynamicReloc | Cause::Ifunc => RefKind::Reloc,
        Cause::Iat | Cause::DelayIat => RefKind::Import,
        Cause::PseudoReloc | Cause::SchemeStep => RefKind::PseudoReloc,
        Cause::LoadConfig | Cause::TlsIndex | Cause::DynamicSection => RefKind::DataDir,
        Cause::RuntimeWrite => RefKind::Other,
        Cause::Unexplained => RefKind::Unexplained,
    }
}

/// The colour of a data-reference site of `mode`, one per mode (disassembly, references, map).
pub fn mode_color(mode: crate::analysis::Mode, visuals: &Visuals) -> Color32 {
    use crate::analysis::Mode;
    let (light_c, dark_c) = match mode {
        Mode::RipRelative => ((0x1d, 0x4e, 0xd8), (0x7c, 0xb3, 0xff)),
        Mode::Absolute => ((0xa1, 0x1d, 0x48), (0xfb, 0x8d, 0xb4)),
        Mode::AbsoluteIndexed => ((0x86, 0x19, 0x8f), (0xf0, 0xab, 0xfc)),
        Mode::Immediate => ((0xb4, 0x53, 0x09), (0xfd, 0xba, 0x74)),
        Mode::DataPointer => ((0x15, 0x80, 0x3d), (0x86, 0xef, 0xac)),
    };
    let (r, g, b) = if visuals.dark_mode { dark_c } else { light_c };
    Color32::from_rgb(r, g, b)
}

/// Colour of a diagnostic severity.
pub fn severity_color(severity: Severity, visuals: &Visuals) -> Color32 {
    match (severity, visuals.dark_mode) {
        (Severity::Error, false) => Color32::from_rgb(0xb9, 0x1c, 0x1c),
        (Severity::Error, true) => Color32::from_rgb(0xff, 0x7b, 0x7b),
        (Severity::Warning, false) => Color32::from_rgb(0x92, 0x40, 0x0e),
        (Severity::Warning, true) => Color32::from_rgb(0xfc, 0xd3, 0x4d),
        (Severity::Info, false) => Color32::from_rgb(0x1e, 0x40, 0xaf),
        (Severity::Info, true) => Color32::from_rgb(0x93, 0xc5, 0xfd),
    }
}

/// Background of the bytes of the selected structure in the hex view.
pub fn selection_fill(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x1e, 0x5a, 0xa8)
    } else {
        Color32::from_rgb(0xbf, 0xdb, 0xfe)
    }
}

/// The second shade of the selection, for alternate fields inside a selected structure.
pub fn selection_fill_alt(visuals: &Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x3b, 0x86, 0xdc)
    } else {
        Color32::from_rgb(0x93, 0xc5, 0xfd)
    }
}

/// Text in the monospace font (addresses, bytes, values).
pub fn mono(text: impl Into<String>) -> RichText {
    RichText::new(text).monospace()
}

/// Monospace text coloured as `kind`.
pub fn mono_kind(text: impl Into<String>, kind: RefKind, visuals: &Visuals) -> RichText {
    RichText::new(text).monospace().color(kind.color(visuals))
}

/// A clickable link coloured by the kind of thing it refers to; returns the response.
pub fn link(ui: &mut egui::Ui, text: impl Into<String>, kind: RefKind) -> egui::Response {
    let rich = mono_kind(text, kind, ui.visuals());
    ui.add(egui::Link::new(rich))
}

/// Apply the app's spacing and text tweaks to both the light and the dark style, leaving the
/// choice between them to the system preference.
pub fn install(ctx: &egui::Context) {
    // Hack (the monospace font) has arrows and box-drawing glyphs Ubuntu lacks; let proportional
    // text fall back to it so ◀ ▶ ← → ▲ ▼ └ render everywhere.
    let mut fonts = egui::FontDefinitions::default();
    if let Some(list) = fonts.families.get_mut(&egui::FontFamily::Proportional) {
        if !list.iter().any(|f| f == "Hack") {
            let at = list.iter().position(|f| f == "Ubuntu-Light").map_or(0, |p| p + 1);
            list.insert(at, "Hack".to_owned());
        }
    }
    ctx.set_fonts(fonts);
    for theme in [egui::Theme::Light, egui::Theme::Dark] {
        ctx.style_mut_of(theme, |style| {
            style.spacing.item_spacing = egui::vec2(8.0, 4.0);
            style.spacing.button_padding = egui::vec2(6.0, 2.0);
            style.interaction.selectable_labels = false;
            style.visuals.striped = true;
        });
    }
    ctx.set_theme(egui::ThemePreference::System);
}

/// Format `v` as `0x…` hex.
pub fn hex(v: u64) -> String {
    format!("{v:#x}")
}
