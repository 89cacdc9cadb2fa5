//! `jobAdd(name, handler)` and `$jobs.enqueue(name, payload, options)`: the hooks' side of the
//! job queue. As a cron job, a job handler is its function's source, evaluated afresh on
//! whichever runtime is free when a job of that name is claimed; it gets `e.job` (`id`, `name`,
//! `payload`, `attempt`), and a throw fails the run (retried while attempts remain).

use std::sync::{Arc, Weak};

use kiln_core::jobs::handlers::JobRun;
use kiln_core::App;

use crate::pool::Pool;

/// A handler the files registered.
#[derive(Debug, Clone)]
pub(crate) struct JobHandler {
    pub(crate) name: String,
    pub(crate) source: String,
}

/// Makes `handler` the app's handler of its jobs, run on `pool`.
pub(crate) fn register(app: &App, pool: &Arc<Pool>, handler: JobHandler) {
    let pool: Weak<Pool> = Arc::downgrade(pool);
    let source: Arc<str> = handler.source.into();
    app.add_job_handler(
        &handler.name,
        Arc::new(move |run: JobRun| {
            let pool = pool.clone();
            let source = source.clone();
            Box::pin(async move {
                let pool = pool.upgrade().ok_or("the hooks' runtimes have stopped")?;
                let job = serde_json::json!({
                    "id": run.id,
                    "name": run.name,
                    "payload": run.payload,
                    "attempt": run.attempt,
                })
                .to_string();
                let out = pool
                    .run(move |rt| {
                        rt.run(|ctx, w| {
                            crate::worker::call_js(ctx, w, "jobRun", (source.to_string(), job))
                        })
                    })
                    .await;
                match out {
                    Ok(Ok(e)) if e.is_empty() => Ok(()),
                    Ok(Ok(e)) => Err(e),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            })
        }),
    );
}
