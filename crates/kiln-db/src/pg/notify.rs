//! Messages between the processes sharing one PostgreSQL database (LISTEN/NOTIFY).
//!
//! NOTIFY payloads are limited to 8000 bytes: a larger message is stored in `_kiln_messages` and
//! the notification carries its id. Stored messages are deleted after [`KEEP_MESSAGES`].
//!
//! Every notification wakes every listening connection (a signal to each of their server
//! processes), so messages queued together for one channel travel in one notification, up to
//! the inline size: under write load the database's work per message shrinks with the batch.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::error::map_err;
use crate::DbError;

/// Payloads up to this size travel in the notification itself.
const INLINE_MAX: usize = 7000;
/// Marks a notification whose message is stored in `_kiln_messages` (by id).
const STORED: char = '\u{1}';
/// Marks a notification carrying several messages, separated by [`SEPARATOR`].
const BATCH: char = '\u{2}';
const SEPARATOR: char = '\u{1e}';
/// Messages taken from the queue at most for one round of sending.
const MAX_QUEUED: usize = 256;
/// How long a stored message is kept for listeners to fetch.
const KEEP_MESSAGES: &str = "10 minutes";

/// Creates the table of large messages.
pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS _kiln_messages (
    id BIGSERIAL PRIMARY KEY,
    payload TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// Sends `payload` on `channel` through `client`.
pub(crate) fn send(client: &mut postgres::Client, channel: &str, payload: &str) -> Result<(), DbError> {
    if payload.len() <= INLINE_MAX {
        client.execute("SELECT pg_notify($1, $2)", &[&channel, &payload]).map_err(map_err)?;
    } else {
        let row = client
            .query_one("INSERT INTO _kiln_messages (payload) VALUES ($1) RETURNING id", &[&payload])
            .map_err(map_err)?;
        let id: i64 = row.get(0);
        client.execute("SELECT pg_notify($1, $2)", &[&channel, &format!("{STORED}{id}")]).map_err(map_err)?;
    }
    Ok(())
}

/// What a listener is told.
pub enum Notice<'a> {
    /// A message sent on a channel it listens to.
    Message { channel: &'a str, payload: &'a str },
    /// The connection was lost and is back: messages may have been missed meanwhile.
    Reconnected,
}

