//! `/api/webhooks/{name}`: the inbound webhook endpoints of the settings (Kiln's addition).

mod receive;

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::Router;
use kiln_core::App;

/// The largest delivery taken (Stripe's events are far smaller).
const MAX_DELIVERY: usize = 5 << 20;

pub fn router() -> Router<App> {
    Router::new().route(
        "/api/webhooks/{name}",
        post(receive::handler).layer(DefaultBodyLimit::max(MAX_DELIVERY)),
    )
}
