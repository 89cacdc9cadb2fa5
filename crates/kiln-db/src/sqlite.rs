//! SQLite: one read-write connection (used at once when idle, else by the writer thread's group
//! commits), a pool of read-only connections.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use rusqlite::{Connection, OpenFlags};

use crate::counts::{Counts, NumberRange};
use crate::{Conn, DbError};

/// Tuning of the SQLite connections.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Idle read-only connections kept open; more are opened under load and closed after.
    pub max_idle_readers: usize,
    /// How long a statement waits for a lock before failing with [`DbError::Busy`].
    pub busy_timeout_ms: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            max_idle_readers: 8,
            busy_timeout_ms: 10_000,
        }
    }
}

/// Sends a job's reply once the transaction it ran in has committed (`None`) or failed.
type Finish = Box<dyn FnOnce(Option<DbError>) + Send>;
/// A write closure, run on the writer thread in the [`Scope`] it is given (a build of kept counts
/// always runs in the transaction itself). Besides its reply, whether it failed as the whole
/// transaction: then the writer rolls the transaction back instead of committing it.
type Job = Box<dyn FnOnce(&Connection, &Counts, Scope) -> (Finish, bool) + Send>;

/// Where a job's statements run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In a savepoint of its own: others share the transaction, and a failure undoes only it.
    Savepoint,
    /// As the whole transaction, alone in it: no savepoint to open and release, and no copy of
    /// each page it changes kept to roll the savepoint back (most writes when few arrive at once,
    /// and every batch of the request log).
    Whole,
}

/// How long the idle writer waits before it looks whether another connection changed the file
/// (for the counts it keeps).
const IDLE_LOOK: std::time::Duration = std::time::Duration::from_secs(1);

/// Jobs committed together at most (group commit).
const MAX_GROUP: usize = 64;

/// How long the connection must have been idle for a write to run at once on the thread that
/// asks for it. Writes that come closer together go to the writer thread, whose group commits
/// share one COMMIT between the writes waiting (run at once, each would commit alone: closed-loop
/// creates from 8 connections cost 25 % more CPU).
const QUIET_MICROS: u64 = 1_000;

struct Inner {
    path: PathBuf,
    writer: Arc<Writer>,
    readers: Mutex<Vec<Connection>>,
    opts: SqliteOptions,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    counts: Arc<Counts>,
}

/// The one read-write connection and the jobs waiting for it.
///
/// A write that comes after a pause (nothing queued or running for [`QUIET_MICROS`]) runs at once
/// on the thread that asks for it (a request's, the request log's): no hop to the writer thread
/// and back, which on an otherwise idle server costs a tenth or more of an isolated create's CPU
/// (three context switches, each thread's caches cold). Writes that come closer together queue, and the writer
/// thread commits them in groups: its channel spins and yields a little before it sleeps, so on
/// a busy core the writes waiting gather behind the running group.
struct Writer {
    /// Held by whoever runs jobs: the writer thread for a group, or a caller running its own.
    conn: Mutex<Connection>,
    /// The writer thread's queue; `None` once closed.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Jobs queued or running on the writer thread: a job runs at once only when none waits
    /// before it.
    pending: AtomicUsize,
    /// When the connection was last given back, in microseconds since `epoch`.
    released: AtomicU64,
    epoch: Instant,
}

/// A SQLite database handle; cheap to clone.
#[derive(Clone)]
pub(crate) struct SqliteDb {
    inner: Arc<Inner>,
}

/// The tables of the SQLite database file at `path`, after SQLite's quick integrity check; an
/// error for a file that is not a sound database. Opens it read-only (a backup being checked).
pub fn sqlite_tables(path: &Path) -> Result<Vec<String>, DbError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| DbError::Open(format!("{}: {e}", path.display())))?;
    let check: String = c.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(DbError::Corrupt(check));
    }
    let mut stmt = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

