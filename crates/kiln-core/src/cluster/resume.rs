//! Realtime clients that outlive their node. A node that stops parks its clients (their streams
//! end after everything queued for them) and tells every node their ids, subscriptions, auth (by
//! reference) and place (`realtime/position.rs`); every node keeps them for [`RETENTION`]. A client
//! that comes back with its last event id, on whichever node the balancer picks, is resumed there:
//! the same id and subscriptions, and every event past its place — from this node's log when it
//! holds them all, otherwise from the log of another node, asked on the carrier. Then every node
//! forgets the parked client.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::carrier::REALTIME;
use super::forward::answer_message;
use super::wire::{event_from_wire, event_wire};
use crate::app::App;
use crate::realtime::hub::split_resume;
use crate::realtime::position::{AuthRef, Caught, Parked, Place, Vector};
use crate::realtime::topic::Subscription;
use crate::realtime::{Opened, RETENTION};
use crate::records::model::Record;

/// How long a resuming client waits for another node's log (an answer collects and sends the
/// events: longer than a subscription request's forward).
const RESUME_WAIT: Duration = Duration::from_secs(3);

/// Parked clients per message (a node with many clients sends several).
const PARKED_PER_MESSAGE: usize = 500;

impl App {
    /// Ends every realtime stream as the node stops. Nodes sharing the database park the clients
    /// first, so that they resume on another node (or on this one, started again).
    pub async fn realtime_park(&self) {
        let hub = self.realtime();
        let Some(carrier) = self.inner().carrier.clone() else {
            hub.close_all();
            return;
        };
        let Some(parked) = hub.park().await else {
            hub.close_all();
            return;
        };
        for chunk in parked.chunks(PARKED_PER_MESSAGE) {
            let mut message = Map::new();
            message.insert("k".into(), "parked".into());
            message.insert("vector".into(), vector_wire(&chunk[0].place.vector));
            message.insert(
                "clients".into(),
                chunk
                    .iter()
                    .map(|p| Value::Object(parked_wire(p)))
                    .collect(),
            );
            carrier.send(REALTIME, &Value::Object(message).to_string());
        }
    }

    /// Resumes a client parked by a node that stopped (`resume`: its last event id), with the
    /// events it missed; `None` when no node has it, or none holds all those events, or the id
    /// is not the last one that node sent it.
    pub(crate) async fn resume_parked(
        &self,
        resume: &str,
        connection: Option<&Arc<Record>>,
    ) -> Option<Opened> {
        self.inner().carrier.as_ref()?;
        let (id, last) = split_resume(resume);
        let last = last.unwrap_or(0);
        let hub = self.realtime();
        if hub.parked.get(id).is_some_and(|p| p.last != last) {
            return None;
        }
        // taken at once: two connections to this node cannot both resume it
        let (parked, caught) = match hub.parked.take(id) {
            Some(p) => match hub.collect(p.place.clone(), p.since).await {
                Some(caught) => ((*p).clone(), caught),
                // this node's log lacks some (it started after they were sent): another's
                None => match self.ask_for_parked(id).await {
                    Some(found) => found,
                    None => {
                        hub.parked.insert(id.to_owned(), p, RETENTION);
                        return None;
                    }
                },
            },
            // A node that has heard every park still kept need not ask: only one that started
            // (or whose carrier reconnected) since may have missed one.
            None if hub.heard_every_park() => return None,
            None => self.ask_for_parked(id).await?,
        };
        if parked.last != last {
            return None;
        }
        let auth = match &parked.auth {
            Some(a) => Some(Arc::new(self.auth_of(a)?)),
            None => None,
        };
        if let Some(carrier) = &self.inner().carrier {
            let taken = json!({ "k": "taken", "client": &parked.id, "from": self.node_id() });
            carrier.send(REALTIME, &taken.to_string());
        }
        hub.register_parked(&parked, auth, connection, caught)
    }

    /// The parked client `id` and the events past its place, from another node.
    async fn ask_for_parked(&self, id: &str) -> Option<(Parked, Caught)> {
        let answer = self
            .forward(json!({ "k": "resume", "client": id }), RESUME_WAIT)
            .await?;
        let Ok(Value::Object(answer)) = serde_json::from_str::<Value>(&answer) else {
            return None;
        };
        let client = answer.get("client").and_then(Value::as_object)?;
        let parked = parked_from_wire(client, client, SystemTime::now())?;
        let schema = self.schema();
        let events = match answer.get("events") {
            Some(Value::Array(events)) => events
                .iter()
                .filter_map(|e| event_from_wire(&schema, e.as_object()?))
                .map(|e| (0, e))
                .collect(),
            _ => Vec::new(),
        };
        let vector = vector_from_wire(answer.get("reached")?)?;
        Some((parked, Caught { events, vector }))
    }

