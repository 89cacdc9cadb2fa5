//! `GET /api/collections`

use axum::extract::State;
use serde_json::{json, Value};

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let params = ctx.list_params()?;
    let page = app.list_collections(&params).map_err(api)?;
    let fields = ctx
        .query("fields")
        .and_then(kiln_core::records::Fields::parse);
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|c| {
            let mut v = c.to_json(false);
            if let Some(f) = &fields {
                f.apply(&mut v);
            }
            v
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "page": page.page,
        "perPage": page.per_page,
        "totalItems": page.total_items,
        "totalPages": page.total_pages,
    })))
}
