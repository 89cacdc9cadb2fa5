//! The auth flows of auth collections: token authentication, password login, refresh, the
//! auth-methods listing, and superuser management for the CLI.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::record_token::TokenKind;
use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;
use crate::schema::system::SUPERUSERS;

/// A fixed argon2id hash of a random string, verified when an identity is unknown so that a
/// miss costs as long as a wrong password (no account enumeration by timing).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7P4wt9pZ3mlPaGmuqRgH0JoRFbJbIJWc4E3TGjvbpmI";

/// A login's result.
pub struct AuthResult {
    pub record: Record,
    pub token: String,
}

impl App {
    /// The record a bearer token authenticates, or `None` for anything invalid (a bad token is
    /// treated as a guest, as PocketBase does).
    pub fn auth_from_token(&self, token: &str) -> Option<Arc<Record>> {
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        if token.is_empty() {
            return None;
        }
        self.verify_record_token(token, TokenKind::Auth)
            .map(|v| Arc::new(v.record))
    }

    /// Issues an auth token for `record` (`refreshable` false for impersonation tokens).
    pub fn new_auth_token(
        &self,
        record: &Record,
        duration_secs: Option<i64>,
        refreshable: bool,
    ) -> Result<String> {
        self.new_record_token(
            record,
            TokenKind::Auth,
            &[("refreshable", json!(refreshable))],
            duration_secs,
        )
    }

