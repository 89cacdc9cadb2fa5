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
        render: Arc::new(move || {
            let mut text = handle.render();
            process(&mut text);
            text
        }),
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

/// Appends the process' own metrics (Prometheus' standard `process_*` names), read from `/proc`
/// at each scrape; on systems without `/proc` they are left out.
fn process(out: &mut String) {
    use std::fmt::Write;
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = write!(
            out,
            "\n# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    };
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        };
        if let Some(v) = kib("VmRSS:") {
            metric(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
                v * 1024.0,
            );
        }
        if let Some(v) = kib("VmSize:") {
            metric(
                "process_virtual_memory_bytes",
                "gauge",
                "Virtual memory size in bytes.",
                v * 1024.0,
            );
        }
    }
    // after the command name in parentheses, state is field 3; utime and stime are 14 and 15, in
    // clock ticks (100 a second on Linux)
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
        if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
            metric(
                "process_cpu_seconds_total",
                "counter",
                "Total user and system CPU time spent in seconds.",
                (user + system) as f64 / 100.0,
            );
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        metric(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            fds.count() as f64,
        );
    }
}
