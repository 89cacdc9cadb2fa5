//! `/api/realtime`: PocketBase's realtime protocol over Server-Sent Events.

mod connect;
mod subscribe;

use axum::routing::get;
use axum::Router;

use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new().route("/api/realtime", get(connect::handler).post(subscribe::handler))
}
