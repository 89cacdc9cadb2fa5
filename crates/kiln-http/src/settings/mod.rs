//! `/api/settings`: the app settings (superusers only).

mod apple_client_secret;
mod get;
mod test_email;
mod test_s3;
mod update;

use axum::routing::{get, post};
use axum::Router;

use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/settings", get(get::handler).patch(update::handler))
        .route("/api/settings/test/email", post(test_email::handler))
        .route("/api/settings/test/s3", post(test_s3::handler))
        .route(
            "/api/settings/apple/generate-client-secret",
            post(apple_client_secret::handler),
        )
}
