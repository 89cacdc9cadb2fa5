//! `POST /api/collections/{collection}/impersonate/{id}` (superusers only): a non-refreshable
//! token of another record.

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{PathParams, require_superuser, BodyMap, Ctx};
use crate::json::RawJson;

pub async fn handler(
    State(app): State<App>,
    PathParams((collection, id)): PathParams<(String, String)>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<RawJson> {
    require_superuser(&ctx)?;
    let c = app.auth_collection(&collection).map_err(api)?;
    let record = app.find_record(&c, &id).map_err(api)?.ok_or_else(|| api(kiln_core::CoreError::NotFound))?;
    let duration = body.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
    if duration < 0.0 {
        let e = kiln_core::FieldError::new("validation_min_greater_equal_than_required", "Must be no less than 0.")
            .with_params(serde_json::json!({"threshold": 0}));
        return Err(api(kiln_core::CoreError::validation(kiln_core::Action::ValidateForm, "duration", e)));
    }
    let duration = Some(duration as i64).filter(|d| *d > 0);
    let token = app.new_auth_token(&record, duration, false).map_err(api)?;
    super::auth_response(&app, &ctx, record, token)
}
