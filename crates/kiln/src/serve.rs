//! `kiln serve`: the listening sockets (kept across the app's reloads), the serving loop, and
//! the shutdown: on SIGTERM or Ctrl-C the sockets close at once, realtime streams end and the
//! requests in flight get [`SHUTDOWN_GRACE`] to finish.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kiln_core::{App, AppConfig};

use crate::applog::AppSlot;
use crate::config::Config;
use crate::fail;
use crate::https::{self, Acme};
use crate::otlp::Traced;

/// A listening socket, kept across reloads (no connection is refused then) and closed when
/// stopping: the server's copy is dropped, so new connections are refused at once (a load
/// balancer moves on) rather than left in the backlog.
#[derive(Clone)]
struct Held(Arc<Mutex<Option<std::net::TcpListener>>>);

impl Held {
    fn new(listener: std::net::TcpListener) -> Self {
        Self(Arc::new(Mutex::new(Some(listener))))
    }

    /// A copy for one round of serving; `None` once closed.
    fn copy(&self) -> Option<std::io::Result<tokio::net::TcpListener>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|l| l.try_clone().and_then(tokio::net::TcpListener::from_std))
    }

    fn close(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// The HTTPS side when domains are named: the certificate manager, its socket and port.
struct Secure {
    acme: Acme,
    socket: Held,
    port: u16,
}

/// Sets up automatic HTTPS for `https` (reads the CA roots file; binds the socket).
async fn secure(https: &crate::config::Https, app_slot: &AppSlot) -> Result<Secure, String> {
    let ca_roots = match &https.ca_root {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| format!("cannot read the ACME CA roots {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let acme = Acme::new(
        kiln_acme::Config {
            domains: https.domains.clone(),
            directory: https.directory.clone(),
            ca_roots,
            contact: https.email.clone(),
            challenges: https.challenges.clone(),
        },
        https::AppStore(app_slot.clone()),
    )
    .map_err(|e| e.to_string())?;
    let socket = bind(&https.addr).await?;
    let port = socket
        .local_addr()
        .map_err(|e| format!("cannot listen on {}: {e}", https.addr))?
        .port();
    Ok(Secure {
        acme,
        socket: Held::new(socket),
        port,
    })
}

/// Serves until a shutdown signal. A restored backup reloads the app in this process: the
/// server stops taking requests on the old app (its realtime connections end, in-flight requests
/// finish within [`RELOAD_GRACE`]), closes it, opens the data dir again (which applies the
/// restore) and serves on the same sockets. Returns the last app, for the caller to close.
pub async fn serve(
    mut app: App,
    app_cfg: &AppConfig,
    cfg: &Config,
    options: kiln_http::HttpOptions,
    watch: Option<(PathBuf, Arc<AtomicBool>)>,
    app_slot: &AppSlot,
) -> (ExitCode, App) {
    let listener = match bind(&cfg.http).await {
        Ok(l) => l,
        Err(e) => return (fail(&e), app),
    };
    let secure = match &cfg.https {
        Some(h) => match secure(h, app_slot).await {
            Ok(s) => Some(s),
            Err(e) => return (fail(&e), app),
        },
        None => None,
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
    let base = match &secure {
        Some(s) => match s.port {
            443 => format!("https://{}", s.acme.domains()[0]),
            port => format!("https://{}:{port}", s.acme.domains()[0]),
        },
        None => format!("http://{addr}"),
    };
    eprintln!(
        "Server started at {base}\n├─ REST API:  {base}/api/\n{}└─ Data:      {} ({database}){}",
        if dashboard_on {
            format!("├─ Dashboard: {base}/_/\n")
        } else {
            String::new()
        },
        cfg.dir.display(),
        if cfg.dev { " (dev mode)" } else { "" }
    );
    if let Some(s) = &secure {
        eprintln!(
            "HTTPS on {} for {} (certificates from {}); plain HTTP on {addr} answers the CA's challenges and then redirects to HTTPS",
            cfg.https.as_ref().map_or("", |h| h.addr.as_str()),
            s.acme.domains().join(", "),
            cfg.https.as_ref().map_or("", |h| h.directory.as_str()),
        );
    }
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
    tokio::spawn(async move {
        match watch {
            Some((dir, restart)) => tokio::select! {
                _ = shutdown_signal() => {}
                _ = crate::watch::changed(dir) => {
                    eprintln!("pb_hooks changed: restarting");
                    restart.store(true, Ordering::SeqCst);
                }
            },
            None => shutdown_signal().await,
        }
        let _ = stop_tx.send(true);
    });
    // the certificate is kept for as long as the process serves, across reloads
    let _certificates = secure.as_ref().map(|s| {
        let acme = s.acme.clone();
        AbortOnDrop(tokio::spawn(async move { acme.run().await }))
    });
    let held = Held::new(listener);
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
        let socket = match held.copy() {
            Some(Ok(s)) => s,
            Some(Err(e)) => return (fail(&format!("cannot listen on {addr}: {e}")), app),
            None => return (ExitCode::SUCCESS, app),
        };
        let tls_socket = match secure.as_ref().map(|s| s.socket.copy()) {
            None => None,
            Some(Some(Ok(s))) => Some(s),
            Some(Some(Err(e))) => return (fail(&format!("cannot listen for HTTPS: {e}")), app),
            Some(None) => return (ExitCode::SUCCESS, app),
        };
        let router = kiln_http::router_with(app.clone(), options.clone());
        let draining = Arc::new(AtomicBool::new(false));
        let traced = cfg.otlp.is_some();
        let (reload_tx, mut reload_rx) = tokio::sync::watch::channel(false);
        // `closing`: this round stops taking connections; `ending`: it stops serving the ones it
        // has (at once for a reload; after DRAIN for a stop)
        let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
        let (ending_tx, ending_rx) = tokio::sync::watch::channel(false);
        let _ending = AbortOnDrop(tokio::spawn({
            let app = app.clone();
            let mut stop_rx = stop_rx.clone();
            let sockets: Vec<Held> = std::iter::once(held.clone())
                .chain(secure.as_ref().map(|s| s.socket.clone()))
                .collect();
            let draining = draining.clone();
            async move {
                tokio::select! {
                    _ = async { let _ = stop_rx.wait_for(|stop| *stop).await; } => {
                        sockets.iter().for_each(Held::close);
                        let _ = closing_tx.send(true);
                        // parked: they resume on another node, or on this one started again
                        app.realtime_park().await;
                        // Kept-alive connections stay open a moment, their answers saying
                        // `Connection: close`: a proxy that was about to reuse one gets an answer
                        // rather than a closed socket (and would not resend a POST).
                        draining.store(true, Ordering::Relaxed);
                        tokio::time::sleep(DRAIN).await;
                        // streams a client opened again on such a connection meanwhile
                        app.realtime_park().await;
                    }
                    _ = app.reload_requested() => {
                        let _ = closing_tx.send(true);
                        let _ = reload_tx.send(true);
                        // Realtime streams never end on their own: end them now (the clients
                        // reconnect, to the reloaded app).
                        app.realtime().close_all();
                    }
                }
                let _ = ending_tx.send(true);
            }
        }));
        let ended = |mut ending: tokio::sync::watch::Receiver<bool>| async move {
            let _ = ending.wait_for(|e| *e).await;
        };
        let plain = match &secure {
            Some(s) => https::http_router(router.clone(), s.acme.clone(), s.port),
            None => router.clone(),
        };
        let served_http = axum::serve(
            axum::serve::ListenerExt::tap_io(Closable::new(socket, closing_rx.clone()), |_| {}),
            kiln_http::conn::Connections(closing(Traced::new(plain, traced), draining.clone())),
        )
        .with_graceful_shutdown(ended(ending_rx.clone()));
        let served_https = async {
            let (Some(socket), Some(s)) = (tls_socket, &secure) else {
                return Ok(());
            };
            let listener = https::tls_listener(socket, s.acme.clone(), closing_rx.clone())?;
            let service = closing(Traced::new(router, traced), draining.clone());
            https::serve_tls(listener, service, ending_rx.clone()).await;
            Ok(())
        };
        let served = async { tokio::try_join!(async { served_http.await }, served_https) };
        let mut reloading = reload_rx.clone();
        let mut stopping = stop_rx.clone();
        let result = tokio::select! {
            r = served => r.map(|_| ()),
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
            let restart = reloading || watch_restart.load(Ordering::SeqCst);
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

/// A listening socket that stops taking connections (and closes) when `closing` turns true,
/// while axum goes on serving the connections it has.
struct Closable {
    socket: Option<tokio::net::TcpListener>,
    closing: tokio::sync::watch::Receiver<bool>,
}

impl Closable {
    fn new(socket: tokio::net::TcpListener, closing: tokio::sync::watch::Receiver<bool>) -> Self {
        Self {
            socket: Some(socket),
            closing,
        }
    }
}

impl axum::serve::Listener for Closable {
    type Io = kiln_http::conn::Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Some(socket) = &self.socket else {
                return std::future::pending().await;
            };
            let closing = &mut self.closing;
            let closed = tokio::select! {
                _ = async { let _ = closing.wait_for(|c| *c).await; } => true,
                accepted = socket.accept() => match accepted {
                    Ok((stream, peer)) => return (kiln_http::conn::Conn::new(stream), peer),
                    Err(_) => false,
                },
            };
            if closed {
                self.socket = None;
            } else {
                // out of file descriptors and the like: let it pass, do not spin
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match &self.socket {
            Some(s) => s.local_addr(),
            None => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }
}

/// `service`, whose answers say `Connection: close` once `draining` is set (HTTP/2 drops the
/// header: its connections end with a GOAWAY instead).
fn closing<S>(
    service: S,
    draining: Arc<AtomicBool>,
) -> tower::util::MapResponse<
    S,
    impl FnOnce(axum::response::Response) -> axum::response::Response + Clone,
> {
    tower::util::MapResponse::new(service, move |mut res: axum::response::Response| {
        if draining.load(Ordering::Relaxed) {
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        res
    })
}

/// A task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
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

/// How long kept-alive connections are still served after SIGTERM, each answer closing its
/// connection, before the idle ones are closed.
const DRAIN: std::time::Duration = std::time::Duration::from_millis(1000);
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
