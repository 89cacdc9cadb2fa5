//! `POST /api/collections/{collection}/auth-with-otp`

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
    let c = app.auth_collection(&collection).map_err(api)?;
    let (otp, record) = app
        .otp_check(
            &c,
            &text(&body, "otpId"),
            &text(&body, "password"),
            &ctx.req,
        )
        .await
        .map_err(api)?;
    let Some(h) = watching(hooks.clone(), HOOK, &c) else {
        return sign_in(app, c, otp, record, ctx, body, hooks).await;
    };
    let fields = json!({ "otp": otp.to_full_map() });
    let shown = record.clone();
    let own = Ctx {
        req: ctx.req.clone(),
    };
    let flow_c = c.clone();
    around(h, HOOK, Some(&c), &ctx, Some(&shown), fields, move |_| {
        sign_in(app, flow_c, otp, record, own, body, hooks)
    })
    .await
}

/// The second half of `auth-with-otp`: the code used up and the sign-in answered.
async fn sign_in(
    app: App,
    c: std::sync::Arc<kiln_core::schema::collection::Collection>,
    otp: kiln_core::records::Record,
    record: kiln_core::records::Record,
    ctx: Ctx,
    body: serde_json::Map<String, serde_json::Value>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
) -> ApiResult<axum::response::Response> {
    let mfa = mfa_id(&ctx, &body);
    let result = app
        .auth_with_checked_otp(&c, otp, record, mfa.as_deref(), &ctx.req)
        .await
        .map_err(api)?;
    hooked_auth_response(&app, &ctx, hooks, result.record, result.token, None, "otp").await
}

const HOOK: &str = "onRecordAuthWithOTPRequest";
