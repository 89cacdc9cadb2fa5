//! The byte stream to the server: plain TCP, or TLS (rustls) for `rediss://` URLs.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use kiln_tls::rustls::pki_types::ServerName;
use kiln_tls::rustls::{ClientConfig, ClientConnection, StreamOwned};
use kiln_tls::Check;

use crate::Error;

/// How to set up TLS for a `rediss://` server.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl Tls {
    /// TLS to `host`, trusting the certificates of the PEM file `ca` (or the Mozilla roots built
    /// in), and checking the certificate and the server's name unless `verify` is false.
    pub(crate) fn new(host: &str, ca: Option<&str>, verify: bool) -> Result<Tls, Error> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| Error::Url(format!("{host}: {e}")))?;
        let check = if verify { Check::Full } else { Check::Nothing };
        let config = kiln_tls::client_config(check, ca).map_err(Error::Url)?;
        Ok(Tls { config, name })
    }
}

/// A connected stream.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// Wraps `tcp` in TLS when asked; the handshake happens on first use, within the socket's
    /// timeouts.
    pub(crate) fn new(tcp: TcpStream, tls: Option<&Tls>) -> Result<Stream, Error> {
        Ok(match tls {
            None => Stream::Plain(tcp),
            Some(t) => {
                let conn = ClientConnection::new(t.config.clone(), t.name.clone())
                    .map_err(|e| Error::Io(io::Error::other(e)))?;
                Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
            }
        })
    }

    /// The socket underneath (timeouts, non-blocking checks).
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}
