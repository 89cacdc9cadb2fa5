//! Realtime clients that outlive their node. A node that stops parks its clients (their streams
//! end after everything queued for them) and tells every node their ids, subscriptions, auth and
//! place (`realtime/position.rs`); every node keeps them for [`RETENTION`]. A client that comes
//! back with its last event id, on whichever node the balancer picks, is resumed there: the same id
//! and subscriptions, and every event past its place — from this node's log when it holds them
//! all, otherwise from the log of another node, asked on the carrier. Then every node forgets the
//! parked client.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::carrier::REALTIME;
use crate::app::App;
use crate::realtime::event::{Event, EventAction, Origin};
use crate::realtime::hub::{split_resume, Parked};
use crate::realtime::position::Place;
use crate::realtime::{Opened, RETENTION};
use crate::records::model::Record;

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
        let Some(first) = parked.first() else {
            return;
        };
        let mut message = place_wire(&first.place);
        message.insert("k".into(), "parked".into());
        message.insert(
            "clients".into(),
            parked
                .iter()
                .map(|p| Value::Object(parked_wire(p)))
                .collect(),
        );
        carrier.send(REALTIME, &Value::Object(message).to_string());
    }

    /// Resumes a client parked by a node that stopped (`resume`: its last event id), with the
    /// events it missed; `None` when no node has it, or none holds all those events, or the id
    /// is not the last one that node sent it.
    pub(crate) async fn resume_parked(
        &self,
        resume: &str,
        auth: Option<&Arc<Record>>,
    ) -> Option<Opened> {
        self.inner().carrier.as_ref()?;
        let (id, last) = split_resume(resume);
        let last = last.unwrap_or(0);
        let hub = self.realtime();
        if let Some(parked) = hub.parked.get(id) {
            if parked.last != last {
                return None;
            }
            if let Some(events) = hub.collect(parked.place.clone()).await {
                return Some(self.take_parked(&parked, auth, events));
            }
        }
        // this node's log lacks some (it started after they were sent), or it never heard of
        // the client (it started after the park): another node answers
        let answer = self.forward(json!({ "k": "resume", "client": id })).await?;
        let Ok(Value::Object(answer)) = serde_json::from_str::<Value>(&answer) else {
            return None;
        };
        let client = answer.get("client").and_then(Value::as_object)?;
        let parked = self.parked_from_wire(client, client)?;
        if parked.last != last {
            return None;
        }
        let events = match answer.get("events") {
            Some(Value::Array(events)) => events
                .iter()
                .filter_map(|e| self.event_from_wire(e.as_object()?))
                .map(|e| (0, e))
                .collect(),
            _ => Vec::new(),
        };
        Some(self.take_parked(&parked, auth, events))
    }

    fn take_parked(
        &self,
        parked: &Parked,
        auth: Option<&Arc<Record>>,
        events: Vec<(u64, Event)>,
    ) -> Opened {
        let hub = self.realtime();
        hub.parked.take(&parked.id);
        if let Some(carrier) = &self.inner().carrier {
            let taken = json!({ "k": "taken", "client": &parked.id, "from": self.node_id() });
            carrier.send(REALTIME, &taken.to_string());
        }
        hub.resume_parked(parked, auth, events)
    }

    /// Another node stopped (or this one): its clients are kept for resuming.
    pub(super) fn on_parked(&self, m: &Map<String, Value>) {
        let Some(Value::Array(clients)) = m.get("clients") else {
            return;
        };
        let hub = self.realtime();
        for c in clients.iter().filter_map(Value::as_object) {
            if let Some(p) = self.parked_from_wire(c, m) {
                let _ = hub.parked.insert(p.id.clone(), Arc::new(p), RETENTION);
            }
        }
    }

    /// A node asks for parked client `client`: when this node has it and its log holds every
    /// event past the client's place, it answers with both (from the dispatcher's thread).
    pub(super) fn answer_resume(&self, client: &str, to: &str, id: u64) {
        let hub = self.realtime();
        let (Some(parked), Some(carrier)) = (hub.parked.get(client), self.inner().carrier.clone())
        else {
            return;
        };
        let mut wire = parked_wire(&parked);
        wire.extend(place_wire(&parked.place));
        let to = to.to_owned();
        hub.collect_then(
            parked.place.clone(),
            Box::new(move |events| {
                let Some(events) = events else { return };
                let events: Vec<Value> = events.iter().map(|(_, e)| event_wire(e)).collect();
                let answer = json!({ "client": wire, "events": events }).to_string();
                let reply = json!({ "k": "answer", "to": to, "id": id, "answer": answer });
                carrier.send(REALTIME, &reply.to_string());
            }),
        );
    }

    /// A parked client as sent by `parked_wire`, its place read from `place` (the message, or the
    /// client itself in an answer).
    fn parked_from_wire(
        &self,
        c: &Map<String, Value>,
        place: &Map<String, Value>,
    ) -> Option<Parked> {
        let auth = match c.get("auth") {
            Some(Value::Object(a)) => {
                let collection = a.get("c").and_then(Value::as_str).unwrap_or_default();
                // a collection this node does not know yet: it cannot judge the auth
                Some(Arc::new(
                    self.record_from_wire(collection, a.get("v").cloned())?,
                ))
            }
            _ => None,
        };
        let vector = match place.get("vector") {
            Some(Value::Object(v)) => v
                .iter()
                .filter_map(|(node, seq)| Some((Arc::from(node.as_str()), seq.as_u64()?)))
                .collect(),
            _ => return None,
        };
        let time = |m: &Map<String, Value>, k: &str| {
            Some(UNIX_EPOCH + Duration::from_millis(m.get(k)?.as_u64()?))
        };
        Some(Parked {
            id: c.get("id")?.as_str()?.to_owned(),
            last: c.get("last")?.as_u64()?,
            auth,
            topics: match c.get("topics") {
                Some(Value::Array(t)) => t
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            },
            place: Place {
                vector: Arc::new(vector),
                at: time(place, "at")?,
                since: time(c, "since")?,
            },
        })
    }

    /// An event as [`event_wire`] sends it (the cluster's events channel sends the same shape).
    pub(super) fn event_from_wire(&self, m: &Map<String, Value>) -> Option<Event> {
        let action = match m.get("a").and_then(Value::as_str) {
            Some("create") => EventAction::Create,
            Some("update") => EventAction::Update,
            Some("delete") => EventAction::Delete,
            _ => return None,
        };
        let collection = m.get("c").and_then(Value::as_str).unwrap_or_default();
        let record = self.record_from_wire(collection, m.get("v").cloned())?;
        let node = m.get("n").and_then(Value::as_str).unwrap_or_default();
        let origin = m.get("s").and_then(Value::as_u64).map(|seq| Origin {
            node: node.into(),
            seq,
        });
        Some(Event {
            action,
            record: Arc::new(record),
            origin,
        })
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A parked client on the wire, without its node's place.
fn parked_wire(p: &Parked) -> Map<String, Value> {
    let auth = p
        .auth
        .as_ref()
        .map(|r| json!({ "c": &r.collection.id, "v": &r.values }));
    let mut m = Map::new();
    m.insert("id".into(), p.id.clone().into());
    m.insert("last".into(), p.last.into());
    m.insert("since".into(), millis(p.place.since).into());
    m.insert("auth".into(), auth.unwrap_or(Value::Null));
    m.insert("topics".into(), p.topics.clone().into());
    m
}

/// The place of a node's parked clients: when, and its vector.
fn place_wire(place: &Place) -> Map<String, Value> {
    let vector: Map<String, Value> = place
        .vector
        .iter()
        .map(|(node, seq)| (node.to_string(), (*seq).into()))
        .collect();
    let mut m = Map::new();
    m.insert("at".into(), millis(place.at).into());
    m.insert("vector".into(), vector.into());
    m
}

/// An event on the wire: its origin, action, collection and values.
fn event_wire(e: &Event) -> Value {
    json!({
        "n": e.origin.as_ref().map(|o| &*o.node),
        "s": e.origin.as_ref().map(|o| o.seq),
        "a": e.action.as_str(),
        "c": &e.record.collection.id,
        "v": &e.record.values,
    })
}
