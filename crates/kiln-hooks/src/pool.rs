//! The pool: `size` threads, each owning a loaded runtime (QuickJS runtimes are not `Send`), taking
//! jobs from one queue. A runtime that ran out of time or memory is rebuilt before its next job.
//!
//! A job never waits behind busy runtimes: it is queued only with a free runtime reserved for it,
//! else it runs on a runtime of its own, loaded for it on a thread of its own (PocketBase also
//! makes a runtime when its pool is busy). So a job whose work needs another job — a middleware
//! whose `e.next()` reaches a records write with hooks — cannot wait for itself.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::runtime::{Loaded, Script};
use crate::{HooksError, Limits, Shared};

/// A job: runs on a worker's runtime and says whether it spent it (ran out of time or memory,
/// or left it in an unknown state), so that it is rebuilt.
type Job = Box<dyn FnOnce(&Loaded) -> bool + Send>;

pub(crate) struct Pool {
    queue: Mutex<Sender<Job>>,
    /// Runtimes free and not reserved by a queued job.
    idle: Arc<AtomicUsize>,
    /// Told whenever a runtime becomes free (for [`Pool::run_queued`]).
    freed: Arc<tokio::sync::Notify>,
    scripts: Arc<Vec<Script>>,
    limits: Limits,
    state: Shared,
}

impl Pool {
    /// Starts the threads; each loads its own runtime (QuickJS runtimes stay on their thread).
    pub(crate) fn start(
        scripts: Vec<Script>,
        size: usize,
        limits: Limits,
        state: Shared,
    ) -> Result<Pool, HooksError> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let scripts = Arc::new(scripts);
        let idle = Arc::new(AtomicUsize::new(size));
        let freed = Arc::new(tokio::sync::Notify::new());
        for n in 0..size {
            let rx = rx.clone();
            let scripts = scripts.clone();
            let state = state.clone();
            let (idle, freed) = (idle.clone(), freed.clone());
            std::thread::Builder::new()
                .name(format!("kiln-hooks-{n}"))
                .spawn(move || worker(&rx, &scripts, limits, &state, &idle, &freed))
                .map_err(|e| HooksError::Engine(e.to_string()))?;
        }
        Ok(Pool {
            queue: Mutex::new(tx),
            idle,
            freed,
            scripts,
            limits,
            state,
        })
    }

    /// Runs `job` on the first free runtime; `Err` when the runtimes are gone or could not be
    /// rebuilt. The job answers `(result, spent)`.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Loaded) -> (T, bool) + Send + 'static,
    ) -> Result<T, String> {
        let (job, answer) = boxed(job);
        if self.reserve() {
            self.send(job)?;
        } else {
            self.overflow(job)?;
        }
        answer
            .await
            .map_err(|_| "a hooks runtime could not run the call".into())
    }

    /// [`Pool::run`] for a job that never waits for another job (a realtime hook): it waits
    /// for a free runtime rather than getting one of its own, so that a burst of them (a message
    /// to every client) costs no more runtimes than the pool has.
    pub(crate) async fn run_queued<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Loaded) -> (T, bool) + Send + 'static,
    ) -> Result<T, String> {
        let (job, answer) = boxed(job);
        loop {
            // registered before the check, so that a runtime freed in between is not missed
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.reserve() {
                break;
            }
            freed.await;
        }
        self.send(job)?;
        answer
            .await
            .map_err(|_| "a hooks runtime could not run the call".into())
    }

    /// Takes a free runtime for a job about to be queued.
    fn reserve(&self) -> bool {
        self.idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    fn send(&self, job: Job) -> Result<(), String> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| "the hooks' runtimes have stopped".into())
    }
}

/// `job` as the queue takes it, and where its answer arrives.
fn boxed<T: Send + 'static>(
    job: impl FnOnce(&Loaded) -> (T, bool) + Send + 'static,
) -> (Job, oneshot::Receiver<T>) {
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move |rt| {
        let (out, spent) = job(rt);
        let _ = reply.send(out);
        spent
    });
    (job, answer)
}

impl Pool {
    /// Runs `job` on a runtime loaded for it alone.
    fn overflow(&self, job: Job) -> Result<(), String> {
        let scripts = self.scripts.clone();
        let (limits, state) = (self.limits, self.state.clone());
        std::thread::Builder::new()
            .name("kiln-hooks-extra".into())
            .spawn(move || match Loaded::new(&scripts, limits, &state) {
                Ok(rt) => {
                    job(&rt);
                }
                Err(e) => tracing::error!(target: "kiln_hooks", "cannot load a runtime: {e}"),
            })
            .map(drop)
            .map_err(|e| format!("cannot start a hooks thread: {e}"))
    }
}

fn worker(
    rx: &Mutex<Receiver<Job>>,
    scripts: &[Script],
    limits: Limits,
    state: &Shared,
    idle: &AtomicUsize,
    freed: &tokio::sync::Notify,
) {
    // loaded before the first call (the files were checked once already)
    let mut runtime: Option<Loaded> = Loaded::new(scripts, limits, state).ok();
    loop {
        let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return, // the pool is gone
        };
        if runtime.is_none() {
            match Loaded::new(scripts, limits, state) {
                Ok(r) => runtime = Some(r),
                Err(e) => {
                    tracing::error!(target: "kiln_hooks", "cannot rebuild a runtime: {e}");
                    drop(job); // its caller hears that it could not run
                    idle.fetch_add(1, Ordering::AcqRel);
                    freed.notify_waiters();
                    continue;
                }
            }
        }
        if let Some(rt) = runtime.as_ref() {
            if job(rt) {
                runtime = None; // rebuilt for the next job
            }
        }
        idle.fetch_add(1, Ordering::AcqRel);
        freed.notify_waiters();
    }
}
