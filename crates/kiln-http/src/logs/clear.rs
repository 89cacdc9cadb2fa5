//! `DELETE /api/logs`: deletes every log line.

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx};

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    app.clear_logs().await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
