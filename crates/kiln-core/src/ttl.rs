//! Keys that expire: resend throttles and other short-lived one-time state of this node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Values by key, each forgotten after its own time to live (pending WebAuthn challenges).
pub struct TtlMap<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V> Default for TtlMap<V> {
    fn default() -> Self {
        TtlMap { entries: Mutex::new(HashMap::new()) }
    }
}

impl<V> TtlMap<V> {
    /// Stores `value` under `key` for `ttl`.
    pub fn insert(&self, key: String, value: V, ttl: Duration) {
        let now = Instant::now();
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (until, _)| *until > now);
        }
        map.insert(key, (now + ttl, value));
    }

    /// A copy of the value of `key` if it has not expired.
    pub fn get(&self, key: &str) -> Option<V>
    where
        V: Clone,
    {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).filter(|(until, _)| *until > Instant::now()).map(|(_, v)| v.clone())
    }

    /// Removes and returns the value of `key` if it has not expired (single use).
    pub fn take(&self, key: &str) -> Option<V> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key).filter(|(until, _)| *until > Instant::now()).map(|(_, v)| v)
    }
}

/// A set of keys, each forgotten after its own time to live.
#[derive(Default)]
pub struct TtlKeys {
    keys: Mutex<HashMap<String, Instant>>,
}

impl TtlKeys {
    /// Adds `key` for `ttl`; returns false (and changes nothing) if it is already present.
    pub fn insert_new(&self, key: String, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut map = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, until| *until > now);
        }
        match map.get(&key) {
            Some(until) if *until > now => false,
            _ => {
                map.insert(key, now + ttl);
                true
            }
        }
    }

    /// Whether `key` is present and unexpired.
    pub fn contains(&self, key: &str) -> bool {
        let map = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).is_some_and(|until| *until > Instant::now())
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &str) {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_expire() {
        let t = TtlKeys::default();
        assert!(t.insert_new("a".into(), Duration::from_millis(30)));
        assert!(!t.insert_new("a".into(), Duration::from_millis(30)));
        assert!(t.contains("a"));
        std::thread::sleep(Duration::from_millis(40));
        assert!(!t.contains("a"));
        assert!(t.insert_new("a".into(), Duration::from_secs(1)));
        t.remove("a");
        assert!(!t.contains("a"));
        let m = TtlMap::default();
        m.insert("c".into(), 7, Duration::from_secs(60));
        assert_eq!(m.take("c"), Some(7));
        assert_eq!(m.take("c"), None, "single use");
        m.insert("d".into(), 8, Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(m.take("d"), None, "expired");
    }
}
