//! `GET /api/collections/{collection}/records`

use axum::extract::State;
use serde_json::{json, Value};

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::Json;

pub async fn handler(State(app): State<App>, PathParams(collection): PathParams<String>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let c = app.records_collection(&collection).map_err(api)?;
    let params = ctx.list_params()?;
    let mut result = app.list_records(&c, &ctx.req, &params).map_err(api)?;
    let items = super::render(&app, &ctx, &mut result.items)?;
    Ok(Json(json!({
        "items": items,
        "page": result.page,
        "perPage": result.per_page,
        "totalItems": result.total_items,
        "totalPages": result.total_pages,
    })))
}