impl SqliteDb {
    /// Opens (creating if needed) the SQLite database at `path` in WAL mode and starts its writer
    /// thread. Fails with [`DbError::Open`] for an unwritable location and [`DbError::Corrupt`]
    /// for a file that is not a database.
    pub(crate) fn open(path: &Path, opts: SqliteOptions) -> Result<SqliteDb, DbError> {
        let writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| DbError::Open(format!("{}: {e}", path.display())))?;
        writer.busy_timeout(std::time::Duration::from_millis(
            opts.busy_timeout_ms as u64,
        ))?;
        // The first statement touches the file header: a non-database fails here, clearly.
        writer
            .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(DbError::from)?;
        writer.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -16000;
             PRAGMA journal_size_limit = 200000000;
             PRAGMA wal_autocheckpoint = 4000;",
        )?;
        // Checkpoints every 4,000 WAL pages (16 MB) rather than SQLite's 1,000: a page written
        // again and again between two checkpoints is copied back once, and the fsyncs are a
        // quarter as many. A create costs ~10 % less CPU (docs/BENCHMARKS.md); the WAL still
        // fits the first block of its index (4,062 frames), which every read looks pages up in.
        writer.set_prepared_statement_cache_capacity(128);
        stable_plans(&writer)?;
        let counts = Arc::new(Counts::default());
        let hook_counts = counts.clone();
        writer.update_hook(Some(move |_, _: &str, table: &str, rowid| {
            hook_counts.touch(table, rowid)
        }));
        let auth_counts = counts.clone();
        writer.authorizer(Some(move |ctx: rusqlite::hooks::AuthContext<'_>| {
            use rusqlite::hooks::AuthAction as A;
            match ctx.action {
                A::Select
                | A::Read { .. }
                | A::Insert { .. }
                | A::Update { .. }
                | A::Delete { .. }
                | A::Transaction { .. }
                | A::Savepoint { .. }
                | A::Function { .. }
                | A::Recursive
                | A::Pragma { .. } => {}
                _ => auth_counts.schema_statement(),
            }
            rusqlite::hooks::Authorization::Allow
        }));
        let (tx, rx) = mpsc::channel::<Job>();
        let writer = Arc::new(Writer {
            conn: Mutex::new(writer),
            jobs: Mutex::new(Some(tx)),
            pending: AtomicUsize::new(0),
            released: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        let (thread_writer, thread_counts) = (writer.clone(), counts.clone());
        let handle = std::thread::Builder::new()
            .name("kiln-sqlite-writer".into())
            .spawn(move || thread_writer.run_queued(rx, &thread_counts))
            .map_err(|e| DbError::Open(format!("cannot start the writer thread: {e}")))?;

        Ok(SqliteDb {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer,
                readers: Mutex::new(Vec::new()),
                opts,
                thread: Mutex::new(Some(handle)),
                counts,
            }),
        })
    }

    /// Path of the database file.
    pub(crate) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// A read-write connection of its own, outside the writer's transactions: for statements
    /// that cannot run inside one (VACUUM).
    fn open_maintenance(&self) -> Result<Connection, DbError> {
        let c = Connection::open_with_flags(
            &self.inner.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(std::time::Duration::from_millis(
            self.inner.opts.busy_timeout_ms as u64,
        ))?;
        Ok(c)
    }

    /// Rebuilds the file, giving the space of deleted rows back to the system.
    pub(crate) fn vacuum(&self) -> Result<(), DbError> {
        let _renumbering = self.inner.counts.suspend();
        self.open_maintenance()?.execute_batch("VACUUM")?;
        Ok(())
    }

    /// Checkpoints the write-ahead log into the database file (truncating it) and lets SQLite
    /// refresh its query planner statistics (PocketBase's nightly `__pbDBOptimize__`).
    pub(crate) fn optimize(&self) -> Result<(), DbError> {
        let c = self.open_maintenance()?;
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        c.execute_batch("PRAGMA optimize")?;
        Ok(())
    }

    /// Writes a consistent copy of the database, as of one instant, to the new file `target`
    /// while writes go on (`VACUUM INTO`).
    pub(crate) fn snapshot_to(&self, target: &Path) -> Result<(), DbError> {
        let target = target
            .to_str()
            .ok_or_else(|| DbError::Query("the snapshot path is not UTF-8".into()))?;
        self.open_maintenance()?
            .execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    fn open_reader(&self) -> Result<Connection, DbError> {
        let c = Connection::open_with_flags(
            &self.inner.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(std::time::Duration::from_millis(
            self.inner.opts.busy_timeout_ms as u64,
        ))?;
        // No memory-mapped reads: a reader that starts after any commit drops its mapping of the
        // whole file and faults it back page by page, a cost that grows with the file (a soak of
        // reads and 15 % creates lost a quarter of its pace as its table grew to a million rows);
        // its page cache, reset alike, is refilled with a read per page. Read-only loads measure
        // the same either way (docs/BENCHMARKS.md, "Readers without mmap").
        c.execute_batch(
            "PRAGMA query_only = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000;",
        )?;
        c.set_prepared_statement_cache_capacity(128);
        stable_plans(&c)?;
        Ok(c)
    }

    /// Runs `f` on a read-only connection, inline on the calling thread. It sees every write
    /// committed before it started.
    pub(crate) fn read<R, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Conn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let result = f(&Conn::sqlite(&conn));
        let mut pool = self.inner.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < self.inner.opts.max_idle_readers && conn.is_autocommit() {
            pool.push(conn);
        }
        result
    }

    /// The rows of `table` whose number `column` lies in `range` (every row for `None`), when
    /// counts for it are kept in memory (see `counts.rs`); `None` otherwise — the first such
    /// call asks the writer to start keeping them.
    pub(crate) fn count(
        &self,
        table: &str,
        column: Option<&str>,
        range: &NumberRange,
    ) -> Option<i64> {
        let (n, build) = self.inner.counts.count(table, column, range);
        if build {
            let (t, c) = (table.to_owned(), column.map(str::to_owned));
            let job: Job = Box::new(move |conn: &Connection, counts: &Counts, _| {
                counts.build(conn, &t, c.as_deref());
                (Box::new(|_| ()) as Finish, false)
            });
            if self.inner.writer.queue(job).is_err() {
                self.inner.counts.not_built(table, column);
            }
        }
        n
    }

    fn submit(&self, job: Job) -> Result<(), DbError> {
        self.inner.writer.run_or_queue(job, &self.inner.counts)
    }

    /// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`: at once on this thread after a pause in writes
    /// (if `at_once`), else on the writer thread, in a group commit with the writes queued beside
    /// it. An `Err` (or a panic) rolls everything of it back. When this returns `Ok`, the
    /// transaction is committed to the WAL and survives a crash of the process.
    pub(crate) async fn write<R, E, F>(&self, f: F, at_once: bool) -> Result<R, E>
    where
        F: FnOnce(&Conn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = job(f, move |r| {
            let _ = tx.send(r);
        });
        if at_once {
            self.submit(job)?;
        } else {
            self.inner.writer.queue(job)?;
        }
        rx.await.map_err(|_| DbError::Closed)?
    }

    /// [`Db::write`] for synchronous callers (CLI commands, start-up migrations).
    pub(crate) fn write_blocking<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Conn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(job(f, move |r| {
            let _ = tx.send(r);
        }))?;
        rx.recv().map_err(|_| DbError::Closed)?
    }

    /// Stops the writer after the queued writes and checkpoints the WAL. Later writes fail with
    /// [`DbError::Closed`].
    pub(crate) fn close(&self) {
        self.inner.writer.close();
        self.inner
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        if let Some(h) = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = h.join();
        }
    }
}

