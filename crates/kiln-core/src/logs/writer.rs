//! The writer thread: log lines become `_logs` rows, written in batches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use kiln_db::Db;

use super::{Line, ERROR, INFO};

/// A line waits at most this long for the rest of its batch.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Lines written in one transaction at most.
pub(crate) const BATCH: usize = 200;
/// Lines waiting for the writer at most; more are dropped.
const QUEUE: usize = 16_384;
/// PocketBase's limits of a stored line: the message in bytes, the data as JSON when the
/// settings' `logs.maxDataSize` is 0.
const MAX_MESSAGE: usize = 8000;
const DEFAULT_MAX_DATA: usize = 16 << 10;

enum Msg {
    Line {
        line: Line,
        at_ms: i64,
        max_data: i64,
    },
    Flush(SyncSender<()>),
}

/// A row of `_logs`.
struct Row {
    id: String,
    created: String,
    level: i64,
    message: String,
    data: String,
}

/// The sending side, held by the app.
pub(crate) struct Writer {
    tx: SyncSender<Msg>,
    dropped: AtomicU64,
}

impl Writer {
    /// Starts the writer thread on `db` (the log's store).
    pub(crate) fn start(db: Db) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE);
        std::thread::Builder::new()
            .name("kiln-logs".into())
            .spawn(move || {
                let mut pending: Vec<Row> = Vec::new();
                let mut due: Option<Instant> = None;
                loop {
                    let wait = due
                        .map(|d| d.saturating_duration_since(Instant::now()))
                        .unwrap_or(Duration::from_secs(3600));
                    match rx.recv_timeout(wait) {
                        Ok(Msg::Line {
                            line,
                            at_ms,
                            max_data,
                        }) => {
                            pending.push(row(line, at_ms, max_data));
                            due.get_or_insert_with(|| Instant::now() + FLUSH_EVERY);
                            if pending.len() >= BATCH {
                                write(&db, &mut pending);
                                due = None;
                            }
                        }
                        Ok(Msg::Flush(done)) => {
                            write(&db, &mut pending);
                            due = None;
                            let _ = done.send(());
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            write(&db, &mut pending);
                            due = None;
                        }
                        Err(RecvTimeoutError::Disconnected) => {
                            write(&db, &mut pending);
                            break;
                        }
                    }
                }
            })?;
        Ok(Writer {
            tx,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues a line; never blocks (a full queue drops it and counts it).
    pub(crate) fn push(&self, line: Line, max_data: i64) {
        let msg = Msg::Line {
            line,
            at_ms: crate::datetime::now_ms(),
            max_data,
        };
        if let Err(TrySendError::Full(_)) = self.tx.try_send(msg) {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n + 1,
                    "the log writer falls behind: lines dropped"
                );
            }
        }
    }

    /// Returns once every line queued before the call is written.
    pub(crate) fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(30));
        }
    }
}

fn write(db: &Db, pending: &mut Vec<Row>) {
    if pending.is_empty() {
        return;
    }
    let rows = std::mem::take(pending);
    let n = rows.len();
    let written = db.write_blocking(move |conn| -> Result<(), kiln_db::DbError> {
        let sql = format!(
            "INSERT INTO \"_logs\" (\"id\", \"created\", \"level\", \"message\", \"data\") VALUES ({}, {}, {}, {}, {})",
            conn.dialect().placeholder(1),
            conn.dialect().placeholder(2),
            conn.dialect().placeholder(3),
            conn.dialect().placeholder(4),
            conn.dialect().placeholder(5),
        );
        for r in rows {
            conn.execute(
                &sql,
                &[
                    r.id.into(),
                    r.created.into(),
                    r.level.into(),
                    r.message.into(),
                    r.data.into(),
                ],
            )?;
        }
        Ok(())
    });
    if let Err(e) = written {
        tracing::warn!(error = %e, lines = n, "cannot write log lines");
    }
}

fn row(line: Line, at_ms: i64, max_data: i64) -> Row {
    let (level, message, data) = match line {
        Line::Message {
            level,
            message,
            data,
        } => (level, message, data),
        Line::Request {
            log,
            log_ip,
            log_auth_id,
        } => {
            let mut data = Map::new();
            data.insert("type".into(), "request".into());
            data.insert("execTime".into(), log.exec_ms.into());
            let level = match log.error {
                Some((message, details)) => {
                    data.insert("error".into(), message.into());
                    let details = if details.is_empty() {
                        Value::Null
                    } else {
                        Value::Object(details.into_iter().map(go_error).collect())
                    };
                    data.insert("details".into(), details);
                    ERROR
                }
                None => INFO,
            };
            data.insert("url".into(), log.url.clone().into());
            data.insert("method".into(), log.method.clone().into());
            data.insert("status".into(), log.status.into());
            data.insert("referer".into(), log.referer.into());
            data.insert("userAgent".into(), log.user_agent.into());
            let auth = log.auth.as_ref();
            let collection = auth.map(|a| a.collection.name.clone()).unwrap_or_default();
            data.insert("auth".into(), collection.into());
            if let (true, Some(a)) = (log_auth_id, auth) {
                data.insert("authId".into(), a.id().into());
            }
            if log_ip {
                data.insert("userIP".into(), log.user_ip.into());
                data.insert("remoteIP".into(), log.remote_ip.into());
            }
            let message = format!(
                "{} {}",
                log.method,
                crate::request::percent_decode(&log.url, false)
            );
            (level, message, data)
        }
    };
    let mut message = message;
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    let max = usize::try_from(max_data)
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_MAX_DATA);
    Row {
        id: crate::ids::new_id(),
        created: crate::datetime::format_ms(at_ms),
        level,
        message,
        data: data_json(data, max),
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
