//! `DELETE /api/collections/{collection}/records/{id}`

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams((collection, id)): PathParams<(String, String)>,
    ctx: Ctx,
) -> ApiResult<StatusCode> {
    let c = app.records_collection(&collection).map_err(api)?;
    app.delete_record(&c, &id, &ctx.req).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
