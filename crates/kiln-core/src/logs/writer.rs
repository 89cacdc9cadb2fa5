//! The writer thread: log lines become `_logs` rows, written in batches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use kiln_db::Db;

use super::line::{Line, RequestFacts, ERROR, INFO};

/// A line waits at most this long for the rest of its batch.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Lines written in one transaction at most; a full batch wakes the writer early.
pub(crate) const BATCH: usize = 200;
/// Lines waiting for the writer at most; more are dropped.
const QUEUE: usize = 16_384;
/// PocketBase's limits of a stored line: the message in bytes, the data as JSON when the
/// settings' `logs.maxDataSize` is 0.
const MAX_MESSAGE: usize = 8000;
const DEFAULT_MAX_DATA: usize = 16 << 10;

struct Queued {
    line: Line,
    at_ms: i64,
    max_data: i64,
}

/// A row of `_logs`.
struct Row {
    id: String,
    created: String,
    level: i64,
    message: String,
    data: String,
}

impl Row {
    /// The row's values in the order of [`insert_sql`]'s columns.
    fn values(self) -> [kiln_db::Value; 5] {
        [
            self.id.into(),
            self.created.into(),
            self.level.into(),
            self.message.into(),
            self.data.into(),
        ]
    }
}

#[derive(Default)]
struct State {
    queue: Vec<Queued>,
    /// Flushes asked for, and done (a flush waits until `done` reaches its number).
    asked: u64,
    done: u64,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the writer: a full batch, a flush, the end.
    wake: Condvar,
    /// Wakes the flushers: a batch was written.
    written: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sending side, held by the app. Appending a line takes an uncontended lock and wakes no
/// thread (a wake-up per request cost more than the rest of the logging): the writer wakes once
/// a second, or when a batch is full.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    dropped: AtomicU64,
}

