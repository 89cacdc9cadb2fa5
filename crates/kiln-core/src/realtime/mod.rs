//! Realtime: record change events delivered to subscribed clients after commit.
//!
//! A write publishes an [`Event`] through the app's [`Broker`] once its transaction committed
//! (never for a rolled-back write). The in-process [`LocalBroker`] hands it to the [`Hub`]'s
//! dispatcher task, which checks each subscriber's listRule or viewRule against the event's own
//! snapshot of the record, renders the message once per viewer context, and queues it on the
//! client's bounded channel. A client whose queue is full is disconnected (it reconnects and
//! resubscribes, as PocketBase's SDK does): a stalled reader never delays the writer or other
//! clients. Other [`Broker`] implementations (PostgreSQL NOTIFY, Redis) carry events between nodes
//! and feed each node's hub.

mod dispatch;
mod hub;
mod topic;

use std::sync::Arc;

pub(crate) use dispatch::Dispatcher;
pub use hub::{
    Client, ClientError, Hub, Message, Opened, CLIENT_QUEUE, CLOSE_EVENT, MAX_SUBSCRIPTIONS,
    MAX_TOPIC_LEN, RETAINED_EVENTS, RETENTION,
};
pub use topic::Subscription;

use crate::records::Record;

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

/// Carries events from writers to subscribers (of this node, or of every node).
pub trait Broker: Send + Sync {
    /// Hands a committed event over for delivery; never blocks the caller.
    fn publish(&self, event: Event);
}

/// The single-node broker: events go straight to this process's hub.
pub struct LocalBroker {
    hub: Arc<Hub>,
}

impl LocalBroker {
    pub fn new(hub: Arc<Hub>) -> Self {
        LocalBroker { hub }
    }
}

impl Broker for LocalBroker {
    fn publish(&self, event: Event) {
        self.hub.deliver(event);
    }
}
