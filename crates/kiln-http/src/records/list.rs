//! `GET /api/collections/{collection}/records`

use axum::extract::{Path, State};
use serde_json::{json, Value};

use kiln_core::records::ListParams;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::Ctx;
use crate::json::Json;

pub async fn handler(State(app): State<App>, Path(collection): Path<String>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let c = app.records_collection(&collection).map_err(api)?;
    let params = ListParams {
        page: ctx.query_i64("page").unwrap_or(1),
        per_page: ctx.query_i64("perPage").unwrap_or(0),
        sort: ctx.query("sort").unwrap_or("").to_owned(),
        filter: ctx.query("filter").unwrap_or("").to_owned(),
        skip_total: ctx.query_bool("skipTotal"),
    };
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
