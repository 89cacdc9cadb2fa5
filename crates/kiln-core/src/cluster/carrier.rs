//! How the nodes reach each other: database notifications or Redis ([`Carrier`]), and the
//! realtime broker that sends this node's events to the others ([`ClusterBroker`]).

use std::sync::Arc;

use kiln_db::{Db, Notice};

use crate::realtime::broker::Broker;

use crate::realtime::event::{Event, Origin};

use crate::realtime::hub::Hub;

/// Channel of record change events.
pub(super) const EVENTS: &str = "kiln_events";
/// Channel of schema changes (payload: the sending node).
pub(super) const SCHEMA: &str = "kiln_schema";
/// Channel of settings changes (payload: the sending node).
pub(super) const SETTINGS: &str = "kiln_settings";
/// Channel of requests about a realtime client held by another node, and their answers.
pub(super) const REALTIME: &str = "kiln_realtime";

/// Requests this node sent to the node holding a realtime client, waiting for their answers.
#[derive(Default)]
pub(crate) struct Forwards {
    next: std::sync::atomic::AtomicU64,
    waiting: std::sync::Mutex<std::collections::HashMap<u64, tokio::sync::oneshot::Sender<String>>>,
}

impl Forwards {
    /// A new request's number, and where its answer arrives.
    pub(super) fn open(&self) -> (u64, tokio::sync::oneshot::Receiver<String>) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.lock().insert(id, tx);
        (id, rx)
    }

    /// Hands `answer` to request `id` (nothing if it gave up waiting).
    pub(super) fn answer(&self, id: u64, answer: String) {
        if let Some(tx) = self.lock().remove(&id) {
            let _ = tx.send(answer);
        }
    }

    /// Forgets request `id` (it timed out).
    pub(super) fn close(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<u64, tokio::sync::oneshot::Sender<String>>,
    > {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How messages travel between the nodes.
pub(crate) enum Carrier {
    /// LISTEN/NOTIFY on the shared database.
    Database(Db),
    /// Redis publish/subscribe, on channels named `kiln:<database>.<schema>:<channel>`.
    Redis {
        publisher: kiln_redis::Publisher,
        config: kiln_redis::Config,
        prefix: String,
    },
}

impl Carrier {
    /// Redis at `url` for the nodes sharing `db`. Fails for a bad URL; the server is first
    /// reached when the app starts listening.
    pub(crate) fn redis(url: &str, db: &Db) -> Result<Carrier, kiln_redis::Error> {
        let config = kiln_redis::Config::parse(url)?;
        let publisher = kiln_redis::Publisher::start(config.clone())?;
        let prefix = format!("kiln:{}:", db.scope().unwrap_or_default());
        Ok(Carrier::Redis {
            publisher,
            config,
            prefix,
        })
    }

    /// Sends `payload` on `channel` to every node, this one included, without waiting.
    pub(super) fn send(&self, channel: &str, payload: &str) {
        match self {
            Carrier::Database(db) => db.notify(channel, payload),
            Carrier::Redis {
                publisher, prefix, ..
            } => publisher.publish(&format!("{prefix}{channel}"), payload),
        }
    }

    /// Calls `on`, on a thread of its own, for every message on `channels`, and after a lost
    /// connection came back. Fails if the carrier cannot be reached.
    pub(super) fn listen(
        &self,
        channels: &[&str],
        on: impl Fn(Notice<'_>) + Send + 'static,
    ) -> Result<(), String> {
        match self {
            Carrier::Database(db) => db.listen(channels, on).map_err(|e| e.to_string()),
            Carrier::Redis { config, prefix, .. } => {
                let names = channels.iter().map(|c| format!("{prefix}{c}")).collect();
                let prefix = prefix.clone();
                let on = move |n: kiln_redis::Notice<'_>| match n {
                    kiln_redis::Notice::Message { channel, payload } => on(Notice::Message {
                        channel: channel.strip_prefix(prefix.as_str()).unwrap_or(channel),
                        payload,
                    }),
                    kiln_redis::Notice::Reconnected => on(Notice::Reconnected),
                };
                kiln_redis::subscribe(config.clone(), names, Box::new(on))
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// The broker of a node sharing its database: local delivery, and a message for the others.
pub(crate) struct ClusterBroker {
    hub: Arc<Hub>,
    carrier: Arc<Carrier>,
    node: Arc<str>,
    /// The number of this node's last event; held while an event is numbered, delivered here and
    /// sent, so that every node gets this node's events in the order of their numbers.
    last: std::sync::Mutex<u64>,
}

impl ClusterBroker {
    pub(crate) fn new(hub: Arc<Hub>, carrier: Arc<Carrier>, node: Arc<str>) -> Self {
        ClusterBroker {
            hub,
            carrier,
            node,
            last: std::sync::Mutex::new(0),
        }
    }
}

impl Broker for ClusterBroker {
    fn publish(&self, mut event: Event) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last += 1;
        event.origin = Some(Origin {
            node: self.node.clone(),
            seq: *last,
        });
        let payload = super::wire::event_wire(&event).to_string();
        self.hub.deliver(event);
        self.carrier.send(EVENTS, &payload);
    }
}
