//! Expired one-time state (`_otps`, `_mfas`) is deleted hourly by the cron jobs
//! `__pbOTPCleanup__` and `__pbMFACleanup__`, as PocketBase's are: a used or abandoned code or
//! MFA session must not pile up.

use crate::app::App;
use crate::error::Result;

/// The tables of expiring one-time auth state.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OneTime {
    Otps,
    Mfas,
}

impl App {
    /// Deletes `_otps` and `_mfas` rows older than their collection's `otp.duration` /
    /// `mfa.duration`. Returns how many rows went.
    pub async fn delete_expired_auth_state(&self) -> Result<usize> {
        Ok(self.delete_expired(OneTime::Otps).await? + self.delete_expired(OneTime::Mfas).await?)
    }

    /// Deletes the expired rows of one of the tables.
    pub(crate) async fn delete_expired(&self, table: OneTime) -> Result<usize> {
        let now = crate::datetime::now_ms();
        let mut jobs: Vec<(&'static str, String, String)> = Vec::new();
        for c in self.schema().all().iter().filter(|c| c.is_auth()) {
            let Some(a) = c.auth.as_ref() else { continue };
            let (name, duration) = match table {
                OneTime::Otps => ("_otps", a.otp.duration),
                OneTime::Mfas => ("_mfas", a.mfa.duration),
            };
            jobs.push((
                name,
                c.id.clone(),
                crate::datetime::format_ms(now - duration.max(0) * 1000),
            ));
        }
        self.db()
            .write_long(move |conn| -> Result<usize> {
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
