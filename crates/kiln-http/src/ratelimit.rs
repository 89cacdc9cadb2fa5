//! The rate limit middleware: labels each matched route as PocketBase does
//! (`users:authWithPassword`, `*:auth`, `POST /api/…`, `/api/…`) and asks the core's limiter.
//! Superusers and excluded IPs pass; over the limit is a 429 with `Retry-After`.

use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use kiln_core::records::Record;
use kiln_core::{App, CoreError};

use crate::error::api;

/// The auth record the middleware resolved, reused by the `Ctx` extractor.
#[derive(Clone)]
pub struct ResolvedAuth(pub Option<Arc<Record>>);

/// The action tags of a collection route (PocketBase's names), by method and route pattern.
fn tags(method: &Method, route: &str) -> &'static [&'static str] {
    let tail = route.strip_prefix("/api/collections/{collection}").unwrap_or("");
    match (method.as_str(), tail) {
        ("GET", "/records") => &["list"],
        ("GET", "/records/{id}") => &["view"],
        ("POST", "/records") => &["create"],
        ("PATCH", "/records/{id}") => &["update"],
        ("DELETE", "/records/{id}") => &["delete"],
        ("GET", "/auth-methods") => &["listAuthMethods"],
        ("POST", "/auth-refresh") => &["authRefresh"],
        ("POST", "/auth-with-password") => &["authWithPassword", "auth"],
        ("POST", "/auth-with-oauth2") => &["authWithOAuth2", "auth"],
        ("POST", "/request-otp") => &["requestOTP"],
        ("POST", "/auth-with-otp") => &["authWithOTP", "auth"],
        ("POST", "/request-password-reset") => &["requestPasswordReset"],
        ("POST", "/confirm-password-reset") => &["confirmPasswordReset"],
        ("POST", "/request-verification") => &["requestVerification"],
        ("POST", "/confirm-verification") => &["confirmVerification"],
        ("POST", "/request-email-change") => &["requestEmailChange"],
        ("POST", "/confirm-email-change") => &["confirmEmailChange"],
        ("POST", "/auth-with-passkey-begin") => &["requestPasskey"],
        ("POST", "/auth-with-passkey") => &["authWithPasskey", "auth"],
        ("POST", "/passkeys/register-begin") | ("POST", "/passkeys/register-finish") => &["registerPasskey"],
        _ => &[],
    }
}

pub async fn layer(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let settings = app.settings();
    let limits = &settings.rate_limits;
    if !limits.enabled || limits.rules.is_empty() {
        return next.run(req).await;
    }
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let tags = tags(&method, &route);
    // `/api/collections/{collection}/…`: the collection as named in the URL.
    let collection = if tags.is_empty() { "" } else { path.split('/').nth(3).unwrap_or("") };
    let mut labels: Vec<String> = Vec::with_capacity(2 * tags.len() + 2);
    labels.extend(tags.iter().map(|t| format!("{collection}:{t}")));
    labels.extend(tags.iter().map(|t| format!("*:{t}")));
    labels.push(format!("{method} {path}"));
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let guest_rule = kiln_core::ratelimit::find_rule(limits, &label_refs, &path, false).is_some();
    let auth_rule = kiln_core::ratelimit::find_rule(limits, &label_refs, &path, true).is_some();
    if !guest_rule && !auth_rule {
        return next.run(req).await;
    }
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| app.auth_from_token(t));
    let superuser = auth.as_ref().is_some_and(|r| r.collection.name == kiln_core::schema::system::SUPERUSERS);
    let authenticated = auth.is_some();
    req.extensions_mut().insert(ResolvedAuth(auth));
    if !superuser {
        let remote = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let ip = crate::extract::client_ip(&settings.trusted_proxy, req.headers(), remote);
        // Collection routes count per collection and route, others per rule.
        let scope = if tags.is_empty() { String::new() } else { format!("{collection} {route}") };
        if let Err(l) = app.rate_limiter().check(limits, &label_refs, &path, authenticated, &ip, &scope) {
            return api(CoreError::RateLimited { retry_after: l.retry_after_secs, message: "Too Many Requests." }).into_response();
        }
    }
    next.run(req).await
}
