//! `POST /api/collections/{collection}/auth-with-otp`

use axum::extract::State;

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
    let mfa = mfa_id(&ctx, &body);
    let result = app
        .auth_with_otp(
            &c,
            &text(&body, "otpId"),
            &text(&body, "password"),
            mfa.as_deref(),
            &ctx.req,
        )
        .await
        .map_err(api)?;
    super::common::hooked_auth_response(&app, &ctx, hooks, result.record, result.token, None, "otp")
        .await
}
