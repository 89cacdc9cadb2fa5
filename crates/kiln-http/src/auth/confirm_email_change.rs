//! `POST /api/collections/{collection}/confirm-email-change`

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
    let password = text(&body, "password");
    let hooks = hooks.filter(|_| !password.is_empty());
    let (h, record) = token_record(&app, hooks, HOOK, &c, &token, TokenKind::EmailChange);
    let new_email = kiln_core::auth::token::claims_unverified(&token)
        .and_then(|m| m.get("newEmail").cloned())
        .unwrap_or_default();
    let flow_c = c.clone();
    hooked(
        h,
        HOOK,
        Some(&c),
        &ctx,
        record.as_ref(),
        json!({ "newEmail": new_email }),
        move |_| async move {
            app.confirm_email_change(&flow_c, &token, &password)
                .await
                .map_err(api)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

const HOOK: &str = "onRecordConfirmEmailChangeRequest";
