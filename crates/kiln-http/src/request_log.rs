//! The request log: every API request's method, URL, status, duration, caller and error,
//! handed to the core's log (PocketBase's activity logger) once the response is ready; and the
//! request metrics (counted and timed by route, see [`crate::telemetry`]).
//!
//! A tower layer written by hand rather than `axum::middleware::from_fn` (which boxes a future
//! per request). It also resolves the caller once — the auth token and the client IP — for the
//! [`crate::extract::Ctx`] extractor to reuse.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderValue, Method, Uri};
use axum::response::Response;
use serde_json::{Map, Value};
use tower::{Layer, Service};

use kiln_core::logs::RequestFacts;
use kiln_core::records::Record;
use kiln_core::App;

use crate::caller::Caller;
use crate::error::LoggedError;
use crate::telemetry::{MatchedRoute, RouteMetrics};

/// Logs every request it wraps.
/// A response extension: log this request only if it failed (PocketBase's
/// `SkipSuccessActivityLog`, which its static file handler sets: the dashboard's and
/// `pb_public`'s files do not fill the log).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SkipSuccessLog;

#[derive(Clone)]
pub struct RequestLogLayer {
    app: App,
}

impl RequestLogLayer {
    pub fn new(app: App) -> Self {
        RequestLogLayer { app }
    }
}

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLogService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestLogService {
            inner,
            app: self.app.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RequestLogService<S> {
    inner: S,
    app: App,
}

/// What the log keeps of a request: its own values, cheap to keep (shared buffers), turned into
/// text by the log's writer thread.
struct Facts {
    method: Method,
    uri: Uri,
    auth: Option<Arc<Record>>,
    user_ip: Option<IpAddr>,
    remote_ip: Option<IpAddr>,
    referer: Option<HeaderValue>,
    user_agent: Option<HeaderValue>,
    request_id: Option<HeaderValue>,
    status: u16,
    exec_ms: f64,
    error: Option<LoggedError>,
}

impl RequestFacts for Facts {
    fn method(&self) -> &str {
        self.method.as_str()
    }
    fn url(&self) -> &str {
        self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    }
    fn status(&self) -> u16 {
        self.status
    }
    fn exec_ms(&self) -> f64 {
        self.exec_ms
    }
    fn auth(&self) -> Option<&Record> {
        self.auth.as_deref()
    }
    fn user_ip(&self) -> Option<IpAddr> {
        self.user_ip
    }
    fn remote_ip(&self) -> Option<IpAddr> {
        self.remote_ip
    }
    fn referer(&self) -> &str {
        header_text(&self.referer)
    }
    fn user_agent(&self) -> &str {
        header_text(&self.user_agent)
    }
    fn error(&self) -> Option<(&str, &Map<String, Value>)> {
        self.error.as_ref().map(|e| (e.0 .0.as_str(), &e.0 .1))
    }
    fn request_id(&self) -> &str {
        header_text(&self.request_id)
    }
}

/// The longest `X-Request-Id` kept (longer ones are ignored).
const MAX_REQUEST_ID: usize = 128;

fn header_text(v: &Option<HeaderValue>) -> &str {
    v.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("")
}

impl<S> Service<Request> for RequestLogService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = LogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let at = Instant::now();
        let remote = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let settings = self.app.settings();
        let caller = Caller::resolve(&self.app, &settings, req.headers(), remote);
        // a proxy's or client's id for the request: logged, and sent back
        let request_id = req
            .headers()
            .get("x-request-id")
            .filter(|v| v.len() <= MAX_REQUEST_ID && v.to_str().is_ok())
            .cloned();
        let started = (settings.logs.max_days > 0).then(|| Facts {
            method: req.method().clone(),
            uri: req.uri().clone(),
            auth: caller.auth.clone(),
            user_ip: caller.ip,
            remote_ip: remote,
            referer: req.headers().get(header::REFERER).cloned(),
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
            request_id: request_id.clone(),
            status: 0,
            exec_ms: 0.0,
            error: None,
        });
        req.extensions_mut().insert(caller);
        // Log lines written while the request is served name its id (text: `request{id="…"}:`,
        // JSON: `"span":{"id":…}`), matching the request log and the trace. Only for requests
        // that carry one: a span per request would cost every request.
        let span = request_id.as_ref().map(|id| {
            tracing::error_span!(
                target: kiln_core::logs::request::REQUEST_SPAN_TARGET,
                "request",
                id = id.to_str().unwrap_or("")
            )
        });
        let method = req.method().clone();
        let inner = {
            let _entered = span.as_ref().map(tracing::Span::enter);
            self.inner.call(req)
        };
        LogFuture {
            method,
            request_id,
            span,
            inner,
            at,
            started,
            app: self.app.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The wrapped response future; logs the request when it resolves.
    pub struct LogFuture<F> {
        #[pin]
        inner: F,
        at: Instant,
        method: Method,
        request_id: Option<HeaderValue>,
        span: Option<tracing::Span>,
        started: Option<Facts>,
        app: App,
    }
}

impl<F, E> Future for LogFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let entered = this.span.as_ref().map(tracing::Span::enter);
        let polled = this.inner.poll(cx);
        drop(entered);
        let mut res = match polled {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(res)) => res,
        };
        if let Some(id) = this.request_id.take() {
            res.headers_mut().insert("x-request-id", id);
        }
        let (status, took) = (res.status().as_u16(), this.at.elapsed());
        // left on the response: the binary's trace span reads the route from it too
        match res.extensions().get::<MatchedRoute>() {
            Some(route) => route.0.record(status, took),
            None => RouteMetrics::other(this.method).record(status, took),
        }
        let error = res.extensions_mut().remove::<LoggedError>();
        let skip_success = res.extensions_mut().remove::<SkipSuccessLog>().is_some();
        if let Some(mut facts) = this.started.take() {
            // The log's own pages do not log their successes either, so reading the log does
            // not grow it.
            let quiet =
                error.is_none() && (skip_success || facts.uri.path().starts_with("/api/logs"));
            if !quiet {
                facts.status = res.status().as_u16();
                facts.exec_ms = took.as_secs_f64() * 1000.0;
                facts.error = error;
                this.app.log_request(Box::new(facts));
            }
        }
        Poll::Ready(Ok(res))
    }
}
