//! `POST /api/collections/meta/dry-run-view`: the fields and first records a view query makes.

use axum::extract::State;
use serde_json::Value;

use kiln_core::records::values::to_text;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, BodyMap, Ctx};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let query = body.get("query").map(to_text).unwrap_or_default();
    // a superuser's query may take long: off the async threads
    let result = tokio::task::spawn_blocking(move || app.dry_run_view(&query))
        .await
        .map_err(|_| {
            api(kiln_core::CoreError::Internal(
                "dry-run-view panicked".into(),
            ))
        })?;
    ctx.json(result.map_err(api)?)
}
