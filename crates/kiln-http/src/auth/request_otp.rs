//! `POST /api/collections/{collection}/request-otp`: `{"otpId": …}` whether or not the account exists.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use kiln_core::App;

use super::common::{text, watching};
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::hooks::around;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Response> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let email = text(&body, "email");
    let Some(h) = watching(hooks, HOOK, &c) else {
        let id = app.request_otp(&c, &email).await.map_err(api)?;
        return ctx
            .json(json!({ "otpId": id }))
            .map(IntoResponse::into_response);
    };
    // the hook sees the account (if any) and the code it would get (`e.password`)
    let (record, code) = app.otp_request_form(&c, &email).map_err(api)?;
    let flow_c = c.clone();
    let own = Ctx {
        req: ctx.req.clone(),
    };
    let shown = record.clone();
    around(
        h,
        HOOK,
        Some(&c),
        &ctx,
        shown.as_ref(),
        json!({ "password": code }),
        move |f| async move {
            let code = f["password"].as_str().map_or(code, str::to_owned);
            let id = app
                .request_otp_for(&flow_c, record, code)
                .await
                .map_err(api)?;
            own.json(json!({ "otpId": id }))
                .map(IntoResponse::into_response)
        },
    )
    .await
}

const HOOK: &str = "onRecordRequestOTPRequest";
