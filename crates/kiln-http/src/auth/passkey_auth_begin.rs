//! `POST /api/collections/{collection}/auth-with-passkey-begin`: options for
//! `navigator.credentials.get()` (discoverable credentials).

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<Json<Value>> {
    let c = app.auth_collection(&collection).map_err(api)?;
    ctx.json(app.passkey_auth_begin(&c).map_err(api)?)
}
