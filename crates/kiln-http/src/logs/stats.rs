//! `GET /api/logs/stats`: lines per hour, of those matching `filter`.

use axum::extract::State;

use kiln_core::{App, CoreError};

use crate::error::{api, ApiError, ApiResult};
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<serde_json::Value>> {
    require_superuser(&ctx)?;
    let stats = app
        .log_stats(ctx.query("filter").unwrap_or(""))
        .map_err(|e| match e {
            CoreError::BadQuery(_) => ApiError::bad_request("Invalid filter format."),
            e => api(e),
        })?;
    ctx.json(stats)
}
