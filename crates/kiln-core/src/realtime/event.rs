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
}
