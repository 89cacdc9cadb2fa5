//! `GET /api/realtime`: opens the event stream. The first event, `PB_CONNECT`, carries the client
//! id (also as the SSE `id`, where PocketBase's SDK reads it); every later event is named by the
//! subscription it matched. The stream ends after five minutes without a message (the SDK then
//! reconnects), or when the client stalled and was dropped.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use kiln_core::realtime::Message;
use kiln_core::App;

/// A stream without any message for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Removes the client from the hub when its stream is dropped (closed by either side).
struct Registration {
    app: App,
    id: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.app.realtime().disconnect(&self.id);
    }
}

fn frame(id: &str, event: &str, data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(id.len() + event.len() + data.len() + 24);
    out.extend_from_slice(b"id:");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b"\nevent:");
    out.extend_from_slice(event.as_bytes());
    out.extend_from_slice(b"\ndata:");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

pub async fn handler(State(app): State<App>) -> Response {
    let (client, rx) = app.realtime_connect();
    let reg = Registration { app: app.clone(), id: client.id.clone() };
    drop(client);
    let hello = frame(&reg.id, "PB_CONNECT", format!("{{\"clientId\":\"{}\"}}", reg.id).as_bytes());
    let stream = futures_util::stream::unfold((Some(hello), rx, reg), |(hello, mut rx, reg)| async move {
        if let Some(h) = hello {
            return Some((Ok::<Bytes, std::convert::Infallible>(h), (None, rx, reg)));
        }
        match tokio::time::timeout(IDLE_TIMEOUT, rx.recv()).await {
            Ok(Some(Message { event, data })) => {
                let f = frame(&reg.id, &event, &data);
                Some((Ok(f), (None, rx, reg)))
            }
            _ => None,
        }
    });
    let mut r = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}
