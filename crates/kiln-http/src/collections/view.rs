//! `GET /api/collections/{collection}`

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let c = app.collection(&collection).map_err(api)?;
    ctx.json(c.to_json(false))
}
