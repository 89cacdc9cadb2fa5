//! Kiln's TLS client policy, one place for every client that talks TLS to a server of the
//! deployment (PostgreSQL, Redis): rustls with ring, trusted roots from a PEM file or the
//! Mozilla roots built in, and how much of the server's certificate is checked.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use rustls;

/// How much of the server's certificate is checked (handshake signatures always are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Encryption only: anyone's certificate is accepted.
    Nothing,
    /// The chain up to a trusted root, whatever name the certificate gives.
    Chain,
    /// The chain, and that the certificate names the host.
    Full,
}

/// A client configuration trusting the certificates of the PEM file `ca` (`None` or `"system"`:
/// the Mozilla roots built in) and checking as `check` says. The error is a sentence.
pub fn client_config(check: Check, ca: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let roots = match ca {
        None | Some("system") => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
        Some(path) => {
            let mut store = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read {path}: {e}"))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("invalid certificate in {path}: {e}"))?;
                store
                    .add(cert)
                    .map_err(|e| format!("unusable certificate in {path}: {e}"))?;
            }
            if store.is_empty() {
                return Err(format!("{path} holds no certificate"));
            }
            store
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier {
            check,
            webpki,
            provider,
        }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Checks the server's certificate as far as [`Check`] says.
#[derive(Debug)]
struct Verifier {
    check: Check,
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.check == Check::Nothing {
            return Ok(ServerCertVerified::assertion());
        }
        match (
            self.check,
            self.webpki
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
        ) {
            (
                Check::Chain,
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )),
            ) => Ok(ServerCertVerified::assertion()),
            (_, result) => result,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_from_the_system_or_a_file() {
        assert!(client_config(Check::Full, None).is_ok());
        assert!(client_config(Check::Chain, Some("system")).is_ok());
        let e = client_config(Check::Full, Some("/nonexistent.pem"))
            .err()
            .unwrap();
        assert!(e.contains("/nonexistent.pem"), "{e}");
        let dir = std::env::temp_dir().join(format!("kiln-tls-{}.pem", std::process::id()));
        std::fs::write(&dir, "not a certificate").unwrap();
        let e = client_config(Check::Full, dir.to_str()).err().unwrap();
        assert!(e.contains("no certificate"), "{e}");
        let _ = std::fs::remove_file(dir);
    }
}
