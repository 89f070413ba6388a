//! The sites of a scan handed out in their final order while the scan runs, in batches, without
//! keeping them: outputs of every site (`refs --json`, the `refs` table, `patch` and `verify`) in
//! bounded memory. Workers sweep small pieces of code and turn each piece's sites into the
//! caller's result (formatted text, a few kept sites); the calling thread takes those results in
//! order, with at most a few pieces in flight.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Condvar, Mutex};

use super::code;
use super::scan::{self, Ctx, Out};
use super::{scan_refs, RefOptions, Site, Summary};
use crate::model::index::Index;
use crate::model::Binary;

/// Code bytes in one streamed piece: small enough that a piece's sites and their output stay a
/// few MiB, large enough that the hand-over costs nothing.
const PIECE: usize = 256 << 10;

/// Sites handed over at once when they come from a finished scan.
const BATCH: usize = 8192;

/// The order of [`super::Refs::sites`]: section (sites in no section last), site, field.
fn key(s: &Site) -> (bool, u32, u64, u64) {
    (s.section == u32::MAX, s.section, s.site_rva, s.field_rva)
}

/// What a streamed scan counted on the way: what [`scan_refs`] would give as the summary and the
/// note, so an output that streams the sites before it writes the counts needs no scan of its
/// own for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// The summary, equal to [`super::Refs::summary`] of the collected scan.
    pub summary: Summary,
    /// Why the file has no code to scan, as [`super::Refs::note`].
    pub note: Option<String>,
}

/// Scan `bin` as [`scan_refs`] would with `opts.collect`, handing its sites to `work` in pieces,
/// in the order of [`super::Refs::sites`], and each piece's result to `sink` in that order. The
/// concatenation of the pieces is exactly the collected scan's sites, for any thread count.
/// `work` runs on the scan's workers; `sink` on the calling thread. An error of `sink` stops
/// the scan and is returned. Returns what the scan counted.
pub fn stream_sites<T: Send>(
    bin: &Binary,
    data: &[u8],
    index: &Index,
    opts: &RefOptions,
    work: impl Fn(&[Site]) -> T + Sync,
    mut sink: impl FnMut(T) -> io::Result<()>,
) -> io::Result<Totals> {
    stream_sites_floored(bin, data, index, opts, work, |t, _| sink(t))
}

/// [`stream_sites`], each piece's result handed over with its floor, as
/// [`SiteSource::each_piece_floored`] gives it.
pub fn stream_sites_floored<T: Send>(
    bin: &Binary,
    data: &[u8],
    index: &Index,
    opts: &RefOptions,
    work: impl Fn(&[Site]) -> T + Sync,
    mut sink: impl FnMut(T, u64) -> io::Result<()>,
) -> io::Result<Totals> {
    let collected = |sink: &mut dyn FnMut(T, u64) -> io::Result<()>| {
        let o = RefOptions { collect: true, instructions: false, ..opts.clone() };
        let refs = scan_refs(bin, data, index, &o);
        refs.sites.each_piece_floored(&work, sink)?;
        Ok(Totals { summary: refs.summary, note: refs.note })
    };
    if code::bitness(bin).is_none() || !scan::is_image(bin) {
        return collected(&mut sink);
    }
    let resolved = super::reach::resolve(bin, index, &opts.placements);
    let Some(mut cx) = Ctx::new(bin, data, index, resolved) else { return collected(&mut sink) };
    cx.need_fields = true;
    let new_out = || Out {
        sites: Some(Vec::new()),
        pseudo_seen: vec![false; bin.pseudo_relocations.entries.len()],
        keep: opts.keep.clone(),
        ..Out::default()
    };
    // The data pointers outside the code, in the order of their sites (section, field): each
    // becomes a site only when its piece is swept.
    let mut outside = cx.outside_covers();
    let okey = |&(p, c): &(u32, u32)| {
        let rva = cx.covers[c as usize].rva;
        (p == u32::MAX, p, rva, rva)
    };
    outside.sort_by_key(okey);
    let total: usize = cx.regions.iter().map(|r| r.bytes.len()).sum();
    let threads = opts.threads.max(1);
    let min = if opts.min_chunk == 0 { 1 << 16 } else { opts.min_chunk };
    let chunks = code::chunks(&cx.regions, &cx.starts, (total / PIECE).max(threads * 4), min);
    let starts: Vec<(bool, u32, u64, u64)> = chunks
        .iter()
        .map(|c| (false, cx.regions[c.region].section as u32, cx.regions[c.region].rva + c.start as u64, 0))
        .collect();
    if starts.windows(2).any(|w| w[0] >= w[1]) {
        // Code regions out of section order (a hand-made file): the pieces would not come out
        // sorted.
        return collected(&mut sink);
    }
    // The sites outside the code that sort before the first piece, between two, after the last:
    // none of them sorts among a piece's own sites (they are outside its region), so the pieces
    // and those runs, in turn, are the sorted list.
    let mut jobs = Vec::new();
    let mut from = 0;
    for (i, k) in starts.iter().chain([&(true, u32::MAX, u64::MAX, u64::MAX)]).enumerate() {
        let to = if i == chunks.len() { outside.len() } else { outside.partition_point(|o| okey(o) < *k) };
        jobs.extend((from..to).step_by(BATCH).map(|a| Job::Outside(a..(a + BATCH).min(to))));
        from = to;
        if i < chunks.len() {
            jobs.push(Job::Code(chunks[i]));
        }
    }
    // No site of a job has its field below the job's least RVA: a piece of code's sites are its
    // instructions' and the base-relocated fields in it, an outside run's are its fields.
    let least: Vec<u64> = jobs
        .iter()
        .map(|j| match j {
            Job::Code(c) => cx.regions[c.region].rva + c.start as u64,
            Job::Outside(r) => {
                outside[r.clone()].iter().map(|&(_, c)| cx.covers[c as usize].rva).min().unwrap_or(u64::MAX)
            }
        })
        .collect();
    let floor = floors(&least);
    let mut handed = 0;
    // Each piece's result with its counts, merged as the pieces are handed over.
    let job = |j: usize| -> (T, Out) {
        let mut out = new_out();
        let t = match &jobs[j] {
            Job::Outside(r) => {
                for &(p, c) in &outside[r.clone()] {
                    cx.data_pointer(&cx.covers[c as usize], p, &mut out);
                }
                work(out.sites.as_deref().unwrap_or_default())
            }
            Job::Code(c) => {
                cx.sweep_chunk(*c, &mut out);
                let mut mine = out.sites.take().unwrap_or_default();
                mine.sort_by_key(key);
                work(&mine)
            }
        };
        out.sites = None;
        (t, out)
    };
    let mut summary = Summary::default();
    let mut seen = vec![false; bin.pseudo_relocations.entries.len()];
    run_ordered(jobs.len(), threads, &job, &mut |(t, out): (T, Out)| {
        summary.merge(&out.summary);
        seen.iter_mut().zip(&out.pseudo_seen).for_each(|(a, b)| *a |= *b);
        handed += 1;
        sink(t, floor[handed - 1])
    })?;
    summary.pseudo_relocs_without_site = seen.iter().filter(|s| !**s).count() as u64;
    Ok(Totals { summary, note: None })
}

