//! The `kiln` binary: command line, configuration, logging and wiring. The only place that reads
//! arguments, environment variables and configuration files.
// The binary prints (the command line: its answers go to stdout and stderr).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod applog;
mod config;
mod https;
mod metrics;
mod migrate;
mod otlp;
mod serve;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiln_core::{App, AppConfig};

/// Kiln: a complete backend for web and mobile apps in one binary, wire-compatible with
/// PocketBase 0.40.
#[derive(Parser, Debug)]
#[command(name = "kiln", version, about, long_about = None)]
struct Cli {
    /// Data directory (database and files). Env: KILN_DIR. Default: ./kiln_data
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Development mode: verbose logs; server-side fetches (OAuth2 avatars) may reach loopback and private addresses. Env: KILN_DEV
    #[arg(long, global = true)]
    dev: bool,
    /// Configuration file (TOML). Env: KILN_CONFIG. Default: ./kiln.toml if present
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// PostgreSQL instead of SQLite: postgres://user:password@host:port/database. Env: KILN_DATABASE_URL
    #[arg(long, global = true, value_name = "URL")]
    db: Option<String>,
    /// PostgreSQL schema for Kiln's tables, created if missing. Env: KILN_DATABASE_SCHEMA. Default: the server's search path (public)
    #[arg(long, global = true, value_name = "NAME")]
    db_schema: Option<String>,
    /// Nodes on one PostgreSQL database exchange realtime events, collection and settings changes through this Redis (redis://[:password@]host:port, or rediss:// for TLS) instead of LISTEN/NOTIFY. Env: KILN_REDIS_URL
    #[arg(long, global = true, value_name = "URL")]
    redis: Option<String>,
    /// The environment variable holding the key (16, 24 or 32 bytes) that seals the stored settings, as PocketBase's flag of that name. Env: KILN_ENCRYPTION_ENV
    #[arg(long = "encryptionEnv", global = true, value_name = "NAME")]
    encryption_env: Option<String>,
    /// Folder of the app's JavaScript migrations (PocketBase's pb_migrations), applied at start. Default: pb_migrations beside the data dir
    #[arg(long = "migrationsDir", global = true, value_name = "DIR")]
    migrations_dir: Option<PathBuf>,
    /// How log lines on stderr look: text, or json (one JSON object a line, for a log collector). Env: KILN_LOG_FORMAT. Default: text
    #[arg(long = "log-format", global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Send traces to this OpenTelemetry collector (OTLP over HTTP, protobuf; `/v1/traces` is added to a base URL): a span per request, its parent from the request's W3C traceparent, database and file storage calls beneath it. Env: KILN_OTLP
    #[arg(long, global = true, value_name = "URL")]
    otlp: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
// parsed once per process: the size of `serve`'s options does not matter
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Starts the web server.
    Serve {
        /// Domains to serve over HTTPS with certificates obtained and renewed automatically from an ACME CA (Let's Encrypt unless --acme-directory says otherwise), as PocketBase's `serve example.com`. Env: KILN_DOMAINS (comma-separated)
        #[arg(value_name = "DOMAIN")]
        domains: Vec<String>,
        /// Address to listen on: host:port, or :port for every interface. With domains, plain HTTP: ACME challenges, then redirects to HTTPS. Env: KILN_HTTP. Default: 127.0.0.1:8090, or 0.0.0.0:80 with domains
        #[arg(long, value_name = "ADDR")]
        http: Option<String>,
        /// Address HTTPS listens on (needs domains). Env: KILN_HTTPS. Default with domains: 0.0.0.0:443
        #[arg(long, value_name = "ADDR")]
        https: Option<String>,
        /// The ACME CA's directory URL (any RFC 8555 CA: Let's Encrypt's staging, ZeroSSL, a private step-ca). Env: KILN_ACME_DIRECTORY. Default: Let's Encrypt
        #[arg(long = "acme-directory", value_name = "URL")]
        acme_directory: Option<String>,
        /// PEM file of root certificates trusted for the ACME directory's own HTTPS, beside the usual ones (a private CA). Env: KILN_ACME_CA_ROOT
        #[arg(long = "acme-ca-root", value_name = "FILE")]
        acme_ca_root: Option<PathBuf>,
        /// Email address for the ACME account (the CA's expiry notices). Env: KILN_ACME_EMAIL
        #[arg(long = "acme-email", value_name = "EMAIL")]
        acme_email: Option<String>,
        /// Challenges to prove the domains with, tried in this order (the next after a failure): tls-alpn-01 (on the HTTPS port, 443 for public CAs), http-01 (on the HTTP port, 80). Env: KILN_ACME_CHALLENGE. Default: tls-alpn-01,http-01
        #[arg(long = "acme-challenge", value_name = "LIST")]
        acme_challenge: Option<String>,
        /// Browser origins allowed to call the API (CORS), comma-separated: https://app.example.com, https://*.example.com, http://localhost:* or * for every origin. Env: KILN_ORIGINS. Default: *
        #[arg(long, value_name = "LIST")]
        origins: Option<String>,
        /// Folder of static files served under every path the API does not use. Default: pb_public beside the data dir (served if it exists)
        #[arg(long = "publicDir", value_name = "DIR")]
        public_dir: Option<PathBuf>,
        /// A missing static path answers with the root index.html (single-page apps)
        #[arg(long = "indexFallback", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
        index_fallback: bool,
        /// Serve the dashboard (/_/) from this folder instead of the copy built into the binary: for work on the dashboard itself (crates/kiln-dashboard/dist, rebuilt by `npm run watch` in crates/kiln-dashboard/ui)
        #[arg(long = "dashboardDir", value_name = "DIR")]
        dashboard_dir: Option<PathBuf>,
        /// Turn the dashboard (/_/) off
        #[arg(long = "noDashboard")]
        no_dashboard: bool,
        /// Folder of the app's JavaScript hooks (*.pb.js, PocketBase's pb_hooks). Default: pb_hooks beside the data dir (loaded if it exists)
        #[arg(long = "hooksDir", value_name = "DIR")]
        hooks_dir: Option<PathBuf>,
        /// Restart the server when a file of pb_hooks changes (for development)
        #[arg(long = "hooksWatch")]
        hooks_watch: bool,
        /// How many JavaScript runtimes run the hooks at once
        #[arg(long = "hooksPool", value_name = "N", default_value_t = 15)]
        hooks_pool: usize,
        /// How long one request's hooks may run before the request ends with an error (seconds)
        #[arg(long = "hooksTimeout", value_name = "SECONDS", default_value_t = 30.0)]
        hooks_timeout: f64,
        /// The heap one JavaScript runtime may use (MiB); a hook that needs more ends its request with an error
        #[arg(long = "hooksMemory", value_name = "MIB", default_value_t = 128)]
        hooks_memory: usize,
        /// A collection created, changed or deleted through the API writes its migration file into the migrations folder (PocketBase's automigrate). Default: on with --dev
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
        automigrate: Option<bool>,
        /// The bearer token a Prometheus scraper sends to read GET /metrics (superusers may read it too). Prefer the environment, out of the process list. Env: KILN_METRICS_TOKEN
        #[arg(long = "metrics-token", value_name = "TOKEN")]
        metrics_token: Option<String>,
        /// Connection addresses that may read GET /metrics without the token, comma-separated IPs or CIDR ranges (10.0.0.0/8). Env: KILN_METRICS_ALLOW
        #[arg(long = "metrics-allow", value_name = "LIST")]
        metrics_allow: Option<String>,
    },
    /// Copies the SQLite data dir (--dir) into an empty PostgreSQL database and verifies the copy:
    /// collections, records, users and settings (uploaded files stay where they are).
    Copy {
        /// The PostgreSQL database to copy into: postgres://user:password@host:port/database
        #[arg(long, value_name = "URL")]
        to: String,
        /// Schema in that database, created if missing. Default: the server's search path (public)
        #[arg(long, value_name = "NAME")]
        to_schema: Option<String>,
    },
    /// Applies, reverts and writes JavaScript migrations (pb_migrations), as PocketBase's command.
    Migrate {
        #[command(subcommand)]
        action: migrate::MigrateAction,
    },
    /// Manages superusers.
    Superuser {
        #[command(subcommand)]
        action: SuperuserAction,
    },
    /// Writes TypeScript types of every collection, for the PocketBase JS SDK's generics
    /// (`pb.collection<PostsResponse>('posts')`, or `TypedPocketBase`).
    Typegen {
        /// The file to write (`-`: standard output)
        #[arg(long, value_name = "FILE", default_value = "-")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum SuperuserAction {
    /// Creates a superuser, or changes the password of an existing one.
    Upsert { email: String, password: String },
    /// Creates a new superuser.
    Create { email: String, password: String },
    /// Changes an existing superuser's password.
    Update { email: String, password: String },
    /// Deletes a superuser.
    Delete { email: String },
}

/// Threads the async runtime may start for blocking work: PostgreSQL statements (reads block in
/// place, writes run on the pool), file I/O, password hashing. Tokio's default, 512, let 1,000
/// concurrent requests on PostgreSQL start ~490 threads that all waited for one of the pool's 16
/// connections (bench/pgconc.py); beyond this many, blocking work queues instead — it would wait
/// for the database anyway.
const MAX_BLOCKING_THREADS: usize = 64;

/// mimalloc rather than glibc's malloc: fewer instructions per allocation, and a request makes
/// dozens (docs/BENCHMARKS.md, "Per-request costs, round two").
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives memory freed after a burst (argon2's buffers) back to the system: mimalloc otherwise
/// returns it only on later allocator activity, which an idle server does not have.
fn release_memory() {
    // SAFETY: mi_collect only frees and purges the allocator's unused memory; any thread may call it.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

fn main() -> ExitCode {
    kiln_core::memory::set_release(release_memory);
    let cli = Cli::parse();
    let mut flags = config::Flags::default();
    if let Command::Serve {
        domains,
        http,
        https,
        acme_directory,
        acme_ca_root,
        acme_email,
        acme_challenge,
        origins,
        metrics_token,
        metrics_allow,
        ..
    } = &cli.command
    {
        flags = config::Flags {
            domains: domains.clone(),
            http: http.clone(),
            https: https.clone(),
            acme_directory: acme_directory.clone(),
            acme_ca_root: acme_ca_root.clone(),
            acme_email: acme_email.clone(),
            acme_challenge: acme_challenge.clone(),
            origins: origins.clone(),
            metrics_token: metrics_token.clone(),
            metrics_allow: metrics_allow.clone(),
            ..flags
        };
    }
    let flags = config::Flags {
        config: cli.config.clone(),
        dir: cli.dir.clone(),
        dev: cli.dev,
        db: cli.db.clone(),
        db_schema: cli.db_schema.clone(),
        redis: cli.redis.clone(),
        encryption_env: cli.encryption_env.clone(),
        log_format: cli.log_format.clone(),
        otlp: cli.otlp.clone(),
        ..flags
    };
    let cfg = match config::resolve(flags, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let app_slot = applog::AppSlot::default();
    // sends the spans still batched when main returns
    let _traces = match init_tracing(
        &cfg.log,
        cfg.log_json,
        cfg.otlp.as_deref(),
        app_slot.clone(),
    ) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    // before any database opens: the crates keep the metric handles they make at first use
    let scrape = match &cli.command {
        Command::Serve { .. } => match metrics::install(&cfg) {
            Ok(m) => Some(m),
            Err(e) => return fail(&e),
        },
        _ => None,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let postgres = cfg.db.as_ref().map(|url| kiln_core::PgOptions {
        schema: cfg.db_schema.clone(),
        ..kiln_core::PgOptions::new(url)
    });
    // Dev mode (local development) lets server-side fetches such as OAuth2 avatars reach
    // loopback and private addresses; otherwise they are refused (SSRF).
    // Only a serving node talks to the others.
    let redis = if matches!(cli.command, Command::Serve { .. }) {
        cfg.redis.clone()
    } else {
        None
    };
    // As PocketBase: the flag names the variable; an empty or missing one seals nothing.
    let settings_key = cfg
        .encryption_env
        .as_deref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|k| !k.is_empty());
    let app_cfg = AppConfig {
        settings_key,
        allow_private_fetch: cfg.dev,
        postgres,
        redis,
        ..AppConfig::new(&cfg.dir)
    };
    // One server per SQLite data dir: a second one would keep its own copy of the schema and
    // settings in memory and the two would drift apart. Released when the process ends.
    let _lock = match (&cli.command, &cfg.db) {
        (Command::Serve { .. }, None) => match lock_data_dir(&cfg.dir) {
            Ok(lock) => Some(lock),
            Err(e) => return fail(&e),
        },
        _ => None,
    };
    let app = match App::open(&app_cfg) {
        Ok(app) => app,
        Err(e) => return fail(&e.to_string()),
    };
    // PocketBase's places for them: beside the data dir
    let beside_data = |name: &str| {
        let parent = cfg.dir.parent().filter(|p| !p.as_os_str().is_empty());
        parent.unwrap_or(std::path::Path::new(".")).join(name)
    };
    let migrations_dir = cli
        .migrations_dir
        .clone()
        .unwrap_or_else(|| beside_data("pb_migrations"));
    let code = match cli.command {
        Command::Copy { to, to_schema } => copy(&app, &cfg, to, to_schema),
        Command::Migrate { action } => {
            runtime.block_on(migrate::run(&app, &migrations_dir, action))
        }
        Command::Serve {
            public_dir,
            index_fallback,
            dashboard_dir,
            no_dashboard,
            hooks_dir,
            hooks_pool,
            hooks_timeout,
            hooks_memory,
            automigrate,
            hooks_watch,
            ..
        } => {
            if let Err(code) = runtime.block_on(migrate::apply_pending(&app, &migrations_dir)) {
                app.close();
                return code;
            }
            let hooks_dir = hooks_dir.unwrap_or_else(|| beside_data("pb_hooks"));
            let watched = hooks_watch.then(|| hooks_dir.clone());
            let hooks = if hooks_dir.is_dir() {
                let limits = kiln_hooks::Limits {
                    call_timeout: std::time::Duration::from_secs_f64(hooks_timeout.max(0.001)),
                    memory_bytes: hooks_memory.max(1) << 20,
                    ..kiln_hooks::Limits::default()
                };
                // Kiln's own secrets stay Kiln's: the database and Redis URLs, the settings key
                let mut hidden: Vec<String> = ["KILN_DATABASE_URL", "KILN_REDIS_URL"]
                    .into_iter()
                    .map(String::from)
                    .collect();
                hidden.extend(cfg.encryption_env.clone());
                hidden.push("KILN_METRICS_TOKEN".into());
                // where traces go, and the collector's credentials
                hidden.extend(
                    [
                        "KILN_OTLP",
                        "OTEL_EXPORTER_OTLP_HEADERS",
                        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                    ]
                    .map(String::from),
                );
                match kiln_hooks::Hooks::load(&hooks_dir, hooks_pool, limits, hidden) {
                    Ok(h) => Some(std::sync::Arc::new(h)),
                    Err(e) => return fail(&e.to_string()),
                }
            } else {
                None
            };
            let dir = public_dir.unwrap_or_else(|| beside_data("pb_public"));
            let public = dir
                .is_dir()
                .then(|| kiln_http::public::PublicDir::new(dir, index_fallback));
            let dashboard = match (no_dashboard, dashboard_dir) {
                (true, _) => kiln_http::dashboard::DashboardSource::Off,
                (false, Some(dir)) => kiln_http::dashboard::DashboardSource::Dir(dir),
                (false, None) => kiln_http::dashboard::DashboardSource::Embedded,
            };
            let automigrate = automigrate.unwrap_or(cfg.dev).then(|| {
                std::sync::Arc::new(kiln_hooks::migrate::Automigrate::new(migrations_dir))
            });
            let options = kiln_http::HttpOptions {
                cors: kiln_http::cors::Cors::new(cfg.origins.clone()),
                public,
                dashboard,
                hooks,
                automigrate,
                metrics: scrape,
            };
            app_slot.set(Some(app.clone()));
            // set when --hooksWatch saw a change: the command runs again
            let restart = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let watch = watched.map(|dir| (dir, restart.clone()));
            let (code, last) =
                runtime.block_on(serve::serve(app, &app_cfg, &cfg, options, watch, &app_slot));
            app_slot.set(None);
            last.close();
            if restart.load(std::sync::atomic::Ordering::SeqCst) {
                drop(runtime);
                drop(_lock);
                // the process is replaced: send the spans still batched first
                drop(_traces);
                return fail(&watch::restart());
            }
            return code;
        }
        Command::Superuser { action } => runtime.block_on(superuser(&app, action)),
        Command::Typegen { out } => typegen(&app, &out),
    };
    app.close();
    code
}

/// `kiln typegen`: the collections' TypeScript types into `out`.
fn typegen(app: &App, out: &std::path::Path) -> ExitCode {
    let text = kiln_http::openapi::typescript(&app.schema());
    if out.as_os_str() == "-" {
        print!("{text}");
        return ExitCode::SUCCESS;
    }
    match std::fs::write(out, text) {
        Ok(()) => {
            eprintln!(
                "Wrote the types of {} collections to {}",
                app.schema().all().len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot write {}: {e}", out.display())),
    }
}

/// `kiln copy`: SQLite data dir → PostgreSQL, then a record-by-record comparison.
fn copy(app: &App, cfg: &config::Config, to: String, to_schema: Option<String>) -> ExitCode {
    if cfg.db.is_some() {
        return fail("kiln copy reads the SQLite data dir given by --dir; give the PostgreSQL target with --to, not --db");
    }
    let target_cfg = AppConfig {
        postgres: Some(kiln_core::PgOptions {
            schema: to_schema,
            ..kiln_core::PgOptions::new(to)
        }),
        ..AppConfig::new(&cfg.dir)
    };
    let target = match App::open(&target_cfg) {
        Ok(t) => t,
        Err(e) => return fail(&e.to_string()),
    };
    let result = app.copy_into(&target);
    target.close();
    match result {
        Ok(report) => {
            for (name, n) in &report.collections {
                println!("{name}: {n} records");
            }
            println!(
                "Copied and verified {} records in {} collections.",
                report.records(),
                report.collections.len()
            );
            println!("Uploaded files were not copied: they stay in {} (or in S3, if the settings say so).", cfg.dir.join("storage").display());
            ExitCode::SUCCESS
        }
        Err(kiln_core::CoreError::Copy(m)) => fail(&m),
        Err(kiln_core::CoreError::Db(e)) => fail(&e.to_string()),
        Err(e) => fail(&format!("the copy failed: {e}")),
    }
}

/// Takes the lock file `kiln.lock` of the data dir `dir` (created if missing).
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, String> {
    let cannot = |e: std::io::Error| format!("cannot lock the data dir {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("kiln.lock"))
        .map_err(cannot)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another kiln server is serving the data dir {} (one server per SQLite data dir; \
             several nodes share a PostgreSQL database instead, see docs/CLUSTER.md)",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(cannot(e)),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::FAILURE
}

/// Log lines go to stderr (filtered by `filter`; as JSON lines with `json`) and, from the moment
/// the app is in `slot`, to the app's log too ([`applog`]); spans to an OTLP collector at `otlp`
/// ([`otlp`]: the guard returned flushes them when dropped).
fn init_tracing(
    filter: &str,
    json: bool,
    otlp: Option<&str>,
    slot: applog::AppSlot,
) -> Result<Option<otlp::Flush>, String> {
    use tracing_subscriber::filter::FilterExt;
    use tracing_subscriber::layer::{Layer, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // colours only for a person at a terminal, never into a file or a log collector
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let stderr: Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync> = match json {
        // {"timestamp":…,"level":"WARN","target":"kiln_core::…","message":…, fields…}
        true => Box::new(
            stderr
                .json()
                .flatten_event(true)
                .with_filter(filter.and(otlp::not_trace())),
        ),
        false => Box::new(
            stderr
                .with_ansi(ansi)
                .with_filter(filter.and(otlp::not_trace())),
        ),
    };
    let mut layers = vec![
        stderr,
        Box::new(applog::AppLogLayer::new(slot).with_filter(applog::interest())),
    ];
    let flush = match otlp {
        Some(url) => {
            let (provider, layer) = otlp::start(url)?;
            layers.push(Box::new(layer));
            Some(otlp::Flush(provider))
        }
        None => None,
    };
    tracing_subscriber::registry().with(layers).init();
    Ok(flush)
}

async fn superuser(app: &App, action: SuperuserAction) -> ExitCode {
    let (result, email, verb) = match &action {
        SuperuserAction::Upsert { email, password } => (
            app.superuser_save(email, password, true, true)
                .await
                .map(|_| ()),
            email,
            "saved",
        ),
        SuperuserAction::Create { email, password } => (
            app.superuser_save(email, password, true, false)
                .await
                .map(|_| ()),
            email,
            "created",
        ),
        SuperuserAction::Update { email, password } => (
            app.superuser_save(email, password, false, true)
                .await
                .map(|_| ()),
            email,
            "updated",
        ),
        SuperuserAction::Delete { email } => (app.superuser_delete(email).await, email, "deleted"),
    };
    match result {
        Ok(()) => {
            println!("Successfully {verb} superuser {email:?}!");
            ExitCode::SUCCESS
        }
        Err(kiln_core::CoreError::NotFound) => fail(&format!("superuser {email:?} does not exist")),
        Err(kiln_core::CoreError::Validation { errors, .. }) => {
            let detail: Vec<String> = errors
                .iter()
                .map(|(k, e)| format!("{k}: {}", e.message))
                .collect();
            fail(&format!("invalid superuser: {}", detail.join("; ")))
        }
        Err(e) => fail(&format!("{e}")),
    }
}
