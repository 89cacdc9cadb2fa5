//! `GET /api/backups`: every backup's name, size and time.

use axum::extract::State;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<serde_json::Value>> {
    require_superuser(&ctx)?;
    ctx.json(app.list_backups().await.map_err(api)?)
}
