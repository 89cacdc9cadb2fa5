//! `POST /api/collections/{collection}/request-email-change` (authenticated)

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::common::{text, watching};
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::hooks::hooked;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Response> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let new_email = text(&body, "newEmail");
    // the signed-in account of this collection asks, with an address
    let record = ctx
        .req
        .auth
        .as_deref()
        .filter(|a| a.collection.id == c.id)
        .cloned();
    let h = watching(hooks, HOOK, &c).filter(|_| record.is_some() && !new_email.is_empty());
    let flow_c = c.clone();
    let req = ctx.req.clone();
    let fields = json!({ "newEmail": new_email });
    hooked(
        h,
        HOOK,
        Some(&c),
        &ctx,
        record.as_ref(),
        fields,
        move |_| async move {
            app.request_email_change(&flow_c, &req, &new_email)
                .await
                .map_err(api)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

const HOOK: &str = "onRecordRequestEmailChangeRequest";
