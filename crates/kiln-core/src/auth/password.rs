//! Password hashing with argon2id (OWASP parameters), run off the async threads on a bounded pool.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, Mutex};

use crate::error::{CoreError, Result};

/// Hashes and verifies passwords on a few dedicated threads. argon2id needs 19 MiB per hash;
/// a fixed set of threads bounds both the parallelism and the memory the allocator keeps (on
/// tokio's blocking pool every new thread kept its own arena of freed buffers).
pub struct Hasher {
    jobs: Mutex<std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>>,
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
    /// Starts `threads` hashing threads.
    pub fn new(threads: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("kiln-hash-{i}")).spawn(move || loop {
                let job = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Hasher { jobs: Mutex::new(tx) }
    }

    async fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> Result<R> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| CoreError::Internal("hasher poisoned".into()))?
            .send(job)
            .map_err(|_| CoreError::Internal("hasher stopped".into()))?;
        rx.await.map_err(|_| CoreError::Internal("hasher stopped".into()))
    }

    pub async fn hash(&self, plain: String) -> Result<String> {
        self.run(move || hash_blocking(&plain)).await?
    }

    pub async fn verify(&self, plain: String, stored: String) -> bool {
        self.run(move || verify_blocking(&plain, &stored)).await.unwrap_or(false)
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
