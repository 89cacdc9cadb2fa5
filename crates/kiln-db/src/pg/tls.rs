//! TLS to PostgreSQL with rustls (Kiln's one TLS stack), configured as libpq is, from the
//! connection string: `sslmode` = `disable` | `prefer` (the default: TLS when the server offers
//! it) | `require` | `verify-ca` | `verify-full`, and `sslrootcert` = a PEM file of trusted
//! certificates, or `system` (the Mozilla roots built in).
//!
//! As in libpq, `prefer` and `require` encrypt without checking whose certificate it is, unless
//! `sslrootcert` is given (then `require` checks the chain, as `verify-ca`); `verify-ca` checks
//! the chain; `verify-full` also checks that the certificate names the host.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use kiln_tls::rustls::{self, pki_types::ServerName};
use kiln_tls::Check;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use postgres::Socket;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::DbError;

/// Splits a connection string (URL or `key=value` form) into what the driver understands and
/// the TLS connector its `sslmode`/`sslrootcert` ask for (`None`: `sslmode=disable`).
pub(crate) fn configure(url: &str) -> Result<(String, Option<MakeTls>), DbError> {
    let mut mode = String::from("prefer");
    let mut root: Option<String> = None;
    let kept = rewrite(url, |key, value| match key {
        "sslmode" => {
            mode = value.to_owned();
            None
        }
        "sslrootcert" => {
            root = Some(value.to_owned());
            None
        }
        _ => Some(value.to_owned()),
    });
    let bad = |m: String| DbError::Open(m);
    let (driver_mode, check) = match (mode.as_str(), root.is_some()) {
        ("disable", _) => return Ok((with_mode(&kept, "disable"), None)),
        ("allow" | "prefer", false) => ("prefer", Check::Nothing),
        ("allow" | "prefer", true) => ("prefer", Check::Chain),
        ("require", false) => ("require", Check::Nothing),
        ("require" | "verify-ca", true) => ("require", Check::Chain),
        ("verify-full", _) => ("require", Check::Full),
        ("verify-ca", false) => ("require", Check::Chain),
        (other, _) => {
            return Err(bad(format!(
                "invalid sslmode {other:?}: use disable, prefer, require, verify-ca or verify-full"
            )))
        }
    };
    let config = kiln_tls::client_config(check, root.as_deref())
        .map_err(|e| bad(format!("sslrootcert: {e}")))?;
    Ok((with_mode(&kept, driver_mode), Some(MakeTls { config })))
}

/// The connection string with each `key=value` option passed through `f` (dropped on `None`).
fn rewrite(url: &str, mut f: impl FnMut(&str, &str) -> Option<String>) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return url.to_owned();
        };
        let kept: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                f(k, v).map(|v| format!("{k}={v}"))
            })
            .collect();
        if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        // `key=value key=value` (values with spaces must be quoted; Kiln's options never are)
        url.split_whitespace()
            .filter_map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                f(k, v).map(|v| format!("{k}={v}"))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `url` with `sslmode` set for the driver.
fn with_mode(url: &str, mode: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}sslmode={mode}")
    } else {
        format!("{url} sslmode={mode}")
    }
}

/// Makes TLS connections for the driver.
#[derive(Clone)]
pub(crate) struct MakeTls {
    config: Arc<rustls::ClientConfig>,
}

impl MakeTlsConnect<Socket> for MakeTls {
    type Stream = TlsStream;
    type TlsConnect = Connector;
    type Error = io::Error;

    fn make_tls_connect(&mut self, host: &str) -> Result<Connector, io::Error> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(Connector {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name,
        })
    }
}

/// One TLS handshake, for one connection.
pub(crate) struct Connector {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl TlsConnect<Socket> for Connector {
    type Stream = TlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TlsStream>> + Send>>;

    fn connect(self, socket: Socket) -> Self::Future {
        Box::pin(async move {
            self.connector
                .connect(self.name, socket)
                .await
                .map(|s| TlsStream(Box::new(s)))
        })
    }
}

/// An encrypted connection to the server.
pub(crate) struct TlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl postgres::tls::TlsStream for TlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM without channel binding (`SCRAM-SHA-256`, not `-PLUS`), as libpq's default
        ChannelBinding::none()
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sslmode_and_sslrootcert() {
        let (url, tls) =
            configure("postgres://u@h:5432/db?sslmode=disable&application_name=x").unwrap();
        assert_eq!(
            url,
            "postgres://u@h:5432/db?application_name=x&sslmode=disable"
        );
        assert!(tls.is_none());
        let (url, tls) = configure("postgres://u@h/db").unwrap();
        assert_eq!(url, "postgres://u@h/db?sslmode=prefer");
        assert!(tls.is_some());
        let (url, _) =
            configure("postgres://u@h/db?sslmode=verify-full&sslrootcert=system").unwrap();
        assert_eq!(url, "postgres://u@h/db?sslmode=require");
        let (url, _) = configure("host=h user=u sslmode=require").unwrap();
        assert_eq!(url, "host=h user=u sslmode=require");
        assert!(configure("postgres://u@h/db?sslmode=sometimes").is_err());
        let e = configure("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/nonexistent.pem")
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslrootcert"), "{e}");
    }
}
