//! `POST /api/files/token`: a short-lived token for protected files (authenticated).

use axum::extract::State;
use serde_json::{json, Value};

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::Ctx;
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<Value>> {
    ctx.json(json!({ "token": app.file_token(&ctx.req).map_err(api)? }))
}
