//! `POST /api/collections/{collection}/request-password-reset` (always 204 for a valid email)

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use super::common::text;
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    _ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<StatusCode> {
    let c = app.auth_collection(&collection).map_err(api)?;
    app.request_password_reset(&c, &text(&body, "email"))
        .await
        .map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
