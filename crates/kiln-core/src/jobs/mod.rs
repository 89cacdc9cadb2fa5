//! The durable job queue: jobs stored in the database (`_jobs`), run by a worker on every node
//! that has a handler for them.
//!
//! A worker claims due jobs in a transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so nodes
//! never claim the same job; SQLite: one writer) and leases them for [`LEASE`], renewed while
//! the handler runs. A failed run is retried after `backoff × 2^(attempt−1)` (at most an hour)
//! until `max_attempts`, then the job is `failed` (the dead letters, listed and retried from the
//! API). A node that dies mid-job leaves its lease to expire: another node runs the job again,
//! so a handler may run more than once for one job (at least once), but a job is marked done
//! once: finishing checks that the run still holds its lease.

pub mod handlers;
pub mod name;
pub(crate) mod table;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::app::App;
use crate::error::{Action, CoreError, FieldError, Result};
use handlers::{Handler, JobRun};

/// How long a claimed job is leased (renewed every third of it while its handler runs).
pub const LEASE: Duration = Duration::from_secs(30);
/// How often an idle worker looks for due jobs (a job queued on this node wakes it at once).
const POLL: Duration = Duration::from_millis(500);
/// Jobs one node runs at once.
const CONCURRENCY: usize = 4;
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// Finished jobs are kept this long (failed ones too: delete or retry them before).
const KEEP_FINISHED_MS: i64 = 7 * 86_400_000;
/// The largest payload (JSON text).
pub const MAX_PAYLOAD: usize = 1 << 20;

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub name: String,
    pub payload: Value,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// Milliseconds before the first retry (doubling after each).
    pub backoff: i64,
    pub run_at: String,
    pub unique_key: String,
    pub last_error: String,
    pub created: String,
    pub updated: String,
}

/// How a job is queued; `Default` is now, 5 attempts, a second of backoff, no unique key.
#[derive(Debug, Clone, Default)]
pub struct JobOptions {
    /// When to run it first (Unix milliseconds; earlier or `None`: now).
    pub run_at: Option<i64>,
    /// While a job with this key is queued or running, queuing another returns that one.
    pub unique_key: Option<String>,
    pub max_attempts: Option<i64>,
    pub backoff_ms: Option<i64>,
}

/// A page of jobs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobPage {
    pub items: Vec<Job>,
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
}

const COLUMNS: &str = "\"id\", \"name\", \"payload\", \"status\", \"attempts\", \"max_attempts\", \"backoff\", \"run_at\", \"unique_key\", \"last_error\", \"created\", \"updated\"";

fn job_from(row: &kiln_db::Row<'_, '_>) -> Job {
    Job {
        id: row.text(0),
        name: row.text(1),
        payload: serde_json::from_str(&row.text(2)).unwrap_or(Value::Null),
        status: row.text(3),
        attempts: row.int(4),
        max_attempts: row.int(5),
        backoff: row.int(6),
        run_at: crate::datetime::format_ms(row.int(7)),
        unique_key: row.text(8),
        last_error: row.text(9),
        created: crate::datetime::format_ms(row.int(10)),
        updated: crate::datetime::format_ms(row.int(11)),
    }
}

fn invalid(field: &str, message: &str) -> CoreError {
    CoreError::validation(
        Action::ValidateForm,
        field,
        FieldError::new("validation_invalid_value", message),
    )
}

