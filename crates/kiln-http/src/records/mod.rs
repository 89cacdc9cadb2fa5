//! `/api/collections/{collection}/records`: the records API.

pub(crate) mod common;
mod create;
mod delete;
mod list;
mod update;
mod view;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/api/collections/{collection}/records",
            // Record bodies set their own limit from the collection's file fields (RecordBody).
            get(list::handler)
                .post(create::handler)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/collections/{collection}/records/{id}",
            get(view::handler)
                .patch(update::handler)
                .delete(delete::handler)
                .layer(DefaultBodyLimit::disable()),
        )
}
