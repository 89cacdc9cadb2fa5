//! [`Acme`]: keeps a valid certificate in place. Its loop loads the stored certificate (another
//! node may have renewed it), and when none is stored or it is due for renewal, takes the lease
//! and orders; a failure is logged and retried later (the certificate still valid is served
//! meanwhile, and plain HTTP keeps working). Handshakes read the current certificate without
//! waiting on the loop.

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::server::TlsStream;

use crate::cert::{Issued, Stored};
use crate::order::{self, keys};
use crate::tls::{self, Current, ACME_TLS_ALPN};
use crate::{Config, Error, Store};

/// How long a node may hold the ordering lease before another node may take over.
const LEASE: Duration = Duration::from_secs(300);
/// How often a node checks the store for a renewed certificate while its own is not due.
const RECHECK: Duration = Duration::from_secs(600);
/// How often a node waiting for another node's order checks the store.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(5);
/// The waits after consecutive failures (the last one repeats): soon at first, then no more than
/// hourly, well inside a CA's rate limits on failed validations.
const BACKOFF: [Duration; 6] = [
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(900),
    Duration::from_secs(3600),
];
/// How long a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Automatic HTTPS for one set of domains. Cheap to clone.
pub struct Acme<S: Store> {
    inner: Arc<Inner<S>>,
}

impl<S: Store> Clone for Acme<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<S> {
    cfg: Config,
    store: S,
    /// The domains, lowercased, sorted and comma-joined: names the stored certificate and lease.
    names: String,
    /// This process's name on the lease.
    holder: String,
    current: Arc<Current>,
    tls: Arc<ServerConfig>,
    /// The validity end of the certificate served, once there is one.
    served: watch::Sender<Option<SystemTime>>,
}

/// What one round of the loop found.
enum Next {
    /// Look again after this long.
    Wait(Duration),
    /// An order failed: back off.
    Failed(Error),
}

