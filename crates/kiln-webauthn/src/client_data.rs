//! CollectedClientData (WebAuthn §5.8.1) checks.

use base64::Engine as _;
use serde_json::Value;

use crate::error::WebauthnError;

/// The ceremony type of navigator.credentials.create().
pub(crate) const TYPE_CREATE: &str = "webauthn.create";
/// The ceremony type of navigator.credentials.get().
pub(crate) const TYPE_GET: &str = "webauthn.get";

/// Checks clientDataJSON's `type`, `challenge`, `origin` and `crossOrigin`, in the spec's order.
pub(crate) fn check(
    client_data_json: &[u8],
    expected_type: &'static str,
    expected_challenge: &[u8],
    origins: &[String],
) -> Result<(), WebauthnError> {
    let value: Value = serde_json::from_slice(client_data_json)
        .map_err(|_| WebauthnError::MalformedClientData("not valid JSON"))?;
    let object = value
        .as_object()
        .ok_or(WebauthnError::MalformedClientData("not a JSON object"))?;

    let ty = match object.get("type") {
        Some(Value::String(s)) => s,
        _ => {
            return Err(WebauthnError::MalformedClientData(
                "type is missing or not a string",
            ))
        }
    };
    if ty != expected_type {
        return Err(WebauthnError::WrongType {
            expected: expected_type,
            found: ty.clone(),
        });
    }

    let challenge = match object.get("challenge") {
        Some(Value::String(s)) => s,
        _ => {
            return Err(WebauthnError::MalformedClientData(
                "challenge is missing or not a string",
            ))
        }
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(challenge)
        .map_err(|_| WebauthnError::MalformedClientData("challenge is not unpadded base64url"))?;
    if challenge != expected_challenge {
        return Err(WebauthnError::ChallengeMismatch);
    }

    let origin = match object.get("origin") {
        Some(Value::String(s)) => s,
        _ => {
            return Err(WebauthnError::MalformedClientData(
                "origin is missing or not a string",
            ))
        }
    };
    if !origins.iter().any(|allowed| allowed == origin) {
        return Err(WebauthnError::OriginMismatch {
            origin: origin.clone(),
        });
    }

    match object.get("crossOrigin") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => return Err(WebauthnError::CrossOrigin),
        Some(_) => {
            return Err(WebauthnError::MalformedClientData(
                "crossOrigin is not a boolean",
            ))
        }
    }
    // topOrigin is only present when crossOrigin is true, which is refused above.
    Ok(())
}
