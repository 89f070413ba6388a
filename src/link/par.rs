//! Reading the inputs on several threads: each item is read on whichever thread takes it
//! next, and the results come back in the items' order, so what follows (resolution in
//! command-line order) is the same for any thread count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The thread count to use when none is given: one per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `f` applied to every item on up to `threads` threads (`std::thread::scope`); the results in
/// the items' order.
pub fn map_ordered<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { break };
        let r = f(item);
        if let Ok(mut slot) = slots[i].lock() {
            *slot = Some(r);
        }
    };
    // The calling thread is one of the workers.
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work();
    });
    slots.into_iter().filter_map(|m| m.into_inner().ok().flatten()).collect()
}

#[cfg(test)]
mod tests {
    use super::map_ordered;

    #[test]
    fn results_come_back_in_order_for_any_thread_count() {
        let items: Vec<u64> = (0..1000).collect();
        let want: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        for threads in [1, 2, 3, 7, 2000] {
            assert_eq!(map_ordered(&items, threads, |x| x * x + 1), want, "{threads} threads");
        }
        assert!(map_ordered(&[] as &[u64], 4, |x| *x).is_empty());
    }
}
