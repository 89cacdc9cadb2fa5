//! GraphQL over a WebSocket: `graphql-transport-ws` (the `graphql-ws` library's protocol) and
//! the older `graphql-ws` (subscriptions-transport-ws). The caller is the upgrade request's
//! (its `Authorization` header or `?token=`), or the token in `connection_init`'s payload
//! (`{"Authorization": "…"}`, `{"token": "…"}`): browsers cannot set headers on a WebSocket.

use std::any::TypeId;
use std::sync::Arc;

use async_graphql::dynamic::Schema;
use async_graphql::http::{WebSocket as GqlSocket, WsMessage as Out};
use async_graphql::{Data, Executor};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::{BoxStream, StreamExt};
use futures_util::SinkExt;
use serde_json::Value;

use kiln_core::App;
use kiln_hooks::Hooks;

use super::cache::Cache;
use super::call::Call;
use crate::extract::Ctx;

const PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];

pub(super) fn upgrade(
    app: App,
    hooks: Option<Arc<Hooks>>,
    cache: Arc<Cache>,
    ctx: Ctx,
    ws: WebSocketUpgrade,
) -> Response {
    let mut req = ctx.req;
    if req.auth.is_none() {
        req.auth = req.query.get("token").and_then(|t| app.auth_from_token(t));
    }
    ws.protocols(PROTOCOLS)
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| run(socket, app, hooks, cache, req))
}

async fn run(
    socket: WebSocket,
    app: App,
    hooks: Option<Arc<Hooks>>,
    cache: Arc<Cache>,
    req: kiln_core::RequestInfo,
) {
    let protocol = match socket.protocol().and_then(|p| p.to_str().ok()) {
        Some("graphql-ws") => async_graphql::http::WebSocketProtocols::SubscriptionsTransportWS,
        _ => async_graphql::http::WebSocketProtocols::GraphQLWS,
    };
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|m| std::future::ready(m.is_ok()))
        .filter_map(|m| {
            std::future::ready(match m {
                Ok(Message::Text(t)) => Some(t.as_str().as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        });
    let executor = ByCaller {
        app: app.clone(),
        cache,
    };
    let mut out = GqlSocket::new(executor, input, protocol).on_connection_init(move |payload| {
        let mut req = req.clone();
        if let Some(auth) = token(&payload).and_then(|t| app.auth_from_token(t)) {
            req.auth = Some(auth);
        }
        // as for every request (Ctx): a superuser only from the allowed addresses
        if req.is_superuser() && !app.superuser_ip_allowed(req.ip) {
            let e = crate::error::api(kiln_core::CoreError::IpNotAllowed);
            return std::future::ready(Err(async_graphql::Error::new(e.message)));
        }
        let mut data = Data::default();
        data.insert(Call::new(app.clone(), req, hooks.clone(), Vec::new()));
        std::future::ready(Ok(data))
    });
    while let Some(m) = out.next().await {
        let sent = match m {
            Out::Text(t) => sink.send(Message::Text(t.into())).await,
            Out::Close(code, reason) => {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    })))
                    .await;
                break;
            }
        };
        if sent.is_err() {
            break;
        }
    }
}

/// The token of a `connection_init` payload.
fn token(payload: &Value) -> Option<&str> {
    ["Authorization", "authorization", "token"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(Value::as_str))
        .map(|t| t.strip_prefix("Bearer ").unwrap_or(t))
}

/// Runs each operation of a socket with the schema of its caller, known once
/// `connection_init` came.
#[derive(Clone)]
struct ByCaller {
    app: App,
    cache: Arc<Cache>,
}

impl ByCaller {
    fn schema(&self, data: Option<&Data>) -> Result<Schema, crate::error::ApiError> {
        let superuser = data
            .and_then(|d| d.get(&TypeId::of::<Call>()))
            .and_then(|c| c.downcast_ref::<Call>())
            .is_some_and(|c| c.req.is_superuser());
        self.cache.schema(&self.app, superuser)
    }
}

/// A schema that could not be built, as an operation's answer.
fn failed(e: crate::error::ApiError) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(e.message, None)])
}

impl Executor for ByCaller {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        match self.schema(None) {
            Ok(s) => s.execute(request).await,
            Err(e) => failed(e),
        }
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        match self.schema(session_data.as_deref()) {
            Ok(s) => Executor::execute_stream(&s, request, session_data),
            Err(e) => futures_util::stream::once(std::future::ready(failed(e))).boxed(),
        }
    }
}