impl Writer {
    /// Starts the writer thread on `db` (the log's store).
    pub(crate) fn start(db: Db) -> std::io::Result<Writer> {
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("kiln-logs".into())
            .spawn(move || run(&theirs, &db))?;
        Ok(Writer {
            shared,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues a line; never blocks on the database (a full queue drops it and counts it).
    pub(crate) fn push(&self, line: Line, max_data: i64) {
        let queued = Queued {
            line,
            at_ms: crate::datetime::now_ms(),
            max_data,
        };
        let mut st = self.shared.lock();
        if st.queue.len() >= QUEUE {
            drop(st);
            let n = self.dropped.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n + 1,
                    "the log writer falls behind: lines dropped"
                );
            }
            return;
        }
        st.queue.push(queued);
        if st.queue.len() == BATCH {
            self.shared.wake.notify_one();
        }
    }

    /// Returns once every line queued before the call is written.
    pub(crate) fn flush(&self) {
        let mut st = self.shared.lock();
        st.asked += 1;
        let mine = st.asked;
        self.shared.wake.notify_one();
        let deadline = Instant::now() + Duration::from_secs(30);
        while st.done < mine && !st.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            st = self
                .shared
                .written
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

/// The writer thread: waits for a full batch, a flush or a second, then writes what is queued.
fn run(shared: &Shared, db: &Db) {
    loop {
        let mut st = shared.lock();
        let due = Instant::now() + FLUSH_EVERY;
        while st.queue.len() < BATCH && st.asked == st.done && !st.closed {
            let left = due.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = shared
                .wake
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let batch = std::mem::take(&mut st.queue);
        let (asked, closed) = (st.asked, st.closed);
        drop(st);
        let mut rows: Vec<Row> = batch
            .into_iter()
            .map(|q| row(q.line, q.at_ms, q.max_data))
            .collect();
        write(db, &mut rows);
        let mut st = shared.lock();
        st.done = asked;
        shared.written.notify_all();
        if closed && st.queue.is_empty() {
            return;
        }
    }
}

/// Rows per `INSERT` statement: one statement (prepared once, kept in the connection's cache)
/// writes this many rows, so the per-statement work of SQLite is paid once per group; the rows
/// left over go one by one, so that only two statements ever enter the writer's cache. 100
/// parameters stay well under every engine's limit.
const ROWS_PER_INSERT: usize = 20;

fn write(db: &Db, pending: &mut Vec<Row>) {
    if pending.is_empty() {
        return;
    }
    let rows = std::mem::take(pending);
    let n = rows.len();
    let written = db.write_blocking(move |conn| -> Result<(), kiln_db::DbError> {
        let d = conn.dialect();
        let groups = rows.len() / ROWS_PER_INSERT;
        let mut rows = rows.into_iter();
        if groups > 0 {
            let sql = insert_sql(d, ROWS_PER_INSERT);
            let mut params = Vec::with_capacity(5 * ROWS_PER_INSERT);
            for _ in 0..groups {
                params.clear();
                params.extend(rows.by_ref().take(ROWS_PER_INSERT).flat_map(Row::values));
                conn.execute(&sql, &params)?;
            }
        }
        if rows.len() > 0 {
            let sql = insert_sql(d, 1);
            for r in rows {
                conn.execute(&sql, &r.values())?;
            }
        }
        Ok(())
    });
    if let Err(e) = written {
        tracing::warn!(error = %e, lines = n, "cannot write log lines");
    }
}

/// `INSERT INTO _logs … VALUES (…), (…)` for `rows` rows.
fn insert_sql(d: kiln_db::Dialect, rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO \"_logs\" (\"id\", \"created\", \"level\", \"message\", \"data\") VALUES ",
    );
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..5 {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&d.placeholder(r * 5 + c + 1));
        }
        sql.push(')');
    }
    sql
}

fn row(line: Line, at_ms: i64, max_data: i64) -> Row {
    let max = usize::try_from(max_data)
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_MAX_DATA);
    let (level, mut message, data) = match line {
        Line::Message {
            level,
            message,
            data,
        } => (level, message, data_json(data, max)),
        Line::Request {
            log,
            log_ip,
            log_auth_id,
        } => {
            let level = if log.error().is_some() { ERROR } else { INFO };
            let mut data = request_data(&*log, log_ip, log_auth_id);
            if data.len() > max {
                data = match serde_json::from_str::<Value>(&data) {
                    Ok(Value::Object(m)) => data_json(m, max),
                    _ => "{}".into(),
                };
            }
            let url = log.url();
            let message = if url.contains('%') {
                format!(
                    "{} {}",
                    log.method(),
                    crate::request::percent_decode(url, false)
                )
            } else {
                format!("{} {url}", log.method())
            };
            (level, message, data)
        }
    };
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    Row {
        id: line_id(at_ms),
        created: crate::datetime::format_ms(at_ms),
        level,
        message,
        data,
    }
}

/// A line's id: 15 characters of `[a-z0-9]` like any PocketBase id, the first 8 the time in base
/// 36 (digits `0-9a-z`, which sort as text): ids grow with time, so new rows land at the end of
/// the primary key's index rather than on random pages of a log that keeps growing.
fn line_id(at_ms: i64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut id = String::with_capacity(15);
    let mut t = at_ms.max(0) as u64;
    let mut head = [b'0'; 8];
    for c in head.iter_mut().rev() {
        *c = DIGITS[(t % 36) as usize];
        t /= 36;
    }
    id.extend(head.iter().map(|&c| c as char));
    id.push_str(&crate::ids::new_id()[..7]);
    id
}

