//! Parked clients: the clients of a node that stopped, as every node keeps them for
//! [`RETENTION`](super::RETENTION) so that they can resume anywhere (`position.rs` says how their
//! place is kept; `cluster/resume.rs` carries them between nodes).

use std::sync::Arc;
use std::time::SystemTime;

use super::hub::{auth_key, proves, Client, ClientState, Hub, Job, Missed, Opened};
use super::position::{AuthRef, Caught, Parked, Place, Resumption};
use crate::records::model::Record;

impl Hub {
    /// Registers a parked client here, with what was caught for it: its replay starts at once
    /// when this connection carries its auth (`auth`: the record read again; `connection`: the
    /// connection's), else when a subscription request does. `None` when its replay cannot be
    /// queued.
    pub(crate) fn register_parked(
        &self,
        parked: &Parked,
        auth: Option<Arc<Record>>,
        connection: Option<&Arc<Record>>,
        caught: Caught,
    ) -> Option<Opened> {
        let proved = proves(&auth, connection);
        let resumption = Box::new(Resumption {
            place: parked.place.clone(),
            since: parked.since,
            caught,
        });
        let mut state = ClientState::new(self.seq.load(std::sync::atomic::Ordering::Acquire));
        state.connected_at = parked.since;
        // the connection's record when it proves the auth: the fresher one
        state.auth = match (auth, connection) {
            (Some(_), Some(c)) if proved => Some(c.clone()),
            (a, _) => a,
        };
        state.auth_key = auth_key(&state.auth);
        state.auth_set = state.auth.is_some() || !parked.topics.is_empty();
        // rebuilt here: every event of the catching up and after is theirs
        state.set_topics(&parked.topics, 0);
        state.resuming = true;
        state.awaiting_auth = !proved;
        if !proved {
            state.pending = Some(resumption);
            let (client, messages) = self.register(parked.id.clone(), state);
            return Some(Opened {
                client,
                messages,
                reset: false,
            });
        }
        let (client, messages) = self.register(parked.id.clone(), state);
        let queued = self.queue(Job::Resume {
            client: client.clone(),
            missed: Missed::Place(resumption),
        });
        if !queued {
            self.drop_client(&client);
            return None;
        }
        Some(Opened {
            client,
            messages,
            reset: false,
        })
    }

    /// Parks every client: their streams end, and they are handed back as they stand (`None`
    /// when the dispatcher never started: there are none).
    pub(crate) async fn park(&self) -> Option<Vec<Parked>> {
        let (reply, parked) = tokio::sync::oneshot::channel();
        if !self.queue(Job::Park { reply }) {
            return None;
        }
        parked.await.ok()
    }

    /// What this node's log holds past `place` for a client connected `since` (`None`: not all
    /// of it).
    pub(crate) async fn collect(&self, place: Place, since: SystemTime) -> Option<Caught> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let reply = Box::new(move |c: Option<Caught>| {
            let _ = tx.send(c);
        });
        if !self.collect_then(place, since, reply) {
            return None;
        }
        rx.await.ok().flatten()
    }

    /// Asks the dispatcher what its log holds past `place`; `reply` gets it, on the dispatcher's
    /// thread. `false` when the dispatcher is not running (or its queue is full): no reply comes.
    pub(crate) fn collect_then(
        &self,
        place: Place,
        since: SystemTime,
        reply: Box<dyn FnOnce(Option<Caught>) + Send>,
    ) -> bool {
        self.queue(Job::Collect {
            place,
            since,
            reply,
        })
    }

    /// The carrier's connection was down: the log may miss events, and this node parks.
    pub(crate) fn lost_events(&self) {
        self.queue(Job::Lost);
        *self.parks_heard.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
    }
}

/// Parks `c` (its stream ends) at `place`; `None` for a client between a resume and its replay,
/// which has no place of its own yet.
pub(crate) fn park_client(c: &Client, place: &Place) -> Option<Parked> {
    let parked = {
        let st = c.state.lock().unwrap_or_else(|p| p.into_inner());
        (!st.resuming && !st.awaiting_auth).then(|| Parked {
            id: c.id.clone(),
            last: st.last_seq,
            since: st.connected_at,
            auth: st.auth.as_ref().map(|r| AuthRef {
                collection: r.collection.id.clone(),
                id: r.id().to_owned(),
            }),
            topics: st.topics(),
            place: place.clone(),
        })
    };
    c.end();
    parked
}
