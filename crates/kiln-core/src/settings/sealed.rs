//! Settings sealed with a key, as PocketBase stores them when started with `--encryptionEnv`:
//! base64 (standard, padded) of a 12-byte nonce followed by the AES-GCM ciphertext of the JSON,
//! the key being the environment variable's text (16, 24 or 32 bytes: AES-128, -192 or -256).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce};
use base64::Engine;

type Aes192Gcm = AesGcm<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>;

const NONCE: usize = 12;

fn seal_with<C: KeyInit + Aead>(key: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
    let cipher = C::new_from_slice(key).ok()?;
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut nonce).ok()?;
    let mut out = nonce.to_vec();
    out.extend(cipher.encrypt(Nonce::from_slice(&nonce), plain).ok()?);
    Some(out)
}

fn open_with<C: KeyInit + Aead>(key: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let cipher = C::new_from_slice(key).ok()?;
    let (nonce, text) = sealed.split_at_checked(NONCE)?;
    cipher.decrypt(Nonce::from_slice(nonce), text).ok()
}

/// Seals `plain` with `key`; `None` for a key of another length.
pub fn seal(key: &str, plain: &[u8]) -> Option<String> {
    let k = key.as_bytes();
    let sealed = match k.len() {
        16 => seal_with::<Aes128Gcm>(k, plain),
        24 => seal_with::<Aes192Gcm>(k, plain),
        32 => seal_with::<Aes256Gcm>(k, plain),
        _ => None,
    }?;
    Some(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// Opens what [`seal`] (or PocketBase) sealed; `None` when the key does not open it.
pub fn open(key: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sealed.trim_ascii())
        .ok()?;
    let k = key.as_bytes();
    match k.len() {
        16 => open_with::<Aes128Gcm>(k, &raw),
        24 => open_with::<Aes192Gcm>(k, &raw),
        32 => open_with::<Aes256Gcm>(k, &raw),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_settings_open_with_their_key_only() {
        for key in [
            "0123456789abcdef",
            "0123456789abcdef01234567",
            "0123456789abcdef0123456789abcdef",
        ] {
            let s = seal(key, b"{\"a\":1}").unwrap();
            assert_eq!(open(key, s.as_bytes()).unwrap(), b"{\"a\":1}");
            assert!(open("fedcba9876543210fedcba9876543210", s.as_bytes()).is_none());
        }
        assert!(seal("short", b"x").is_none());
        assert!(open("0123456789abcdef", b"not base64!").is_none());
    }
}
