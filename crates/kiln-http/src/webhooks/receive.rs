//! `POST /api/webhooks/{name}`: a delivery from another service, its signature checked (Stripe's
//! `Stripe-Signature` or Standard Webhooks' headers), recorded once by its event id and handed to
//! the endpoint's job. A new event answers `{"received": true}`; a duplicate (a sender's retry)
//! also, with `"duplicate": true`, and nothing is done again. A bad signature or a stale
//! timestamp is a 400, an unknown endpoint a 404.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use kiln_core::webhooks::verify::SignedHeaders;
use kiln_core::webhooks::{Received, WebhookError};
use kiln_core::App;

use crate::error::{api, ApiError, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(name): PathParams<String>,
    _ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    let signed = SignedHeaders {
        stripe_signature: h("stripe-signature"),
        webhook_id: h("webhook-id"),
        webhook_timestamp: h("webhook-timestamp"),
        webhook_signature: h("webhook-signature"),
    };
    match app.receive_webhook(&name, signed, &body).await {
        Ok(Received::New { event_id }) => Ok(Json(json!({ "received": true, "id": event_id }))),
        Ok(Received::Duplicate { event_id }) => Ok(Json(
            json!({ "received": true, "id": event_id, "duplicate": true }),
        )),
        Err(WebhookError::Unknown) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "No webhook endpoint of that name.",
        )),
        Err(WebhookError::Refused(r)) => Err(ApiError::new(StatusCode::BAD_REQUEST, r.to_string())),
        Err(WebhookError::NoEventId) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "The event has no id.",
        )),
        Err(WebhookError::Core(e)) => Err(api(e)),
    }
}
