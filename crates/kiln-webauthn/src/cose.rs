//! COSE_Key (RFC 9052/9053) parsing for the algorithms this crate verifies, and signature
//! verification with such a key.

use crate::cbor::Value;
use crate::error::WebauthnError;

/// COSE algorithm ES256: ECDSA on P-256 with SHA-256, DER-encoded signatures in WebAuthn.
pub const ALG_ES256: i64 = -7;
/// COSE algorithm EdDSA, here Ed25519 with 64-byte raw signatures.
pub const ALG_EDDSA: i64 = -8;
/// COSE algorithm RS256: RSASSA-PKCS1-v1_5 with SHA-256.
pub const ALG_RS256: i64 = -257;

const KTY_OKP: i128 = 1;
const KTY_EC2: i128 = 2;
const KTY_RSA: i128 = 3;
const CRV_P256: i128 = 1;
const CRV_ED25519: i128 = 6;

/// The smallest RSA modulus accepted, in bits.
const RSA_MIN_BITS: usize = 2048;
/// The largest RSA modulus accepted, in bits (also the `rsa` crate's limit).
const RSA_MAX_BITS: usize = 4096;

/// A public key ready to verify signatures, with the COSE algorithm it is used with.
pub(crate) enum VerifyKey {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_dalek::VerifyingKey),
    Rs256 {
        key: Box<rsa::pkcs1v15::VerifyingKey<sha2::Sha256>>,
        /// The modulus length in bytes, which every signature must have.
        modulus_len: usize,
    },
}

impl VerifyKey {
    /// The COSE algorithm identifier of this key.
    pub(crate) fn algorithm(&self) -> i64 {
        match self {
            Self::Es256(_) => ALG_ES256,
            Self::EdDsa(_) => ALG_EDDSA,
            Self::Rs256 { .. } => ALG_RS256,
        }
    }

    /// Builds an ES256 key from a SEC1 point (uncompressed or compressed).
    pub(crate) fn es256_from_sec1(point: &[u8]) -> Option<Self> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .ok()
            .map(Self::Es256)
    }

    /// Builds an EdDSA key from the 32-byte Ed25519 public key.
    pub(crate) fn eddsa_from_bytes(key: &[u8]) -> Option<Self> {
        let bytes: &[u8; 32] = key.try_into().ok()?;
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .ok()
            .map(Self::EdDsa)
    }

    /// Builds an RS256 key from the big-endian modulus and exponent; the modulus must be
    /// 2048 to 4096 bits long.
    pub(crate) fn rs256_from_parts(n: &[u8], e: &[u8]) -> Option<Self> {
        let n = rsa::BigUint::from_bytes_be(n);
        let e = rsa::BigUint::from_bytes_be(e);
        let bits = n.bits();
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return None;
        }
        let key = rsa::RsaPublicKey::new(n, e).ok()?;
        Some(Self::Rs256 {
            key: Box::new(rsa::pkcs1v15::VerifyingKey::new(key)),
            modulus_len: bits.div_ceil(8),
        })
    }

    /// Verifies `signature` over `message` as WebAuthn encodes it for this key's algorithm.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), WebauthnError> {
        use p256::ecdsa::signature::Verifier;
        match self {
            Self::Es256(key) => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| WebauthnError::MalformedSignature)?;
                key.verify(message, &sig)
                    .map_err(|_| WebauthnError::BadSignature)
            }
            Self::EdDsa(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| WebauthnError::MalformedSignature)?;
                key.verify_strict(message, &sig)
                    .map_err(|_| WebauthnError::BadSignature)
            }
            Self::Rs256 { key, modulus_len } => {
                if signature.len() != *modulus_len {
                    return Err(WebauthnError::MalformedSignature);
                }
                let sig = rsa::pkcs1v15::Signature::try_from(signature)
                    .map_err(|_| WebauthnError::MalformedSignature)?;
                key.verify(message, &sig)
                    .map_err(|_| WebauthnError::BadSignature)
            }
        }
    }
}

/// Parses a decoded COSE_Key map into a verifying key. `alg` (3) is required and decides which
/// key type, curve and parameters must be present.
pub(crate) fn parse_key(value: &Value) -> Result<VerifyKey, WebauthnError> {
    let map = value
        .as_map()
        .ok_or(WebauthnError::MalformedPublicKey("not a map"))?;
    let int = |label: i128, what: &'static str| match Value::map_get_int(map, label) {
        Some(Value::Int(i)) => Ok(*i),
        Some(_) => Err(WebauthnError::MalformedPublicKey(what)),
        None => Err(WebauthnError::MalformedPublicKey(what)),
    };
    let bytes = |label: i128, what: &'static str| match Value::map_get_int(map, label) {
        Some(Value::Bytes(b)) => Ok(b.as_slice()),
        _ => Err(WebauthnError::MalformedPublicKey(what)),
    };
    let kty = int(1, "missing or non-integer kty (1)")?;
    let alg = int(3, "missing or non-integer alg (3)")?;
    let alg = i64::try_from(alg).map_err(|_| WebauthnError::UnsupportedAlgorithm(i64::MIN))?;
    match alg {
        ALG_ES256 => {
            if kty != KTY_EC2 {
                return Err(WebauthnError::MalformedPublicKey("ES256 needs kty EC2"));
            }
            if int(-1, "missing crv (-1)")? != CRV_P256 {
                return Err(WebauthnError::MalformedPublicKey("ES256 needs crv P-256"));
            }
            let x = bytes(-2, "missing x (-2)")?;
            let y = bytes(-3, "missing or compressed y (-3)")?;
            if x.len() != 32 || y.len() != 32 {
                return Err(WebauthnError::MalformedPublicKey(
                    "P-256 coordinates must be 32 bytes",
                ));
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            VerifyKey::es256_from_sec1(&point)
                .ok_or(WebauthnError::MalformedPublicKey("point is not on P-256"))
        }
        ALG_EDDSA => {
            if kty != KTY_OKP {
                return Err(WebauthnError::MalformedPublicKey("EdDSA needs kty OKP"));
            }
            if int(-1, "missing crv (-1)")? != CRV_ED25519 {
                return Err(WebauthnError::MalformedPublicKey(
                    "EdDSA is supported on Ed25519 only",
                ));
            }
            let x = bytes(-2, "missing x (-2)")?;
            VerifyKey::eddsa_from_bytes(x)
                .ok_or(WebauthnError::MalformedPublicKey("invalid Ed25519 key"))
        }
        ALG_RS256 => {
            if kty != KTY_RSA {
                return Err(WebauthnError::MalformedPublicKey("RS256 needs kty RSA"));
            }
            let n = bytes(-1, "missing n (-1)")?;
            let e = bytes(-2, "missing e (-2)")?;
            VerifyKey::rs256_from_parts(n, e).ok_or(WebauthnError::MalformedPublicKey(
                "RSA key must have a 2048-4096 bit modulus and a valid exponent",
            ))
        }
        other => Err(WebauthnError::UnsupportedAlgorithm(other)),
    }
}
