//! `POST /api/collections/{collection}/request-password-reset` (always 204 for a valid email)

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
    let email = text(&body, "email");
    let enabled = c.auth.as_ref().is_some_and(|a| a.password_auth.enabled);
    // PocketBase triggers the hook for a known account only
    let (h, record) = match watching(hooks, HOOK, &c).filter(|_| enabled) {
        Some(h) => match app.find_by_email(&c, &email).map_err(api)? {
            Some(r) => (Some(h), Some(r)),
            None => (None, None),
        },
        None => (None, None),
    };
    let flow_c = c.clone();
    hooked(
        h,
        HOOK,
        Some(&c),
        &ctx,
        record.as_ref(),
        json!({}),
        move |_| async move {
            app.request_password_reset(&flow_c, &email)
                .await
                .map_err(api)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

const HOOK: &str = "onRecordRequestPasswordResetRequest";
