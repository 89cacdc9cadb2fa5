//! The server's TCP connections, built so that a realtime stream can take its connection over.
//!
//! Every message of an event stream would otherwise go through the client's queue, a wake-up of
//! the connection's task, hyper's body machinery and a write. A [`Conn`] shares the stream's write
//! half with a [`Handover`], which the realtime handler gets as a request extension: once hyper
//! has written the response head and everything before it (its next flush finds the handover
//! armed), the stream's frames are written straight to the socket, HTTP/1.1 chunks of the same
//! shape hyper writes, by whichever thread offers them (`realtime/direct.rs`). Hyper is never
//! handed a body frame while the handover is on; the stream turns it off before it ends, so the
//! final chunk and any later response on the connection are hyper's again.

use std::convert::Infallible;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// Hyper writes the connection (the handover is off).
const OFF: u8 = 0;
/// A stream asked for the connection: its next flush hands it over.
const ARMED: u8 = 1;
/// The stream writes the connection; hyper writes nothing.
const ON: u8 = 2;

/// What a connection shares with the stream that may take it over.
pub struct Handover {
    /// `None` once the connection is gone.
    write: Mutex<Option<OwnedWriteHalf>>,
    state: AtomicU8,
}

impl Handover {
    /// Asks for the connection: hyper's next flush, which empties its buffer of the response
    /// head and whatever the stream handed it until then, turns the handover on.
    pub fn arm(&self) {
        self.state.store(ARMED, Ordering::Release);
    }

    /// Whether the stream writes the connection now.
    pub fn is_on(&self) -> bool {
        self.state.load(Ordering::Acquire) == ON
    }

    /// Gives the connection back to hyper (the stream ends, or never started).
    pub fn release(&self) {
        self.state.store(OFF, Ordering::Release);
    }

    /// Writes what the socket takes now, without waiting; `WouldBlock` when it takes nothing,
    /// `BrokenPipe` once the connection is gone. A `WouldBlock` here makes the next
    /// [`Handover::poll_writable`] wait for room.
    pub fn try_write(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match &*self.writer() {
            Some(w) => w.as_ref().try_write_vectored(bufs),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// [`Handover::try_write`] from outside the runtime's bookkeeping: one `sendmsg`, which
    /// costs the kernel less than the `writev` a stream's write is. A `WouldBlock` here is not
    /// recorded: whoever waits for room next calls `try_write` first.
    pub fn send_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match &*self.writer() {
            Some(w) => socket2::SockRef::from(w.as_ref()).send_vectored(bufs),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// Wakes `cx` once the socket takes more (after a `WouldBlock`). Hyper waits for write
    /// readiness only when it has something to write, which it has not while the handover is
    /// on, and both run in the connection's task: one waker.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &*self.writer() {
            Some(w) => w.as_ref().poll_write_ready(cx),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn writer(&self) -> MutexGuard<'_, Option<OwnedWriteHalf>> {
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An accepted TCP connection: hyper reads and writes it as a plain stream.
pub struct Conn {
    read: OwnedReadHalf,
    shared: Arc<Handover>,
}

impl Conn {
    /// Takes an accepted stream, with Nagle's algorithm off (as Go's net, and so PocketBase,
    /// does): an event stream's frame never waits for the ACK of the one before it.
    pub fn new(stream: TcpStream) -> Self {
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        Conn {
            read,
            shared: Arc::new(Handover {
                write: Mutex::new(Some(write)),
                state: AtomicU8::new(OFF),
            }),
        }
    }

    fn poll_writer<T>(
        &self,
        f: impl FnOnce(Pin<&mut OwnedWriteHalf>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        debug_assert!(!self.shared.is_on(), "hyper wrote a handed-over connection");
        match &mut *self.shared.writer() {
            Some(w) => f(Pin::new(w)),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }
}

impl Drop for Conn {
    /// Closes the socket now: a stream still holding the handover finds it gone.
    fn drop(&mut self) {
        if let Some(w) = self.shared.writer().take() {
            w.forget(); // no shutdown(WR) of its own: the socket closes with the read half
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().read).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_writer(|w| w.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_writer(|w| w.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Hyper flushes once its buffer is empty: an armed handover turns on here, and the
    /// connection's task (this one) is polled again so that the stream writes what waited.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shared = &self.shared;
        if shared
            .state
            .compare_exchange(ARMED, ON, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            cx.waker().wake_by_ref();
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_writer(|w| w.poll_shutdown(cx))
    }
}

/// The event stream's path, the only requests that get the [`Handover`] (the realtime router
/// serves the stream there).
pub(crate) const HANDOVER_PATH: &str = "/api/realtime";

/// Makes each connection's service: `service` with the peer's address (`ConnectInfo`, as axum's
/// own `into_make_service_with_connect_info` adds) and, on the event stream's requests, the
/// connection's [`Handover`].
#[derive(Clone)]
pub struct Connections<S>(pub S);

impl<'a, L, S> tower::Service<axum::serve::IncomingStream<'a, L>> for Connections<S>
where
    L: axum::serve::Listener<Io = Conn, Addr = SocketAddr>,
    S: Clone,
{
    type Response = PerConnection<S>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<PerConnection<S>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, incoming: axum::serve::IncomingStream<'a, L>) -> Self::Future {
        std::future::ready(Ok(PerConnection {
            service: self.0.clone(),
            peer: *incoming.remote_addr(),
            handover: incoming.io().shared.clone(),
        }))
    }
}

/// One connection's service (see [`Connections`]).
#[derive(Clone)]
pub struct PerConnection<S> {
    service: S,
    peer: SocketAddr,
    handover: Arc<Handover>,
}

impl<S> tower::Service<Request> for PerConnection<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let ext = req.extensions_mut();
        ext.insert(ConnectInfo(self.peer));
        if req.uri().path() == HANDOVER_PATH {
            req.extensions_mut().insert(self.handover.clone());
        }
        self.service.call(req)
    }
}
