//! Passkeys (WebAuthn), Kiln's addition to PocketBase's sign-in methods: a signed-in account
//! registers credentials (`_passkeys`), and anyone holding one signs in with discoverable
//! credentials. Challenges are random, single use and live five minutes. See docs/PASSKEYS.md.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::flows::AuthResult;
use crate::app::App;
use crate::error::{Action, CoreError, Feature, Refusal, Result};
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;
use crate::schema::system::PASSKEYS;

/// How long a challenge may be answered, and the timeout the browser is given.
const CHALLENGE_TTL: Duration = Duration::from_secs(300);

/// Passkeys an account may hold.
const MAX_PER_ACCOUNT: usize = 20;

/// What a pending challenge was issued for.
#[derive(Debug, Clone)]
pub enum Purpose {
    Register {
        collection_id: String,
        record_id: String,
    },
    Authenticate {
        collection_id: String,
    },
}

/// A challenge waiting for the browser's answer.
#[derive(Debug, Clone)]
pub struct Pending {
    pub challenge: [u8; 32],
    pub purpose: Purpose,
}

impl Pending {
    /// Key of the pending challenge `id` among the single-use state.
    fn key(id: &str) -> String {
        format!("@passkeyChallenge_{id}")
    }

    /// As stored while it waits (possibly for another node to take it).
    fn encode(&self) -> String {
        let purpose = match &self.purpose {
            Purpose::Register {
                collection_id,
                record_id,
            } => json!({"register": [collection_id, record_id]}),
            Purpose::Authenticate { collection_id } => json!({"authenticate": collection_id}),
        };
        json!({"challenge": b64(&self.challenge), "purpose": purpose}).to_string()
    }