impl Writer {
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Runs `job` at once on this thread after a pause in writes, else queues it for the writer
    /// thread. Fails once the database is closed.
    fn run_or_queue(&self, job: Job, counts: &Counts) -> Result<(), DbError> {
        let quiet = || {
            self.pending.load(Ordering::Acquire) == 0
                && self.now() >= self.released.load(Ordering::Relaxed) + QUIET_MICROS
        };
        if quiet() {
            if let Ok(conn) = self.conn.try_lock() {
                // looked at again under the lock: a job queued meanwhile goes first
                if quiet() && !self.closed() {
                    run_group(&conn, counts, vec![job]);
                    self.released.store(self.now(), Ordering::Relaxed);
                    return Ok(());
                }
            }
        }
        self.queue(job)
    }

    fn closed(&self) -> bool {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Queues `job` for the writer thread. Fails once the database is closed.
    fn queue(&self, job: Job) -> Result<(), DbError> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let tx = jobs.as_ref().ok_or(DbError::Closed)?;
        self.pending.fetch_add(1, Ordering::AcqRel);
        tx.send(job).map_err(|_| {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            DbError::Closed
        })
    }

    /// Stops taking jobs; the writer thread ends once the queued ones are committed.
    fn close(&self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// The writer thread: commits the queued jobs in groups until the database is closed, then
    /// checkpoints the WAL. Idle, it looks once a second whether another connection changed the
    /// file (for the counts it keeps).
    fn run_queued(&self, rx: mpsc::Receiver<Job>, counts: &Counts) {
        loop {
            let first = match rx.recv_timeout(IDLE_LOOK) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    counts.look_for_other_writers(&self.conn());
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            let n = jobs.len();
            run_group(&self.conn(), counts, jobs);
            self.released.store(self.now(), Ordering::Relaxed);
            self.pending.fetch_sub(n, Ordering::AcqRel);
        }
        let _ = self
            .conn()
            .execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);");
    }
}

