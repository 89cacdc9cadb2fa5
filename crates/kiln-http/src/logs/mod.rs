//! `/api/logs`: the request log, for superusers.

mod clear;
mod list;
mod stats;
mod view;

use axum::routing::get;
use axum::Router;
use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/logs", get(list::handler).delete(clear::handler))
        .route("/api/logs/stats", get(stats::handler))
        .route("/api/logs/{id}", get(view::handler))
}
