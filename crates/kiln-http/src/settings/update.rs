//! `PATCH /api/settings`: merges the body into the settings; answers the new settings.

use axum::extract::State;
use serde_json::Value;

use kiln_core::{App, CoreError};

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, JsonBody};
use crate::json::Json;

pub async fn handler(
    State(app): State<App>,
    ctx: Ctx,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let Value::Object(patch) = body else {
        return Err(api(CoreError::InvalidBody(
            "the settings body must be an object".into(),
        )));
    };
    let s = app.update_settings(patch).await.map_err(api)?;
    ctx.json(s.to_public_json())
}
