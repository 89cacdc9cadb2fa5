//! `$security`: PocketBase's helpers for random strings, hashes, HMACs, AES-GCM and HS256 JWTs,
//! with its encodings (hex digests; standard base64 of nonce and ciphertext), so that values made
//! by an app on PocketBase still verify and open on Kiln.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use kiln_core::auth::token;

/// PocketBase's default alphabet for random strings.
const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The most characters a random string may have (a hook asking for more is refused).
const MAX_RANDOM: usize = 1 << 20;

/// `len` characters drawn uniformly from `alphabet` (any Unicode).
pub(crate) fn random_string(len: usize, alphabet: &str) -> Result<String, String> {
    let chars: Vec<char> = if alphabet.is_empty() {
        ALPHABET.chars().collect()
    } else {
        alphabet.chars().collect()
    };
    if len > MAX_RANDOM || chars.len() > 65536 {
        return Err("the random string or its alphabet is too long".into());
    }
    // 16-bit draws below the largest multiple of the alphabet's size: no modulo bias
    let n = chars.len() as u32;
    let limit = 65536 - 65536 % n;
    let mut out = String::with_capacity(len);
    let mut count = 0;
    while count < len {
        for pair in kiln_core::ids::random_bytes::<64>().chunks_exact(2) {
            let v = u32::from(u16::from_le_bytes([pair[0], pair[1]]));
            if v < limit {
                out.push(chars[(v % n) as usize]);
                count += 1;
                if count == len {
                    break;
                }
            }
        }
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn md5(text: &str) -> String {
    hex(&md5::Md5::digest(text.as_bytes()))
}

pub(crate) fn sha256(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

pub(crate) fn sha512(text: &str) -> String {
    hex(&Sha512::digest(text.as_bytes()))
}

pub(crate) fn hs256(text: &str, secret: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts any key length");
    m.update(text.as_bytes());
    hex(&m.finalize().into_bytes())
}

pub(crate) fn hs512(text: &str, secret: &str) -> String {
    let mut m = <Hmac<Sha512> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts any key length");
    m.update(text.as_bytes());
    hex(&m.finalize().into_bytes())
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only.
pub(crate) fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// PocketBase's `security.Encrypt`: AES-GCM with a 16, 24 or 32 byte key.
pub(crate) fn encrypt(data: &str, key: &str) -> Result<String, String> {
    kiln_core::settings::sealed::seal(key, data.as_bytes())
        .ok_or_else(|| "the key must be 16, 24 or 32 bytes long".into())
}

/// PocketBase's `security.Decrypt`.
pub(crate) fn decrypt(cipher: &str, key: &str) -> Result<String, String> {
    let plain = kiln_core::settings::sealed::open(key, cipher.as_bytes())
        .ok_or_else(|| "cannot decrypt: another key, or not a sealed value".to_owned())?;
    String::from_utf8(plain).map_err(|_| "the decrypted value is not text".into())
}

/// An HS256 JWT of `payload` with `exp` `secs` seconds from now unless the payload has its own
/// (PocketBase's `NewJWT`: even 0 sets it, to now).
pub(crate) fn create_jwt(payload: &Value, key: &str, secs: f64) -> Result<String, String> {
    let now = kiln_core::datetime::now_ms() / 1000;
    let mut claims = Map::new();
    claims.insert("exp".into(), json!(now + secs as i64));
    match payload {
        Value::Object(m) => claims.extend(m.clone()),
        Value::Null => {}
        _ => return Err("the JWT payload must be an object".into()),
    }
    Ok(token::sign(&claims, key))
}

/// The time claims checked as golang-jwt checks them: not expired (`exp` after now), in force
/// (`nbf` not after now), and with `issued`, not issued in the future.
fn check_times(claims: &Map<String, Value>, issued: bool) -> Result<(), String> {
    let now = kiln_core::datetime::now_ms() as f64 / 1000.0;
    let at = |k: &str| claims.get(k).and_then(Value::as_f64);
    if at("exp").is_some_and(|exp| now >= exp) {
        return Err("token is expired".into());
    }
    if at("nbf").is_some_and(|nbf| now < nbf) {
        return Err("token is not valid yet".into());
    }
    if issued && at("iat").is_some_and(|iat| now < iat) {
        return Err("token used before issued".into());
    }
    Ok(())
}

/// The claims of `jwt` without checking its signature, its time claims checked (PocketBase's
/// `parseUnverifiedJWT`).
pub(crate) fn parse_unverified(jwt: &str) -> Result<Value, String> {
    let mut parts = jwt.split('.');
    let payload = parts.nth(1).ok_or("not a JWT")?;
    let raw = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "not a JWT")?;
    let Ok(Value::Object(claims)) = serde_json::from_slice(&raw) else {
        return Err("not a JWT".into());
    };
    check_times(&claims, true)?;
    Ok(Value::Object(claims))
}

/// The claims of `jwt` once its HS256 signature checks with `key` and its time claims hold.
pub(crate) fn parse_jwt(jwt: &str, key: &str) -> Result<Value, String> {
    let claims = token::claims_unverified(jwt).ok_or("not an HS256 JWT")?;
    if !token::signature_valid(jwt, key) {
        return Err("token signature is invalid".into());
    }
    check_times(&claims, false)?;
    Ok(Value::Object(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_macs_are_hex() {
        assert_eq!(md5("test"), "098f6bcd4621d373cade4e832627b4f6");
        assert_eq!(
            sha256("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
        assert_eq!(
            hs256("hello", "secret"),
            "88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b"
        );
        assert!(equal("abc", "abc") && !equal("abc", "abd") && !equal("abc", "ab"));
    }

    #[test]
    fn random_strings_use_the_alphabet() {
        let s = random_string(200, "ab€").unwrap();
        assert_eq!(s.chars().count(), 200);
        assert!(s.chars().all(|c| "ab€".contains(c)));
        assert_eq!(random_string(15, "").unwrap().len(), 15);
    }

    #[test]
    fn jwts_verify_with_their_key_until_they_expire() {
        let t = create_jwt(&json!({"id": "x"}), "k", 60.0).unwrap();
        assert_eq!(parse_jwt(&t, "k").unwrap()["id"], "x");
        assert!(parse_jwt(&t, "other").is_err());
        assert_eq!(parse_unverified(&t).unwrap()["id"], "x");
        let old = token::sign(json!({"exp": 1}).as_object().unwrap(), "k");
        assert!(parse_jwt(&old, "k").is_err());
        // as PocketBase: a duration of 0 expires at once
        assert!(parse_unverified(&create_jwt(&json!({}), "k", 0.0).unwrap()).is_err());
    }

    #[test]
    fn encrypted_values_open_with_their_key() {
        let key = "0123456789abcdef0123456789abcdef";
        let c = encrypt("hi", key).unwrap();
        assert_eq!(decrypt(&c, key).unwrap(), "hi");
        assert!(decrypt(&c, "0123456789abcdef0123456789abcdeX").is_err());
        assert!(encrypt("hi", "short").is_err());
    }
}
