//! `linkscope diff A B` and `linkscope diff IMAGE --dump FILE`.

use std::io::Write;
use std::path::Path;

use crate::analysis::reach::parse_addr;
use crate::diff::{self, Change, Diff, Limits, Mode, Side};
use crate::report;
use crate::session::{Analysis, Analyzed, Scan};

/// Files up to this size get their data-reference sites scanned for the attribution.
const SCAN_SITES_BELOW: usize = 64 << 20;

/// One input: analysed when it parses, else its bytes and why not.
enum Input {
    /// A file linkscope reads.
    Analyzed(Box<Analyzed>),
    /// Bytes compared as bytes.
    Raw(crate::input::Input, String),
}

impl Input {
    /// Read `path`.
    fn open(path: &Path, first: bool) -> Result<Self, String> {
        let data = crate::input::Input::open(path).map_err(|e| format!("linkscope: {}: {e}", path.display()))?;
        Ok(Self::parse(path, data, first))
    }

    /// Analyse `data`; the first side also gets its regions and (when small) its sites, which
    /// only the first side's attribution uses.
    fn parse(path: &Path, data: crate::input::Input, first: bool) -> Self {
        let scan = if first && data.len() <= SCAN_SITES_BELOW { Scan::Sites } else { Scan::None };
        // Each build's own PDB (found beside it, GUID and age checked) names its addresses, and
        // with both the changed objects are listed.
        let pdb = crate::session::pdb::PdbChoice { auto: true, ..Default::default() };
        let analysis = Analysis { pdb, ..Analysis::scan(scan, super::default_threads()) };
        match crate::load(&data) {
            Ok(bin) => Input::Analyzed(Box::new(Analyzed::from_parts(
                path.to_path_buf(),
                path.display().to_string(),
                data,
                bin,
                &analysis,
            ))),
            Err(e) => Input::Raw(data, e.to_string()),
        }
    }

    fn data(&self) -> &[u8] {
        match self {
            Input::Analyzed(a) => &a.data,
            Input::Raw(d, _) => d,
        }
    }

    fn error(&self) -> Option<&str> {
        match self {
            Input::Analyzed(_) => None,
            Input::Raw(_, e) => Some(e),
        }
    }

    fn side<'a>(&'a self, bytes: &'a [u8], first: bool) -> Side<'a> {
        match self {
            Input::Analyzed(a) => Side {
                bin: Some(&a.bin),
                data: bytes,
                file: &a.data,
                index: Some(&a.index),
                regions: first.then(|| a.regions()),
                refs: (first && a.data.len() <= SCAN_SITES_BELOW).then_some(&a.refs),
                pdb: a.pdb.as_deref(),
            },
            Input::Raw(d, _) => {
                Side { bin: None, data: bytes, file: d, index: None, regions: None, refs: None, pdb: None }
            }
        }
    }
}

/// Run `diff`; returns the exit code (0 identical, 1 different, 2 unreadable input).
/// `diff`'s memory side: `--dump FILE`, `--module NAME`, `--image-base ADDR`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DumpArgs<'a> {
    /// `--dump FILE`.
    pub dump: Option<&'a Path>,
    /// `--module NAME` (a minidump or core).
    pub module: Option<&'a str>,
    /// `--image-base ADDR`.
    pub image_base: Option<&'a str>,
}

