//! PostgreSQL: a pool of connections, each used by one thread at a time.
//!
//! Reads run on the calling thread (inside `block_in_place` on a multi-threaded runtime, so the
//! runtime keeps serving other tasks while this one waits on the network); writes run on the
//! runtime's blocking pool inside `BEGIN … COMMIT`. Unlike SQLite, writes run concurrently: each
//! has its own transaction, and a schema change takes an advisory lock so that nodes sharing the
//! database apply collection changes one at a time.

mod error;
mod notify;
pub(crate) mod server;
mod session;
pub(crate) mod shared;
mod shared_schema;
mod tls;
mod types;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub use notify::Notice;
pub(crate) use session::PgSession;
pub(crate) use types::value_at;

pub(crate) type PgRow = postgres::Row;

use crate::{Conn, DbError};
use error::map_err;
use server::Server;

/// Where and how to connect to PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database?…` or a `key=value` connection string.
    pub url: String,
    /// Schema holding Kiln's tables, created if missing (`None`: the server's default search
    /// path, usually `public`). Lets several apps, or test runs, share one database.
    pub schema: Option<String>,
    /// Connections kept open at most; a request waits for one when all are busy.
    pub max_connections: usize,
    /// How long to wait for a new connection before failing with [`DbError::Unavailable`].
    pub connect_timeout: Duration,
    /// How long a request waits for a busy pool to free a connection before failing with
    /// [`DbError::Unavailable`] (instead of queueing forever behind a stuck one).
    pub checkout_timeout: Duration,
    /// A connection idle this long is checked with a round trip before it is handed out (the
    /// server, a proxy or a firewall may have dropped it meanwhile).
    pub check_after_idle: Duration,
}

impl PgOptions {
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            schema: None,
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            checkout_timeout: Duration::from_secs(30),
            check_after_idle: Duration::from_secs(30),
        }
    }
}

/// The SQL functions Kiln's dialect relies on (SQLite's `strftime`), installed at open.
const FUNCTIONS: &str = include_str!("../pg_functions.sql");

struct Pool {
    /// Idle connections and when each was returned.
    idle: Vec<(PgSession, Instant)>,
    open: usize,
}

struct Inner {
    server: Server,
    max: usize,
    checkout_timeout: Duration,
    check_after_idle: Duration,
    pool: Mutex<Pool>,
    freed: Condvar,
    /// Bumped after every committed schema change: connections whose statements were prepared
    /// against an older schema drop them when next checked out.
    generation: AtomicU64,
    /// Sends messages to the other processes (started on first use).
    sender: std::sync::OnceLock<notify::Sender>,
    /// Prefix of notification channels: `<schema>.` with a schema (channels are database-wide,
    /// schemas are not), empty without.
    channel_prefix: String,
    /// `<database>.<schema>`, read at open (see [`PgDb::scope`]).
    scope: std::sync::OnceLock<String>,
}

/// A PostgreSQL database handle; cheap to clone.
#[derive(Clone)]
pub(crate) struct PgDb {
    inner: Arc<Inner>,
}

impl PgDb {
    /// Connects, creates the schema if asked, and installs Kiln's SQL functions.
    pub(crate) fn open(opts: &PgOptions) -> Result<PgDb, DbError> {
        let (url, tls) = tls::configure(&opts.url)?;
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| DbError::Open(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(opts.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("kiln");
        }
        if let Some(schema) = &opts.schema {
            if schema.is_empty()
                || !schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(DbError::Open(format!(
                    "invalid schema name {schema:?}: use letters, digits and _"
                )));
            }
            config.options(&format!("-c search_path={schema}"));
        }
        let db = PgDb {
            inner: Arc::new(Inner {
                server: Server { config, tls },
                max: opts.max_connections.max(1),
                checkout_timeout: opts.checkout_timeout,
                check_after_idle: opts.check_after_idle,
                pool: Mutex::new(Pool {
                    idle: Vec::new(),
                    open: 0,
                }),
                freed: Condvar::new(),
                generation: AtomicU64::new(0),
                sender: std::sync::OnceLock::new(),
                channel_prefix: opts
                    .schema
                    .as_ref()
                    .map(|s| format!("{s}."))
                    .unwrap_or_default(),
                scope: std::sync::OnceLock::new(),
            }),
        };
        // Schema statements take the DDL lock: nodes starting together install these one at a time.
        crate::blocking::run(|| {
            db.transaction(|conn| -> Result<(), DbError> {
                if let Some(schema) = &opts.schema {
                    conn.execute_batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
                }
                conn.execute_batch(FUNCTIONS)?;
                conn.execute_batch(notify::SCHEMA)?;
                conn.execute_batch(shared_schema::SCHEMA)
            })
        })?;
        let scope = crate::blocking::run(|| {
            db.read(|conn| {
                let sql = "SELECT current_database() || '.' || current_schema()";
                conn.query_one(sql, &[], |r| Ok(r.text(0)))
            })
        })?;
        let _ = db.inner.scope.set(scope.unwrap_or_default());
        Ok(db)
    }

