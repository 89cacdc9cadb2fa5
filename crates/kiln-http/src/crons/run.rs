//! `POST /api/crons/{id}`: starts a job now, without waiting for it.

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use crate::error::{ApiError, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    if !app.run_cron_job(&id) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Missing or invalid cron job.",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}
