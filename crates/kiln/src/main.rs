//! The `kiln` binary: command line, configuration, logging and wiring. The only place that reads
//! arguments, environment variables and configuration files.
// The binary prints (the command line: its answers go to stdout and stderr).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod applog;
mod config;
mod metrics;
mod migrate;
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Starts the web server.
    Serve {
        /// Address to listen on: host:port, or :port for every interface. Env: KILN_HTTP. Default: 127.0.0.1:8090
        #[arg(long, value_name = "ADDR")]
        http: Option<String>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (http_flag, origins_flag, metrics_token, metrics_allow) = match &cli.command {
        Command::Serve {
            http,
            origins,
            metrics_token,
            metrics_allow,
            ..
        } => (
            http.clone(),
            origins.clone(),
            metrics_token.clone(),
            metrics_allow.clone(),
        ),
        _ => (None, None, None, None),
    };
    let flags = config::Flags {
        config: cli.config.clone(),
        http: http_flag,
        dir: cli.dir.clone(),
        dev: cli.dev,
        db: cli.db.clone(),
        db_schema: cli.db_schema.clone(),
        redis: cli.redis.clone(),
        encryption_env: cli.encryption_env.clone(),
        log_format: cli.log_format.clone(),
        origins: origins_flag,
        metrics_token,
        metrics_allow,
    };
    let cfg = match config::resolve(flags, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let app_slot = applog::AppSlot::default();
    init_tracing(&cfg.log, cfg.log_json, app_slot.clone());
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
                runtime.block_on(serve(app, &app_cfg, &cfg, options, watch, &app_slot));
            app_slot.set(None);
            last.close();
            if restart.load(std::sync::atomic::Ordering::SeqCst) {
                drop(runtime);
                drop(_lock);
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
/// the app is in `slot`, to the app's log too ([`applog`]).
fn init_tracing(filter: &str, json: bool, slot: applog::AppSlot) {
    use tracing_subscriber::layer::{Layer, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // colours only for a person at a terminal, never into a file or a log collector
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let stderr: Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync> = match json {
        // {"timestamp":…,"level":"WARN","target":"kiln_core::…","message":…, fields…}
        true => Box::new(stderr.json().flatten_event(true).with_filter(filter)),
        false => Box::new(stderr.with_ansi(ansi).with_filter(filter)),
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(applog::AppLogLayer::new(slot).with_filter(applog::interest()))
        .init();
}

/// Serves until a shutdown signal. A restored backup reloads the app in this process: the
/// server stops taking requests on the old app (its realtime connections end, in-flight requests
/// finish within [`RELOAD_GRACE`]), closes it, opens the data dir again (which applies the
/// restore) and serves on the same socket. Returns the last app, for the caller to close.
async fn serve(
    mut app: App,
    app_cfg: &AppConfig,
    cfg: &config::Config,
    options: kiln_http::HttpOptions,
    watch: Option<(PathBuf, std::sync::Arc<std::sync::atomic::AtomicBool>)>,
    app_slot: &applog::AppSlot,
) -> (ExitCode, App) {
    let listener = match bind(&cfg.http).await {
        Ok(l) => l,
        Err(e) => return (fail(&e), app),
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| cfg.http.clone());
    let database = match (&cfg.db, &cfg.db_schema) {
        (None, _) => "SQLite".to_owned(),
        (Some(_), None) => "PostgreSQL".to_owned(),
        (Some(_), Some(schema)) => format!("PostgreSQL, schema {schema}"),
    };
    let dashboard_on = !matches!(
        options.dashboard,
        kiln_http::dashboard::DashboardSource::Off
    );
    eprintln!(
        "Server started at http://{addr}\n├─ REST API:  http://{addr}/api/\n{}└─ Data:      {} ({database}){}",
        if dashboard_on { format!("├─ Dashboard: http://{addr}/_/\n") } else { String::new() },
        cfg.dir.display(),
        if cfg.dev { " (dev mode)" } else { "" }
    );
    if let Some(h) = &options.hooks {
        eprintln!(
            "Hooks: {} files, {} routes, {} hooks, {} cron jobs",
            h.files(),
            h.routes().len(),
            h.hook_count(),
            h.cron_count()
        );
    }
    if dashboard_on {
        print_installer_link(&app, &listener).await;
    }
    if app.db().is_shared() && !app.settings().s3.enabled {
        eprintln!(
            "Warning: files are stored on this node's disk ({}): when several nodes share the database, \
             enable S3-compatible storage (PATCH /api/settings, \"s3\") so that every node serves every file.",
            cfg.dir.join("storage").display()
        );
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watch_restart = match &watch {
        Some((_, restart)) => restart.clone(),
        None => Default::default(),
    };
    {
        tokio::spawn(async move {
            match watch {
                Some((dir, restart)) => tokio::select! {
                    _ = shutdown_signal() => {}
                    _ = watch::changed(dir) => {
                        eprintln!("pb_hooks changed: restarting");
                        restart.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                },
                None => shutdown_signal().await,
            }
            let _ = stop_tx.send(true);
        });
    }
    // Kept across reloads (no connection is refused then); dropped when stopping.
    let held = std::sync::Arc::new(std::sync::Mutex::new(Some(listener)));
    loop {
        // a stop signalled while a restore reloaded the app: do not serve again
        if *stop_rx.borrow() {
            return (ExitCode::SUCCESS, app);
        }
        app.start_maintenance();
        // `$app` of the hooks is this app (again after a restore reopened it)
        if let Some(h) = &options.hooks {
            h.set_app(app.clone());
            if let Err(e) = h.started().await {
                return (fail(&e.to_string()), app);
            }
        }
        let socket = match held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|l| l.try_clone().and_then(tokio::net::TcpListener::from_std))
        {
            Some(Ok(s)) => s,
            Some(Err(e)) => return (fail(&format!("cannot listen on {addr}: {e}")), app),
            None => return (ExitCode::SUCCESS, app),
        };
        let router = kiln_http::router_with(app.clone(), options.clone());
        let (reload_tx, mut reload_rx) = tokio::sync::watch::channel(false);
        let stop = {
            let app = app.clone();
            let mut stop_rx = stop_rx.clone();
            let held = held.clone();
            async move {
                tokio::select! {
                    _ = stop_rx.wait_for(|stop| *stop) => {
                        // the socket closes with the server's copy: new connections are refused
                        // at once (a load balancer moves on) rather than left in the backlog
                        held.lock().unwrap_or_else(|p| p.into_inner()).take();
                        app.realtime().close_all();
                    }
                    _ = app.reload_requested() => {
                        let _ = reload_tx.send(true);
                        // Realtime streams never end on their own: end them now (the clients
                        // reconnect, to the reloaded app).
                        app.realtime().close_all();
                    }
                }
            }
        };
        let served = axum::serve(
            socket,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(stop);
        let mut reloading = reload_rx.clone();
        let mut stopping = stop_rx.clone();
        let result = tokio::select! {
            r = served => r,
            // A connection that outlives the grace period is cut off with the old app.
            _ = async {
                if reloading.wait_for(|r| *r).await.is_ok() {
                    tokio::time::sleep(RELOAD_GRACE).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => Ok(()),
            _ = async {
                if stopping.wait_for(|s| *s).await.is_ok() {
                    tokio::time::sleep(SHUTDOWN_GRACE).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::warn!("requests still running {} s after the shutdown signal were cut off", SHUTDOWN_GRACE.as_secs());
                Ok(())
            }
        };
        if let Err(e) = result {
            return (fail(&format!("server error: {e}")), app);
        }
        let reloading = *reload_rx.borrow_and_update();
        if let Some(h) = &options.hooks {
            let restart = reloading || watch_restart.load(std::sync::atomic::Ordering::SeqCst);
            if let Err(e) = h.terminated(restart).await {
                eprintln!("Error: onTerminate: {e}");
            }
        }
        if !reloading {
            return (ExitCode::SUCCESS, app);
        }
        app_slot.set(None);
        app.close();
        drop(app);
        let cfg = app_cfg.clone();
        app = match tokio::task::spawn_blocking(move || App::open(&cfg)).await {
            Ok(Ok(app)) => app,
            Ok(Err(e)) => {
                eprintln!("Error: cannot reopen the data after restoring a backup: {e}");
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("Error: cannot reopen the data after restoring a backup: {e}");
                std::process::exit(1);
            }
        };
        app_slot.set(Some(app.clone()));
        tracing::info!("the app reloaded with the restored backup");
    }
}

/// While no superuser exists: the one-time link to the dashboard's first-superuser page
/// (PocketBase's installer), valid for [`kiln_core::auth::installer::INSTALLER_TOKEN_SECS`].
async fn print_installer_link(app: &App, listener: &std::net::TcpListener) {
    let token = match app.installer_token().await {
        Ok(Some(token)) => token,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot prepare the first-superuser link");
            return;
        }
    };
    // a wildcard address is reached on loopback from this machine
    let base = match listener.local_addr() {
        Ok(a) if a.ip().is_unspecified() => format!("http://127.0.0.1:{}", a.port()),
        Ok(a) => format!("http://{a}"),
        Err(_) => return,
    };
    let exe = std::env::args().next().unwrap_or_else(|| "kiln".into());
    eprintln!(
        "\n(!) Open this link in a browser to create your first superuser (it works for {} minutes):\n{base}/_/#/pbinstall/{token}\n(or create one with: {exe} superuser upsert EMAIL PASSWORD)\n",
        kiln_core::auth::installer::INSTALLER_TOKEN_SECS / 60
    );
}

/// How long requests in flight may take to finish when the app reloads.
const RELOAD_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long requests in flight may take to finish after SIGTERM or Ctrl-C (below the 30 s a
/// container runtime waits before it kills the process).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Binds the listening socket (kept across reloads, so that no connection is refused then).
async fn bind(http: &str) -> Result<std::net::TcpListener, String> {
    let listener = match tokio::net::TcpListener::bind(http).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(format!(
            "cannot listen on {http}: the address is already in use (is another server running?)"
        ))
        }
        Err(e) => return Err(format!("cannot listen on {http}: {e}")),
    };
    listener
        .into_std()
        .map_err(|e| format!("cannot listen on {http}: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
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
