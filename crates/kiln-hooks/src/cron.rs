//! `cronAdd` / `cronRemove`: the app's jobs in Kiln's cron table (listed and run by the crons
//! API, once per due minute for the cluster). As in PocketBase, a job is its function's source,
//! evaluated afresh on whichever runtime is free when it is due (so a job cannot close over the
//! variables of its file).

use std::sync::{Arc, Weak};

use kiln_core::App;

use crate::pool::Pool;

/// A job the files registered.
#[derive(Debug, Clone)]
pub(crate) struct Cron {
    pub(crate) name: String,
    pub(crate) expression: String,
    pub(crate) source: String,
}

/// Puts job `cron` in `app`'s table, run on `pool`; `Err` when the expression does not parse.
pub(crate) fn register(app: &App, pool: &Arc<Pool>, cron: Cron) -> Result<(), String> {
    let pool: Weak<Pool> = Arc::downgrade(pool);
    let name = cron.name.clone();
    let source: Arc<str> = cron.source.into();
    app.add_cron_job(&cron.name, &cron.expression, move |_| {
        let pool = pool.clone();
        let source = source.clone();
        let name = name.clone();
        async move {
            let Some(pool) = pool.upgrade() else { return };
            let out = pool
                .run(move |rt| {
                    rt.run(|ctx, w| crate::worker::call_js(ctx, w, "cronRun", (source.to_string(),)))
                })
                .await;
            match out {
                Ok(Ok(e)) if e.is_empty() => {}
                Ok(Ok(e)) => tracing::error!(target: "kiln_hooks", job = %name, "the cron job failed: {e}"),
                Ok(Err(e)) => tracing::error!(target: "kiln_hooks", job = %name, "the cron job failed: {e}"),
                Err(e) => tracing::error!(target: "kiln_hooks", job = %name, "the cron job did not run: {e}"),
            }
        }
    })
}
