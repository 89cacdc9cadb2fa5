//! Cross-origin requests, answered as PocketBase's CORS middleware answers them: every origin
//! by default (`*`), or a list of allowed origins (exact, `https://*.example.com` subdomains, or
//! `*`/`?` wildcard patterns); every `OPTIONS` request is a preflight, answered with 204 before
//! routing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The methods a preflight allows (PocketBase's default).
const ALLOW_METHODS: &str = "GET,HEAD,PUT,PATCH,POST,DELETE";

/// Which origins may call the API from a browser.
#[derive(Debug, Clone)]
pub struct Cors {
    /// As given: `*`, an origin (`https://app.example.com`), a subdomain pattern
    /// (`https://*.example.com`) or a wildcard pattern (`*` any run, `?` one character).
    origins: Vec<String>,
}

impl Default for Cors {
    fn default() -> Self {
        Cors::new(vec!["*".to_owned()])
    }
}

impl Cors {
    /// Allows `origins`; an empty list means every origin, as PocketBase's default.
    pub fn new(origins: Vec<String>) -> Self {
        let origins: Vec<String> = origins
            .into_iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if origins.is_empty() {
            return Cors::default();
        }
        Cors { origins }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed
    /// (`*` without allocating: the default answers every request that has an `Origin`).
    fn allow(&self, origin: &str) -> Option<HeaderValue> {
        let echo = || HeaderValue::from_str(origin).ok();
        for o in &self.origins {
            if o == "*" {
                return Some(HeaderValue::from_static("*"));
            }
            if o == origin || matches_subdomain(origin, o) {
                return echo();
            }
        }
        // wildcard patterns only for what looks like an origin (PocketBase's bound)
        if origin.len() <= 253 + 3 + 5 && origin.contains("://") {
            let by_pattern = self
                .origins
                .iter()
                .any(|o| o.contains(['*', '?']) && glob(o.as_bytes(), origin.as_bytes()));
            if by_pattern {
                return echo();
            }
        }
        None
    }
}

/// The middleware: `Vary: Origin` on every answer, the allow headers for allowed origins, and
/// 204 for every preflight.
pub async fn middleware(State(cors): State<Arc<Cors>>, req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.is_empty());
    let allow = origin.and_then(|o| cors.allow(o));
    if !preflight {
        let mut res = next.run(req).await;
        let h = res.headers_mut();
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(value) = allow {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
        return res;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(value) = allow {
        preflight_headers(h, value, req.headers());
    }
    res
}

fn preflight_headers(h: &mut HeaderMap, allow_origin: HeaderValue, req: &HeaderMap) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    h.append(
        header::VARY,
        HeaderValue::from_static("Access-Control-Request-Method"),
    );
    h.append(
        header::VARY,
        HeaderValue::from_static("Access-Control-Request-Headers"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    if let Some(asked) = req
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .filter(|v| !v.is_empty())
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
}

/// Whether `origin` is a subdomain of the pattern `https://*.example.com` (same scheme; the
/// pattern's labels, right to left, match until a `*`).
fn matches_subdomain(origin: &str, pattern: &str) -> bool {
    let (Some((o_scheme, o_host)), Some((p_scheme, p_host))) =
        (origin.split_once("://"), pattern.split_once("://"))
    else {
        return false;
    };
    if o_scheme != p_scheme || o_host.len() > 253 {
        return false;
    }
    let mut pat = p_host.rsplit('.');
    for label in o_host.rsplit('.') {
        match pat.next() {
            None => return false,
            Some("*") => return true,
            Some(p) if p != label => return false,
            Some(_) => {}
        }
    }
    false
}

/// `*` matches any run of bytes, `?` one byte; everything else itself. Iterative with one
/// backtrack point, so linear in practice and never exponential.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(list: &[&str]) -> Cors {
        Cors::new(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn every_origin_by_default() {
        assert_eq!(
            Cors::new(vec![])
                .allow("https://a.io")
                .as_ref()
                .map(|v| v.to_str().unwrap()),
            Some("*")
        );
        assert_eq!(
            cors(&[" ", ""])
                .allow("http://x")
                .as_ref()
                .map(|v| v.to_str().unwrap()),
            Some("*")
        );
    }

    #[test]
    fn listed_origins_subdomains_and_patterns() {
        let c = cors(&[
            "https://app.example.com",
            "https://*.corp.io",
            "http://localhost:*",
        ]);
        assert_eq!(
            c.allow("https://app.example.com")
                .as_ref()
                .map(|v| v.to_str().unwrap()),
            Some("https://app.example.com")
        );
        assert_eq!(c.allow("https://evil.example.com"), None);
        assert_eq!(c.allow("http://app.example.com"), None);
        assert_eq!(
            c.allow("https://a.b.corp.io")
                .as_ref()
                .map(|v| v.to_str().unwrap()),
            Some("https://a.b.corp.io")
        );
        assert_eq!(c.allow("https://corp.io"), None);
        assert_eq!(c.allow("https://corp.io.evil.com"), None);
        assert_eq!(
            c.allow("http://localhost:5173")
                .as_ref()
                .map(|v| v.to_str().unwrap()),
            Some("http://localhost:5173")
        );
        assert_eq!(c.allow("null"), None);
    }

    #[test]
    fn glob_matching() {
        assert!(glob(b"a*c", b"abbbc"));
        assert!(glob(b"a?c", b"abc"));
        assert!(!glob(b"a?c", b"ac"));
        assert!(glob(b"*", b""));
        assert!(!glob(b"a*b", b"aaaa"));
        assert!(glob(b"*a*a*a*a*b", b"aaaaaaaaaaaaaaaaaaaab"));
        assert!(!glob(b"*a*a*a*a*b", &[b'a'; 5000]));
    }
}
