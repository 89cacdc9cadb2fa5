//! An event stream writing its connection itself (see `conn.rs`): each message offered while
//! nothing waits ahead of it is written to the socket by the thread that offers it, as one HTTP/1.1
//! chunk holding one SSE frame, with one system call and no copy of the shared JSON. What the
//! socket does not take goes out first, from the connection's task, before anything queued.

use std::io::IoSlice;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use kiln_core::realtime::{Client, Direct, DirectSlot, Message, BACKLOG_EVENT, CLOSE_EVENT};

use crate::conn::Handover;

/// The stream's side of a handed-over connection.
pub(crate) struct Sink {
    pub(crate) conn: Arc<Handover>,
    out: Mutex<Out>,
}

#[derive(Default)]
struct Out {
    /// Bytes of a chunk the socket did not take yet: they go before anything else.
    pending: Vec<u8>,
    /// The connection's task, woken when bytes are left pending.
    waker: Option<Waker>,
    /// When a message last went out this way (the stream's idle timeout counts from it).
    last: Option<Instant>,
    /// The socket refused a write for good: the connection is ending, and what is offered until
    /// then is dropped.
    broken: bool,
}

/// The last bytes of every frame: the SSE frame's blank line and the chunk's end.
const FRAME_END: &[u8] = b"\n\n\r\n";

impl Sink {
    pub(crate) fn new(conn: Arc<Handover>) -> Self {
        Sink {
            conn,
            out: Mutex::default(),
        }
    }

    /// Stops the direct writes (`slot` is the client's, held): nothing is written after this, so
    /// the stream may end and hyper write the final chunk.
    pub(crate) fn detach(&self, slot: &mut DirectSlot) {
        *slot = None;
        self.conn.release();
    }

    /// When a message last went out directly.
    pub(crate) fn last_sent(&self) -> Option<Instant> {
        self.out().last
    }

    /// Whether bytes of a chunk wait for room in the socket.
    pub(crate) fn has_pending(&self) -> bool {
        let out = self.out();
        !out.pending.is_empty() && !out.broken
    }

    fn out(&self) -> MutexGuard<'_, Out> {
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes what is pending and then every message queued for `client`, each batch as one
    /// chunk. `Ready(true)`: all written and the queue empty (`cx` is woken by the next queued
    /// message); `Ready(false)`: all written and the queue closed, the stream ends; `Pending`: the
    /// socket is full, `cx` is woken when it takes more. Run under the client's
    /// [`Client::in_order`], so no offer comes between.
    pub(crate) fn drain(
        &self,
        client: &Client,
        rx: &mut tokio::sync::mpsc::Receiver<Message>,
        cx: &mut Context<'_>,
    ) -> Poll<bool> {
        let mut out = self.out();
        if !out.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            out.waker = Some(cx.waker().clone());
        }
        loop {
            while !out.pending.is_empty() && !out.broken {
                match self.conn.try_write(&[IoSlice::new(&out.pending)]) {
                    Ok(n) => {
                        out.pending.drain(..n);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        match self.conn.poll_writable(cx) {
                            Poll::Ready(Ok(())) => continue,
                            Poll::Ready(Err(_)) => out.broken = true,
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                    Err(_) => out.broken = true,
                }
            }
            out.pending.clear();
            match rx.poll_recv(cx) {
                Poll::Ready(Some(m)) if &*m.event == CLOSE_EVENT => return Poll::Ready(false),
                Poll::Ready(Some(m)) => {
                    let frames = super::frames::batch(client, m, rx);
                    chunk(&mut out.pending, &frames);
                    out.last = Some(Instant::now());
                }
                Poll::Ready(None) => return Poll::Ready(false),
                Poll::Pending => return Poll::Ready(true),
            }
        }
    }

    /// Writes `m` as one chunk, keeping what the socket does not take (see [`Direct::send`]).
    fn write_frame(&self, out: &mut Out, head: &mut Vec<u8>, client: &str, m: &Message) {
        head.clear();
        super::frames::push_head(head, client, (m.seq != 0).then_some(m.seq), &m.event);
        let frame_len = head.len() + m.data.len() + 2;
        // the chunk size line goes before the frame's head: built after it, rotated into place
        let sized = head.len();
        {
            use std::io::Write;
            let _ = write!(head, "{frame_len:X}\r\n");
        }
        let size_line = head.len() - sized;
        head.rotate_right(size_line);
        let parts = [
            IoSlice::new(head),
            IoSlice::new(&m.data),
            IoSlice::new(FRAME_END),
        ];
        let total = head.len() + m.data.len() + FRAME_END.len();
        out.last = Some(Instant::now());
        let written = match self.conn.send_now(&parts) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(_) => {
                out.broken = true;
                return;
            }
        };
        if written < total {
            // the rest goes first, from the connection's task
            let mut skip = written;
            for p in [&head[..], &m.data[..], FRAME_END] {
                let from = skip.min(p.len());
                out.pending.extend_from_slice(&p[from..]);
                skip -= from;
            }
            if let Some(w) = &out.waker {
                w.wake_by_ref();
            }
        }
    }
}

/// Appends one HTTP/1.1 chunk holding `data` (what hyper's chunked encoder writes for a body
/// frame of those bytes).
fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    use std::io::Write;
    let _ = write!(out, "{:X}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

impl Direct for Sink {
    fn send(&self, client: &str, m: &Message) -> bool {
        // the stream handles these itself, in order from the queue
        if &*m.event == BACKLOG_EVENT || &*m.event == CLOSE_EVENT || !self.conn.is_on() {
            return false;
        }
        let mut out = self.out();
        let out = &mut *out;
        if out.broken {
            return true;
        }
        if !out.pending.is_empty() {
            return false;
        }
        thread_local! {
            /// The frame heads written directly are built here: one buffer per offering thread
            /// (the dispatcher's, mostly), warm in its cache.
            static HEAD: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        HEAD.with_borrow_mut(|head| self.write_frame(out, head, client, m));
        true
    }
}
