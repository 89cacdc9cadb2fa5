//! A `subscriptions` value checked (both transports and the subscribe hook take it).

use serde_json::Value;

use kiln_core::realtime::{MAX_SUBSCRIPTIONS, MAX_TOPIC_LEN};
use kiln_core::{Action, CoreError, FieldError};

use crate::error::{api, ApiResult};

pub(crate) fn invalid(field: &str, e: FieldError) -> crate::error::ApiError {
    api(CoreError::validation(Action::ValidateForm, field, e))
}

/// Reads and checks a `subscriptions` value.
pub(crate) fn topics(value: Option<&Value>) -> ApiResult<Vec<String>> {
    let topics: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(t) if t.len() <= MAX_TOPIC_LEN => out.push(t.to_owned()),
                    _ => {
                        return Err(invalid(
                            "subscriptions",
                            FieldError::new(
                                "validation_invalid_value",
                                "Invalid subscription value.",
                            ),
                        ))
                    }
                }
            }
            out
        }
        Some(Value::String(one)) => vec![one.clone()],
        Some(_) => {
            return Err(invalid(
                "subscriptions",
                FieldError::new("validation_invalid_value", "Must be a list of strings."),
            ))
        }
    };
    if topics.len() > MAX_SUBSCRIPTIONS {
        return Err(invalid(
            "subscriptions",
            FieldError::new(
                "validation_length_too_long",
                format!("The length must be no more than {MAX_SUBSCRIPTIONS}."),
            ),
        ));
    }
    Ok(topics)
}
