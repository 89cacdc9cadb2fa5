//! `POST /api/settings/apple/generate-client-secret`: a Sign in with Apple client secret.

use axum::extract::State;
use serde_json::{json, Value};

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, BodyMap, Ctx};
use crate::json::Json;

pub async fn handler(
    State(_app): State<App>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let secret = kiln_core::settings::apple_client_secret(&body).map_err(api)?;
    ctx.json(json!({ "secret": secret }))
}
