//! The errors of registration and assertion verification.

use std::fmt;

/// Why a WebAuthn response was rejected.
///
/// Every variant is a reason to refuse the ceremony; none of them is retryable with the same
/// input. The messages are meant for logs: show end users a generic "passkey verification failed".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebauthnError {
    /// An input is larger than this crate accepts for it.
    InputTooLarge {
        /// Which input (e.g. `"clientDataJSON"`).
        input: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// The challenge the caller expects is empty or longer than [`crate::MAX_CHALLENGE`]
    /// (a programming error on the relying party's side, never the client's).
    InvalidExpectedChallenge,
    /// `clientDataJSON` is not UTF-8 JSON, not an object, or a member is missing or of the wrong type.
    /// The text names the problem.
    MalformedClientData(&'static str),
    /// `clientData.type` is not the type of this ceremony (`"webauthn.create"` or `"webauthn.get"`).
    WrongType {
        /// The type this ceremony requires.
        expected: &'static str,
        /// The type the client sent.
        found: String,
    },
    /// `clientData.challenge` does not decode to the expected challenge.
    ChallengeMismatch,
    /// `clientData.origin` is not one of the relying party's origins.
    OriginMismatch {
        /// The origin the client reported.
        origin: String,
    },
    /// `clientData.crossOrigin` is true: the ceremony ran in a cross-origin iframe, which Kiln does
    /// not allow.
    CrossOrigin,
    /// A CBOR structure could not be decoded.
    Cbor(CborError),
    /// The attestation object is well-formed CBOR but not a map with `fmt` (text), `attStmt` (map)
    /// and `authData` (bytes).
    MalformedAttestationObject(&'static str),
    /// The authenticator data is truncated, has trailing bytes or a bad field. The text names it.
    MalformedAuthenticatorData(&'static str),
    /// The authenticator data's rpIdHash is not SHA-256 of the relying party id.
    RpIdHashMismatch,
    /// The UP (user present) flag is not set.
    UserNotPresent,
    /// User verification was required but the UV flag is not set.
    UserNotVerified,
    /// The BS (backed up) flag is set while BE (backup eligible) is not, which the spec forbids.
    InvalidBackupFlags,
    /// A registration's authenticator data has no attested credential data (AT flag clear).
    MissingAttestedCredentialData,
    /// An assertion's authenticator data carries attested credential data (AT flag set).
    UnexpectedAttestedCredentialData,
    /// The credential id is longer than 1023 bytes.
    CredentialIdTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The COSE_Key is not a map with a consistent key type, curve and coordinates. The text names
    /// the problem.
    MalformedPublicKey(&'static str),
    /// The COSE algorithm is not one this crate verifies (ES256 -7, EdDSA -8, RS256 -257).
    UnsupportedAlgorithm(i64),
    /// The attestation statement does not have the shape its format requires. The text names the
    /// problem.
    MalformedAttestationStatement(&'static str),
    /// The attestation certificate (x5c leaf) could not be parsed or its key is unusable.
    MalformedCertificate(&'static str),
    /// The signature is not encoded as its algorithm requires (DER for ES256, 64 bytes for EdDSA,
    /// modulus length for RS256).
    MalformedSignature,
    /// The signature does not verify.
    BadSignature,
    /// The signature counter did not increase although both the stored and the new value are
    /// non-zero: the authenticator may have been cloned.
    CounterRegression {
        /// The counter stored with the credential.
        stored: u32,
        /// The counter in this assertion.
        received: u32,
    },
}

impl fmt::Display for WebauthnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputTooLarge { input, len, max } => {
                write!(f, "{input} is too large ({len} bytes, at most {max})")
            }
            Self::InvalidExpectedChallenge => {
                write!(f, "the expected challenge is empty or too long")
            }
            Self::MalformedClientData(what) => write!(f, "malformed clientDataJSON: {what}"),
            Self::WrongType { expected, found } => {
                write!(f, "clientData type is {found:?}, expected {expected:?}")
            }
            Self::ChallengeMismatch => write!(f, "clientData challenge does not match"),
            Self::OriginMismatch { origin } => {
                write!(f, "clientData origin {origin:?} is not an allowed origin")
            }
            Self::CrossOrigin => write!(f, "cross-origin ceremonies are not allowed"),
            Self::Cbor(err) => write!(f, "invalid CBOR: {err}"),
            Self::MalformedAttestationObject(what) => {
                write!(f, "malformed attestation object: {what}")
            }
            Self::MalformedAuthenticatorData(what) => {
                write!(f, "malformed authenticator data: {what}")
            }
            Self::RpIdHashMismatch => write!(f, "rpIdHash does not match the relying party id"),
            Self::UserNotPresent => write!(f, "user presence flag is not set"),
            Self::UserNotVerified => {
                write!(
                    f,
                    "user verification is required but the user was not verified"
                )
            }
            Self::InvalidBackupFlags => {
                write!(
                    f,
                    "backed-up flag is set on a credential that is not backup eligible"
                )
            }
            Self::MissingAttestedCredentialData => {
                write!(f, "authenticator data has no attested credential data")
            }
            Self::UnexpectedAttestedCredentialData => {
                write!(
                    f,
                    "assertion authenticator data carries attested credential data"
                )
            }
            Self::CredentialIdTooLong { len } => {
                write!(f, "credential id is {len} bytes, at most 1023 are allowed")
            }
            Self::MalformedPublicKey(what) => write!(f, "malformed COSE public key: {what}"),
            Self::UnsupportedAlgorithm(alg) => write!(f, "unsupported COSE algorithm {alg}"),
            Self::MalformedAttestationStatement(what) => {
                write!(f, "malformed attestation statement: {what}")
            }
            Self::MalformedCertificate(what) => {
                write!(f, "malformed attestation certificate: {what}")
            }
            Self::MalformedSignature => write!(f, "malformed signature"),
            Self::BadSignature => write!(f, "signature verification failed"),
            Self::CounterRegression { stored, received } => write!(
                f,
                "signature counter went from {stored} to {received}: possible cloned authenticator"
            ),
        }
    }
}

impl std::error::Error for WebauthnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Cbor(err) => Some(err),
            _ => None,
        }
    }
}

