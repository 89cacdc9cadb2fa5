//! The byte stream to the server: plain TCP, or TLS (rustls) for `rediss://` URLs.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::Error;

/// How to set up TLS for a `rediss://` server.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl Tls {
    /// TLS to `host`, trusting the certificates of the PEM file `ca` (or the Mozilla roots built
    /// in), and checking the server's name unless `verify` is false.
    pub(crate) fn new(host: &str, ca: Option<&str>, verify: bool) -> Result<Tls, Error> {
        let bad = |m: String| Error::Url(m);
        let name = ServerName::try_from(host.to_owned()).map_err(|e| bad(format!("{host}: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(format!("TLS set-up: {e}")))?;
        let config = if verify {
            let mut roots = RootCertStore::empty();
            match ca {
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
                    for cert in certs {
                        let cert = cert.map_err(|e| bad(format!("invalid certificate in {path}: {e}")))?;
                        roots.add(cert).map_err(|e| bad(format!("unusable certificate in {path}: {e}")))?;
                    }
                    if roots.is_empty() {
                        return Err(bad(format!("{path} holds no certificate")));
                    }
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        } else {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(NoCheck(provider))).with_no_client_auth()
        };
        Ok(Tls { config: Arc::new(config), name })
    }
}

/// `ssl_cert_reqs=none`: encrypted, but anyone's certificate is accepted (handshake signatures
/// are still checked).
#[derive(Debug)]
struct NoCheck(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoCheck {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
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