/// Listens on `channels` on a connection of its own, on a thread of its own, for as long as the
/// process lives; reconnects after a failure (with a growing pause) and says so once listening
/// again.
pub(crate) fn listen(
    config: postgres::Config,
    channels: Vec<String>,
    on: Box<dyn Fn(Notice<'_>) + Send>,
) -> Result<(), DbError> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("kiln-pg-listen".into())
        .spawn(move || {
            let mut ready = Some(ready_tx);
            let mut pause = Duration::from_millis(100);
            loop {
                let result = serve(&config, &channels, &*on, &mut ready);
                if let Some(tx) = ready.take() {
                    // the first connection failed: the caller reports it
                    let _ = tx.send(result);
                    return;
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        })
        .map_err(|e| DbError::Open(format!("cannot start the listener thread: {e}")))?;
    ready_rx.recv().map_err(|_| DbError::Closed)?
}

/// One listening connection, until it fails.
fn serve(
    config: &postgres::Config,
    channels: &[String],
    on: &dyn Fn(Notice<'_>),
    ready: &mut Option<mpsc::SyncSender<Result<(), DbError>>>,
) -> Result<(), DbError> {
    let mut client = config.connect(postgres::NoTls).map_err(map_err)?;
    let listen: String = channels.iter().map(|c| format!("LISTEN \"{c}\";")).collect();
    client.batch_execute(&listen).map_err(map_err)?;
    match ready.take() {
        Some(tx) => drop(tx.send(Ok(()))),
        // listening again: what was sent meanwhile is lost, and the caller may resync
        None => on(Notice::Reconnected),
    }
    let mut last_sweep = Instant::now();
    loop {
        // Wait for one notification (30 s at most), then take those already arrived.
        let batch: Vec<(String, String)> = {
            let mut notifications = client.notifications();
            let mut batch = Vec::new();
            let first = notifications.timeout_iter(Duration::from_secs(30)).next().map_err(map_err)?;
            if let Some(n) = first {
                batch.push((n.channel().to_owned(), n.payload().to_owned()));
                let mut more = notifications.iter();
                while let Some(n) = more.next().map_err(map_err)? {
                    batch.push((n.channel().to_owned(), n.payload().to_owned()));
                    if batch.len() >= 256 {
                        break;
                    }
                }
            }
            batch
        };
        for (channel, payload) in &batch {
            if let Some(id) = payload.strip_prefix(STORED).and_then(|id| id.parse::<i64>().ok()) {
                let row = client.query_opt("SELECT payload FROM _kiln_messages WHERE id = $1", &[&id]).map_err(map_err)?;
                if let Some(row) = row {
                    on(Notice::Message { channel, payload: row.get(0) });
                }
            } else if let Some(items) = payload.strip_prefix(BATCH) {
                for payload in items.split(SEPARATOR) {
                    on(Notice::Message { channel, payload });
                }
            } else {
                on(Notice::Message { channel, payload });
            }
        }
        if batch.is_empty() {
            // an idle round: check the connection is alive
            client.batch_execute("SELECT 1").map_err(map_err)?;
        }
        if last_sweep.elapsed() > Duration::from_secs(60) {
            last_sweep = Instant::now();
            let sql = format!("DELETE FROM _kiln_messages WHERE created < now() - interval '{KEEP_MESSAGES}'");
            client.batch_execute(&sql).map_err(map_err)?;
        }
    }
}

/// Sends messages given from any thread (an async task must not wait on the network) in order,
/// on a connection of its own, on a thread of its own.
pub(crate) struct Sender {
    tx: std::sync::Mutex<mpsc::Sender<(String, String)>>,
}

impl Sender {
    pub(crate) fn start(config: postgres::Config) -> Sender {
        let (tx, rx) = mpsc::channel::<(String, String)>();
        let _ = std::thread::Builder::new().name("kiln-pg-notify".into()).spawn(move || {
            let mut client: Option<postgres::Client> = None;
            while let Ok(first) = rx.recv() {
                let mut queued = vec![first];
                while queued.len() < MAX_QUEUED {
                    match rx.try_recv() {
                        Ok(m) => queued.push(m),
                        Err(_) => break,
                    }
                }
                for (channel, payload) in pack(queued) {
                    // one retry on a fresh connection; a message that cannot be sent then is
                    // dropped (the listeners resynchronise when their own connection comes back)
                    for _ in 0..2 {
                        if client.as_ref().is_none_or(|c| c.is_closed()) {
                            client = config.connect(postgres::NoTls).ok();
                        }
                        let Some(c) = client.as_mut() else { continue };
                        if send(c, &channel, &payload).is_ok() {
                            break;
                        }
                        client = None;
                    }
                }
            }
        });
        Sender { tx: std::sync::Mutex::new(tx) }
    }

    /// Queues `payload` (which must not start with U+0001 or U+0002: JSON and ids never do).
    pub(crate) fn send(&self, channel: &str, payload: &str) {
        let _ = self.tx.lock().unwrap_or_else(|p| p.into_inner()).send((channel.to_owned(), payload.to_owned()));
    }
}

/// Packs queued messages into notifications, in order: consecutive messages for one channel share
/// a notification while they fit inline; a message alone is sent as it is.
fn pack(queued: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(queued.len());
    let mut count = 0; // messages in the last notification of `out`
    for (channel, payload) in queued {
        let joinable = !payload.contains(SEPARATOR) && payload.len() < INLINE_MAX;
        if let Some((last_channel, last)) = out.last_mut() {
            if joinable && count > 0 && *last_channel == channel && last.len() + payload.len() + 4 <= INLINE_MAX {
                if count == 1 {
                    last.insert(0, BATCH);
                }
                last.push(SEPARATOR);
                last.push_str(&payload);
                count += 1;
                continue;
            }
        }
        count = if joinable { 1 } else { 0 };
        out.push((channel, payload));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(c: &str, p: &str) -> (String, String) {
        (c.to_owned(), p.to_owned())
    }

    #[test]
    fn packs_consecutive_messages_of_a_channel() {
        let big = "x".repeat(INLINE_MAX + 1);
        let odd = format!("a{SEPARATOR}b");
        let packed = pack(vec![m("e", "1"), m("e", "2"), m("s", "n"), m("e", "3"), m("e", &big), m("e", "4"), m("e", &odd), m("e", "5")]);
        let expect = vec![
            m("e", &format!("{BATCH}1{SEPARATOR}2")),
            m("s", "n"),
            m("e", "3"),
            m("e", &big),
            m("e", "4"),
            m("e", &odd),
            m("e", "5"),
        ];
        assert_eq!(packed, expect);
        // a batch stops at the inline size
        let half = "y".repeat(INLINE_MAX / 2 - 10);
        let packed = pack(vec![m("e", &half), m("e", &half), m("e", &half)]);
        assert_eq!(packed.len(), 2);
        assert!(packed.iter().all(|(_, p)| p.len() <= INLINE_MAX));
        assert_eq!(packed[1].1, half, "the third goes alone");
    }
}
