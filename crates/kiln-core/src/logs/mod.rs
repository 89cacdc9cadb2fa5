//! The log: one line per API request (PocketBase's activity log) in the `_logs` table, kept
//! apart from the app's data — `auxiliary.db` beside `data.db` on SQLite (PocketBase's file, so a
//! data dir moves either way), a table of its own on PostgreSQL.
//!
//! A request only hands its facts to a channel; a writer thread turns them into rows and writes
//! them in batches (every [`writer::FLUSH_EVERY`] or [`writer::BATCH`] lines), off the request
//! path. A full channel drops lines rather than slow requests down.

pub mod query;
mod store;
mod writer;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::app::App;
use crate::records::Record;

pub(crate) use store::open as open_store;
pub(crate) use writer::Writer;

/// Go's `slog` levels, which PocketBase stores.
pub const DEBUG: i64 = -4;
pub const INFO: i64 = 0;
pub const WARN: i64 = 4;
pub const ERROR: i64 = 8;

/// One API request as the HTTP layer saw it.
#[derive(Debug)]
pub struct RequestLog {
    pub method: String,
    /// The request URI (path and query), as sent.
    pub url: String,
    pub status: u16,
    /// Milliseconds from the request's arrival to its response.
    pub exec_ms: f64,
    pub auth: Option<Arc<Record>>,
    /// The client's address (a trusted proxy's header, else the peer).
    pub user_ip: String,
    /// The peer's address.
    pub remote_ip: String,
    pub referer: String,
    pub user_agent: String,
    /// The API error answered: its message and data.
    pub error: Option<(String, Map<String, Value>)>,
}

/// What the writer turns into a row.
#[derive(Debug)]
pub(crate) enum Line {
    Request {
        log: Box<RequestLog>,
        log_ip: bool,
        log_auth_id: bool,
    },
    /// A line of the app's own (a warning, a failed job), with its attributes.
    Message {
        level: i64,
        message: String,
        data: Map<String, Value>,
    },
}

impl App {
    /// Logs a finished request, if the settings keep request logs at its level.
    pub fn log_request(&self, log: RequestLog) {
        let level = if log.error.is_some() { ERROR } else { INFO };
        let s = self.settings();
        if s.logs.max_days <= 0 || level < s.logs.min_level {
            return;
        }
        let line = Line::Request {
            log: Box::new(log),
            log_ip: s.logs.log_ip,
            log_auth_id: s.logs.log_auth_id,
        };
        self.logs().push(line, s.logs.max_data_size);
    }

    /// Logs a line of the app's own (`level` as in [`INFO`], [`WARN`], …), if the settings keep
    /// logs at that level.
    pub fn log_message(&self, level: i64, message: impl Into<String>, data: Map<String, Value>) {
        let s = self.settings();
        if s.logs.max_days <= 0 || level < s.logs.min_level {
            return;
        }
        let line = Line::Message {
            level,
            message: message.into(),
            data,
        };
        self.logs().push(line, s.logs.max_data_size);
    }

    /// Writes every line logged so far (tests, shutdown, before reading the log right away).
    pub fn flush_logs(&self) {
        self.logs().flush();
    }
}
