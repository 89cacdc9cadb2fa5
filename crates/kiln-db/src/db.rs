//! [`Db`]: the one database handle of an app, whichever engine is behind it.

use std::path::Path;

use crate::metrics::WriteTimer;
use crate::pg::shared::Shared;
use crate::pg::{Notice, PgDb, PgOptions};
use crate::sqlite::{SqliteDb, SqliteOptions};
use crate::{Conn, DbError, Dialect};

/// A database handle; cheap to clone, shared by the whole app.
#[derive(Clone)]
pub struct Db {
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Db {
    /// Opens (creating if needed) the SQLite database at `path` in WAL mode and starts its writer
    /// thread. Fails with [`DbError::Open`] for an unwritable location and [`DbError::Corrupt`]
    /// for a file that is not a database.
    pub fn open_sqlite(path: &Path, opts: SqliteOptions) -> Result<Db, DbError> {
        Ok(Db {
            engine: Engine::Sqlite(SqliteDb::open(path, opts)?),
        })
    }

    /// Connects to PostgreSQL, creating the schema in `opts` if needed and installing Kiln's SQL
    /// functions. Fails with [`DbError::Open`] for a refused login or an unknown database and
    /// [`DbError::Unavailable`] when the server cannot be reached.
    pub fn open_postgres(opts: &PgOptions) -> Result<Db, DbError> {
        Ok(Db {
            engine: Engine::Postgres(PgDb::open(opts)?),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.engine {
            Engine::Sqlite(_) => Dialect::Sqlite,
            Engine::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Path of the SQLite database file (`None` on PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        match &self.engine {
            Engine::Sqlite(db) => Some(db.path()),
            Engine::Postgres(_) => None,
        }
    }

    /// Runs `f` on a read-only connection (SQLite: inline on the calling thread; PostgreSQL: a
    /// pooled connection, without holding up the async runtime). It sees every write committed
    /// before it started.
    pub fn read<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Conn<'_>) -> Result<R, E> + Send,
        R: Send,
        E: From<DbError> + Send,
    {
        let started = std::time::Instant::now();
        // a span for traces (disabled, so nearly free, unless the binary exports them)
        let _span =
            tracing::debug_span!(target: "kiln::trace", "db.read", db.system = self.system())
                .entered();
        let r = match &self.engine {
            Engine::Sqlite(db) => db.read(f),
            Engine::Postgres(db) => crate::blocking::run(|| db.read(f)),
        };
        crate::metrics::read_took(started);
        r
    }

    /// Runs `f` inside a transaction: an `Err` (or a panic) rolls everything back. When this
    /// returns `Ok`, the transaction is committed and survives a crash of the process. On SQLite
    /// writes are serialised on one connection: a write after a pause runs at once on the calling
    /// thread, writes closer together on the writer thread, committed in groups. On PostgreSQL
    /// they run concurrently on pooled connections. For a write that may take long, see
    /// [`Db::write_long`].
    pub async fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Conn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.write_on(f, true).await
    }

    /// [`Db::write`] for a write that may take long (a schema change rebuilding a table, a bulk
    /// delete, a superuser's raw SQL): on SQLite always on the writer thread, so that it never
    /// holds the caller's thread — an async runtime's worker — for its length.
    pub async fn write_long<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Conn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.write_on(f, false).await
    }

    async fn write_on<R, E, F>(&self, f: F, at_once: bool) -> Result<R, E>
    where
        F: FnOnce(&Conn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        use tracing::Instrument;
        let _timer = WriteTimer::start();
        let span =
            tracing::debug_span!(target: "kiln::trace", "db.write", db.system = self.system());
        match &self.engine {
            Engine::Sqlite(db) => db.write(f, at_once).instrument(span).await,
            Engine::Postgres(db) => {
                let db = db.clone();
                let run = tokio::task::spawn_blocking(move || db.transaction(f));
                match run.instrument(span).await {
                    Ok(r) => r,
                    Err(_) => Err(DbError::Query(
                        "a write transaction panicked and was rolled back".into(),
                    )
                    .into()),
                }
            }
        }
    }

    /// How many rows of `table` have their number `column` in `range` (every row for `None`),
    /// answered from memory in O(log n) when SQLite's counts for it are kept; `None` when the
    /// caller must count with SQL — on PostgreSQL always, on SQLite until the writer has read the
    /// column once (the first call asks it to). Exact: see `counts.rs` for how it stays so.
    pub fn count(
        &self,
        table: &str,
        column: Option<&str>,
        range: &crate::NumberRange,
    ) -> Option<i64> {
        match &self.engine {
            Engine::Sqlite(db) => db.count(table, column, range),
            Engine::Postgres(_) => None,
        }
    }

    /// The engine's name in OpenTelemetry's terms (`db.system`).
    fn system(&self) -> &'static str {
        match &self.engine {
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgresql",
        }
    }

    /// [`Db::write`] for synchronous callers (CLI commands, start-up migrations).
    pub fn write_blocking<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Conn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let _timer = WriteTimer::start();
        match &self.engine {
            Engine::Sqlite(db) => db.write_blocking(f),
            Engine::Postgres(db) => crate::blocking::run(|| db.transaction(f)),
        }
    }

    /// SQLite: rebuilds the file to give the space of deleted rows back (blocking; call it off
    /// the async threads). PostgreSQL: nothing (its autovacuum does this).
    pub fn vacuum(&self) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.vacuum(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// SQLite: checkpoints the write-ahead log and refreshes the planner's statistics
    /// (blocking). PostgreSQL: nothing (autovacuum and autoanalyze do this).
    pub fn optimize(&self) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.optimize(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// SQLite: writes a consistent copy of the database as of one instant to the new file
    /// `target` while reads and writes go on (blocking). PostgreSQL has no file to copy:
    /// [`DbError::Query`].
    pub fn snapshot_to(&self, target: &Path) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(db) => db.snapshot_to(target),
            Engine::Postgres(_) => Err(DbError::Query(
                "a PostgreSQL database has no file to snapshot".into(),
            )),
        }
    }

    /// Whether other processes may share this database (PostgreSQL): then caches must follow
    /// their changes, and cluster-wide work must be coordinated.
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// What the processes sharing this database have in common, apart from other apps on the
    /// same server (`<database>.<schema>` on PostgreSQL): names for messages between them.
    /// `None` on SQLite.
    pub fn scope(&self) -> Option<&str> {
        match &self.engine {
            Engine::Sqlite(_) => None,
            Engine::Postgres(db) => Some(db.scope()),
        }
    }

    /// Sends `payload` on `channel` to every process listening on this database, without
    /// waiting (messages from one process arrive in order). Nothing on SQLite.
    pub fn notify(&self, channel: &str, payload: &str) {
        if let Engine::Postgres(db) = &self.engine {
            db.notify(channel, payload);
        }
    }

    /// Calls `on`, on a thread of its own, for every message sent on `channels` by any process
    /// (this one included), and after a lost connection came back. Nothing on SQLite. Fails if
    /// the database cannot be reached.
    pub fn listen(
        &self,
        channels: &[&str],
        on: impl Fn(Notice<'_>) + Send + 'static,
    ) -> Result<(), DbError> {
        match &self.engine {
            Engine::Sqlite(_) => Ok(()),
            Engine::Postgres(db) => db.listen(channels, Box::new(on)),
        }
    }

    /// The state shared by every process on this database (rate limit windows, single-use
    /// keys, periodic runs): `None` on SQLite, where one process keeps it in memory.
    pub fn shared(&self) -> Option<Shared<'_>> {
        match &self.engine {
            Engine::Sqlite(_) => None,
            Engine::Postgres(db) => Some(Shared { db }),
        }
    }

    /// Tells the handle that another process changed the schema: statements prepared against
    /// the old one are dropped. (SQLite notices by itself.)
    pub fn schema_changed_elsewhere(&self) {
        if let Engine::Postgres(db) = &self.engine {
            db.schema_changed();
        }
    }

    /// Finishes the queued writes and closes the connections. On SQLite later writes fail with
    /// [`DbError::Closed`]; on PostgreSQL later calls open new connections.
    pub fn close(&self) {
        match &self.engine {
            Engine::Sqlite(db) => db.close(),
            Engine::Postgres(db) => db.close(),
        }
    }
}
