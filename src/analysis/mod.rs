//! Analyses over the model: the data-reference scan ([`scan_refs`]) and the disassembly listing
//! ([`listing`]). Pure: they read a [`Binary`], its bytes and its [`Index`], and return values the
//! CLI and the app both show.

pub mod code;
pub mod labels;
pub mod listing;
pub mod namer;
mod objects;
pub mod offsets;
pub mod omf;
pub mod reach;
mod scan;
pub mod search;
pub mod site;
pub mod stream;
pub mod strings;
mod sweeper;
pub mod table;
pub mod xref;

pub use reach::{Placement, Resolved};
pub use site::{ImportRef, Mode, Reach, Site, Summary, SymRef, TargetKind};
pub use table::SiteTable;

use crate::model::index::Index;
use crate::model::Binary;

/// How to run the scan.
#[derive(Debug, Clone, Default)]
pub struct RefOptions {
    /// Worker threads (0 or 1: the calling thread only).
    pub threads: usize,
    /// Where the imported DLLs are placed (for reach).
    pub placements: Vec<Placement>,
    /// Keep every site (else only the summary is computed).
    pub collect: bool,
    /// Build the index of instruction starts (for a listing).
    pub instructions: bool,
    /// Collect the direct calls and jumps (for labels and cross-references; images only).
    pub branches: bool,
    /// With `branches`: keep only the calls and jumps to these RVAs (sorted; the call targets
    /// are all collected still).
    pub branch_targets: Option<std::sync::Arc<[u32]>>,
    /// Keep only the sites this accepts (with `collect`; the summary still counts every site).
    pub keep: Option<SiteFilter>,
    /// Smallest piece of code one worker takes (0: 64 KiB); tests make it small to split fixtures.
    pub min_chunk: usize,
}

/// Which sites a scan keeps ([`RefOptions::keep`]): `refs --to` keeps the few that reach its
/// target from one scan instead of streaming all of them from a second.
#[derive(Clone)]
pub struct SiteFilter(pub std::sync::Arc<dyn Fn(&Site) -> bool + Send + Sync>);

impl std::fmt::Debug for SiteFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SiteFilter")
    }
}

/// The result of a scan.
#[derive(Debug, Clone, Default)]
pub struct Refs {
    /// Every site, sorted by section, site then field address (empty unless collected), compact.
    pub sites: SiteTable,
    /// Counts.
    pub summary: Summary,
    /// Where each import row lands (`None`: its DLL is not placed).
    pub resolved: Vec<Option<Resolved>>,
    /// Why the scan found nothing, when it could not run (e.g. a machine that is not x86).
    pub note: Option<String>,
    /// Every instruction start (when asked for).
    pub insns: listing::InsnIndex,
    /// Direct `call`s and `jmp`s (when asked for; images only): `(target RVA, site RVA)` sorted,
    /// the site's [`BRANCH_JMP`] bit set for a `jmp`.
    pub branches: Vec<(u32, u32)>,
    /// The RVAs direct calls go to (when `branches` were asked for), in no order, with repeats:
    /// [`Refs::call_targets`] sorts them.
    pub calls: Vec<u32>,
}

/// Code bytes per piece of a collecting scan.
const COLLECT_PIECE: usize = 1 << 20;

/// Bit of a [`Refs::branches`] site RVA marking a `jmp` (else it is a `call`).
pub const BRANCH_JMP: u32 = 1 << 31;

impl Refs {
    /// The sites whose instruction (or field) starts at `rva` in section position `section`
    /// (the list is sorted by section, then site).
    pub fn sites_at(&self, section: u32, rva: u64) -> Vec<Site> {
        self.sites.at(section, rva)
    }

    /// The RVAs direct calls go to, sorted, each once.
    pub fn call_targets(&self) -> Vec<u64> {
        let mut v: Vec<u32> = self.calls.clone();
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(u64::from).collect()
    }

    /// The call target nearest at or below `rva` (a function a call or jump at `rva` may sit in).
    pub fn call_target_below(&self, rva: u64) -> Option<u64> {
        self.calls.iter().map(|&c| u64::from(c)).filter(|&c| c <= rva).max()
    }

    /// The direct calls and jumps to `rva`: their site RVAs, each with whether it is a `jmp`.
    pub fn branches_to(&self, rva: u64) -> impl Iterator<Item = (u64, bool)> + '_ {
        let t = u32::try_from(rva).unwrap_or(u32::MAX);
        let i = self.branches.partition_point(|&(x, _)| x < t);
        self.branches[i..]
            .iter()
            .take_while(move |&&(x, _)| x == t && u64::from(t) == rva)
            .map(|&(_, s)| (u64::from(s & !BRANCH_JMP), s & BRANCH_JMP != 0))
    }
}

/// The sites of `sites` (sorted as [`Refs::sites`]) whose instruction (or field) starts at `rva`
/// in section position `section`.
pub fn sites_at(sites: &[Site], section: u32, rva: u64) -> &[Site] {
    let i = sites.partition_point(|s| (s.section, s.site_rva) < (section, rva));
    let n = sites[i..].iter().take_while(|s| s.section == section && s.site_rva == rva).count();
    &sites[i..i + n]
}

