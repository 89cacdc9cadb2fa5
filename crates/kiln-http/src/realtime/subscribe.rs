//! `POST /api/realtime`: sets a client's subscriptions (and fixes its auth, as PocketBase does),
//! on whichever node of a cluster holds the client.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use kiln_core::{App, FieldError};

use super::hooks::{Subscribed, Target};
use super::topics::{invalid, topics};
use crate::error::{realtime_error, ApiResult};
use crate::extract::{BodyMap, Ctx};

pub async fn handler(
    State(app): State<App>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Response> {
    let client_id = body.get("clientId").and_then(Value::as_str).unwrap_or("");
    if client_id.is_empty() {
        return Err(invalid("clientId", FieldError::required()));
    }
    let topics = topics(body.get("subscriptions"))?;
    // a balancer may send the request to another node than the client's stream: in a cluster,
    // it is forwarded to the node holding the client
    let target = match app.realtime().client(client_id) {
        Some(client) => Target::Here(client),
        None if app.db().is_shared() => Target::Elsewhere(client_id.to_owned()),
        None => {
            return Err(realtime_error(
                kiln_core::realtime::ClientError::UnknownClient,
            ))
        }
    };
    let auth = ctx.req.auth.clone();
    match super::hooks::subscribe(&hooks, &app, &ctx.req, target, auth, topics).await? {
        Subscribed::Done => Ok(StatusCode::NO_CONTENT.into_response()),
        Subscribed::Answered(res) => Ok(crate::hooks::answer(res)),
    }
}
