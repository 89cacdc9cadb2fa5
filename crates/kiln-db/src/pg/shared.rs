//! State the processes sharing one PostgreSQL database must agree on, beyond the data: rate
//! limit windows, short-lived single-use keys, and periodic work done once for all of them.
//!
//! The tables are unlogged (a crash of the server may forget them, which only reopens a window,
//! drops a pending challenge or runs a clean-up early) and live in Kiln's schema.

use super::PgDb;
use crate::{Conn, DbError};

/// The state shared by every process on one PostgreSQL database ([`crate::Db::shared`]). All
/// times are milliseconds since the epoch, given by the caller.
pub struct Shared<'a> {
    pub(crate) db: &'a PgDb,
}

impl Shared<'_> {
    fn run<R: Send>(
        &self,
        f: impl FnOnce(&Conn<'_>) -> Result<R, DbError> + Send,
    ) -> Result<R, DbError> {
        crate::blocking::run(|| self.db.read(f))
    }

    /// Counts a hit of `key` in its fixed window of `window_ms`: (window start, hits in it
    /// including this one). One statement, atomic across processes.
    pub fn window_hit(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<(i64, i64), DbError> {
        self.run(|conn| {
            let sql = "INSERT INTO _kiln_windows (key, started, hits) VALUES (?1, ?2, 1)
                 ON CONFLICT (key) DO UPDATE SET
                   started = CASE WHEN _kiln_windows.started <= ?3 THEN ?2 ELSE _kiln_windows.started END,
                   hits = CASE WHEN _kiln_windows.started <= ?3 THEN 1 ELSE _kiln_windows.hits + 1 END
                 RETURNING started, hits";
            let params = [key.into(), now_ms.into(), (now_ms - window_ms).into()];
            Ok(conn.query_one(sql, &params, |r| Ok((r.int(0), r.int(1))))?.unwrap_or((now_ms, 1)))
        })
    }

    /// Forgets every window (`None`), or those started before `older_than_ms`.
    pub fn windows_clear(&self, older_than_ms: Option<i64>) -> Result<(), DbError> {
        self.run(|conn| match older_than_ms {
            None => conn.execute("DELETE FROM _kiln_windows", &[]).map(|_| ()),
            Some(t) => conn
                .execute("DELETE FROM _kiln_windows WHERE started < ?1", &[t.into()])
                .map(|_| ()),
        })
    }

    /// Stores `value` under `key` until `now_ms + ttl_ms`. With `if_absent`, only when `key` is
    /// missing or expired. Returns whether it was stored; of two processes racing for the same
    /// absent key exactly one succeeds.
    pub fn put(
        &self,
        key: &str,
        value: &str,
        now_ms: i64,
        ttl_ms: i64,
        if_absent: bool,
    ) -> Result<bool, DbError> {
        self.run(|conn| {
            let upsert = "INSERT INTO _kiln_onetime (key, value, expires) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires";
            let (key, value, expires) = (key.into(), value.into(), (now_ms + ttl_ms).into());
            if if_absent {
                let sql = format!("{upsert} WHERE _kiln_onetime.expires <= ?4 RETURNING 1");
                Ok(conn.query_one(&sql, &[key, value, expires, now_ms.into()], |r| Ok(r.int(0)))?.is_some())
            } else {
                conn.execute(upsert, &[key, value, expires]).map(|_| true)
            }
        })
    }

    /// Removes `key` and returns its value if it had not expired: of two processes taking the
    /// same key, at most one gets it.
    pub fn take(&self, key: &str, now_ms: i64) -> Result<Option<String>, DbError> {
        self.run(|conn| {
            let sql = "DELETE FROM _kiln_onetime WHERE key = ?1 RETURNING value, expires";
            let row = conn.query_one(sql, &[key.into()], |r| Ok((r.text(0), r.int(1))))?;
            Ok(row.filter(|(_, expires)| *expires > now_ms).map(|(v, _)| v))
        })
    }

    /// Deletes the expired single-use keys.
    pub fn sweep(&self, now_ms: i64) -> Result<usize, DbError> {
        self.run(|conn| {
            conn.execute(
                "DELETE FROM _kiln_onetime WHERE expires <= ?1",
                &[now_ms.into()],
            )
        })
    }

    /// Claims the run of the periodic task `name` due every `period_ms`: true for exactly one
    /// of the processes asking within a period, which then does the work for all of them.
    pub fn claim_run(&self, name: &str, now_ms: i64, period_ms: i64) -> Result<bool, DbError> {
        self.run(|conn| {
            // A little early still counts: processes that tick at the same period but started at
            // different moments must not both miss the run.
            let sql = "INSERT INTO _kiln_runs (name, next) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET next = excluded.next WHERE _kiln_runs.next <= ?3 RETURNING 1";
            let params = [name.into(), (now_ms + period_ms).into(), (now_ms + period_ms / 10).into()];
            Ok(conn.query_one(sql, &params, |r| Ok(r.int(0)))?.is_some())
        })
    }
}
