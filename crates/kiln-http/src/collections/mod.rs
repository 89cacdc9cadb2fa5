//! `/api/collections`: the collections API (superusers only).

mod automigrate;
mod create;
mod delete;
mod dry_run_view;
mod hooks;
mod import;
mod list;
mod oauth2_providers;
mod scaffolds;
mod truncate;
mod update;
mod view;

use axum::routing::{delete as delete_route, get, put};
use axum::Router;

use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/collections", get(list::handler).post(create::handler))
        .route("/api/collections/meta/scaffolds", get(scaffolds::handler))
        .route(
            "/api/collections/meta/dry-run-view",
            axum::routing::post(dry_run_view::handler),
        )
        .route(
            "/api/collections/meta/oauth2-providers",
            get(oauth2_providers::handler),
        )
        .route("/api/collections/import", put(import::handler))
        .route(
            "/api/collections/{collection}",
            get(view::handler)
                .patch(update::handler)
                .delete(delete::handler),
        )
        .route(
            "/api/collections/{collection}/truncate",
            delete_route(truncate::handler),
        )
}
