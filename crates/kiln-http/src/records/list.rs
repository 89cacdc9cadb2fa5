//! `GET /api/collections/{collection}/records`

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use kiln_core::App;
use kiln_hooks::{Hooks, Page};

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::RawJson;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<Extension<Arc<Hooks>>>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let c = app.records_collection(&collection).map_err(api)?;
    let params = ctx.list_params()?;
    let mut result = app.list_records(&c, &ctx.req, &params).map_err(api)?;
    let render = |result: &mut kiln_core::records::ListResult| -> ApiResult<Vec<u8>> {
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
        Ok(out)
    };
    if let Some(h) = hooks.as_ref().map(|h| &h.0).filter(|h| h.watches_reads(&c)) {
        let page = Page {
            page: result.page,
            per_page: result.per_page,
            total_items: result.total_items,
            total_pages: result.total_pages,
        };
        let out = h.list_records(c, &result.items, &ctx.req, page).await;
        return crate::hooks::read_outcome(out, |patches| {
            let body = render(&mut result)?;
            Ok(crate::hooks::patched(body, patches, true).into_response())
        });
    }
    Ok(RawJson(render(&mut result)?).into_response())
}