/// One piece of the streamed sites.
enum Job {
    /// A piece of code, swept by the worker that takes it.
    Code(code::Chunk),
    /// Data pointers outside the code: a range of the list of them.
    Outside(std::ops::Range<usize>),
}

/// Where an output's sites come from, piece by piece in order: a finished scan's list, or a scan
/// run while the output is written ([`stream_sites`]).
pub trait SiteSource: Sync {
    /// Hand the sites to `work` in pieces, in order, and each piece's result to `sink` in order;
    /// an error of `sink` stops and is returned.
    fn each_piece<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        sink: impl FnMut(T) -> io::Result<()>,
    ) -> io::Result<()>;

    /// [`SiteSource::each_piece`], and what a scan run for it counted (`None`: no scan ran; the
    /// counts are the finished scan's).
    fn each_piece_counted<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        sink: impl FnMut(T) -> io::Result<()>,
    ) -> io::Result<Option<Totals>> {
        self.each_piece(work, sink).map(|()| None)
    }

    /// The threads the source's scan works on (an output's own work can use as many).
    fn threads(&self) -> usize {
        1
    }

    /// [`SiteSource::each_piece`], each piece's result handed over with a floor: no site of a
    /// later piece has its field below it (`u64::MAX` after the last piece; `0` where nothing
    /// is known). A consumer that takes the sites in field order can let go of every field
    /// below the floor instead of holding every piece.
    fn each_piece_floored<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        mut sink: impl FnMut(T, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        self.each_piece(work, |t| sink(t, 0))
    }
}

/// `floors[j]`: the least of `least[j + 1..]` (`u64::MAX` for the last).
pub(crate) fn floors(least: &[u64]) -> Vec<u64> {
    let mut v = vec![u64::MAX; least.len()];
    for j in (1..least.len()).rev() {
        v[j - 1] = v[j].min(least[j]);
    }
    v
}

impl SiteSource for super::Refs {
    /// The kept sites (none when the scan only counted them).
    fn each_piece<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        sink: impl FnMut(T) -> io::Result<()>,
    ) -> io::Result<()> {
        self.sites.each_piece(work, sink)
    }

    fn each_piece_floored<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        sink: impl FnMut(T, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        self.sites.each_piece_floored(work, sink)
    }
}

