//! Traces over OpenTelemetry's OTLP/HTTP (`--otlp URL`): one span per request (its parent taken
//! from the request's W3C `traceparent`), with the database and file storage calls the crates
//! open as `debug` spans beneath it. The SDK batches spans on a thread of its own and sends them
//! as protobuf to `<URL>/v1/traces`. Without `--otlp` none of this exists: the request spans are
//! not made, and the crates' spans are disabled at their call sites.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::Layer;

/// The target of the spans made for traces (here and in the libraries): only the OTLP layer wants
/// them, never the log on stderr nor the app's.
pub const TARGET: &str = "kiln::trace";

/// A filter that leaves out the spans made for traces.
pub fn not_trace() -> FilterFn {
    FilterFn::new(|m| !(m.is_span() && m.target() == TARGET))
}

/// The traces endpoint for `--otlp`: a collector's base URL gets the standard `/v1/traces`.
fn endpoint(url: &str) -> String {
    let url = url.trim_end_matches('/');
    if url.ends_with("/v1/traces") {
        url.to_owned()
    } else {
        format!("{url}/v1/traces")
    }
}

/// OTLP's HTTP client: reqwest's blocking client, called on the SDK's export thread.
#[derive(Debug)]
struct Blocking(reqwest::blocking::Client);

impl opentelemetry_http::HttpClient for Blocking {
    fn send_bytes<'a, 'b>(
        &'a self,
        request: axum::http::Request<bytes::Bytes>,
    ) -> Pin<
        Box<
            dyn Future<
                    Output = Result<
                        axum::http::Response<bytes::Bytes>,
                        opentelemetry_http::HttpError,
                    >,
                > + Send
                + 'b,
        >,
    >
    where
        'a: 'b,
    {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let res = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                // reported on stderr only (not a Kiln target: the app's log does not take it)
                .inspect_err(|e| tracing::warn!(target: "otlp", error = %e, "cannot send spans to the trace collector"))?;
            if !res.status().is_success() {
                tracing::warn!(target: "otlp", status = res.status().as_u16(), "the trace collector refused a batch of spans");
            }
            let mut out = axum::http::Response::builder().status(res.status());
            for (name, value) in res.headers() {
                out = out.header(name, value);
            }
            Ok(out.body(res.bytes()?)?)
        })
    }
}

/// The exporter for `url` and the tracing layer that feeds it (Kiln's spans only).
pub fn start(
    url: &str,
) -> Result<
    (
        SdkTracerProvider,
        impl Layer<tracing_subscriber::Registry> + Send + Sync,
    ),
    String,
> {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains('?') {
        return Err(format!(
            "--otlp {url}: expected an http:// or https:// URL without a query (a collector's base URL, e.g. http://127.0.0.1:4318)"
        ));
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("--otlp: cannot make the HTTP client: {e}"))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(Blocking(client))
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(endpoint(url))
        .build()
        .map_err(|e| format!("--otlp {url}: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("kiln")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("kiln"))
        .with_filter(FilterFn::new(|m| {
            // the request-id span is for log lines, not a trace span of its own
            m.is_span()
                && m.target().starts_with("kiln")
                && m.target() != kiln_core::logs::request::REQUEST_SPAN_TARGET
        }));
    Ok((provider, layer))
}

/// Sends the spans still batched, when dropped (at the end of `main`).
pub struct Flush(pub SdkTracerProvider);

impl Drop for Flush {
    fn drop(&mut self) {
        let _ = self
            .0
            .shutdown_with_timeout(std::time::Duration::from_secs(5));
    }
}

/// The parent of a request's span: its W3C trace context (`traceparent`, `tracestate`).
fn parent(req: &Request) -> Option<opentelemetry::Context> {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    struct Headers<'a>(&'a axum::http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    req.headers().get("traceparent")?;
    let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&Headers(req.headers()));
    cx.span().span_context().is_valid().then_some(cx)
}

/// A service that runs each request of `S` inside its span, when tracing is on (otherwise it
/// only passes the request on).
#[derive(Clone)]
pub struct Traced<S> {
    inner: S,
    on: bool,
}

impl<S> Traced<S> {
    pub fn new(inner: S, on: bool) -> Self {
        Self { inner, on }
    }
}

impl<S> tower::Service<Request> for Traced<S>
where
    S: tower::Service<Request, Response = Response> + Send,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = futures_util::future::Either<
        Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>,
        S::Future,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if !self.on {
            return futures_util::future::Either::Right(self.inner.call(req));
        }
        let method = req.method().clone();
        let span = tracing::info_span!(
            target: "kiln::trace",
            "request",
            otel.name = %method,
            otel.kind = "server",
            http.request.method = %method,
            url.path = %req.uri().path(),
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            request.id = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        if let Some(id) = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
        {
            span.record("request.id", id);
        }
        if let Some(cx) = parent(&req) {
            let _ = span.set_parent(cx);
        }
        // what the layers do in `call` belongs to the request too
        let answer = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        let recorded = span.clone();
        futures_util::future::Either::Left(Box::pin(
            async move {
                let res = answer.await?;
                recorded.record(
                    "http.response.status_code",
                    i64::from(res.status().as_u16()),
                );
                if res.status().is_server_error() {
                    recorded.record("otel.status_code", "ERROR");
                }
                if let Some(route) = kiln_http::telemetry::route_of(&res) {
                    use opentelemetry::trace::TraceContextExt;
                    recorded.record("http.route", route);
                    // the OpenTelemetry span exists by now: `otel.name` would no longer rename it
                    recorded
                        .context()
                        .span()
                        .update_name(format!("{method} {route}"));
                }
                Ok(res)
            }
            .instrument(span),
        ))
    }
}
