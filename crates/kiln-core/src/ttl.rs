//! Keys that expire: resend throttles and other short-lived one-time state of this node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    }
}