impl SiteSource for [Site] {
    /// Pieces of about [`BATCH`] sites; the sites of one instruction stay in one piece.
    fn each_piece<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        mut sink: impl FnMut(T) -> io::Result<()>,
    ) -> io::Result<()> {
        pieces(self).into_iter().try_for_each(|r| sink(work(&self[r])))
    }

    /// The floors are the least fields of the pieces after each.
    fn each_piece_floored<T: Send>(
        &self,
        work: impl Fn(&[Site]) -> T + Sync,
        mut sink: impl FnMut(T, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        let pieces = pieces(self);
        let least: Vec<u64> =
            pieces.iter().map(|r| self[r.clone()].iter().map(|s| s.field_rva).min().unwrap_or(u64::MAX)).collect();
        let floor = floors(&least);
        pieces.into_iter().zip(floor).try_for_each(|(r, f)| sink(work(&self[r]), f))
    }
}

/// `sites` cut into pieces of about [`BATCH`]; the sites of one instruction stay in one piece.
fn pieces(sites: &[Site]) -> Vec<std::ops::Range<usize>> {
    let mut v = Vec::new();
    let mut at = 0;
    while at < sites.len() {
        let mut n = (sites.len() - at).min(BATCH);
        while let (Some(a), Some(b)) = (sites.get(at + n - 1), sites.get(at + n)) {
            if (a.section, a.site_rva) != (b.section, b.site_rva) {
                break;
            }
            n += 1;
        }
        v.push(at..at + n);
        at += n;
    }
    v
}

/// What the workers and the writer share.
struct Shared<T> {
    /// The next job a worker takes.
    next: usize,
    /// Jobs handed to the sink so far.
    written: usize,
    /// Finished jobs not yet handed over.
    done: BTreeMap<usize, T>,
    /// The sink failed or a worker panicked: stop.
    stop: bool,
    /// A worker panicked.
    panicked: bool,
}

/// Run `job(0..n)` on `threads` workers and hand the results to `sink` in order, with at most
/// `2 × threads` results waiting.
pub(crate) fn run_ordered<T: Send>(
    n: usize,
    threads: usize,
    job: &(dyn Fn(usize) -> T + Sync),
    sink: &mut dyn FnMut(T) -> io::Result<()>,
) -> io::Result<()> {
    if threads <= 1 || n < 2 {
        return (0..n).try_for_each(|j| sink(job(j)));
    }
    let window = 2 * threads;
    let state = Mutex::new(Shared { next: 0, written: 0, done: BTreeMap::new(), stop: false, panicked: false });
    let cv = Condvar::new();
    let lock = || state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let worker = || loop {
        let j = {
            let mut g = lock();
            while !g.stop && g.next < n && g.next >= g.written + window {
                g = cv.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if g.stop || g.next >= n {
                return;
            }
            g.next += 1;
            g.next - 1
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(j)));
        let mut g = lock();
        match r {
            Ok(t) => {
                g.done.insert(j, t);
            }
            Err(_) => {
                g.stop = true;
                g.panicked = true;
            }
        }
        cv.notify_all();
    };
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(worker);
        }
        let mut result = Ok(());
        for j in 0..n {
            let t = {
                let mut g = lock();
                loop {
                    if let Some(t) = g.done.remove(&j) {
                        break Some(t);
                    }
                    if g.panicked {
                        break None;
                    }
                    g = cv.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            };
            let Some(t) = t else {
                result = Err(io::Error::other("the data-reference scan failed: a worker thread panicked"));
                break;
            };
            result = sink(t);
            let mut g = lock();
            g.written = j + 1;
            if result.is_err() {
                g.stop = true;
            }
            cv.notify_all();
            drop(g);
            if result.is_err() {
                break;
            }
        }
        let mut g = lock();
        g.stop = true;
        cv.notify_all();
        drop(g);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_for_any_thread_count() {
        for threads in [1, 2, 3, 7] {
            let mut got = Vec::new();
            let job = |j: usize| {
                // Later jobs finish first.
                std::thread::sleep(std::time::Duration::from_micros(((50 - j) * 20) as u64));
                j
            };
            run_ordered(50, threads, &job, &mut |t| {
                got.push(t);
                Ok(())
            })
            .unwrap();
            assert_eq!(got, (0..50).collect::<Vec<_>>(), "threads {threads}");
        }
    }

    #[test]
    fn a_sink_error_stops_the_run() {
        let mut seen = 0;
        let r = run_ordered(1000, 2, &|j| j, &mut |t| {
            seen += 1;
            if t == 3 {
                Err(io::Error::other("closed"))
            } else {
                Ok(())
            }
        });
        assert!(r.is_err());
        assert_eq!(seen, 4);
    }

    #[test]
    fn a_worker_panic_is_an_error() {
        let r = run_ordered(10, 2, &|j| if j == 5 { panic!("boom") } else { j }, &mut |_| Ok(()));
        assert!(r.unwrap_err().to_string().contains("panicked"));
    }
}
