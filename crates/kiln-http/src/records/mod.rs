//! `/api/collections/{collection}/records`: the records API.

mod create;
mod delete;
mod list;
mod update;
mod view;

use axum::routing::get;
use axum::Router;
use serde_json::Value;

use kiln_core::records::{ExpandTree, Fields, Record};
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::Ctx;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/collections/{collection}/records", get(list::handler).post(create::handler))
        .route(
            "/api/collections/{collection}/records/{id}",
            get(view::handler).patch(update::handler).delete(delete::handler),
        )
}

/// Records as the response shows them: expanded (`expand`), then projected (`fields`).
pub(crate) fn render(app: &App, ctx: &Ctx, records: &mut [Record]) -> ApiResult<Vec<Value>> {
    if let Some(expand) = ctx.query("expand") {
        app.expand_records(records, &ExpandTree::parse(expand), &ctx.req).map_err(api)?;
    }
    let viewer = ctx.req.viewer();
    let d = app.dialect();
    let fields = ctx.query("fields").and_then(Fields::parse);
    Ok(records
        .iter()
        .map(|r| {
            let mut v = r.to_json(d, &viewer);
            if let Some(f) = &fields {
                f.apply(&mut v);
            }
            v
        })
        .collect())
}

/// One record rendered.
pub(crate) fn render_one(app: &App, ctx: &Ctx, record: Record) -> ApiResult<Value> {
    let mut one = [record];
    Ok(render(app, ctx, &mut one)?.pop().unwrap_or(Value::Null))
}
