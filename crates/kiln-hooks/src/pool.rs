//! The pool: `size` threads, each owning a loaded runtime (QuickJS runtimes are not `Send`), taking
//! jobs from one queue. A runtime that ran out of time or memory is rebuilt before its next job.

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
        for n in 0..size {
            let rx = rx.clone();
            let scripts = scripts.clone();
            let state = state.clone();
            std::thread::Builder::new()
                .name(format!("kiln-hooks-{n}"))
                .spawn(move || worker(&rx, &scripts, limits, &state))
                .map_err(|e| HooksError::Engine(e.to_string()))?;
        }
        Ok(Pool {
            queue: Mutex::new(tx),
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
        let sent = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job);
        if sent.is_err() {
            return Err("the hooks' runtimes have stopped".into());
        }
        answer
            .await
            .map_err(|_| "a hooks runtime could not run the call".into())
    }
}

fn worker(rx: &Mutex<Receiver<Job>>, scripts: &[Script], limits: Limits, state: &Shared) {
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
                    continue;
                }
            }
        }
        let Some(rt) = runtime.as_ref() else { continue };
        if job(rt) {
            runtime = None; // rebuilt for the next job
        }
    }
}
