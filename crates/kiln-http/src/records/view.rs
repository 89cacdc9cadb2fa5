//! `GET /api/collections/{collection}/records/{id}`

use axum::extract::State;
use kiln_core::records::RuleKind;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::RawJson;

pub async fn handler(
    State(app): State<App>,
    PathParams((collection, id)): PathParams<(String, String)>,
    ctx: Ctx,
) -> ApiResult<RawJson> {
    let c = app.records_collection(&collection).map_err(api)?;
    let record = app
        .find_record_with_rule(&c, &id, &ctx.req, RuleKind::View)
        .map_err(api)?;
    super::common::render_one(&app, &ctx, record)
}
