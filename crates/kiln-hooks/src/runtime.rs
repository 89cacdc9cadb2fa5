//! One QuickJS runtime with the app's hooks loaded: the natives the prelude calls, the time and
//! memory budget of each call, and the files evaluated in order.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::{CatchResultExt, Context, Ctx, Runtime};

use crate::worker::{describe, Worker};
use crate::{HooksError, Limits, Shared};

/// PocketBase's JSVM API in JavaScript, evaluated before the app's files (in this order).
const PRELUDE: [(&str, &str); 7] = [
    ("kiln:base.js", include_str!("js/base.js")),
    ("kiln:router.js", include_str!("js/router.js")),
    ("kiln:records.js", include_str!("js/records.js")),
    ("kiln:collections.js", include_str!("js/collections.js")),
    ("kiln:events.js", include_str!("js/events.js")),
    ("kiln:dbx.js", include_str!("js/dbx.js")),
    ("kiln:app.js", include_str!("js/app.js")),
];

/// A hook file: its name (for messages) and source.
#[derive(Clone)]
pub(crate) struct Script {
    pub name: String,
    pub source: String,
}

/// A runtime with every script evaluated.
pub(crate) struct Loaded {
    // the context borrows the runtime: dropped first
    context: Context,
    _runtime: Runtime,
    /// Milliseconds since `epoch` after which the running call is interrupted (u64::MAX: none).
    deadline: Arc<AtomicU64>,
    epoch: Instant,
    limits: Limits,
    worker: Rc<Worker>,
}

impl Loaded {
    /// A fresh runtime with `scripts` evaluated in order.
    pub(crate) fn new(
        scripts: &[Script],
        limits: Limits,
        state: &Shared,
    ) -> Result<Loaded, HooksError> {
        let runtime = Runtime::new().map_err(|e| HooksError::Engine(e.to_string()))?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(1 << 20);
        let epoch = Instant::now();
        let deadline = Arc::new(AtomicU64::new(u64::MAX));
        {
            let deadline = deadline.clone();
            runtime.set_interrupt_handler(Some(Box::new(move || {
                epoch.elapsed().as_millis() as u64 > deadline.load(Ordering::Relaxed)
            })));
        }
        let context = Context::full(&runtime).map_err(|e| HooksError::Engine(e.to_string()))?;
        let loaded = Loaded {
            context,
            _runtime: runtime,
            deadline,
            epoch,
            limits,
            worker: Rc::new(Worker::new(state.clone())),
        };
        loaded.install_natives()?;
        // loading has a budget of its own: a file that never ends is an error, not a hang
        loaded.arm(limits.load_timeout);
        let result = PRELUDE
            .iter()
            .try_for_each(|(name, src)| loaded.eval(name, src))
            .and_then(|()| {
                scripts.iter().try_for_each(|s| {
                    // `migrate()` notes the file it is called from
                    loaded
                        .context
                        .with(|ctx| ctx.globals().set("__kiln_file", s.name.as_str()))
                        .map_err(|e| HooksError::Engine(e.to_string()))?;
                    loaded.eval(&s.name, &s.source)
                })
            });
        let result = result.and_then(|()| {
            loaded
                .run(|ctx, w| crate::worker::call_js(ctx, w, "loaded", ()))
                .0
                .map(drop)
                .map_err(|e| HooksError::Engine(e.to_string()))
        });
        loaded.disarm();
        result.map(|()| loaded)
    }

    fn arm(&self, budget: Duration) {
        let at = self.epoch.elapsed() + budget;
        self.deadline
            .store(at.as_millis() as u64, Ordering::Relaxed);
    }

    fn disarm(&self) {
        self.deadline.store(u64::MAX, Ordering::Relaxed);
    }

    fn install_natives(&self) -> Result<(), HooksError> {
        let deadline = self.deadline.clone();
        let epoch = self.epoch;
        let worker = self.worker.clone();
        self.context
            .with(|ctx| crate::natives::install(&ctx, worker, deadline, epoch))
            .map_err(|e| HooksError::Engine(e.to_string()))
    }

    fn eval(&self, name: &str, source: &str) -> Result<(), HooksError> {
        self.context.with(|ctx| {
            let mut opts = rquickjs::context::EvalOptions::default();
            opts.filename = Some(name.to_owned());
            opts.strict = false;
            ctx.eval_with_options::<(), _>(source, opts)
                .catch(&ctx)
                .map_err(|e| HooksError::Load {
                    file: name.to_owned(),
                    message: describe(e),
                })
        })
    }

    /// What the scripts registered, as JSON: `{routes: [{method, path}], hooks: [{name, tags}]}`.
    pub(crate) fn registry_json(&self) -> Result<String, HooksError> {
        self.run(|ctx, w| crate::worker::call_js(ctx, w, "registry", ()))
            .0
            .map_err(|e| HooksError::Engine(e.to_string()))
    }

    /// Runs `f` within the call budget, with the worker's state (errors of one call do not
    /// reach the next).
    /// Whether the runtime is spent is answered beside: an exception escaped the prelude's
    /// entry points (the budget ran out, or an allocation failed inside an error handler).
    pub(crate) fn run<T>(&self, f: impl FnOnce(&Ctx<'_>, &Worker) -> T) -> (T, bool) {
        self.arm(self.limits.call_timeout);
        let out = self.context.with(|ctx| f(&ctx, &self.worker));
        self.disarm();
        self.worker.error.borrow_mut().take();
        (out, self.worker.spent.take())
    }
}

/// The files of `dir` whose names end with `suffix`, in name order (PocketBase's order); none
/// when `dir` does not exist.
pub(crate) fn read_dir(dir: &std::path::Path, suffix: &str) -> Result<Vec<Script>, HooksError> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HooksError::Read(format!("{}: {e}", dir.display()))),
    };
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let source = std::fs::read_to_string(&p)
                .map_err(|e| HooksError::Read(format!("{}: {e}", p.display())))?;
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            Ok(Script { name, source })
        })
        .collect()
}
