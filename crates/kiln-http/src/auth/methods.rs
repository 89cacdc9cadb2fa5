//! `GET /api/collections/{collection}/auth-methods`

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::Json;

/// The sign-in methods of an auth collection; `fields` keeps only the listed keys (the SDK asks
/// for `mfa,otp,password,oauth2`, leaving out the legacy ones).
pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
) -> ApiResult<Json<Value>> {
    let c = crate::records::common::write_collection(&app, &collection)?;
    let fields = ctx.fields()?;
    let mut methods = app.auth_methods(&c).await.map_err(api)?;
    if let Some(f) = fields {
        f.apply(&mut methods);
    }
    ctx.json(methods)
}
