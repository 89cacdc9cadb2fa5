//! `POST /api/backups/{key}/restore`: replaces the data with the backup's, then the app reloads
//! (the answer comes first, as in PocketBase).

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams(key): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    app.restore_backup(&key).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
