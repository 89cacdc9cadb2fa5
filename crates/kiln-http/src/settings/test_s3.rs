//! `POST /api/settings/test/s3`: checks the S3 settings of `storage` or `backups`.

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::records::values::to_text;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, BodyMap, Ctx};

pub async fn handler(
    State(app): State<App>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    let filesystem = body.get("filesystem").map(to_text).unwrap_or_default();
    app.test_s3(&filesystem).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
