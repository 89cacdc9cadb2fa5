//! The dispatcher: numbers events, keeps the recent ones for resuming clients, and fans each one
//! out — rules per subscriber context, one rendering per viewer context.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::hub::{reset_message, Client, Job, Message, RETAINED_EVENTS, RETENTION};
use crate::app::App;
use crate::error::CoreError;
use crate::realtime::event::Event;
use crate::records::query::{rule_for, RuleKind};
use crate::records::render::RenderOptions;
use crate::request::RequestInfo;

/// (subscriber auth key, single-record topic, options key) → whether the rules allow the event.
type AllowedKey = (Arc<str>, bool, Arc<str>);
/// (auth key when the rendering depends on the viewer, options key) → the event's JSON.
type RenderedKey = (Arc<str>, Arc<str>);

/// Per-event memo of rule outcomes and rendered messages.
#[derive(Default)]
struct Caches {
    allowed: HashMap<AllowedKey, bool>,
    rendered: HashMap<RenderedKey, Arc<[u8]>>,
}

/// State owned by the dispatcher thread.
#[derive(Default)]
pub(crate) struct Dispatcher {
    log: VecDeque<(u64, Instant, Event)>,
}

impl Dispatcher {
    pub(crate) fn handle(&mut self, app: &App, job: Job) {
        match job {
            Job::Event(event) => {
                let seq = app.realtime().seq.fetch_add(1, Ordering::AcqRel) + 1;
                self.log.push_back((seq, Instant::now(), event.clone()));
                while self.log.len() > RETAINED_EVENTS
                    || self
                        .log
                        .front()
                        .is_some_and(|(_, at, _)| at.elapsed() > RETENTION)
                {
                    self.log.pop_front();
                }
                let mut caches = Caches::default();
                let mut stalled = Vec::new();
                for client in app.realtime().snapshot() {
                    if !deliver_to(app, &client, &event, seq, &mut caches) {
                        stalled.push(client.id.clone());
                    }
                }
                for id in stalled {
                    tracing::info!(client = %id, "realtime client stalled (queue full): disconnected");
                    app.realtime().disconnect(&id);
                }
            }
            Job::Resume { client, after } => {
                client
                    .state
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .resuming = false;
                let last = app.realtime().seq.load(Ordering::Acquire);
                let oldest = self.log.front().map(|(s, _, _)| *s);
                if after < last && oldest.is_none_or(|o| o > after + 1) {
                    client.offer(reset_message(
                        "events since the last one received are no longer retained",
                    ));
                }
                for (seq, _, event) in self.log.iter().filter(|(s, _, _)| *s > after) {
                    if !deliver_to(app, &client, event, *seq, &mut Caches::default()) {
                        app.realtime().disconnect(&client.id);
                        break;
                    }
                }
            }
        }
    }
}

/// The viewer key of a rendering that is the same for everyone (shared: no allocation per delivery).
fn anyone() -> Arc<str> {
    static ANYONE: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    ANYONE.get_or_init(|| Arc::from("")).clone()
}

/// Queues `event` for `client` on each of its matching subscriptions that its rules allow.
/// `false` when the client's queue is full.
fn deliver_to(app: &App, client: &Client, event: &Event, seq: u64, caches: &mut Caches) -> bool {
    let record = &event.record;
    let c = &record.collection;
    let st = client.state.lock().unwrap_or_else(|p| p.into_inner());
    if st.resuming {
        // Its Resume job (queued after this event) replays the event in order.
        return true;
    }
    for sub in &st.subscriptions {
        if !(sub.collection.eq_ignore_ascii_case(&c.name) || sub.collection == c.id) {
            continue;
        }
        if sub.record_id.as_deref().is_some_and(|id| id != record.id()) {
            continue;
        }
        // Built only on a cache miss: with many subscribers nearly every delivery is a hit.
        let request = || RequestInfo {
            auth: st.auth.clone(),
            method: "GET".into(),
            context: "realtime",
            query: sub.query.clone(),
            headers: sub.headers.clone(),
            body: Default::default(),
            ip: None,
        };
        let auth_key = st.auth_key.clone();
        let single = sub.record_id.is_some();
        let allowed = *caches.allowed.entry((auth_key.clone(), single, sub.options_key.clone())).or_insert_with(|| {
            let kind = if single { RuleKind::View } else { RuleKind::List };
            let req = request();
            // The subscription's own `filter` option narrows what the rule allows (PocketBase).
            let filter = sub.query.get("filter").map(String::as_str);
            match rule_for(c, kind, &req) {
                Ok(None) if filter.is_none() => true,
                Ok(rule) => app.snapshot_matches(c, record, rule, filter, &req).unwrap_or_else(|e| {
                    if !matches!(e, CoreError::BadQuery(_) | CoreError::FilterForbidden(_)) {
                        tracing::warn!(error = %e, collection = %c.name, "realtime rule check failed");
                    }
                    false
                }),
                Err(CoreError::SuperuserOnly) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "realtime rule check failed");
                    false
                }
            }
        });
        if !allowed {
            continue;
        }
        // Only auth records (email visibility) and expansions (related rules) depend on who looks.
        let depends_on_viewer = c.is_auth() || sub.query.contains_key("expand");
        let key = (
            if depends_on_viewer {
                auth_key
            } else {
                anyone()
            },
            sub.options_key.clone(),
        );
        let data = match caches.rendered.get(&key) {
            Some(d) => d.clone(),
            None => {
                let req = request();
                let opts = RenderOptions::new(
                    sub.query.get("expand").map(String::as_str),
                    sub.query.get("fields").map(String::as_str),
                );
                let mut out = Vec::with_capacity(512);
                out.extend_from_slice(b"{\"record\":");
                let mut one = [(**record).clone()];
                if let Err(e) = app.write_records(&mut one, &req, &opts, &mut out) {
                    tracing::warn!(error = %e, "realtime render failed");
                    continue;
                }
                out.extend_from_slice(b",\"action\":\"");
                out.extend_from_slice(event.action.as_str().as_bytes());
                out.extend_from_slice(b"\"}");
                let d: Arc<[u8]> = out.into();
                caches.rendered.insert(key, d.clone());
                d
            }
        };
        if !client.offer(Message {
            event: sub.raw.clone(),
            data,
            seq,
        }) {
            return false;
        }
        crate::metrics::realtime_message_sent();
    }
    true
}

impl App {
    /// Opens a realtime connection (resuming `resume`, the last event id a client saw, when
    /// possible), starting the dispatcher on first use.
    pub fn realtime_open(
        &self,
        resume: Option<&str>,
        auth: Option<&Arc<crate::records::model::Record>>,
    ) -> super::Opened {
        let weak = self.downgrade();
        self.realtime().start(move |jobs| {
            let mut dispatcher = Dispatcher::default();
            while let Ok(job) = jobs.recv() {
                let Some(app) = weak.upgrade() else { break };
                dispatcher.handle(&app, job);
            }
        });
        self.realtime().open(resume, auth)
    }
}
