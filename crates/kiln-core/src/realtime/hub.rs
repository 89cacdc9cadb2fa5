//! Connected clients, their subscriptions and their bounded message queues.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, OnceLock, RwLock};

use tokio::sync::mpsc;

use super::topic::Subscription;
use super::Event;
use crate::records::Record;

/// Messages a client may have queued before it counts as stalled and is disconnected.
pub const CLIENT_QUEUE: usize = 512;
/// Subscriptions one client may hold (PocketBase's limit).
pub const MAX_SUBSCRIPTIONS: usize = 1000;
/// Longest accepted topic.
pub const MAX_TOPIC_LEN: usize = 2500;
/// Events waiting for the dispatcher before new ones are refused (logged).
const EVENT_QUEUE: usize = 65_536;

/// One message for one client: the SSE event name (the topic as subscribed) and its JSON data.
#[derive(Debug, Clone)]
pub struct Message {
    pub event: Arc<str>,
    pub data: Arc<[u8]>,
}

pub(crate) struct ClientState {
    pub(crate) auth: Option<Arc<Record>>,
    /// Whether a subscription request already fixed the client's auth.
    pub(crate) auth_set: bool,
    pub(crate) subscriptions: Vec<Subscription>,
}

/// A connected realtime client.
pub struct Client {
    pub id: String,
    tx: mpsc::Sender<Message>,
    pub(crate) state: Mutex<ClientState>,
    closed: AtomicBool,
}

/// Why a subscription request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientError {
    /// No connected client has this id.
    UnknownClient,
    /// The request's auth differs from the one the client subscribed with before.
    AuthMismatch,
}

fn same_auth(a: &Option<Arc<Record>>, b: &Option<Arc<Record>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.collection.id == y.collection.id && x.id() == y.id(),
        _ => false,
    }
}

impl Client {
    /// Queues a message; `false` when the client is gone or its queue is full (stalled).
    pub(crate) fn offer(&self, m: Message) -> bool {
        !self.closed.load(Ordering::Relaxed) && self.tx.try_send(m).is_ok()
    }

    /// Replaces the subscriptions. The first request fixes the client's auth; a later request
    /// must carry the same auth (PocketBase's rule), except that a guest client may sign in.
    pub fn set_subscriptions(&self, auth: Option<Arc<Record>>, topics: &[String]) -> Result<(), ClientError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.auth_set && st.auth.is_some() && !same_auth(&st.auth, &auth) {
            return Err(ClientError::AuthMismatch);
        }
        st.auth = auth;
        st.auth_set = true;
        st.subscriptions = topics.iter().filter_map(|t| Subscription::parse(t)).collect();
        Ok(())
    }

    /// The topics the client is subscribed to.
    pub fn topics(&self) -> Vec<String> {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.subscriptions.iter().map(|s| s.raw.to_string()).collect()
    }
}

/// All connected clients of this node.
#[derive(Default)]
pub struct Hub {
    clients: RwLock<HashMap<String, Arc<Client>>>,
    events: OnceLock<std_mpsc::SyncSender<Event>>,
}

impl Hub {
    pub fn new() -> Self {
        Hub::default()
    }

    /// Registers a new client; its messages arrive on the returned receiver.
    pub fn connect(&self) -> (Arc<Client>, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
        let client = Arc::new(Client {
            id: crate::ids::new_secret(40),
            tx,
            state: Mutex::new(ClientState { auth: None, auth_set: false, subscriptions: Vec::new() }),
            closed: AtomicBool::new(false),
        });
        self.clients.write().unwrap_or_else(|p| p.into_inner()).insert(client.id.clone(), client.clone());
        (client, rx)
    }

    /// Forgets a client (its stream ended or it stalled).
    pub fn disconnect(&self, id: &str) {
        if let Some(c) = self.clients.write().unwrap_or_else(|p| p.into_inner()).remove(id) {
            c.closed.store(true, Ordering::Relaxed);
        }
    }

    pub fn client(&self, id: &str) -> Option<Arc<Client>> {
        self.clients.read().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    pub fn len(&self) -> usize {
        self.clients.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn snapshot(&self) -> Vec<Arc<Client>> {
        self.clients.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Starts the dispatcher once; `run` receives the events in commit order.
    pub(crate) fn start(&self, run: impl FnOnce(std_mpsc::Receiver<Event>) + Send + 'static) {
        self.events.get_or_init(|| {
            let (tx, rx) = std_mpsc::sync_channel(EVENT_QUEUE);
            let spawned = std::thread::Builder::new().name("kiln-realtime".into()).spawn(move || run(rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the realtime dispatcher");
            }
            tx
        });
    }

    /// Queues an event for the dispatcher. Without connected clients there is nothing to do.
    pub fn deliver(&self, event: Event) {
        if self.is_empty() {
            return;
        }
        if let Some(tx) = self.events.get() {
            if tx.try_send(event).is_err() {
                tracing::error!("realtime event queue full: an event was not delivered");
            }
        }
    }
}
