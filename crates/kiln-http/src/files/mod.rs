//! `/api/files`: file downloads (with thumbnails and ranges) and file tokens.

pub(crate) mod download;
mod token;

use axum::routing::{get, post};
use axum::Router;

use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/files/token", post(token::handler))
        .route(
            "/api/files/{collection}/{record}/{filename}",
            get(download::handler).head(download::handler),
        )
}
