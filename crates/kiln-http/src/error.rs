//! The error envelope, built in exactly one place: `{"data": {...}, "message": "...", "status": N}`.
//! Every core error maps here explicitly to PocketBase's status and message.

use std::borrow::Cow;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use kiln_core::{Action, CoreError, Feature, FieldErrors, Refusal};

/// The error an [`ApiError`] response carries for the log: message and data.
#[derive(Clone)]
pub(crate) struct LoggedError(pub Arc<(String, Map<String, Value>)>);

/// An API error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
    pub data: Map<String, Value>,
    /// Rarely used parts, boxed to keep the error (and every handler's `Result`) small.
    pub extra: Option<Box<ErrorExtra>>,
}

/// Parts of a few responses only.
#[derive(Debug, Default)]
pub struct ErrorExtra {
    /// Seconds for a `Retry-After` header (429 responses).
    pub retry_after: Option<u64>,
    /// A body sent instead of the envelope (PocketBase's 401 `{"mfaId": …}`).
    pub raw_body: Option<Value>,
}

pub const MSG_NOT_FOUND: &str = "The requested resource wasn't found.";
pub const MSG_GENERIC_400: &str = "Something went wrong while processing your request.";
pub const MSG_INVALID_FORMAT: &str = "Failed to load the submitted data due to invalid formatting.";
pub const MSG_TOO_LARGE: &str = "Request entity too large.";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            message: message.into(),
            data: Map::new(),
            extra: None,
        }
    }
    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, MSG_NOT_FOUND)
    }
    pub fn bad_request(message: &'static str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn with_errors(mut self, errors: FieldErrors) -> Self {
        self.data = nest(errors);
        self
    }
}

fn action_message(a: Action) -> &'static str {
    match a {
        Action::CreateRecord => "Failed to create record.",
        Action::UpdateRecord => "Failed to update record.",
        Action::DeleteRecord => "Failed to delete record.",
        Action::CreateCollection => "Failed to create collection.",
        Action::UpdateCollection => "Failed to update collection.",
        Action::DeleteCollection => "Failed to delete collection.",
        Action::ImportCollections => "Failed to import collections.",
        Action::Authenticate => "Failed to authenticate.",
        Action::ValidateForm => "An error occurred while validating the submitted data.",
        Action::LoadForm => "An error occurred while loading the submitted data.",
        Action::SaveSettings => "An error occurred while saving the new settings.",
        Action::TestEmail => "Failed to send the test email.",
        Action::TestS3 => "Failed to test the S3 filesystem.",
        Action::SetNewPassword => "Failed to set new password.",
        Action::AppleClientSecret => "Invalid client secret data.",
    }
}

/// Dotted keys (`fields.2.name`) become nested objects, as PocketBase reports nested errors.
fn nest(errors: FieldErrors) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, e) in errors {
        let mut leaf = Map::new();
        leaf.insert("code".into(), json!(e.code));
        leaf.insert("message".into(), json!(e.message));
        if let Some(p) = e.params {
            leaf.insert("params".into(), p);
        }
        let parts: Vec<&str> = key.split('.').collect();
        let mut node = &mut root;
        for part in &parts[..parts.len() - 1] {
            let entry = node
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            node = entry.as_object_mut().expect("just made an object");
        }
        node.insert(parts[parts.len() - 1].to_owned(), Value::Object(leaf));
    }
    root
}

/// A message ending in a full stop, as PocketBase ends every error message it builds.
fn sentence(mut m: String) -> String {
    if !m.ends_with('.') {
        m.push('.');
    }
    m
}

