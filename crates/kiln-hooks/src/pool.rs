//! The pool: `size` threads, each owning a loaded runtime (QuickJS runtimes are not `Send`), taking
//! calls from one queue. A runtime that ran out of time or memory is rebuilt before its next call.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::runtime::{CallError, Loaded, Script};
use crate::{HooksError, Limits, Shared};

struct Job {
    route: usize,
    request: String,
    reply: oneshot::Sender<Result<String, String>>,
}

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

    pub(crate) async fn dispatch(&self, route: usize, request: String) -> Result<String, String> {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Job {
                route,
                request,
                reply,
            });
        if sent.is_err() {
            return Err("the hooks' runtimes have stopped".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("a hooks runtime stopped during the call".into()))
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
                    let _ = job.reply.send(Err(e.to_string()));
                    continue;
                }
            }
        }
        let Some(rt) = runtime.as_ref() else { continue };
        let result = match rt.dispatch(job.route, &job.request) {
            Ok(out) => Ok(out),
            Err(CallError::Budget(m)) => {
                runtime = None; // rebuilt for the next call
                Err(format!(
                    "the hook ran out of its time or memory budget: {m}"
                ))
            }
            Err(CallError::Failed(m)) => {
                // the prelude answers every error a hook throws; what escapes it left the
                // runtime in an unknown state (an allocation failing inside an error handler)
                runtime = None;
                Err(m)
            }
        };
        let _ = job.reply.send(result);
    }
}
