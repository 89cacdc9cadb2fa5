//! The server's own log lines (warnings, errors, notable events of Kiln's crates) also go to the
//! app's log, as PocketBase's logger writes them to `_logs`: a superuser sees them with the
//! requests, at `/api/logs`.

use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use kiln_core::App;

/// The app the lines go to; empty before the app opens, replaced when it reloads.
#[derive(Clone, Default)]
pub struct AppSlot(Arc<RwLock<Option<App>>>);

impl AppSlot {
    pub fn set(&self, app: Option<App>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = app;
    }

    /// The app now serving (`None` while it reloads).
    pub fn get(&self) -> Option<App> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A tracing layer that hands Kiln's events of level INFO and above to [`App::log_message`]
/// (which keeps those at or above the settings' `logs.minLevel`).
pub struct AppLogLayer {
    slot: AppSlot,
}

impl AppLogLayer {
    pub fn new(slot: AppSlot) -> Self {
        AppLogLayer { slot }
    }
}

/// An event's message and other fields.
#[derive(Default)]
struct Fields {
    message: String,
    data: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.data.insert(field.name().to_owned(), value.into());
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.data.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.data.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.data.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.data.insert(field.name().to_owned(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.data.insert(field.name().to_owned(), text.into());
        }
    }
}

/// Which events the layer wants: Kiln's own at INFO and above, never the log's (a line about the
/// log must not feed it). Decided per call site, once: other events cost nothing.
pub fn interest() -> tracing_subscriber::filter::FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    tracing_subscriber::filter::filter_fn(|meta| {
        *meta.level() <= Level::INFO
            && meta.target().starts_with("kiln")
            && meta.target() != crate::otlp::TARGET
            && !meta.target().starts_with("kiln_core::logs")
    })
}

impl<S: Subscriber> Layer<S> for AppLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => kiln_core::logs::ERROR,
            Level::WARN => kiln_core::logs::WARN,
            _ => kiln_core::logs::INFO,
        };
        let target = meta.target();
        let Some(app) = self.slot.get() else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        fields.data.insert("target".into(), target.into());
        app.log_message(level, fields.message, fields.data);
    }
}
