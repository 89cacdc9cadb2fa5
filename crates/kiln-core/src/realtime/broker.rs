//! How events travel from writers to subscribers.

use std::sync::Arc;

use super::event::Event;
use super::hub::Hub;

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
