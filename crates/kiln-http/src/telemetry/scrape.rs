//! `GET /metrics`

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use kiln_core::App;

use crate::caller::Caller;
use crate::error::ApiError;

/// Who may read `/metrics` and how they are rendered.
#[derive(Clone)]
pub struct MetricsOptions {
    /// Renders every recorded metric in Prometheus' text format (the binary's exporter).
    pub render: Arc<dyn Fn() -> String + Send + Sync>,
    /// A bearer token that may read them (`Authorization: Bearer …`).
    pub token: Option<String>,
    /// Addresses and CIDR ranges of the connection that may read them without a token.
    pub allow: Vec<String>,
}

/// The metrics, for the metrics token, an allowed connection address or a superuser; anyone
/// else gets a 403 (a 401 without credentials, so a scraper's missing token is plain).
pub(super) async fn handler(State(app): State<App>, req: Request) -> Response {
    let (headers, ext) = (req.headers(), req.extensions());
    let Some(options) = ext.get::<Arc<MetricsOptions>>() else {
        return ApiError::not_found().into_response();
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token_ok = match (&options.token, bearer) {
        (Some(want), Some(got)) => bool::from(want.as_bytes().ct_eq(got.as_bytes())),
        _ => false,
    };
    let caller = ext.get::<Caller>();
    let superuser = caller
        .and_then(|c| c.auth.as_ref())
        .is_some_and(|r| r.collection.name == kiln_core::schema::system::SUPERUSERS);
    let allowed_ip = !options.allow.is_empty()
        && kiln_core::net::ip_in(
            &options.allow,
            client_address(headers, caller, ext.get::<ConnectInfo<SocketAddr>>()),
        );
    if !(token_ok || superuser || allowed_ip) {
        let status = match headers.contains_key(header::AUTHORIZATION) {
            true => StatusCode::FORBIDDEN,
            false => StatusCode::UNAUTHORIZED,
        };
        return ApiError::new(status, "The metrics need the metrics token.").into_response();
    }
    app.sample_gauges();
    let body = (options.render)();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The address the allow-list judges: the client as the trusted-proxy settings resolve it
/// (IPv4 clients of an IPv6 socket as IPv4); `None` — not allowed by address — for a request
/// from a browser page (it carries `Origin`: a page elsewhere must not read the metrics through a
/// visitor inside the allowed network) or relayed by a proxy the settings do not name (its
/// connection's address is the proxy's, which may well be allowed).
fn client_address(
    headers: &axum::http::HeaderMap,
    caller: Option<&Caller>,
    peer: Option<&ConnectInfo<SocketAddr>>,
) -> Option<std::net::IpAddr> {
    if headers.contains_key(header::ORIGIN) {
        return None;
    }
    let peer = peer.map(|c| c.0.ip().to_canonical());
    let ip = caller.and_then(|c| c.ip).map(|ip| ip.to_canonical());
    let relayed = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    // the settings' trusted proxy resolved another address: that is the client
    match (ip, peer) {
        (Some(ip), Some(peer)) if ip != peer => Some(ip),
        _ if relayed => None,
        _ => peer,
    }
}
