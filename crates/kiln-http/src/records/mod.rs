//! `/api/collections/{collection}/records`: the records API.

pub(crate) mod common;
mod create;
mod delete;
mod list;
mod update;
mod view;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};
use axum::Router;
use kiln_core::App;

/// The records routes; creates and updates go through the `Idempotency-Key` middleware (reads
/// do not pay for it).
pub fn router(app: &App) -> Router<App> {
    let idempotent =
        || axum::middleware::from_fn_with_state(app.clone(), crate::idempotency::middleware);
    Router::new()
        .route(
            "/api/collections/{collection}/records",
            // Record bodies set their own limit from the collection's file fields (RecordBody).
            get(list::handler)
                .merge(post(create::handler).layer(idempotent()))
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/collections/{collection}/records/{id}",
            get(view::handler)
                .merge(patch(update::handler).layer(idempotent()))
                .delete(delete::handler)
                .layer(DefaultBodyLimit::disable()),
        )
}
