//! The database's metrics, recorded through the `metrics` facade (a no-op until the binary
//! installs a recorder): how long reads and writes take, how many writes wait, and how many
//! writes share a commit on SQLite.

use std::time::Instant;

/// Seconds a read closure held its connection.
pub const READ_SECONDS: &str = "kiln_db_read_duration_seconds";
/// Seconds from a write's submission to its commit (waiting for the writer included).
pub const WRITE_SECONDS: &str = "kiln_db_write_duration_seconds";
/// Writes submitted and not yet committed or rolled back.
pub const WRITES_WAITING: &str = "kiln_db_writes_waiting";
/// Writes committed together by SQLite's writer (group commit).
pub const GROUP_COMMIT_SIZE: &str = "kiln_db_group_commit_size";

/// Gives the installed recorder the metrics' help texts.
pub fn describe() {
    use metrics::{describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        READ_SECONDS,
        Unit::Seconds,
        "Time a read held its database connection."
    );
    describe_histogram!(
        WRITE_SECONDS,
        Unit::Seconds,
        "Time from a write's submission to its commit, waiting for the writer included."
    );
    describe_gauge!(
        WRITES_WAITING,
        "Write transactions submitted and not yet committed or rolled back."
    );
    describe_histogram!(
        GROUP_COMMIT_SIZE,
        "Writes committed together by SQLite's writer thread (group commit)."
    );
}

/// The handles, made at the first use (the binary installs its recorder before it opens a
/// database): a sample is then an atomic operation, not a registry lookup.
struct Handles {
    read: metrics::Histogram,
    write: metrics::Histogram,
    waiting: metrics::Gauge,
    group: metrics::Histogram,
}

fn handles() -> &'static Handles {
    static HANDLES: std::sync::OnceLock<Handles> = std::sync::OnceLock::new();
    HANDLES.get_or_init(|| Handles {
        read: metrics::histogram!(READ_SECONDS),
        write: metrics::histogram!(WRITE_SECONDS),
        waiting: metrics::gauge!(WRITES_WAITING),
        group: metrics::histogram!(GROUP_COMMIT_SIZE),
    })
}

/// Records how long a read took.
pub(crate) fn read_took(started: Instant) {
    handles().read.record(started.elapsed().as_secs_f64());
}

/// Records how many writes one commit held.
pub(crate) fn group_committed(writes: usize) {
    handles().group.record(writes as f64);
}

/// Times one write while it is pending; counted as waiting until dropped (a cancelled write
/// too).
pub(crate) struct WriteTimer(Instant);

impl WriteTimer {
    pub(crate) fn start() -> WriteTimer {
        handles().waiting.increment(1.0);
        WriteTimer(Instant::now())
    }
}

impl Drop for WriteTimer {
    fn drop(&mut self) {
        let h = handles();
        h.waiting.decrement(1.0);
        h.write.record(self.0.elapsed().as_secs_f64());
    }
}
