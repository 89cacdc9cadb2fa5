//! `POST /api/jobs/{id}/retry`: queues a failed (or done) job again now, its attempts reset.

use axum::extract::State;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<Json<serde_json::Value>> {
    require_superuser(&ctx)?;
    ctx.json(app.retry_job(&id).await.map_err(api)?)
}
