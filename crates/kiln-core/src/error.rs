//! The errors of the application core. Each variant says what happened; kiln-http maps every
//! variant to a status and PocketBase's message in one place.

use std::collections::BTreeMap;
use std::fmt;

use kiln_db::DbError;
use kiln_filter::FilterError;

/// One field's validation failure, as PocketBase reports it (`code`, `message`, optional `params`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub code: &'static str,
    pub message: String,
    pub params: Option<serde_json::Value>,
}

impl FieldError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            code,
            message: message.into(),
            params: None,
        }
    }
    pub fn with_params(mut self, params: serde_json::Value) -> Self {
        self.params = Some(params);
        self
    }
    pub fn required() -> Self {
        FieldError::new("validation_required", "Cannot be blank.")
    }
    /// ozzo-validation's `Min(threshold)` failure, with its parameter.
    pub fn min(threshold: i64) -> Self {
        FieldError::new(
            "validation_min_greater_equal_than_required",
            format!("Must be no less than {threshold}."),
        )
        .with_params(serde_json::json!({ "threshold": threshold }))
    }
    /// ozzo-validation's `Max(threshold)` failure, with its parameter.
    pub fn max(threshold: i64) -> Self {
        FieldError::new(
            "validation_max_less_equal_than_required",
            format!("Must be no greater than {threshold}."),
        )
        .with_params(serde_json::json!({ "threshold": threshold }))
    }
}

/// Validation failures keyed by field (or body key); nested errors use a JSON value.
pub type FieldErrors = BTreeMap<String, FieldError>;

/// Why a backup operation failed.
#[derive(Debug)]
pub enum BackupError {
    /// Another backup or restore is running.
    Busy,
    /// The data is in PostgreSQL.
    Unsupported,
    /// No backup of that name.
    Missing,
    /// The backup is being created or restored.
    InUse,
    /// Creating the archive failed (the reason is for the superuser).
    Create(String),
    /// Deleting failed.
    Delete(String),
}

/// Which operation failed, for the envelope's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateRecord,
    UpdateRecord,
    DeleteRecord,
    CreateCollection,
    UpdateCollection,
    DeleteCollection,
    ImportCollections,
    Authenticate,
    /// A form's fields are invalid before any action is attempted.
    ValidateForm,
    /// A form failed validation where PocketBase words it as a loading failure.
    LoadForm,
    /// `PATCH /api/settings` failed validation.
    SaveSettings,
    /// `POST /api/settings/test/email` failed validation.
    TestEmail,
    /// `POST /api/settings/test/s3` failed validation.
    TestS3,
    /// Saving the new password of a password reset failed.
    SetNewPassword,
    /// The form of `POST /api/settings/apple/generate-client-secret` is invalid.
    AppleClientSecret,
}

/// Why the core refused a request that was well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A superuser asked for or confirmed a verification: superusers are always verified.
    SuperuserAlwaysVerified,
    /// A superuser asked for an email change by mail: superusers change their email directly.
    SuperuserChangesEmailDirectly,
    /// The email change's confirmation mail could not be sent.
    EmailChangeNotSent,
    /// The new email of a confirmed change is taken or invalid by now.
    EmailChangeRejected,
    /// The MFA session is unknown or expired.
    MfaSessionExpired,
    /// The MFA session belongs to another record or collection.
    MfaSessionMismatch,
    /// The second factor used the first factor's method.
    MfaSameMethod,
    /// The OTP is unknown, expired or wrong.
    OtpInvalid,
    /// A passkey assertion or registration did not verify.
    PasskeyInvalid,
    /// The account has as many passkeys as it may.
    TooManyPasskeys,
    /// The OAuth2 provider refused the code exchange.
    OAuth2TokenFailed,
    /// The OAuth2 provider did not give the user.
    OAuth2UserFailed,
    /// The record's files changed between an update's plan and its transaction.
    FilesChanged,
}

/// A feature that can be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    OAuth2,
    Otp,
    Passkeys,
}

