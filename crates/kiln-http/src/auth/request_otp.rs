//! `POST /api/collections/{collection}/request-otp`: `{"otpId": …}` whether or not the account exists.

use axum::extract::State;
use serde_json::{json, Value};

use kiln_core::App;

use super::common::text;
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Json<Value>> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let id = app
        .request_otp(&c, &text(&body, "email"))
        .await
        .map_err(api)?;
    ctx.json(json!({ "otpId": id }))
}
