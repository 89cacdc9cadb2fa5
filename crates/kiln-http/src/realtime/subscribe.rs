//! `POST /api/realtime`: sets a client's subscriptions (and fixes its auth, as PocketBase does).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use kiln_core::realtime::{MAX_SUBSCRIPTIONS, MAX_TOPIC_LEN};
use kiln_core::{Action, App, CoreError, FieldError};

use super::hooks::Subscribed;
use crate::error::{api, realtime_error, ApiResult};
use crate::extract::{BodyMap, Ctx};

fn invalid(field: &str, e: FieldError) -> crate::error::ApiError {
    api(CoreError::validation(Action::ValidateForm, field, e))
}

/// Reads and checks a `subscriptions` value (shared with the WebSocket transport).
pub(crate) fn topics(value: Option<&Value>) -> ApiResult<Vec<String>> {
    let topics: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(t) if t.len() <= MAX_TOPIC_LEN => out.push(t.to_owned()),
                    _ => {
                        return Err(invalid(
                            "subscriptions",
                            FieldError::new(
                                "validation_invalid_value",
                                "Invalid subscription value.",
                            ),
                        ))
                    }
                }
            }
            out
        }
        Some(Value::String(one)) => vec![one.clone()],
        Some(_) => {
            return Err(invalid(
                "subscriptions",
                FieldError::new("validation_invalid_value", "Must be a list of strings."),
            ))
        }
    };
    if topics.len() > MAX_SUBSCRIPTIONS {
        return Err(invalid(
            "subscriptions",
            FieldError::new(
                "validation_length_too_long",
                format!("The length must be no more than {MAX_SUBSCRIPTIONS}."),
            ),
        ));
    }
    Ok(topics)
}

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
    let client = app
        .realtime()
        .client(client_id)
        .ok_or_else(|| realtime_error(kiln_core::realtime::ClientError::UnknownClient))?;
    let auth = ctx.req.auth.clone();
    match super::hooks::subscribe(&hooks, &app, &ctx.req, &client, auth, topics).await? {
        Subscribed::Done => Ok(StatusCode::NO_CONTENT.into_response()),
        Subscribed::Answered(res) => Ok(crate::hooks::answer(res)),
    }
}
