//! `GET /api/health`

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{json, Value};

use kiln_core::App;

use crate::extract::Ctx;
use crate::json::Json;

/// Proxy headers that hint a reverse proxy in front of the server, checked after the configured
/// trusted-proxy headers (PocketBase's list; the dashboard uses it to remind superusers to set
/// up the trusted proxy).
const COMMON_PROXY_HEADERS: [&str; 3] = ["CF-Connecting-IP", "Fly-Client-IP", "X-Forwarded-For"];

/// Healthy, always; superusers also learn whether a backup may start, the IP the server sees for
/// them and the first proxy header present.
pub async fn handler(State(app): State<App>, ctx: Ctx, headers: HeaderMap) -> Json<Value> {
    let mut data = serde_json::Map::new();
    if ctx.req.is_superuser() {
        let settings = app.settings();
        let proxy_header = settings
            .trusted_proxy
            .headers
            .iter()
            .map(String::as_str)
            .chain(COMMON_PROXY_HEADERS)
            .find(|h| headers.get(*h).is_some_and(|v| !v.is_empty()))
            .unwrap_or_default()
            .to_owned();
        data.insert("canBackup".into(), json!(app.can_backup()));
        data.insert("realIP".into(), json!(ctx.req.ip_text()));
        data.insert("possibleProxyHeader".into(), json!(proxy_header));
    }
    Json(json!({"message": "API is healthy.", "code": 200, "data": data}))
}
