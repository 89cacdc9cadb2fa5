//! Redis publish/subscribe for Kiln's nodes: a publisher that sends in order from any thread
//! without making it wait, and a subscriber that reconnects by itself. TCP (`redis://`) or TLS
//! (`rediss://`, rustls), RESP2, blocking sockets on threads of their own; nothing about HTTP or
//! databases.

/// RESP2 reading and writing, public only for the fuzz targets in `fuzz/` (not a stable API).
#[doc(hidden)]
pub mod resp;
mod stream;
mod url;

use std::io::{self, BufReader, ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use url::Config;

/// Why talking to Redis failed.
#[derive(Debug)]
pub enum Error {
    /// The URL cannot be used.
    Url(String),
    /// The network, or the server went away.
    Io(io::Error),
    /// The server answered with an error (a refused password, say).
    Server(String),
    /// The server's bytes are not RESP.
    Protocol(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Url(m) => write!(f, "invalid Redis URL: {m}"),
            Error::Io(e) => write!(f, "Redis connection failed: {e}"),
            Error::Server(m) => write!(f, "Redis refused: {m}"),
            Error::Protocol(m) => write!(f, "Redis protocol error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// How long an idle subscription waits before checking the connection with a PING.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// Messages written to the server in one go by the publisher.
const BATCH: usize = 256;

/// One connection, signed in.
struct Connection {
    io: BufReader<stream::Stream>,
}

impl Connection {
    fn open(cfg: &Config) -> Result<Connection, Error> {
        let addrs = (cfg.host.as_str(), cfg.port)
            .to_socket_addrs()
            .map_err(Error::Io)?;
        let mut last = io::Error::new(
            ErrorKind::NotFound,
            format!("{} resolves to no address", cfg.host),
        );
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, cfg.connect_timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(Error::Io)?;
                    stream
                        .set_read_timeout(Some(cfg.connect_timeout))
                        .map_err(Error::Io)?;
                    // a server that stops reading must not hold the publisher forever
                    stream
                        .set_write_timeout(Some(cfg.connect_timeout))
                        .map_err(Error::Io)?;
                    let mut conn = Connection {
                        io: BufReader::new(stream::Stream::new(stream, cfg.tls.as_ref())?),
                    };
                    if let Some(password) = &cfg.password {
                        let mut args: Vec<&[u8]> = vec![b"AUTH"];
                        args.extend(cfg.username.as_deref().map(str::as_bytes));
                        args.push(password.as_bytes());
                        conn.command(&args)?;
                    }
                    return Ok(conn);
                }
                Err(e) => last = e,
            }
        }
        Err(Error::Io(last))
    }

    fn send(&mut self, buf: &[u8]) -> Result<(), Error> {
        let s = self.io.get_mut();
        s.write_all(buf).and_then(|()| s.flush()).map_err(Error::Io)
    }

    fn reply(&mut self) -> Result<resp::Reply, Error> {
        match resp::read(&mut self.io)? {
            resp::Reply::Error(e) => Err(Error::Server(e)),
            r => Ok(r),
        }
    }

    fn command(&mut self, args: &[&[u8]]) -> Result<resp::Reply, Error> {
        let mut buf = Vec::new();
        resp::encode(&mut buf, args);
        self.send(&buf)?;
        self.reply()
    }

    /// Whether the server closed this idle connection (it sends nothing unasked to a publisher;
    /// over TLS, records it sends after the handshake are taken in passing).
    fn closed_by_server(&mut self) -> bool {
        if self.io.get_ref().tcp().set_nonblocking(true).is_err() {
            return true;
        }
        let closed = !matches!(io::BufRead::fill_buf(&mut self.io), Err(e) if e.kind() == ErrorKind::WouldBlock);
        self.io.get_ref().tcp().set_nonblocking(false).is_err() || closed
    }
}

/// Messages waiting for the publisher at most: while Redis is unreachable the queue stops
/// growing there, and later messages are dropped.
const MAX_QUEUED: usize = 65_536;

/// Publishes messages given from any thread, in order, on a connection and a thread of its own.
/// A message that cannot be sent (Redis unreachable, or the queue full meanwhile) is dropped:
/// subscribers learn of the gap by their own reconnection.
pub struct Publisher {
    tx: mpsc::SyncSender<(String, String)>,
    /// Dropping messages since the last one queued (warned about once per episode).
    overflowing: AtomicBool,
}

impl Publisher {
    /// Starts the publishing thread; the first connection is made on the first message.
    pub fn start(cfg: Config) -> Result<Publisher, Error> {
        let (tx, rx) = mpsc::sync_channel::<(String, String)>(MAX_QUEUED);
        std::thread::Builder::new()
            .name("kiln-redis-publish".into())
            .spawn(move || publish_loop(&cfg, &rx))
            .map_err(Error::Io)?;
        Ok(Publisher {
            tx,
            overflowing: AtomicBool::new(false),
        })
    }

    /// Queues `payload` for `channel`; never waits on the network.
    pub fn publish(&self, channel: &str, payload: &str) {
        match self.tx.try_send((channel.to_owned(), payload.to_owned())) {
            Ok(()) => self.overflowing.store(false, Ordering::Relaxed),
            Err(_) => {
                if !self.overflowing.swap(true, Ordering::Relaxed) {
                    tracing::warn!("Redis publishing is behind ({MAX_QUEUED} messages queued): dropping messages");
                }
            }
        }
    }
}

fn publish_loop(cfg: &Config, rx: &mpsc::Receiver<(String, String)>) {
    let mut conn: Option<Connection> = None;
    let mut buf = Vec::new();
    while let Ok(first) = rx.recv() {
        // what is already queued goes in the same write
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        if conn.as_mut().is_some_and(Connection::closed_by_server) {
            conn = None;
        }
        if conn.is_none() {
            conn = Connection::open(cfg)
                .inspect_err(|e| tracing::warn!(error = %e, "cannot publish to Redis"))
                .ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        buf.clear();
        for (channel, payload) in &batch {
            resp::encode(
                &mut buf,
                &[b"PUBLISH", channel.as_bytes(), payload.as_bytes()],
            );
        }
        // At most once: after a failure mid-batch some messages may have gone out already, and
        // sending them again would deliver them twice.
        let sent = c
            .send(&buf)
            .and_then(|()| batch.iter().try_for_each(|_| c.reply().map(drop)));
        if let Err(e) = sent {
            tracing::warn!(error = %e, "publishing to Redis failed");
            conn = None;
        }
    }
}

/// What a subscriber is told.
pub enum Notice<'a> {
    /// A message published on a channel it subscribed to.
    Message { channel: &'a str, payload: &'a str },
    /// The connection was lost and is back: messages may have been missed meanwhile.
    Reconnected,
}

/// Subscribes to `channels` on a connection and a thread of its own, for as long as the process
/// lives, calling `on` for every message; reconnects after a failure (with a growing pause) and
/// says so once subscribed again. Fails if the first connection cannot be made.
pub fn subscribe(
    cfg: Config,
    channels: Vec<String>,
    on: Box<dyn Fn(Notice<'_>) + Send>,
) -> Result<(), Error> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("kiln-redis-subscribe".into())
        .spawn(move || {
            let mut ready = Some(ready_tx);
            let mut pause = Duration::from_millis(100);
            loop {
                let started = Instant::now();
                let result = serve(&cfg, &channels, &*on, &mut ready);
                if let Some(tx) = ready.take() {
                    // the first connection failed: the caller reports it
                    let _ = tx.send(result);
                    return;
                }
                if let Err(e) = result {
                    tracing::warn!(error = %e, "Redis subscription lost; reconnecting");
                }
                if started.elapsed() > Duration::from_secs(60) {
                    pause = Duration::from_millis(100);
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        })
        .map_err(Error::Io)?;
    ready_rx
        .recv()
        .map_err(|_| Error::Protocol("the subscriber thread ended".into()))?
}

/// One subscribed connection, until it fails.
fn serve(
    cfg: &Config,
    channels: &[String],
    on: &dyn Fn(Notice<'_>),
    ready: &mut Option<mpsc::SyncSender<Result<(), Error>>>,
) -> Result<(), Error> {
    let mut conn = Connection::open(cfg)?;
    let mut args: Vec<&[u8]> = vec![b"SUBSCRIBE"];
    args.extend(channels.iter().map(|c| c.as_bytes()));
    let mut buf = Vec::new();
    resp::encode(&mut buf, &args);
    conn.send(&buf)?;
    for _ in channels {
        conn.reply()?; // ["subscribe", channel, count]
    }
    match ready.take() {
        Some(tx) => drop(tx.send(Ok(()))),
        // subscribed again: what was published meanwhile is lost, and the caller may resync
        None => on(Notice::Reconnected),
    }
    conn.io
        .get_ref()
        .tcp()
        .set_read_timeout(Some(IDLE_CHECK))
        .map_err(Error::Io)?;
    let mut awaiting_pong = false;
    loop {
        // Wait for the start of a reply; an idle connection is checked with a PING, and one
        // that does not answer it in time is given up.
        match io::BufRead::fill_buf(&mut conn.io) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if awaiting_pong {
                    return Err(Error::Io(io::Error::new(
                        ErrorKind::TimedOut,
                        "no answer to PING",
                    )));
                }
                buf.clear();
                resp::encode(&mut buf, &[b"PING"]);
                conn.send(&buf)?;
                awaiting_pong = true;
                continue;
            }
            Err(e) => return Err(Error::Io(e)),
        }
        let reply = conn.reply()?;
        awaiting_pong = false; // any reply shows the connection alive
        let resp::Reply::Array(Some(items)) = reply else {
            continue;
        };
        match items.as_slice() {
            [kind, channel, payload] if kind.bytes() == Some(b"message") => {
                let (Some(channel), Some(payload)) = (channel.bytes(), payload.bytes()) else {
                    continue;
                };
                if let (Ok(channel), Ok(payload)) =
                    (std::str::from_utf8(channel), std::str::from_utf8(payload))
                {
                    on(Notice::Message { channel, payload });
                }
            }
            _ => {} // a pong
        }
    }
}
