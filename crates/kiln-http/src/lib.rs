//! Kiln's HTTP API, wire-compatible with PocketBase 0.40: one router per area, one file per
//! endpoint, and the error envelope in [`error`].

pub mod auth;
mod backups;
mod batch;
mod caller;
pub mod collections;
pub mod conn;
pub mod cors;
mod crons;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod files;
mod graphql;
pub mod headers;
mod health;
mod hooks;
pub mod idempotency;
mod jobs;
pub mod json;
mod logs;
pub mod openapi;
pub mod public;
pub mod ratelimit;
pub mod realtime;
pub mod records;
mod request_log;
pub mod settings;
mod sql;
pub mod telemetry;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use kiln_core::App;

use crate::error::ApiError;

/// Largest request body accepted (PocketBase's default).
pub const MAX_BODY_BYTES: usize = 32 << 20;

/// What the binary may set around the API.
#[derive(Clone, Default)]
pub struct HttpOptions {
    /// Which browser origins may call the API (every one by default).
    pub cors: cors::Cors,
    /// Static files served under every path the API does not use (`pb_public`).
    pub public: Option<public::PublicDir>,
    /// The dashboard at `/_/` (the embedded copy by default).
    pub dashboard: dashboard::DashboardSource,
    /// The app's `pb_hooks`, whose routes are served before Kiln's own.
    pub hooks: Option<std::sync::Arc<kiln_hooks::Hooks>>,
    /// With automigrate on: where collection changes made through the API write their
    /// migration files.
    pub automigrate: Option<std::sync::Arc<kiln_hooks::migrate::Automigrate>>,
    /// `GET /metrics` (off without a renderer).
    pub metrics: Option<telemetry::MetricsOptions>,
}

/// The whole API as one service: what the binary serves, and what tests call without a socket.
pub type Api = tower::util::BoxCloneSyncService<
    axum::extract::Request,
    axum::response::Response,
    std::convert::Infallible,
>;

/// The whole API; every origin may call it.
pub fn router(app: App) -> Api {
    router_with(app, HttpOptions::default())
}

/// The whole API with `options`.
///
/// The middleware every request passes (CORS, the request log, the security headers, the body
/// limit) wraps the router once, as one service. Given to `Router::layer` instead, it would wrap
/// each route's handler in boxed services of its own, one box per layer, all cloned on every
/// request (~10,000 instructions of a 100,000-instruction get, callgrind).
pub fn router_with(app: App, options: HttpOptions) -> Api {
    let public = options.public.map(std::sync::Arc::new);
    let router =
        Router::new()
            .route("/api/health", get(health::handler).head(health::handler))
            .route("/api/sql", axum::routing::post(sql::handler))
            .merge(batch::router().layer(axum::middleware::from_fn_with_state(
                app.clone(),
                idempotency::middleware,
            )))
            .merge(logs::router())
            .merge(crons::router())
            .merge(jobs::router())
            .merge(webhooks::router())
            .merge(backups::router())
            .merge(collections::router())
            .merge(records::router(&app))
            .merge(auth::router())
            .merge(realtime::router())
            .merge(settings::router())
            .merge(files::router())
            .merge(openapi::router())
            .merge(graphql::router())
            .merge(dashboard::router(options.dashboard))
            .merge(options.metrics.map(telemetry::router).unwrap_or_default())
            // the pattern of the route that answered, for the request metrics
            .route_layer(telemetry::RouteLabelLayer)
            .method_not_allowed_fallback(|| async { ApiError::not_found() })
            .fallback(
                |method: axum::http::Method,
                 uri: axum::http::Uri,
                 headers: axum::http::HeaderMap| async move {
                    // PocketBase serves static files for GET/HEAD under every other path.
                    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
                        return ApiError::not_found().into_response();
                    }
                    match public.as_deref() {
                        Some(dir) => {
                            let mut res = dir.serve(&method, &uri, &headers).await;
                            res.extensions_mut().insert(request_log::SkipSuccessLog);
                            res
                        }
                        None => {
                            ApiError::new(StatusCode::NOT_FOUND, "File not found.").into_response()
                        }
                    }
                },
            );
    let router = match options.automigrate {
        Some(a) => router.layer(axum::Extension(a)),
        None => router,
    };
    // the hooks' record hooks and routes, only when there are some (no cost otherwise)
    let router = match options.hooks.clone().filter(|h| h.hook_count() > 0) {
        Some(h) => router.layer(axum::Extension(h)),
        None => router,
    };
    let router = match options.hooks.clone().filter(|h| !h.routes().is_empty()) {
        Some(h) => router.layer(axum::middleware::from_fn_with_state(h, hooks::middleware)),
        None => router,
    };
    // routerUse: around every request, the hooks' routes included
    let router = match options.hooks.filter(|h| h.middleware_count() > 0) {
        Some(h) => router.layer(axum::middleware::from_fn_with_state(h, hooks::global)),
        None => router,
    };
    let log = request_log::RequestLogLayer::new(app.clone());
    let routed = router.with_state(app);
    tower::util::BoxCloneSyncService::new(
        tower::ServiceBuilder::new()
            // outermost: a preflight is answered before anything else, as PocketBase does
            .layer(axum::middleware::from_fn_with_state(
                std::sync::Arc::new(options.cors),
                cors::middleware,
            ))
            .layer(log)
            .layer(axum::middleware::map_response(headers::security_headers))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .service(routed),
    )
}
