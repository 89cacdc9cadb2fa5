//! `GET /api/collections/meta/scaffolds`

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use crate::error::ApiResult;
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    ctx.json(app.scaffolds())
}
