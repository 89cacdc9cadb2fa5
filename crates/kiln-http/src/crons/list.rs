//! `GET /api/crons`: every job and its expression.

use axum::extract::State;

use kiln_core::App;

use crate::error::ApiResult;
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<serde_json::Value>> {
    require_superuser(&ctx)?;
    ctx.json(app.cron_jobs())
}
