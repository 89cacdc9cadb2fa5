//! The code that runs jobs, by job name: registered by the server (the hooks' `jobAdd`), looked
//! up by the worker for each job it claims.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use serde_json::Value;

/// One run of a job, as its handler gets it.
#[derive(Debug, Clone)]
pub struct JobRun {
    pub id: String,
    pub name: String,
    pub payload: Value,
    /// 1 for the first run, 2 for the first retry, …
    pub attempt: i64,
}

/// A handler: `Err(message)` fails the run (retried while attempts remain).
pub type Handler =
    Arc<dyn Fn(JobRun) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The registered handlers.
#[derive(Default)]
pub struct Handlers(RwLock<HashMap<String, Handler>>);

impl Handlers {
    /// Sets the handler of jobs named `name` (replacing one).
    pub fn set(&self, name: &str, handler: Handler) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), handler);
    }

    pub fn get(&self, name: &str) -> Option<Handler> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// The names that have a handler.
    pub fn names(&self) -> Vec<String> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}
