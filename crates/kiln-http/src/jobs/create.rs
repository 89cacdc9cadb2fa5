//! `POST /api/jobs` `{"name", "payload", "runAt", "uniqueKey", "maxAttempts", "backoff"}`:
//! queues a job (with a `uniqueKey` a queued or running job holds: answers that job).
//! `runAt` is a date (`2026-01-31 10:00:00.000Z`, or RFC 3339).

use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use kiln_core::jobs::JobOptions;
use kiln_core::{Action, App, CoreError, FieldError};

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, JsonBody};
use crate::json::Json;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Form {
    name: String,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    run_at: String,
    #[serde(default)]
    unique_key: String,
    max_attempts: Option<i64>,
    backoff: Option<i64>,
}

pub async fn handler(
    State(app): State<App>,
    ctx: Ctx,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let form: Form =
        serde_json::from_value(body).map_err(|e| api(CoreError::InvalidBody(e.to_string())))?;
    let run_at = match form.run_at.as_str() {
        "" => None,
        s => Some(kiln_core::datetime::parse_ms(s).ok_or_else(|| {
            api(CoreError::validation(
                Action::ValidateForm,
                "runAt",
                FieldError::new("validation_invalid_date", "Must be a valid date."),
            ))
        })?),
    };
    let opts = JobOptions {
        run_at,
        unique_key: (!form.unique_key.is_empty()).then_some(form.unique_key),
        max_attempts: form.max_attempts,
        backoff_ms: form.backoff,
    };
    let id = app
        .enqueue_job(&form.name, form.payload, opts)
        .await
        .map_err(api)?;
    ctx.json(app.job(&id).map_err(api)?)
}
