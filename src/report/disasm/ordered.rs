//! Work items made on worker threads and consumed in order on the calling thread, at most a
//! window of items ahead of the one being consumed (so memory stays bounded whatever the speed of
//! the consumer).

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

struct State<T> {
    /// Finished items not yet consumed.
    done: BTreeMap<usize, T>,
    /// The next item to hand out.
    next: usize,
    /// Items consumed so far.
    consumed: usize,
    /// Stop handing out items (the consumer failed).
    stop: bool,
    /// A worker panicked.
    failed: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wait<'g>(&self, g: MutexGuard<'g, State<T>>) -> MutexGuard<'g, State<T>> {
        self.changed.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Marks the run failed when a worker unwinds, so the consumer does not wait for its item.
struct PanicGuard<'s, T>(&'s Shared<T>);

impl<T> Drop for PanicGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().failed = true;
            self.0.changed.notify_all();
        }
    }
}

/// Make items `0..n` with `make` on `threads` workers (each with its own state from `init`) and
/// hand them to `consume` in order. With 0 or 1 thread everything runs on the calling thread.
/// Stops at the first error of `consume` and returns it.
pub(super) fn run<T: Send, W>(
    n: usize,
    threads: usize,
    init: impl Fn() -> W + Sync,
    make: impl Fn(&mut W, usize) -> T + Sync,
    mut consume: impl FnMut(T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if threads <= 1 || n <= 1 {
        let mut w = init();
        return (0..n).try_for_each(|i| consume(make(&mut w, i)));
    }
    let window = threads * 2;
    let shared = Shared {
        state: Mutex::new(State { done: BTreeMap::new(), next: 0, consumed: 0, stop: false, failed: false }),
        changed: Condvar::new(),
    };
    std::thread::scope(|s| {
        for _ in 0..threads.min(n) {
            s.spawn(|| {
                let _guard = PanicGuard(&shared);
                let mut w = init();
                loop {
                    let i = {
                        let mut g = shared.lock();
                        while !g.stop && g.next < n && g.next >= g.consumed + window {
                            g = shared.wait(g);
                        }
                        if g.stop || g.next >= n {
                            break;
                        }
                        g.next += 1;
                        g.next - 1
                    };
                    let item = make(&mut w, i);
                    shared.lock().done.insert(i, item);
                    shared.changed.notify_all();
                }
            });
        }
        let mut result = Ok(());
        for k in 0..n {
            let item = {
                let mut g = shared.lock();
                loop {
                    if let Some(item) = g.done.remove(&k) {
                        g.consumed = k + 1;
                        break Some(item);
                    }
                    if g.failed {
                        break None;
                    }
                    g = shared.wait(g);
                }
            };
            shared.changed.notify_all();
            let r = match item {
                Some(item) => consume(item),
                None => Err(std::io::Error::other("a listing worker failed")),
            };
            if let Err(e) = r {
                result = Err(e);
                break;
            }
        }
        shared.lock().stop = true;
        shared.changed.notify_all();
        result
    })
}