/// A request's attributes as JSON, written straight to text in PocketBase's (alphabetical) key
/// order: no map is built for the common line.
fn request_data(log: &dyn RequestFacts, log_ip: bool, log_auth_id: bool) -> String {
    use std::io::Write;
    let mut out: Vec<u8> = Vec::with_capacity(320);
    let key = |out: &mut Vec<u8>, key: &str| {
        out.push(if out.is_empty() { b'{' } else { b',' });
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    };
    let put = |out: &mut Vec<u8>, k: &str, v: &dyn erased::Json| {
        key(out, k);
        v.write(out);
    };
    let put_str = |out: &mut Vec<u8>, k: &str, v: &str| {
        key(out, k);
        crate::records::model::write_str(out, v);
    };
    let auth = log.auth();
    put_str(
        &mut out,
        "auth",
        auth.map_or("", |a| a.collection.name.as_str()),
    );
    if let (true, Some(a)) = (log_auth_id, auth) {
        put_str(&mut out, "authId", a.id());
    }
    if let Some((message, details)) = log.error() {
        let details = if details.is_empty() {
            Value::Null
        } else {
            Value::Object(details.clone().into_iter().map(go_error).collect())
        };
        put(&mut out, "details", &details);
        put(&mut out, "error", &message);
    }
    put(&mut out, "execTime", &log.exec_ms());
    put_str(&mut out, "method", log.method());
    put_str(&mut out, "referer", log.referer());
    // An address has nothing to escape: written as it prints.
    let ip = |out: &mut Vec<u8>, key: &str, ip: Option<std::net::IpAddr>| {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":\"");
        match ip {
            Some(std::net::IpAddr::V4(v4)) => write_ipv4(out, v4),
            Some(ip) => {
                let _ = write!(out, "{ip}");
            }
            None => {}
        }
        out.push(b'"');
    };
    if log_ip {
        ip(&mut out, "remoteIP", log.remote_ip());
    }
    if !log.request_id().is_empty() {
        put_str(&mut out, "requestId", log.request_id());
    }
    put(&mut out, "status", &log.status());
    put_str(&mut out, "type", "request");
    put_str(&mut out, "url", log.url());
    put_str(&mut out, "userAgent", log.user_agent());
    if log_ip {
        ip(&mut out, "userIP", log.user_ip());
    }
    let _ = out.write_all(b"}");
    String::from_utf8(out).unwrap_or_else(|_| "{}".into())
}

/// An IPv4 address as `Display` prints it, without the formatting machinery (two per logged
/// request).
fn write_ipv4(out: &mut Vec<u8>, ip: std::net::Ipv4Addr) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        if octet >= 100 {
            out.push(b'0' + octet / 100);
        }
        if octet >= 10 {
            out.push(b'0' + octet / 10 % 10);
        }
        out.push(b'0' + octet % 10);
    }
}

/// JSON values written by serde into a byte buffer.
mod erased {
    pub(super) trait Json {
        fn write(&self, out: &mut Vec<u8>);
    }
    impl<T: serde::Serialize + ?Sized> Json for T {
        fn write(&self, out: &mut Vec<u8>) {
            let _ = serde_json::to_writer(out, self);
        }
    }
}

/// A field error as Go's validation error prints it, which PocketBase logs: `{"code",
/// "message": "Cannot be blank."}` becomes `"cannot be blank"`.
fn go_error((key, v): (String, Value)) -> (String, Value) {
    let message = v.get("message").and_then(Value::as_str).map(|m| {
        let m = m.strip_suffix('.').unwrap_or(m);
        let mut chars = m.chars();
        match chars.next() {
            Some(first) => first.to_lowercase().chain(chars).collect::<String>(),
            None => String::new(),
        }
    });
    match message {
        Some(m) => (key, Value::String(m)),
        None => (key, v),
    }
}

