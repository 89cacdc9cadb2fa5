//! The span a request is served in when it carries an id (`X-Request-Id`): kiln-http opens it,
//! and the log lines written inside it name the request. Work a request starts in the background
//! (an email) can keep it with [`follow_request`].

use std::future::Future;

use tracing::instrument::Instrumented;
use tracing::Instrument;

/// The target of the request span. Its level is ERROR, so that every level filter keeps it (a
/// WARN line must carry the id under `KILN_LOG=warn` too); it is not a trace span (the OTLP
/// exporter leaves it out).
pub const REQUEST_SPAN_TARGET: &str = "kiln::request";

/// `fut` inside the request span it is started from, if there is one (not inside any other span:
/// a trace span would then last as long as the background work).
pub fn follow_request<F: Future>(fut: F) -> Instrumented<F> {
    let current = tracing::Span::current();
    let span = match current.metadata() {
        Some(m) if m.target() == REQUEST_SPAN_TARGET => current,
        _ => tracing::Span::none(),
    };
    fut.instrument(span)
}
