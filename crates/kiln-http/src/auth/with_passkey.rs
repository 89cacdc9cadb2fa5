//! `POST /api/collections/{collection}/auth-with-passkey`

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use super::common::{mfa_id, text};
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<axum::response::Response> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let credential = body.get("credential").cloned().unwrap_or(Value::Null);
    let mfa = mfa_id(&ctx, &body);
    let result = app
        .auth_with_passkey(
            &c,
            &text(&body, "challengeId"),
            &credential,
            mfa.as_deref(),
            &ctx.req,
        )
        .await
        .map_err(api)?;
    super::common::hooked_auth_response(
        &app,
        &ctx,
        hooks,
        result.record,
        result.token,
        None,
        "passkey",
    )
    .await
}
