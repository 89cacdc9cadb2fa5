//! Connected clients, their subscriptions and their bounded message queues.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use super::event::Event;
use super::position::{Caught, Parked, Place, Resumption};
use super::topic::Subscription;
use crate::records::model::Record;

/// Messages a client may have queued before it counts as stalled and is disconnected.
pub const CLIENT_QUEUE: usize = 512;
/// Subscriptions one client may hold (PocketBase's limit).
pub const MAX_SUBSCRIPTIONS: usize = 1000;
/// Longest accepted topic.
pub const MAX_TOPIC_LEN: usize = 2500;
/// Events waiting for the dispatcher before new ones are refused (logged).
const EVENT_QUEUE: usize = 65_536;
/// How long a disconnected client can resume, and how long events are kept for it.
pub const RETENTION: Duration = Duration::from_secs(300);
/// At most this many recent events are kept for resuming clients.
pub const RETAINED_EVENTS: usize = 10_000;

/// One message for one client: the event name (the topic as subscribed, or `PB_RESET`), its JSON
/// data, and its position in this node's event sequence (0 for control messages).
#[derive(Debug, Clone)]
pub struct Message {
    pub event: Arc<str>,
    pub data: Arc<[u8]>,
    pub seq: u64,
}

/// The topic of the SDK's all-in-one OAuth2 flow.
pub const OAUTH2_TOPIC: &str = "@oauth2";

/// What a resumed client is sent before its live events: what it missed.
pub(crate) enum Missed {
    /// The retained events after this node's event number (a client of this node).
    After(u64),
    /// The events past a parked client's place (`park.rs`, `position.rs`).
    Place(Box<Resumption>),
}

/// Work for the dispatcher, processed in order.
pub(crate) enum Job {
    /// A committed change and its number among the events published here (see
    /// [`Subscription::since`]).
    Event { event: Event, stamp: u64 },
    /// Replay to `client` what it missed, then go on live.
    Resume { client: Arc<Client>, missed: Missed },
    /// End every stream, handing back the clients as they stand (the node stops).
    Park {
        reply: tokio::sync::oneshot::Sender<Vec<Parked>>,
    },
    /// The events in this node's log past `place`, for a client resuming here or elsewhere.
    Collect {
        place: Place,
        since: SystemTime,
        reply: Box<dyn FnOnce(Option<Caught>) + Send>,
    },
    /// Events may have been lost on their way here (the carrier's connection was down).
    Lost,
}

pub(crate) struct ClientState {
    /// The event sequence number when the client connected (resume point for a bare client id).
    pub(crate) connected_seq: u64,
    /// When the client first connected (on whichever node).
    pub(crate) connected_at: SystemTime,
    /// The number of the last event queued for it.
    pub(crate) last_seq: u64,
    pub(crate) auth: Option<Arc<Record>>,
    /// `collectionId/recordId` of `auth` (empty for guests): the dispatcher's cache key.
    pub(crate) auth_key: Arc<str>,
    /// Whether a subscription request already fixed the client's auth.
    pub(crate) auth_set: bool,
    pub(crate) subscriptions: Vec<Subscription>,
    /// Subscribed to `@oauth2`: waiting for the code of the SDK's all-in-one OAuth2 flow.
    pub(crate) oauth2: bool,
    /// Resumed but not yet replayed: live events wait for the replay (which includes them), so
    /// nothing arrives twice or out of order.
    pub(crate) resuming: bool,
    /// Resumed by a connection that did not carry the client's auth (a browser's EventSource
    /// sends no token): the replay, and every event, waits until a subscription request proves
    /// that auth. A client id alone never grants another client's auth.
    pub(crate) awaiting_auth: bool,
    /// A parked client's catching up, waiting for its auth to be proved.
    pub(crate) pending: Option<Box<Resumption>>,
}

impl ClientState {
    pub(crate) fn new(connected_seq: u64) -> Self {
        ClientState {
            connected_seq,
            connected_at: SystemTime::now(),
            last_seq: 0,
            auth: None,
            auth_key: auth_key(&None),
            auth_set: false,
            subscriptions: Vec::new(),
            oauth2: false,
            resuming: false,
            awaiting_auth: false,
            pending: None,
        }
    }

