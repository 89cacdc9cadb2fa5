//! Periodic clean-up: expired OTPs, MFA sessions and idempotency keys, old finished jobs and webhook events, and on a shared database
//! the old rate limit windows and expired single-use keys. Every node ticks; on a shared database
//! one of them claims each round (`_kiln_runs`) and does it for all, so the work runs once
//! cluster-wide.

use std::time::Duration;

use crate::app::App;

/// How often the clean-up runs.
const EVERY: Duration = Duration::from_secs(600);

/// Rate limit windows started this long ago are long over.
const OLD_WINDOWS_MS: i64 = 86_400_000;

impl App {
    /// Starts the cron jobs and the periodic clean-up on the current tokio runtime (the server
    /// calls it once).
    pub fn start_maintenance(&self) {
        self.start_crons();
        self.start_jobs();
        // A weak handle: the loop ends with the app (closed, or reloaded after a restore).
        let weak = self.downgrade();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            loop {
                tick.tick().await;
                let Some(app) = weak.upgrade().filter(|a| !a.is_closed()) else {
                    break;
                };
                app.maintain().await;
            }
        });
    }

    /// One round of clean-up, unless another node sharing the database claimed this round.
    async fn maintain(&self) {
        let now = crate::datetime::now_ms();
        if let Some(shared) = self.db().shared() {
            match shared.claim_run("maintenance", now, EVERY.as_millis() as i64) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => return tracing::warn!(error = %e, "cannot claim the periodic clean-up"),
            }
            if let Err(e) = shared.windows_clear(Some(now - OLD_WINDOWS_MS)) {
                tracing::warn!(error = %e, "cannot delete old rate limit windows");
            }
            if let Err(e) = shared.sweep(now) {
                tracing::warn!(error = %e, "cannot delete expired single-use keys");
            }
        }
        if let Err(e) = self.purge_idempotency_keys().await {
            tracing::warn!(error = %e, "cannot delete expired idempotency keys");
        }
        if let Err(e) = self.purge_jobs().await {
            tracing::warn!(error = %e, "cannot delete old finished jobs");
        }
        if let Err(e) = self.purge_webhook_events().await {
            tracing::warn!(error = %e, "cannot delete old webhook events");
        }
    }
}
