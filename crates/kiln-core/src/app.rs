//! The application: the database, the schema snapshot and shared services.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};

use kiln_db::{Db, Dialect, PgOptions, SqliteOptions};

use crate::auth::password::Hasher;
use crate::error::{CoreError, Result};
use crate::realtime::broker::{Broker, LocalBroker};
use crate::realtime::event::Event;
use crate::realtime::hub::Hub;
use crate::schema::{ddl, system, Schema};
use crate::settings::model::Settings;

/// Typed configuration handed down by the binary.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where the database and (later) uploaded files live.
    pub data_dir: PathBuf,
    /// Concurrent password hashes (argon2id is memory-hard: bound it).
    pub max_concurrent_hashes: usize,
    /// Let server-side fetches (OAuth2 avatars) reach loopback and private addresses. Off in
    /// production (SSRF); tests on loopback turn it on.
    pub allow_private_fetch: bool,
    /// PostgreSQL to keep the data in; `None`: SQLite, `data.db` in the data directory.
    pub postgres: Option<PgOptions>,
    /// `redis://…`: the nodes sharing the PostgreSQL database exchange events through this
    /// Redis instead of LISTEN/NOTIFY. Needs `postgres`.
    pub redis: Option<String>,
    /// The key that seals the stored settings (PocketBase's `--encryptionEnv`: the text of that
    /// environment variable, 16, 24 or 32 bytes).
    pub settings_key: Option<String>,
}

impl AppConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        AppConfig {
            data_dir: data_dir.into(),
            max_concurrent_hashes: 2,
            allow_private_fetch: false,
            postgres: None,
            redis: None,
            settings_key: None,
        }
    }
}

pub(crate) struct Inner {
    db: Db,
    /// Where the log lives (`auxiliary.db` on SQLite, `db` itself on PostgreSQL).
    aux: Db,
    logs: crate::logs::writer::Writer,
    pub(crate) crons: crate::cron::jobs::Crons<App>,
    pub(crate) settings_key: Option<String>,
    /// Set by [`App::close`]: background work of a closed app (after a reload, its last
    /// handles may linger in connections cut off) stops.
    closed: std::sync::atomic::AtomicBool,
    pub(crate) backups: crate::backups::state::Backups,
    pub(crate) settings: RwLock<Arc<Settings>>,
    /// Where file blobs go (rebuilt when the S3 settings change).
    pub(crate) storage: RwLock<Arc<kiln_files::Storage>>,
    /// Bounds concurrent thumbnail decodes (each may need up to a few hundred MB).
    pub(crate) thumb_jobs: tokio::sync::Semaphore,
    /// Serializes settings changes (read, merge, validate, store, publish).
    pub(crate) settings_change: tokio::sync::Mutex<()>,
    rate_limiter: crate::ratelimit::RateLimiter,
    /// Resend throttles and pending passkey challenges (when the database is not shared; see
    /// `onetime.rs`).
    pub(crate) onetime: crate::ttl::TtlMap<String>,
    /// The job queue's handlers, and its wake-up when a job is queued here (`jobs/`).
    pub(crate) jobs: crate::jobs::handlers::Handlers,
    pub(crate) jobs_wake: Arc<tokio::sync::Notify>,
    oidc_discovery: crate::ttl::TtlMap<kiln_oauth2::Discovery>,
    schema: RwLock<Arc<Schema>>,
    /// List statements compiled over the current schema (`records/list_cache.rs`).
    pub(crate) lists: crate::records::list_cache::ListCache,
    /// Serializes schema changes: validate, migrate and publish as one step.
    schema_change: tokio::sync::Mutex<()>,
    hasher: Hasher,
    data_dir: PathBuf,
    pub(crate) allow_private_fetch: bool,
    hub: Arc<Hub>,
    broker: Arc<dyn Broker>,
    /// This process's name among the nodes sharing the database.
    node: Arc<str>,
    /// How this node reaches the others (`None`: alone on SQLite).
    pub(crate) carrier: Option<Arc<crate::cluster::carrier::Carrier>>,
    /// Requests about realtime clients forwarded to the node holding them (`cluster/forward.rs`).
    pub(crate) forwards: crate::cluster::carrier::Forwards,
    /// The mailer hooks of the server, if it has any (`mail.rs`).
    pub(crate) mail_hooks: crate::slots::Slot,
    /// What runs the core's own writes through the hooks, if the server has any
    /// (`records/write/mod.rs`).
    pub(crate) write_runner: crate::slots::Slot,
}

/// The Kiln application. Cheap to clone; every handler holds one.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

/// A handle that does not keep the app alive (for background threads).
pub(crate) struct WeakApp(Weak<Inner>);

