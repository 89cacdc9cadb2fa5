//! `POST /api/collections/{collection}/confirm-verification`

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use axum::response::{IntoResponse, Response};
use kiln_core::auth::TokenKind;
use serde_json::json;

use super::common::{text, token_record};
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
    let token = text(&body, "token");
    let (h, record) = token_record(&app, hooks, HOOK, &c, &token, TokenKind::Verification);
    let flow_c = c.clone();
    hooked(
        h,
        HOOK,
        Some(&c),
        &ctx,
        record.as_ref(),
        json!({}),
        move |_| async move {
            app.confirm_verification(&flow_c, &token)
                .await
                .map_err(api)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

const HOOK: &str = "onRecordConfirmVerificationRequest";