#[derive(Debug)]
pub enum CoreError {
    /// The collection named in a records route does not exist.
    MissingCollection,
    /// The collection named in a write or auth route does not exist (PocketBase words it apart).
    InvalidCollectionContext,
    /// The collection does not allow password authentication.
    PasswordAuthDisabled,
    /// The collection's authRule rejects the record.
    AuthRuleFailed,
    /// The record, collection or other resource does not exist or the caller may not see it.
    NotFound,
    /// The action's rule is null: only superusers may perform it.
    SuperuserOnly,
    /// A valid auth token is required.
    AuthRequired,
    /// The authenticated record may not perform the action.
    NotAllowed,
    /// A client filter used `@request.*` or `@collection.*`.
    FilterForbidden(&'static str),
    /// Field validation failed.
    Validation { action: Action, errors: FieldErrors },
    /// The operation failed without field details (e.g. a create rule did not match).
    Failed(Action),
    /// The request body could not be decoded or has the wrong shape.
    InvalidBody(String),
    /// A collection definition could not be loaded (unknown field type, wrong option types).
    InvalidFormat(String),
    /// A filter, sort, expand or fields parameter is invalid.
    BadQuery(String),
    /// The stored settings are sealed and the key to open them is missing or another one.
    SealedSettings,
    /// A backup could not be made, found, deleted or restored.
    Backup(BackupError),
    /// A superuser's SQL failed (`POST /api/sql`); the database's message is for them.
    SqlFailed(String),
    /// The Apple key could not sign a client secret; the reason is for the superuser.
    ClientSecretFailed(String),
    /// A superuser's view query cannot make a view collection (`dry-run-view`); the reason is for them.
    InvalidViewQuery(String),
    /// Deleting a record referenced by a required relation.
    RequiredReference,
    /// System collections cannot be deleted.
    SystemCollection,
    /// The collection is referenced by a relation of the named collection.
    CollectionReferenced(String),
    /// Truncating failed because a required relation references the records.
    TruncateBlocked,
    /// An auth route on a collection that is not an auth collection.
    MissingAuthCollection,
    /// The authenticated record belongs to another auth collection than the route's (named).
    WrongAuthCollection(String),
    /// The core refuses the request for the given reason.
    Refused(Refusal),
    /// A password reset was asked on a collection without password authentication.
    PasswordResetDisabled,
    /// The second factor is required: the client continues with this MFA id (401 `{mfaId}`).
    MfaRequired(String),
    /// The test email could not be sent (the mailer's error is shown to the superuser).
    TestEmailFailed(String),
    /// The S3 test failed (the storage's error is shown to the superuser).
    TestS3Failed(String),
    /// Sending mail needs SMTP, which is switched off in the settings.
    MailNotConfigured,
    /// The SMTP server refused or could not be reached.
    Mail(String),
    /// Too many requests: retry after the given seconds.
    RateLimited { retry_after: u64 },
    /// An OTP was tried too many times: retry after the given seconds, with a new OTP.
    OtpAttemptsExhausted { retry_after: u64 },
    /// The feature is switched off (for the collection, or in the settings).
    Disabled(Feature),
    /// A superuser signs in from an address outside `superuserIPs`.
    IpNotAllowed,
    /// The file token is missing, invalid or not a superuser's where one is needed.
    FileTokenRejected,
    /// A file could not be stored, read or removed.
    Storage(String),
    /// Storage failed.
    Db(DbError),
    /// A copy into another database was refused (the target holds data) or does not match the
    /// source (`kiln copy`; no request leads here).
    Copy(String),
    /// Server-side JavaScript threw an API error (PocketBase's `BadRequestError` and kin, or a
    /// `ValidationError` map): its status, message and data are the hook author's.
    Hook {
        status: u16,
        message: String,
        data: serde_json::Value,
    },
    /// A model hook (`onRecordCreate`, `onRecordValidate`, …) threw an error that is no API
    /// error (its text, logged): PocketBase's router answers it as a generic 400, and the records
    /// API as its action's failure ("Failed to create record.").
    HookThrew(String),
    /// A failure with no better home; logged, never shown.
    Internal(String),
}

impl CoreError {
    pub fn validation(action: Action, field: &str, err: FieldError) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), err);
        CoreError::Validation { action, errors }
    }
}

