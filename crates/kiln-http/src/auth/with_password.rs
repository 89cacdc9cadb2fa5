//! `POST /api/collections/{collection}/auth-with-password`

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
    let c = app.records_collection(&collection).map_err(api)?;
    let identity_field = text(&body, "identityField");
    let mfa = mfa_id(&ctx, &body);
    let result = app
        .auth_with_password(
            &c,
            &text(&body, "identity"),
            &text(&body, "password"),
            Some(identity_field.as_str()),
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
        "password",
    )
    .await
}
