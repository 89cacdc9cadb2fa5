//! Latency summaries (exact, from every sample) and the /proc readings the reports need.

use std::fs;

/// Percentiles of a set of latencies in nanoseconds, by the nearest-rank method: the p-th
/// percentile is the smallest sample such that at least p % of the samples are ≤ it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub count: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: u64,
}

/// Nearest-rank percentile of an ascending slice; 0 for an empty one.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts the samples in place and summarises them.
pub fn summarize(samples: &mut [u64]) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    samples.sort_unstable();
    let sum: u128 = samples.iter().map(|&v| v as u128).sum();
    Summary {
        count: samples.len(),
        p50: percentile(samples, 50.0),
        p90: percentile(samples, 90.0),
        p99: percentile(samples, 99.0),
        max: *samples.last().unwrap(),
        mean: (sum / samples.len() as u128) as u64,
    }
}

/// Linux reports utime/stime in USER_HZ ticks, which the kernel ABI fixes at 100 per second.
pub const TICKS_PER_SEC: u64 = 100;

/// (utime, stime) in ticks from the text of `/proc/PID/stat`; the command name may contain spaces
/// and parentheses, so fields are counted from the last `)`.
pub fn parse_stat_ticks(stat: &str) -> Option<(u64, u64)> {
    let after = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // After ")": state(0) ppid(1) … utime is field 14 of the whole line → index 11 here, stime 12.
    Some((
        f.get(11)?.parse::<u64>().ok()?,
        f.get(12)?.parse::<u64>().ok()?,
    ))
}

/// CPU time of a process in microseconds: (user, system).
pub fn cpu_split_us(pid: &str) -> Option<(u64, u64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_ticks(&s)
        .map(|(u, k)| (u * 1_000_000 / TICKS_PER_SEC, k * 1_000_000 / TICKS_PER_SEC))
}

/// CPU time (user, system) of a process's threads named `name`, in microseconds; `None` when it
/// has none (PocketBase, or a Kiln that never started its realtime dispatcher).
pub fn thread_cpu_split_us(pid: &str, name: &str) -> Option<(u64, u64)> {
    let mut total = None;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let dir = task.path();
        let named = fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.trim_end() == name);
        if !named {
            continue;
        }
        if let Some((u, k)) = fs::read_to_string(dir.join("stat"))
            .ok()
            .and_then(|s| parse_stat_ticks(&s))
        {
            let (tu, tk) = total.unwrap_or((0, 0));
            total = Some((
                tu + u * 1_000_000 / TICKS_PER_SEC,
                tk + k * 1_000_000 / TICKS_PER_SEC,
            ));
        }
    }
    total
}

/// CPU time (user + system) of a process, in microseconds.
pub fn cpu_us(pid: &str) -> Option<u64> {
    cpu_split_us(pid).map(|(u, k)| u + k)
}

/// A `kB` field (`VmRSS`, `VmHWM`, …) from the text of `/proc/PID/status`.
pub fn parse_status_kb(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

pub fn status_kb(pid: &str, key: &str) -> Option<u64> {
    parse_status_kb(
        &fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        key,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 99.5), 100);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        // Ten samples: p50 is the 5th, p90 the 9th, p99 the 10th.
        let v: Vec<u64> = (10..=100).step_by(10).collect();
        assert_eq!(
            (
                percentile(&v, 50.0),
                percentile(&v, 90.0),
                percentile(&v, 99.0)
            ),
            (50, 90, 100)
        );
    }

    #[test]
    fn summary_sorts_and_averages() {
        let mut v = vec![5, 1, 4, 2, 3];
        let s = summarize(&mut v);
        assert_eq!(v, [1, 2, 3, 4, 5]);
        assert_eq!(
            s,
            Summary {
                count: 5,
                p50: 3,
                p90: 5,
                p99: 5,
                max: 5,
                mean: 3
            }
        );
        assert_eq!(summarize(&mut []), Summary::default());
    }

    #[test]
    fn proc_stat() {
        let line =
            "1234 (tokio (rt) x) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 37 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat_ticks(line), Some((250, 37)));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn proc_status() {
        let s = "Name:\tkiln\nVmHWM:\t   12345 kB\nVmRSS:\t    9000 kB\n";
        assert_eq!(parse_status_kb(s, "VmRSS"), Some(9000));
        assert_eq!(parse_status_kb(s, "VmHWM"), Some(12345));
        assert_eq!(parse_status_kb(s, "VmSwap"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let me = std::process::id().to_string();
        assert!(cpu_us(&me).is_some());
        assert!(status_kb(&me, "VmRSS").unwrap() > 0);
    }
}
