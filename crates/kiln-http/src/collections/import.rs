//! `PUT /api/collections/import`

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiError, ApiResult, MSG_INVALID_FORMAT};
use crate::extract::{require_superuser, Ctx, JsonBody};

pub async fn handler(
    State(app): State<App>,
    ctx: Ctx,
    JsonBody(body): JsonBody,
) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    let Some(list) = body.get("collections").and_then(Value::as_array) else {
        return Err(ApiError::bad_request(MSG_INVALID_FORMAT));
    };
    let delete_missing = body
        .get("deleteMissing")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    app.import_collections(list, delete_missing)
        .await
        .map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
