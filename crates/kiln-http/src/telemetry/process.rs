//! The process' own gauges (Prometheus' standard `process_*` names), read from `/proc` when the
//! metrics are scraped; on systems without `/proc` they are left out.

/// Gives the recorder the process metrics' help texts.
pub(super) fn describe() {
    use metrics::{describe_counter, describe_gauge, Unit};
    describe_gauge!(
        "process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory size in bytes."
    );
    describe_gauge!(
        "process_virtual_memory_bytes",
        Unit::Bytes,
        "Virtual memory size in bytes."
    );
    describe_gauge!("process_open_fds", "Number of open file descriptors.");
    describe_counter!(
        "process_cpu_seconds_total",
        Unit::Seconds,
        "Total user and system CPU time spent in seconds."
    );
}

/// Reads the process' memory, CPU time and open files into their gauges.
pub(super) fn sample() {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for (key, metric) in [
            ("VmRSS:", "process_resident_memory_bytes"),
            ("VmSize:", "process_virtual_memory_bytes"),
        ] {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            {
                metrics::gauge!(metric).set(kib * 1024.0);
            }
        }
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // after the command name in parentheses: state is field 3, utime and stime 14 and 15,
        // in clock ticks (100 a second on Linux)
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
            if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
                metrics::counter!("process_cpu_seconds_total").absolute((user + system) / 100);
            }
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        metrics::gauge!("process_open_fds").set(fds.count() as f64);
    }
}
