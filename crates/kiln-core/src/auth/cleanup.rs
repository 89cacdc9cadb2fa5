//! Expired one-time state (`_otps`, `_mfas`) is deleted periodically, as PocketBase's cron does:
//! a used or abandoned code or MFA session must not pile up.

use std::time::Duration;

use crate::app::App;
use crate::error::Result;

/// How often expired rows are looked for.
const EVERY: Duration = Duration::from_secs(600);

impl App {
    /// Deletes `_otps` and `_mfas` rows older than their collection's `otp.duration` /
    /// `mfa.duration`. Returns how many rows went.
    pub async fn delete_expired_auth_state(&self) -> Result<usize> {
        let now = crate::datetime::now_ms();
        let mut jobs: Vec<(&'static str, String, String)> = Vec::new();
        for c in self.schema().all().iter().filter(|c| c.is_auth()) {
            let Some(a) = c.auth.as_ref() else { continue };
            jobs.push(("_otps", c.id.clone(), crate::datetime::format_ms(now - a.otp.duration.max(0) * 1000)));
            jobs.push(("_mfas", c.id.clone(), crate::datetime::format_ms(now - a.mfa.duration.max(0) * 1000)));
        }
        self.db()
            .write(move |conn| -> Result<usize> {
                let mut n = 0;
                for (table, collection, before) in &jobs {
                    n += conn.execute(
                        &format!("DELETE FROM {table} WHERE \"collectionRef\" = ?1 AND \"created\" < ?2"),
                        &[collection.clone().into(), before.clone().into()],
                    )?;
                }
                Ok(n)
            })
            .await
    }

    /// Starts the periodic clean-up on the current tokio runtime (the server calls it once).
    pub fn start_auth_cleanup(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            loop {
                tick.tick().await;
                match app.delete_expired_auth_state().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(rows = n, "expired OTPs and MFA sessions deleted"),
                    Err(e) => tracing::warn!(error = %e, "cannot delete expired OTPs and MFA sessions"),
                }
                // shared rate limit windows (PostgreSQL) of a day ago are long over
                if let Err(e) = app.db().shared_windows_clear(Some(crate::datetime::now_ms() - 86_400_000)) {
                    tracing::warn!(error = %e, "cannot delete old rate limit windows");
                }
            }
        });
    }
}