/// Run `diff`; returns the exit code.
pub fn run(a: &Path, b: Option<&Path>, da: &DumpArgs<'_>, json: bool, max: usize) -> i32 {
    let (dump, image_base) = (da.dump, da.image_base);
    let limits = Limits { max_changes: max, ..Limits::default() };
    let mut base = match image_base.map(|s| parse_addr(s).ok_or(s)) {
        Some(Err(s)) => {
            eprintln!("linkscope: --image-base {s}: not an address");
            return 2;
        }
        Some(Ok(v)) => Some(v),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mode = if dump.is_some() { Mode::Image } else { Mode::Files };
    // JSON: each change written as it is found, none kept; text: kept (the summary comes first).
    let mut stream = json.then(|| report::diff::JsonStream::new(&mut out, mode));
    let mut kept = Vec::new();
    let mut sink = |c: Change| match &mut stream {
        Some(s) => s.change(&c),
        None => kept.push(c),
    };
    let result = match (b, dump) {
        (Some(b), None) => files(a, b, limits, &mut sink),
        (None, Some(d)) => image(a, d, da.module, &mut base, limits, &mut sink),
        _ => Err("linkscope: diff takes two files, or an image and --dump FILE".to_string()),
    };
    let (mut d, names) = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let code = if d.identical() { 0 } else { 1 };
    let r = match stream {
        Some(s) => s.finish(&d, &names, if dump.is_some() { "dump" } else { "b" }, base),
        None => {
            d.changes = kept;
            report::diff::write_text(&mut out, &d, base)
        }
    };
    super::finish(r.and_then(|()| out.flush()), code, 2)
}

fn files(a: &Path, b: &Path, limits: Limits, sink: &mut dyn FnMut(Change)) -> Result<(Diff, (String, String)), String> {
    let names = (a.display().to_string(), b.display().to_string());
    let read = |p: &Path| crate::input::Input::open(p).map_err(|e| format!("linkscope: {}: {e}", p.display()));
    let (da, db) = (read(a)?, read(b)?);
    // Identical bytes: identical models too, nothing to parse.
    if da[..] == db[..] {
        return Ok((diff::identical(da.len() as u64), names));
    }
    let (x, y) = (Input::parse(a, da, true), Input::parse(b, db, false));
    let mut d = diff::diff_files_to(x.side(x.data(), true), y.side(y.data(), false), limits, sink);
    if let (Input::Analyzed(p), Input::Analyzed(q)) = (&x, &y) {
        for n in p.pdb_notes.iter().chain(q.pdb_notes.iter()) {
            d.notes.push(n.clone());
        }
        if let (Some(pa), Some(pb)) = (&p.pdb, &q.pdb) {
            d.objects_changed = Some(diff::objects::compare(&pa.contributions, &pb.contributions));
        }
    }
    for (p, i) in [(a, &x), (b, &y)] {
        if let Some(e) = i.error() {
            d.notes.push(format!("{}: {e}; compared as bytes", p.display()));
        }
    }
    Ok((d, names))
}

fn image(
    a: &Path,
    dump: &Path,
    module: Option<&str>,
    base: &mut Option<u64>,
    limits: Limits,
    sink: &mut dyn FnMut(Change),
) -> Result<(Diff, (String, String)), String> {
    let x = Input::open(a, true)?;
    let bin = match &x {
        Input::Analyzed(an) => &an.bin,
        Input::Raw(_, e) => return Err(format!("linkscope: {}: {e}", a.display())),
    };
    let mapped = crate::patch::load::map(bin, x.data()).map_err(|e| format!("linkscope: {}: {e}", a.display()))?;
    if let Some(src) = super::dump::Source::open(Some(dump), None)? {
        let (m, _) = src.find(module, a)?;
        base.get_or_insert(m.base);
        let mem = src.memory(m.base, mapped.len() as u64)?;
        // Bytes not in the dump are unknown: shown as the image's, so they never differ.
        let mut bytes = mem.bytes.clone().into_owned();
        let mut at = 0usize;
        for &(s, e) in mem.held.iter().chain(std::iter::once(&(mapped.len() as u64, mapped.len() as u64))) {
            if let Some(gap) = bytes.get_mut(at..s as usize) {
                gap.copy_from_slice(&mapped[at..s as usize]);
            }
            at = e as usize;
        }
        let after = Side { bin: None, data: &bytes, file: &[], index: None, regions: None, refs: None, pdb: None };
        let mut d = diff::diff_memory_to(x.side(&mapped, true), after, limits, sink);
        if mem.not_held() > 0 {
            d.notes.push(format!("{} bytes of the module are not in the dump: not compared", mem.not_held()));
        }
        return Ok((d, (a.display().to_string(), format!("{} ({} at 0x{:x})", src.name(), m.name, m.base))));
    }
    if let Some(m) = module {
        return Err(format!(
            "linkscope: {}: --module {m} needs a minidump or an ELF core (this is a raw image dump)",
            dump.display()
        ));
    }
    let raw = std::fs::read(dump).map_err(|e| format!("linkscope: {}: {e}", dump.display()))?;
    let mem = crate::patch::verify::dump_bytes(raw).map_err(|e| format!("linkscope: {}: {e}", dump.display()))?;
    crate::patch::verify::check_dump_len(mem.len(), mapped.len())
        .map_err(|e| format!("linkscope: {}: {e}", dump.display()))?;
    let after =
        Side { bin: None, data: &mem[..mapped.len()], file: &[], index: None, regions: None, refs: None, pdb: None };
    let mut d = diff::diff_memory_to(x.side(&mapped, true), after, limits, sink);
    if mem.len() > mapped.len() {
        d.notes.push(format!("the dump has {} bytes past the image's memory; not compared", mem.len() - mapped.len()));
    }
    Ok((d, (a.display().to_string(), dump.display().to_string())))
}