impl WeakApp {
    pub(crate) fn upgrade(&self) -> Option<App> {
        self.0.upgrade().map(|inner| App { inner })
    }
}

/// Why the app could not start.
#[derive(Debug)]
pub enum OpenError {
    /// The data directory cannot be created or written.
    DataDir(String),
    /// The database failed to open or to migrate.
    Database(CoreError),
    /// The nodes' messages cannot travel (bad Redis URL, Redis or the database unreachable).
    Cluster(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::DataDir(m) => write!(f, "{m}"),
            OpenError::Database(CoreError::Db(e)) => write!(f, "{e}"),
            OpenError::Database(CoreError::SealedSettings) => write!(
                f,
                "the stored settings are sealed with a key (PocketBase's --encryptionEnv): start with \
                 --encryptionEnv NAME, NAME being the environment variable that holds it"
            ),
            OpenError::Database(e) => write!(f, "{e}"),
            OpenError::Cluster(m) => write!(f, "{m}"),
        }
    }
}

impl App {
    /// Opens (creating if needed) the app in `cfg.data_dir`: `data.db` in WAL mode, or the
    /// PostgreSQL database of `cfg.postgres`, with the system collections on first start.
    pub fn open(cfg: &AppConfig) -> std::result::Result<App, OpenError> {
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| {
            OpenError::DataDir(format!(
                "cannot create the data directory {}: {e}",
                cfg.data_dir.display()
            ))
        })?;
        let probe = cfg.data_dir.join(".kiln_write_test");
        std::fs::write(&probe, b"").map_err(|e| {
            OpenError::DataDir(format!(
                "the data directory {} is not writable: {e}",
                cfg.data_dir.display()
            ))
        })?;
        let _ = std::fs::remove_file(&probe);
        if cfg.postgres.is_none() {
            // A restore committed before a crash or a reload is applied before the data opens.
            crate::backups::recover(&cfg.data_dir).map_err(|e| {
                OpenError::DataDir(format!(
                    "cannot finish restoring a backup into {}: {e}",
                    cfg.data_dir.display()
                ))
            })?;
        }
        let db = match &cfg.postgres {
            Some(pg) => Db::open_postgres(pg),
            None => Db::open_sqlite(&cfg.data_dir.join("data.db"), SqliteOptions::default()),
        }
        .map_err(|e| OpenError::Database(CoreError::Db(e)))?;
        if let Some(k) = &cfg.settings_key {
            if ![16, 24, 32].contains(&k.len()) {
                return Err(OpenError::DataDir(format!(
                    "the settings key must be 16, 24 or 32 bytes long (it is {})",
                    k.len()
                )));
            }
        }
        let key = cfg.settings_key.clone();
        let (collections, stored_settings) = db
            .write_blocking(move |conn| -> Result<_> {
                system::ensure_collections_table(conn)?;
                crate::settings::store::ensure_table(conn)?;
                crate::idempotency::table::ensure_table(conn)?;
                crate::jobs::table::ensure_table(conn)?;
                crate::webhooks::table::ensure_table(conn)?;
                crate::certs::table::ensure_table(conn)?;
                let mut existing = system::load_all(conn)?;
                if existing.is_empty() {
                    let base = crate::datetime::now_ms();
                    for (i, mut c) in system::initial_collections().into_iter().enumerate() {
                        c.created = crate::datetime::format_ms(base + i as i64);
                        c.updated = c.created.clone();
                        ddl::create(conn, &c)?;
                        system::save(conn, &c)?;
                        existing.push(c);
                    }
                }
                // System collections added after a data dir was created.
                if !existing.iter().any(|c| c.name == system::PASSKEYS) {
                    if let Some(mut c) = system::initial_collections()
                        .into_iter()
                        .find(|c| c.name == system::PASSKEYS)
                    {
                        c.created = crate::datetime::now_string();
                        c.updated = c.created.clone();
                        ddl::create(conn, &c)?;
                        system::save(conn, &c)?;
                        existing.push(c);
                    }
                }
                Ok((
                    existing,
                    crate::settings::store::load(conn, key.as_deref())?,
                ))
            })
            .map_err(OpenError::Database)?;
        let aux = crate::logs::store::open(&cfg.data_dir, &db)
            .map_err(|e| OpenError::Database(CoreError::Db(e)))?;
        let logs = crate::logs::writer::Writer::start(aux.clone()).map_err(|e| {
            OpenError::Database(CoreError::Internal(format!(
                "cannot start the log writer: {e}"
            )))
        })?;
        let hub = Arc::new(Hub::new());
        let node: Arc<str> = crate::ids::new_id().into();
        let carrier = match (&cfg.redis, db.is_shared()) {
            (Some(_), false) => return Err(OpenError::Cluster(
                "Redis carries events between nodes sharing a PostgreSQL database: it needs one"
                    .into(),
            )),
            (Some(url), true) => Some(
                crate::cluster::carrier::Carrier::redis(url, &db)
                    .map_err(|e| OpenError::Cluster(e.to_string()))?,
            ),
            (None, true) => Some(crate::cluster::carrier::Carrier::Database(db.clone())),
            (None, false) => None,
        }
        .map(Arc::new);
        let broker: Arc<dyn Broker> = match &carrier {
            Some(c) => Arc::new(crate::cluster::carrier::ClusterBroker::new(
                hub.clone(),
                c.clone(),
                node.clone(),
            )),
            None => Arc::new(LocalBroker::new(hub.clone())),
        };
        let app = App {
            inner: Arc::new(Inner {
                broker,
                node,
                carrier,
                forwards: Default::default(),
                hub,
                db,
                aux,
                logs,
                crons: Default::default(),
                settings_key: cfg.settings_key.clone(),
                closed: Default::default(),
                backups: Default::default(),
                storage: RwLock::new(Arc::new(
                    crate::files::storage::build_storage(&cfg.data_dir, &stored_settings.s3)
                        .unwrap_or_else(|_| {
                            kiln_files::Storage::local(cfg.data_dir.join("storage"))
                        }),
                )),
                thumb_jobs: tokio::sync::Semaphore::new(2),
                settings: RwLock::new(Arc::new(stored_settings)),
                settings_change: tokio::sync::Mutex::new(()),
                rate_limiter: Default::default(),
                onetime: Default::default(),
                jobs: Default::default(),
                jobs_wake: Default::default(),
                oidc_discovery: Default::default(),
                schema: RwLock::new(Arc::new(Schema::new(collections))),
                lists: Default::default(),
                schema_change: tokio::sync::Mutex::new(()),
                hasher: Hasher::new(cfg.max_concurrent_hashes.max(1)),
                data_dir: cfg.data_dir.clone(),
                allow_private_fetch: cfg.allow_private_fetch,
                mail_hooks: Default::default(),
                write_runner: Default::default(),
            }),
        };
        if app.db().is_shared() {
            app.rate_limiter().share(app.db().clone());
        }
        app.follow_cluster().map_err(OpenError::Cluster)?;
        app.register_system_crons();
        app.schedule_auto_backup();
        Ok(app)
    }

    pub(crate) fn downgrade(&self) -> WeakApp {
        WeakApp(Arc::downgrade(&self.inner))
    }

    /// This process's name among the nodes sharing the database.
    pub fn node_id(&self) -> &str {
        &self.inner.node
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn dialect(&self) -> Dialect {
        self.inner.db.dialect()
    }

    /// The log's database.
    pub(crate) fn aux_db(&self) -> &Db {
        &self.inner.aux
    }

    pub(crate) fn logs(&self) -> &crate::logs::writer::Writer {
        &self.inner.logs
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The current schema snapshot.
    pub fn schema(&self) -> Arc<Schema> {
        self.inner
            .schema
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set_schema(&self, s: Schema) {
        *self.inner.schema.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
    }

    pub(crate) async fn lock_schema(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.schema_change.lock().await
    }

    /// Whether server-side fetches (avatars, hooks' `$http.send`) may reach loopback and private
    /// addresses (dev mode), rather than public ones only.
    pub fn allows_private_fetch(&self) -> bool {
        self.inner.allow_private_fetch
    }

    /// This node's rate limiter.
    pub fn rate_limiter(&self) -> &crate::ratelimit::RateLimiter {
        &self.inner.rate_limiter
    }

    /// OpenID discovery documents by issuer.
    pub(crate) fn oidc_discovery(&self) -> &crate::ttl::TtlMap<kiln_oauth2::Discovery> {
        &self.inner.oidc_discovery
    }

    pub fn hasher(&self) -> &Hasher {
        &self.inner.hasher
    }

    /// This node's realtime clients.
    pub fn realtime(&self) -> &Arc<Hub> {
        &self.inner.hub
    }

    /// Publishes a committed change to realtime subscribers.
    pub(crate) fn publish(&self, event: Event) {
        self.inner.broker.publish(event);
    }

    /// Whether [`App::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Writes the pending log lines and stops the writers after pending writes.
    pub fn close(&self) {
        self.inner
            .closed
            .store(true, std::sync::atomic::Ordering::Release);
        self.flush_logs();
        if self.inner.db.dialect() == Dialect::Sqlite {
            self.inner.aux.close();
        }
        self.inner.db.close();
    }
}
