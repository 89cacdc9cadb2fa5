//! `POST /api/backups`: makes a backup now (`{"name": "x.zip"}`, or a generated name).

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
    let name = body.get("name").map(to_text);
    app.create_backup(name).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