impl From<CborError> for WebauthnError {
    fn from(err: CborError) -> Self {
        Self::Cbor(err)
    }
}

/// Why a CBOR item could not be decoded by this crate's minimal decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CborError {
    /// The input ends inside an item.
    UnexpectedEnd,
    /// Bytes remain after the single top-level item.
    TrailingBytes,
    /// The input is longer than the decoder accepts.
    TooLarge,
    /// Arrays and maps are nested deeper than the decoder accepts.
    TooDeep,
    /// An array or map declares more entries than the decoder accepts.
    TooManyItems,
    /// An indefinite-length item (additional information 31), which WebAuthn's CTAP2 canonical
    /// encoding never uses.
    IndefiniteLength,
    /// Additional information 28-30, reserved by RFC 8949.
    ReservedAdditionalInfo,
    /// A tag (major type 6), a float or an unassigned simple value: not used by WebAuthn.
    UnsupportedItem,
    /// A text string is not valid UTF-8.
    InvalidUtf8,
    /// A map key is neither an integer nor a text string.
    InvalidMapKey,
    /// A map has the same key twice.
    DuplicateMapKey,
}

impl fmt::Display for CborError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnexpectedEnd => "unexpected end of input",
            Self::TrailingBytes => "trailing bytes after the item",
            Self::TooLarge => "input too large",
            Self::TooDeep => "nesting too deep",
            Self::TooManyItems => "too many array or map entries",
            Self::IndefiniteLength => "indefinite-length items are not supported",
            Self::ReservedAdditionalInfo => "reserved additional information value",
            Self::UnsupportedItem => "unsupported item (tag, float or simple value)",
            Self::InvalidUtf8 => "text string is not UTF-8",
            Self::InvalidMapKey => "map key is neither an integer nor a text string",
            Self::DuplicateMapKey => "duplicate map key",
        })
    }
}

impl std::error::Error for CborError {}