/// The one mapping from core errors to API errors.
pub fn api(e: CoreError) -> ApiError {
    use StatusCode as S;
    match e {
        CoreError::MissingCollection => ApiError::new(S::NOT_FOUND, "Missing collection context."),
        CoreError::InvalidCollectionContext => ApiError::new(S::NOT_FOUND, "Missing or invalid collection context."),
        CoreError::PasswordAuthDisabled => {
            ApiError::new(S::FORBIDDEN, "The collection is not configured to allow password authentication.")
        }
        CoreError::AuthRuleFailed => {
            ApiError::new(S::FORBIDDEN, "The request doesn't satisfy the collection requirements to authenticate.")
        }
        CoreError::NotFound => ApiError::not_found(),
        CoreError::SuperuserOnly => ApiError::new(S::FORBIDDEN, "Only superusers can perform this action."),
        CoreError::AuthRequired => ApiError::new(S::UNAUTHORIZED, "The request requires valid record authorization token."),
        CoreError::NotAllowed => ApiError::new(S::FORBIDDEN, "The authorized record is not allowed to perform this action."),
        CoreError::FilterForbidden("@collection") => ApiError::new(S::FORBIDDEN, "Only superusers can filter by @collection."),
        CoreError::FilterForbidden(_) => ApiError::new(S::FORBIDDEN, "Only superusers can filter by @request."),
        CoreError::Validation { action, errors } => ApiError::new(S::BAD_REQUEST, action_message(action)).with_errors(errors),
        CoreError::Failed(action) => ApiError::new(S::BAD_REQUEST, action_message(action)),
        CoreError::InvalidBody(m) => {
            tracing::debug!(error = %m, "invalid request body");
            ApiError::bad_request(MSG_GENERIC_400)
        }
        CoreError::InvalidFormat(m) => {
            tracing::debug!(error = %m, "invalid definition format");
            ApiError::bad_request(MSG_INVALID_FORMAT)
        }
        CoreError::Backup(b) => backup_error(b),
        CoreError::SealedSettings => {
            tracing::error!("the stored settings do not open with the settings key");
            ApiError::new(S::INTERNAL_SERVER_ERROR, MSG_GENERIC_400)
        }
        CoreError::BadQuery(m) => {
            tracing::debug!(error = %m, "invalid query");
            ApiError::bad_request(MSG_GENERIC_400)
        }
        CoreError::ClientSecretFailed(m) => ApiError::new(
            S::BAD_REQUEST,
            sentence(format!("Failed to generate client secret. Raw error: \n{m}")),
        ),
        CoreError::InvalidViewQuery(m) => ApiError::new(S::BAD_REQUEST, sentence(format!("Invalid view query. Raw error: \n{m}"))),
        CoreError::SqlFailed(m) => ApiError::new(S::BAD_REQUEST, sentence(format!("Failed to execute query. Raw error:\n{m}"))),
        CoreError::RequiredReference => ApiError::bad_request(
            "Failed to delete record. Make sure that the record is not part of a required relation reference.",
        ),
        CoreError::SystemCollection => ApiError::bad_request("Failed to delete collection."),
        CoreError::CollectionReferenced(other) => {
            ApiError::new(S::BAD_REQUEST, format!("Failed to delete collection probably due to existing reference in {other}."))
        }
        CoreError::TruncateBlocked => ApiError::bad_request(
            "Failed to truncate collection (most likely due to required cascade delete record references).",
        ),
        CoreError::MissingAuthCollection => ApiError::new(S::NOT_FOUND, "Missing or invalid auth collection context."),
        CoreError::WrongAuthCollection(name) => {
            ApiError::new(S::FORBIDDEN, format!("The request requires auth record from {name} collection."))
        }
        CoreError::Db(e @ kiln_core::DbError::Unavailable(_)) => {
            tracing::error!(error = %e, "database unavailable");
            ApiError::new(S::SERVICE_UNAVAILABLE, "The database is unavailable, please try again later.")
        }
        CoreError::Db(kiln_db_error) => {
            tracing::error!(error = %kiln_db_error, "database error");
            ApiError::bad_request(MSG_GENERIC_400)
        }
        CoreError::Refused(r) => ApiError::bad_request(refusal_message(r)),
        CoreError::PasswordResetDisabled => {
            ApiError::bad_request("The collection is not configured to allow password authentication.")
        }
        CoreError::MfaRequired(id) => {
            let mut e = ApiError::new(S::UNAUTHORIZED, "");
            e.extra = Some(Box::new(ErrorExtra { raw_body: Some(json!({ "mfaId": id })), ..Default::default() }));
            e
        }
        CoreError::TestS3Failed(m) => ApiError::new(S::BAD_REQUEST, format!("Failed to test the S3 filesystem. Raw error: \n{m}.")),
        CoreError::TestEmailFailed(m) => ApiError::new(S::BAD_REQUEST, format!("Failed to send the test email. Raw error: \n{m}.")),
        CoreError::MailNotConfigured => {
            tracing::warn!("an email was requested but SMTP is not enabled in the settings");
            ApiError::bad_request("Failed to send email: SMTP is not configured.")
        }
        CoreError::Mail(m) => {
            tracing::warn!(error = %m, "failed to send an email");
            ApiError::bad_request("Failed to send email.")
        }
        CoreError::RateLimited { retry_after } => too_many(retry_after, "Too Many Requests."),
        CoreError::OtpAttemptsExhausted { retry_after } => {
            too_many(retry_after, "Too many attempts, please try again later with a new OTP.")
        }
        CoreError::Disabled(Feature::OAuth2) => {
            ApiError::new(S::FORBIDDEN, "The collection is not configured to allow OAuth2 authentication.")
        }
        CoreError::Disabled(Feature::Otp) => {
            ApiError::new(S::FORBIDDEN, "The collection is not configured to allow OTP authentication.")
        }
        CoreError::Disabled(Feature::Passkeys) => ApiError::new(S::FORBIDDEN, "Passkeys are not enabled."),
        CoreError::IpNotAllowed => ApiError::new(S::FORBIDDEN, "You are not allowed to perform this request."),
        CoreError::FileTokenRejected => ApiError::new(S::FORBIDDEN, "Insufficient permissions to access the resource."),
        CoreError::Storage(m) => {
            tracing::error!(error = %m, "file storage error");
            ApiError::bad_request(MSG_GENERIC_400)
        }
        CoreError::HookThrew(_) => ApiError::bad_request(MSG_GENERIC_400),
        CoreError::Hook {
            status,
            message,
            data,
        } => ApiError {
            status: S::from_u16(status).unwrap_or(S::BAD_REQUEST),
            message: Cow::Owned(message),
            data: match data {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            extra: None,
        },
        CoreError::Copy(m) | CoreError::Internal(m) => {
            tracing::error!(error = %m, "internal error");
            ApiError::new(S::INTERNAL_SERVER_ERROR, MSG_GENERIC_400)
        }
    }
}

/// A 429 asking to retry after `retry_after` seconds.
fn too_many(retry_after: u64, message: &'static str) -> ApiError {
    let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, message);
    e.extra = Some(Box::new(ErrorExtra {
        retry_after: Some(retry_after),
        ..Default::default()
    }));
    e
}