    /// A parked client's auth record, read again (gone, or of a collection this node does not
    /// know yet: it cannot resume).
    fn auth_of(&self, a: &AuthRef) -> Option<Record> {
        let collection = self.schema().by_id(&a.collection).cloned()?;
        self.find_record(&collection, &a.id).ok().flatten()
    }

    /// Another node stopped (or this one): its clients are kept for resuming. Their place is
    /// stamped with this node's clock.
    pub(super) fn on_parked(&self, m: &Map<String, Value>) {
        let Some(Value::Array(clients)) = m.get("clients") else {
            return;
        };
        let hub = self.realtime();
        let now = SystemTime::now();
        for c in clients.iter().filter_map(Value::as_object) {
            if let Some(p) = parked_from_wire(c, m, now) {
                let _ = hub.parked.insert(p.id.clone(), Arc::new(p), RETENTION);
            }
        }
    }

    /// A node asks for parked client `client`: when this node has it and its log holds every
    /// event past the client's place, it answers with both — the events of the collections the
    /// client subscribed to, and the position they reach (from the dispatcher's thread).
    pub(super) fn answer_resume(&self, client: &str, to: &str, id: u64) {
        let hub = self.realtime();
        let (Some(parked), Some(carrier)) = (hub.parked.get(client), self.inner().carrier.clone())
        else {
            return;
        };
        let mut wire = parked_wire(&parked);
        wire.insert("vector".into(), vector_wire(&parked.place.vector));
        wire.insert("at".into(), millis(parked.place.at).into());
        let subscriptions: Vec<Subscription> = parked
            .topics
            .iter()
            .filter_map(|t| Subscription::parse(t))
            .collect();
        let to = to.to_owned();
        hub.collect_then(
            parked.place.clone(),
            parked.since,
            Box::new(move |caught| {
                let Some(caught) = caught else { return };
                let events: Vec<Value> = caught
                    .events
                    .iter()
                    .filter(|(_, e)| {
                        let c = &e.record.collection;
                        subscriptions.iter().any(|s| {
                            s.collection.eq_ignore_ascii_case(&c.name) || s.collection == c.id
                        })
                    })
                    .map(|(_, e)| event_wire(e))
                    .collect();
                let answer = json!({
                    "client": wire,
                    "events": events,
                    "reached": vector_wire(&caught.vector),
                });
                carrier.send(REALTIME, &answer_message(&to, id, &answer.to_string()));
            }),
        );
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn time_from_wire(v: Option<&Value>) -> Option<SystemTime> {
    Some(UNIX_EPOCH + Duration::from_millis(v?.as_u64()?))
}

fn vector_wire(v: &Vector) -> Value {
    v.iter()
        .map(|(node, seq)| (node.to_string(), Value::from(*seq)))
        .collect::<Map<String, Value>>()
        .into()
}

fn vector_from_wire(v: &Value) -> Option<Vector> {
    Some(
        v.as_object()?
            .iter()
            .filter_map(|(node, seq)| Some((Arc::from(node.as_str()), seq.as_u64()?)))
            .collect(),
    )
}

/// A parked client on the wire, without its node's vector.
fn parked_wire(p: &Parked) -> Map<String, Value> {
    let auth = p
        .auth
        .as_ref()
        .map(|a| json!({ "c": &a.collection, "id": &a.id }));
    let mut m = Map::new();
    m.insert("id".into(), p.id.clone().into());
    m.insert("last".into(), p.last.into());
    m.insert("since".into(), millis(p.since).into());
    m.insert("auth".into(), auth.unwrap_or(Value::Null));
    m.insert("topics".into(), p.topics.clone().into());
    m
}

/// A parked client as [`parked_wire`] sends it, its vector read from `place` (the message, or the
/// client itself in an answer), placed at `at` unless the message says when.
fn parked_from_wire(
    c: &Map<String, Value>,
    place: &Map<String, Value>,
    at: SystemTime,
) -> Option<Parked> {
    let auth = match c.get("auth") {
        Some(Value::Object(a)) => Some(AuthRef {
            collection: a.get("c")?.as_str()?.to_owned(),
            id: a.get("id")?.as_str()?.to_owned(),
        }),
        _ => None,
    };
    Some(Parked {
        id: c.get("id")?.as_str()?.to_owned(),
        last: c.get("last")?.as_u64()?,
        since: time_from_wire(c.get("since"))?,
        auth,
        topics: match c.get("topics") {
            Some(Value::Array(t)) => t
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        },
        place: Place {
            vector: Arc::new(vector_from_wire(place.get("vector")?)?),
            at: time_from_wire(place.get("at")).unwrap_or(at),
        },
    })
}