    /// `auth-with-password`: finds the record by one of the identity fields and checks the
    /// password (argon2id, off the async threads).
    pub async fn auth_with_password(
        &self,
        c: &Arc<Collection>,
        identity: &str,
        password: &str,
        identity_field: Option<&str>,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<AuthResult> {
        let found = self.password_identity(c, identity, password, identity_field)?;
        self.auth_with_found_password(c, found, password, mfa_id, req)
            .await
    }

    /// The first half of `auth-with-password`: the form checked, the record its identity names
    /// (if any). Between the halves PocketBase runs `onRecordAuthWithPasswordRequest`.
    pub fn password_identity(
        &self,
        c: &Arc<Collection>,
        identity: &str,
        password: &str,
        identity_field: Option<&str>,
    ) -> Result<Option<Record>> {
        let opts = c.auth.as_ref().ok_or(CoreError::MissingAuthCollection)?;
        if !opts.password_auth.enabled {
            return Err(CoreError::PasswordAuthDisabled);
        }
        let mut errors = FieldErrors::new();
        if identity.is_empty() {
            errors.insert("identity".into(), FieldError::required());
        }
        if password.is_empty() {
            errors.insert("password".into(), FieldError::required());
        }
        if identity.len() > 255 {
            errors.insert(
                "identity".into(),
                FieldError::new(
                    "validation_length_out_of_range",
                    "The length must be between 1 and 255.",
                ),
            );
        }
        if password.len() > 255 {
            errors.insert(
                "password".into(),
                FieldError::new(
                    "validation_length_out_of_range",
                    "The length must be between 1 and 255.",
                ),
            );
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::ValidateForm,
                errors,
            });
        }
        let fields: Vec<&str> = match identity_field {
            Some(f) if !f.is_empty() => {
                if !opts.password_auth.identity_fields.iter().any(|x| x == f) {
                    return Err(CoreError::validation(
                        Action::ValidateForm,
                        "identityField",
                        FieldError::new("validation_in_invalid", "Must be a valid value."),
                    ));
                }
                vec![f]
            }
            _ => opts
                .password_auth
                .identity_fields
                .iter()
                .map(String::as_str)
                .collect(),
        };
        let mut found: Option<Record> = None;
        for f in fields {
            if c.field(f).is_none() {
                continue;
            }
            let d = self.dialect();
            let plan = c.plan(d);
            let sql = format!(
                "SELECT {} FROM {} WHERE {}.{} = ?1 LIMIT 1",
                plan.columns,
                plan.table,
                plan.table,
                d.quote(f)
            );
            let rec = self.db().read(|conn| {
                conn.query_one(&sql, &[identity.into()], |row| Ok(Record::from_row(c, row)))
            })?;
            if rec.is_some() {
                found = rec;
                break;
            }
        }
        Ok(found)
    }

    /// The second half of `auth-with-password`: `password` checked against `found` (a dummy
    /// hash when there is none, so that timing does not tell), then the sign-in.
    pub async fn auth_with_found_password(
        &self,
        c: &Arc<Collection>,
        found: Option<Record>,
        password: &str,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<AuthResult> {
        let stored = found
            .as_ref()
            .map(|r| r.get_str("password").to_owned())
            .unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = self
            .hasher()
            .verify(password.to_owned(), stored.clone())
            .await;
        let mut record = match found {
            Some(r) if ok => r,
            _ => return Err(CoreError::Failed(Action::Authenticate)),
        };
        if super::password::needs_rehash(&stored) {
            record = self.rehash_password(c, record, password).await;
        }
        self.finish_auth(c, record, "password", mfa_id, req).await
    }

    /// Replaces an argon2 hash with other parameters by Kiln's argon2id once the password is
    /// known to be right. The token key stays: sessions are not ended by an upgrade.
    async fn rehash_password(&self, c: &Arc<Collection>, record: Record, password: &str) -> Record {
        let hash = match self.hasher().hash(password.to_owned()).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "cannot rehash a password");
                return record;
            }
        };
        let sql = format!(
            "UPDATE {} SET \"password\" = ?1 WHERE \"id\" = ?2",
            self.dialect().quote(&c.name)
        );
        let id = record.id().to_owned();
        let h = hash.clone();
        match self
            .db()
            .write(move |conn| {
                conn.execute(&sql, &[h.into(), id.into()])
                    .map_err(CoreError::from)
            })
            .await
        {
            Ok(_) => {
                let mut r = record;
                r.set("password", Value::String(hash));
                r
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot store a rehashed password");
                record
            }
        }
    }

    /// The common end of every login method (`password`, `otp`, `oauth2`): the authRule, the
    /// MFA step, the login alert, then the token.
    pub(crate) async fn finish_auth(
        &self,
        c: &Arc<Collection>,
        record: Record,
        method: &'static str,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<AuthResult> {
        self.check_login_allowed(c, &record, req)?;
        let req = RequestInfo {
            context: method,
            ..req.clone()
        };
        self.check_mfa(c, &record, method, mfa_id, &req).await?;
        self.record_auth_origin(c, &record, &req).await;
        let token = self.new_auth_token(&record, None, true)?;
        Ok(AuthResult { record, token })
    }

    /// Whether `record` may sign in at all: superusers only from `superuserIPs` (when set), and
    /// the collection's authRule. Checked before a login changes anything.
    pub(crate) fn check_login_allowed(
        &self,
        c: &Arc<Collection>,
        record: &Record,
        req: &RequestInfo,
    ) -> Result<()> {
        if c.name == SUPERUSERS && !self.superuser_ip_allowed(req.ip) {
            return Err(CoreError::IpNotAllowed);
        }
        self.check_auth_rule(c, record, req)
    }

    /// Whether a superuser may act from `ip`: always when `superuserIPs` is empty, else only
    /// from a listed address or range (checked at login and on every superuser request).
    pub fn superuser_ip_allowed(&self, ip: Option<std::net::IpAddr>) -> bool {
        let allowed = &self.settings().superuser_ips;
        allowed.is_empty() || crate::net::ip_in(allowed, ip)
    }

    /// The collection's authRule must match the record about to be authenticated (null: nobody
    /// but superusers may authenticate through the API).
    pub fn check_auth_rule(
        &self,
        c: &Arc<Collection>,
        record: &Record,
        req: &RequestInfo,
    ) -> Result<()> {
        let guest = RequestInfo {
            auth: None,
            ..req.clone()
        };
        match c.auth.as_ref().and_then(|a| a.auth_rule.as_deref()) {
            Some(rule) if self.record_matches(c, record.id(), rule, &guest)? => Ok(()),
            _ => Err(CoreError::AuthRuleFailed),
        }
    }

    /// Whether `req` may manage auth record `id` (superusers, or the collection's manageRule
    /// matches): change its email, password or verified state without the old password.
    pub fn can_manage(&self, c: &Arc<Collection>, id: &str, req: &RequestInfo) -> Result<bool> {
        if req.is_superuser() {
            return Ok(true);
        }
        match c.auth.as_ref().and_then(|a| a.manage_rule.as_deref()) {
            Some(rule) => self.record_matches(c, id, rule, req),
            None => Ok(false),
        }
    }

    /// The `auth-methods` document of an auth collection.
    pub async fn auth_methods(&self, c: &Collection) -> Result<Value> {
        let opts = c.auth.as_ref().ok_or(CoreError::MissingAuthCollection)?;
        let pw = &opts.password_auth;
        let has = |f: &str| pw.enabled && pw.identity_fields.iter().any(|x| x == f);
        let providers = self.oauth2_auth_methods(c).await;
        let legacy: Vec<Value> = providers.clone();
        Ok(json!({
            "password": {"identityFields": if pw.enabled { json!(pw.identity_fields) } else { json!([]) }, "enabled": pw.enabled},
            "oauth2": {"providers": providers, "enabled": opts.oauth2.enabled},
            "mfa": {"enabled": opts.mfa.enabled, "duration": if opts.mfa.enabled { opts.mfa.duration } else { 0 }},
            "otp": {"enabled": opts.otp.enabled, "duration": if opts.otp.enabled { opts.otp.duration } else { 0 }},
            "authProviders": legacy,
            "usernamePassword": has("username"),
            "emailPassword": has("email"),
        }))
    }

    /// Creates or updates a superuser (CLI `superuser upsert|create|update`). `must_exist` /
    /// `must_not_exist` select update / create semantics.
    pub async fn superuser_save(
        &self,
        email: &str,
        password: &str,
        create: bool,
        update: bool,
    ) -> Result<Record> {
        let c = self.collection(SUPERUSERS)?;
        let existing = self.find_superuser(email)?;
        let su = RequestInfo {
            auth: None,
            ..Default::default()
        };
        let mut body = Map::new();
        body.insert("password".into(), json!(password));
        body.insert("passwordConfirm".into(), json!(password));
        let as_superuser = self.system_request()?;
        match existing {
            Some(r) if update => self.update_record(&c, r.id(), &as_superuser, body).await,
            Some(_) => Err(CoreError::validation(
                Action::CreateRecord,
                "email",
                FieldError::new("validation_not_unique", "Value must be unique."),
            )),
            None if create => {
                body.insert("email".into(), json!(email));
                body.insert("verified".into(), json!(true));
                let _ = su;
                self.create_record(&c, &as_superuser, body).await
            }
            None => Err(CoreError::NotFound),
        }
    }

    /// Deletes a superuser by email (CLI).
    pub async fn superuser_delete(&self, email: &str) -> Result<()> {
        let c = self.collection(SUPERUSERS)?;
        let r = self.find_superuser(email)?.ok_or(CoreError::NotFound)?;
        let req = self.system_request()?;
        self.delete_record(&c, r.id(), &req).await
    }

    pub(crate) fn find_superuser(&self, email: &str) -> Result<Option<Record>> {
        let c = self.collection(SUPERUSERS)?;
        let plan = c.plan(self.dialect());
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            plan.columns,
            plan.table,
            self.dialect().eq_nocase("\"email\"", "?1")
        );
        self.db().read(|conn| {
            conn.query_one(&sql, &[email.into()], |row| Ok(Record::from_row(&c, row)))
                .map_err(CoreError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dummy_hash_is_a_valid_argon2id_hash() {
        assert!(argon2::password_hash::PasswordHash::new(super::DUMMY_HASH).is_ok());
        assert!(!crate::auth::password::verify_blocking(
            "anything",
            super::DUMMY_HASH
        ));
    }
}