/// PocketBase's message for each refusal (all 400).
fn refusal_message(r: Refusal) -> &'static str {
    match r {
        Refusal::SuperuserAlwaysVerified => "All superusers are verified by default.",
        Refusal::SuperuserChangesEmailDirectly => {
            "All superusers can change their emails directly."
        }
        Refusal::EmailChangeNotSent => "Failed to request email change.",
        Refusal::EmailChangeRejected => "Failed to confirm email change.",
        Refusal::MfaSessionExpired => "Invalid or expired MFA session.",
        Refusal::MfaSessionMismatch => "Invalid MFA session.",
        Refusal::MfaSameMethod => "A different authentication method is required.",
        Refusal::OtpInvalid => "Invalid or expired OTP.",
        Refusal::PasskeyInvalid => "Failed to verify the passkey.",
        Refusal::TooManyPasskeys => "Too many passkeys on this account.",
        Refusal::OAuth2TokenFailed => "Failed to fetch OAuth2 token.",
        Refusal::OAuth2UserFailed => "Failed to fetch OAuth2 user.",
        Refusal::FilesChanged => "The record's files changed during the request; try again.",
    }
}

/// Backup errors, with PocketBase's messages.
fn backup_error(e: kiln_core::backups::BackupError) -> ApiError {
    use kiln_core::backups::BackupError as B;
    match e {
        B::Busy => ApiError::bad_request(
            "Try again later - another backup/restore process has already been started.",
        ),
        B::Unsupported => ApiError::bad_request(
            "Backups are made of a SQLite data dir; back up a PostgreSQL database with its own tools (pg_dump and pg_restore, or continuous archiving).",
        ),
        B::Missing => ApiError::bad_request("Missing or invalid backup file."),
        B::InUse => {
            ApiError::bad_request("The backup is currently being used and cannot be deleted.")
        }
        B::Create(m) => {
            tracing::error!(error = %m, "cannot create a backup");
            ApiError::bad_request("Failed to create backup.")
        }
        B::Delete(m) => ApiError::new(
            StatusCode::BAD_REQUEST,
            sentence(format!("Invalid or already deleted backup file. Raw error: \n{m}")),
        ),
    }
}

/// Realtime subscription errors, with PocketBase's messages.
pub fn realtime_error(e: kiln_core::realtime::ClientError) -> ApiError {
    use kiln_core::realtime::ClientError;
    match e {
        ClientError::UnknownClient => {
            ApiError::new(StatusCode::NOT_FOUND, "Missing or invalid client id.")
        }
        ClientError::AuthMismatch => ApiError::new(
            StatusCode::FORBIDDEN,
            "The current and the previous request authorization don't match.",
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let extra = self.extra.map(|b| *b).unwrap_or_default();
        let logged = LoggedError(Arc::new((self.message.to_string(), self.data.clone())));
        let body = match extra.raw_body {
            Some(b) => b,
            None => {
                json!({"data": self.data, "message": self.message, "status": self.status.as_u16()})
            }
        };
        let mut res = (self.status, crate::json::Json(body)).into_response();
        res.extensions_mut().insert(logged);
        if let Some(secs) = extra.retry_after {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
