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
        for n in 0..size {
            let rx = rx.clone();
            let scripts = scripts.clone();
            let state = state.clone();
            let idle = idle.clone();
            std::thread::Builder::new()
                .name(format!("kiln-hooks-{n}"))
                .spawn(move || worker(&rx, &scripts, limits, &state, &idle))
                .map_err(|e| HooksError::Engine(e.to_string()))?;
        }
        Ok(Pool {
            queue: Mutex::new(tx),
            idle,
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
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |rt| {
            let (out, spent) = job(rt);
            let _ = reply.send(out);
            spent
        });
        let reserved = self
            .idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if reserved {
            let sent = self
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .send(job);
            if sent.is_err() {
                return Err("the hooks' runtimes have stopped".into());
            }
        } else {
            self.overflow(job)?;
        }
        answer
            .await
            .map_err(|_| "a hooks runtime could not run the call".into())
    }
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
    }
}
