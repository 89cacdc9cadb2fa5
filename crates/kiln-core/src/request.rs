//! What the core knows of a request: who is asking and what they sent. Built by the HTTP layer
//! from its own types; rules read it through `@request.*`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::records::model::Record;
use crate::schema::system::SUPERUSERS;

/// The request as API rules see it.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// The authenticated record, if a valid token was sent.
    pub auth: Option<Arc<Record>>,
    /// `GET`, `POST`, …
    pub method: String,
    /// `default`, `realtime`, `protectedFile`, `batch`, `oauth2`, `otp`, `password`.
    pub context: &'static str,
    /// Query parameters (the first value of a repeated one).
    pub query: HashMap<String, String>,
    /// Headers, names lowercased with `-` as `_` (PocketBase's `@request.headers.x_token`).
    pub headers: HashMap<String, String>,
    /// The submitted body, for create and update rules.
    pub body: Map<String, Value>,
    /// The client's IP address (from the connection, or a trusted proxy header).
    pub ip: Option<std::net::IpAddr>,
}

impl RequestInfo {
    /// The client's IP address as text (`""` when unknown).
    pub fn ip_text(&self) -> String {
        self.ip.map(|ip| ip.to_string()).unwrap_or_default()
    }

    /// Whether the request is authenticated as a superuser.
    pub fn is_superuser(&self) -> bool {
        self.auth
            .as_ref()
            .map(|r| r.collection.name == SUPERUSERS)
            .unwrap_or(false)
    }

    /// The authenticated record's (collection id, id).
    pub fn auth_ids(&self) -> Option<(&str, &str)> {
        self.auth
            .as_ref()
            .map(|r| (r.collection.id.as_str(), r.id()))
    }

    /// The viewer for record output.
    pub fn viewer(&self) -> crate::records::model::Viewer<'_> {
        crate::records::model::Viewer {
            superuser: self.is_superuser(),
            auth: self.auth_ids(),
        }
    }
}

/// Decodes `%XX` escapes of URL parts (`+` as a space too when `plus_is_space`, as in query
/// values); bytes that are not UTF-8 once decoded become U+FFFD.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (b'+', _, _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
