//! Account emails and their confirmations: verification, password reset, email change, and
//! the settings' test email. Request endpoints answer the same whether or not an account
//! exists; the mail goes out in the background so timing does not tell either.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::record_token::TokenKind;
use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Refusal, Result};
use crate::records::model::Record;
use crate::records::values::is_email;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;
use crate::schema::system::SUPERUSERS;

/// How long a verification or reset email blocks another one to the same account.
const RESEND_BLOCK: Duration = Duration::from_secs(120);

/// The problem with a submitted email address, if any.
pub(crate) fn email_error(email: &str) -> Option<FieldError> {
    if email.is_empty() {
        Some(FieldError::required())
    } else if email.len() > 255 {
        Some(
            FieldError::new(
                "validation_length_too_long",
                "The length must be no more than 255.",
            )
            .with_params(json!({"max": 255})),
        )
    } else if !is_email(email) {
        Some(FieldError::new(
            "validation_is_email",
            "Must be a valid email address.",
        ))
    } else {
        None
    }
}

fn invalid(field: &str, err: FieldError) -> CoreError {
    CoreError::validation(Action::ValidateForm, field, err)
}

fn invalid_token() -> FieldError {
    FieldError::new("validation_invalid_token", "Invalid or expired token.")
}

fn claim<'a>(claims: &'a Map<String, Value>, key: &str) -> &'a str {
    claims.get(key).and_then(Value::as_str).unwrap_or("")
}

impl App {
    /// A confirmation token of `kind` issued for a record of `c`, or the field error to report.
    fn confirmation_token(
        &self,
        c: &Collection,
        token: &str,
        kind: TokenKind,
    ) -> std::result::Result<super::record_token::Verified, FieldError> {
        if token.is_empty() {
            return Err(FieldError::required());
        }
        let v = self
            .verify_record_token(token, kind)
            .ok_or_else(invalid_token)?;
        if v.collection.id != c.id {
            return Err(FieldError::new(
                "validation_token_collection_mismatch",
                "The provided token is for different auth collection.",
            ));
        }
        Ok(v)
    }

    /// The auth collection of an auth route (404 otherwise).
    pub fn auth_collection(&self, name_or_id: &str) -> Result<Arc<Collection>> {
        let c = self.records_collection(name_or_id)?;
        if !c.is_auth() {
            return Err(CoreError::MissingAuthCollection);
        }
        Ok(c)
    }

    /// The record of `c` with exactly this email.
    pub fn find_by_email(&self, c: &Arc<Collection>, email: &str) -> Result<Option<Record>> {
        if email.is_empty() {
            return Ok(None);
        }
        let plan = c.plan(self.dialect());
        let sql = format!(
            "SELECT {} FROM {} WHERE \"email\" = ?1 LIMIT 1",
            plan.columns, plan.table
        );
        self.db().read(|conn| {
            conn.query_one(&sql, &[email.into()], |row| Ok(Record::from_row(c, row)))
                .map_err(CoreError::from)
        })
    }

    /// `POST /api/settings/test/email`: sends `template` of `collection` (default `_superusers`)
    /// to `to`, rendered for a dummy record.
    pub async fn send_test_email(&self, collection: &str, template: &str, to: &str) -> Result<()> {
        let mut errors = FieldErrors::new();
        if let Some(e) = email_error(to) {
            errors.insert("email".into(), e);
        }
        const TEMPLATES: [&str; 5] = [
            "verification",
            "password-reset",
            "email-change",
            "otp",
            "login-alert",
        ];
        if template.is_empty() {
            errors.insert("template".into(), FieldError::required());
        } else if !TEMPLATES.contains(&template) {
            errors.insert(
                "template".into(),
                FieldError::new("validation_in_invalid", "Must be a valid value."),
            );
        }
        let c = self
            .collection(if collection.is_empty() {
                SUPERUSERS
            } else {
                collection
            })
            .ok()
            .filter(|c| c.is_auth());
        if c.is_none() {
            errors.insert(
                "collection".into(),
                FieldError::new(
                    "validation_invalid_auth_collection",
                    "Must be a valid auth collection id or name.",
                ),
            );
        }
        let Some(c) = c.filter(|_| errors.is_empty()) else {
            return Err(CoreError::Validation {
                action: Action::TestEmail,
                errors,
            });
        };
        let mut dummy = Record::new(c.clone());
        for f in c.fields.iter().filter(|f| !f.hidden) {
            dummy.set(&f.name, json!(format!("__pb_test_{}__", f.name)));
        }
        dummy.set("email", json!(to));
        dummy.set("tokenKey", json!(crate::ids::new_secret(50)));
        let mail = match template {
            "verification" => self.verification_mail(&dummy)?,
            "password-reset" => self.password_reset_mail(&dummy)?,
            "email-change" => self.email_change_mail(&dummy, to)?,
            "otp" => self.otp_mail(&dummy, "_PB_TEST_OTP_ID_", "123456")?,
            _ => self.auth_alert_mail(
                &dummy,
                &format!(
                    "{} - TEST_IP TEST_USER_AGENT",
                    crate::datetime::now_string()
                ),
            )?,
        };
        self.send_mail(mail).await.map_err(|e| match e {
            CoreError::Mail(m) => CoreError::TestEmailFailed(m),
            CoreError::MailNotConfigured => {
                CoreError::TestEmailFailed("SMTP is not enabled in the settings".into())
            }
            other => other,
        })
    }

