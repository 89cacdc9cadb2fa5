//! `GET /api/realtime`: opens the event stream. The first event, `PB_CONNECT`, carries the client
//! id (also as the SSE `id`, where PocketBase's SDK reads it); every later event is named by the
//! subscription it matched and has the id `<clientId>.<seq>`. A client that reconnects with that
//! id (the `Last-Event-ID` header browsers send, or `?lastEventId=`) within the retention window
//! keeps its id and subscriptions and gets exactly the events it missed, in order, then live ones;
//! otherwise it is a new client and gets `PB_RESET`. The stream ends after five idle minutes (the
//! SDK reconnects) or when the client stalled and was dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Version};
use axum::response::{IntoResponse, Response};

use kiln_core::realtime::{Client, Message, BACKLOG_EVENT, CLOSE_EVENT};
use kiln_core::App;

use super::direct::Sink;
use super::frames::{batch, frame, push_frame};
use crate::conn::Handover;
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

/// An open event stream.
struct Stream {
    hello: Option<Bytes>,
    rx: tokio::sync::mpsc::Receiver<Message>,
    reg: Registration,
    /// The connection, once hyper has written the response head: messages are written to it
    /// directly (`direct.rs`), not handed to hyper.
    direct: Option<Arc<Sink>>,
    /// Fires at the earliest moment the stream can have been idle for [`IDLE_TIMEOUT`]; re-armed
    /// then rather than at every message, which would cost a timer update per delivery.
    idle: Pin<Box<tokio::time::Sleep>>,
    last: Instant,
}

impl futures_util::Stream for Stream {
    type Item = Result<Bytes, std::convert::Infallible>;

    /// The next chunk to send; `None` ends the stream (idle, or the client was dropped). Polled
    /// by hand rather than through an async block: this runs once per delivered message.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(h) = this.hello.take() {
            if let Some(sink) = &this.direct {
                sink.conn.arm();
            }
            return Poll::Ready(Some(Ok(h)));
        }
        match &this.direct {
            Some(sink) if sink.conn.is_on() => {
                let client = &this.reg.client;
                let mut order = client.in_order();
                let go_on = match sink.drain(client, &mut this.rx, cx) {
                    Poll::Ready(open) => open && !client.is_closed(),
                    Poll::Pending => true,
                };
                if !go_on {
                    // still in order: no offer writes between the drain and the end
                    sink.detach(&mut order);
                    return Poll::Ready(None);
                }
            }
            _ => match this.rx.poll_recv(cx) {
                Poll::Ready(Some(m)) if &*m.event == CLOSE_EVENT => return Poll::Ready(None),
                Poll::Ready(Some(m)) => {
                    this.last = Instant::now();
                    return Poll::Ready(Some(Ok(batch(&this.reg.client, m, &mut this.rx))));
                }
                Poll::Ready(None) => return Poll::Ready(None),
                // dropped (stalled) once everything queued went out
                Poll::Pending if this.reg.client.is_closed() => return Poll::Ready(None),
                Poll::Pending => {}
            },
        }
        while this.idle.as_mut().poll(cx).is_ready() {
            let last = match &this.direct {
                Some(sink) => sink.last_sent().map_or(this.last, |t| t.max(this.last)),
                None => this.last,
            };
            let deadline = last + IDLE_TIMEOUT;
            if Instant::now() >= deadline {
                if let Some(sink) = &this.direct {
                    if sink.has_pending() {
                        // a frame half written: the stream ends once it is out (or with the
                        // connection), never between its bytes
                        this.idle
                            .as_mut()
                            .reset((Instant::now() + IDLE_TIMEOUT).into());
                        continue;
                    }
                    sink.detach(&mut this.reg.client.in_order());
                }
                return Poll::Ready(None);
            }
            this.idle.as_mut().reset(deadline.into());
        }
        Poll::Pending
    }
}

impl Drop for Stream {
    /// The connection ended (or the stream did): no offer may write to it any more.
    fn drop(&mut self) {
        if let Some(sink) = &self.direct {
            sink.detach(&mut self.reg.client.in_order());
        }
    }
}

/// The stream when `onRealtimeMessageSend` listens: every message, `PB_CONNECT` first, goes
/// through the hooks one at a time (they may change or drop it).
fn hooked(
    hooks: Arc<kiln_hooks::Hooks>,
    hello: String,
    rx: tokio::sync::mpsc::Receiver<Message>,
    reg: Registration,
) -> Body {
    let hello = Message {
        event: "PB_CONNECT".into(),
        data: hello.into_bytes().into(),
        seq: 0,
    };
    let stream = futures_util::stream::unfold(
        (hooks, rx, reg, std::collections::VecDeque::from([hello])),
        |(hooks, mut rx, reg, mut pending)| async move {
            loop {
                let m = match pending.pop_front() {
                    Some(m) => m,
                    None => match tokio::time::timeout(IDLE_TIMEOUT, rx.recv()).await {
                        Ok(Some(m)) if &*m.event == BACKLOG_EVENT => {
                            pending.extend(reg.client.take_backlog());
                            continue;
                        }
                        Ok(Some(m)) if &*m.event != CLOSE_EVENT => m,
                        _ => return None,
                    },
                };
                let Some((event, data)) =
                    super::hooks::message(&hooks, &reg.client, &m.event, &m.data).await
                else {
                    continue;
                };
                let mut out = Vec::with_capacity(data.len() + event.len() + 48);
                let seq = (m.seq != 0).then_some(m.seq);
                push_frame(&mut out, &reg.client.id, seq, &event, &data);
                let chunk = Ok::<_, std::convert::Infallible>(Bytes::from(out));
                return Some((chunk, (hooks, rx, reg, pending)));
            }
        },
    );
    Body::from_stream(stream)
}

pub async fn handler(
    State(app): State<App>,
    hooks: Option<axum::Extension<Arc<kiln_hooks::Hooks>>>,
    handover: Option<axum::Extension<Arc<Handover>>>,
    method: Method,
    version: Version,
    headers: HeaderMap,
    ctx: Ctx,
) -> Response {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or_else(|| ctx.query("lastEventId"))
        .map(str::to_owned);
    let opened = app
        .realtime_open(resume.as_deref(), ctx.req.auth.as_ref())
        .await;
    let reg = Registration {
        app: app.clone(),
        client: opened.client,
    };
    if let Err(refused) = super::hooks::connect(&hooks, &ctx.req, &reg.client).await {
        return refused; // the client goes with its registration
    }
    let id = reg.client.id.clone();
    let hello = format!("{{\"clientId\":\"{id}\"}}");
    let body = match super::hooks::messages(&hooks) {
        Some(h) => hooked(h, hello, opened.messages, reg),
        None => {
            // A GET over HTTP/1.1 only: hyper writes its body in chunks, which the direct writes
            // continue (no body for HEAD; HTTP/2 shares the connection between streams).
            let direct = handover
                .filter(|_| method == Method::GET && version == Version::HTTP_11)
                .map(|axum::Extension(conn)| {
                    let sink = Arc::new(Sink::new(conn));
                    reg.client.set_direct(Some(sink.clone()));
                    sink
                });
            Body::from_stream(Stream {
                hello: Some(frame(&id, "PB_CONNECT", hello.as_bytes())),
                rx: opened.messages,
                reg,
                direct,
                idle: Box::pin(tokio::time::sleep(IDLE_TIMEOUT)),
                last: Instant::now(),
            })
        }
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}
