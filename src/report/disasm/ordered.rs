//! Work items made on worker threads and consumed in order on the calling thread. An item is a
//! stream of parts (a piece of a listing, written a few hundred KiB at a time): the consumer
//! reads the parts of item `k` as its worker sends them, through a channel of two parts, and only
//! a window of items is handed out ahead of the one being read, so memory stays bounded whatever
//! the size of an item or the speed of the consumer.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Condvar, Mutex, MutexGuard};

/// What a worker sends for one item.
enum Msg<T> {
    /// One part, in order.
    Part(T),
    /// The item is complete (a channel closed without it: the worker failed).
    End,
}

struct State<T> {
    /// Items started, their parts not yet read.
    started: BTreeMap<usize, Receiver<Msg<T>>>,
    /// The next item to hand out.
    next: usize,
    /// Items read so far.
    consumed: usize,
    /// Stop handing out items (the consumer stopped).
    stop: bool,
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

/// Sends the parts of one item to the consumer (or, on one thread, hands them over directly).
pub(super) struct Parts<'s, T> {
    send: PartsTo<'s, T>,
}

enum PartsTo<'s, T> {
    Channel(&'s SyncSender<Msg<T>>),
    Direct(&'s mut dyn FnMut(T) -> std::io::Result<()>, &'s mut std::io::Result<()>),
}

impl<T> Parts<'_, T> {
    /// Hand over the next part; `false` when the consumer stopped (the rest is not wanted).
    pub(super) fn send(&mut self, part: T) -> bool {
        match &mut self.send {
            PartsTo::Channel(tx) => tx.send(Msg::Part(part)).is_ok(),
            PartsTo::Direct(consume, result) => {
                if result.is_ok() {
                    **result = consume(part);
                }
                result.is_ok()
            }
        }
    }
}

/// Make items `0..n` with `make` on `threads` workers (each with its own state from `init`),
/// handing the parts of every item to `consume` in order. With 0 or 1 thread everything runs on
/// the calling thread. Stops at the first error of `consume` and returns it.
pub(super) fn run<T: Send, W>(
    n: usize,
    threads: usize,
    init: impl Fn() -> W + Sync,
    make: impl Fn(&mut W, usize, &mut Parts<'_, T>) + Sync,
    mut consume: impl FnMut(T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if threads <= 1 || n <= 1 {
        let mut w = init();
        let mut result = Ok(());
        for i in 0..n {
            make(&mut w, i, &mut Parts { send: PartsTo::Direct(&mut consume, &mut result) });
            if result.is_err() {
                break;
            }
        }
        return result;
    }
    let window = threads * 2;
    let shared = Shared {
        state: Mutex::new(State { started: BTreeMap::new(), next: 0, consumed: 0, stop: false }),
        changed: Condvar::new(),
    };
    std::thread::scope(|s| {
        for _ in 0..threads.min(n) {
            s.spawn(|| {
                let mut w = init();
                loop {
                    let (i, tx) = {
                        let mut g = shared.lock();
                        while !g.stop && g.next < n && g.next >= g.consumed + window {
                            g = shared.wait(g);
                        }
                        if g.stop || g.next >= n {
                            break;
                        }
                        let i = g.next;
                        g.next += 1;
                        let (tx, rx) = sync_channel(2);
                        g.started.insert(i, rx);
                        (i, tx)
                    };
                    shared.changed.notify_all();
                    make(&mut w, i, &mut Parts { send: PartsTo::Channel(&tx) });
                    // A consumer gone away is no error here: it says why itself.
                    let _ = tx.send(Msg::End);
                }
            });
        }
        let result = consume_in_order(&shared, n, &mut consume);
        shared.lock().stop = true;
        shared.changed.notify_all();
        result
    })
}

/// The consumer's side of [`run`]: the parts of item 0, then of item 1, …
fn consume_in_order<T>(
    shared: &Shared<T>,
    n: usize,
    consume: &mut impl FnMut(T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    for k in 0..n {
        let rx = {
            let mut g = shared.lock();
            loop {
                if let Some(rx) = g.started.remove(&k) {
                    break rx;
                }
                g = shared.wait(g);
            }
        };
        let mut complete = false;
        let mut result = Ok(());
        for msg in rx.iter() {
            match msg {
                Msg::Part(part) => result = consume(part),
                Msg::End => complete = true,
            }
            if complete || result.is_err() {
                break;
            }
        }
        // Stop the workers first (those waiting for the window, too), then drop the receivers
        // of the items not read so that a worker blocked sending to one of them stops as well.
        if result.is_err() || !complete {
            let mut g = shared.lock();
            g.stop = true;
            g.started.clear();
            drop(g);
            shared.changed.notify_all();
            drop(rx);
            return result.and(Err(std::io::Error::other("a listing worker failed")));
        }
        shared.lock().consumed = k + 1;
        shared.changed.notify_all();
    }
    Ok(())
}
