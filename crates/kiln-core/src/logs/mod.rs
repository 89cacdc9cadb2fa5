//! The log: one line per API request (PocketBase's activity log) in the `_logs` table, kept
//! apart from the app's data — `auxiliary.db` beside `data.db` on SQLite (PocketBase's file, so a
//! data dir moves either way), a table of its own on PostgreSQL.
//!
//! A request only hands its facts to a channel; a writer thread turns them into rows and writes
//! them in batches (every [`writer::FLUSH_EVERY`] or [`writer::BATCH`] lines), off the request
//! path. A full channel drops lines rather than slow requests down.

pub(crate) mod line;
pub mod query;
pub mod request;
pub(crate) mod store;
pub(crate) mod writer;

use serde_json::{Map, Value};

use crate::app::App;

pub(crate) use line::Line;
pub use line::{RequestFacts, DEBUG, ERROR, INFO, WARN};

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
