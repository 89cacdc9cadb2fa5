//! `GET /api/realtime`: opens the event stream. The first event, `PB_CONNECT`, carries the client
//! id (also as the SSE `id`, where PocketBase's SDK reads it); every later event is named by the
//! subscription it matched and has the id `<clientId>.<seq>`. A client that reconnects with that
//! id (the `Last-Event-ID` header browsers send, or `?lastEventId=`) within the retention window
//! keeps its id and subscriptions and gets exactly the events it missed, in order, then live ones;
//! otherwise it is a new client and gets `PB_RESET`. The stream ends after five idle minutes (the
//! SDK reconnects) or when the client stalled and was dropped.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use kiln_core::realtime::{Client, Message};
use kiln_core::App;

use crate::extract::Ctx;

/// A stream without any message for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Detaches the client from the hub when its connection ends (closed by either side); it can
/// resume within the retention window.
pub(crate) struct Registration {
    pub(crate) app: App,
    pub(crate) client: Arc<Client>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.app.realtime().detach(&self.client);
    }
}

/// The id of a message: the client id, followed by the event's sequence number for events.
pub(crate) fn message_id(client: &str, m: &Message) -> String {
    if m.seq == 0 {
        client.to_owned()
    } else {
        format!("{client}.{}", m.seq)
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

pub async fn handler(State(app): State<App>, headers: HeaderMap, ctx: Ctx) -> Response {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or_else(|| ctx.query("lastEventId"))
        .map(str::to_owned);
    let opened = app.realtime_open(resume.as_deref());
    let reg = Registration { app: app.clone(), client: opened.client };
    let id = reg.client.id.clone();
    let hello = frame(&id, "PB_CONNECT", format!("{{\"clientId\":\"{id}\"}}").as_bytes());
    let stream = futures_util::stream::unfold((Some(hello), opened.messages, reg), |(hello, mut rx, reg)| async move {
        if let Some(h) = hello {
            return Some((Ok::<Bytes, std::convert::Infallible>(h), (None, rx, reg)));
        }
        match tokio::time::timeout(IDLE_TIMEOUT, rx.recv()).await {
            Ok(Some(m)) => {
                let f = frame(&message_id(&reg.client.id, &m), &m.event, &m.data);
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