    /// Subscribes to `topics` (replacing any before). A topic new to the client gets the events
    /// published after `since`; one it kept goes on as it was, missing nothing.
    pub(crate) fn set_topics(&mut self, topics: &[String], since: u64) {
        let before = std::mem::take(&mut self.subscriptions);
        // by topic: a request may carry a thousand of them
        let kept: HashMap<&str, u64> = before.iter().map(|b| (&*b.raw, b.since)).collect();
        self.subscriptions = topics
            .iter()
            .filter_map(|t| Subscription::parse(t))
            .map(|mut s| {
                s.since = kept.get(&*s.raw).copied().unwrap_or(since);
                s
            })
            .collect();
        self.oauth2 = topics.iter().any(|t| t == OAUTH2_TOPIC);
    }

    /// The topics it is subscribed to.
    pub(crate) fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self
            .subscriptions
            .iter()
            .map(|s| s.raw.to_string())
            .collect();
        if self.oauth2 {
            topics.push(OAUTH2_TOPIC.into());
        }
        topics
    }
}

/// The empty cache key, shared (no allocation per client or delivery, and one already in the
/// dispatcher's cache): a guest's auth key, and the viewer of a rendering that is the same for
/// everyone.
pub(crate) fn empty_key() -> &'static Arc<str> {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    EMPTY.get_or_init(|| Arc::from(""))
}

/// The dispatcher's cache key of an auth: `collectionId/recordId`, empty for guests.
pub(crate) fn auth_key(auth: &Option<Arc<Record>>) -> Arc<str> {
    match auth {
        Some(r) => format!("{}/{}", r.collection.id, r.id()).into(),
        None => empty_key().clone(),
    }
}

/// Whether a connection authenticated as `auth` may take over a client that had `old`: a
/// guest's client may be resumed by whoever holds its id; any other needs its auth.
pub(crate) fn proves(old: &Option<Arc<Record>>, auth: Option<&Arc<Record>>) -> bool {
    match (old, auth) {
        (None, _) => true,
        (Some(a), Some(b)) => a.collection.id == b.collection.id && a.id() == b.id(),
        (Some(_), None) => false,
    }
}

/// A client's connection written from the thread that offers a message (the dispatcher, a
/// request), when nothing is queued ahead of it: no queue, no wake-up of the connection's task and
/// no pass through its HTTP machinery per delivery. Set by the connection with
/// [`Client::set_direct`]; every offer, direct or queued, happens under [`Client::in_order`].
pub trait Direct: Send + Sync {
    /// Sends `m` now: `true` when it is written, or what could not be written yet is kept to go
    /// out before anything else; `false` when it cannot take it (not ready, or still holding
    /// unwritten bytes), and `m` is queued instead.
    fn send(&self, client: &str, m: &Message) -> bool;
}

/// A client's [`Direct`] connection, if any; its lock orders every offer.
pub type DirectSlot = Option<Arc<dyn Direct>>;

/// A connected realtime client.
pub struct Client {
    pub id: String,
    tx: mpsc::Sender<Message>,
    /// Held while a message is offered, and by the connection while it drains the queue: a
    /// message goes straight to the connection only when nothing is queued ahead of it.
    direct: Mutex<DirectSlot>,
    pub(crate) state: Mutex<ClientState>,
    closed: AtomicBool,
    /// A resumed client's replay, taken by the connection when [`BACKLOG_EVENT`] comes: a replay
    /// may hold more events than the queue (up to [`RETAINED_EVENTS`]).
    backlog: Mutex<Vec<Message>>,
}

/// Why a subscription request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientError {
    /// No connected client has this id.
    UnknownClient,
    /// The request's auth differs from the one the client subscribed with before.
    AuthMismatch,
}

/// A resume token's client id and event number: `<clientId>` or `<clientId>.<seq>`.
pub(crate) fn split_resume(resume: &str) -> (&str, Option<u64>) {
    match resume.rsplit_once('.') {
        Some((id, seq)) => (id, seq.parse::<u64>().ok()),
        None => (resume, None),
    }
}

/// The length of the client ids the hub makes (random letters and digits).
pub(crate) const CLIENT_ID_LEN: usize = 40;

/// The event name of [`Hub::close_all`]'s message: the connection ends, no event is sent.
pub const CLOSE_EVENT: &str = "";

/// The event name of the message that says a replay is waiting in [`Client::take_backlog`] (no
/// topic can have this name).
pub const BACKLOG_EVENT: &str = "\0";

