//! The app's metrics, recorded through the `metrics` facade (a no-op until the binary installs
//! a recorder). Gauges of state (clients connected, jobs waiting) are sampled when the metrics
//! are read ([`App::sample_gauges`](crate::App::sample_gauges)); counters count as things happen.

/// Realtime clients connected now (SSE and WebSocket).
pub const REALTIME_CLIENTS: &str = "kiln_realtime_clients";
/// Realtime messages queued to clients.
pub const REALTIME_MESSAGES: &str = "kiln_realtime_messages_total";
/// Job runs ended, by `outcome`: `done`, or `error` (retried while attempts remain).
pub const JOB_RUNS: &str = "kiln_job_runs_total";
/// Jobs queued and due or waiting for their time (`status = 'queued'`).
pub const JOBS_QUEUED: &str = "kiln_jobs_queued";
/// Emails handed to the SMTP server, by `outcome`: `sent` or `failed`.
pub const MAILS: &str = "kiln_mails_total";
/// Requests refused by the rate limits.
pub const RATE_LIMITED: &str = "kiln_rate_limited_requests_total";

/// Gives the installed recorder the metrics' help texts.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge};
    describe_gauge!(
        REALTIME_CLIENTS,
        "Realtime clients connected (SSE and WebSocket)."
    );
    describe_counter!(REALTIME_MESSAGES, "Realtime messages queued to clients.");
    describe_counter!(
        JOB_RUNS,
        "Job runs ended, by outcome (done, or error: retried while attempts remain)."
    );
    describe_gauge!(JOBS_QUEUED, "Jobs queued, due or scheduled.");
    describe_counter!(MAILS, "Emails handed to the SMTP server, by outcome.");
    describe_counter!(RATE_LIMITED, "Requests refused by the rate limits.");
}

/// Counts realtime messages handed to clients (a handle kept at hand: one update per event).
pub(crate) fn realtime_messages_sent(n: u64) {
    static SENT: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    if n > 0 {
        SENT.get_or_init(|| metrics::counter!(REALTIME_MESSAGES))
            .increment(n);
    }
}

impl crate::App {
    /// Sets the gauges of the app's state (read just before the metrics are): realtime clients
    /// connected, jobs queued.
    pub fn sample_gauges(&self) {
        metrics::gauge!(REALTIME_CLIENTS).set(self.realtime().len() as f64);
        match self.db().read(|conn| {
            conn.query_i64(
                "SELECT COUNT(*) FROM \"_jobs\" WHERE \"status\" = 'queued'",
                &[],
            )
        }) {
            Ok(n) => metrics::gauge!(JOBS_QUEUED).set(n as f64),
            Err(e) => tracing::warn!(error = %e, "cannot count the queued jobs"),
        }
    }
}
