//! A committed change of one record, as realtime carries it.

use std::sync::Arc;

use crate::records::model::Record;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAction {
    Create,
    Update,
    Delete,
}

impl EventAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Create => "create",
            EventAction::Update => "update",
            EventAction::Delete => "delete",
        }
    }
}

/// A committed change of one record.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: EventAction,
    pub record: Arc<Record>,
    /// Where it was published, when nodes share the database (`None` on a single node).
    pub origin: Option<Origin>,
}

/// The node that published a cluster event and the event's number in that node's own sequence.
/// Every node receives a node's events in that order (one connection sends them), so the events a
/// client has seen are, per origin, all those up to a number: its position is a vector of these
/// numbers, which means the same on every node (see `position.rs`).
#[derive(Debug, Clone)]
pub struct Origin {
    pub node: Arc<str>,
    pub seq: u64,
}
