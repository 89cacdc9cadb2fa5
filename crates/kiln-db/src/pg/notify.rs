//! Messages between the processes sharing one PostgreSQL database (LISTEN/NOTIFY).
//!
//! NOTIFY payloads are limited to 8000 bytes: a larger message is stored in `_kiln_messages` and
//! the notification carries its id. Stored messages are deleted after [`KEEP_MESSAGES`].

use std::sync::mpsc;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::error::map_err;
use super::server::Server;
use crate::DbError;

/// Payloads up to this size travel in the notification itself.
const INLINE_MAX: usize = 7000;
/// Marks a notification whose message is stored in `_kiln_messages` (by id).
const STORED: char = '\u{1}';
/// How long a stored message is kept for listeners to fetch.
const KEEP_MESSAGES: &str = "10 minutes";

/// Creates the table of large messages.
pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS _kiln_messages (
    id BIGSERIAL PRIMARY KEY,
    payload TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// Sends `payload` on `channel` through `client`.
pub(crate) fn send(
    client: &mut postgres::Client,
    channel: &str,
    payload: &str,
) -> Result<(), DbError> {
    if payload.len() <= INLINE_MAX {
        client
            .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .map_err(map_err)?;
    } else {
        let row = client
            .query_one(
                "INSERT INTO _kiln_messages (payload) VALUES ($1) RETURNING id",
                &[&payload],
            )
            .map_err(map_err)?;
        let id: i64 = row.get(0);
        client
            .execute(
                "SELECT pg_notify($1, $2)",
                &[&channel, &format!("{STORED}{id}")],
            )
            .map_err(map_err)?;
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
    server: Server,
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
                let result = serve(&server, &channels, &*on, &mut ready);
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
    server: &Server,
    channels: &[String],
    on: &dyn Fn(Notice<'_>),
    ready: &mut Option<mpsc::SyncSender<Result<(), DbError>>>,
) -> Result<(), DbError> {
    let mut client = server.connect().map_err(map_err)?;
    let listen: String = channels
        .iter()
        .map(|c| format!("LISTEN \"{c}\";"))
        .collect();
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
            let first = notifications
                .timeout_iter(Duration::from_secs(30))
                .next()
                .map_err(map_err)?;
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
            match payload
                .strip_prefix(STORED)
                .and_then(|id| id.parse::<i64>().ok())
            {
                Some(id) => {
                    let row = client
                        .query_opt("SELECT payload FROM _kiln_messages WHERE id = $1", &[&id])
                        .map_err(map_err)?;
                    if let Some(row) = row {
                        on(Notice::Message {
                            channel,
                            payload: row.get(0),
                        });
                    }
                }
                None => on(Notice::Message { channel, payload }),
            }
        }
        if batch.is_empty() {
            // an idle round: check the connection is alive
            client.batch_execute("SELECT 1").map_err(map_err)?;
        }
        if last_sweep.elapsed() > Duration::from_secs(60) {
            last_sweep = Instant::now();
            let sql = format!(
                "DELETE FROM _kiln_messages WHERE created < now() - interval '{KEEP_MESSAGES}'"
            );
            client.batch_execute(&sql).map_err(map_err)?;
        }
    }
}

/// Messages waiting for the sender at most: while the database is unreachable the queue stops
/// growing there, and later messages are dropped.
const MAX_QUEUED: usize = 65_536;

/// Sends messages given from any thread (an async task must not wait on the network) in order,
/// on a connection of its own, on a thread of its own.
pub(crate) struct Sender {
    tx: mpsc::SyncSender<(String, String)>,
    /// Dropping messages since the last one queued (warned about once per episode).
    overflowing: std::sync::atomic::AtomicBool,
}

impl Sender {
    pub(crate) fn start(server: Server) -> Sender {
        let (tx, rx) = mpsc::sync_channel::<(String, String)>(MAX_QUEUED);
        let _ = std::thread::Builder::new()
            .name("kiln-pg-notify".into())
            .spawn(move || {
                let mut client: Option<postgres::Client> = None;
                while let Ok((channel, payload)) = rx.recv() {
                    // one retry on a fresh connection; a message that cannot be sent then is dropped
                    // (the listeners resynchronise when their own connection comes back)
                    for _ in 0..2 {
                        if client.as_ref().is_none_or(|c| c.is_closed()) {
                            client = server.connect().ok();
                        }
                        let Some(c) = client.as_mut() else { continue };
                        if send(c, &channel, &payload).is_ok() {
                            break;
                        }
                        client = None;
                    }
                }
            });
        Sender {
            tx,
            overflowing: Default::default(),
        }
    }

    pub(crate) fn send(&self, channel: &str, payload: &str) {
        use std::sync::atomic::Ordering;
        match self.tx.try_send((channel.to_owned(), payload.to_owned())) {
            Ok(()) => self.overflowing.store(false, Ordering::Relaxed),
            Err(_) => {
                if !self.overflowing.swap(true, Ordering::Relaxed) {
                    tracing::warn!("database notifications are behind ({MAX_QUEUED} queued): dropping messages");
                }
            }
        }
    }
}
