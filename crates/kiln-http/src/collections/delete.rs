//! `DELETE /api/collections/{collection}`

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use kiln_hooks::migrate::Automigrate;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
    auto: Option<Extension<Arc<Automigrate>>>,
) -> ApiResult<StatusCode> {
    require_superuser(&ctx)?;
    let old = app.collection(&collection).ok();
    app.delete_collection(&collection).await.map_err(api)?;
    super::automigrate::changed(&app, auto, old.as_deref(), None).await;
    Ok(StatusCode::NO_CONTENT)
}
