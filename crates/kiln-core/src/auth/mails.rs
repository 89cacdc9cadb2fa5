//! The account emails of an auth record, rendered from its collection's templates and ready
//! to send: what the account flows send, what the settings' test email sends, and what hooks
//! send through `$mails`. Each carries what PocketBase's mailer events show as `meta`.

use serde_json::{json, Map, Value};

use super::record_token::TokenKind;
use crate::app::App;
use crate::error::{CoreError, Result};
use crate::mail::{Mail, MailKind};
use crate::records::model::Record;
use crate::schema::auth_options::EmailTemplate;

impl App {
    /// The verification email of `record`, with a new verification token.
    pub fn verification_mail(&self, record: &Record) -> Result<Mail> {
        let email = record.get_str("email");
        let token = self.new_record_token(
            record,
            TokenKind::Verification,
            &[("email", json!(email))],
            None,
        )?;
        let tpl = &self.auth_options(record)?.verification_template;
        self.token_mail(MailKind::Verification, record, tpl, token, email, None)
    }

    /// The password reset email of `record`, with a new reset token.
    pub fn password_reset_mail(&self, record: &Record) -> Result<Mail> {
        let email = record.get_str("email");
        let token = self.new_record_token(
            record,
            TokenKind::PasswordReset,
            &[("email", json!(email))],
            None,
        )?;
        let tpl = &self.auth_options(record)?.reset_password_template;
        self.token_mail(MailKind::PasswordReset, record, tpl, token, email, None)
    }

    /// The email that confirms `record`'s change to `new_email`, sent to the new address.
    pub fn email_change_mail(&self, record: &Record, new_email: &str) -> Result<Mail> {
        let token = self.new_record_token(
            record,
            TokenKind::EmailChange,
            &[
                ("email", json!(record.get_str("email"))),
                ("newEmail", json!(new_email)),
            ],
            None,
        )?;
        let tpl = &self.auth_options(record)?.confirm_email_change_template;
        self.token_mail(
            MailKind::EmailChange,
            record,
            tpl,
            token,
            new_email,
            Some(new_email),
        )
    }

    /// The email with one-time password `code` (stored as OTP `otp_id`) for `record`.
    pub fn otp_mail(&self, record: &Record, otp_id: &str, code: &str) -> Result<Mail> {
        let tpl = &self.auth_options(record)?.otp.email_template;
        let rendered = self.render_mail(tpl, &[("OTP", code), ("OTP_ID", otp_id)], Some(record));
        let mut meta = Map::new();
        meta.insert("otpId".into(), json!(otp_id));
        meta.insert("password".into(), json!(code));
        Ok(self.record_mail(
            MailKind::Otp,
            record,
            meta,
            record.get_str("email"),
            rendered,
        ))
    }

    /// The alert of a sign-in from a new place; `info` (when and from where) is HTML-escaped here.
    pub fn auth_alert_mail(&self, record: &Record, info: &str) -> Result<Mail> {
        let info = crate::mail::html_escape(info);
        let tpl = &self.auth_options(record)?.auth_alert.email_template;
        let rendered = self.render_mail(tpl, &[("ALERT_INFO", &info)], Some(record));
        let mut meta = Map::new();
        meta.insert("info".into(), Value::String(info));
        Ok(self.record_mail(
            MailKind::AuthAlert,
            record,
            meta,
            record.get_str("email"),
            rendered,
        ))
    }

    fn auth_options<'r>(
        &self,
        record: &'r Record,
    ) -> Result<&'r crate::schema::auth_options::AuthOptions> {
        record
            .collection
            .auth
            .as_ref()
            .ok_or(CoreError::MissingAuthCollection)
    }

    fn token_mail(
        &self,
        kind: MailKind,
        record: &Record,
        tpl: &EmailTemplate,
        token: String,
        to: &str,
        new_email: Option<&str>,
    ) -> Result<Mail> {
        let rendered = self.render_mail(tpl, &[("TOKEN", &token)], Some(record));
        let mut meta = Map::new();
        meta.insert("token".into(), Value::String(token));
        if let Some(n) = new_email {
            meta.insert("newEmail".into(), json!(n));
        }
        Ok(self.record_mail(kind, record, meta, to, rendered))
    }

    fn record_mail(
        &self,
        kind: MailKind,
        record: &Record,
        meta: Map<String, Value>,
        to: &str,
        rendered: crate::mail::Rendered,
    ) -> Mail {
        Mail {
            kind,
            record: Some(record.clone()),
            meta,
            message: self.message_to(to, rendered),
        }
    }
}
