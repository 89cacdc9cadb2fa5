//! Where a client stands in the cluster's events, in terms every node understands, so that a
//! client can resume on another node than the one it was connected to (a node restarted).
//!
//! Each node numbers the events it publishes ([`Origin`]) and every node receives them in that
//! order, so what a node has dispatched is, per origin, every event up to some number: a
//! [`Vector`]. When a node stops it *parks* its clients: their subscriptions and auth, and the
//! node's vector at that moment ([`Place`]), which is exactly what each of them had been sent
//! (their streams end after everything queued). Another node resumes such a client by
//! replaying, from its own log, every event past that vector — if its log holds all of them
//! ([`Heard::covers`]); otherwise it asks the others, and one whose log does answers with them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::event::{Event, Origin};

/// Per origin node, the number of the last of its events taken into account.
pub(crate) type Vector = HashMap<Arc<str>, u64>;

/// A margin for events that were on their way between nodes when a client was parked: a node
/// must hold every event from this long before the park to answer for events of origins the
/// parking node had never heard of.
const IN_FLIGHT: Duration = Duration::from_secs(1);

/// Where a node's parked clients stand: its vector when their streams ended, and when this node
/// heard of it (by this node's clock: arrival times in its log are compared with it).
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) vector: Arc<Vector>,
    pub(crate) at: SystemTime,
}

/// The auth record of a parked client, by reference: it is read again where the client resumes.
#[derive(Debug, Clone)]
pub struct AuthRef {
    pub collection: String,
    pub id: String,
}

/// A client of a node that stopped.
#[derive(Debug, Clone)]
pub struct Parked {
    pub id: String,
    /// The stopped node's number of the last event it sent this client: a resume must name it
    /// (then the client got everything up to its place).
    pub last: u64,
    /// When the client first connected: events of origins its node had never heard of count
    /// from then.
    pub since: SystemTime,
    pub auth: Option<AuthRef>,
    pub topics: Vec<String>,
    pub(crate) place: Place,
}

/// What a node's log holds for a parked client: the events past its place (with this node's
/// numbers for them), and the position they reach.
pub(crate) struct Caught {
    pub(crate) events: Vec<(u64, Event)>,
    pub(crate) vector: Vector,
}

/// A parked client's catching up: where it stands, and what a log held for it (events with
/// number 0 came from another node's log).
pub(crate) struct Resumption {
    pub(crate) place: Place,
    pub(crate) since: SystemTime,
    pub(crate) caught: Caught,
}

/// The numbers of one origin's events in this node's log: `first..=last` are all there
/// (`first > last`: none is, they were all dropped as too old).
#[derive(Debug, Clone, Copy)]
struct Run {
    first: u64,
    last: u64,
}

/// What this node's event log holds of each origin's events.
#[derive(Debug)]
pub(crate) struct Heard {
    runs: HashMap<Arc<str>, Run>,
    /// Every event that arrived from this moment on is in the log (the log's start, then the
    /// arrival of the last event dropped from it).
    complete_since: SystemTime,
}

impl Default for Heard {
    fn default() -> Self {
        Heard {
            runs: HashMap::new(),
            complete_since: SystemTime::now(),
        }
    }
}

impl Heard {
    /// An event entered the log.
    pub(crate) fn arrived(&mut self, o: &Origin) {
        match self.runs.get_mut(&o.node) {
            Some(r) if o.seq == r.last.saturating_add(1) => r.last = o.seq,
            // a gap (a message the carrier lost, or one this node could not read): the log holds
            // this origin's events from here on only
            Some(r) => {
                *r = Run {
                    first: o.seq,
                    last: o.seq,
                }
            }
            None => {
                self.runs.insert(
                    o.node.clone(),
                    Run {
                        first: o.seq,
                        last: o.seq,
                    },
                );
            }
        }
    }

    /// Events may have been lost (the carrier's connection was down): the log is complete only
    /// from now on.
    pub(crate) fn lost(&mut self) {
        self.complete_since = SystemTime::now();
    }

    /// An event that arrived at `at` left the log (too old).
    pub(crate) fn dropped(&mut self, o: Option<&Origin>, at: SystemTime) {
        self.complete_since = self.complete_since.max(at);
        if let Some(r) = o.and_then(|o| self.runs.get_mut(&o.node).map(|r| (r, o.seq))) {
            let (run, seq) = r;
            run.first = run.first.max(seq.saturating_add(1));
        }
    }

    /// The vector of everything dispatched so far. Origins stay known while the node runs (a few
    /// bytes each, one per node process that ever published).
    pub(crate) fn vector(&self) -> Vector {
        self.runs.iter().map(|(k, r)| (k.clone(), r.last)).collect()
    }

    /// Whether the log holds every event past `place`: those of the origins in its vector, and
    /// any of another origin (this node was listening from before the place, give or take
    /// [`IN_FLIGHT`]).
    pub(crate) fn covers(&self, place: &Place) -> bool {
        self.complete_since + IN_FLIGHT <= place.at
            && place.vector.iter().all(|(node, &seen)| {
                self.runs
                    .get(node)
                    .is_none_or(|r| r.first <= seen.saturating_add(1) || r.last <= seen)
            })
    }
}

