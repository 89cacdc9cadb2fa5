//! `POST /api/sql`: runs a superuser's SQL (PocketBase 0.40's SQL console).

use axum::extract::State;

use kiln_core::records::values::to_text;
use kiln_core::App;
use serde_json::Value;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, BodyMap, Ctx};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let query = body.get("query").map(to_text).unwrap_or_default();
    ctx.json(app.run_sql(&query).await.map_err(api)?)
}