impl From<DbError> for CoreError {
    fn from(e: DbError) -> Self {
        CoreError::Db(e)
    }
}

impl From<FilterError> for CoreError {
    fn from(e: FilterError) -> Self {
        match e {
            FilterError::Forbidden(what) if what.starts_with("@collection") => {
                CoreError::FilterForbidden("@collection")
            }
            FilterError::Forbidden(_) => CoreError::FilterForbidden("@request"),
            other => CoreError::BadQuery(other.to_string()),
        }
    }
}

/// What happened, for logs and for callers outside HTTP (the CLI, tests). The API's wording is
/// kiln-http's (`error.rs`), not this.
impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CoreError as E;
        match self {
            E::MissingCollection => write!(f, "no such collection"),
            E::InvalidCollectionContext => write!(f, "no such collection (write or auth route)"),
            E::PasswordAuthDisabled | E::PasswordResetDisabled => {
                write!(f, "password authentication is off for the collection")
            }
            E::AuthRuleFailed => write!(f, "the collection's authRule rejects the record"),
            E::NotFound => write!(f, "not found (or not visible to the caller)"),
            E::SuperuserOnly => write!(f, "only superusers may do this (the rule is null)"),
            E::AuthRequired => write!(f, "a valid auth token is required"),
            E::NotAllowed => write!(f, "the authenticated record may not do this"),
            E::FilterForbidden(what) => write!(f, "a client filter may not use {what}"),
            E::Validation { action, errors } => {
                let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
                write!(f, "{action:?}: invalid fields {}", fields.join(", "))
            }
            E::Failed(action) => write!(f, "{action:?} failed"),
            E::InvalidBody(m) => write!(f, "invalid body: {m}"),
            E::InvalidFormat(m) => write!(f, "invalid collection definition: {m}"),
            E::BadQuery(m) => write!(f, "invalid query parameter: {m}"),
            E::SealedSettings => write!(
                f,
                "the stored settings are sealed and the key is missing or wrong"
            ),
            E::Backup(b) => write!(f, "backup: {b:?}"),
            E::SqlFailed(m) => write!(f, "SQL failed: {m}"),
            E::ClientSecretFailed(m) => write!(f, "cannot sign the Apple client secret: {m}"),
            E::InvalidViewQuery(m) => write!(f, "invalid view query: {m}"),
            E::RequiredReference => write!(f, "the record is referenced by a required relation"),
            E::SystemCollection => write!(f, "system collections cannot be deleted"),
            E::CollectionReferenced(by) => write!(f, "the collection is referenced by {by}"),
            E::TruncateBlocked => write!(f, "a required relation references the records"),
            E::MissingAuthCollection => write!(f, "not an auth collection"),
            E::WrongAuthCollection(c) => write!(f, "the auth record belongs to {c}"),
            E::Refused(r) => write!(f, "refused: {r:?}"),
            E::MfaRequired(id) => write!(f, "a second factor is required (MFA {id})"),
            E::Hook {
                status, message, ..
            } => write!(f, "a hook failed ({status}): {message}"),
            E::HookThrew(m) => write!(f, "a hook threw: {m}"),
            E::TestEmailFailed(m) => write!(f, "the test email failed: {m}"),
            E::TestS3Failed(m) => write!(f, "the S3 test failed: {m}"),
            E::MailNotConfigured => write!(f, "SMTP is off in the settings"),
            E::Mail(m) => write!(f, "mail: {m}"),
            E::RateLimited { retry_after } | E::OtpAttemptsExhausted { retry_after } => {
                write!(f, "rate limited (retry after {retry_after} s)")
            }
            E::Disabled(feature) => write!(f, "{feature:?} is switched off"),
            E::IpNotAllowed => write!(f, "the address is not among superuserIPs"),
            E::FileTokenRejected => write!(f, "the file token is missing or not allowed"),
            E::Storage(m) => write!(f, "storage: {m}"),
            E::Db(e) => write!(f, "{e}"),
            E::Copy(m) => write!(f, "copy: {m}"),
            E::Internal(m) => write!(f, "internal: {m}"),
        }
    }
}

impl std::error::Error for CoreError {}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
