//! `GET /api/collections/{collection}/records`

use axum::extract::State;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::RawJson;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<RawJson> {
    let c = app.records_collection(&collection).map_err(api)?;
    let params = ctx.list_params()?;
    let mut result = app.list_records(&c, &ctx.req, &params).map_err(api)?;
    let mut out = Vec::with_capacity(256 + 512 * result.items.len());
    out.extend_from_slice(b"{\"items\":[");
    super::common::write_items(&app, &ctx, &mut result.items, &mut out)?;
    out.extend_from_slice(
        format!(
            "],\"page\":{},\"perPage\":{},\"totalItems\":{},\"totalPages\":{}}}",
            result.page, result.per_page, result.total_items, result.total_pages
        )
        .as_bytes(),
    );
    Ok(RawJson(out))
}
