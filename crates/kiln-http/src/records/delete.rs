//! `DELETE /api/collections/{collection}/records/{id}`

use axum::extract::{Path, State};
use axum::http::StatusCode;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::Ctx;

pub async fn handler(State(app): State<App>, Path((collection, id)): Path<(String, String)>, ctx: Ctx) -> ApiResult<StatusCode> {
    let c = app.records_collection(&collection).map_err(api)?;
    app.delete_record(&c, &id, &ctx.req).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
