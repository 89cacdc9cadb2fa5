//! Short-lived, single-use state that every node must see alike: resend throttles and pending
//! passkey challenges. In memory on SQLite (one process); on PostgreSQL in the database's shared
//! table, so that a challenge issued by one node is answered on another and a throttle set on
//! one node holds on all of them.

use std::time::Duration;

use crate::app::App;
use crate::error::Result;

impl App {
    /// Stores `value` under `key` for `ttl`; with `if_absent` only when `key` is missing or
    /// expired. Returns whether it was stored (a full local table refuses new keys).
    pub fn onetime_put(
        &self,
        key: &str,
        value: String,
        ttl: Duration,
        if_absent: bool,
    ) -> Result<bool> {
        match self.db().shared() {
            Some(shared) => Ok(shared.put(
                key,
                &value,
                crate::datetime::now_ms(),
                ttl.as_millis() as i64,
                if_absent,
            )?),
            None if if_absent => Ok(self
                .inner()
                .onetime
                .insert_absent(key.to_owned(), value, ttl)),
            None => Ok(self.inner().onetime.insert(key.to_owned(), value, ttl)),
        }
    }

    /// Removes `key` and returns its value if it had not expired: of two requests taking the
    /// same key, on any nodes, at most one gets it.
    pub fn onetime_take(&self, key: &str) -> Result<Option<String>> {
        match self.db().shared() {
            Some(shared) => Ok(shared.take(key, crate::datetime::now_ms())?),
            None => Ok(self.inner().onetime.take(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppConfig;

    #[test]
    fn put_if_absent_then_take_once() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&AppConfig::new(dir.path())).unwrap();
        let ttl = Duration::from_secs(60);
        assert!(app.onetime_put("k", "v1".into(), ttl, true).unwrap());
        assert!(
            !app.onetime_put("k", "v2".into(), ttl, true).unwrap(),
            "present: not replaced"
        );
        assert_eq!(app.onetime_take("k").unwrap().as_deref(), Some("v1"));
        assert_eq!(app.onetime_take("k").unwrap(), None, "single use");
        assert!(app
            .onetime_put("k", "v3".into(), Duration::from_millis(1), false)
            .unwrap());
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            app.onetime_put("k", "v4".into(), ttl, true).unwrap(),
            "expired: replaced"
        );
        assert_eq!(app.onetime_take("k").unwrap().as_deref(), Some("v4"));
    }
}
