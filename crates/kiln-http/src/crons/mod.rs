//! `/api/crons`: the cron jobs, listed and run on demand by superusers.

mod list;
mod run;

use axum::routing::{get, post};
use axum::Router;
use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/crons", get(list::handler))
        .route("/api/crons/{id}", post(run::handler))
}
