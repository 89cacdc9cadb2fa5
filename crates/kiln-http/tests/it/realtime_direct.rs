//! The event stream over a real TCP connection served as `kiln serve` serves it
//! (`kiln_http::conn`): after the response head, messages are written to the socket directly.
//! The bytes on the wire are read and decoded here by hand — HTTP/1.1 chunks, then SSE frames —
//! so a frame out of order, a chunk cut short or bytes between hyper's and the stream's writes
//! would show.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use kiln_http::conn::{Conn, Connections};

use crate::realtime::{create_note, parse_frame, subscribe_id};
use crate::support::{TestApp, Token};

/// Accepts connections as `kiln serve` does (each a [`Conn`]); with `small`, each socket's send
/// buffer is small (so that it fills).
struct Listener {
    socket: tokio::net::TcpListener,
    small: bool,
}

impl axum::serve::Listener for Listener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            if let Ok((s, peer)) = self.socket.accept().await {
                if self.small {
                    socket2::SockRef::from(&s)
                        .set_send_buffer_size(4096)
                        .unwrap();
                }
                return (Conn::new(s), peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

async fn serve(t: &TestApp, small: bool) -> SocketAddr {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let router = t.router();
    tokio::spawn(async move { axum::serve(Listener { socket, small }, Connections(router)).await });
    addr
}

/// One HTTP/1.1 connection read by hand.
struct Wire {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    /// Connects with a small receive buffer when `small` (so that the server's socket fills).
    async fn connect(addr: SocketAddr, small: bool) -> Wire {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if small {
            socket.set_recv_buffer_size(4096).unwrap();
        }
        Wire {
            s: socket.connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(20), self.s.read(&mut chunk))
            .await
            .expect("the server answers")
            .unwrap();
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// The response head of the request just sent.
    async fn head(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                return String::from_utf8(head).unwrap();
            }
            self.fill().await;
        }
    }

    /// The next chunk's bytes (empty for the last chunk).
    async fn chunk(&mut self) -> Vec<u8> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let size = std::str::from_utf8(&self.buf[..end]).unwrap();
                let size = usize::from_str_radix(size, 16)
                    .unwrap_or_else(|_| panic!("a chunk size, not {size:?}"));
                if self.buf.len() >= end + 2 + size + 2 {
                    let data = self.buf[end + 2..end + 2 + size].to_vec();
                    assert_eq!(&self.buf[end + 2 + size..end + 4 + size], b"\r\n");
                    self.buf.drain(..end + 4 + size);
                    return data;
                }
            }
            self.fill().await;
        }
    }
}

/// An event stream decoded into SSE frames as (id, event, data).
struct Stream {
    wire: Wire,
    frames: String,
}

impl Stream {
    /// Opens a stream; `headers` are more request header lines, each ending in `\r\n`.
    async fn open(addr: SocketAddr, small: bool, headers: &str) -> (Stream, String) {
        let mut wire = Wire::connect(addr, small).await;
        let req = format!("GET /api/realtime HTTP/1.1\r\nHost: kiln\r\n{headers}\r\n");
        wire.s.write_all(req.as_bytes()).await.unwrap();
        let head = wire.head().await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"));
        let mut s = Stream {
            wire,
            frames: String::new(),
        };
        let (id, event, data) = s.next().await.expect("PB_CONNECT");
        assert_eq!(event, "PB_CONNECT");
        assert_eq!(data, json!({"clientId": id}));
        (s, id)
    }

    /// The next frame; `None` at the stream's last chunk.
    async fn next(&mut self) -> Option<(String, String, Value)> {
        loop {
            if let Some(end) = self.frames.find("\n\n") {
                let frame: String = self.frames.drain(..end + 2).collect();
                return Some(parse_frame(&frame));
            }
            let chunk = self.wire.chunk().await;
            if chunk.is_empty() {
                assert!(
                    self.frames.is_empty(),
                    "a frame cut short: {:?}",
                    self.frames
                );
                return None;
            }
            self.frames.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

/// A served app with a `notes` collection, and a stream subscribed to it as a guest (both socket
/// buffers small with `small`).
async fn subscribed(small: bool) -> (TestApp, SocketAddr, Stream, String) {
    let mut t = TestApp::new().await;
    t.add_notes().await;
    let addr = serve(&t, small).await;
    let (s, id) = Stream::open(addr, small, "").await;
    assert_eq!(
        subscribe_id(&t, &id, json!(["notes"]), Token::None).await,
        204
    );
    (t, addr, s, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_written_to_the_socket_arrive_whole_and_in_order() {
    let (t, _, mut s, id) = subscribed(false).await;
    for i in 0..50 {
        create_note(&t, &format!("n{i}")).await;
    }
    for i in 0..50 {
        let (eid, event, data) = s.next().await.expect("an event");
        assert_eq!(event, "notes");
        assert_eq!(data["record"]["title"], json!(format!("n{i}")));
        assert!(eid.starts_with(&format!("{id}.")), "{eid}");
    }
}

// The reader takes nothing while 200 events of 3 KB each go out, both socket buffers small: the
// server's socket fills, the rest of a frame waits in the stream, later events in the queue; all
// arrive once it reads, whole and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_socket_keeps_every_event_in_order() {
    let (t, _, mut s, _) = subscribed(true).await;
    let filler = "x".repeat(3000);
    let total = 200;
    for i in 0..total {
        create_note(&t, &format!("{i}:{filler}")).await;
    }
    for i in 0..total {
        let (_, event, data) = s.next().await.expect("an event");
        assert_eq!(event, "notes");
        let title = data["record"]["title"].as_str().unwrap();
        assert_eq!(title.split_once(':').unwrap().0, i.to_string());
    }
}

// When the stream ends (here: the app closes every stream), its last chunk is hyper's and the
// connection serves the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_is_hypers_again_after_the_stream() {
    let (t, _, mut s, _) = subscribed(false).await;
    create_note(&t, "before the end").await;
    let (_, _, data) = s.next().await.expect("an event");
    assert_eq!(data["record"]["title"], "before the end");
    t.app.realtime().close_all();
    assert!(
        s.next().await.is_none(),
        "the stream ends with its last chunk"
    );
    let mut wire = s.wire;
    wire.s
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: kiln\r\n\r\n")
        .await
        .unwrap();
    let head = wire.head().await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

// A stream that resumes (`Last-Event-ID`) gets its replay through the queue, written by the
// connection's task, and then live events written by the dispatcher, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_stream_replays_what_it_missed_then_goes_on_live() {
    let (t, addr, mut s, id) = subscribed(false).await;
    create_note(&t, "one").await;
    let (last, _, _) = s.next().await.expect("an event");
    drop(s);
    // the server sees the connection end, and keeps the client for a resume
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while t.app.realtime().client(&id).is_some() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    create_note(&t, "two").await;
    create_note(&t, "three").await;
    let (mut r, resumed) = Stream::open(addr, false, &format!("Last-Event-ID: {last}\r\n")).await;
    assert_eq!(resumed, id, "the same client");
    create_note(&t, "four").await;
    let mut titles = Vec::new();
    for _ in 0..3 {
        let (_, _, data) = r.next().await.expect("an event");
        titles.push(data["record"]["title"].as_str().unwrap().to_owned());
    }
    assert_eq!(titles, ["two", "three", "four"]);
}
