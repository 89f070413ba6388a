//! Long work off the caller's thread: [`Job`] runs a closure on a named thread with a progress
//! counter and a cancel flag, hands its result back once, and calls a wake-up function the caller
//! passes in (the app passes `request_repaint`), so nobody polls on a timer.
//!
//! A panic inside the work is caught and becomes [`JobError::Panicked`]; a thread that cannot be
//! started becomes [`JobError::Spawn`]. Both arrive like a result, so a face handles every way a
//! job ends in one place.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

/// Called from the worker thread when the job has a result (or gave up).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Why a job ended without the work's own result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The operating system refused a thread.
    #[error("could not start a worker thread: {0}")]
    Spawn(String),
    /// The work panicked (a bug: the core is meant never to panic).
    #[error("internal error in {0} (the worker panicked)")]
    Panicked(String),
    /// The worker ended without sending anything.
    #[error("{0} stopped without a result")]
    Lost(String),
}

/// What the work sees of its job: the cancel flag and the progress counters.
#[derive(Debug, Default)]
pub struct JobCx {
    cancel: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
    stage: AtomicU64,
}

impl JobCx {
    /// Whether the owner asked the work to stop (the result will be dropped).
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Report progress: `done` of `total` units.
    pub fn progress(&self, done: u64, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }

    /// Report the stage the work is in (the work's own numbering).
    pub fn set_stage(&self, stage: u64) {
        self.stage.store(stage, Ordering::Relaxed);
    }

    /// The stage last reported.
    pub fn stage(&self) -> u64 {
        self.stage.load(Ordering::Relaxed)
    }

    /// Fraction done, 0.0 while the total is unknown.
    pub fn fraction(&self) -> f32 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.done.load(Ordering::Relaxed) as f64 / total as f64) as f32
    }
}

/// Work running on its own thread, with a result to take once.
pub struct Job<T> {
    name: String,
    cx: Arc<JobCx>,
    rx: Receiver<Result<T, JobError>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<T> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Job<T> {
    /// Run `work` on a thread named `name`; `wake` (if any) is called once the result can be
    /// taken, from the worker thread. A cancelled job still wakes, but sends nothing.
    pub fn spawn(name: &str, wake: Option<Waker>, work: impl FnOnce(&JobCx) -> T + Send + 'static) -> Self {
        let cx = Arc::new(JobCx::default());
        let (tx, rx) = mpsc::channel();
        let (cx2, label) = (cx.clone(), name.to_string());
        let spawned = std::thread::Builder::new().name(name.to_string()).spawn(move || {
            let result =
                std::panic::catch_unwind(AssertUnwindSafe(|| work(&cx2))).map_err(|_| JobError::Panicked(label));
            if !cx2.cancelled() {
                let _ = tx.send(result);
            }
            if let Some(w) = wake {
                w();
            }
        });
        match spawned {
            Ok(t) => Job { name: name.to_string(), cx, rx, thread: Some(t) },
            Err(e) => {
                let (tx, rx) = mpsc::channel();
                let _ = tx.send(Err(JobError::Spawn(e.to_string())));
                Job { name: name.to_string(), cx, rx, thread: None }
            }
        }
    }
}

impl<T> Job<T> {
    /// The job's name (its thread's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The progress and cancel state the work reports into.
    pub fn cx(&self) -> &JobCx {
        &self.cx
    }

    /// Ask the work to stop; its result will be dropped.
    pub fn cancel(&self) {
        self.cx.cancel.store(true, Ordering::Relaxed);
    }

    /// The result, if it has arrived (`None` while the work runs).
    pub fn try_take(&mut self) -> Option<Result<T, JobError>> {
        match self.rx.try_recv() {
            Ok(r) => {
                self.join();
                Some(r)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(JobError::Lost(self.name.clone()))),
        }
    }

    /// Wait up to `timeout` for the result. Once it is in, the thread is joined, so its wake-up
    /// call has happened when this returns.
    pub fn wait(&mut self, timeout: Duration) -> Option<Result<T, JobError>> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => {
                self.join();
                Some(r)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Err(JobError::Lost(self.name.clone()))),
        }
    }

    fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_job_delivers_once_and_wakes() {
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        let mut job = Job::spawn(
            "t",
            Some(Arc::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            })),
            |cx| {
                cx.progress(1, 2);
                40 + 2
            },
        );
        assert_eq!(job.wait(Duration::from_secs(10)), Some(Ok(42)));
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        assert_eq!(job.cx().fraction(), 0.5);
    }

    #[test]
    fn a_panic_is_an_error_and_a_cancelled_job_sends_nothing() {
        let mut job: Job<u32> = Job::spawn("boom", None, |_| panic!("x"));
        assert_eq!(job.wait(Duration::from_secs(10)), Some(Err(JobError::Panicked("boom".into()))));
        let (tx, rx) = mpsc::channel::<()>();
        let mut job = Job::spawn("slow", None, move |cx| {
            let _ = rx.recv();
            cx.cancelled()
        });
        job.cancel();
        let _ = tx.send(());
        assert_eq!(job.wait(Duration::from_secs(10)), Some(Err(JobError::Lost("slow".into()))));
    }
}
