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

/// A client that does not answer a ping within this time is gone.
const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(60);

pub(super) fn upgrade(
    app: App,
    hooks: Option<Arc<Hooks>>,
    cache: Arc<Cache>,
    ctx: Ctx,
    ws: WebSocketUpgrade,
) -> Response {
    let req = ctx.req;
    // the upgrade's own token: its Authorization header, or ?token= (browsers set no headers)
    let token = req
        .headers
        .get("authorization")
        .or_else(|| req.query.get("token"))
        .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).to_owned());
    ws.protocols(PROTOCOLS)
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| run(socket, app, hooks, cache, req, token))
}

/// What a socket's operations share: the upgrade request and the token its caller gave. Each
/// operation resolves the token again (an expired token, a changed password or a deleted record
/// ends its access at once) and gets a `Call` of its own (its own record budget).
struct Session {
    req: kiln_core::RequestInfo,
    token: Option<String>,
    /// Its live subscriptions (capped: `call::MAX_SUBSCRIPTIONS`).
    subscriptions: Arc<std::sync::atomic::AtomicUsize>,
}

async fn run(
    socket: WebSocket,
    app: App,
    hooks: Option<Arc<Hooks>>,
    cache: Arc<Cache>,
    req: kiln_core::RequestInfo,
    upgrade_token: Option<String>,
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
        hooks,
    };
    let mut out = GqlSocket::new(executor, input, protocol)
        .keepalive_timeout(KEEPALIVE)
        .on_connection_init(move |payload| {
            let token = token(&payload)
                .map(str::to_owned)
                .or_else(|| upgrade_token.clone());
            let mut data = Data::default();
            data.insert(Session {
                req: req.clone(),
                token,
                subscriptions: Default::default(),
            });
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

/// Runs each operation of a socket as its caller now: the token resolved again, the schema of
/// that caller, a `Call` of its own.
#[derive(Clone)]
struct ByCaller {
    app: App,
    cache: Arc<Cache>,
    hooks: Option<Arc<Hooks>>,
}

impl ByCaller {
    /// The schema and the request data of one operation, or why it may not run.
    fn prepare(
        &self,
        session: Option<&Data>,
        request: &mut async_graphql::Request,
    ) -> Result<(Schema, Call), String> {
        let session = session
            .and_then(|d| d.get(&TypeId::of::<Session>()))
            .and_then(|s| s.downcast_ref::<Session>())
            .ok_or("The connection was not initialised.")?;
        let mut req = session.req.clone();
        req.auth = match &session.token {
            None => None,
            Some(t) => Some(
                self.app
                    .auth_from_token(t)
                    .ok_or("The token is missing, invalid or expired.")?,
            ),
        };
        // as for every request (Ctx): a superuser only from the allowed addresses
        if req.is_superuser() && !self.app.superuser_ip_allowed(req.ip) {
            return Err(crate::error::api(kiln_core::CoreError::IpNotAllowed)
                .message
                .into_owned());
        }
        super::call::mutation_limit(&self.app, request)?;
        let schema = self
            .cache
            .schema(&self.app, req.is_superuser(), self.hooks.as_deref())
            .map_err(|e| e.message.into_owned())?;
        let mut call = Call::new(self.app.clone(), req, self.hooks.clone(), Vec::new());
        call.subscriptions = Some(session.subscriptions.clone());
        Ok((schema, call))
    }
}

/// An operation refused, as its answer.
fn refused(message: String) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(message, None)])
}

impl Executor for ByCaller {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        // the socket runs every operation through execute_stream, with its session
        let mut request = request;
        match self.prepare(None, &mut request) {
            Ok((schema, call)) => schema.execute(request.data(call)).await,
            Err(e) => refused(e),
        }
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        match self.prepare(session_data.as_deref(), &mut request) {
            Ok((schema, call)) => {
                Executor::execute_stream(&schema, request.data(call), session_data)
            }
            Err(e) => futures_util::stream::once(std::future::ready(refused(e))).boxed(),
        }
    }
}