/// A control message telling a client that its subscriptions are gone and events may be missing.
pub(crate) fn reset_message(reason: &str) -> Message {
    let data = serde_json::json!({ "reason": reason }).to_string();
    Message {
        event: "PB_RESET".into(),
        data: data.into_bytes().into(),
        seq: 0,
    }
}

fn same_auth(a: &Option<Arc<Record>>, b: &Option<Arc<Record>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.collection.id == y.collection.id && x.id() == y.id(),
        _ => false,
    }
}

impl Client {
    /// Sends a message straight to the connection when it takes it and nothing is queued, else
    /// queues it; `false` when the client is gone or its queue is full (stalled).
    pub(crate) fn offer(&self, m: Message) -> bool {
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        let direct = self.in_order();
        if let Some(d) = &*direct {
            // an empty queue has all its permits
            if self.tx.capacity() == CLIENT_QUEUE && d.send(&self.id, &m) {
                return true;
            }
        }
        self.tx.try_send(m).is_ok()
    }

    /// Holds off every offer while the guard lives: the connection drains the queue under it, so
    /// that no message is written directly ahead of one queued before it.
    pub fn in_order(&self) -> std::sync::MutexGuard<'_, DirectSlot> {
        self.direct.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets offers write to `direct` (`None`: back to queueing only). A connection clears it
    /// before it ends its stream, so that nothing is written after the end.
    pub fn set_direct(&self, direct: DirectSlot) {
        *self.in_order() = direct;
    }

    /// Queues a replay: its messages wait beside the queue, which gets one [`BACKLOG_EVENT`]
    /// message for them. `false` when the client is gone or its queue is full.
    pub(crate) fn offer_backlog(&self, messages: Vec<Message>) -> bool {
        if messages.is_empty() {
            return true;
        }
        self.backlog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(messages);
        self.offer(Message {
            event: BACKLOG_EVENT.into(),
            data: Arc::from(&[][..]),
            seq: 0,
        })
    }

    /// The replay announced by a [`BACKLOG_EVENT`] message, in order.
    pub fn take_backlog(&self) -> Vec<Message> {
        std::mem::take(&mut *self.backlog.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Whether it was dropped (stalled, replaced by a resumed connection, or its node closing):
    /// its connection ends once the messages already queued are sent.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Replaces the subscriptions. The first request fixes the client's auth; a later request
    /// must carry the same auth (PocketBase's rule), except that a guest client may sign in.
    /// `Ok(Some(_))` when this request proved the auth of a resumed client: its replay may start.
    fn set_subscriptions(
        &self,
        auth: Option<Arc<Record>>,
        topics: &[String],
        since: u64,
    ) -> Result<Option<Missed>, ClientError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.auth_set && st.auth.is_some() && !same_auth(&st.auth, &auth) {
            return Err(ClientError::AuthMismatch);
        }
        let proved = std::mem::take(&mut st.awaiting_auth).then(|| match st.pending.take() {
            Some(resumption) => Missed::Place(resumption),
            None => Missed::After(st.connected_seq),
        });
        st.auth_key = auth_key(&auth);
        st.auth = auth;
        st.auth_set = true;
        st.set_topics(topics, since);
        Ok(proved)
    }

    /// The topics the client is subscribed to.
    pub fn topics(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .topics()
    }

    /// Ends its stream (after the messages already queued).
    pub(crate) fn end(&self) {
        let _ = self.tx.try_send(Message {
            event: CLOSE_EVENT.into(),
            data: Arc::from(&[][..]),
            seq: 0,
        });
        self.closed.store(true, Ordering::Relaxed);
    }

    /// Delivers an OAuth2 redirect's `data` on the `@oauth2` topic, once: the subscription
    /// ends with it. `false` if the client was not waiting for one.
    pub fn deliver_oauth2(&self, data: Vec<u8>) -> bool {
        {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if !st.oauth2 {
                return false;
            }
            st.oauth2 = false;
        }
        self.offer(Message {
            event: OAUTH2_TOPIC.into(),
            data: data.into(),
            seq: 0,
        })
    }
}

/// A connection's client: new, or resumed from an earlier connection.
pub struct Opened {
    pub client: Arc<Client>,
    pub messages: mpsc::Receiver<Message>,
    /// The requested resume was not possible (unknown, expired or too old): the client is new and
    /// was sent `PB_RESET`.
    pub reset: bool,
}

/// All connected clients of this node, and recently disconnected ones that may resume.
pub struct Hub {
    clients: RwLock<HashMap<String, Arc<Client>>>,
    /// Counts the changes of `clients`: the dispatcher copies the list again only after one.
    generation: AtomicU64,
    detached: crate::ttl::TtlMap<Arc<Client>>,
    /// Clients of stopped nodes (this one included), by id.
    pub(crate) parked: crate::ttl::TtlMap<Arc<Parked>>,
    events: OnceLock<std_mpsc::SyncSender<Job>>,
    /// The last sequence number the dispatcher assigned.
    pub(crate) seq: AtomicU64,
    /// Events handed to the dispatcher so far, counted as they are published: the dispatcher may
    /// reach an event after a later subscription was made, which must not get it.
    published: AtomicU64,
    /// Since when this node has heard of every park (its start, or its carrier's reconnection):
    /// after [`RETENTION`] it knows every parked client still kept.
    pub(crate) parks_heard: Mutex<std::time::Instant>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            clients: Default::default(),
            generation: AtomicU64::new(0),
            detached: Default::default(),
            parked: Default::default(),
            events: Default::default(),
            seq: Default::default(),
            published: Default::default(),
            parks_heard: Mutex::new(std::time::Instant::now()),
        }
    }
}

