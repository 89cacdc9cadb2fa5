//! What a log line is made from: the levels, a request's facts, a line queued for the writer.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::records::model::Record;

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
    /// The id the client or a proxy gave the request (`X-Request-Id`), or "".
    fn request_id(&self) -> &str {
        ""
    }
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