/// Runs `jobs` in one transaction (group commit): the jobs share it, each inside its own
/// savepoint, or a lone job as the whole of it; every reply waits for the one COMMIT.
fn run_group(writer: &Connection, counts: &Counts, jobs: Vec<Job>) {
    crate::metrics::group_committed(jobs.len());
    // Should the shared transaction not start (the file is locked beyond the busy timeout), each
    // job's outermost savepoint is a transaction of its own.
    let grouped = control(writer, "BEGIN IMMEDIATE").is_ok();
    let scope = if grouped && jobs.len() == 1 {
        Scope::Whole
    } else {
        Scope::Savepoint
    };
    let mut failed = false;
    let finishes: Vec<Finish> = jobs
        .into_iter()
        .map(|job| {
            let (finish, fail) = job(writer, counts, scope);
            failed |= fail;
            finish
        })
        .collect();
    let outcome = if failed {
        // the lone job failed: nothing of it is kept, as its savepoint would have ensured; below,
        // the rows it touched are read again as they stand
        control(writer, "ROLLBACK").map_err(DbError::from).err()
    } else if grouped {
        control(writer, "COMMIT").map_err(DbError::from).err()
    } else {
        None
    };
    if outcome.is_some() {
        let _ = writer.execute_batch("ROLLBACK");
        counts.forget();
    } else {
        // before any write of the group is answered
        counts.committed(writer);
    }
    for finish in finishes {
        finish(
            outcome
                .as_ref()
                .map(|e| DbError::Query(format!("commit failed: {e}"))),
        );
    }
}

/// Runs a transaction-control statement from the statement cache (`execute_batch` would parse it
/// on every write).
fn control(c: &Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Wraps `f` as a job: on `Err` or panic everything it did is undone — its savepoint rolled back
/// without touching the other jobs of the transaction, or, alone in it, the whole transaction —
/// and `reply` gets its result after the COMMIT, or the commit's error, since then nothing was
/// stored.
fn job<R, E, F>(f: F, reply: impl FnOnce(Result<R, E>) + Send + 'static) -> Job
where
    F: FnOnce(&Conn<'_>) -> Result<R, E> + Send + 'static,
    R: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    Box::new(move |c: &Connection, counts: &Counts, scope: Scope| {
        let savepoint = scope == Scope::Savepoint;
        if savepoint {
            if let Err(e) = control(c, "SAVEPOINT kiln_job") {
                let e = DbError::from(e);
                return (Box::new(move |_| reply(Err(e.into()))) as Finish, false);
            }
        }
        let undo = || {
            if savepoint {
                let _ = c.execute_batch("ROLLBACK TO kiln_job; RELEASE kiln_job");
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&Conn::sqlite_writer(c, counts))));
        match outcome {
            Ok(Ok(r)) => {
                if savepoint {
                    if let Err(e) = control(c, "RELEASE kiln_job") {
                        let e = DbError::from(e);
                        undo();
                        return (Box::new(move |_| reply(Err(e.into()))) as Finish, false);
                    }
                }
                let finish: Finish = Box::new(move |commit_error| match commit_error {
                    None => reply(Ok(r)),
                    Some(e) => reply(Err(e.into())),
                });
                (finish, false)
            }
            Ok(Err(e)) => {
                undo();
                (Box::new(move |_| reply(Err(e))) as Finish, !savepoint)
            }
            Err(_) => {
                undo();
                let finish: Finish = Box::new(move |_| {
                    reply(Err(DbError::Query(
                        "a write transaction panicked and was rolled back".into(),
                    )
                    .into()))
                });
                (finish, !savepoint)
            }
        }
    })
}

/// Turns on SQLite's query planner stability guarantee: a cached statement keeps its plan whatever
/// values are bound. Without it SQLite looks at bound values while planning (the LIMIT and OFFSET
/// of a page, a range bound with STAT4 data) and prepares the statement again on its next step
/// whenever one of those values changes: every page of a list paid a full parse and plan, about a
/// fifth of its instructions (bench/callgrind.sh list_skiptotal).
fn stable_plans(c: &Connection) -> Result<(), DbError> {
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}
