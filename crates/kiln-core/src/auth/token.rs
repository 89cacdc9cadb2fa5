//! JSON Web Tokens as PocketBase issues them: HS256, signed with the record's `tokenKey` followed
//! by the collection's secret for the token type, so that changing either revokes old tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; // {"alg":"HS256","typ":"JWT"}

fn mac(key: &str, data: &[u8]) -> [u8; 32] {
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

/// Signs `claims` (keys are written in alphabetical order, as PocketBase's tokens have them).
pub fn sign(claims: &Map<String, Value>, key: &str) -> String {
    let mut sorted: Vec<(&String, &Value)> = claims.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let ordered: Map<String, Value> = sorted
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(ordered).to_string());
    let signing_input = format!("{HEADER}.{payload}");
    let sig = URL_SAFE_NO_PAD.encode(mac(key, signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

/// The claims of a token, read without checking its signature (to find the key). `None` unless
/// the token has three parts, an HS256 JWT header and an object payload.
pub fn claims_unverified(token: &str) -> Option<Map<String, Value>> {
    if token.len() > 4096 {
        return None;
    }
    let mut parts = token.split('.');
    let (h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return None;
    }
    match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Whether the token's signature was made with `key`, compared in constant time.
pub fn signature_valid(token: &str, key: &str) -> bool {
    let Some((signing_input, sig)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(given) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    let expected = mac(key, signing_input.as_bytes());
    given.len() == expected.len() && bool::from(given.ct_eq(&expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Map<String, Value> {
        json!({"type":"auth","id":"abc","collectionId":"c1","exp":2000000000,"refreshable":true})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn signs_and_verifies() {
        let t = sign(&claims(), "key1");
        assert!(t.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
        assert!(signature_valid(&t, "key1"));
        assert!(!signature_valid(&t, "key2"));
        let c = claims_unverified(&t).unwrap();
        assert_eq!(c["id"], "abc");
        // Payload keys come out sorted, like PocketBase's.
        let payload = String::from_utf8(
            URL_SAFE_NO_PAD
                .decode(t.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert!(payload.starts_with("{\"collectionId\""));
    }

    #[test]
    fn rejects_alg_none_and_tampering() {
        let t = sign(&claims(), "k");
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let parts: Vec<&str> = t.split('.').collect();
        let forged = format!("{none_header}.{}.", parts[1]);
        assert!(claims_unverified(&forged).is_none());
        assert!(!signature_valid(&forged, "k"));
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(r#"{"id":"other"}"#),
            parts[2]
        );
        assert!(!signature_valid(&tampered, "k"));
        assert!(claims_unverified("a.b").is_none());
        assert!(claims_unverified("not a token").is_none());
    }
}
