//! Expired one-time state (`_otps`, `_mfas`) is deleted periodically (crate::maintenance), as
//! PocketBase's cron does: a used or abandoned code or MFA session must not pile up.

use crate::app::App;
use crate::error::Result;

impl App {
    /// Deletes `_otps` and `_mfas` rows older than their collection's `otp.duration` /
    /// `mfa.duration`. Returns how many rows went.
    pub async fn delete_expired_auth_state(&self) -> Result<usize> {
        let now = crate::datetime::now_ms();
        let mut jobs: Vec<(&'static str, String, String)> = Vec::new();
        for c in self.schema().all().iter().filter(|c| c.is_auth()) {
            let Some(a) = c.auth.as_ref() else { continue };
            jobs.push((
                "_otps",
                c.id.clone(),
                crate::datetime::format_ms(now - a.otp.duration.max(0) * 1000),
            ));
            jobs.push((
                "_mfas",
                c.id.clone(),
                crate::datetime::format_ms(now - a.mfa.duration.max(0) * 1000),
            ));
        }
        self.db()
            .write(move |conn| -> Result<usize> {
                let mut n = 0;
                for (table, collection, before) in &jobs {
                    n += conn.execute(
                        &format!(
                            "DELETE FROM {table} WHERE \"collectionRef\" = ?1 AND \"created\" < ?2"
                        ),
                        &[collection.clone().into(), before.clone().into()],
                    )?;
                }
                Ok(n)
            })
            .await
    }
}
