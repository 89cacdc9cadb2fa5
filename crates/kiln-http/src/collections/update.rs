//! `PATCH /api/collections/{collection}`

use std::sync::Arc;

use axum::extract::State;
use axum::Extension;
use kiln_hooks::migrate::Automigrate;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, JsonBody, PathParams};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
    auto: Option<Extension<Arc<Automigrate>>>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let old = app.collection(&collection).ok();
    let c = app
        .update_collection(&collection, &body)
        .await
        .map_err(api)?;
    super::automigrate::changed(&app, auto, old.as_deref(), Some(&c)).await;
    ctx.json(c.to_json(false))
}