/// Find and classify every site of `bin` that references data through an address.
pub fn scan_refs(bin: &Binary, data: &[u8], index: &Index, opts: &RefOptions) -> Refs {
    let resolved = reach::resolve(bin, index, &opts.placements);
    let pseudo_n = bin.pseudo_relocations.entries.len();
    let new_out = || scan::Out {
        sites: opts.collect.then(Vec::new),
        insns: opts.instructions.then(Vec::new),
        branches: opts.branches.then(Vec::new),
        calls: opts.branches.then(Vec::new),
        branch_targets: opts.branch_targets.clone(),
        keep: opts.keep.clone(),
        pseudo_seen: vec![false; pseudo_n],
        ..scan::Out::default()
    };
    if code::bitness(bin).is_none() {
        return Refs {
            resolved,
            note: Some(format!("no x86 or x64 code to decode (machine: {})", bin.arch)),
            ..Refs::default()
        };
    }
    let mut outs: Vec<scan::Out> = Vec::new();
    if !scan::is_image(bin) {
        let mut out = new_out();
        objects::scan(bin, data, index, &mut out);
        out.pack();
        outs.push(out);
    } else if let Some(mut cx) = scan::Ctx::new(bin, data, index, resolved.clone()) {
        let iat_in_code =
            cx.regions.iter().any(|r| cx.iat_range.0 < r.rva + r.bytes.len() as u64 && r.rva < cx.iat_range.1);
        cx.need_fields = opts.collect || !cx.pseudo.is_empty() || iat_in_code;
        let threads = opts.threads.max(1);
        let min = if opts.min_chunk == 0 { 1 << 16 } else { opts.min_chunk };
        // A collecting scan cuts the code finer, so each piece's whole sites are few before
        // they are packed (the pieces do not change the result).
        let pieces = if opts.collect {
            let total: usize = cx.regions.iter().map(|r| r.bytes.len()).sum();
            (total / COLLECT_PIECE).max(threads * 4)
        } else {
            threads * 4
        };
        let chunks = code::chunks(&cx.regions, &cx.starts, pieces, min);
        if threads == 1 || chunks.len() < 2 {
            let mut out = new_out();
            for &c in &chunks {
                cx.sweep_chunk(c, &mut out);
                out.pack();
            }
            outs.push(out);
            let mut out = new_out();
            cx.data_sites(&mut out);
            out.pack();
            outs.push(out);
        } else {
            // The data pointers (outside the code) beside the code chunks.
            let data = std::thread::scope(|s| {
                let h = s.spawn(|| {
                    let mut out = new_out();
                    cx.data_sites(&mut out);
                    out.pack();
                    out
                });
                outs = run_parallel(&cx, &chunks, threads, &new_out);
                h.join().unwrap_or_else(|_| new_out())
            });
            outs.push(data);
        }
    }
    let mut refs = Refs { resolved, ..Refs::default() };
    let mut seen = vec![false; pseudo_n];
    let regions = code::code_regions(bin, data);
    refs.insns.bitness = code::bitness(bin).unwrap_or(0);
    // Room for all, so the pieces are moved in once and each freed after it.
    refs.insns.offsets.reserve(outs.iter().map(|o| o.insns.as_ref().map_or(0, Vec::len)).sum());
    refs.sites.reserve(outs.iter().map(|o| o.packed.len()).sum());
    for o in outs.iter_mut() {
        if let Some(v) = o.insns.take() {
            refs.insns.append(bin, &regions, &o.insn_regions, v);
        }
    }
    for o in outs {
        refs.summary.merge(&o.summary);
        for (a, b) in seen.iter_mut().zip(&o.pseudo_seen) {
            *a |= *b;
        }
        refs.sites.append(o.packed);
        refs.branches.extend(o.branches.unwrap_or_default());
        refs.calls.extend(o.calls.unwrap_or_default());
    }
    refs.branches.sort_unstable_by_key(|&(t, s)| (u64::from(t) << 32) | u64::from(s));
    refs.summary.pseudo_relocs_without_site = seen.iter().filter(|s| !**s).count() as u64;
    refs.sites.sort();
    refs.sites.shrink_to_fit();
    refs
}

/// Sweep `chunks` on `threads` workers, each taking whole chunks in turn; the outputs come back in
/// chunk order, so the result equals the one-thread sweep.
fn run_parallel(
    cx: &scan::Ctx<'_>,
    chunks: &[code::Chunk],
    threads: usize,
    new_out: &(dyn Fn() -> scan::Out + Sync),
) -> Vec<scan::Out> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, scan::Out)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&c) = chunks.get(i) else { break };
                        let mut out = new_out();
                        cx.sweep_chunk(c, &mut out);
                        out.pack();
                        mine.push((i, out));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, o)| o).collect()
}
