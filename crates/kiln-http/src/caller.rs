//! Who is calling: the auth token's record and the client's address, resolved once per request
//! (by the request log layer) for the handlers' [`crate::extract::Ctx`] to reuse.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::header;

use kiln_core::records::model::Record;
use kiln_core::App;

/// Who is calling, resolved once per request by the log layer.
#[derive(Clone)]
pub(crate) struct Caller {
    pub auth: Option<Arc<Record>>,
    pub ip: Option<IpAddr>,
}

impl Caller {
    /// Resolves the caller of a request: the auth token's record and the client's address
    /// (`settings`: the app's current ones, read once per request by the caller).
    pub(crate) fn resolve(
        app: &App,
        settings: &kiln_core::settings::Settings,
        headers: &axum::http::HeaderMap,
        remote: Option<IpAddr>,
    ) -> Caller {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| app.auth_from_token(t));
        let ip = client_ip(&settings.trusted_proxy, headers, remote);
        Caller { auth, ip }
    }
}

/// The client's IP: the first configured trusted-proxy header present (its leftmost or
/// rightmost address, per the settings), else the connection's peer address.
pub fn client_ip(
    proxy: &kiln_core::settings::TrustedProxy,
    headers: &axum::http::HeaderMap,
    remote: Option<IpAddr>,
) -> Option<IpAddr> {
    for name in &proxy.headers {
        let Some(v) = headers.get(name.as_str()).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let mut parts = v.split(',').map(str::trim).filter(|p| !p.is_empty());
        let pick = if proxy.use_leftmost_ip {
            parts.next()
        } else {
            parts.next_back()
        };
        if let Some(ip) = pick.and_then(|p| p.parse::<IpAddr>().ok()) {
            return Some(ip);
        }
    }
    remote
}
