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

use std::net::IpAddr;

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

/// One API request as the HTTP layer saw it. The writer thread reads it to build the line, so
/// the HTTP layer keeps its own values (no text is made on the request path) and the core sees
/// no HTTP type.
pub trait RequestFacts: Send {
    fn method(&self) -> &str;
    /// The request URI (path and query), as sent.
    fn url(&self) -> &str;
    fn status(&self) -> u16;
    /// Milliseconds from the request's arrival to its response.
    fn exec_ms(&self) -> f64;
    fn auth(&self) -> Option<&Record>;
    /// The client's address (a trusted proxy's header, else the peer).
    fn user_ip(&self) -> Option<IpAddr>;
    /// The peer's address.
    fn remote_ip(&self) -> Option<IpAddr>;
    fn referer(&self) -> &str;
    fn user_agent(&self) -> &str;
    /// The API error answered: its message and data.
    fn error(&self) -> Option<(&str, &Map<String, Value>)>;
}

/// What the writer turns into a row.
pub(crate) enum Line {
    Request {
        log: Box<dyn RequestFacts>,
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
    pub fn log_request(&self, log: Box<dyn RequestFacts>) {
        let level = if log.error().is_some() { ERROR } else { INFO };
        let s = self.settings();
        if s.logs.max_days <= 0 || level < s.logs.min_level {
            return;
        }
        let line = Line::Request {
            log,
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