impl Hub {
    pub fn new() -> Self {
        Hub::default()
    }

    /// Whether this node has heard of every park still kept (none can have passed it by).
    pub(crate) fn heard_every_park(&self) -> bool {
        self.parks_heard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
            > RETENTION
    }

    /// Unregisters a client that never got going (its replay could not be queued).
    pub(crate) fn drop_client(&self, client: &Arc<Client>) {
        let mut clients = self.clients_mut();
        if clients
            .get(&client.id)
            .is_some_and(|c| Arc::ptr_eq(c, client))
        {
            clients.remove(&client.id);
        }
        client.closed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn register(
        &self,
        id: String,
        state: ClientState,
    ) -> (Arc<Client>, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
        let client = Arc::new(Client {
            id,
            tx,
            direct: Mutex::new(None),
            state: Mutex::new(state),
            closed: AtomicBool::new(false),
            backlog: Mutex::new(Vec::new()),
        });
        if let Some(old) = self.clients_mut().insert(client.id.clone(), client.clone()) {
            old.closed.store(true, Ordering::Relaxed);
        }
        (client, rx)
    }

    /// Registers a new client; its messages arrive on the returned receiver.
    pub fn connect(&self) -> (Arc<Client>, mpsc::Receiver<Message>) {
        self.register(
            crate::ids::new_secret(CLIENT_ID_LEN),
            ClientState::new(self.seq.load(Ordering::Acquire)),
        )
    }

    /// A new client for a connection that does not ask to resume one.
    pub(crate) fn fresh(&self) -> Opened {
        let (client, messages) = self.connect();
        Opened {
            client,
            messages,
            reset: false,
        }
    }

    /// A new client for a connection that asked to resume one no node could resume: it is told
    /// with `PB_RESET` to subscribe again.
    pub(crate) fn not_resumed(&self) -> Opened {
        let (client, messages) = self.connect();
        client.offer(reset_message(
            "unknown or expired client id: subscribe again",
        ));
        Opened {
            client,
            messages,
            reset: true,
        }
    }

    /// Resumes a client of this node, for a requester authenticated as `auth`: `resume`
    /// (`<clientId>` or `<clientId>.<seq>`, the last event id the client saw) names a client that
    /// is connected or disconnected within [`RETENTION`]. Same client id, subscriptions and auth,
    /// and every event it missed replayed in order before live ones; when the client had an auth
    /// that this connection does not carry, nothing flows until a subscription request carries it
    /// (see [`Hub::set_subscriptions`]). `None` when there is no such client.
    pub(crate) fn resume_here(&self, resume: &str, auth: Option<&Arc<Record>>) -> Option<Opened> {
        let (id, seq) = split_resume(resume);
        let previous = self.take_detached(id).or_else(|| {
            self.clients
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(id)
                .cloned()
        });
        if let Some(prev) = previous {
            prev.closed.store(true, Ordering::Relaxed);
            let old = std::mem::replace(
                &mut *prev.state.lock().unwrap_or_else(|p| p.into_inner()),
                ClientState::new(0),
            );
            let after = seq.unwrap_or(old.connected_seq);
            let proved = proves(&old.auth, auth);
            let state = ClientState {
                connected_seq: after,
                resuming: true,
                awaiting_auth: !proved,
                ..old
            };
            let (client, messages) = self.register(id.to_owned(), state);
            if !proved
                || self.queue(Job::Resume {
                    client: client.clone(),
                    missed: Missed::After(after),
                })
            {
                return Some(Opened {
                    client,
                    messages,
                    reset: false,
                });
            }
        }
        None
    }

    /// Takes every client out of the registry (for the dispatcher to park them).
    pub(crate) fn take_all(&self) -> Vec<Arc<Client>> {
        self.clients_mut().drain().map(|(_, c)| c).collect()
    }

    fn take_detached(&self, id: &str) -> Option<Arc<Client>> {
        self.detached.take(id)
    }

    /// A connection ended: the client is kept for [`RETENTION`] so that it can resume.
    pub fn detach(&self, client: &Arc<Client>) {
        let mut clients = self.clients_mut();
        // Only the current registration of this id is detached (a resumed client replaced it).
        if clients
            .get(&client.id)
            .is_some_and(|c| Arc::ptr_eq(c, client))
        {
            clients.remove(&client.id);
            drop(clients);
            client.closed.store(true, Ordering::Relaxed);
            // Swept when the kept clients double (a sweep per disconnect was O(n²) when
            // thousands of clients left at once); a full map means no resume for this one.
            let _ = self
                .detached
                .insert(client.id.clone(), client.clone(), RETENTION);
        }
    }

    /// Ends every connection (the app is closing or reloading): each stream gets a message
    /// with the [`CLOSE_EVENT`] name and ends there; the clients reconnect, to the next app.
    pub fn close_all(&self) {
        for c in self.take_all() {
            c.end();
        }
    }

    /// Drops a client that stalled (queue full). It may resume like any disconnected client.
    pub fn disconnect(&self, id: &str) {
        let client = self
            .clients
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        if let Some(c) = client {
            self.detach(&c);
        }
    }

    /// Replaces `client`'s subscriptions as requested by `auth` (see [`Client`]'s auth rule);
    /// for a resumed client waiting for its auth, a request carrying it starts the replay.
    pub fn set_subscriptions(
        &self,
        client: &Arc<Client>,
        auth: Option<Arc<Record>>,
        topics: &[String],
    ) -> Result<(), ClientError> {
        let since = self.published.load(Ordering::Acquire);
        if let Some(missed) = client.set_subscriptions(auth, topics, since)? {
            self.queue(Job::Resume {
                client: client.clone(),
                missed,
            });
        }
        Ok(())
    }

    pub fn client(&self, id: &str) -> Option<Arc<Client>> {
        self.clients
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.clients.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The connected clients into `into`, copied again only when they changed since `seen`
    /// (the dispatcher's copy, kept between events: no reference count touched per client per
    /// event while nobody connects or leaves).
    pub(crate) fn snapshot_into(&self, seen: &mut Option<u64>, into: &mut Vec<Arc<Client>>) {
        let clients = self.clients.read().unwrap_or_else(|p| p.into_inner());
        let now = self.generation.load(Ordering::Acquire);
        if *seen != Some(now) {
            into.clear();
            into.extend(clients.values().cloned());
            *seen = Some(now);
        }
    }

    /// The registry, for a change (counted in `generation` while the lock is held).
    fn clients_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Client>>> {
        let clients = self.clients.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        clients
    }

    /// Starts the dispatcher once; `run` receives the jobs in commit order.
    pub(crate) fn start(&self, run: impl FnOnce(std_mpsc::Receiver<Job>) + Send + 'static) {
        self.events.get_or_init(|| {
            let (tx, rx) = std_mpsc::sync_channel(EVENT_QUEUE);
            let spawned = std::thread::Builder::new()
                .name("kiln-realtime".into())
                .spawn(move || run(rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the realtime dispatcher");
            }
            tx
        });
    }

    pub(crate) fn queue(&self, job: Job) -> bool {
        match self.events.get() {
            Some(tx) => match tx.try_send(job) {
                Ok(()) => true,
                Err(_) => {
                    tracing::error!("realtime dispatcher queue full: a job was dropped");
                    false
                }
            },
            None => false,
        }
    }

    /// Queues an event for the dispatcher (once any client ever connected: a disconnected client
    /// may still resume and needs the event).
    pub fn deliver(&self, event: Event) {
        let stamp = self.published.fetch_add(1, Ordering::AcqRel) + 1;
        self.queue(Job::Event { event, stamp });
    }
}
