//! `GET /api/logs/{id}`: one log line.

use axum::extract::State;

use kiln_core::App;

use crate::error::{api, ApiError, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<Json<serde_json::Value>> {
    require_superuser(&ctx)?;
    let line = app.find_log(&id).map_err(api)?;
    ctx.json(line.ok_or_else(ApiError::not_found)?)
}
