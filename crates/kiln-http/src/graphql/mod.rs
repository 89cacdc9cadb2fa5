//! `/api/graphql`: a GraphQL API made from the live collections (Kiln's extension; PocketBase
//! has none). Queries, mutations and subscriptions run the REST API's own paths — the same
//! rules, validation, hooks and realtime — so GraphQL reaches no record REST would not.
//!
//! - `POST /api/graphql`: a JSON request, or a multipart one for file uploads (the GraphQL
//!   multipart request spec); `GET /api/graphql?query=…`: queries only.
//! - `GET /api/graphql` with a WebSocket upgrade: the `graphql-transport-ws` protocol (and the
//!   older `graphql-ws`); a token may come in `connection_init`'s payload as `Authorization`.
//!
//! Each caller class has its schema (superusers, everyone else), rebuilt when a collection
//! changes. Limits: [`build::MAX_DEPTH`], [`build::MAX_COMPLEXITY`], and at most
//! [`call::MAX_RECORDS`] records loaded by one request's pages.

mod build;
mod cache;
mod call;
mod http;
mod names;
mod read;
mod subscribe;
mod value;
mod write;
mod ws;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Extension, Router};

use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/api/graphql",
            // a multipart request's limit follows the collections' file fields (http::post)
            get(http::get)
                .post(http::post)
                .layer(DefaultBodyLimit::disable()),
        )
        .layer(Extension(Arc::new(cache::Cache::default())))
}
