//! Realtime: record change events delivered to subscribed clients after commit.
//!
//! A write publishes an [`Event`] through the app's [`Broker`] once its transaction committed
//! (never for a rolled-back write). The in-process [`LocalBroker`] hands it to the [`Hub`]'s
//! dispatcher task, which checks each subscriber's listRule or viewRule against the event's own
//! snapshot of the record, renders the message once per viewer context, and hands it to the
//! client: written straight to its connection when the connection takes it ([`Direct`]) and
//! nothing is queued ahead of it, else queued on the client's bounded channel. A client whose
//! queue is full is disconnected (it reconnects and
//! resubscribes, as PocketBase's SDK does): a stalled reader never delays the writer or other
//! clients. Other [`Broker`] implementations (PostgreSQL NOTIFY, Redis) carry events between nodes
//! and feed each node's hub.

pub(crate) mod broker;
pub(crate) mod dispatch;
pub(crate) mod event;
pub(crate) mod hub;
pub(crate) mod park;
pub(crate) mod position;
pub(crate) mod topic;

pub use broker::{Broker, LocalBroker};
pub use event::{Event, EventAction};
pub use hub::{
    Client, ClientError, Direct, DirectSlot, Hub, Message, Opened, BACKLOG_EVENT, CLIENT_QUEUE,
    CLOSE_EVENT, MAX_SUBSCRIPTIONS, MAX_TOPIC_LEN, RETAINED_EVENTS, RETENTION,
};
pub use topic::Subscription;