/// The wait before attempt `attempt + 1` of a job with `backoff`.
fn delay_ms(backoff: i64, attempt: i64) -> i64 {
    let doublings = (attempt - 1).clamp(0, 30) as u32;
    backoff
        .max(0)
        .saturating_mul(1i64 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// Queues job `name` with `payload` (JSON text, of any size: the API and hooks check theirs)
/// inside the transaction of `conn`; its id (or, with a `unique_key` another job holds, that
/// job's id). The caller wakes the worker once the transaction commits.
pub(crate) fn insert(
    conn: &kiln_db::Conn<'_>,
    name: &str,
    payload: String,
    opts: JobOptions,
) -> Result<String> {
    if !name::valid(name) {
        return Err(invalid(
            "name",
            "A job name is 1 to 100 letters, digits, _ - . or :.",
        ));
    }
    let max_attempts = opts.max_attempts.unwrap_or(5);
    if !(1..=100).contains(&max_attempts) {
        return Err(invalid("maxAttempts", "Must be between 1 and 100."));
    }
    let backoff = opts.backoff_ms.unwrap_or(1000);
    if !(0..=MAX_BACKOFF_MS).contains(&backoff) {
        return Err(invalid("backoff", "Must be between 0 and 3600000 (ms)."));
    }
    let unique_key = opts.unique_key.unwrap_or_default();
    if unique_key.len() > 255 {
        return Err(invalid("uniqueKey", "At most 255 characters."));
    }
    let now = crate::datetime::now_ms();
    let run_at = opts.run_at.unwrap_or(now).max(now);
    let id = crate::ids::new_id();
    let params: [kiln_db::Value; 8] = [
        id.clone().into(),
        name.to_owned().into(),
        payload.into(),
        max_attempts.into(),
        backoff.into(),
        run_at.into(),
        unique_key.clone().into(),
        now.into(),
    ];
    // twice: the job holding the key may finish between the conflict and the look
    for _ in 0..2 {
        let inserted = conn.execute(
            "INSERT INTO \"_jobs\" (\"id\", \"name\", \"payload\", \"max_attempts\", \"backoff\", \"run_at\", \"unique_key\", \"created\", \"updated\") \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT DO NOTHING",
            &params,
        )?;
        if inserted > 0 {
            return Ok(id);
        }
        let mut existing = None;
        conn.query(
            "SELECT \"id\" FROM \"_jobs\" WHERE \"unique_key\" = ?1 AND \"unique_key\" <> '' \
             AND \"status\" IN ('queued', 'running')",
            &params[6..7],
            |row| {
                existing = Some(row.text(0));
                Ok(())
            },
        )?;
        if let Some(existing) = existing {
            return Ok(existing);
        }
    }
    Err(CoreError::Internal("a job could not be queued".into()))
}

impl App {
    /// Queues job `name` with `payload`; its id (with a `unique_key` another job holds: that
    /// job's id).
    pub async fn enqueue_job(
        &self,
        name: &str,
        payload: Value,
        opts: JobOptions,
    ) -> Result<String> {
        let app = self.clone();
        let name = name.to_owned();
        self.db()
            .write(move |conn| app.enqueue_job_on(conn, &name, &payload, opts))
            .await
    }

    /// [`App::enqueue_job`] inside the transaction of `conn`: the job is queued if, and when,
    /// that transaction commits (a hook's write and the job it queues go together).
    pub fn enqueue_job_on(
        &self,
        conn: &kiln_db::Conn<'_>,
        name: &str,
        payload: &Value,
        opts: JobOptions,
    ) -> Result<String> {
        let payload = payload.to_string();
        if payload.len() > MAX_PAYLOAD {
            return Err(invalid("payload", "The payload is larger than 1 MiB."));
        }
        self.inner().jobs_wake.notify_one();
        insert(conn, name, payload, opts)
    }

    /// Jobs, the newest first, optionally of one `status` and `name`.
    pub fn list_jobs(&self, status: &str, name: &str, page: i64, per_page: i64) -> Result<JobPage> {
        let page = page.max(1);
        let per_page = if per_page <= 0 { 30 } else { per_page.min(500) };
        let filter = "WHERE (?1 = '' OR \"status\" = ?1) AND (?2 = '' OR \"name\" = ?2)";
        let params = [status.to_owned().into(), name.to_owned().into()];
        self.db().read(|conn| {
            let mut items = Vec::new();
            conn.query(
                &format!(
                    "SELECT {COLUMNS} FROM \"_jobs\" {filter} ORDER BY \"created\" DESC, \"id\" DESC LIMIT {per_page} OFFSET {}",
                    (page - 1).saturating_mul(per_page)
                ),
                &params,
                |row| {
                    items.push(job_from(row));
                    Ok(())
                },
            )?;
            let mut total = 0;
            conn.query(
                &format!("SELECT COUNT(*) FROM \"_jobs\" {filter}"),
                &params,
                |row| {
                    total = row.int(0);
                    Ok(())
                },
            )?;
            Ok(JobPage {
                items,
                page,
                per_page,
                total_items: total,
            })
        })
    }

    /// One job.
    pub fn job(&self, id: &str) -> Result<Job> {
        self.db().read(|conn| {
            let mut found = None;
            conn.query(
                &format!("SELECT {COLUMNS} FROM \"_jobs\" WHERE \"id\" = ?1"),
                &[id.to_owned().into()],
                |row| {
                    found = Some(job_from(row));
                    Ok(())
                },
            )?;
            found.ok_or(CoreError::NotFound)
        })
    }

    /// Queues a failed (or finished) job again, now, with its attempts reset; a queued or
    /// running job is left as it is.
    pub async fn retry_job(&self, id: &str) -> Result<Job> {
        let id_v = id.to_owned();
        let changed = self
            .db()
            .write(move |conn| -> Result<usize> {
                let now = crate::datetime::now_ms();
                let params = [id_v.into(), now.into()];
                // another unfinished job holding its unique key: it stays as it is
                let mut held = false;
                conn.query(
                    "SELECT 1 FROM \"_jobs\" AS o, \"_jobs\" AS j WHERE j.\"id\" = ?1 AND o.\"id\" <> j.\"id\" \
                     AND j.\"unique_key\" <> '' AND o.\"unique_key\" = j.\"unique_key\" \
                     AND o.\"status\" IN ('queued', 'running')",
                    &params[..1],
                    |_| {
                        held = true;
                        Ok(())
                    },
                )?;
                if held {
                    return Err(invalid(
                        "uniqueKey",
                        "Another job with this unique key is queued or running.",
                    ));
                }
                Ok(conn.execute(
                    "UPDATE \"_jobs\" SET \"status\" = 'queued', \"attempts\" = 0, \"run_at\" = ?2, \
                     \"lease_until\" = 0, \"node\" = '', \"updated\" = ?2 \
                     WHERE \"id\" = ?1 AND \"status\" IN ('failed', 'done')",
                    &params,
                )?)
            })
            .await?;
        if changed > 0 {
            self.inner().jobs_wake.notify_one();
        }
        self.job(id)
    }

    /// Deletes a job that is not running.
    pub async fn delete_job(&self, id: &str) -> Result<()> {
        let job = self.job(id)?;
        let running = || {
            invalid(
                "status",
                "A running job cannot be deleted; wait for its run to end.",
            )
        };
        if job.status == "running" {
            return Err(running());
        }
        let id = id.to_owned();
        let deleted = self
            .db()
            .write(move |conn| -> Result<usize> {
                Ok(conn.execute(
                    "DELETE FROM \"_jobs\" WHERE \"id\" = ?1 AND \"status\" <> 'running'",
                    &[id.into()],
                )?)
            })
            .await?;
        // it started between the look and the delete
        if deleted == 0 {
            return Err(running());
        }
        Ok(())
    }

    /// Sets the handler of the jobs named `name` on this node.
    pub fn add_job_handler(&self, name: &str, handler: Handler) {
        self.inner().jobs.set(name, handler);
        self.inner().jobs_wake.notify_one();
    }

    /// Starts this node's worker (the server calls it once): it claims due jobs it has a handler
    /// for, up to [`CONCURRENCY`] at a time.
    pub fn start_jobs(&self) {
        self.add_webhook_handler();
        let weak = self.downgrade();
        let wake = self.inner().jobs_wake.clone();
        tokio::spawn(async move {
            let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
            loop {
                let Some(app) = weak.upgrade().filter(|a| !a.is_closed()) else {
                    break;
                };
                let free = slots.available_permits();
                let names = app.inner().jobs.names();
                if free > 0 && !names.is_empty() && app.any_job_waits() {
                    match app.claim_jobs(&names, free).await {
                        Ok(runs) => {
                            for run in runs {
                                let Ok(permit) = slots.clone().try_acquire_owned() else {
                                    break;
                                };
                                let app = app.clone();
                                tokio::spawn(async move {
                                    app.run_job(run).await;
                                    drop(permit);
                                });
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot claim jobs"),
                    }
                }
                drop(app);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }

    /// Whether any job is queued or running (a read: an idle queue costs no write).
    fn any_job_waits(&self) -> bool {
        let mut found = false;
        let read = self.db().read(|conn| {
            conn.query(
                "SELECT 1 FROM \"_jobs\" WHERE \"status\" IN ('queued', 'running') LIMIT 1",
                &[],
                |_| {
                    found = true;
                    Ok(())
                },
            )
        });
        // when the look fails, let the claim say why
        read.is_err() || found
    }

    /// Claims up to `n` due jobs named one of `names` (and fails the expired ones whose
    /// attempts ran out).
    async fn claim_jobs(&self, names: &[String], n: usize) -> Result<Vec<JobRun>> {
        let d = self.dialect();
        let node = self.node_id().to_owned();
        let names = names.to_vec();
        self.db()
            .write(move |conn| -> Result<Vec<JobRun>> {
                let now = crate::datetime::now_ms();
                conn.execute(
                    "UPDATE \"_jobs\" SET \"status\" = 'failed', \"updated\" = ?1, \
                     \"last_error\" = 'The run was interrupted (its node stopped) and no attempt is left.' \
                     WHERE \"status\" = 'running' AND \"lease_until\" < ?1 AND \"attempts\" >= \"max_attempts\"",
                    &[now.into()],
                )?;
                let placeholders: Vec<String> =
                    (0..names.len()).map(|i| format!("?{}", i + 5)).collect();
                let sql = format!(
                    "UPDATE \"_jobs\" SET \"status\" = 'running', \"attempts\" = \"attempts\" + 1, \
                     \"lease_until\" = ?1, \"node\" = ?2, \"updated\" = ?3 \
                     WHERE \"id\" IN (SELECT \"id\" FROM \"_jobs\" WHERE \"name\" IN ({}) AND \
                     ((\"status\" = 'queued' AND \"run_at\" <= ?3) OR (\"status\" = 'running' AND \"lease_until\" < ?3)) \
                     ORDER BY \"run_at\", \"id\" LIMIT ?4{}) \
                     RETURNING \"id\", \"name\", \"payload\", \"attempts\"",
                    placeholders.join(", "),
                    d.skip_locked()
                );
                let mut params: Vec<kiln_db::Value> = vec![
                    (now + LEASE.as_millis() as i64).into(),
                    node.into(),
                    now.into(),
                    (n as i64).into(),
                ];
                params.extend(names.into_iter().map(Into::into));
                let mut runs = Vec::new();
                conn.query(&sql, &params, |row| {
                    runs.push(JobRun {
                        id: row.text(0),
                        name: row.text(1),
                        payload: serde_json::from_str(&row.text(2)).unwrap_or(Value::Null),
                        attempt: row.int(3),
                    });
                    Ok(())
                })?;
                Ok(runs)
            })
            .await
    }

    /// Runs one claimed job, renewing its lease meanwhile, and records how it ended.
    async fn run_job(&self, run: JobRun) {
        let Some(handler) = self.inner().jobs.get(&run.name) else {
            return self
                .finish_job(
                    &run,
                    Err(format!("no handler for jobs named {:?}", run.name)),
                )
                .await;
        };
        let renew = {
            let app = self.clone();
            let (id, attempt) = (run.id.clone(), run.attempt);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE / 3).await;
                    if let Err(e) = app.renew_lease(&id, attempt).await {
                        tracing::warn!(error = %e, job = %id, "cannot renew a job's lease");
                    }
                }
            })
        };
        // a panic in the handler fails the run, not the worker
        let out = match tokio::spawn(handler(run.clone())).await {
            Ok(out) => out,
            Err(_) => Err("the handler panicked".to_owned()),
        };
        renew.abort();
        self.finish_job(&run, out).await;
    }

    async fn renew_lease(&self, id: &str, attempt: i64) -> Result<()> {
        let params = [
            id.to_owned().into(),
            self.node_id().to_owned().into(),
            attempt.into(),
            (crate::datetime::now_ms() + LEASE.as_millis() as i64).into(),
        ];
        self.db()
            .write(move |conn| -> Result<()> {
                conn.execute(
                    "UPDATE \"_jobs\" SET \"lease_until\" = ?4 WHERE \"id\" = ?1 AND \"node\" = ?2 \
                     AND \"attempts\" = ?3 AND \"status\" = 'running'",
                    &params,
                )?;
                Ok(())
            })
            .await
    }

    /// Records the end of a run, if the run still holds the job (a run whose lease expired
    /// and was taken over changes nothing).
    async fn finish_job(&self, run: &JobRun, out: std::result::Result<(), String>) {
        let now = crate::datetime::now_ms();
        let mut params: Vec<kiln_db::Value> = vec![
            run.id.clone().into(),
            self.node_id().to_owned().into(),
            run.attempt.into(),
            now.into(),
        ];
        let sql = match &out {
            Ok(()) => "UPDATE \"_jobs\" SET \"status\" = 'done', \"lease_until\" = 0, \"updated\" = ?4, \
                       \"last_error\" = '' \
                       WHERE \"id\" = ?1 AND \"node\" = ?2 AND \"attempts\" = ?3 AND \"status\" = 'running'",
            Err(e) => {
                let mut e = e.clone();
                if e.len() > 2000 {
                    let cut = (0..=2000).rev().find(|i| e.is_char_boundary(*i)).unwrap_or(0);
                    e.truncate(cut);
                }
                params.push(e.into());
                "UPDATE \"_jobs\" SET \"status\" = CASE WHEN \"attempts\" >= \"max_attempts\" THEN 'failed' ELSE 'queued' END, \
                 \"run_at\" = ?4 + (CASE WHEN \"backoff\" * ?6 > ?7 THEN ?7 ELSE \"backoff\" * ?6 END), \
                 \"lease_until\" = 0, \"node\" = '', \"last_error\" = ?5, \"updated\" = ?4 \
                 WHERE \"id\" = ?1 AND \"node\" = ?2 AND \"attempts\" = ?3 AND \"status\" = 'running'"
            }
        };
        if out.is_err() {
            params.push((delay_ms(1, run.attempt)).into());
            params.push(MAX_BACKOFF_MS.into());
        }
        let res = self
            .db()
            .write(move |conn| -> Result<bool> { Ok(conn.execute(sql, &params)? > 0) })
            .await;
        match res {
            // counted once: a run whose lease expired and was taken over changes nothing
            Ok(true) => {
                let outcome = if out.is_ok() { "done" } else { "error" };
                metrics::counter!(crate::metrics::JOB_RUNS, "outcome" => outcome).increment(1);
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, job = %run.id, "cannot record the end of a job's run")
            }
        }
        if let Err(e) = &out {
            tracing::warn!(job = %run.id, name = %run.name, attempt = run.attempt, "a job's run failed: {e}");
        }
        // a retry may be due at once (no backoff)
        self.inner().jobs_wake.notify_one();
    }

    /// Deletes the finished jobs older than [`KEEP_FINISHED_MS`] (the periodic clean-up).
    pub(crate) async fn purge_jobs(&self) -> Result<usize> {
        let before = crate::datetime::now_ms() - KEEP_FINISHED_MS;
        self.db()
            .write_long(move |conn| -> Result<usize> {
                Ok(conn.execute(
                    "DELETE FROM \"_jobs\" WHERE \"status\" IN ('done', 'failed') AND \"updated\" < ?1",
                    &[before.into()],
                )?)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppConfig;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Waits until job `id` has `status` (or fails after 5 s).
    async fn wait_for(app: &App, id: &str, status: &str) -> Job {
        for _ in 0..500 {
            let job = app.job(id).unwrap();
            if job.status == status {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {id} is {:?}, not {status}", app.job(id).unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_run_retry_and_fail_over_to_dead_letters() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&AppConfig::new(dir.path())).unwrap();
        app.start_jobs();
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        // fails its first attempt, then succeeds; "never" always fails
        app.add_job_handler(
            "flaky",
            Arc::new(move |run: JobRun| {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    assert_eq!(run.payload["n"], 7);
                    if n == 0 {
                        Err("first try fails".to_owned())
                    } else {
                        Ok(())
                    }
                })
            }),
        );
        app.add_job_handler(
            "never",
            Arc::new(|_| Box::pin(async { Err("nope".to_owned()) })),
        );
        let opts = JobOptions {
            backoff_ms: Some(0),
            ..Default::default()
        };
        let id = app
            .enqueue_job("flaky", serde_json::json!({"n": 7}), opts.clone())
            .await
            .unwrap();
        let job = wait_for(&app, &id, "done").await;
        assert_eq!(job.attempts, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let dead = app
            .enqueue_job(
                "never",
                Value::Null,
                JobOptions {
                    max_attempts: Some(3),
                    ..opts.clone()
                },
            )
            .await
            .unwrap();
        let job = wait_for(&app, &dead, "failed").await;
        assert_eq!((job.attempts, job.last_error.as_str()), (3, "nope"));
        // a dead letter queued again runs again
        app.retry_job(&dead).await.unwrap();
        assert_eq!(wait_for(&app, &dead, "failed").await.attempts, 3);

        // a unique key holds while its job waits; a later run_at waits
        let later = JobOptions {
            run_at: Some(crate::datetime::now_ms() + 60_000),
            unique_key: Some("u1".into()),
            ..opts.clone()
        };
        let a = app
            .enqueue_job("flaky", serde_json::json!({"n": 7}), later.clone())
            .await
            .unwrap();
        let b = app
            .enqueue_job("flaky", serde_json::json!({"n": 7}), later)
            .await
            .unwrap();
        assert_eq!(a, b);
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(app.job(&a).unwrap().status, "queued");
        assert_eq!(app.list_jobs("queued", "", 1, 10).unwrap().total_items, 1);
        assert!(app
            .enqueue_job("bad name!", Value::Null, JobOptions::default())
            .await
            .is_err());
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(delay_ms(1000, 1), 1000);
        assert_eq!(delay_ms(1000, 2), 2000);
        assert_eq!(delay_ms(1000, 4), 8000);
        assert_eq!(delay_ms(1000, 40), MAX_BACKOFF_MS);
        assert_eq!(delay_ms(0, 3), 0);
    }
}