    fn connect(&self) -> Result<PgSession, DbError> {
        let client = self.inner.server.connect().map_err(|e| match map_err(e) {
            DbError::Query(m) => DbError::Unavailable(m),
            other => other,
        })?;
        Ok(PgSession::new(
            client,
            self.inner.generation.load(Ordering::Acquire),
        ))
    }

    /// Takes an idle connection, opens one while under the limit, or waits for one (at most
    /// the checkout timeout).
    fn checkout(&self) -> Result<PgSession, DbError> {
        let deadline = Instant::now() + self.inner.checkout_timeout;
        let mut pool = self.inner.pool.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some((s, since)) = pool.idle.pop() {
                if s.is_closed() {
                    pool.open -= 1;
                    continue;
                }
                if since.elapsed() >= self.inner.check_after_idle {
                    // The round trip runs without the pool's lock.
                    drop(pool);
                    let alive = s.is_valid(self.inner.server.connect_timeout());
                    pool = self.inner.pool.lock().unwrap_or_else(|p| p.into_inner());
                    if !alive {
                        pool.open -= 1;
                        continue;
                    }
                }
                let current = self.inner.generation.load(Ordering::Acquire);
                if s.generation.get() != current {
                    s.clear_cache();
                    s.generation.set(current);
                }
                return Ok(s);
            }
            if pool.open < self.inner.max {
                pool.open += 1;
                drop(pool);
                return self.connect().inspect_err(|_| {
                    self.inner
                        .pool
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .open -= 1;
                    self.inner.freed.notify_one();
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DbError::Unavailable(format!(
                    "no database connection came free within {} s (all {} are busy)",
                    self.inner.checkout_timeout.as_secs(),
                    self.inner.max
                )));
            }
            pool = self
                .inner
                .freed
                .wait_timeout(pool, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Returns a connection to the pool; a broken one, or one left inside a transaction, is
    /// closed instead.
    fn checkin(&self, s: PgSession) {
        let mut pool = self.inner.pool.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_closed() || s.in_txn() {
            pool.open -= 1;
        } else {
            pool.idle.push((s, Instant::now()));
        }
        drop(pool);
        self.inner.freed.notify_one();
    }

    /// Runs `f` on a pooled connection outside a transaction; each statement sees what was
    /// committed before it started.
    pub(crate) fn read<R, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Conn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let s = self.checkout()?;
        let result = f(&Conn::pg(&s));
        if s.in_txn() {
            // a savepoint left open by a failed closure
            let _ = s.finish(false);
        }
        self.checkin(s);
        result
    }

    /// Runs `f` inside `BEGIN … COMMIT` on a pooled connection (blocking the calling thread).
    pub(crate) fn transaction<R, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Conn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let s = self.checkout()?;
        let result = match s.begin() {
            Err(e) => Err(e.into()),
            Ok(()) => {
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&Conn::pg(&s))));
                match outcome {
                    Ok(Ok(r)) => match s.finish(true) {
                        Ok(()) => Ok(r),
                        Err(e) => Err(e.into()),
                    },
                    Ok(Err(e)) => {
                        let _ = s.finish(false);
                        Err(e)
                    }
                    Err(_) => {
                        let _ = s.finish(false);
                        Err(DbError::Query(
                            "a write transaction panicked and was rolled back".into(),
                        )
                        .into())
                    }
                }
            }
        };
        if s.changed_schema.get() {
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
            s.clear_cache();
        }
        self.checkin(s);
        result
    }

    /// `<database>.<schema>`: names what the processes sharing Kiln's tables have in common,
    /// apart from any other app on the same server.
    pub(crate) fn scope(&self) -> &str {
        self.inner.scope.get().map_or("", String::as_str)
    }

    /// Sends `payload` on `channel` to every process listening on this database, without
    /// waiting (in order, on a connection of its own).
    pub(crate) fn notify(&self, channel: &str, payload: &str) {
        let channel = format!("{}{channel}", self.inner.channel_prefix);
        self.inner
            .sender
            .get_or_init(|| notify::Sender::start(self.inner.server.clone()))
            .send(&channel, payload);
    }

    /// Calls `on` for every message sent on `channels`, on a thread of its own. Fails if the
    /// first connection cannot be made.
    pub(crate) fn listen(
        &self,
        channels: &[&str],
        on: Box<dyn Fn(Notice<'_>) + Send>,
    ) -> Result<(), DbError> {
        let prefix = self.inner.channel_prefix.clone();
        let channels = channels.iter().map(|c| format!("{prefix}{c}")).collect();
        let on = move |n: Notice<'_>| match n {
            Notice::Message { channel, payload } => on(Notice::Message {
                channel: channel.strip_prefix(prefix.as_str()).unwrap_or(channel),
                payload,
            }),
            other => on(other),
        };
        notify::listen(self.inner.server.clone(), channels, Box::new(on))
    }

    /// Marks every cached statement stale (a schema change made by another node).
    pub(crate) fn schema_changed(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Closes the idle connections; later calls open new ones.
    pub(crate) fn close(&self) {
        let mut pool = self.inner.pool.lock().unwrap_or_else(|p| p.into_inner());
        let n = pool.idle.len();
        pool.idle.clear();
        pool.open -= n;
    }
}
