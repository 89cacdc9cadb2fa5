//! Server-side JavaScript, as PocketBase's `pb_hooks`: the `*.pb.js` files of a folder run in a pool
//! of QuickJS runtimes (QuickJS builds from crates.io with a C compiler and nothing else), each call
//! within a time and a memory budget. What the files may use so far: `routerAdd` with `$apis`
//! middlewares, the request event, the record hooks (request, model and after-success ones, the
//! model hooks inside the write's transaction), `Record`, `$app` (finding, saving and deleting
//! records), PocketBase's error types, `console`, `sleep`, `$os.getenv` and `toString` (`js/`).
//! Nothing here knows HTTP types: kiln-http turns a request into a [`HookRequest`] and a
//! [`HookResponse`] back, and hands record writes to [`Hooks::create_record`] and its kin.

mod bridge;
mod cron;
mod enqueue;
mod expand;
mod files;
mod http;
mod jobs;
mod link;
mod mail;
pub mod migrate;
mod modules;
mod natives;
mod payload;
mod pool;
mod read;
mod realtime;
mod records;
mod route;
mod runtime;
mod schema;
mod security;
mod template;
mod worker;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};

pub use payload::{auth_value, Next, Patch};
pub use read::{AuthOutcome, Page, ReadOutcome};
pub use realtime::client_json;
pub use records::RecordOutcome;
pub use route::Route;

/// What a hook call may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// One request's hook chain (PocketBase has none; Kiln ends runaway code).
    pub call_timeout: Duration,
    /// Evaluating the files at start.
    pub load_timeout: Duration,
    /// The heap of one runtime.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            call_timeout: Duration::from_secs(30),
            load_timeout: Duration::from_secs(30),
            memory_bytes: 128 << 20,
        }
    }
}

/// Why the hooks did not load.
#[derive(Debug)]
pub enum HooksError {
    /// A folder or file could not be read.
    Read(String),
    /// A file threw (a syntax error, an error at its top level): the file, the message and where.
    Load { file: String, message: String },
    /// The engine itself failed.
    Engine(String),
}

impl std::fmt::Display for HooksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HooksError::Read(m) => write!(f, "cannot read the hooks: {m}"),
            HooksError::Load { file, message } => write!(f, "pb_hooks/{file}: {message}"),
            HooksError::Engine(m) => write!(f, "the JavaScript engine failed: {m}"),
        }
    }
}

impl std::error::Error for HooksError {}

/// A request for a route of the hooks.
#[derive(Debug, Clone, Default)]
pub struct HookRequest {
    pub method: String,
    pub path: String,
    pub raw_query: String,
    /// Query values by name.
    pub query: Map<String, Value>,
    /// Header values by lower-case name.
    pub headers: Map<String, Value>,
    /// The body as `requestInfo().body` shows it (a JSON or form body), or null.
    pub body: Value,
    /// The authenticated record (every field but the password hash and token key), or null.
    pub auth: Value,
    pub ip: String,
}

/// How `routerUse`'s middlewares ended.
#[derive(Debug)]
pub enum Middlewares {
    /// The request went on (or no one answered); `gzip` and `skip_log` say what they asked of
    /// its answer.
    WentOn(HookResponse),
    /// A middleware answered.
    Answered(HookResponse),
}

/// A hook's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HookResponse {
    pub status: u16,
    /// `json`, a content type, or empty.
    pub content_type: String,
    pub body: String,
    pub location: Option<String>,
    /// `$apis.gzip()` ran: compress the answer if the client takes it.
    pub gzip: bool,
    /// `$apis.skipSuccessActivityLog()` ran: a success is not logged.
    pub skip_log: bool,
}

/// What every runtime of the pool shares: the app `$app` reaches and the server's async runtime
/// (both set by the server, the app replaced when it reloads after a restore), the environment
/// variables hooks may not read, and which hooks the files registered.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) app: RwLock<Option<kiln_core::App>>,
    pub(crate) handle: RwLock<Option<tokio::runtime::Handle>>,
    pub(crate) hidden_env: Vec<String>,
    /// The hooks folder, absolute (`__hooks`).
    pub(crate) hooks_dir: std::path::PathBuf,
    pub(crate) watch: std::sync::OnceLock<Arc<link::Watch>>,
    /// Adds a `cronAdd` job (name, expression, source) while the server runs.
    pub(crate) cron_add: std::sync::OnceLock<CronAdd>,
    /// Adds a `jobAdd` handler (name, source) while the server runs.
    pub(crate) job_add: std::sync::OnceLock<JobAdd>,
}

pub(crate) type Shared = Arc<State>;

/// What `cronAdd` calls while the server runs: the job (name, expression, source) into the app's
/// table, run on the pool.
pub(crate) type CronAdd =
    Box<dyn Fn(&kiln_core::App, String, String, String) -> Result<(), String> + Send + Sync>;

/// What `jobAdd` calls while the server runs: the handler (name, source) into the app, run on
/// the pool.
pub(crate) type JobAdd = Box<dyn Fn(&kiln_core::App, String, String) + Send + Sync>;

