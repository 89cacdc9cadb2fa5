//! The dispatcher: numbers events, keeps the recent ones for resuming clients, and fans each one
//! out — rules per subscriber context, one rendering per viewer context.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::hub::{
    empty_key, reset_message, Client, Job, Message, Missed, RETAINED_EVENTS, RETENTION,
};
use super::park::park_client;
use super::position::{Catchup, Caught, Heard, Parked, Place, Resumption};
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

/// Per-event memo of rule outcomes and rendered messages. The last outcome of each is also kept
/// beside the maps: subscribers in the same context follow one another (all guests, say), and
/// comparing two short strings costs less than hashing the key and cloning it.
#[derive(Default)]
struct Caches {
    allowed: HashMap<AllowedKey, bool>,
    rendered: HashMap<RenderedKey, Arc<[u8]>>,
    last_allowed: Option<(AllowedKey, bool)>,
    last_rendered: Option<(RenderedKey, Arc<[u8]>)>,
    /// Messages handed over, counted once per event.
    sent: u64,
}

fn same_key(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}

impl Caches {
    fn allowed(
        &mut self,
        auth: &Arc<str>,
        single: bool,
        options: &Arc<str>,
        check: impl FnOnce() -> bool,
    ) -> bool {
        if let Some(((a, s, o), v)) = &self.last_allowed {
            if *s == single && same_key(a, auth) && same_key(o, options) {
                return *v;
            }
        }
        let key = (auth.clone(), single, options.clone());
        let v = *self.allowed.entry(key.clone()).or_insert_with(check);
        self.last_allowed = Some((key, v));
        v
    }

    fn rendered(&mut self, viewer: &Arc<str>, options: &Arc<str>) -> Option<Arc<[u8]>> {
        if let Some(((a, o), d)) = &self.last_rendered {
            if same_key(a, viewer) && same_key(o, options) {
                return Some(d.clone());
            }
        }
        let key = (viewer.clone(), options.clone());
        let d = self.rendered.get(&key)?.clone();
        self.last_rendered = Some((key, d.clone()));
        Some(d)
    }

    fn keep_rendered(&mut self, key: RenderedKey, data: Arc<[u8]>) {
        self.rendered.insert(key.clone(), data.clone());
        self.last_rendered = Some((key, data));
    }
}

/// An event as this node's log keeps it for resuming clients.
struct Logged {
    /// This node's number for it.
    seq: u64,
    /// Its number among the events published here (see [`super::topic::Subscription::since`]).
    stamp: u64,
    at: Instant,
    /// When it arrived, by the clock that parked places are stamped with.
    wall: SystemTime,
    event: Event,
}

/// State owned by the dispatcher thread.
#[derive(Default)]
pub(crate) struct Dispatcher {
    log: VecDeque<Logged>,
    heard: Heard,
    /// The hub's clients as of its change `seen` (see [`super::Hub::snapshot_into`]).
    clients: Vec<Arc<Client>>,
    seen: Option<u64>,
}

impl Dispatcher {
    pub(crate) fn handle(&mut self, app: &App, job: Job) {
        match job {
            Job::Event { event, stamp } => {
                let seq = app.realtime().seq.fetch_add(1, Ordering::AcqRel) + 1;
                if let Some(o) = &event.origin {
                    self.heard.arrived(o);
                }
                self.log.push_back(Logged {
                    seq,
                    stamp,
                    at: Instant::now(),
                    wall: SystemTime::now(),
                    event: event.clone(),
                });
                while self.log.len() > RETAINED_EVENTS
                    || self.log.front().is_some_and(|e| e.at.elapsed() > RETENTION)
                {
                    if let Some(e) = self.log.pop_front() {
                        self.heard.dropped(e.event.origin.as_ref(), e.wall);
                    }
                }
                let mut caches = Caches::default();
                let mut stalled = Vec::new();
                app.realtime()
                    .snapshot_into(&mut self.seen, &mut self.clients);
                for client in &self.clients {
                    let at = (seq, stamp);
                    if !deliver_to(app, client, &event, at, &mut caches, |m| client.offer(m)) {
                        stalled.push(client.id.clone());
                    }
                }
                crate::metrics::realtime_messages_sent(caches.sent);
                for id in stalled {
                    tracing::info!(client = %id, "realtime client stalled (queue full): disconnected");
                    app.realtime().disconnect(&id);
                }
            }
            Job::Resume { client, missed } => {
                client
                    .state
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .resuming = false;
                let (events, complete) = match missed {
                    Missed::After(after) => self.after(app, after),
                    Missed::Place(r) => self.past_place(app, *r),
                };
                if !complete {
                    client.offer(reset_message(
                        "events since the last one received are no longer retained",
                    ));
                }
                // beside the queue: a replay may be longer than the queue holds
                let mut replay = Vec::new();
                for (at, event) in &events {
                    deliver_to(app, &client, event, *at, &mut Caches::default(), |m| {
                        replay.push(m);
                        true
                    });
                }
                crate::metrics::realtime_messages_sent(replay.len() as u64);
                if !client.offer_backlog(replay) {
                    // this registration only (a newer one may hold the id by now)
                    app.realtime().detach(&client);
                }
            }
            Job::Park { reply } => {
                let place = Place {
                    vector: Arc::new(self.heard.vector()),
                    at: SystemTime::now(),
                };
                let parked: Vec<Parked> = app
                    .realtime()
                    .take_all()
                    .iter()
                    .filter_map(|c| park_client(c, &place))
                    .collect();
                let _ = reply.send(parked);
            }
            Job::Collect {
                place,
                since,
                reply,
            } => {
                let caught = self.heard.covers(&place).then(|| {
                    let mut catchup = Catchup::new(&place, since);
                    let events = self.pick(&mut catchup);
                    (!catchup.gap).then_some(Caught {
                        events,
                        vector: catchup.vector,
                    })
                });
                reply(caught.flatten());
            }
            Job::Lost => self.heard.lost(),
        }
    }

