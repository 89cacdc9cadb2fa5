//! `GET /metrics`: the server's metrics in Prometheus' text format, for a scraper holding the
//! metrics token, from an allowed address, or for a superuser. Requests are counted here by
//! route (the router's pattern, so ids do not multiply the series), method and status, and
//! timed by route and method; the core and the database record their own through the `metrics`
//! facade. What renders them (the exporter) is the binary's: Kiln's libraries only record.

mod handles;
mod route;
mod scrape;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use kiln_core::App;

pub(crate) use handles::RouteMetrics;
pub use handles::{REQUESTS, REQUEST_SECONDS};
pub(crate) use route::{MatchedRoute, RouteLabelLayer};
pub use scrape::MetricsOptions;

/// The route pattern that answered `res` (`/api/collections/{collection}/records`), if a route
/// of the API did.
pub fn route_of(res: &axum::response::Response) -> Option<&str> {
    res.extensions().get::<MatchedRoute>().map(|r| r.0.route())
}

/// The `/metrics` route (when the server has a renderer).
pub(crate) fn router(options: MetricsOptions) -> Router<App> {
    Router::new().route(
        "/metrics",
        get(scrape::handler).layer(axum::Extension(Arc::new(options))),
    )
}

/// Gives the installed recorder the help texts of the HTTP layer's metrics.
pub fn describe() {
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!(
        REQUESTS,
        "HTTP requests answered, by route, method and status."
    );
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to an HTTP response's head, by route and method."
    );
}
