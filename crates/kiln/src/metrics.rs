//! The metrics exporter behind `GET /metrics`: the Prometheus recorder every crate's `metrics`
//! calls reach, installed once per process, with histogram buckets, and drained in the
//! background (the exporter keeps each histogram's samples until it is summarised).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use kiln_http::telemetry::MetricsOptions;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::Config;

/// Buckets of every `…_seconds` histogram: 0.5 ms to 10 s.
const SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of the group-commit sizes (the writer commits at most 64 writes together).
const GROUP: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
/// How often the histograms are summarised.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder (the first time) and returns what `/metrics` needs: the renderer and
/// who may read it, from `cfg`.
pub fn install(cfg: &Config) -> Result<MetricsOptions, String> {
    let handle = match HANDLE.get() {
        Some(h) => h.clone(),
        None => {
            let h = recorder().map_err(|e| format!("cannot start the metrics: {e}"))?;
            kiln_db::metrics::describe();
            kiln_core::metrics::describe();
            kiln_http::telemetry::describe();
            let upkeep = h.clone();
            std::thread::Builder::new()
                .name("kiln-metrics".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP);
                    upkeep.run_upkeep();
                })
                .map_err(|e| format!("cannot start the metrics: {e}"))?;
            HANDLE.get_or_init(|| h).clone()
        }
    };
    Ok(MetricsOptions {
        render: Arc::new(move || handle.render()),
        token: cfg.metrics_token.clone(),
        allow: cfg.metrics_allow.clone(),
    })
}

fn recorder() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)?
        .set_buckets_for_metric(
            Matcher::Full(kiln_db::metrics::GROUP_COMMIT_SIZE.into()),
            &GROUP,
        )?
        .install_recorder()
}
