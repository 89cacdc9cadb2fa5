//! What automatic HTTPS keeps (the ACME account, certificates and their keys, the answers to
//! pending challenges) and the lease that lets one node of a cluster order while the others wait:
//! the `_certs` table. In the database rather than in files, so that every node of a cluster serves
//! the same certificate and can answer the CA's challenge whichever node the CA reaches.
//!
//! Values holding private keys are sealed with the settings key when Kiln runs with one
//! (`--encryptionEnv`), as the settings are.

use crate::app::App;
use crate::error::Result;

pub(crate) mod table;

/// Marks a value sealed with the settings key.
const SEALED: &str = "sealed:";

impl App {
    /// The value stored under `key`, or `None` (also when it was sealed with a key this process
    /// does not have: the caller orders anew).
    pub async fn cert_get(&self, key: &str) -> Result<Option<String>> {
        let k = key.to_owned();
        let raw = self.db().read(move |conn| {
            conn.query_one(
                "SELECT \"value\" FROM \"_certs\" WHERE \"key\" = ?1",
                &[k.into()],
                |r| Ok(r.get(0).as_str().to_owned()),
            )
        })?;
        let Some(raw) = raw else { return Ok(None) };
        let Some(sealed) = raw.strip_prefix(SEALED) else {
            return Ok(Some(raw));
        };
        let opened = self
            .inner()
            .settings_key
            .as_deref()
            .and_then(|k| crate::settings::sealed::open(k, sealed.as_bytes()))
            .and_then(|plain| String::from_utf8(plain).ok());
        if opened.is_none() {
            tracing::warn!(
                key,
                "a stored certificate value does not open with the settings key"
            );
        }
        Ok(opened)
    }

    /// Stores `value` under `key` (sealed when `secret` and the app has a settings key).
    pub async fn cert_put(&self, key: &str, value: &str, secret: bool) -> Result<()> {
        let value = match (&self.inner().settings_key, secret) {
            (Some(k), true) => match crate::settings::sealed::seal(k, value.as_bytes()) {
                Some(s) => format!("{SEALED}{s}"),
                None => value.to_owned(),
            },
            _ => value.to_owned(),
        };
        let k = key.to_owned();
        self.db()
            .write(move |conn| -> Result<()> {
                conn.execute(
                    "INSERT INTO \"_certs\" (\"key\", \"value\", \"updated\") VALUES (?1, ?2, ?3) \
                     ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\", \
                     \"updated\" = excluded.\"updated\"",
                    &[k.into(), value.into(), crate::datetime::now_ms().into()],
                )?;
                Ok(())
            })
            .await
    }

    /// Removes `key` (nothing if it is not there).
    pub async fn cert_delete(&self, key: &str) -> Result<()> {
        let k = key.to_owned();
        self.db()
            .write(move |conn| -> Result<()> {
                conn.execute("DELETE FROM \"_certs\" WHERE \"key\" = ?1", &[k.into()])?;
                Ok(())
            })
            .await
    }

    /// Takes the lease `key` for `holder` for `ttl_ms`, or extends it if `holder` has it already.
    /// `false` while another holder's lease runs. A holder that dies loses it when it expires.
    pub async fn cert_lease(&self, key: &str, holder: &str, ttl_ms: i64) -> Result<bool> {
        let (k, h) = (key.to_owned(), holder.to_owned());
        self.db()
            .write(move |conn| -> Result<bool> {
                let now = crate::datetime::now_ms();
                let n = conn.execute(
                    "INSERT INTO \"_certs\" (\"key\", \"value\", \"expires\", \"updated\") \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\", \
                     \"expires\" = excluded.\"expires\", \"updated\" = excluded.\"updated\" \
                     WHERE \"_certs\".\"expires\" < ?4 OR \"_certs\".\"value\" = excluded.\"value\"",
                    &[k.into(), h.into(), (now + ttl_ms).into(), now.into()],
                )?;
                Ok(n > 0)
            })
            .await
    }

    /// Gives the lease `key` back if `holder` has it.
    pub async fn cert_release(&self, key: &str, holder: &str) -> Result<()> {
        let (k, h) = (key.to_owned(), holder.to_owned());
        self.db()
            .write(move |conn| -> Result<()> {
                conn.execute(
                    "DELETE FROM \"_certs\" WHERE \"key\" = ?1 AND \"value\" = ?2",
                    &[k.into(), h.into()],
                )?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::{App, AppConfig};

    #[tokio::test]
    async fn values_round_trip_and_leases_exclude_other_holders() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&AppConfig::new(dir.path())).unwrap();
        assert_eq!(app.cert_get("a").await.unwrap(), None);
        app.cert_put("a", "one", false).await.unwrap();
        app.cert_put("a", "two", true).await.unwrap();
        assert_eq!(app.cert_get("a").await.unwrap().as_deref(), Some("two"));
        app.cert_delete("a").await.unwrap();
        assert_eq!(app.cert_get("a").await.unwrap(), None);

        assert!(app.cert_lease("l", "n1", 60_000).await.unwrap());
        assert!(!app.cert_lease("l", "n2", 60_000).await.unwrap());
        assert!(
            app.cert_lease("l", "n1", 60_000).await.unwrap(),
            "its holder extends it"
        );
        app.cert_release("l", "n2").await.unwrap();
        assert!(
            !app.cert_lease("l", "n2", 60_000).await.unwrap(),
            "only the holder gives it back"
        );
        app.cert_release("l", "n1").await.unwrap();
        assert!(app.cert_lease("l", "n2", 1).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert!(
            app.cert_lease("l", "n1", 60_000).await.unwrap(),
            "an expired lease is taken over"
        );
        app.close();
    }

    #[tokio::test]
    async fn secrets_are_sealed_with_the_settings_key() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = AppConfig {
            settings_key: Some("0123456789abcdef0123456789abcdef".into()),
            ..AppConfig::new(dir.path())
        };
        let app = App::open(&cfg).unwrap();
        app.cert_put("k", "-----BEGIN PRIVATE KEY-----", true)
            .await
            .unwrap();
        let raw = app
            .db()
            .read(|conn| {
                conn.query_one("SELECT value FROM _certs WHERE key = 'k'", &[], |r| {
                    Ok(r.get(0).as_str().to_owned())
                })
            })
            .unwrap()
            .unwrap();
        assert!(
            raw.starts_with("sealed:") && !raw.contains("PRIVATE"),
            "{raw}"
        );
        assert_eq!(
            app.cert_get("k").await.unwrap().as_deref(),
            Some("-----BEGIN PRIVATE KEY-----")
        );
        app.close();
    }
}
