//! `GET /api/logs`: log lines with `filter`, `sort`, `page`, `perPage`, `skipTotal`.

use axum::extract::State;
use serde_json::json;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<serde_json::Value>> {
    require_superuser(&ctx)?;
    let params = ctx.list_params()?;
    let mut page = app.list_logs(&params).map_err(api)?;
    if let Some(fields) = ctx.fields()? {
        page.items.iter_mut().for_each(|v| fields.apply(v));
    }
    Ok(Json(json!({
        "items": page.items,
        "page": page.page,
        "perPage": page.per_page,
        "totalItems": page.total_items,
        "totalPages": page.total_pages,
    })))
}
