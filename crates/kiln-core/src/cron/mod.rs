//! Cron jobs: PocketBase's system jobs (`__pbDBOptimize__`, `__pbMFACleanup__`,
//! `__pbOTPCleanup__`, `__pbLogsCleanup__`, and `__pbAutoBackup__` while `backups.cron` is set),
//! listed and run on demand through the API. A ticker wakes at every minute (UTC) and starts the
//! jobs due; on a shared database the nodes claim each run (`_kiln_runs`), so it happens once for
//! the cluster.

pub(crate) mod jobs;
pub(crate) mod schedule;

use std::time::Duration;

use crate::app::App;
use crate::auth::cleanup::OneTime;

pub(crate) use jobs::run;
pub use jobs::CronJob;
pub use schedule::Schedule;

impl App {
    /// The jobs, as PocketBase lists them: the app's own by id, then the system jobs.
    pub fn cron_jobs(&self) -> Vec<CronJob> {
        let mut jobs: Vec<CronJob> = self
            .inner()
            .crons
            .snapshot()
            .into_iter()
            .map(|j| CronJob {
                id: j.id,
                expression: j.expression,
            })
            .collect();
        jobs.sort_by(
            |a, b| match (a.id.starts_with("__pb"), b.id.starts_with("__pb")) {
                (false, false) => a.id.cmp(&b.id),
                (a_sys, b_sys) => a_sys.cmp(&b_sys),
            },
        );
        jobs
    }

    /// Starts job `id` now, in the background; false when there is no such job.
    pub fn run_cron_job(&self, id: &str) -> bool {
        let job = self
            .inner()
            .crons
            .snapshot()
            .into_iter()
            .find(|j| j.id == id);
        match job {
            Some(j) => {
                tokio::spawn((j.run)(self.clone()));
                true
            }
            None => false,
        }
    }

    /// Adds the app's own job `id` (replacing one of that id), run at `expression` (PocketBase's
    /// cron syntax, UTC) once per due minute for the cluster; `Err` says why the expression
    /// does not parse.
    pub fn add_cron_job<F, Fut>(&self, id: &str, expression: &str, f: F) -> Result<(), String>
    where
        F: Fn(App) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.inner().crons.add(id, expression, run(f))
    }

    /// Removes job `id` (the app's own or a system one).
    pub fn remove_cron_job(&self, id: &str) {
        self.inner().crons.remove(id);
    }

    /// Registers PocketBase's system jobs (at open).
    pub(crate) fn register_system_crons(&self) {
        let crons = &self.inner().crons;
        let jobs: [(&str, &str, jobs::Run<App>); 4] = [
            (
                "__pbDBOptimize__",
                "0 0 * * *",
                run(|app: App| async move {
                    for db in [app.db().clone(), app.aux_db().clone()] {
                        match tokio::task::spawn_blocking(move || db.optimize()).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::warn!(error = %e, "cannot optimize a database"),
                            Err(e) => tracing::warn!(error = %e, "cannot optimize a database"),
                        }
                    }
                }),
            ),
            (
                "__pbMFACleanup__",
                "0 * * * *",
                run(|app: App| async move {
                    if let Err(e) = app.delete_expired(OneTime::Mfas).await {
                        tracing::warn!(error = %e, "cannot delete expired MFA sessions");
                    }
                }),
            ),
            (
                "__pbOTPCleanup__",
                "0 * * * *",
                run(|app: App| async move {
                    if let Err(e) = app.delete_expired(OneTime::Otps).await {
                        tracing::warn!(error = %e, "cannot delete expired OTPs");
                    }
                }),
            ),
            (
                "__pbLogsCleanup__",
                "0 */6 * * *",
                run(|app: App| async move {
                    if let Err(e) = app.delete_old_logs().await {
                        tracing::warn!(error = %e, "cannot delete old logs");
                    }
                }),
            ),
        ];
        for (id, expr, job) in jobs {
            if let Err(e) = crons.add(id, expr, job) {
                tracing::error!(error = %e, id, "a system cron job does not parse");
            }
        }
    }

    /// Starts the ticker that runs the due jobs at every minute (the server calls it once).
    pub fn start_crons(&self) {
        let weak = self.downgrade();
        tokio::spawn(async move {
            loop {
                let now = crate::datetime::now_ms();
                let minute = (now / 60_000 + 1) * 60_000;
                tokio::time::sleep(Duration::from_millis((minute - now) as u64)).await;
                let Some(app) = weak.upgrade().filter(|a| !a.is_closed()) else {
                    break;
                };
                for job in app.inner().crons.snapshot() {
                    if job.schedule.is_due(minute) && app.claim_cron_run(&job.id, minute).await {
                        tokio::spawn((job.run)(app.clone()));
                    }
                }
            }
        });
    }

    /// Whether this node runs job `id`'s run of `minute`: always when alone; on a shared
    /// database, when it claims the run first.
    async fn claim_cron_run(&self, id: &str, minute: i64) -> bool {
        if self.db().shared().is_none() {
            return true;
        }
        let db = self.db().clone();
        let name = format!("cron:{id}");
        let claimed = tokio::task::spawn_blocking(move || {
            db.shared()
                .map(|s| s.claim_run(&name, minute, 60_000))
                .unwrap_or(Ok(true))
        })
        .await;
        match claimed {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, job = id, "cannot claim a cron run");
                false
            }
            Err(_) => false,
        }
    }
}
