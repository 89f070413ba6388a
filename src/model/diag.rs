//! Diagnostics: what went wrong while reading, and where.

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational remark (e.g. how something was found).
    Info,
    /// Something unusual or partly unreadable.
    Warning,
    /// Something that could not be read.
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Where a diagnostic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Location {
    /// File offset.
    pub file_offset: Option<u64>,
    /// RVA.
    pub rva: Option<u64>,
}

impl Location {
    /// Nowhere in particular.
    pub const NONE: Location = Location { file_offset: None, rva: None };
    /// At a file offset.
    pub fn file(off: u64) -> Self {
        Location { file_offset: Some(off), rva: None }
    }
    /// At an RVA.
    pub fn rva(rva: u64) -> Self {
        Location { file_offset: None, rva: Some(rva) }
    }
    /// At both.
    pub fn both(off: Option<u64>, rva: Option<u64>) -> Self {
        Location { file_offset: off, rva }
    }
}

/// A problem found while reading.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    /// Severity.
    pub severity: Severity,
    /// Location.
    pub location: Location,
    /// Message.
    pub message: String,
}

/// Collects one kind of problem that can repeat many times (one per table row) and reports it
/// once, with a count and the first occurrence.
pub struct Repeated {
    severity: Severity,
    what: &'static str,
    count: u64,
    first: Option<(Location, String)>,
}

impl Repeated {
    /// Start collecting problems described as `what`.
    pub fn new(severity: Severity, what: &'static str) -> Self {
        Repeated { severity, what, count: 0, first: None }
    }

    /// Count one occurrence; `message` is built only for the first.
    pub fn add(&mut self, location: Location, message: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some((location, message()));
        }
        self.count += 1;
    }

    /// Report what was collected to `bin` (nothing if nothing happened).
    pub fn flush(self, bin: &mut super::Binary) {
        let Some((loc, msg)) = self.first else { return };
        if self.count == 1 {
            bin.diag(self.severity, loc, msg);
        } else {
            bin.diag(self.severity, loc, format!("{} ({} times; first: {msg})", self.what, self.count));
        }
    }
}
