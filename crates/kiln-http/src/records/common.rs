//! What the records endpoints share: the collection of a write, rendering records as the
//! requester may see them.

use crate::error::{api, ApiResult};
use crate::extract::Ctx;
use crate::json::RawJson;
use kiln_core::records::{Record, RenderOptions};
use kiln_core::App;

/// The collection of a write or auth route (PocketBase's message for a missing one differs there).
pub(crate) fn write_collection(
    app: &App,
    name: &str,
) -> ApiResult<std::sync::Arc<kiln_core::schema::Collection>> {
    app.records_collection(name)
        .map_err(|_| api(kiln_core::CoreError::InvalidCollectionContext))
}

/// Writes records as the response shows them (`expand`, `fields`), comma-separated.
pub(crate) fn write_items(
    app: &App,
    ctx: &Ctx,
    records: &mut [Record],
    out: &mut Vec<u8>,
) -> ApiResult<()> {
    let opts = RenderOptions::from_query(ctx.query("expand"), ctx.query("fields")).map_err(api)?;
    app.write_records(records, &ctx.req, &opts, out)
        .map_err(api)
}

/// One record as a response body.
pub(crate) fn render_one(app: &App, ctx: &Ctx, record: Record) -> ApiResult<RawJson> {
    let mut out = Vec::with_capacity(512);
    write_items(app, ctx, &mut [record], &mut out)?;
    Ok(RawJson(out))
}
