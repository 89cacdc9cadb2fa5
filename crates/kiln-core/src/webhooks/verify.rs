//! Signatures of inbound webhooks, checked the way their senders' libraries check them:
//!
//! - Stripe (`Stripe-Signature: t=<unix seconds>,v1=<hex>,v1=<hex>…`): HMAC-SHA256 of
//!   `<t>.<body>` with the endpoint secret (`whsec_…` used as it is), any `v1` matching;
//! - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`):
//!   HMAC-SHA256 of `<id>.<timestamp>.<body>` with the secret's base64 bytes (after `whsec_`).
//!
//! The timestamp must be within the tolerance of now (an old delivery replayed is refused), and
//! several secrets may be valid at once (rotation). Comparisons are constant-time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Which sender's scheme an endpoint checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Stripe,
    Standard,
}

impl Scheme {
    pub fn parse(s: &str) -> Option<Scheme> {
        match s {
            "stripe" => Some(Scheme::Stripe),
            "standard" => Some(Scheme::Standard),
            _ => None,
        }
    }
}

/// The headers a check reads (lower-case names).
#[derive(Debug, Default, Clone, Copy)]
pub struct SignedHeaders<'a> {
    pub stripe_signature: Option<&'a str>,
    pub webhook_id: Option<&'a str>,
    pub webhook_timestamp: Option<&'a str>,
    pub webhook_signature: Option<&'a str>,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A signature header is missing or malformed.
    Malformed,
    /// The timestamp is outside the tolerance (a replay, or a clock far off).
    Stale,
    /// No signature matches any secret.
    BadSignature,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::Malformed => "The webhook's signature headers are missing or malformed.",
            Refused::Stale => "The webhook's timestamp is outside the tolerance.",
            Refused::BadSignature => "The webhook's signature does not match.",
        })
    }
}

/// Checks a delivery of `body` at `now` (Unix seconds) against `secrets`.
pub fn verify(
    scheme: Scheme,
    secrets: &[String],
    headers: SignedHeaders<'_>,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), Refused> {
    match scheme {
        Scheme::Stripe => {
            let header = headers.stripe_signature.ok_or(Refused::Malformed)?;
            let mut t = None;
            let mut sigs = Vec::new();
            for part in header.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", v)) => t = v.parse::<i64>().ok(),
                    Some(("v1", v)) => sigs.push(v),
                    _ => {}
                }
            }
            let t = t.ok_or(Refused::Malformed)?;
            if sigs.is_empty() {
                return Err(Refused::Malformed);
            }
            if now.abs_diff(t) > tolerance.unsigned_abs() {
                return Err(Refused::Stale);
            }
            let matches = secrets.iter().any(|secret| {
                let expected = hex(&hmac(
                    secret.as_bytes(),
                    &[t.to_string().as_bytes(), b".", body],
                ));
                sigs.iter()
                    .any(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())))
            });
            matches.then_some(()).ok_or(Refused::BadSignature)
        }
        Scheme::Standard => {
            let (Some(id), Some(ts), Some(sig)) = (
                headers.webhook_id,
                headers.webhook_timestamp,
                headers.webhook_signature,
            ) else {
                return Err(Refused::Malformed);
            };
            let t = ts.trim().parse::<i64>().map_err(|_| Refused::Malformed)?;
            if now.abs_diff(t) > tolerance.unsigned_abs() {
                return Err(Refused::Stale);
            }
            let b64 = base64::engine::general_purpose::STANDARD;
            let given: Vec<Vec<u8>> = sig
                .split_whitespace()
                .filter_map(|s| s.strip_prefix("v1,"))
                .filter_map(|s| b64.decode(s).ok())
                .collect();
            if given.is_empty() {
                return Err(Refused::Malformed);
            }
            let matches = secrets.iter().any(|secret| {
                let Ok(key) = b64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)) else {
                    return false;
                };
                let expected = hmac(
                    &key,
                    &[id.as_bytes(), b".", ts.trim().as_bytes(), b".", body],
                );
                given
                    .iter()
                    .any(|g| bool::from(g.as_slice().ct_eq(expected.as_slice())))
            });
            matches.then_some(()).ok_or(Refused::BadSignature)
        }
    }
}

/// HMAC-SHA256 of `parts` in order (also what outbound deliveries sign with).
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_signatures() {
        let body = br#"{"id":"evt_1"}"#;
        let secret = "whsec_test".to_owned();
        let sig = hex(&hmac(secret.as_bytes(), &[b"1000", b".", body]));
        let header = format!("t=1000,v1=deadbeef,v1={sig}");
        let h = SignedHeaders {
            stripe_signature: Some(&header),
            ..Default::default()
        };
        let secrets = ["whsec_old".to_owned(), secret];
        assert_eq!(verify(Scheme::Stripe, &secrets, h, body, 1100, 300), Ok(()));
        assert_eq!(
            verify(Scheme::Stripe, &secrets, h, body, 2000, 300),
            Err(Refused::Stale)
        );
        assert_eq!(
            verify(Scheme::Stripe, &secrets[..1], h, body, 1100, 300),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(Scheme::Stripe, &secrets, h, b"{}", 1100, 300),
            Err(Refused::BadSignature)
        );
        let none = SignedHeaders::default();
        assert_eq!(
            verify(Scheme::Stripe, &secrets, none, body, 1100, 300),
            Err(Refused::Malformed)
        );
    }

    #[test]
    fn standard_webhook_signatures() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = b"0123456789abcdef0123456789abcdef";
        let secret = format!("whsec_{}", b64.encode(key));
        let body = b"{\"type\":\"x\"}";
        let sig = b64.encode(hmac(key, &[b"msg_1", b".", b"1000", b".", body]));
        let header = format!("v1,bm9wZQ== v1,{sig}");
        let h = SignedHeaders {
            webhook_id: Some("msg_1"),
            webhook_timestamp: Some("1000"),
            webhook_signature: Some(&header),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Standard,
                std::slice::from_ref(&secret),
                h,
                body,
                1010,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(Scheme::Standard, &[secret], h, body, 5000, 300),
            Err(Refused::Stale)
        );
    }
}