/// Picks, from events in their order of arrival, those a client at `place` has not been sent,
/// advancing its vector; `gap` is set when an origin's events do not follow on from it (some are
/// missing).
pub(crate) struct Catchup {
    pub(crate) vector: Vector,
    at: SystemTime,
    /// When the client connected: events of origins its node had never heard of count from then.
    since: SystemTime,
    pub(crate) gap: bool,
}

impl Catchup {
    pub(crate) fn new(place: &Place, since: SystemTime) -> Self {
        Catchup {
            vector: (*place.vector).clone(),
            at: place.at,
            since,
            gap: false,
        }
    }

    /// Takes the position another node reached in its log (it picked the events up to there).
    pub(crate) fn reached(&mut self, vector: &Vector) {
        for (node, &seq) in vector {
            let seen = self.vector.entry(node.clone()).or_insert(0);
            *seen = (*seen).max(seq);
        }
    }

    /// Whether the client needs `event`, which arrived here at `at`.
    pub(crate) fn wants(&mut self, event: &Event, at: SystemTime) -> bool {
        let Some(o) = &event.origin else {
            // a node without numbers (an older version, during an upgrade): it cannot be placed
            self.gap |= at + IN_FLIGHT >= self.at;
            return false;
        };
        match self.vector.get_mut(&o.node) {
            Some(seen) if o.seq <= *seen => false,
            Some(seen) => {
                self.gap |= o.seq != seen.saturating_add(1);
                *seen = o.seq;
                true
            }
            // an origin the parking node never heard of: its events since the client connected
            None if at >= self.since => {
                self.vector.insert(o.node.clone(), o.seq);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(node: &str, seq: u64) -> Origin {
        Origin {
            node: node.into(),
            seq,
        }
    }

    fn place(v: &[(&str, u64)], at: SystemTime) -> Place {
        Place {
            vector: Arc::new(v.iter().map(|(n, s)| (Arc::from(*n), *s)).collect()),
            at,
        }
    }

    #[test]
    fn covers_only_when_every_event_past_the_place_is_held() {
        let mut h = Heard {
            runs: HashMap::new(),
            complete_since: SystemTime::now() - Duration::from_secs(10),
        };
        for s in 5..=9 {
            h.arrived(&origin("a", s));
        }
        let later = SystemTime::now();
        assert!(h.covers(&place(&[("a", 4)], later)));
        assert!(h.covers(&place(&[("a", 9)], later)));
        assert!(!h.covers(&place(&[("a", 3)], later)), "4 is missing");
        // a node that started after the park cannot vouch for the events in flight then
        assert!(!h.covers(&place(&[("a", 9)], h.complete_since)));
        // a gap restarts the run
        h.arrived(&origin("a", 12));
        assert!(!h.covers(&place(&[("a", 9)], later)));
        assert!(h.covers(&place(&[("a", 11)], later)));
        // dropped events
        h.dropped(
            Some(&origin("a", 12)),
            SystemTime::now() - Duration::from_secs(5),
        );
        assert!(h.covers(&place(&[("a", 12)], later)));
        assert!(!h.covers(&place(&[("a", 11)], later)));
    }

    #[test]
    fn catchup_takes_what_follows_and_notices_gaps() {
        let p = place(&[("a", 4)], SystemTime::now());
        let since = p.at - Duration::from_secs(60);
        let now = p.at;
        let ev = |o: Origin| Event {
            action: super::super::event::EventAction::Create,
            record: Arc::new(crate::records::model::Record {
                collection: Arc::new(crate::schema::Collection::scaffold(
                    crate::schema::CollectionType::Base,
                )),
                values: Vec::new(),
                expand: None,
            }),
            origin: Some(o),
        };
        let mut c = Catchup::new(&p, since);
        assert!(!c.wants(&ev(origin("a", 4)), now));
        assert!(c.wants(&ev(origin("a", 5)), now));
        assert!(!c.wants(&ev(origin("a", 5)), now), "not twice");
        assert!(!c.gap);
        // an unknown origin: from the client's connection on
        assert!(!c.wants(&ev(origin("b", 1)), since - Duration::from_secs(1)));
        assert!(c.wants(&ev(origin("b", 2)), since));
        assert!(c.wants(&ev(origin("b", 3)), now));
        // another node's picks end at a position: what follows it follows on
        c.reached(&[(Arc::from("a"), 6)].into_iter().collect());
        assert!(c.wants(&ev(origin("a", 7)), now));
        assert!(!c.gap);
        assert!(c.wants(&ev(origin("a", 9)), now));
        assert!(c.gap, "8 is missing");
        // an event without a number, after the place: it cannot be placed
        let mut c = Catchup::new(&p, since);
        let mut unnumbered = ev(origin("a", 5));
        unnumbered.origin = None;
        assert!(!c.wants(&unnumbered, now));
        assert!(c.gap);
    }
}