    /// `request-verification`: emails a verification link unless the account is unknown,
    /// already verified, or was sent one in the last two minutes. Always `Ok` for a valid email.
    pub async fn request_verification(&self, c: &Arc<Collection>, email: &str) -> Result<()> {
        if c.name == SUPERUSERS {
            return Err(CoreError::Refused(Refusal::SuperuserAlwaysVerified));
        }
        if let Some(e) = email_error(email) {
            return Err(invalid("email", e));
        }
        let Some(record) = self.find_by_email(c, email)? else {
            return Ok(());
        };
        if record
            .get("verified")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Ok(());
        }
        let key = format!("@limitVerificationEmail_{}{}", c.id, record.id());
        if !self.onetime_put(&key, String::new(), RESEND_BLOCK, true)? {
            return Ok(());
        }
        let mail = self.verification_mail(&record)?;
        self.send_mail_detached(mail);
        Ok(())
    }

    /// `confirm-verification`: marks the token's record verified (repeating it is harmless).
    pub async fn confirm_verification(&self, c: &Arc<Collection>, token: &str) -> Result<()> {
        if c.name == SUPERUSERS {
            return Err(CoreError::Refused(Refusal::SuperuserAlwaysVerified));
        }
        if token.is_empty() {
            return Err(invalid("token", FieldError::required()));
        }
        let claimed = super::token::claims_unverified(token)
            .map(|m| claim(&m, "email").to_owned())
            .unwrap_or_default();
        if claimed.is_empty() {
            return Err(invalid(
                "token",
                FieldError::new(
                    "validation_invalid_token_claims",
                    "Missing email token claim.",
                ),
            ));
        }
        let v = self
            .confirmation_token(c, token, TokenKind::Verification)
            .map_err(|e| invalid("token", e))?;
        if v.record.get_str("email") != claimed {
            return Err(invalid(
                "token",
                FieldError::new(
                    "validation_token_email_mismatch",
                    "The record email doesn't match with the requested token claims.",
                ),
            ));
        }
        self.onetime_take(&format!(
            "@limitVerificationEmail_{}{}",
            c.id,
            v.record.id()
        ))?;
        if v.record
            .get("verified")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Ok(());
        }
        let mut body = Map::new();
        body.insert("verified".into(), json!(true));
        self.system_update(c, v.record.id(), body).await?;
        Ok(())
    }

    /// `request-password-reset`: emails a reset link to a known account (at most one every two
    /// minutes). Always `Ok` for a valid email.
    pub async fn request_password_reset(&self, c: &Arc<Collection>, email: &str) -> Result<()> {
        if !c.auth.as_ref().is_some_and(|a| a.password_auth.enabled) {
            return Err(CoreError::PasswordResetDisabled);
        }
        if let Some(e) = email_error(email) {
            return Err(invalid("email", e));
        }
        let Some(record) = self.find_by_email(c, email)? else {
            return Ok(());
        };
        let key = format!("@limitPasswordResetEmail_{}{}", c.id, record.id());
        if !self.onetime_put(&key, String::new(), RESEND_BLOCK, true)? {
            return Ok(());
        }
        let mail = self.password_reset_mail(&record)?;
        let app = self.clone();
        tokio::spawn(crate::logs::request::follow_request(async move {
            if let Err(e) = app.send_mail(mail).await {
                // A failed send does not block a retry.
                let _ = app.onetime_take(&key);
                tracing::warn!(error = %e, "failed to send a password reset email");
            }
        }));
        Ok(())
    }

    /// `confirm-password-reset`: sets the new password. The record's token key rotates, so the
    /// token (and every session) stops working.
    pub async fn confirm_password_reset(
        &self,
        c: &Arc<Collection>,
        token: &str,
        password: &str,
        confirm: &str,
    ) -> Result<()> {
        let mut errors = FieldErrors::new();
        let verified = self
            .confirmation_token(c, token, TokenKind::PasswordReset)
            .map_err(|e| errors.insert("token".into(), e))
            .ok();
        let min = c.field("password").map(|f| match f.kind {
            crate::schema::field::FieldKind::Password { min, .. } => min.max(1),
            _ => 1,
        });
        let min = min.unwrap_or(1);
        if password.is_empty() {
            errors.insert("password".into(), FieldError::required());
        } else if (password.chars().count() as i64) < min || password.chars().count() > 255 {
            errors.insert(
                "password".into(),
                FieldError::new(
                    "validation_length_out_of_range",
                    format!("The length must be between {min} and 255."),
                )
                .with_params(json!({"max": 255, "min": min})),
            );
        }
        if confirm.is_empty() {
            errors.insert("passwordConfirm".into(), FieldError::required());
        } else if confirm != password {
            errors.insert(
                "passwordConfirm".into(),
                FieldError::new("validation_values_mismatch", "Values don't match."),
            );
        }
        let Some(v) = verified.filter(|_| errors.is_empty()) else {
            return Err(CoreError::Validation {
                action: Action::ValidateForm,
                errors,
            });
        };
        let mut body = Map::new();
        body.insert("password".into(), json!(password));
        body.insert("passwordConfirm".into(), json!(password));
        if !v
            .record
            .get("verified")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            && claim(&v.claims, "email") == v.record.get_str("email")
        {
            body.insert("verified".into(), json!(true));
        }
        self.system_update(c, v.record.id(), body)
            .await
            .map_err(|e| match e {
                CoreError::Validation { errors, .. } => CoreError::Validation {
                    action: Action::SetNewPassword,
                    errors,
                },
                other => other,
            })?;
        self.onetime_take(&format!(
            "@limitPasswordResetEmail_{}{}",
            c.id,
            v.record.id()
        ))?;
        Ok(())
    }

    /// `request-email-change` (authenticated): emails a confirmation link to the new address.
    pub async fn request_email_change(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        new_email: &str,
    ) -> Result<()> {
        let record = self.email_change_form(c, req, new_email)?;
        let mail = self.email_change_mail(&record, new_email)?;
        self.send_mail(mail).await.map_err(|e| match e {
            // a mailer hook refused it: its error is the answer, as in PocketBase
            e @ CoreError::Hook { .. } => e,
            e => {
                tracing::warn!(error = %e, "failed to send an email change confirmation");
                CoreError::Refused(Refusal::EmailChangeNotSent)
            }
        })
    }

    /// The form of `request-email-change` checked: the signed-in account asking. PocketBase runs
    /// `onRecordRequestEmailChangeRequest` once it holds.
    pub fn email_change_form(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        new_email: &str,
    ) -> Result<Record> {
        let auth = req.auth.as_ref().ok_or(CoreError::AuthRequired)?;
        if auth.collection.id != c.id {
            return Err(CoreError::WrongAuthCollection(c.name.clone()));
        }
        if c.name == SUPERUSERS {
            return Err(CoreError::Refused(Refusal::SuperuserChangesEmailDirectly));
        }
        let record = self
            .find_record(c, auth.id())?
            .ok_or(CoreError::AuthRequired)?;
        if let Some(e) = email_error(new_email) {
            return Err(invalid("newEmail", e));
        }
        if new_email == record.get_str("email") {
            return Err(invalid(
                "newEmail",
                FieldError::new("validation_not_in_invalid", "Must not be in list."),
            ));
        }
        if self.find_by_email(c, new_email)?.is_some() {
            return Err(invalid(
                "newEmail",
                FieldError::new("validation_invalid_new_email", "Invalid new email address."),
            ));
        }
        Ok(record)
    }

    /// `confirm-email-change`: with the token and the account's password, sets the new email
    /// (verified). The token key rotates, ending every session.
    pub async fn confirm_email_change(
        &self,
        c: &Arc<Collection>,
        token: &str,
        password: &str,
    ) -> Result<()> {
        if c.name == SUPERUSERS {
            return Err(CoreError::Refused(Refusal::SuperuserChangesEmailDirectly));
        }
        let mut errors = FieldErrors::new();
        let new_email = super::token::claims_unverified(token)
            .map(|m| claim(&m, "newEmail").to_owned())
            .unwrap_or_default();
        let verified = if new_email.is_empty() && !token.is_empty() {
            errors.insert(
                "token".into(),
                FieldError::new(
                    "validation_invalid_token_payload",
                    "Invalid token payload - newEmail must be set.",
                ),
            );
            None
        } else {
            match self.confirmation_token(c, token, TokenKind::EmailChange) {
                Err(e) => {
                    errors.insert("token".into(), e);
                    None
                }
                Ok(v) => {
                    if self.find_by_email(c, &new_email)?.is_some() {
                        errors.insert(
                            "token".into(),
                            FieldError::new(
                                "validation_invalid_token_email",
                                "The new email address is invalid.",
                            ),
                        );
                    }
                    Some(v)
                }
            }
        };
        let password_ok = match &verified {
            Some(v) if !password.is_empty() && password.len() <= 100 => {
                self.hasher()
                    .verify(password.to_owned(), v.record.get_str("password").to_owned())
                    .await
            }
            _ => false,
        };
        if password.is_empty() {
            errors.insert("password".into(), FieldError::required());
        } else if !password_ok {
            errors.insert(
                "password".into(),
                FieldError::new(
                    "validation_invalid_password",
                    "Missing or invalid auth record password.",
                ),
            );
        }
        let Some(v) = verified.filter(|_| errors.is_empty()) else {
            return Err(CoreError::Validation {
                action: Action::ValidateForm,
                errors,
            });
        };
        let mut body = Map::new();
        body.insert("email".into(), json!(new_email));
        body.insert("verified".into(), json!(true));
        self.system_update(c, v.record.id(), body)
            .await
            .map_err(|e| match e {
                CoreError::Validation { .. } => CoreError::Refused(Refusal::EmailChangeRejected),
                other => other,
            })?;
        Ok(())
    }
}
