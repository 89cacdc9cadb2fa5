//! The dashboard at `/_/`: the files embedded by kiln-dashboard (or, for work on the dashboard
//! itself, a folder of them), under a strict Content-Security-Policy. The dashboard is a client
//! of the public API like any other: nothing here gives it more than its superuser token does.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use kiln_core::App;

use crate::error::ApiError;
use crate::public::PublicDir;
use crate::request_log::SkipSuccessLog;

/// Where the dashboard's files come from.
#[derive(Clone, Debug, Default)]
pub enum DashboardSource {
    /// The copy built into the binary.
    #[default]
    Embedded,
    /// A folder as `ui/build.mjs` writes it (`kiln serve --dashboardDir`), read on every request.
    Dir(PathBuf),
    /// No dashboard: `/_/` answers 404.
    Off,
}

/// Only the dashboard's own files run; the API is reached on the same origin; uploaded files
/// and previews of files about to be uploaded (`blob:`) may be shown; nothing may frame it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
                   media-src 'self' blob:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
                   frame-src 'self' blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `/_` (redirected to `/_/`), `/_/` and the files below it.
pub(crate) fn router(source: DashboardSource) -> Router<App> {
    let source = Arc::new(match source {
        DashboardSource::Dir(dir) => Source::Dir(PublicDir::new(dir, false)),
        DashboardSource::Embedded => Source::Embedded,
        DashboardSource::Off => Source::Off,
    });
    Router::new()
        .route("/_", get(|uri: Uri| async move { to_slash(&uri) }))
        .route("/_/", get(serve).head(serve))
        .route("/_/{*path}", get(serve).head(serve))
        .with_state(source)
}

enum Source {
    Embedded,
    Dir(PublicDir),
    Off,
}

fn to_slash(uri: &Uri) -> Response {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Redirect::permanent(&format!("/_/{query}")).into_response()
}

async fn serve(State(source): State<Arc<Source>>, req: Request) -> Response {
    let path = req.uri().path().strip_prefix("/_/").unwrap_or("");
    let mut res = match &*source {
        Source::Off => return ApiError::not_found().into_response(),
        Source::Embedded => {
            match kiln_dashboard::asset(if path.is_empty() { "index.html" } else { path }) {
                Some(asset) => embedded(asset, req.method(), req.headers()),
                None => return ApiError::not_found().into_response(),
            }
        }
        Source::Dir(dir) => {
            let Ok(uri) = format!("/{path}").parse::<Uri>() else {
                return ApiError::not_found().into_response();
            };
            let res = dir.serve(req.method(), &uri, req.headers()).await;
            if res.status() == StatusCode::NOT_FOUND {
                return res;
            }
            res
        }
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if matches!(&*source, Source::Dir(_)) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    // as PocketBase's static files: only failures are logged
    res.extensions_mut().insert(SkipSuccessLog);
    res
}

/// An embedded file: its brotli or gzip form when the client takes it, `304` when the client's
/// copy is current; hashed names are cached for good, the index is revalidated every time.
pub(crate) fn embedded(
    asset: &'static kiln_dashboard::Asset,
    method: &Method,
    headers: &HeaderMap,
) -> Response {
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut res = Response::new(Body::empty());
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == asset.etag || t.trim() == "*")
        });
    if fresh {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return res;
    }
    let accepts = |coding: &str| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|part| {
                let mut it = part.split(';');
                let name = it.next().unwrap_or("").trim();
                let q_zero = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                name.eq_ignore_ascii_case(coding) && !q_zero
            })
    };
    let (body, coding) = if accepts("br") {
        (asset.brotli, Some("br"))
    } else if accepts("gzip") {
        (asset.gzip, Some("gzip"))
    } else {
        (asset.body, None)
    };
    if let Some(c) = coding {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
    }
    res.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if method != Method::HEAD {
        *res.body_mut() = Body::from(body);
    }
    res
}
