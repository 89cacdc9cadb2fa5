//! Multi-factor authentication: after a first method succeeds on a collection with MFA on,
//! the client gets an MFA id (401 `{mfaId}`) and must pass a different method with it within
//! `mfa.duration` seconds.

use std::sync::Arc;

use serde_json::{json, Map};

use crate::app::App;
use crate::error::{CoreError, Refusal, Result};
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;

/// The system collection holding pending MFA sessions.
pub const MFAS: &str = "_mfas";

/// Whether a record created at `created` (a stored datetime) is older than `secs` seconds.
pub(crate) fn expired(created: &str, secs: i64) -> bool {
    match crate::datetime::parse_ms(created) {
        Some(ms) => crate::datetime::now_ms() - ms > secs * 1000,
        None => true,
    }
}

impl App {
    /// Applies the collection's MFA policy to a login by `method` (`password`, `otp`,
    /// `oauth2`). `Ok` means the login may complete; [`CoreError::MfaRequired`] carries the id
    /// of the new MFA session the client must continue with.
    pub(crate) async fn check_mfa(
        &self,
        c: &Arc<Collection>,
        record: &Record,
        method: &'static str,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<()> {
        let Some(mfa) = c.auth.as_ref().map(|a| &a.mfa).filter(|m| m.enabled) else {
            return Ok(());
        };
        if !mfa.rule.trim().is_empty() {
            let probe = RequestInfo {
                auth: None,
                context: method,
                ..req.clone()
            };
            let applies = self
                .record_matches(c, record.id(), &mfa.rule, &probe)
                .map_err(|_| CoreError::Failed(crate::error::Action::Authenticate))?;
            if !applies {
                return Ok(());
            }
        }
        let Some(mfa_id) = mfa_id.filter(|s| !s.is_empty()) else {
            let mut body = Map::new();
            body.insert("collectionRef".into(), json!(c.id));
            body.insert("recordRef".into(), json!(record.id()));
            body.insert("method".into(), json!(method));
            let created = self.system_create(MFAS, body).await?;
            return Err(CoreError::MfaRequired(created.id().to_owned()));
        };
        let session = self
            .system_records(MFAS, "\"id\" = ?1", &[mfa_id.into()])?
            .into_iter()
            .next();
        let Some(session) = session else {
            return Err(CoreError::Refused(Refusal::MfaSessionExpired));
        };
        if expired(session.get_str("created"), mfa.duration) {
            self.system_delete(MFAS, session.id()).await?;
            return Err(CoreError::Refused(Refusal::MfaSessionExpired));
        }
        if session.get_str("recordRef") != record.id() || session.get_str("collectionRef") != c.id {
            return Err(CoreError::Refused(Refusal::MfaSessionMismatch));
        }
        if session.get_str("method") == method {
            return Err(CoreError::Refused(Refusal::MfaSameMethod));
        }
        self.system_delete(MFAS, session.id()).await
    }
}
