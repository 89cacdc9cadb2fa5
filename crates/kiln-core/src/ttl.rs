//! Keys that expire: short-lived state of this node (caches, detached realtime clients, and
//! single-use state when the database is not shared). Bounded: expired entries are swept when the map doubles, and a full map
//! refuses new keys rather than grow without end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries before the first sweep of expired ones.
const FIRST_SWEEP: usize = 10_000;
/// Live entries at most; inserts beyond are refused.
pub const MAX_ENTRIES: usize = 200_000;

struct Entries<V> {
    map: HashMap<String, (Instant, V)>,
    sweep_at: usize,
}

/// Values by key, each forgotten after its own time to live.
pub struct TtlMap<V> {
    entries: Mutex<Entries<V>>,
}

impl<V> Default for TtlMap<V> {
    fn default() -> Self {
        TtlMap {
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                sweep_at: FIRST_SWEEP,
            }),
        }
    }
}

impl<V> TtlMap<V> {
    /// Stores `value` under `key` for `ttl`; `false` (nothing stored) when the map is full.
    pub fn insert(&self, key: String, value: V, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.map.len() >= e.sweep_at {
            e.map.retain(|_, (until, _)| *until > now);
            // Sweep again only once the live entries have doubled: amortized O(1) per insert.
            e.sweep_at = (e.map.len() * 2).max(FIRST_SWEEP);
        }
        if e.map.len() >= MAX_ENTRIES && !e.map.contains_key(&key) {
            return false;
        }
        e.map.insert(key, (now + ttl, value));
        true
    }

    /// A copy of the value of `key` if it has not expired.
    pub fn get(&self, key: &str) -> Option<V>
    where
        V: Clone,
    {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.map
            .get(key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, v)| v.clone())
    }

    /// Removes and returns the value of `key` if it has not expired (single use).
    pub fn take(&self, key: &str) -> Option<V> {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.map
            .remove(key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, v)| v)
    }

    /// Adds `key` with `value` for `ttl` unless it is present and unexpired; `false` if it was
    /// (or the map is full).
    pub(crate) fn insert_absent(&self, key: String, value: V, ttl: Duration) -> bool {
        {
            let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if e.map
                .get(&key)
                .is_some_and(|(until, _)| *until > Instant::now())
            {
                return false;
            }
        }
        self.insert(key, value, ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_expire() {
        let t = TtlMap::default();
        assert!(t.insert_absent("a".into(), (), Duration::from_millis(30)));
        assert!(!t.insert_absent("a".into(), (), Duration::from_millis(30)));
        assert!(t.get("a").is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(t.get("a").is_none());
        assert!(t.insert_absent("a".into(), (), Duration::from_secs(1)));
        assert!(t.take("a").is_some());
        assert!(t.get("a").is_none());
        let m = TtlMap::default();
        assert!(m.insert("c".into(), 7, Duration::from_secs(60)));
        assert_eq!(m.take("c"), Some(7));
        assert_eq!(m.take("c"), None, "single use");
        m.insert("d".into(), 8, Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(m.take("d"), None, "expired");
    }

    #[test]
    fn bounded_and_swept() {
        let m = TtlMap::default();
        for i in 0..MAX_ENTRIES {
            assert!(m.insert(format!("k{i}"), (), Duration::from_secs(60)));
        }
        assert!(
            !m.insert("one more".into(), (), Duration::from_secs(60)),
            "a full map refuses"
        );
        assert!(
            m.insert("k7".into(), (), Duration::from_secs(60)),
            "an existing key may be refreshed"
        );
        let short = TtlMap::default();
        for i in 0..FIRST_SWEEP {
            short.insert(format!("k{i}"), (), Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.insert("fresh".into(), (), Duration::from_secs(60)));
        assert_eq!(
            short.entries.lock().unwrap().map.len(),
            1,
            "expired entries were swept"
        );
    }
}
