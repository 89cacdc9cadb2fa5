//! `/api/jobs`: the durable job queue, for superusers: list (by status and name), view, queue,
//! retry (a failed job, the dead letters) and delete. Jobs are run by the handlers the hooks
//! register (`jobAdd`), on every node.

mod create;
mod delete;
mod list;
mod retry;
mod view;

use axum::routing::{get, post};
use axum::Router;
use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/jobs", get(list::handler).post(create::handler))
        .route("/api/jobs/{id}", get(view::handler).delete(delete::handler))
        .route("/api/jobs/{id}/retry", post(retry::handler))
}
