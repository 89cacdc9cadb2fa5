//! `/api/collections/{collection}/records`: the records API.

mod create;
mod delete;
mod list;
mod update;
mod view;

use axum::routing::get;
use axum::Router;
use kiln_core::records::{ExpandTree, Fields, Record};
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::Ctx;
use crate::json::RawJson;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/collections/{collection}/records", get(list::handler).post(create::handler))
        .route(
            "/api/collections/{collection}/records/{id}",
            get(view::handler).patch(update::handler).delete(delete::handler),
        )
}

/// Writes records as the response shows them, comma-separated: expanded (`expand`), then
/// projected (`fields`). Without `fields`, records are written straight to bytes.
pub(crate) fn write_items(app: &App, ctx: &Ctx, records: &mut [Record], out: &mut Vec<u8>) -> ApiResult<()> {
    if let Some(expand) = ctx.query("expand") {
        app.expand_records(records, &ExpandTree::parse(expand), &ctx.req).map_err(api)?;
    }
    let viewer = ctx.req.viewer();
    let d = app.dialect();
    let fields = ctx.query("fields").and_then(Fields::parse);
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match &fields {
            None => r.write_json(out, d, &viewer),
            Some(f) => {
                let mut v = r.to_json(d, &viewer);
                f.apply(&mut v);
                let _ = serde_json::to_writer(&mut *out, &v);
            }
        }
    }
    Ok(())
}

/// One record as a response body.
pub(crate) fn render_one(app: &App, ctx: &Ctx, record: Record) -> ApiResult<RawJson> {
    let mut out = Vec::with_capacity(512);
    write_items(app, ctx, &mut [record], &mut out)?;
    Ok(RawJson(out))
}
