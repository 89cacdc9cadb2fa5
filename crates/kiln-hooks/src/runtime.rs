//! One QuickJS runtime with the app's hooks loaded: the natives the prelude calls, the time and
//! memory budget of each call, and the files evaluated in order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Exception, Function, Object, Runtime};

use crate::{HooksError, Limits, Shared};

const PRELUDE: &str = include_str!("prelude.js");

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
}

/// Why a call did not give an answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// It ran out of time or memory (the runtime is rebuilt before the next call).
    Budget(String),
    /// Anything else (a broken prelude contract).
    Failed(String),
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
        };
        loaded.install_natives(state.clone())?;
        // loading has a budget of its own: a file that never ends is an error, not a hang
        loaded.arm(limits.load_timeout);
        let result = loaded.eval("kiln:prelude.js", PRELUDE).and_then(|()| {
            scripts
                .iter()
                .try_for_each(|s| loaded.eval(&s.name, &s.source))
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

    fn install_natives(&self, state: Shared) -> Result<(), HooksError> {
        let deadline = self.deadline.clone();
        let epoch = self.epoch;
        self.context
            .with(|ctx| -> rquickjs::Result<()> {
                let native = Object::new(ctx.clone())?;
                native.set(
                    "log",
                    Function::new(ctx.clone(), |level: i32, msg: String| match level {
                        l if l >= 8 => tracing::error!(target: "kiln_hooks", "{msg}"),
                        l if l >= 4 => tracing::warn!(target: "kiln_hooks", "{msg}"),
                        l if l < 0 => tracing::debug!(target: "kiln_hooks", "{msg}"),
                        _ => tracing::info!(target: "kiln_hooks", "{msg}"),
                    })?,
                )?;
                let env_state = state.clone();
                native.set(
                    "getenv",
                    Function::new(ctx.clone(), move |name: String| {
                        if env_state.hidden_env.iter().any(|h| h == &name) {
                            return String::new();
                        }
                        std::env::var(name).unwrap_or_default()
                    })?,
                )?;
                // sleep counts against the call's time budget: it never sleeps past the deadline
                native.set(
                    "sleep",
                    Function::new(ctx.clone(), move |ms: f64| -> bool {
                        let now = epoch.elapsed().as_millis() as u64;
                        let left = deadline.load(Ordering::Relaxed).saturating_sub(now);
                        let wanted = ms.max(0.0) as u64;
                        std::thread::sleep(Duration::from_millis(wanted.min(left)));
                        wanted > left // true: the budget ran out while sleeping
                    })?,
                )?;
                // `{full, public}` of a record (every field for get(), the API's view for
                // toJSON), null when there is none
                native.set(
                    "findRecordById",
                    Function::new(
                        ctx.clone(),
                        move |ctx: Ctx<'_>, collection: String, id: String| {
                            let Some(app) =
                                state.app.read().unwrap_or_else(|p| p.into_inner()).clone()
                            else {
                                return Err(Exception::throw_message(&ctx, "the app is not ready"));
                            };
                            // an unknown collection is "no rows" too, as PocketBase's lookup of it
                            let Ok(c) = app.collection(&collection) else {
                                return Ok(None);
                            };
                            match app.find_record(&c, &id) {
                                Ok(Some(r)) => {
                                    let viewer = kiln_core::records::model::Viewer {
                                        superuser: false,
                                        auth: None,
                                    };
                                    let public = r.to_json(app.dialect(), &viewer);
                                    let full = serde_json::Value::Object(r.to_full_map());
                                    Ok(Some(
                                        serde_json::json!({"full": full, "public": public})
                                            .to_string(),
                                    ))
                                }
                                Ok(None) => Ok(None),
                                Err(e) => Err(Exception::throw_message(&ctx, &e.to_string())),
                            }
                        },
                    )?,
                )?;
                ctx.globals().set("__kiln", native)
            })
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

    /// The routes the scripts registered, as JSON (`[{method, path}]`).
    pub(crate) fn routes_json(&self) -> Result<String, HooksError> {
        self.context.with(|ctx| {
            let native: Object<'_> = ctx
                .globals()
                .get("__kiln")
                .map_err(|e| HooksError::Engine(e.to_string()))?;
            let f: Function<'_> = native
                .get("routes")
                .map_err(|e| HooksError::Engine(e.to_string()))?;
            f.call::<_, String>(())
                .catch(&ctx)
                .map_err(|e| HooksError::Engine(describe(e)))
        })
    }

    /// Runs route `index` for the request `request` (JSON), within the time budget.
    pub(crate) fn dispatch(&self, index: usize, request: &str) -> Result<String, CallError> {
        self.arm(self.limits.call_timeout);
        let out = self.context.with(|ctx| {
            let native: Object<'_> = ctx
                .globals()
                .get("__kiln")
                .map_err(|e| CallError::Failed(e.to_string()))?;
            let f: Function<'_> = native
                .get("dispatch")
                .map_err(|e| CallError::Failed(e.to_string()))?;
            f.call::<_, String>((index as u32, request))
                .catch(&ctx)
                .map_err(|e| {
                    let text = describe(e);
                    if text.contains("interrupted")
                        || text.contains("out of memory")
                        || text.contains("stack overflow")
                    {
                        CallError::Budget(text)
                    } else {
                        CallError::Failed(text)
                    }
                })
        });
        self.disarm();
        out
    }
}

/// A thrown value as text: the message and where it happened.
fn describe(e: CaughtError<'_>) -> String {
    match e {
        CaughtError::Exception(ex) => {
            let message = ex.message().unwrap_or_default();
            match ex.stack() {
                Some(stack) if !stack.trim().is_empty() => {
                    format!("{message}\n{}", stack.trim_end())
                }
                _ => message,
            }
        }
        CaughtError::Value(v) => format!("{v:?}"),
        CaughtError::Error(e) => e.to_string(),
    }
}

/// `*.pb.js` files of `dir`, in name order (PocketBase's order).
pub(crate) fn read_dir(dir: &std::path::Path) -> Result<Vec<Script>, HooksError> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".pb.js"))
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
