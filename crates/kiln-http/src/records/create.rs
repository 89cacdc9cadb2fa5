//! `POST /api/collections/{collection}/records`

use axum::extract::State;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams, RecordBody};
use crate::json::RawJson;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    mut ctx: Ctx,
    RecordBody { body, uploads }: RecordBody,
) -> ApiResult<RawJson> {
    let c = crate::records::common::write_collection(&app, &collection)?;
    ctx.req.body = body.clone();
    let record = app
        .create_record_with_files(&c, &ctx.req, body, uploads)
        .await
        .map_err(api)?;
    super::common::render_one(&app, &ctx, record)
}
