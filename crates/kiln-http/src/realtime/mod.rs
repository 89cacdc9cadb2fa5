//! `/api/realtime`: PocketBase's realtime protocol over Server-Sent Events, and the same events over
//! a WebSocket at `/api/realtime/ws`.

pub(crate) mod connect;
mod direct;
mod frames;
mod hooks;
mod subscribe;
mod topics;
mod ws;

use axum::routing::get;
use axum::Router;

use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            crate::conn::HANDOVER_PATH,
            get(connect::handler).post(subscribe::handler),
        )
        .route("/api/realtime/ws", get(ws::handler))
}
