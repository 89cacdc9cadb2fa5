//! Automatic HTTPS (`kiln serve example.com`): [`kiln_acme`] keeps the certificate in the app's
//! database ([`AppStore`]), the HTTPS socket's connections go through its handshakes
//! ([`tls_listener`]), and the plain-HTTP socket answers HTTP-01 challenges and, once a
//! certificate is served, sends browsers to HTTPS ([`http_router`]).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::server::TlsStream;

use crate::applog::AppSlot;

/// Kiln's certificate manager: its store is the app's `_certs` table.
pub type Acme = kiln_acme::Acme<AppStore>;

/// [`kiln_acme::Store`] over the app serving now (none while a restored backup reloads it: the
/// manager retries).
pub struct AppStore(pub AppSlot);

impl AppStore {
    fn app(&self) -> Result<kiln_core::App, String> {
        self.0
            .get()
            .ok_or_else(|| "the app is reloading".to_owned())
    }
}

impl kiln_acme::Store for AppStore {
    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.app()?.cert_get(key).await.map_err(|e| e.to_string())
    }
    async fn put(&self, key: &str, value: &str, secret: bool) -> Result<(), String> {
        let app = self.app()?;
        app.cert_put(key, value, secret)
            .await
            .map_err(|e| e.to_string())
    }
    async fn delete(&self, key: &str) -> Result<(), String> {
        self.app()?
            .cert_delete(key)
            .await
            .map_err(|e| e.to_string())
    }
    async fn lease(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool, String> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let app = self.app()?;
        app.cert_lease(key, holder, ttl_ms)
            .await
            .map_err(|e| e.to_string())
    }
    async fn release(&self, key: &str, holder: &str) -> Result<(), String> {
        let app = self.app()?;
        app.cert_release(key, holder)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The HTTPS socket's connections whose handshake is done.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

/// Serves `service` on the connections of `listener` — HTTP/2 where the handshake chose it
/// (ALPN), else HTTP/1.1 with upgrades (WebSockets) — until `ending` turns true; then lets the
/// connections finish their requests (the caller bounds how long: dropping this future ends the
/// connections left).
pub async fn serve_tls<S>(mut listener: TlsListener, service: S, mut ending: watch::Receiver<bool>)
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // owned here: connections still open when this future is dropped are cut off
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // no more connections once the socket closed, but the open ones are served until `ending`
        // (the drain: their answers say `Connection: close`)
        let accepted = tokio::select! {
            Some(c) = listener.ready.recv() => Some(c),
            _ = async { let _ = ending.wait_for(|e| *e).await; } => None,
        };
        let Some((tls, peer)) = accepted else { break };
        while connections.try_join_next().is_some() {}
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        // what axum's own serve adds: the peer's address (`ConnectInfo`), and its body type
        let service = service.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(service.clone(), req.map(Body::new))
            });
        // the protocol is known from the handshake: no sniffing for an HTTP/2 preface
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        let builder = match h2 {
            true => builder.http2_only(),
            false => builder.http1_only(),
        };
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(tls), service)
            .into_owned();
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "HTTPS connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}

/// How many TLS handshakes may run at once; connections beyond are closed at once.
const HANDSHAKES: usize = 1024;

/// Accepts connections on `listener` until `closing` turns true (the socket then closes), each
/// handshake in its own task (a slow client never holds up the others).
pub fn tls_listener(
    listener: TcpListener,
    acme: Acme,
    mut closing: watch::Receiver<bool>,
) -> io::Result<TlsListener> {
    let (tx, ready) = mpsc::channel(64);
    let handshakes = std::sync::Arc::new(tokio::sync::Semaphore::new(HANDSHAKES));
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                _ = async { let _ = closing.wait_for(|c| *c).await; } => break,
                accepted = listener.accept() => match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // out of file descriptors and the like: let it pass, do not spin
                        tracing::debug!(error = %e, "cannot accept an HTTPS connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            // as on plain HTTP (`kiln_http::conn::Conn::new`)
            let _ = tcp.set_nodelay(true);
            let Ok(permit) = handshakes.clone().try_acquire_owned() else {
                tracing::debug!(%peer, "too many TLS handshakes at once: connection closed");
                continue;
            };
            let (acme, tx) = (acme.clone(), tx.clone());
            tokio::spawn(async move {
                let accepted = acme.accept(tcp).await;
                drop(permit);
                match accepted {
                    Ok(Some(tls)) => {
                        let _ = tx.send((tls, peer)).await;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                }
            });
        }
    });
    Ok(TlsListener { ready })
}

/// What the plain-HTTP socket serves: answers to HTTP-01 challenges; the app itself until the
/// first certificate is in place (so the app stays reachable while a CA is slow or failing);
/// then redirects to `https_port`, all but `GET /api/health`.
pub fn http_router(app: kiln_http::Api, acme: Acme, https_port: u16) -> kiln_http::Api {
    let challenges = acme.clone();
    let answer = move |Path(token): Path<String>| async move {
        match challenges.http01(&token).await {
            Some(key_authorization) => {
                ([(header::CONTENT_TYPE, "text/plain")], key_authorization).into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        }
    };
    let served = acme.served();
    let domains: Vec<String> = acme.domains().to_vec();
    let to_https = move |req: Request, next: Next| {
        // health probes (a container's, a balancer's) often speak plain HTTP to the node
        let redirect = (served.borrow().is_some() && req.uri().path() != "/api/health")
            .then(|| redirect(&req, &domains, https_port));
        async move {
            match redirect {
                Some(r) => r,
                None => next.run(req).await,
            }
        }
    };
    kiln_http::Api::new(
        Router::new()
            .route(
                "/.well-known/acme-challenge/{token}",
                axum::routing::get(answer),
            )
            .fallback_service(
                tower::ServiceBuilder::new()
                    .layer(axum::middleware::from_fn(to_https))
                    .service(app),
            ),
    )
}

/// The redirect of a plain-HTTP request, as PocketBase's (Go's autocert) does it: `302` for GET
/// and HEAD, and a `400` in the API's envelope for other methods (a body sent in clear should
/// not be sent again). The target host is the request's if it is one of `domains` (never another
/// site's), else the first.
fn redirect(req: &Request, domains: &[String], https_port: u16) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return kiln_http::error::ApiError::bad_request("Use HTTPS.").into_response();
    }
    let asked = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h, |(host, _)| host)
                .to_ascii_lowercase()
        });
    let host = asked
        .filter(|h| domains.contains(h))
        .unwrap_or_else(|| domains[0].clone());
    let port = match https_port {
        443 => String::new(),
        p => format!(":{p}"),
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, format!("https://{host}{port}{path}"))
        .body(Body::empty())
        .unwrap_or_default()
}
