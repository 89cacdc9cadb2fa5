//! Attestation statement checks for the formats Kiln verifies: "none" and "packed".

use crate::authdata::AttestedCredential;
use crate::cbor::Value;
use crate::cose::{VerifyKey, ALG_EDDSA, ALG_ES256, ALG_RS256};
use crate::der::{self, SpkiKey};
use crate::error::WebauthnError;

/// The most certificates accepted in a packed statement's x5c.
const MAX_X5C: usize = 8;

fn bad(what: &'static str) -> WebauthnError {
    WebauthnError::MalformedAttestationStatement(what)
}

/// Checks that `fmt` looks like an attestation statement format identifier: 1-32 printable
/// ASCII characters (WebAuthn §8: "a short ASCII string").
pub(crate) fn check_format_name(fmt: &str) -> Result<(), WebauthnError> {
    if fmt.is_empty() || fmt.len() > 32 || !fmt.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WebauthnError::MalformedAttestationObject(
            "fmt is not a short ASCII identifier",
        ));
    }
    Ok(())
}

/// "none": the statement must be the empty map.
pub(crate) fn verify_none(att_stmt: &[(Value, Value)]) -> Result<(), WebauthnError> {
    if att_stmt.is_empty() {
        Ok(())
    } else {
        Err(bad("\"none\" attestation must have an empty attStmt"))
    }
}

/// "packed" (WebAuthn §8.2). Without x5c it is self attestation: `alg` must be the credential's
/// algorithm and `sig` must verify with the credential key. With x5c, `sig` must verify with the
/// leaf certificate's key under `alg`, and a FIDO AAGUID extension in that certificate must match
/// the authenticator data's AAGUID. The chain is not validated against any root (Kiln makes no
/// trust decisions from attestation).
pub(crate) fn verify_packed(
    att_stmt: &[(Value, Value)],
    credential: &AttestedCredential<'_>,
    signed_data: &[u8],
) -> Result<(), WebauthnError> {
    let alg = match Value::map_get_text(att_stmt, "alg") {
        Some(Value::Int(alg)) => {
            i64::try_from(*alg).map_err(|_| WebauthnError::UnsupportedAlgorithm(i64::MIN))?
        }
        _ => return Err(bad("packed attStmt needs an integer alg")),
    };
    let sig = match Value::map_get_text(att_stmt, "sig") {
        Some(Value::Bytes(sig)) => sig.as_slice(),
        _ => return Err(bad("packed attStmt needs a byte-string sig")),
    };
    if Value::map_get_text(att_stmt, "ecdaaKeyId").is_some() {
        return Err(bad("ECDAA attestation is not supported"));
    }
    let allowed = ["alg", "sig", "x5c"];
    if att_stmt
        .iter()
        .any(|(k, _)| !matches!(k, Value::Text(t) if allowed.contains(&t.as_str())))
    {
        return Err(bad("packed attStmt has an unknown member"));
    }

    match Value::map_get_text(att_stmt, "x5c") {
        None => {
            if alg != credential.public_key.algorithm() {
                return Err(bad(
                    "self attestation alg differs from the credential's alg",
                ));
            }
            credential.public_key.verify(signed_data, sig)
        }
        Some(Value::Array(certs)) => {
            if certs.is_empty() || certs.len() > MAX_X5C {
                return Err(bad("x5c must hold 1 to 8 certificates"));
            }
            let mut leaf = None;
            for cert in certs {
                match cert {
                    Value::Bytes(cert) => {
                        if leaf.is_none() {
                            leaf = Some(cert.as_slice());
                        }
                    }
                    _ => return Err(bad("x5c entries must be byte strings")),
                }
            }
            let leaf = leaf.ok_or(bad("x5c must hold 1 to 8 certificates"))?;
            let info = der::parse_certificate(leaf).ok_or(WebauthnError::MalformedCertificate(
                "not a DER X.509 certificate",
            ))?;
            if let Some(ext) = info.aaguid_extension {
                let (aaguid, rest) = der::expect(ext, der::TAG_OCTET_STRING).ok_or(
                    WebauthnError::MalformedCertificate("AAGUID extension is not an OCTET STRING"),
                )?;
                if !rest.is_empty() || aaguid != credential.aaguid {
                    return Err(bad(
                        "certificate AAGUID differs from the authenticator data's",
                    ));
                }
            }
            let key = key_from_spki(info.spki, alg)?;
            key.verify(signed_data, sig)
        }
        Some(_) => Err(bad("x5c is not an array")),
    }
}

/// Builds a verifying key for `alg` from a certificate's SubjectPublicKeyInfo.
fn key_from_spki(spki: &[u8], alg: i64) -> Result<VerifyKey, WebauthnError> {
    let key = der::parse_spki(spki).ok_or(WebauthnError::MalformedCertificate(
        "unsupported or malformed subject public key",
    ))?;
    let mismatch = || WebauthnError::MalformedCertificate("certificate key does not suit alg");
    let unusable = || WebauthnError::MalformedCertificate("certificate key is invalid");
    match (alg, key) {
        (ALG_ES256, SpkiKey::P256(point)) => VerifyKey::es256_from_sec1(point).ok_or_else(unusable),
        (ALG_EDDSA, SpkiKey::Ed25519(key)) => VerifyKey::eddsa_from_bytes(key).ok_or_else(unusable),
        (ALG_RS256, SpkiKey::Rsa { n, e }) => {
            VerifyKey::rs256_from_parts(n, e).ok_or_else(unusable)
        }
        (ALG_ES256 | ALG_EDDSA | ALG_RS256, _) => Err(mismatch()),
        (other, _) => Err(WebauthnError::UnsupportedAlgorithm(other)),
    }
}
