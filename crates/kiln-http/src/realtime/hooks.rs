//! The realtime hooks of `pb_hooks`, on both transports (SSE and WebSocket): a hook that
//! refuses a connection or a subscription, or drops a message, does so whichever way the client
//! came. `onRealtimeConnectRequest` runs once the client exists (its id is `e.client.id()`); as
//! the connection's loop is not JavaScript's, its `e.next()` returns at once.
//! `onRealtimeSubscribeRequest` runs around the change (`e.subscriptions` as the hooks leave it
//! is what is set); `onRealtimeMessageSend` on every message, `PB_CONNECT` included.

use std::sync::{Arc, Mutex};

use axum::extract::Extension;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use kiln_core::realtime::Client;
use kiln_core::records::Record;
use kiln_core::{App, RequestInfo};
use kiln_hooks::{HookResponse, Hooks};

use crate::error::{api, realtime_error, ApiError};

const CONNECT: &str = "onRealtimeConnectRequest";
const SUBSCRIBE: &str = "onRealtimeSubscribeRequest";
const MESSAGE: &str = "onRealtimeMessageSend";

/// The hooks, when `name` listens.
fn watching(hooks: &Option<Extension<Arc<Hooks>>>, name: &str) -> Option<Arc<Hooks>> {
    hooks
        .as_ref()
        .map(|h| h.0.clone())
        .filter(|h| h.watches_event(name))
}

/// The hooks when `onRealtimeMessageSend` listens: every message then passes through them.
pub(crate) fn messages(hooks: &Option<Extension<Arc<Hooks>>>) -> Option<Arc<Hooks>> {
    watching(hooks, MESSAGE)
}

/// `onRealtimeConnectRequest` for `client`: `Err` is the answer instead of the stream (a hook
/// refused, or answered itself).
pub(crate) async fn connect(
    hooks: &Option<Extension<Arc<Hooks>>>,
    req: &RequestInfo,
    client: &Client,
) -> Result<(), Response> {
    let Some(h) = watching(hooks, CONNECT) else {
        return Ok(());
    };
    let fields = json!({ "client": kiln_hooks::client_json(&client.id, &client.topics()) });
    let next: kiln_hooks::Next = Box::new(|_| Box::pin(async { Value::Null }));
    match h.around_realtime(CONNECT, req, fields, next).await {
        Ok(None) => Ok(()),
        Ok(Some(res)) => Err(crate::hooks::answer(res)),
        Err(e) => Err(api(e).into_response()),
    }
}

/// Whose subscriptions change: a client connected to this node, or one another node of the
/// cluster holds (the request went to this node: it is forwarded).
pub(crate) enum Target {
    Here(Arc<Client>),
    Elsewhere(String),
}

impl Target {
    /// Sets the subscriptions as requested by `auth`.
    async fn set(
        &self,
        app: &App,
        auth: Option<Arc<Record>>,
        topics: &[String],
    ) -> Result<(), ApiError> {
        match self {
            Target::Here(client) => app.realtime().set_subscriptions(client, auth, topics),
            Target::Elsewhere(id) => {
                app.realtime_subscribe_elsewhere(id, auth.as_ref(), topics)
                    .await
            }
        }
        .map_err(realtime_error)
    }

    /// As `e.client` shows it to the hooks (another node's client: its id, and no topics, which
    /// this node does not know).
    fn json(&self) -> Value {
        match self {
            Target::Here(client) => kiln_hooks::client_json(&client.id, &client.topics()),
            Target::Elsewhere(id) => kiln_hooks::client_json(id, &[]),
        }
    }
}

/// How a change of subscriptions ended when no error stopped it.
pub(crate) enum Subscribed {
    Done,
    /// A hook answered instead (nothing changed).
    Answered(HookResponse),
}

/// Sets `target`'s subscriptions to `topics`, through `onRealtimeSubscribeRequest` when it
/// listens.
pub(crate) async fn subscribe(
    hooks: &Option<Extension<Arc<Hooks>>>,
    app: &App,
    req: &RequestInfo,
    target: Target,
    auth: Option<Arc<Record>>,
    topics: Vec<String>,
) -> Result<Subscribed, ApiError> {
    let Some(h) = watching(hooks, SUBSCRIBE) else {
        target.set(app, auth, &topics).await?;
        return Ok(Subscribed::Done);
    };
    let fields = json!({ "client": target.json(), "subscriptions": topics });
    let done: Arc<Mutex<Option<Result<(), ApiError>>>> = Arc::default();
    let slot = done.clone();
    let app = app.clone();
    let next: kiln_hooks::Next = Box::new(move |fields| {
        Box::pin(async move {
            // the subscriptions as the hooks left them, checked as a client's own
            let out = match super::topics::topics(fields.get("subscriptions")) {
                Ok(topics) => target.set(&app, auth, &topics).await,
                Err(e) => Err(e),
            };
            let after = match &out {
                Ok(()) => json!({ "ok": true }),
                Err(e) => crate::hooks::failed_outcome(e),
            };
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
            after
        })
    });
    let out = h
        .around_realtime(SUBSCRIBE, req, fields, next)
        .await
        .map_err(api)?;
    let ran = done.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (ran, out) {
        (Some(r), _) => r.map(|()| Subscribed::Done),
        (None, Some(res)) => Ok(Subscribed::Answered(res)),
        (None, None) => Ok(Subscribed::Done),
    }
}

/// `onRealtimeMessageSend` for one message to `client`: its event name and data as the hooks
/// left them, `None` when they dropped it (or failed: the failure is logged, the message not
/// sent, as PocketBase does).
pub(crate) async fn message(
    hooks: &Hooks,
    client: &Client,
    event: &str,
    data: &[u8],
) -> Option<(String, Vec<u8>)> {
    match hooks
        .realtime_message(&client.id, client.topics(), event, data)
        .await
    {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(target: "kiln_hooks", error = %e, "onRealtimeMessageSend failed");
            None
        }
    }
}
