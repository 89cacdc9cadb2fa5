//! `POST /api/collections/{collection}/auth-with-oauth2`

use axum::extract::State;
use serde_json::{Map, Value};

use kiln_core::auth::oauth2::OAuth2Request;
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
    let redirect = Some(text(&body, "redirectURL"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text(&body, "redirectUrl"));
    let create_data = match body.get("createData") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let r = OAuth2Request {
        provider: &text(&body, "provider"),
        code: &text(&body, "code"),
        code_verifier: &text(&body, "codeVerifier"),
        redirect_url: &redirect,
        create_data,
        mfa_id: mfa.as_deref(),
    };
    let login = app.auth_with_oauth2(&c, r, &ctx.req).await.map_err(api)?;
    super::common::hooked_auth_response(
        &app,
        &ctx,
        hooks,
        login.result.record,
        login.result.token,
        Some(login.meta),
        "oauth2",
    )
    .await
}
