//! `GET /api/jobs?status=failed&name=…&page=1&perPage=30`: jobs, the newest first.

use axum::extract::State;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<serde_json::Value>> {
    require_superuser(&ctx)?;
    let page = app
        .list_jobs(
            ctx.query("status").unwrap_or(""),
            ctx.query("name").unwrap_or(""),
            ctx.query_int("page")?.unwrap_or(1),
            ctx.query_int("perPage")?.unwrap_or(30),
        )
        .map_err(api)?;
    ctx.json(page)
}
