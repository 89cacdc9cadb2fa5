//! `POST /api/collections/{collection}/impersonate/{id}` (superusers only): a non-refreshable
//! token of another record.

use axum::extract::State;
use serde_json::Value;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, BodyMap, Ctx, PathParams};
use crate::json::RawJson;

pub async fn handler(
    State(app): State<App>,
    PathParams((collection, id)): PathParams<(String, String)>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<RawJson> {
    require_superuser(&ctx)?;
    let c = app.auth_collection(&collection).map_err(api)?;
    let record = app
        .find_record(&c, &id)
        .map_err(api)?
        .ok_or_else(|| api(kiln_core::CoreError::NotFound))?;
    let duration = duration_secs(body.get("duration"))?;
    let duration = Some(duration).filter(|d| *d > 0);
    let token = app.new_auth_token(&record, duration, false).map_err(api)?;
    super::common::auth_response(&app, &ctx, record, token)
}

/// The longest token an impersonation may ask for: 100 years, far past any use and far from
/// overflowing an expiry time.
const MAX_DURATION_SECS: i64 = 100 * 366 * 24 * 3600;

/// `duration` in seconds, as PocketBase reads it: an integer (a string of one from a form), 0 or
/// absent for the collection's default; anything else fails to load.
fn duration_secs(v: Option<&Value>) -> Result<i64, crate::error::ApiError> {
    let load_error = || api(kiln_core::CoreError::Failed(kiln_core::Action::LoadForm));
    let secs = match v {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64().ok_or_else(load_error)?,
        Some(Value::String(s)) if s.trim().is_empty() => 0,
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| load_error())?,
        Some(_) => return Err(load_error()),
    };
    let invalid = |code: &'static str, msg: String, key: &str, limit: i64| {
        let e =
            kiln_core::FieldError::new(code, msg).with_params(serde_json::json!({ key: limit }));
        api(kiln_core::CoreError::validation(
            kiln_core::Action::ValidateForm,
            "duration",
            e,
        ))
    };
    if secs < 0 {
        return Err(invalid(
            "validation_min_greater_equal_than_required",
            "Must be no less than 0.".into(),
            "threshold",
            0,
        ));
    }
    if secs > MAX_DURATION_SECS {
        return Err(invalid(
            "validation_max_less_equal_than_required",
            format!("Must be no greater than {MAX_DURATION_SECS}."),
            "threshold",
            MAX_DURATION_SECS,
        ));
    }
    Ok(secs)
}
