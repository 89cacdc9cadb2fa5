//! `POST /api/collections/{collection}/auth-with-password`

use axum::extract::State;

use kiln_core::App;

use serde_json::json;

use super::common::{hooked_auth_response, mfa_id, text, watching};
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::hooks::around;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<axum::response::Response> {
    let c = app.records_collection(&collection).map_err(api)?;
    let identity = text(&body, "identity");
    let password = text(&body, "password");
    let identity_field = text(&body, "identityField");
    let found = app
        .password_identity(&c, &identity, &password, Some(identity_field.as_str()))
        .map_err(api)?;
    let Some(h) = watching(hooks.clone(), HOOK, &c) else {
        return sign_in(app, c, found, password, ctx, body, hooks).await;
    };
    let fields =
        json!({ "identity": identity, "identityField": identity_field, "password": password });
    let record = found.clone();
    let own = Ctx {
        req: ctx.req.clone(),
    };
    around(
        h,
        HOOK,
        Some(&c.clone()),
        &ctx,
        record.as_ref(),
        fields,
        move |_| sign_in(app, c, found, password, own, body, hooks),
    )
    .await
}

const HOOK: &str = "onRecordAuthWithPasswordRequest";

async fn sign_in(
    app: App,
    c: std::sync::Arc<kiln_core::schema::collection::Collection>,
    found: Option<kiln_core::records::Record>,
    password: String,
    ctx: Ctx,
    body: serde_json::Map<String, serde_json::Value>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
) -> ApiResult<axum::response::Response> {
    let mfa = mfa_id(&ctx, &body);
    let result = app
        .auth_with_found_password(&c, found, &password, mfa.as_deref(), &ctx.req)
        .await
        .map_err(api)?;
    hooked_auth_response(
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
