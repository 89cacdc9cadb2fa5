//! `POST /api/settings/test/email`: sends one of a collection's account emails to an address.

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
    let field = |k: &str| body.get(k).map(to_text).unwrap_or_default();
    app.send_test_email(&field("collection"), &field("template"), &field("email"))
        .await
        .map_err(api)?;
    Ok(StatusCode::NO_CONTENT)
}
