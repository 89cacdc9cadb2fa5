//! Idempotency keys: a write sent with an `Idempotency-Key` runs once; a retry with the same key
//! and the same request gets the first answer again and changes nothing, and the same key with
//! another request is refused. Keys live in the database (`_idempotency`), so every node of a
//! cluster sees them, and survive a restart; they are kept a day.
//!
//! A key is claimed before its request runs (a row without an answer), and the answer is stored
//! once it is known. A request that ended in a server error gives its key back, so a retry runs
//! again. A claim left without an answer by a process that died stays claimed until it expires:
//! the write may have happened, so it is never run a second time under that key.

use kiln_db::Conn;

use crate::app::App;
use crate::error::Result;

pub(crate) mod table;

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// How long a key is kept (Stripe's rule: a day).
pub const KEEP_MS: i64 = 86_400_000;

/// A request's fingerprint: the SHA-256 of its parts (each length-prefixed, so no two ways of
/// cutting the same bytes match), in hex.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    crate::webhooks::verify::hex(&h.finalize())
}

/// What a claimed key means for its request.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: run the request, then [`App::idempotency_answer`] or
    /// [`App::idempotency_release`].
    Run,
    /// The same request ran before: answer this again.
    Replay { status: u16, body: Vec<u8> },
    /// The key was used with another request.
    Mismatch,
    /// The same request is running now (or its process died while it ran).
    InProgress,
}

impl App {
    /// Claims `key` of `scope` (the caller) for a request whose `fingerprint` identifies it.
    pub async fn idempotency_claim(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Claim> {
        let (scope, key, fingerprint) = (scope.to_owned(), key.to_owned(), fingerprint.to_owned());
        self.db()
            .write(move |conn| -> Result<Claim> {
                let now = crate::datetime::now_ms();
                let id: [kiln_db::Value; 2] = [scope.into(), key.into()];
                conn.execute(
                    "DELETE FROM \"_idempotency\" WHERE \"scope\" = ?1 AND \"key\" = ?2 AND \"created\" < ?3",
                    &[id[0].clone(), id[1].clone(), (now - KEEP_MS).into()],
                )?;
                let inserted = conn.execute(
                    "INSERT INTO \"_idempotency\" (\"scope\", \"key\", \"fingerprint\", \"created\") \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    &[id[0].clone(), id[1].clone(), fingerprint.clone().into(), now.into()],
                )?;
                if inserted > 0 {
                    return Ok(Claim::Run);
                }
                // a row deleted since (its request failed) reads as in progress: the caller
                // asks again
                Ok(lookup(conn, &id, &fingerprint)?.unwrap_or(Claim::InProgress))
            })
            .await
    }

    /// What became of a key claimed before (`None`: it was given back), without claiming it:
    /// what a retry polls while the first request runs.
    pub fn idempotency_state(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<Claim>> {
        let id: [kiln_db::Value; 2] = [scope.to_owned().into(), key.to_owned().into()];
        self.db().read(|conn| lookup(conn, &id, fingerprint))
    }

    /// Stores the answer of the request that claimed `key`.
    pub async fn idempotency_answer(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: String,
    ) -> Result<()> {
        let id: [kiln_db::Value; 2] = [scope.to_owned().into(), key.to_owned().into()];
        self.db()
            .write(move |conn| -> Result<()> {
                conn.execute(
                    "UPDATE \"_idempotency\" SET \"status\" = ?3, \"body\" = ?4 \
                     WHERE \"scope\" = ?1 AND \"key\" = ?2",
                    &[
                        id[0].clone(),
                        id[1].clone(),
                        i64::from(status).into(),
                        body.into(),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    /// Gives `key` back: its request did not complete, a retry may run it.
    pub async fn idempotency_release(&self, scope: &str, key: &str) -> Result<()> {
        let id: [kiln_db::Value; 2] = [scope.to_owned().into(), key.to_owned().into()];
        self.db()
            .write(move |conn| -> Result<()> {
                conn.execute(
                    "DELETE FROM \"_idempotency\" WHERE \"scope\" = ?1 AND \"key\" = ?2",
                    &id,
                )?;
                Ok(())
            })
            .await
    }

    /// Deletes the keys older than [`KEEP_MS`] (the periodic clean-up).
    pub(crate) async fn purge_idempotency_keys(&self) -> Result<usize> {
        let before = crate::datetime::now_ms() - KEEP_MS;
        self.db()
            .write_long(move |conn| -> Result<usize> {
                Ok(conn.execute(
                    "DELETE FROM \"_idempotency\" WHERE \"created\" < ?1",
                    &[before.into()],
                )?)
            })
            .await
    }
}

/// The claim the stored row of `id` (scope, key) makes for a request of `fingerprint`.
fn lookup(conn: &Conn<'_>, id: &[kiln_db::Value; 2], fingerprint: &str) -> Result<Option<Claim>> {
    let mut claim = None;
    conn.query(
        "SELECT \"fingerprint\", \"status\", \"body\" FROM \"_idempotency\" \
         WHERE \"scope\" = ?1 AND \"key\" = ?2",
        id,
        |row| {
            claim = Some(match (row.text(0) == fingerprint, row.int(1)) {
                (false, _) => Claim::Mismatch,
                (true, 0) => Claim::InProgress,
                (true, status) => Claim::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body: row.text(2).into_bytes(),
                },
            });
            Ok(())
        },
    )?;
    Ok(claim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppConfig;

    #[tokio::test]
    async fn a_key_runs_once_then_replays() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&AppConfig::new(dir.path())).unwrap();
        assert_eq!(
            app.idempotency_claim("u1", "k", "fp").await.unwrap(),
            Claim::Run
        );
        assert_eq!(
            app.idempotency_claim("u1", "k", "fp").await.unwrap(),
            Claim::InProgress
        );
        assert_eq!(
            app.idempotency_claim("u1", "k", "other").await.unwrap(),
            Claim::Mismatch
        );
        assert_eq!(
            app.idempotency_claim("u2", "k", "fp").await.unwrap(),
            Claim::Run,
            "keys are per caller"
        );
        app.idempotency_answer("u1", "k", 200, "{\"id\":1}".into())
            .await
            .unwrap();
        assert_eq!(
            app.idempotency_claim("u1", "k", "fp").await.unwrap(),
            Claim::Replay {
                status: 200,
                body: b"{\"id\":1}".to_vec()
            }
        );
        app.idempotency_release("u2", "k").await.unwrap();
        assert_eq!(
            app.idempotency_claim("u2", "k", "fp").await.unwrap(),
            Claim::Run
        );
    }
}
