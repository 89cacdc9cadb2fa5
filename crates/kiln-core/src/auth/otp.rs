//! One-time passwords by email: `request-otp` answers an id whether or not the account exists;
//! `auth-with-otp` checks the code (hashed at rest, single use, expiring, at most five tries
//! per IP in three minutes).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::flows::AuthResult;
use super::mfa::expired;
use crate::app::App;
use crate::error::{Action, CoreError, Feature, FieldError, FieldErrors, Refusal, Result};
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;

/// The system collection holding sent codes.
pub const OTPS: &str = "_otps";

/// At most this many unexpired codes per account; beyond it the newest is reused.
const MAX_LIVE_CODES: usize = 9;

fn random_digits(n: usize) -> String {
    crate::ids::random_from(b"0123456789", n)
}

fn invalid_otp() -> CoreError {
    CoreError::Refused(Refusal::OtpInvalid)
}

impl App {
    fn otp_options<'a>(&self, c: &'a Collection) -> Result<&'a crate::schema::auth_options::Otp> {
        match c.auth.as_ref().map(|a| &a.otp) {
            Some(o) if o.enabled => Ok(o),
            _ => Err(CoreError::Disabled(Feature::Otp)),
        }
    }

    /// `request-otp`: stores a hashed code and emails it. The id comes back even for an unknown
    /// email (a random one nothing matches), so the answer does not reveal accounts.
    pub async fn request_otp(&self, c: &Arc<Collection>, email: &str) -> Result<String> {
        let (record, code) = self.otp_request_form(c, email)?;
        self.request_otp_for(c, record, code).await
    }

    /// The first half of `request-otp`: the form checked, the account (if any) and the code it
    /// would get. Between the halves PocketBase runs `onRecordRequestOTPRequest`.
    pub fn otp_request_form(
        &self,
        c: &Arc<Collection>,
        email: &str,
    ) -> Result<(Option<Record>, String)> {
        let opts = self.otp_options(c)?;
        if let Some(e) = super::account::email_error(email) {
            return Err(CoreError::validation(Action::ValidateForm, "email", e));
        }
        let record = self.find_by_email(c, email)?;
        Ok((record, random_digits(opts.length.clamp(4, 64) as usize)))
    }

    /// The second half of `request-otp`: the code stored for `record` and mailed (the id of a
    /// recent code instead when too many are live; a random id when there is no record).
    pub async fn request_otp_for(
        &self,
        c: &Arc<Collection>,
        record: Option<Record>,
        code: String,
    ) -> Result<String> {
        let opts = self.otp_options(c)?;
        let Some(record) = record else {
            // As long as a real request (which hashes the code it stores), so timing does not
            // tell which emails have accounts.
            let _ = self.hasher().hash(random_digits(8)).await;
            return Ok(crate::ids::new_id());
        };
        let live: Vec<_> = self
            .system_records(
                OTPS,
                "\"collectionRef\" = ?1 AND \"recordRef\" = ?2",
                &[c.id.clone().into(), record.id().into()],
            )?
            .into_iter()
            .filter(|o| !expired(o.get_str("created"), opts.duration))
            .collect();
        if live.len() > MAX_LIVE_CODES {
            return Ok(live[0].id().to_owned());
        }
        let mut body = Map::new();
        body.insert("collectionRef".into(), json!(c.id));
        body.insert("recordRef".into(), json!(record.id()));
        body.insert("password".into(), json!(code));
        body.insert("passwordConfirm".into(), json!(code));
        // The address is stored with the code (not after the send), so a login that races the
        // mail still knows where the code went; a failed send deletes the code.
        body.insert("sentTo".into(), json!(record.get_str("email")));
        let otp = self.system_create(OTPS, body).await?;
        let otp_id = otp.id().to_owned();
        let mail = self.otp_mail(&record, &otp_id, &code)?;
        let app = self.clone();
        let id = otp_id.clone();
        tokio::spawn(crate::logs::request::follow_request(async move {
            if let Err(e) = app.send_mail(mail).await {
                tracing::warn!(error = %e, "failed to send a one-time password");
                if let Err(e) = app.system_delete(OTPS, &id).await {
                    tracing::warn!(error = %e, "cannot delete an unsent one-time password");
                }
            }
        }));
        Ok(otp_id)
    }

    /// `auth-with-otp`: checks the code and signs the account in (through MFA and the auth
    /// alert like any login). The code is deleted once used.
    pub async fn auth_with_otp(
        &self,
        c: &Arc<Collection>,
        otp_id: &str,
        code: &str,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<AuthResult> {
        let (otp, record) = self.otp_check(c, otp_id, code, req).await?;
        self.auth_with_checked_otp(c, otp, record, mfa_id, req)
            .await
    }

    /// The first half of `auth-with-otp`: the code checked; the OTP and the record it signs in.
    /// Between the halves PocketBase runs `onRecordAuthWithOTPRequest`.
    pub async fn otp_check(
        &self,
        c: &Arc<Collection>,
        otp_id: &str,
        code: &str,
        req: &RequestInfo,
    ) -> Result<(Record, Record)> {
        let opts = self.otp_options(c)?;
        let mut errors = FieldErrors::new();
        for (k, v, max) in [("otpId", otp_id, 255), ("password", code, 71)] {
            if v.is_empty() {
                errors.insert(k.into(), FieldError::required());
            } else if v.len() > max {
                errors.insert(
                    k.into(),
                    FieldError::new(
                        "validation_length_too_long",
                        format!("The length must be no more than {max}."),
                    )
                    .with_params(json!({"max": max})),
                );
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::ValidateForm,
                errors,
            });
        }
        let otp = self
            .system_records(OTPS, "\"id\" = ?1", &[otp_id.into()])?
            .into_iter()
            .next()
            .ok_or_else(invalid_otp)?;
        if otp.get_str("collectionRef") != c.id {
            return Err(invalid_otp());
        }
        let bucket = format!("@pb_otp_{}", otp.get_str("recordRef"));
        if self
            .rate_limiter()
            .consume(&bucket, &req.ip_text(), 180, 5)
            .is_err()
        {
            return Err(CoreError::OtpAttemptsExhausted { retry_after: 180 });
        }
        if expired(otp.get_str("created"), opts.duration) {
            return Err(invalid_otp());
        }
        let record = self
            .find_record(c, otp.get_str("recordRef"))?
            .ok_or_else(invalid_otp)?;
        if !self
            .hasher()
            .verify(code.to_owned(), otp.get_str("password").to_owned())
            .await
        {
            return Err(invalid_otp());
        }
        Ok((otp, record))
    }

    /// The second half of `auth-with-otp`: the code used up, the account verified if the code
    /// proved its address, and the sign-in.
    pub async fn auth_with_checked_otp(
        &self,
        c: &Arc<Collection>,
        otp: Record,
        mut record: Record,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<AuthResult> {
        self.system_delete(OTPS, otp.id()).await?;
        let unverified = !record
            .get("verified")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if unverified
            && otp.get_str("sentTo") == record.get_str("email")
            && !record.get_str("email").is_empty()
        {
            // The code proved the address. Without MFA, a password set by someone who never
            // owned the address is replaced, so it cannot be used later.
            let mut body = Map::new();
            body.insert("verified".into(), json!(true));
            if !c.auth.as_ref().is_some_and(|a| a.mfa.enabled) {
                let random = crate::ids::new_secret(30);
                body.insert("password".into(), json!(random));
                body.insert("passwordConfirm".into(), json!(random));
            }
            match self.system_update(c, record.id(), body).await {
                Ok(r) => record = r,
                Err(e) => {
                    tracing::warn!(error = %e, "failed to mark an OTP-verified account verified")
                }
            }
        }
        self.finish_auth(c, record, "otp", mfa_id, req).await
    }
}