    fn decode(stored: &str) -> Option<Pending> {
        let v: Value = serde_json::from_str(stored).ok()?;
        let challenge = bytes_at(&v, &["challenge"])?.try_into().ok()?;
        let p = v.get("purpose")?;
        let purpose = if let Some(ids) = p.get("register") {
            let id = |i: usize| ids.get(i).and_then(Value::as_str).map(str::to_owned);
            Purpose::Register {
                collection_id: id(0)?,
                record_id: id(1)?,
            }
        } else {
            Purpose::Authenticate {
                collection_id: p.get("authenticate")?.as_str()?.to_owned(),
            }
        };
        Some(Pending { challenge, purpose })
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A base64url member of the browser's credential JSON (padding tolerated).
fn bytes_at(v: &Value, path: &[&str]) -> Option<Vec<u8>> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    let s = cur.as_str()?;
    if s.len() > 64 * 1024 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

fn failed() -> CoreError {
    CoreError::Failed(Action::Authenticate)
}

fn bad(reason: &str) -> CoreError {
    tracing::debug!(reason, "passkey request refused");
    CoreError::Refused(Refusal::PasskeyInvalid)
}

impl App {
    /// The relying party from the settings: `passkeys.rpId`/`origins`, else `meta.appURL`.
    fn relying_party(&self) -> Result<(kiln_webauthn::RelyingParty, String)> {
        let s = self.settings();
        if !s.passkeys.enabled {
            return Err(CoreError::Disabled(Feature::Passkeys));
        }
        let url = s.meta.app_url.trim_end_matches('/');
        let origin = match url.find("://") {
            Some(i) => match url[i + 3..].find('/') {
                Some(j) => &url[..i + 3 + j],
                None => url,
            },
            None => url,
        };
        let host = origin
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split(':')
            .next()
            .unwrap_or("");
        let id = if s.passkeys.rp_id.is_empty() {
            host.to_owned()
        } else {
            s.passkeys.rp_id.clone()
        };
        let origins = if s.passkeys.origins.is_empty() {
            vec![origin.to_owned()]
        } else {
            s.passkeys.origins.clone()
        };
        let name = if s.passkeys.rp_name.is_empty() {
            s.meta.app_name.clone()
        } else {
            s.passkeys.rp_name.clone()
        };
        Ok((kiln_webauthn::RelyingParty { id, origins }, name))
    }

    fn new_challenge(&self, purpose: Purpose) -> Result<(String, [u8; 32])> {
        let id = crate::ids::new_id();
        let challenge = crate::ids::random_bytes::<32>();
        let pending = Pending { challenge, purpose }.encode();
        if !self.onetime_put(&Pending::key(&id), pending, CHALLENGE_TTL, false)? {
            return Err(CoreError::RateLimited { retry_after: 60 });
        }
        Ok((id, challenge))
    }

    /// The pending challenge `id`, which no other request (on any node) can take after this.
    fn take_challenge(&self, id: &str) -> Result<Option<Pending>> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        Ok(self
            .onetime_take(&Pending::key(id))?
            .as_deref()
            .and_then(Pending::decode))
    }

    fn passkeys_of(&self, c: &Collection, record_id: &str) -> Result<Vec<Record>> {
        self.system_records(
            PASSKEYS,
            "\"collectionRef\" = ?1 AND \"recordRef\" = ?2",
            &[c.id.clone().into(), record_id.into()],
        )
    }

    fn signed_in_record(&self, c: &Collection, req: &RequestInfo) -> Result<Arc<Record>> {
        let auth = req.auth.clone().ok_or(CoreError::AuthRequired)?;
        if auth.collection.id != c.id {
            return Err(CoreError::WrongAuthCollection(c.name.clone()));
        }
        Ok(auth)
    }

    /// `passkeys/register-begin`: creation options for `navigator.credentials.create()`.
    pub fn passkey_register_begin(&self, c: &Arc<Collection>, req: &RequestInfo) -> Result<Value> {
        let record = self.signed_in_record(c, req)?;
        let (rp, rp_name) = self.relying_party()?;
        let existing = self.passkeys_of(c, record.id())?;
        let (challenge_id, challenge) = self.new_challenge(Purpose::Register {
            collection_id: c.id.clone(),
            record_id: record.id().to_owned(),
        })?;
        let email = record.get_str("email");
        let label = if email.is_empty() { record.id() } else { email };
        let display = Some(record.get_str("name"))
            .filter(|n| !n.is_empty())
            .unwrap_or(label);
        let exclude: Vec<Value> = existing
            .iter()
            .map(|p| json!({"type": "public-key", "id": p.get_str("credentialId")}))
            .collect();
        Ok(json!({
            "challengeId": challenge_id,
            "publicKey": {
                "rp": {"id": rp.id, "name": rp_name},
                "user": {"id": b64(record.id().as_bytes()), "name": label, "displayName": display},
                "challenge": b64(&challenge),
                "pubKeyCredParams": [
                    {"type": "public-key", "alg": kiln_webauthn::ALG_ES256},
                    {"type": "public-key", "alg": kiln_webauthn::ALG_EDDSA},
                    {"type": "public-key", "alg": kiln_webauthn::ALG_RS256},
                ],
                "timeout": CHALLENGE_TTL.as_millis() as u64,
                "excludeCredentials": exclude,
                "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true, "userVerification": "preferred"},
                "attestation": "none",
            }
        }))
    }

    /// `passkeys/register-finish`: verifies the browser's answer and stores the credential.
    pub async fn passkey_register_finish(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        challenge_id: &str,
        name: &str,
        credential: &Value,
    ) -> Result<Record> {
        let record = self.signed_in_record(c, req)?;
        let (rp, _) = self.relying_party()?;
        let pending = self
            .take_challenge(challenge_id)?
            .ok_or_else(|| bad("unknown, used or expired challenge"))?;
        match &pending.purpose {
            Purpose::Register {
                collection_id,
                record_id,
            } if *collection_id == c.id && record_id == record.id() => {}
            _ => return Err(bad("the challenge was issued for something else")),
        }
        let client_data = bytes_at(credential, &["response", "clientDataJSON"])
            .ok_or_else(|| bad("missing clientDataJSON"))?;
        let attestation = bytes_at(credential, &["response", "attestationObject"])
            .ok_or_else(|| bad("missing attestationObject"))?;
        let raw_id = bytes_at(credential, &["rawId"]).ok_or_else(|| bad("missing rawId"))?;
        let new = rp
            .verify_registration(&client_data, &attestation, &pending.challenge, false)
            .map_err(|e| bad(&e.to_string()))?;
        if new.credential_id != raw_id {
            return Err(bad("rawId differs from the attested credential id"));
        }
        if self.passkeys_of(c, record.id())?.len() >= MAX_PER_ACCOUNT {
            return Err(CoreError::Refused(Refusal::TooManyPasskeys));
        }
        let credential_id = b64(&new.credential_id);
        if !self
            .system_records(
                PASSKEYS,
                "\"credentialId\" = ?1",
                &[credential_id.clone().into()],
            )?
            .is_empty()
        {
            return Err(bad("credential already registered"));
        }
        let name: String = name.trim().chars().take(100).collect();
        let mut body = Map::new();
        body.insert("collectionRef".into(), json!(c.id));
        body.insert("recordRef".into(), json!(record.id()));
        body.insert("credentialId".into(), json!(credential_id));
        body.insert("publicKey".into(), json!(b64(&new.public_key)));
        body.insert("algorithm".into(), json!(new.algorithm));
        body.insert("signCount".into(), json!(new.sign_count));
        body.insert(
            "aaguid".into(),
            json!(new
                .aaguid
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()),
        );
        body.insert(
            "name".into(),
            json!(if name.is_empty() {
                "Passkey".to_owned()
            } else {
                name
            }),
        );
        self.system_create(PASSKEYS, body).await
    }

    /// `auth-with-passkey-begin`: request options for `navigator.credentials.get()` with
    /// discoverable credentials (nothing about any account is revealed).
    pub fn passkey_auth_begin(&self, c: &Arc<Collection>) -> Result<Value> {
        let (rp, _) = self.relying_party()?;
        let (challenge_id, challenge) = self.new_challenge(Purpose::Authenticate {
            collection_id: c.id.clone(),
        })?;
        Ok(json!({
            "challengeId": challenge_id,
            "publicKey": {
                "challenge": b64(&challenge),
                "rpId": rp.id,
                "timeout": CHALLENGE_TTL.as_millis() as u64,
                "userVerification": "preferred",
                "allowCredentials": [],
            }
        }))
    }

    /// `auth-with-passkey`: verifies an assertion against the stored credential and signs the
    /// account in (MFA and login alerts apply as for any method). Every failure reads the same.
    pub async fn auth_with_passkey(
        &self,
        c: &Arc<Collection>,
        challenge_id: &str,
        credential: &Value,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<AuthResult> {
        let (rp, _) = self.relying_party()?;
        let pending = self.take_challenge(challenge_id)?.ok_or_else(failed)?;
        if !matches!(&pending.purpose, Purpose::Authenticate { collection_id } if *collection_id == c.id)
        {
            return Err(failed());
        }
        let raw_id = bytes_at(credential, &["rawId"]).ok_or_else(failed)?;
        let client_data =
            bytes_at(credential, &["response", "clientDataJSON"]).ok_or_else(failed)?;
        let auth_data =
            bytes_at(credential, &["response", "authenticatorData"]).ok_or_else(failed)?;
        let signature = bytes_at(credential, &["response", "signature"]).ok_or_else(failed)?;
        let stored = self
            .system_records(
                PASSKEYS,
                "\"credentialId\" = ?1 AND \"collectionRef\" = ?2",
                &[b64(&raw_id).into(), c.id.clone().into()],
            )?
            .into_iter()
            .next()
            .ok_or_else(failed)?;
        if let Some(handle) =
            bytes_at(credential, &["response", "userHandle"]).filter(|h| !h.is_empty())
        {
            if handle != stored.get_str("recordRef").as_bytes() {
                return Err(failed());
            }
        }
        let public_key = URL_SAFE_NO_PAD
            .decode(stored.get_str("publicKey"))
            .map_err(|_| failed())?;
        let count = stored.get("signCount").and_then(Value::as_u64).unwrap_or(0) as u32;
        let assertion = rp
            .verify_assertion(
                &client_data,
                &auth_data,
                &signature,
                &pending.challenge,
                &public_key,
                count,
                false,
            )
            .map_err(|e| {
                tracing::debug!(error = %e, "passkey assertion refused");
                failed()
            })?;
        let record = self
            .find_record(c, stored.get_str("recordRef"))?
            .ok_or_else(failed)?;
        if let Ok(pc) = self.collection(PASSKEYS) {
            let mut body = Map::new();
            body.insert("signCount".into(), json!(assertion.sign_count));
            if let Err(e) = self.system_update(&pc, stored.id(), body).await {
                tracing::warn!(error = %e, "cannot store a passkey's sign count");
            }
        }
        self.finish_auth(c, record, "passkey", mfa_id, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_challenge_survives_storage() {
        for purpose in [
            Purpose::Register {
                collection_id: "c:1".into(),
                record_id: "r\"2".into(),
            },
            Purpose::Authenticate {
                collection_id: "_pb_users_auth_".into(),
            },
        ] {
            let p = Pending {
                challenge: [7; 32],
                purpose: purpose.clone(),
            };
            let back = Pending::decode(&p.encode()).expect("decodes");
            assert_eq!(back.challenge, [7; 32]);
            assert_eq!(format!("{:?}", back.purpose), format!("{purpose:?}"));
        }
        assert!(
            Pending::decode("{\"challenge\":\"AAAA\",\"purpose\":{\"authenticate\":\"x\"}}")
                .is_none(),
            "short challenge"
        );
        assert!(Pending::decode("not json").is_none());
    }
}
