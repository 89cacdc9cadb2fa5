//! `POST /api/backups/upload`: stores an uploaded archive (`file`) as a backup.

use axum::extract::{Request, State};
use axum::http::StatusCode;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{read_body, require_superuser, Ctx};

/// The largest archive accepted.
const MAX_ARCHIVE: usize = 64 << 30;

pub async fn handler(State(app): State<App>, ctx: Ctx, req: Request) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    let mut uploads = Vec::new();
    read_body(
        req,
        &app,
        MAX_ARCHIVE,
        MAX_ARCHIVE as u64,
        Some(&mut uploads),
    )
    .await?;
    let file = uploads.into_iter().find(|u| u.key == "file");
    app.save_uploaded_backup(file).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