/// The data as JSON of at most about `max` bytes: attributes that do not fit are left out and
/// `__pb_truncated__` says so, as PocketBase marks it.
fn data_json(data: Map<String, Value>, max: usize) -> String {
    let full = serde_json::to_string(&data).unwrap_or_else(|_| "{}".into());
    if full.len() <= max {
        return full;
    }
    let mut kept = Map::new();
    let mut size = 2;
    for (k, v) in data {
        let add = k.len() + v.to_string().len() + 4;
        if size + add <= max {
            size += add;
            kept.insert(k, v);
        }
    }
    kept.insert("__pb_truncated__".into(), true.into());
    Value::Object(kept).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_addresses_print_as_display_prints_them() {
        for octets in [
            [0, 0, 0, 0],
            [127, 0, 0, 1],
            [10, 9, 99, 100],
            [255, 200, 101, 110],
        ] {
            let ip = std::net::Ipv4Addr::from(octets);
            let mut out = Vec::new();
            write_ipv4(&mut out, ip);
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
        }
        for n in 0..=255u8 {
            let ip = std::net::Ipv4Addr::new(n, n, 1, n);
            let mut out = Vec::new();
            write_ipv4(&mut out, ip);
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
        }
    }

    #[test]
    fn oversized_data_keeps_what_fits_and_says_so() {
        let mut data = Map::new();
        data.insert("a".into(), "x".repeat(10).into());
        data.insert("b".into(), "y".repeat(100).into());
        data.insert("c".into(), 1.into());
        let out: Value = serde_json::from_str(&data_json(data, 40)).unwrap();
        assert_eq!(out["a"], "x".repeat(10));
        assert!(out.get("b").is_none());
        assert_eq!(out["c"], 1);
        assert_eq!(out["__pb_truncated__"], true);
    }

    struct Facts;

    impl RequestFacts for Facts {
        fn method(&self) -> &str {
            "POST"
        }
        fn url(&self) -> &str {
            "/api/x?q=%22a%22"
        }
        fn status(&self) -> u16 {
            400
        }
        fn exec_ms(&self) -> f64 {
            1.5
        }
        fn auth(&self) -> Option<&crate::records::model::Record> {
            None
        }
        fn user_ip(&self) -> Option<std::net::IpAddr> {
            "10.0.0.1".parse().ok()
        }
        fn remote_ip(&self) -> Option<std::net::IpAddr> {
            None
        }
        fn referer(&self) -> &str {
            ""
        }
        fn user_agent(&self) -> &str {
            "a \"quoted\" agent"
        }
        fn error(&self) -> Option<(&str, &Map<String, Value>)> {
            static DETAILS: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
            let d = DETAILS.get_or_init(|| {
                let mut m = Map::new();
                m.insert("title".into(), serde_json::json!({"code": "validation_required", "message": "Cannot be blank."}));
                m
            });
            Some(("Failed.", d))
        }
    }

    #[test]
    fn batches_are_written_whole_in_groups_and_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let main = Db::open_sqlite(&dir.path().join("data.db"), Default::default()).unwrap();
        let db = super::super::store::open(dir.path(), &main).unwrap();
        // two full groups of 20 and 5 rows left over
        let mut rows: Vec<Row> = (0..45)
            .map(|i| {
                let line = Line::Message {
                    level: INFO,
                    message: format!("line {i}"),
                    data: Map::new(),
                };
                row(line, 1_700_000_000_000 + i, 0)
            })
            .collect();
        write(&db, &mut rows);
        let (count, messages): (i64, i64) = db
            .read(|c| -> Result<_, kiln_db::DbError> {
                Ok((
                    c.query_i64("SELECT COUNT(*) FROM _logs", &[])?,
                    c.query_i64("SELECT COUNT(DISTINCT message) FROM _logs", &[])?,
                ))
            })
            .unwrap();
        assert_eq!((count, messages), (45, 45));
    }

    #[test]
    fn line_ids_are_ids_that_grow_with_time() {
        let (a, b) = (line_id(1_700_000_000_000), line_id(1_700_000_000_001));
        assert_eq!(a.len(), 15);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert!(a < b);
        assert!(line_id(1_800_000_000_000) > b);
    }

    #[test]
    fn request_lines_are_pocketbases() {
        let r = row(
            Line::Request {
                log: Box::new(Facts),
                log_ip: true,
                log_auth_id: true,
            },
            0,
            0,
        );
        assert_eq!(r.level, ERROR);
        assert_eq!(r.message, "POST /api/x?q=\"a\"");
        let data: Value = serde_json::from_str(&r.data).unwrap();
        assert_eq!(
            data,
            serde_json::json!({"auth": "", "details": {"title": "cannot be blank"}, "error": "Failed.",
                "execTime": 1.5, "method": "POST", "referer": "", "remoteIP": "", "status": 400,
                "type": "request", "url": "/api/x?q=%22a%22", "userAgent": "a \"quoted\" agent",
                "userIP": "10.0.0.1"})
        );
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let line = Line::Message {
            level: INFO,
            message: "é".repeat(MAX_MESSAGE),
            data: Map::new(),
        };
        let r = row(line, 0, 0);
        assert!(r.message.len() <= MAX_MESSAGE);
        assert!(r.message.chars().all(|c| c == 'é'));
    }
}
