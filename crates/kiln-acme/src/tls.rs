//! The TLS side: the server configuration that serves the current certificate (swapped in place
//! when a new one arrives, no restart), and the TLS-ALPN-01 answer — a self-signed certificate
//! for the domain carrying the challenge's digest (RFC 8737), made on the node the CA reached
//! from what the ordering node stored.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::Error;

/// The ALPN protocol of TLS-ALPN-01 handshakes.
pub(crate) const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The certificate being served; `None` until the first one is obtained (handshakes fail then).
#[derive(Debug, Default)]
pub(crate) struct Current(RwLock<Option<Arc<CertifiedKey>>>);

impl Current {
    pub(crate) fn set(&self, key: Arc<CertifiedKey>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(key);
    }

    pub(crate) fn get(&self) -> Option<Arc<CertifiedKey>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.get()
    }
}

fn builder() -> rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier> {
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
}

/// The configuration of ordinary handshakes: the current certificate, HTTP/2 or HTTP/1.1.
pub(crate) fn server_config(current: Arc<Current>) -> Arc<ServerConfig> {
    let mut config = builder().with_no_client_auth().with_cert_resolver(current);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The configuration answering a TLS-ALPN-01 challenge for `domain` whose key authorization is
/// `key_authorization`.
pub(crate) fn challenge_config(
    domain: &str,
    key_authorization: &str,
) -> Result<Arc<ServerConfig>, Error> {
    use sha2::{Digest, Sha256};
    let bad = |e: rcgen::Error| Error::Certificate(format!("the TLS-ALPN-01 certificate: {e}"));
    let digest = Sha256::digest(key_authorization.as_bytes());
    let mut params = rcgen::CertificateParams::new(vec![domain.to_owned()]).map_err(bad)?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(&digest)];
    let key = rcgen::KeyPair::generate().map_err(bad)?;
    let cert = params.self_signed(&key).map_err(bad)?;
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let signing = rustls::crypto::ring::sign::any_supported_type(&key_der)
        .map_err(|e| Error::Certificate(format!("the TLS-ALPN-01 key: {e}")))?;
    // not `with_single_cert`: it checks the certificate as a web PKI one, and refuses the
    // critical acmeIdentifier extension the CA looks for
    let only = Arc::new(Current::default());
    only.set(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signing,
    )));
    let mut config = builder().with_no_client_auth().with_cert_resolver(only);
    config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
    Ok(Arc::new(config))
}
