//! Password hashing with argon2id (OWASP parameters), run off the async threads and bounded.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{CoreError, Result};

/// Hashes and verifies passwords on the blocking pool, at most N at a time.
pub struct Hasher {
    permits: Semaphore,
}

fn argon2() -> Argon2<'static> {
    // OWASP: argon2id, m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes synchronously (CLI, tests).
pub fn hash_blocking(plain: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&crate::ids::random_bytes::<16>())
        .map_err(|e| CoreError::Internal(format!("salt: {e}")))?;
    argon2()
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("hash: {e}")))
}

/// Verifies synchronously; an unparsable stored hash never matches.
pub fn verify_blocking(plain: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => argon2().verify_password(plain.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Self {
        Hasher { permits: Semaphore::new(max_concurrent) }
    }

    pub async fn hash(&self, plain: String) -> Result<String> {
        let _permit = self.permits.acquire().await.map_err(|_| CoreError::Internal("hasher closed".into()))?;
        tokio::task::spawn_blocking(move || hash_blocking(&plain))
            .await
            .map_err(|e| CoreError::Internal(format!("hash task: {e}")))?
    }

    pub async fn verify(&self, plain: String, stored: String) -> bool {
        let Ok(_permit) = self.permits.acquire().await else { return false };
        tokio::task::spawn_blocking(move || verify_blocking(&plain, &stored)).await.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash_blocking("secret123").unwrap();
        let b = super::hash_blocking("secret123").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(super::verify_blocking("secret123", &a));
        assert!(!super::verify_blocking("secret124", &a));
        assert!(!super::verify_blocking("secret123", "garbage"));
    }
}
