//! `POST /api/collections`

use std::sync::Arc;

use axum::extract::State;
use axum::Extension;
use kiln_hooks::migrate::Automigrate;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, JsonBody};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    auto: Option<Extension<Arc<Automigrate>>>,
    ctx: Ctx,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let c = app.create_collection(&body).await.map_err(api)?;
    super::automigrate::changed(&app, auto, None, Some(&c)).await;
    ctx.json(c.to_json(false))
}
