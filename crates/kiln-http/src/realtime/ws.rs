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

use kiln_core::realtime::Message;
use kiln_core::records::Record;
use kiln_core::App;

use super::connect::{message_id, Registration, IDLE_TIMEOUT};
use crate::error::realtime_error;
use crate::extract::Ctx;

pub async fn handler(
    State(app): State<App>,
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
    let resume = ctx.query("resume").map(str::to_owned);
    ws.max_message_size(1 << 20)
        .on_upgrade(move |socket| session(app, socket, auth, resume))
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

async fn session(
    app: App,
    mut socket: WebSocket,
    auth: Option<std::sync::Arc<Record>>,
    resume: Option<String>,
) {
    let opened = app.realtime_open(resume.as_deref(), auth.as_ref());
    let reg = Registration {
        app: app.clone(),
        client: opened.client,
    };
    let mut rx = opened.messages;
    let id = reg.client.id.clone();
    if socket
        .send(event_frame(
            &id,
            "PB_CONNECT",
            json!({"clientId": id}).to_string().as_bytes(),
        ))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            m = tokio::time::timeout(IDLE_TIMEOUT, rx.recv()) => {
                let Ok(Some(m)) = m else { break };
                let Message { ref event, ref data, .. } = m;
                if socket.send(event_frame(&message_id(&id, &m), event, data)).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(WsMessage::Text(t))) => t,
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let reply = command(&reg, &auth, text.as_str());
                if socket.send(reply).await.is_err() {
                    break;
                }
            }
        }
    }
}

fn command(reg: &Registration, auth: &Option<std::sync::Arc<Record>>, text: &str) -> WsMessage {
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
        Some("subscribe") => match super::subscribe::topics(cmd.get("subscriptions")) {
            Ok(topics) => {
                match reg
                    .app
                    .realtime()
                    .set_subscriptions(&reg.client, auth.clone(), &topics)
                {
                    Ok(()) => control(
                        "PB_SUBSCRIBED",
                        json!({"subscriptions": reg.client.topics()}),
                    ),
                    Err(e) => error(realtime_error(e)),
                }
            }
            Err(e) => error(e),
        },
        _ => error(crate::error::ApiError::bad_request(
            crate::error::MSG_GENERIC_400,
        )),
    }
}
