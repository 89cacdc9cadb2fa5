//! `GET /api/realtime/ws`: the same topics and events over a WebSocket (Kiln's extension; see
//! docs/REALTIME.md). Server frames are JSON text: `{"id", "event", "data"}` with the events and
//! ids of the SSE transport. Client frames: `{"action":"subscribe","subscriptions":[…]}` (answered
//! with `PB_SUBSCRIBED` or `PB_ERROR`). Auth comes from the upgrade request's `Authorization`
//! header or `?token=` (browsers cannot set headers on a WebSocket); `?resume=<last event id>`
//! resumes like SSE's `Last-Event-ID`.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::{json, Value};

use std::sync::Arc;

use kiln_core::realtime::{Message, BACKLOG_EVENT, CLOSE_EVENT};
use kiln_core::records::Record;
use kiln_core::App;
use kiln_hooks::Hooks;

use super::connect::{message_id, Registration, IDLE_TIMEOUT};
use super::hooks::Subscribed;
use crate::extract::Ctx;

pub async fn handler(
    State(app): State<App>,
    hooks: Option<axum::Extension<Arc<Hooks>>>,
    ctx: Ctx,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // Not a WebSocket handshake: refused in the API's envelope, with axum's reason as message.
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return crate::error::ApiError::new(e.status(), e.body_text()).into_response(),
    };
    let auth = ctx
        .req
        .auth
        .clone()
        .or_else(|| ctx.query("token").and_then(|t| app.auth_from_token(t)));
    let resume = ctx.query("resume");
    // the client exists before the upgrade, for onRealtimeConnectRequest to see and refuse
    let opened = app.realtime_open(resume, auth.as_ref()).await;
    let reg = Registration {
        app: app.clone(),
        client: opened.client,
    };
    let mut req = ctx.req;
    req.auth = auth.clone();
    if let Err(refused) = super::hooks::connect(&hooks, &req, &reg.client).await {
        return refused;
    }
    let hooks = hooks.map(|h| h.0);
    // kept for the subscribe hooks only
    let req = hooks
        .as_ref()
        .filter(|h| h.watches_event("onRealtimeSubscribeRequest"))
        .map(|_| req);
    let session = Session {
        reg,
        auth,
        hooks,
        req,
    };
    ws.max_message_size(1 << 20)
        .on_upgrade(move |socket| session.run(socket, opened.messages))
}

/// One WebSocket client.
struct Session {
    reg: Registration,
    auth: Option<Arc<Record>>,
    hooks: Option<Arc<Hooks>>,
    /// The upgrade request, when subscribe hooks listen (their event's request).
    req: Option<kiln_core::RequestInfo>,
}

fn event_frame(id: &str, event: &str, data: &[u8]) -> WsMessage {
    let mut out = String::with_capacity(id.len() + event.len() + data.len() + 32);
    out.push_str("{\"id\":");
    out.push_str(&Value::from(id).to_string());
    out.push_str(",\"event\":");
    out.push_str(&Value::from(event).to_string());
    out.push_str(",\"data\":");
    out.push_str(std::str::from_utf8(data).unwrap_or("null"));
    out.push('}');
    WsMessage::Text(out.into())
}

fn control(event: &str, data: Value) -> WsMessage {
    WsMessage::Text(json!({"event": event, "data": data}).to_string().into())
}

impl Session {
    async fn run(self, mut socket: WebSocket, mut rx: tokio::sync::mpsc::Receiver<Message>) {
        let id = self.reg.client.id.clone();
        let hello = Message {
            event: "PB_CONNECT".into(),
            data: json!({"clientId": id}).to_string().into_bytes().into(),
            seq: 0,
        };
        if !self.send(&mut socket, &hello).await {
            return;
        }
        loop {
            tokio::select! {
                m = tokio::time::timeout(IDLE_TIMEOUT, rx.recv()) => {
                    let m = match m {
                        Ok(Some(m)) if &*m.event != CLOSE_EVENT => m,
                        // the node is closing (the client resumes elsewhere with ?resume=)
                        _ => break,
                    };
                    let sent = if &*m.event == BACKLOG_EVENT {
                        let mut sent = true;
                        for b in self.reg.client.take_backlog() {
                            if !self.send(&mut socket, &b).await {
                                sent = false;
                                break;
                            }
                        }
                        sent
                    } else {
                        self.send(&mut socket, &m).await
                    };
                    if !sent {
                        break;
                    }
                }
                incoming = socket.recv() => {
                    let text = match incoming {
                        Some(Ok(WsMessage::Text(t))) => t,
                        Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                        Some(Ok(_)) => continue,
                    };
                    let reply = self.command(text.as_str()).await;
                    if socket.send(reply).await.is_err() {
                        break;
                    }
                }
            }
        }
    }

    /// Sends `m` (through `onRealtimeMessageSend` when it listens); false when the socket is gone.
    async fn send(&self, socket: &mut WebSocket, m: &Message) -> bool {
        let id = message_id(&self.reg.client.id, m);
        let frame = match self
            .hooks
            .as_ref()
            .filter(|h| h.watches_event("onRealtimeMessageSend"))
        {
            None => event_frame(&id, &m.event, &m.data),
            Some(h) => match super::hooks::message(h, &self.reg.client, &m.event, &m.data).await {
                Some((event, data)) => event_frame(&id, &event, &data),
                None => return true,
            },
        };
        socket.send(frame).await.is_ok()
    }

    async fn command(&self, text: &str) -> WsMessage {
        command(self, text).await
    }
}

async fn command(s: &Session, text: &str) -> WsMessage {
    let reg = &s.reg;
    let error = |e: crate::error::ApiError| {
        control(
            "PB_ERROR",
            json!({"status": e.status.as_u16(), "message": e.message, "data": e.data}),
        )
    };
    let Ok(cmd) = serde_json::from_str::<Value>(text) else {
        return error(crate::error::ApiError::bad_request(
            crate::error::MSG_GENERIC_400,
        ));
    };
    match cmd.get("action").and_then(Value::as_str) {
        Some("subscribe") => {
            let topics = match super::topics::topics(cmd.get("subscriptions")) {
                Ok(t) => t,
                Err(e) => return error(e),
            };
            let hooks = s.hooks.clone().map(axum::Extension);
            let out = super::hooks::subscribe(
                &hooks,
                &reg.app,
                s.req.as_ref().unwrap_or(&kiln_core::RequestInfo::default()),
                super::hooks::Target::Here(reg.client.clone()),
                s.auth.clone(),
                topics,
            )
            .await;
            match out {
                // a hook's own answer: an error status reads as a refusal
                Ok(Subscribed::Answered(res)) if res.status >= 400 => {
                    let body: Value = serde_json::from_str(&res.body).unwrap_or(Value::Null);
                    control(
                        "PB_ERROR",
                        json!({"status": res.status, "message": body["message"], "data": body["data"]}),
                    )
                }
                Ok(_) => control(
                    "PB_SUBSCRIBED",
                    json!({"subscriptions": reg.client.topics()}),
                ),
                Err(e) => error(e),
            }
        }
        _ => error(crate::error::ApiError::bad_request(
            crate::error::MSG_GENERIC_400,
        )),
    }
}
