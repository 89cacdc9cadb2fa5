//! `$jobs.enqueue`: a job into the queue from a hook (`jobs.rs` runs the handlers).

/// `$jobs.enqueue(name, payload, {runAt, uniqueKey, maxAttempts, backoff})`: the job's id.
/// Inside a hook's transaction the job is queued with it (and not if it rolls back).
pub(crate) fn enqueue(
    ctx: &rquickjs::Ctx<'_>,
    w: &crate::worker::Worker,
    name: String,
    payload: &str,
    options: &str,
) -> Result<String, kiln_core::CoreError> {
    use kiln_core::CoreError;
    let payload: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| CoreError::InvalidBody(e.to_string()))?;
    let o: serde_json::Value =
        serde_json::from_str(options).map_err(|e| CoreError::InvalidBody(e.to_string()))?;
    let run_at = match &o["runAt"] {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) if !s.is_empty() => Some(
            kiln_core::datetime::parse_ms(s)
                .ok_or_else(|| CoreError::InvalidBody(format!("runAt: not a date: {s}")))?,
        ),
        _ => None,
    };
    let opts = kiln_core::jobs::JobOptions {
        run_at,
        unique_key: o["uniqueKey"].as_str().map(str::to_owned),
        max_attempts: o["maxAttempts"].as_i64(),
        backoff_ms: o["backoff"].as_i64(),
    };
    if w.in_tx() {
        return w.on_conn(ctx, move |app, conn| {
            app.enqueue_job_on(conn, &name, &payload, opts)
        });
    }
    let app = w.app()?;
    w.block_on(async move { app.enqueue_job(&name, payload, opts).await })?
}
