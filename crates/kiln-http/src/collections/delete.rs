//! `DELETE /api/collections/{collection}`

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use kiln_hooks::migrate::Automigrate;
use serde_json::Value;

use kiln_core::App;

use super::hooks::{fields, watching, DELETE};
use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};
use crate::hooks::hooked;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
    auto: Option<Extension<Arc<Automigrate>>>,
    hooks: Option<Extension<Arc<kiln_hooks::Hooks>>>,
) -> ApiResult<Response> {
    require_superuser(&ctx)?;
    let old = app.collection(&collection).ok();
    let json = old.as_ref().map(|c| c.to_json(false));
    let h = json.as_ref().and_then(|c| watching(hooks, &DELETE, c));
    let fields = match (&h, json) {
        (Some(_), Some(c)) => fields(c, &DELETE),
        _ => Value::Null,
    };
    hooked(
        h,
        DELETE[0],
        None,
        &ctx,
        None,
        fields,
        move |_| async move {
            app.delete_collection(&collection).await.map_err(api)?;
            super::automigrate::changed(&app, auto, old.as_deref(), None).await;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}
