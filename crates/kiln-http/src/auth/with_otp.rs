//! `POST /api/collections/{collection}/auth-with-otp`

use axum::extract::State;

use kiln_core::App;

use serde_json::json;

use super::common::{hooked_auth_response, mfa_id, text, watching};
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::hooks::hooked;

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
    let h = watching(hooks.clone(), HOOK, &c);
    let fields = json!({ "otp": otp.to_full_map() });
    let shown = record.clone();
    let own = Ctx {
        req: ctx.req.clone(),
    };
    let flow_c = c.clone();
    hooked(
        h,
        HOOK,
        Some(&c),
        &ctx,
        Some(&shown),
        fields,
        move |_| async move {
            let mfa = mfa_id(&own, &body);
            let result = app
                .auth_with_checked_otp(&flow_c, otp, record, mfa.as_deref(), &own.req)
                .await
                .map_err(api)?;
            hooked_auth_response(&app, &own, hooks, result.record, result.token, None, "otp").await
        },
    )
    .await
}

const HOOK: &str = "onRecordAuthWithOTPRequest";
