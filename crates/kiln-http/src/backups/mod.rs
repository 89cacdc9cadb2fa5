//! `/api/backups`: backups of the data dir, for superusers (downloads with a superuser's file
//! token).

mod create;
mod delete;
mod download;
mod list;
mod restore;
mod upload;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/backups", get(list::handler).post(create::handler))
        .route(
            "/api/backups/upload",
            // An archive is as large as the data (PocketBase sets no limit); it streams to disk.
            post(upload::handler).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/backups/{key}",
            get(download::handler).delete(delete::handler),
        )
        .route("/api/backups/{key}/restore", post(restore::handler))
}
