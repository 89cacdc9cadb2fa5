//! The tokens an auth record can hold (auth, verification, password reset, email change,
//! file), each signed with the record's `tokenKey` plus the collection's secret for that type,
//! so that rotating either revokes every outstanding token of the kind.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::token;
use crate::app::App;
use crate::error::{CoreError, Result};
use crate::records::model::Record;
use crate::schema::auth_options::{AuthOptions, TokenConfig};
use crate::schema::collection::Collection;

/// The token types of PocketBase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Auth,
    Verification,
    PasswordReset,
    EmailChange,
    File,
}

impl TokenKind {
    /// The `type` claim.
    pub fn type_name(self) -> &'static str {
        match self {
            TokenKind::Auth => "auth",
            TokenKind::Verification => "verification",
            TokenKind::PasswordReset => "passwordReset",
            TokenKind::EmailChange => "emailChange",
            TokenKind::File => "file",
        }
    }

    fn config(self, o: &AuthOptions) -> &TokenConfig {
        match self {
            TokenKind::Auth => &o.auth_token,
            TokenKind::Verification => &o.verification_token,
            TokenKind::PasswordReset => &o.password_reset_token,
            TokenKind::EmailChange => &o.email_change_token,
            TokenKind::File => &o.file_token,
        }
    }
}

/// A verified token: its record and claims.
pub struct Verified {
    pub collection: Arc<Collection>,
    pub record: Record,
    pub claims: Map<String, Value>,
}

impl App {
    /// Signs a token of `kind` for `record` with `extra` claims, valid for `duration` seconds
    /// (the collection's lifetime for the kind when `None`).
    pub fn new_record_token(
        &self,
        record: &Record,
        kind: TokenKind,
        extra: &[(&str, Value)],
        duration: Option<i64>,
    ) -> Result<String> {
        let opts = record
            .collection
            .auth
            .as_ref()
            .ok_or(CoreError::MissingAuthCollection)?;
        let cfg = kind.config(opts);
        let mut claims = Map::new();
        claims.insert("collectionId".into(), json!(record.collection.id));
        claims.insert(
            "exp".into(),
            json!(
                crate::datetime::now_ms() / 1000
                    + duration.filter(|d| *d > 0).unwrap_or(cfg.duration)
            ),
        );
        claims.insert("id".into(), json!(record.id()));
        claims.insert("type".into(), json!(kind.type_name()));
        for (k, v) in extra {
            claims.insert((*k).into(), v.clone());
        }
        Ok(token::sign(
            &claims,
            &format!("{}{}", record.get_str("tokenKey"), cfg.secret),
        ))
    }

    /// The record a token of `kind` was issued to, if the token is well formed, unexpired and
    /// signed with the record's current key. Anything else is `None` (no reason is given out).
    pub fn verify_record_token(&self, token: &str, kind: TokenKind) -> Option<Verified> {
        let claims = token::claims_unverified(token)?;
        if claims.get("type").and_then(Value::as_str) != Some(kind.type_name()) {
            return None;
        }
        let exp = claims.get("exp").and_then(Value::as_i64)?;
        if exp <= crate::datetime::now_ms() / 1000 {
            return None;
        }
        let id = claims
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let cid = claims
            .get("collectionId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let collection = self.schema().by_id(cid).cloned()?;
        let secret = &kind.config(collection.auth.as_ref()?).secret;
        let record = self.find_record(&collection, id).ok()??;
        let key = format!("{}{}", record.get_str("tokenKey"), secret);
        token::signature_valid(token, &key).then_some(Verified {
            collection,
            record,
            claims,
        })
    }
}
