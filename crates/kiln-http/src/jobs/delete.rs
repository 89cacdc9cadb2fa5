//! `DELETE /api/jobs/{id}`: deletes a job that is not running.

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    app.delete_job(&id).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
