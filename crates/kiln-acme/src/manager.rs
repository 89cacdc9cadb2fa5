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

/// How long the ordering lease lasts unless its holder extends it (every third of it while it
/// orders): a node that dies mid-order holds up the others this long at most.
const LEASE: Duration = Duration::from_secs(120);
/// How often a node checks the store for a renewed certificate while its own is not due.
const RECHECK: Duration = Duration::from_secs(600);
/// How often a node waiting for another node's order checks the store.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(5);
/// The waits after consecutive failed orders (the last one repeats), counted for the cluster in
/// the store: five attempts in the first hour, then hourly — within Let's Encrypt's five failed
/// validations per domain and hour.
const BACKOFF: [Duration; 5] = [
    Duration::from_secs(10),
    Duration::from_secs(300),
    Duration::from_secs(900),
    Duration::from_secs(1800),
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
    /// Something failed: look again after this long.
    Failed(Error, Duration),
}

/// The cluster's record of failed orders (`acme:backoff:<names>`).
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Backoff {
    /// Orders failed in a row.
    failures: usize,
    /// When the next may start (Unix milliseconds).
    next: u64,
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
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
        }
        let mut seen = std::collections::HashSet::new();
        cfg.domains.retain(|d| seen.insert(d.clone()));
        for d in &cfg.domains {
            let name = rustls::pki_types::DnsName::try_from(d.as_str())
                .map_err(|_| Error::Config(format!("{d:?} is not a domain name")))?;
            if !d.contains('.') || d.parse::<std::net::IpAddr>().is_ok() {
                return Err(Error::Config(format!(
                    "{name:?} is not a public domain name"
                )));
            }
        }
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
        loop {
            let wait = match self.round().await {
                Next::Wait(d) => d,
                Next::Failed(e, wait) => {
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

    /// When the stored certificate is next due for a look (`None`: due now).
    fn not_due(issued: &Issued, now: SystemTime) -> Option<Duration> {
        let due = issued.renew_at().duration_since(now).ok()?;
        // several checks over a short certificate's life, at most every RECHECK
        let life = issued
            .not_after
            .duration_since(issued.not_before)
            .unwrap_or_default();
        Some(due.min(RECHECK).min(life / 10).max(Duration::from_secs(1)))
    }

    /// One look at the certificate: load, and order when due (under the lease, and not before
    /// the cluster's backoff allows; its count of failures picks the challenge, so a failed order
    /// tries the next type).
    async fn round(&self) -> Next {
        let inner = &self.inner;
        let store_failed = |e: Error| Next::Failed(e, BACKOFF[0]);
        let stored = match self.load().await {
            Ok(s) => s,
            Err(e) => return store_failed(e),
        };
        if let Some(wait) = stored
            .as_ref()
            .and_then(|i| Self::not_due(i, SystemTime::now()))
        {
            return Next::Wait(wait);
        }
        let backoff_key = keys::backoff(&inner.names);
        let backoff: Backoff = match inner.store.get(&backoff_key).await {
            Ok(v) => v
                .and_then(|v| serde_json::from_str(&v).ok())
                .unwrap_or_default(),
            Err(e) => return store_failed(Error::Store(e)),
        };
        let now = unix_ms(SystemTime::now());
        if backoff.next > now {
            return Next::Wait(Duration::from_millis(backoff.next - now).min(RECHECK));
        }
        let lease = keys::lease(&inner.names);
        match inner.store.lease(&lease, &inner.holder, LEASE).await {
            Ok(true) => {}
            Ok(false) => return Next::Wait(WAIT_FOR_OTHER),
            Err(e) => return store_failed(Error::Store(e)),
        }
        // another node may have stored a new one between the look and the lease
        let result = match self.load().await {
            Ok(Some(i)) if Self::not_due(&i, SystemTime::now()).is_some() => Ok(None),
            Ok(_) => {
                let challenge = inner.cfg.challenges[backoff.failures % inner.cfg.challenges.len()];
                tracing::info!(domains = %inner.names, ?challenge, renewal = stored.is_some(), "ordering a certificate");
                tokio::select! {
                    r = self.order_and_store(challenge) => r.map(Some),
                    never = self.keep_lease(&lease) => match never {},
                }
            }
            Err(e) => Err(e),
        };
        if let Err(e) = inner.store.release(&lease, &inner.holder).await {
            tracing::warn!(error = %e, "cannot give the certificate lease back (it expires on its own)");
        }
        match result {
            Ok(None) => Next::Wait(Duration::ZERO),
            Ok(Some(issued)) => {
                tracing::info!(
                    domains = %inner.names,
                    expires = ?issued.not_after,
                    "obtained a certificate"
                );
                if let Err(e) = inner.store.delete(&backoff_key).await {
                    tracing::warn!(error = %e, "cannot reset the certificate orders' backoff");
                }
                Next::Wait(Duration::ZERO)
            }
            Err(e) => {
                let wait = BACKOFF[backoff.failures.min(BACKOFF.len() - 1)];
                let next = Backoff {
                    failures: backoff.failures + 1,
                    next: unix_ms(SystemTime::now() + wait),
                };
                let json = serde_json::to_string(&next).unwrap_or_default();
                if let Err(e) = inner.store.put(&backoff_key, &json, false).await {
                    tracing::warn!(error = %e, "cannot record the failed certificate order");
                }
                Next::Failed(e, wait)
            }
        }
    }

    /// Extends the lease `key` every third of its length, for as long as it is polled.
    async fn keep_lease(&self, key: &str) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(LEASE / 3).await;
            if let Err(e) = self.inner.store.lease(key, &self.inner.holder, LEASE).await {
                tracing::warn!(error = %e, "cannot extend the certificate lease");
            }
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

    /// Orders, serves and stores a certificate. It is served even if it cannot be stored (the
    /// store is retried for a minute: the CA would not issue many more).
    async fn order_and_store(&self, challenge: crate::Challenge) -> Result<Issued, Error> {
        let inner = &self.inner;
        let stored = order::order(&inner.cfg, &inner.store, challenge).await?;
        let issued = Issued::parse(&stored)?;
        self.install(&issued);
        let json = serde_json::to_string(&stored)
            .map_err(|e| Error::Store(format!("cannot serialize the certificate: {e}")))?;
        let key = keys::certificate(&inner.names);
        let mut tries = 0;
        loop {
            match inner.store.put(&key, &json, true).await {
                Ok(()) => return Ok(issued),
                Err(e) if tries >= 12 => return Err(Error::Store(e)),
                Err(e) => {
                    tries += 1;
                    tracing::warn!(error = %e, "cannot store the new certificate yet (it is served meanwhile)");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
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
