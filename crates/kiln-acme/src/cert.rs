//! An issued certificate as stored (PEM chain and key in one JSON value) and as served (a rustls
//! `CertifiedKey`), with its validity period: it is renewed when two thirds of it have passed
//! (30 days before the end of Let's Encrypt's 90).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};
use x509_cert::der::Decode;

use crate::Error;

/// The stored form: what the CA sent, and the key made for it.
#[derive(Serialize, Deserialize)]
pub(crate) struct Stored {
    /// PEM chain, leaf first.
    pub(crate) chain: String,
    /// PEM PKCS#8 private key.
    pub(crate) key: String,
}

/// A certificate ready to serve.
pub(crate) struct Issued {
    pub(crate) key: Arc<CertifiedKey>,
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
}

impl Issued {
    /// Parses a stored certificate and checks that its key matches it.
    pub(crate) fn parse(stored: &Stored) -> Result<Self, Error> {
        let bad = |m: String| Error::Certificate(m);
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(stored.chain.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("the chain: {e:?}")))?;
        let leaf = chain
            .first()
            .ok_or_else(|| bad("the chain holds no certificate".into()))?;
        let parsed = x509_cert::Certificate::from_der(leaf)
            .map_err(|e| bad(format!("the certificate: {e}")))?;
        let validity = &parsed.tbs_certificate.validity;
        let (not_before, not_after) = (
            validity.not_before.to_system_time(),
            validity.not_after.to_system_time(),
        );
        let key = PrivateKeyDer::from_pem_slice(stored.key.as_bytes())
            .map_err(|e| bad(format!("the key: {e:?}")))?;
        let provider = rustls::crypto::ring::default_provider();
        let key = CertifiedKey::from_der(chain, key, &provider)
            .map_err(|e| bad(format!("the key does not fit the certificate: {e}")))?;
        Ok(Self {
            key: Arc::new(key),
            not_before,
            not_after,
        })
    }

    /// When to order its successor: two thirds into its validity.
    pub(crate) fn renew_at(&self) -> SystemTime {
        let life = self
            .not_after
            .duration_since(self.not_before)
            .unwrap_or(Duration::ZERO);
        self.not_before + life * 2 / 3
    }

    /// Whether it may still be served at `now`.
    pub(crate) fn valid_at(&self, now: SystemTime) -> bool {
        self.not_before <= now && now < self.not_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(days: u64) -> Stored {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["kiln.test".into()]).unwrap();
        let now = rcgen::date_time_ymd(2026, 1, 1);
        params.not_before = now;
        params.not_after = now + Duration::from_secs(days * 86_400);
        let cert = params.self_signed(&key).unwrap();
        Stored {
            chain: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    #[test]
    fn renewal_is_due_two_thirds_into_the_validity() {
        let issued = Issued::parse(&self_signed(90)).unwrap();
        let life = issued.not_after.duration_since(issued.not_before).unwrap();
        assert_eq!(life, Duration::from_secs(90 * 86_400));
        assert_eq!(
            issued.renew_at(),
            issued.not_before + Duration::from_secs(60 * 86_400)
        );
        assert!(issued.valid_at(issued.renew_at()));
        assert!(!issued.valid_at(issued.not_after));
    }

    #[test]
    fn a_key_of_another_certificate_or_garbage_is_refused() {
        let a = self_signed(90);
        let b = self_signed(90);
        let mixed = Stored {
            chain: a.chain,
            key: b.key,
        };
        assert!(matches!(Issued::parse(&mixed), Err(Error::Certificate(_))));
        let garbage = Stored {
            chain: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            key: String::new(),
        };
        assert!(matches!(
            Issued::parse(&garbage),
            Err(Error::Certificate(_))
        ));
        let empty = Stored {
            chain: String::new(),
            key: String::new(),
        };
        assert!(matches!(Issued::parse(&empty), Err(Error::Certificate(_))));
    }
}
