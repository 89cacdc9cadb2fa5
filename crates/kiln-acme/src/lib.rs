//! Automatic HTTPS: a certificate for the configured domains ordered from an ACME CA (Let's
//! Encrypt by default, any RFC 8555 directory otherwise), proved with a TLS-ALPN-01 or HTTP-01
//! challenge, renewed when two thirds of its life have passed, and served by [`Acme::accept`].
//!
//! Everything it keeps goes through a [`Store`] the caller provides: Kiln's is the database, so
//! the nodes of a cluster share one certificate, one node orders at a time (a lease in the store)
//! while the others wait for its result, and whichever node the CA reaches can answer the
//! challenge. It knows nothing of HTTP routing: the caller serves [`Acme::http01`]'s answer under
//! `/.well-known/acme-challenge/` and hands its TLS connections to [`Acme::accept`].

mod cert;
mod client;
mod manager;
mod order;
mod tls;

use std::future::Future;
use std::time::Duration;

pub use manager::Acme;

/// Let's Encrypt's production directory, the default CA.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// How a CA is shown that this server answers for a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// A TLS handshake on port 443 with the `acme-tls/1` protocol (RFC 8737).
    TlsAlpn01,
    /// A plain HTTP request on port 80 for `/.well-known/acme-challenge/<token>`.
    Http01,
}

impl Challenge {
    /// Reads `tls-alpn-01` or `http-01`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tls-alpn-01" => Some(Self::TlsAlpn01),
            "http-01" => Some(Self::Http01),
            _ => None,
        }
    }

    fn acme(self) -> instant_acme::ChallengeType {
        match self {
            Self::TlsAlpn01 => instant_acme::ChallengeType::TlsAlpn01,
            Self::Http01 => instant_acme::ChallengeType::Http01,
        }
    }
}

/// What to order, and from whom.
#[derive(Clone, Debug)]
pub struct Config {
    /// The DNS names one certificate covers (the first names it in the log).
    pub domains: Vec<String>,
    /// The CA's directory URL.
    pub directory: String,
    /// PEM certificates trusted, beside the usual roots, for the directory's own HTTPS (a private
    /// CA, or a test one).
    pub ca_roots: Option<Vec<u8>>,
    /// An email address the CA may write to about the account (expiry notices).
    pub contact: Option<String>,
    /// The challenges to try, in order: a failed order tries the next one.
    pub challenges: Vec<Challenge>,
}

/// Durable key-value storage shared by the nodes that serve the same domains. Errors are
/// messages: the manager only logs them and retries.
pub trait Store: Send + Sync + 'static {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, String>> + Send;
    /// Stores `value` under `key`; `secret` values (private keys) may be sealed.
    fn put(
        &self,
        key: &str,
        value: &str,
        secret: bool,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Removes `key`.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), String>> + Send;
    /// Takes (or extends) the lease `key` for `holder` for `ttl`; `false` while another holds it.
    fn lease(
        &self,
        key: &str,
        holder: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, String>> + Send;
    /// Gives the lease `key` back if `holder` holds it.
    fn release(&self, key: &str, holder: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// Why a configuration or an order failed.
#[derive(Debug)]
pub enum Error {
    /// The configuration cannot work (no domain, a name that is not a DNS name, unreadable roots).
    Config(String),
    /// The CA refused or could not be reached.
    Acme(instant_acme::Error),
    /// The CA did not validate a challenge, or offered none this server can answer.
    Challenge(String),
    /// A certificate or key that does not parse or does not match.
    Certificate(String),
    /// The store failed.
    Store(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(m) => write!(f, "invalid HTTPS configuration: {m}"),
            Self::Acme(e) => write!(f, "the ACME CA: {e}"),
            Self::Challenge(m) => write!(f, "the challenge failed: {m}"),
            Self::Certificate(m) => write!(f, "bad certificate: {m}"),
            Self::Store(m) => write!(f, "the certificate store: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<instant_acme::Error> for Error {
    fn from(e: instant_acme::Error) -> Self {
        Self::Acme(e)
    }
}
