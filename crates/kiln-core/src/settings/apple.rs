//! `POST /api/settings/apple/generate-client-secret`: Sign in with Apple's client secret from the
//! app's Apple key, checked as PocketBase's form checks it.

use serde_json::{json, Map, Value};

use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::records::values::to_text;

/// The client secret for the submitted `clientId`, `teamId`, `keyId`, `privateKey` (a PKCS#8
/// PEM) and `duration` (seconds, at most about six months).
pub fn apple_client_secret(body: &Map<String, Value>) -> Result<String> {
    let text = |k: &str| body.get(k).map(to_text).unwrap_or_default();
    let (client_id, team_id, key_id, key) = (
        text("clientId"),
        text("teamId"),
        text("keyId"),
        text("privateKey"),
    );
    let duration = body.get("duration").and_then(Value::as_f64).unwrap_or(0.0) as i64;
    let mut errors = FieldErrors::new();
    if client_id.is_empty() {
        errors.insert("clientId".into(), FieldError::required());
    }
    for (name, v) in [("teamId", &team_id), ("keyId", &key_id)] {
        if v.is_empty() {
            errors.insert(name.into(), FieldError::required());
        } else if v.chars().count() != 10 {
            let e = FieldError::new(
                "validation_length_invalid",
                "The length must be exactly 10.",
            )
            .with_params(json!({"max": 10, "min": 10}));
            errors.insert(name.into(), e);
        }
    }
    let pem_shaped =
        key.contains("-----BEGIN PRIVATE KEY----") && key.contains("-----END PRIVATE KEY-----");
    if key.is_empty() {
        errors.insert("privateKey".into(), FieldError::required());
    } else if !pem_shaped {
        let e = FieldError::new("validation_match_invalid", "Must be in a valid format.");
        errors.insert("privateKey".into(), e);
    }
    let max = kiln_oauth2::apple::MAX_DURATION_SECS;
    if duration == 0 {
        errors.insert("duration".into(), FieldError::required());
    } else if duration < 1 {
        let e = FieldError::new(
            "validation_min_greater_equal_than_required",
            "Must be no less than 1.",
        )
        .with_params(json!({"threshold": 1}));
        errors.insert("duration".into(), e);
    } else if duration > max {
        let e = FieldError::new(
            "validation_max_less_equal_than_required",
            format!("Must be no greater than {max}."),
        )
        .with_params(json!({ "threshold": max }));
        errors.insert("duration".into(), e);
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation {
            action: Action::AppleClientSecret,
            errors,
        });
    }
    let now = crate::datetime::now_ms() / 1000;
    kiln_oauth2::apple::client_secret(&client_id, &team_id, &key_id, &key, duration, now)
        .map_err(CoreError::ClientSecretFailed)
}