/// The loaded hooks: their routes, and the pool that runs them.
pub struct Hooks {
    routes: Vec<Route>,
    pool: Arc<pool::Pool>,
    files: usize,
    state: Shared,
    watch: Arc<link::Watch>,
    crons: Vec<cron::Cron>,
    jobs: Vec<jobs::JobHandler>,
    middlewares: usize,
}

impl Hooks {
    /// Loads the `*.pb.js` files of `dir` (none if it does not exist) into `size` runtimes.
    /// `hidden_env` names environment variables `$os.getenv` answers empty for: Kiln's own secrets
    /// (the database URL, the settings key), which the hooks were not given.
    pub fn load(
        dir: &Path,
        size: usize,
        limits: Limits,
        hidden_env: Vec<String>,
    ) -> Result<Hooks, HooksError> {
        let scripts = runtime::read_dir(dir, ".pb.js")?;
        let files = scripts.len();
        let state: Shared = Arc::new(State {
            hidden_env,
            hooks_dir: std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()),
            ..State::default()
        });
        let first = runtime::Loaded::new(&scripts, limits, &state)?;
        let raw = first.registry_json()?;
        let registry: Value =
            serde_json::from_str(&raw).map_err(|e| HooksError::Engine(e.to_string()))?;
        let empty = Vec::new();
        let watch = Arc::new(link::Watch {
            entries: registry["hooks"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .map(|h| {
                    let tags = h["tags"].as_array().unwrap_or(&empty);
                    (
                        h["name"].as_str().unwrap_or_default().to_owned(),
                        tags.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect(),
                    )
                })
                .collect(),
        });
        let _ = state.watch.set(watch.clone());
        let routes = registry["routes"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(|r| {
                Route::new(
                    r["method"].as_str().unwrap_or("GET"),
                    r["path"].as_str().unwrap_or("/"),
                )
            })
            .collect();
        // the runtime that checked the files and listed the routes stays on this thread
        drop(first);
        let crons = registry["crons"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(|c| cron::Cron {
                name: c["name"].as_str().unwrap_or_default().to_owned(),
                expression: c["expression"].as_str().unwrap_or_default().to_owned(),
                source: c["source"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        let jobs = registry["jobs"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(|j| jobs::JobHandler {
                name: j["name"].as_str().unwrap_or_default().to_owned(),
                source: j["source"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        let pool = Arc::new(pool::Pool::start(
            scripts,
            size.max(1),
            limits,
            state.clone(),
        )?);
        let weak = Arc::downgrade(&pool);
        let _ = state
            .cron_add
            .set(Box::new(move |app, name, expression, source| {
                let pool = weak.upgrade().ok_or("the hooks' runtimes have stopped")?;
                cron::register(
                    app,
                    &pool,
                    cron::Cron {
                        name,
                        expression,
                        source,
                    },
                )
            }));
        let weak = Arc::downgrade(&pool);
        let _ = state.job_add.set(Box::new(move |app, name, source| {
            if let Some(pool) = weak.upgrade() {
                jobs::register(app, &pool, jobs::JobHandler { name, source });
            }
        }));
        Ok(Hooks {
            routes,
            pool,
            files,
            state,
            watch,
            crons,
            jobs,
            middlewares: registry["middlewares"].as_u64().unwrap_or(0) as usize,
        })
    }

    /// The app `$app` works on (again after the server reopened it). Called on the server's
    /// async runtime, which the hooks' own writes then run on.
    pub fn set_app(&self, app: kiln_core::App) {
        for c in &self.crons {
            if let Err(e) = cron::register(&app, &self.pool, c.clone()) {
                tracing::error!(target: "kiln_hooks", job = %c.name, "cannot add the cron job: {e}");
            }
        }
        for j in &self.jobs {
            jobs::register(&app, &self.pool, j.clone());
        }
        if self.hook_count() > 0 {
            app.set_write_runner(Arc::new(bridge::WriteBridge {
                pool: self.pool.clone(),
                watch: self.watch.clone(),
            }));
        }
        if bridge::MailBridge::wanted(&self.watch) {
            app.set_mail_hooks(Arc::new(bridge::MailBridge {
                pool: self.pool.clone(),
                watch: self.watch.clone(),
            }));
        }
        *self.state.app.write().unwrap_or_else(|p| p.into_inner()) = Some(app);
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            *self.state.handle.write().unwrap_or_else(|p| p.into_inner()) = Some(h);
        }
    }

    /// Runs `onBootstrap` (the app is open): an error stops the start, as in PocketBase.
    pub async fn started(&self) -> Result<(), kiln_core::CoreError> {
        self.app_hook("onBootstrap", serde_json::json!({})).await
    }

    /// Runs `onTerminate` (`e.isRestart`: the server starts again, after a restore or a change
    /// of the hooks).
    pub async fn terminated(&self, restart: bool) -> Result<(), kiln_core::CoreError> {
        self.app_hook("onTerminate", serde_json::json!({ "isRestart": restart }))
            .await
    }

    async fn app_hook(&self, name: &'static str, event: Value) -> Result<(), kiln_core::CoreError> {
        if !self.watch.has_name(name) {
            return Ok(());
        }
        let raw = event.to_string();
        self.pool
            .run(move |rt| {
                rt.run(|ctx, w| {
                    let out = worker::call_js(ctx, w, "appHook", (name, raw))?;
                    match out.is_empty() {
                        true => Ok(()),
                        false => Err(kiln_core::CoreError::Internal(format!("{name}: {out}"))),
                    }
                })
            })
            .await
            .map_err(kiln_core::CoreError::Internal)?
    }

    /// How many hooks (not routes) the files registered.
    pub fn hook_count(&self) -> usize {
        self.watch.entries.len()
    }

    /// How many middlewares `routerUse` registered.
    pub fn middleware_count(&self) -> usize {
        self.middlewares
    }

    /// Runs `routerUse`'s middlewares for `req`; their last `e.next()` runs `next`. The answer
    /// a middleware gave instead, what they asked of the answer the request went on to, or an
    /// error of Kiln's they let through.
    pub async fn call_middlewares(
        &self,
        req: HookRequest,
        next: Next,
    ) -> Result<Middlewares, kiln_core::CoreError> {
        let json = request_value(&req, Vec::new()).to_string();
        self.pool
            .run(move |rt| {
                rt.run(|ctx, w| {
                    *w.middleware_next.borrow_mut() = Some(next);
                    let raw = worker::call_js(ctx, w, "middleware", (json,));
                    w.middleware_next.borrow_mut().take();
                    let raw = raw?;
                    if raw.is_empty() {
                        return Ok(Middlewares::WentOn(HookResponse::default()));
                    }
                    if raw.contains(r#""kiln":true"#) {
                        return Err(w.js_error(&raw));
                    }
                    let res = parse_response(&raw);
                    match raw.starts_with(r#"{"passed":true"#) {
                        true => Ok(Middlewares::WentOn(res)),
                        false => Ok(Middlewares::Answered(res)),
                    }
                })
            })
            .await
            .map_err(kiln_core::CoreError::Internal)?
    }

    /// How many cron jobs the files registered.
    pub fn cron_count(&self) -> usize {
        self.crons.len()
    }

    /// How many files were loaded.
    pub fn files(&self) -> usize {
        self.files
    }

    /// The routes the files registered, in order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The first route for `method path`, with its path values.
    pub fn find_route(&self, method: &str, path: &str) -> Option<(usize, Vec<(String, String)>)> {
        self.routes
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.matches(method, path).map(|v| (i, v)))
    }

    /// Runs route `index` for `req` with `params` (its path values). `Err` is an error of Kiln's
    /// (a failed `$app.save`, …) the route let through, for the API to answer.
    pub async fn call_route(
        &self,
        index: usize,
        params: Vec<(String, String)>,
        req: HookRequest,
    ) -> Result<HookResponse, kiln_core::CoreError> {
        let request = request_value(&req, params).to_string();
        let out = self
            .pool
            .run(move |rt| {
                rt.run(|ctx, w| {
                    let raw = worker::call_js(ctx, w, "dispatch", (index as u32, request))?;
                    // a write or query of Kiln's failed and the route let it through
                    match raw.contains(r#""kiln":true"#) {
                        true => Err(w.js_error(&raw)),
                        false => Ok(raw),
                    }
                })
            })
            .await
            .map_err(kiln_core::CoreError::Internal)
            .and_then(|r| r);
        match out {
            Ok(raw) => Ok(parse_response(&raw)),
            Err(e @ kiln_core::CoreError::Internal(_)) => {
                let message = e.to_string();
                tracing::error!(target: "kiln_hooks", route = %self.routes[index].path, "{message}");
                Ok(HookResponse {
                    status: 500,
                    content_type: "json".into(),
                    body: serde_json::json!({"data": {}, "message": "Something went wrong while processing your request.", "status": 500}).to_string(),
                    ..HookResponse::default()
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// A request as the prelude's event reads it.
fn request_value(req: &HookRequest, params: Vec<(String, String)>) -> Value {
    serde_json::json!({
        "method": req.method, "path": req.path, "rawQuery": req.raw_query, "query": req.query,
        "headers": req.headers, "body": req.body, "auth": req.auth, "ip": req.ip,
        "params": params.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<String, Value>>(),
    })
}

pub(crate) fn parse_response(raw: &str) -> HookResponse {
    let v: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    let status = v["status"]
        .as_u64()
        .filter(|s| (100..=999).contains(s))
        .unwrap_or(500) as u16;
    HookResponse {
        status,
        content_type: v["type"].as_str().unwrap_or_default().to_owned(),
        body: v["body"].as_str().unwrap_or_default().to_owned(),
        location: v["location"].as_str().map(str::to_owned),
        gzip: v["gzip"] == Value::Bool(true),
        skip_log: v["skipLog"] == Value::Bool(true),
    }
}
