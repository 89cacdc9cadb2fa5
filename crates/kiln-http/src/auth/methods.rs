//! `GET /api/collections/{collection}/auth-methods`

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    _ctx: Ctx,
) -> ApiResult<Json<Value>> {
    let c = crate::records::write_collection(&app, &collection)?;
    Ok(Json(app.auth_methods(&c).await.map_err(api)?))
}
