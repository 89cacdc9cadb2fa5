//! The request metrics' handles, made once per route and method: recording a request is then
//! an atomic add and a histogram sample, with no label set built, hashed and looked up in the
//! recorder's registry (about 10,000 instructions a request when it was).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::Method;
use metrics::{Counter, Histogram, SharedString};

/// Requests answered, by route, method and status.
pub const REQUESTS: &str = "kiln_http_requests_total";
/// Seconds to a request's response head, by route and method.
pub const REQUEST_SECONDS: &str = "kiln_http_request_duration_seconds";

/// Statuses whose counters are kept at hand; others are looked up when they happen (rare).
const COMMON: [u16; 20] = [
    200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502,
    503,
];

/// The metrics of one route (its pattern, or `other`) and method.
pub(crate) struct RouteMetrics {
    route: SharedString,
    method: &'static str,
    duration: Histogram,
    common: [OnceLock<Counter>; COMMON.len()],
}

impl RouteMetrics {
    /// The route's pattern.
    pub(crate) fn route(&self) -> &str {
        &self.route
    }

    pub(crate) fn new(route: SharedString, method: &Method) -> RouteMetrics {
        let method = method_label(method);
        RouteMetrics {
            duration: metrics::histogram!(REQUEST_SECONDS, "route" => route.clone(), "method" => method),
            route,
            method,
            common: Default::default(),
        }
    }

    /// Counts and times one answered request.
    pub(crate) fn record(&self, status: u16, took: Duration) {
        self.duration.record(took.as_secs_f64());
        match COMMON.iter().position(|s| *s == status) {
            Some(i) => self.common[i]
                .get_or_init(|| self.counter(status))
                .increment(1),
            None => self.counter(status).increment(1),
        }
    }

    fn counter(&self, status: u16) -> Counter {
        metrics::counter!(REQUESTS, "route" => self.route.clone(), "method" => self.method, "status" => status_label(status))
    }

    /// The metrics of requests no route answered (static files, hooks' routes, not found).
    pub(crate) fn other(method: &Method) -> &'static RouteMetrics {
        static OTHER: OnceLock<Vec<RouteMetrics>> = OnceLock::new();
        let all = OTHER.get_or_init(|| {
            METHODS
                .iter()
                .map(|m| RouteMetrics::new(SharedString::const_str("other"), m))
                .collect()
        });
        &all[method_index(method)]
    }
}

/// The methods with labels of their own; the last stands for every other.
const METHODS: [Method; 8] = [
    Method::GET,
    Method::POST,
    Method::PATCH,
    Method::PUT,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
    Method::TRACE,
];

/// The method as a static label (an unknown one: `OTHER`, so clients cannot add series).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The status as a label (`"200"`; outside 100–599: `other`).
fn status_label(status: u16) -> SharedString {
    match status {
        100..=599 => SharedString::from_owned(status.to_string()),
        _ => SharedString::const_str("other"),
    }
}

/// The metrics of one route, by method, shared by the copies of its service (each made at the
/// first request with that method, when the route's pattern is known).
#[derive(Default)]
pub(crate) struct RouteSlots([OnceLock<Arc<RouteMetrics>>; METHODS.len()]);

impl RouteSlots {
    /// The metrics of `route` requested with `method`.
    pub(crate) fn get(&self, route: &str, method: &Method) -> Arc<RouteMetrics> {
        self.0[method_index(method)]
            .get_or_init(|| {
                Arc::new(RouteMetrics::new(
                    SharedString::from_owned(route.to_owned()),
                    method,
                ))
            })
            .clone()
    }
}

fn method_index(method: &Method) -> usize {
    METHODS
        .iter()
        .position(|m| m == method)
        .unwrap_or(METHODS.len() - 1)
}
