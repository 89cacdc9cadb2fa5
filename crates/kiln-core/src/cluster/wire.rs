//! What nodes send each other about records and events, in one shape: a record as its
//! collection's id and its values (`{"c", "v"}`), an event as that with its action and origin
//! (`{"n", "s", "a", "c", "v"}`). A receiving node reads the values with its own copy of the
//! collection: one it has not loaded yet (a schema change still on its way) cannot be read.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::realtime::event::{Event, EventAction, Origin};
use crate::records::model::Record;
use crate::schema::Schema;

/// A record on the wire.
pub(super) fn record_wire(r: &Record) -> Value {
    json!({ "c": &r.collection.id, "v": &r.values })
}

/// An event on the wire.
pub(super) fn event_wire(e: &Event) -> Value {
    json!({
        "n": e.origin.as_ref().map(|o| &*o.node),
        "s": e.origin.as_ref().map(|o| o.seq),
        "a": e.action.as_str(),
        "c": &e.record.collection.id,
        "v": &e.record.values,
    })
}

/// A record as [`record_wire`] sends it (or an event, which has the same `c` and `v`), read with
/// `schema`.
pub(super) fn record_from_wire(schema: &Schema, m: &Map<String, Value>) -> Option<Record> {
    let collection = m.get("c").and_then(Value::as_str)?;
    let collection = schema.by_id(collection).cloned()?;
    let Some(Value::Array(values)) = m.get("v") else {
        return None;
    };
    (values.len() == collection.fields.len()).then(|| Record {
        collection,
        values: values.clone(),
        expand: None,
    })
}

/// An event as [`event_wire`] sends it, read with `schema`.
pub(super) fn event_from_wire(schema: &Schema, m: &Map<String, Value>) -> Option<Event> {
    let action = match m.get("a").and_then(Value::as_str) {
        Some("create") => EventAction::Create,
        Some("update") => EventAction::Update,
        Some("delete") => EventAction::Delete,
        _ => return None,
    };
    let record = record_from_wire(schema, m)?;
    let origin = match (
        m.get("n").and_then(Value::as_str),
        m.get("s").and_then(Value::as_u64),
    ) {
        (Some(node), Some(seq)) => Some(Origin {
            node: node.into(),
            seq,
        }),
        _ => None,
    };
    Some(Event {
        action,
        record: Arc::new(record),
        origin,
    })
}
