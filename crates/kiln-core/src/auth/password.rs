//! Password hashing with argon2id (OWASP parameters), run off the async threads on a bounded pool.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, Mutex};

use crate::error::{CoreError, Result};

/// Hashes and verifies passwords on a few dedicated threads. argon2id needs 19 MiB per hash;
/// a fixed set of threads bounds both the parallelism and the memory the allocator keeps (on
/// tokio's blocking pool every new thread kept its own arena of freed buffers).
pub struct Hasher {
    jobs: Mutex<std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>>,
}

/// A hashing thread idle this long frees its blocks (a burst of logins reuses them; a server
/// at rest does not keep 19 MiB per thread).
const RELEASE_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// OWASP: argon2id, m = 19 MiB, t = 2, p = 1.
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params =
        Params::new(M_COST, T_COST, P_COST, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The 19 MiB block buffers of argon2, reused across hashes: allocating and freeing them per
/// hash fragmented the heap (RSS grew by ~19 MiB per sign-up). One buffer per concurrent hash;
/// all are released when the hashing threads go idle ([`release_idle_memory`]).
static BLOCK_POOL: Mutex<Vec<Vec<argon2::Block>>> = Mutex::new(Vec::new());

/// The raw argon2id output for `plain` and `salt` with Kiln's parameters, on a pooled buffer.
fn raw_hash(plain: &[u8], salt: &[u8]) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    let pooled = BLOCK_POOL.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let mut blocks = pooled.unwrap_or_else(|| vec![argon2::Block::default(); M_COST as usize]);
    let result = argon2()
        .hash_password_into_with_memory(plain, salt, &mut out, &mut blocks[..])
        .map_err(|e| CoreError::Internal(format!("hash: {e}")));
    BLOCK_POOL
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(blocks);
    result?;
    Ok(out)
}

/// Frees the pooled buffers and hands free heap memory back to the system.
fn release_idle_memory() {
    let freed = std::mem::take(&mut *BLOCK_POOL.lock().unwrap_or_else(|p| p.into_inner()));
    if freed.is_empty() {
        return;
    }
    drop(freed);
    crate::memory::release();
}

/// Hashes synchronously (CLI, tests): a PHC string `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
pub fn hash_blocking(plain: &str) -> Result<String> {
    let salt = crate::ids::random_bytes::<16>();
    let out = raw_hash(plain.as_bytes(), &salt)?;
    let b64 =
        |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD_NO_PAD, b);
    Ok(format!(
        "$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}${}${}",
        b64(&salt),
        b64(&out)
    ))
}

/// Whether `stored` is a bcrypt hash (`$2a$`, `$2b$`, `$2y$`), as PocketBase stores passwords.
pub fn is_bcrypt(stored: &str) -> bool {
    stored.len() == 60
        && ["$2a$", "$2b$", "$2y$"]
            .iter()
            .any(|p| stored.starts_with(p))
}

/// Whether a stored hash should be replaced by an argon2id hash with Kiln's parameters after
/// a successful login: argon2 hashes with other parameters. PocketBase's bcrypt hashes are
/// kept as they are, so that PocketBase can still sign these users in when it opens a data dir
/// Kiln has served (no lock-in); passwords set in Kiln are argon2id.
pub fn needs_rehash(stored: &str) -> bool {
    !is_bcrypt(stored)
        && !stored.starts_with(&format!("$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}$"))
}

/// Verifies synchronously; an unparsable stored hash never matches. Hashes with Kiln's own
/// parameters reuse the thread's blocks; any other argon2 hash is verified the standard way;
/// bcrypt hashes (users imported from PocketBase) are verified with bcrypt.
pub fn verify_blocking(plain: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        // bcrypt reads at most 72 bytes; PocketBase refuses longer passwords, so a longer one
        // cannot be the imported password.
        return plain.len() <= 72 && bcrypt::verify(plain, stored).unwrap_or(false);
    }
    let Ok(h) = PasswordHash::new(stored) else {
        return false;
    };
    let ours = h.algorithm.as_str() == "argon2id"
        && h.version == Some(0x13)
        && h.params.get_decimal("m") == Some(M_COST)
        && h.params.get_decimal("t") == Some(T_COST)
        && h.params.get_decimal("p") == Some(P_COST);
    if let (true, Some(salt), Some(expected)) = (ours, h.salt, h.hash) {
        let mut raw_salt = [0u8; 64];
        if let (Ok(salt), 32) = (salt.decode_b64(&mut raw_salt), expected.len()) {
            return match raw_hash(plain.as_bytes(), salt) {
                Ok(out) => bool::from(subtle::ConstantTimeEq::ct_eq(&out[..], expected.as_bytes())),
                Err(_) => false,
            };
        }
    }
    argon2().verify_password(plain.as_bytes(), &h).is_ok()
}

impl Hasher {
    /// Starts `threads` hashing threads.
    pub fn new(threads: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("kiln-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv_timeout(RELEASE_AFTER),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        // Idle (the thread waiting on the queue times out): give the blocks back.
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => release_idle_memory(),
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Hasher {
            jobs: Mutex::new(tx),
        }
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
        rx.await
            .map_err(|_| CoreError::Internal("hasher stopped".into()))
    }

    pub async fn hash(&self, plain: String) -> Result<String> {
        self.run(move || hash_blocking(&plain)).await?
    }

    pub async fn verify(&self, plain: String, stored: String) -> bool {
        self.run(move || verify_blocking(&plain, &stored))
            .await
            .unwrap_or(false)
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
        // Hashes made by the argon2 crate's own PHC path verify too (same format).
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let other = super::argon2()
            .hash_password(b"pw-123456", &salt)
            .unwrap()
            .to_string();
        assert!(super::verify_blocking("pw-123456", &other));
        assert!(!super::verify_blocking("pw-1234567", &other));
        // And ours verify with the crate's standard verifier.
        let ours = super::hash_blocking("pw-123456").unwrap();
        let parsed = argon2::password_hash::PasswordHash::new(&ours).unwrap();
        assert!(
            argon2::PasswordVerifier::verify_password(&super::argon2(), b"pw-123456", &parsed)
                .is_ok()
        );
        assert!(!super::needs_rehash(&ours));
        assert!(
            super::needs_rehash(&other) || other.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
    }

    #[test]
    fn pocketbase_bcrypt_hashes_verify() {
        // A hash in the form PocketBase stores passwords: bcrypt `$2a$`, cost 10.
        let pb = bcrypt::hash_with_salt("alicepass123", 10, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(super::is_bcrypt(&pb) && !super::needs_rehash(&pb));
        assert!(super::verify_blocking("alicepass123", &pb));
        assert!(!super::verify_blocking("alicepass124", &pb));
        assert!(!super::verify_blocking(&"a".repeat(80), &pb));
    }
}
