//! Rate limiting of API requests: labels each matched route as PocketBase does
//! (`users:authWithPassword`, `*:auth`, `POST /api/…`, `/api/…`) and asks the core's limiter.
//! Superusers and excluded IPs pass; over the limit is a 429 with `Retry-After`.

use std::sync::Arc;

use axum::extract::MatchedPath;
use axum::http::request::Parts;
use axum::http::Method;

use kiln_core::records::Record;
use kiln_core::{App, CoreError};

use crate::error::{api, ApiError};

/// The action tags of a collection route (PocketBase's names), by method and route pattern.
fn tags(method: &Method, route: &str) -> &'static [&'static str] {
    let tail = route
        .strip_prefix("/api/collections/{collection}")
        .unwrap_or("");
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
        ("POST", "/passkeys/register-begin") | ("POST", "/passkeys/register-finish") => {
            &["registerPasskey"]
        }
        _ => &[],
    }
}

/// Whether any rule could apply to the request, decided without allocating (most requests
/// match no rule: Kiln's default has only `*:auth`).
fn any_rule_may_apply(
    rules: &[kiln_core::settings::RateLimitRule],
    tags: &[&str],
    method: &str,
    path: &str,
) -> bool {
    let path_hit = |p: &str| path == p || (p.ends_with('/') && path.starts_with(p));
    rules.iter().any(|r| {
        let l = r.label.as_str();
        if l.starts_with('/') {
            path_hit(l)
        } else if let Some((m, p)) = l.split_once(' ') {
            m == method && path_hit(p)
        } else if let Some((_, tag)) = l.split_once(':') {
            tags.contains(&tag)
        } else {
            false
        }
    })
}

/// Counts the request against the settings' rate limits; an error is the 429 to answer. Called
/// by the `Ctx` extractor once the route and the auth are known (a middleware layer around every
/// route cost about 4,000 instructions a request; this costs a few hundred when no rule applies).
pub(crate) fn check(
    app: &App,
    parts: &Parts,
    auth: Option<&Arc<Record>>,
    ip: Option<std::net::IpAddr>,
) -> Result<(), ApiError> {
    let settings = app.settings();
    let Some(limits) = limits_for(&settings, auth) else {
        return Ok(());
    };
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str())
        .unwrap_or("");
    let path = parts.uri.path();
    let tags = tags(&parts.method, route);
    // `/api/collections/{collection}/…`: the collection as named in the URL.
    let collection = if tags.is_empty() {
        ""
    } else {
        path.split('/').nth(3).unwrap_or("")
    };
    count(
        app,
        limits,
        auth,
        ip,
        Labels {
            method: parts.method.as_str(),
            path,
            collection,
            tags,
            route,
        },
    )
}

/// The rate limits to count a request against: none when they are off or the caller is a
/// superuser (decided before any label is worked out: most requests stop here).
fn limits_for<'s>(
    settings: &'s kiln_core::settings::Settings,
    auth: Option<&Arc<Record>>,
) -> Option<&'s kiln_core::settings::RateLimits> {
    let limits = &settings.rate_limits;
    let superuser =
        auth.is_some_and(|r| r.collection.name == kiln_core::schema::system::SUPERUSERS);
    (limits.enabled && !limits.rules.is_empty() && !superuser).then_some(limits)
}

/// What a request is counted as.
struct Labels<'a> {
    method: &'a str,
    path: &'a str,
    /// The collection as the URL names it (`""` outside collection routes).
    collection: &'a str,
    tags: &'a [&'a str],
    route: &'a str,
}

/// Counts one write of a batch as PocketBase does: by its collection and action (`create`,
/// `update`, `delete`) and its own method and path.
pub(crate) fn check_batch_write(
    app: &App,
    auth: Option<&Arc<Record>>,
    ip: Option<std::net::IpAddr>,
    method: &str,
    path: &str,
    collection: &str,
    tag: &'static str,
) -> Result<(), ApiError> {
    let settings = app.settings();
    let Some(limits) = limits_for(&settings, auth) else {
        return Ok(());
    };
    let tags = match tag {
        "create" => &["create"],
        "update" => &["update"],
        _ => &["delete"],
    };
    count(
        app,
        limits,
        auth,
        ip,
        Labels {
            method,
            path,
            collection,
            tags,
            route: "/api/batch",
        },
    )
}

fn count(
    app: &App,
    limits: &kiln_core::settings::RateLimits,
    auth: Option<&Arc<Record>>,
    ip: Option<std::net::IpAddr>,
    l: Labels<'_>,
) -> Result<(), ApiError> {
    let Labels {
        method,
        path,
        collection,
        tags,
        route,
    } = l;
    if !any_rule_may_apply(&limits.rules, tags, method, path) {
        return Ok(());
    }
    let mut labels: Vec<String> = Vec::with_capacity(2 * tags.len() + 1);
    labels.extend(tags.iter().map(|t| format!("{collection}:{t}")));
    labels.extend(tags.iter().map(|t| format!("*:{t}")));
    labels.push(format!("{method} {path}"));
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    // Collection routes count per collection and route, others per rule.
    let scope = if tags.is_empty() {
        String::new()
    } else {
        format!("{collection} {route}")
    };
    app.rate_limiter()
        .check(limits, &label_refs, path, auth.is_some(), ip, &scope)
        .map_err(|l| {
            metrics::counter!(kiln_core::metrics::RATE_LIMITED).increment(1);
            api(CoreError::RateLimited {
                retry_after: l.retry_after_secs,
            })
        })
}