impl<S: Store> Acme<S> {
    /// Checks `cfg` (at least one domain, each a DNS name, a challenge to use, readable roots).
    pub fn new(mut cfg: Config, store: S) -> Result<Self, Error> {
        if cfg.domains.is_empty() {
            return Err(Error::Config("no domain to get a certificate for".into()));
        }
        if cfg.challenges.is_empty() {
            return Err(Error::Config("no challenge type to use".into()));
        }
        for d in &mut cfg.domains {
            *d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            let name = rustls::pki_types::DnsName::try_from(d.as_str())
                .map_err(|_| Error::Config(format!("{d:?} is not a domain name")))?;
            if !d.contains('.') || d.parse::<std::net::IpAddr>().is_ok() {
                return Err(Error::Config(format!(
                    "{name:?} is not a public domain name"
                )));
            }
        }
        cfg.domains.dedup();
        // fails early on unreadable roots rather than at the first order
        crate::client::Http::new(cfg.ca_roots.as_deref())?;
        let mut sorted = cfg.domains.clone();
        sorted.sort();
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| Error::Config(format!("no randomness: {e}")))?;
        let current = Arc::new(Current::default());
        Ok(Self {
            inner: Arc::new(Inner {
                tls: tls::server_config(current.clone()),
                current,
                names: sorted.join(","),
                holder: id.iter().map(|b| format!("{b:02x}")).collect(),
                served: watch::channel(None).0,
                store,
                cfg,
            }),
        })
    }

    /// The domains, as the certificate names them.
    pub fn domains(&self) -> &[String] {
        &self.inner.cfg.domains
    }

    /// Changes whenever a certificate is put in place; holds its expiry.
    pub fn served(&self) -> watch::Receiver<Option<SystemTime>> {
        self.inner.served.subscribe()
    }

    /// Keeps the certificate valid: runs until the process ends (drop the task to stop it).
    pub async fn run(&self) {
        let mut failures = 0usize;
        loop {
            let wait = match self.round(failures).await {
                Next::Wait(d) => {
                    failures = 0;
                    d
                }
                Next::Failed(e) => {
                    let wait = BACKOFF[failures.min(BACKOFF.len() - 1)];
                    failures += 1;
                    tracing::error!(
                        domains = %self.inner.names,
                        error = %e,
                        retry_in_secs = wait.as_secs(),
                        "cannot get a certificate; HTTPS waits (plain HTTP keeps serving)"
                    );
                    wait
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One look at the certificate: load, and order when due. `failures` so far pick the
    /// challenge (a failed order tries the next type).
    async fn round(&self, failures: usize) -> Next {
        let inner = &self.inner;
        let stored = match self.load().await {
            Ok(s) => s,
            Err(e) => return Next::Failed(e),
        };
        let now = SystemTime::now();
        if let Some(issued) = &stored {
            if now < issued.renew_at() {
                let due = issued.renew_at().duration_since(now).unwrap_or_default();
                // several checks over a short certificate's life, at most every RECHECK
                let life = issued
                    .not_after
                    .duration_since(issued.not_before)
                    .unwrap_or_default();
                return Next::Wait(due.min(RECHECK).min(life / 10).max(Duration::from_secs(1)));
            }
        }
        let lease = keys::lease(&inner.names);
        match inner.store.lease(&lease, &inner.holder, LEASE).await {
            Ok(true) => {}
            Ok(false) => return Next::Wait(WAIT_FOR_OTHER),
            Err(e) => return Next::Failed(Error::Store(e)),
        }
        let challenge = inner.cfg.challenges[failures % inner.cfg.challenges.len()];
        tracing::info!(domains = %inner.names, ?challenge, renewal = stored.is_some(), "ordering a certificate");
        let result = self.order_and_store(challenge).await;
        if let Err(e) = inner.store.release(&lease, &inner.holder).await {
            tracing::warn!(error = %e, "cannot give the certificate lease back (it expires on its own)");
        }
        match result {
            Ok(issued) => {
                tracing::info!(
                    domains = %inner.names,
                    expires = ?issued.not_after,
                    "obtained a certificate"
                );
                self.install(&issued);
                Next::Wait(Duration::ZERO)
            }
            Err(e) => Next::Failed(e),
        }
    }

    /// The stored certificate if it parses and is valid now (and put it in place if it is not).
    async fn load(&self) -> Result<Option<Issued>, Error> {
        let inner = &self.inner;
        let Some(json) = inner
            .store
            .get(&keys::certificate(&inner.names))
            .await
            .map_err(Error::Store)?
        else {
            return Ok(None);
        };
        let issued = match serde_json::from_str::<Stored>(&json)
            .map_err(|e| Error::Certificate(e.to_string()))
            .and_then(|s| Issued::parse(&s))
        {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "the stored certificate is unusable: ordering a new one");
                return Ok(None);
            }
        };
        if !issued.valid_at(SystemTime::now()) {
            return Ok(None);
        }
        if *inner.served.borrow() != Some(issued.not_after) {
            self.install(&issued);
        }
        Ok(Some(issued))
    }

    async fn order_and_store(&self, challenge: crate::Challenge) -> Result<Issued, Error> {
        let inner = &self.inner;
        let stored = order::order(&inner.cfg, &inner.store, challenge).await?;
        let issued = Issued::parse(&stored)?;
        let json = serde_json::to_string(&stored)
            .map_err(|e| Error::Store(format!("cannot serialize the certificate: {e}")))?;
        inner
            .store
            .put(&keys::certificate(&inner.names), &json, true)
            .await
            .map_err(Error::Store)?;
        Ok(issued)
    }

    fn install(&self, issued: &Issued) {
        self.inner.current.set(issued.key.clone());
        self.inner.served.send_replace(Some(issued.not_after));
    }

    /// The answer to an HTTP-01 challenge for `token`, while an order waits for it.
    pub async fn http01(&self, token: &str) -> Option<String> {
        if token.is_empty() || token.len() > 256 {
            return None;
        }
        match self.inner.store.get(&keys::http01(token)).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read an HTTP-01 challenge answer");
                None
            }
        }
    }

    /// Runs the TLS handshake of a new connection: `Ok(Some(stream))` to serve; `Ok(None)` after a
    /// TLS-ALPN-01 validation handshake (nothing to serve on it); an error for a failed or slow
    /// handshake (no certificate yet, an unknown challenge, a client that gave up).
    pub async fn accept(&self, tcp: TcpStream) -> io::Result<Option<TlsStream<TcpStream>>> {
        match tokio::time::timeout(HANDSHAKE, self.handshake(tcp)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "TLS handshake timed out",
            )),
        }
    }

    async fn handshake(&self, tcp: TcpStream) -> io::Result<Option<TlsStream<TcpStream>>> {
        let acceptor =
            tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp);
        let start = acceptor.await?;
        let hello = start.client_hello();
        let validation = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if !validation {
            return start.into_stream(self.inner.tls.clone()).await.map(Some);
        }
        let domain = hello
            .server_name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        let unknown =
            || io::Error::new(io::ErrorKind::InvalidData, "no such TLS-ALPN-01 challenge");
        if !self.inner.cfg.domains.contains(&domain) {
            return Err(unknown());
        }
        let key_authorization = self
            .inner
            .store
            .get(&keys::tls_alpn01(&domain))
            .await
            .map_err(io::Error::other)?
            .ok_or_else(unknown)?;
        let config =
            tls::challenge_config(&domain, &key_authorization).map_err(io::Error::other)?;
        // the CA closes the connection once it has seen the certificate
        start.into_stream(config).await?;
        Ok(None)
    }
}