    /// The log's events `catchup` wants, with this node's numbers, advancing it.
    fn pick(&self, catchup: &mut Catchup) -> Vec<(u64, Event)> {
        self.log
            .iter()
            .filter(|e| catchup.wants(&e.event, e.wall))
            .map(|e| (e.seq, e.event.clone()))
            .collect()
    }

    /// The retained events after this node's number `after`; whether none is missing.
    fn after(&self, app: &App, after: u64) -> (Vec<(At, Event)>, bool) {
        let last = app.realtime().seq.load(Ordering::Acquire);
        let oldest = self.log.front().map(|e| e.seq);
        let complete = after >= last || oldest.is_some_and(|o| o <= after + 1);
        let events = self
            .log
            .iter()
            .filter(|e| e.seq > after)
            .map(|e| ((e.seq, e.stamp), e.event.clone()))
            .collect();
        (events, complete)
    }

    /// The events a parked client missed: those caught for it, then any in this log past the
    /// position they reach; whether none is missing. Events caught in another node's log take the
    /// number before the first of this log's (or this node's last): the numbers never go down, and
    /// a later resume here from one of them replays this log's part again.
    fn past_place(&self, app: &App, r: Resumption) -> (Vec<(At, Event)>, bool) {
        let mut catchup = Catchup::new(&r.place, r.since);
        catchup.reached(&r.caught.vector);
        let own = self.pick(&mut catchup);
        let before_own = match own.first() {
            Some((seq, _)) => seq - 1,
            None => app.realtime().seq.load(Ordering::Acquire),
        };
        // A parked client's subscriptions are made anew here: each of these events is theirs.
        let events = r
            .caught
            .events
            .into_iter()
            .map(|(seq, e)| (if seq == 0 { before_own } else { seq }, e))
            .chain(own)
            .map(|(seq, e)| ((seq, EVERYONES), e))
            .collect();
        (events, !catchup.gap)
    }
}

/// An event's place: this node's number for it (its order, and its id in a client's stream),
/// and its number among the events published here (whom it is for: [`super::topic::Subscription::since`]).
type At = (u64, u64);

/// The published number of an event every subscription gets (a parked client's catching up).
const EVERYONES: u64 = u64::MAX;

/// Hands `send` a message of `event` for each of `client`'s matching subscriptions that its rules
/// allow. `false` when `send` refused one (the client's queue is full).
fn deliver_to(
    app: &App,
    client: &Client,
    event: &Event,
    (seq, stamp): At,
    caches: &mut Caches,
    mut send: impl FnMut(Message) -> bool,
) -> bool {
    let record = &event.record;
    let c = &record.collection;
    let mut st = client.state.lock().unwrap_or_else(|p| p.into_inner());
    if st.resuming {
        // Its Resume job (queued after this event) replays the event in order.
        return true;
    }
    let mut sent = false;
    for sub in &st.subscriptions {
        if !(sub.collection.eq_ignore_ascii_case(&c.name) || sub.collection == c.id) {
            continue;
        }
        if sub.record_id.as_deref().is_some_and(|id| id != record.id()) || sub.since >= stamp {
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
        let single = sub.record_id.is_some();
        let allowed = caches.allowed(&st.auth_key, single, &sub.options_key, || {
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
        let depends_on_viewer = c.is_auth() || sub.expands;
        let viewer = if depends_on_viewer {
            &st.auth_key
        } else {
            empty_key()
        };
        let data = match caches.rendered(viewer, &sub.options_key) {
            Some(d) => d,
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
                caches.keep_rendered((viewer.clone(), sub.options_key.clone()), d.clone());
                d
            }
        };
        if !send(Message {
            event: sub.raw.clone(),
            data,
            seq,
        }) {
            return false;
        }
        sent = true;
        caches.sent += 1;
    }
    if sent {
        st.last_seq = seq;
    }
    true
}

impl App {
    /// Opens a realtime connection, resuming `resume` (the last event id a client saw) when
    /// possible: a client of this node, or one parked by a node that stopped (see
    /// `cluster/resume.rs`). Otherwise a new client, told with `PB_RESET` to subscribe again.
    pub async fn realtime_open(
        &self,
        resume: Option<&str>,
        auth: Option<&Arc<crate::records::model::Record>>,
    ) -> super::Opened {
        self.start_dispatcher();
        let hub = self.realtime();
        let Some(resume) = resume.filter(|r| !r.is_empty()) else {
            return hub.fresh();
        };
        if let Some(opened) = hub.resume_here(resume, auth) {
            return opened;
        }
        match self.resume_parked(resume, auth).await {
            Some(opened) => opened,
            None => hub.not_resumed(),
        }
    }

    /// Starts the dispatcher once: with the first client, or as soon as the node follows a
    /// cluster (its log must hold the events a client parked elsewhere may resume with).
    pub(crate) fn start_dispatcher(&self) {
        let weak = self.downgrade();
        self.realtime().start(move |jobs| {
            let mut dispatcher = Dispatcher::default();
            while let Ok(job) = jobs.recv() {
                let Some(app) = weak.upgrade() else { break };
                dispatcher.handle(&app, job);
            }
        });
    }
}
