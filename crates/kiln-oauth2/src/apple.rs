//! Sign in with Apple's client secret: a JWT the app signs with its Apple private key (ES256),
//! valid for at most six months, which Apple accepts in place of a static secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use serde_json::json;

/// The longest validity Apple accepts, in seconds (about six months).
pub const MAX_DURATION_SECS: i64 = 15_777_000;

/// The client secret for `client_id` (the Services ID) of team `team_id`, signed with the
/// PKCS#8 PEM `private_key` whose id is `key_id`, issued at `now` (Unix seconds) and valid for
/// `duration_secs`. An error says why the key cannot be used.
pub fn client_secret(
    client_id: &str,
    team_id: &str,
    key_id: &str,
    private_key: &str,
    duration_secs: i64,
    now: i64,
) -> Result<String, String> {
    let key = SigningKey::from_pkcs8_pem(private_key.trim()).map_err(|e| e.to_string())?;
    let header = json!({"alg": "ES256", "kid": key_id, "typ": "JWT"});
    let claims = json!({
        "iss": team_id,
        "sub": client_id,
        "aud": ["https://appleid.apple.com"],
        "exp": now + duration_secs,
        "iat": now,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    #[test]
    fn the_secret_is_an_es256_jwt_apple_can_verify() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let jwt = client_secret(
            "com.example.app",
            "TEAM123456",
            "KEY1234567",
            &pem,
            3600,
            1_700_000_000,
        )
        .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            header,
            json!({"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"})
        );
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "TEAM123456");
        assert_eq!(claims["sub"], "com.example.app");
        assert_eq!(claims["aud"], json!(["https://appleid.apple.com"]));
        assert_eq!(claims["exp"].as_i64(), Some(1_700_003_600));
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(VerifyingKey::from(&key)
            .verify(input.as_bytes(), &sig)
            .is_ok());
        assert!(client_secret(
            "a",
            "b",
            "c",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            1,
            0
        )
        .is_err());
    }
}
