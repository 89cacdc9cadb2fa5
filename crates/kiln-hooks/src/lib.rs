//! Server-side JavaScript, as PocketBase's `pb_hooks`: the `*.pb.js` files of a folder run in a pool
//! of QuickJS runtimes (QuickJS builds from crates.io with a C compiler and nothing else), each call
//! within a time and a memory budget. What the files may use so far: `routerAdd` with `$apis`
//! middlewares, the request event, PocketBase's error types, `$app.findRecordById`, `console`,
//! `sleep`, `$os.getenv` and `toString` (`prelude.js`). Nothing here knows HTTP types: kiln-http turns a request into a
//! [`HookRequest`] and a [`HookResponse`] back.

mod pool;
mod route;
mod runtime;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};

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

/// A hook's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HookResponse {
    pub status: u16,
    /// `json`, a content type, or empty.
    pub content_type: String,
    pub body: String,
    pub location: Option<String>,
}

/// What every runtime of the pool shares: the app `$app` reaches (set by the server, replaced when
/// it reloads after a restore) and the environment variables hooks may not read.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) app: RwLock<Option<kiln_core::App>>,
    pub(crate) hidden_env: Vec<String>,
}

pub(crate) type Shared = Arc<State>;

/// The loaded hooks: their routes, and the pool that runs them.
pub struct Hooks {
    routes: Vec<Route>,
    pool: pool::Pool,
    files: usize,
    state: Shared,
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
        let scripts = runtime::read_dir(dir)?;
        let files = scripts.len();
        let state: Shared = Arc::new(State {
            app: RwLock::default(),
            hidden_env,
        });
        let first = runtime::Loaded::new(&scripts, limits, &state)?;
        let raw = first.routes_json()?;
        let list: Vec<Value> =
            serde_json::from_str(&raw).map_err(|e| HooksError::Engine(e.to_string()))?;
        let routes = list
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
        let pool = pool::Pool::start(scripts, size.max(1), limits, state.clone())?;
        Ok(Hooks {
            routes,
            pool,
            files,
            state,
        })
    }

    /// The app `$app` works on (again after the server reopened it).
    pub fn set_app(&self, app: kiln_core::App) {
        *self.state.app.write().unwrap_or_else(|p| p.into_inner()) = Some(app);
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

    /// Runs route `index` for `req` with `params` (its path values).
    pub async fn call_route(
        &self,
        index: usize,
        params: Vec<(String, String)>,
        req: HookRequest,
    ) -> HookResponse {
        let mut json = serde_json::json!({
            "method": req.method, "path": req.path, "rawQuery": req.raw_query, "query": req.query,
            "headers": req.headers, "body": req.body, "auth": req.auth, "ip": req.ip,
        });
        json["params"] = Value::Object(
            params
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
        match self.pool.dispatch(index, json.to_string()).await {
            Ok(raw) => parse_response(&raw),
            Err(message) => {
                tracing::error!(target: "kiln_hooks", route = %self.routes[index].path, "{message}");
                HookResponse {
                    status: 500,
                    content_type: "json".into(),
                    body: serde_json::json!({"data": {}, "message": "Something went wrong while processing your request.", "status": 500}).to_string(),
                    location: None,
                }
            }
        }
    }
}

fn parse_response(raw: &str) -> HookResponse {
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
    }
}
