//! Authenticator data (WebAuthn §6.1): rpIdHash, flags, signCount, optional attested credential
//! data and optional extensions.

use crate::cbor::{self, Value};
use crate::cose::{self, VerifyKey};
use crate::error::WebauthnError;

/// The longest credential id WebAuthn allows.
pub(crate) const MAX_CREDENTIAL_ID: usize = 1023;

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_BE: u8 = 0x08;
const FLAG_BS: u8 = 0x10;
const FLAG_AT: u8 = 0x40;
const FLAG_ED: u8 = 0x80;

/// Parsed authenticator data borrowing from the raw bytes.
pub(crate) struct AuthData<'a> {
    pub(crate) rp_id_hash: &'a [u8],
    pub(crate) flags: u8,
    pub(crate) sign_count: u32,
    pub(crate) attested: Option<AttestedCredential<'a>>,
}

/// Attested credential data.
pub(crate) struct AttestedCredential<'a> {
    pub(crate) aaguid: [u8; 16],
    pub(crate) credential_id: &'a [u8],
    /// The COSE_Key exactly as encoded in the authenticator data.
    pub(crate) public_key_bytes: &'a [u8],
    pub(crate) public_key: VerifyKey,
}

impl AuthData<'_> {
    pub(crate) fn user_present(&self) -> bool {
        self.flags & FLAG_UP != 0
    }
    pub(crate) fn user_verified(&self) -> bool {
        self.flags & FLAG_UV != 0
    }
    pub(crate) fn backup_eligible(&self) -> bool {
        self.flags & FLAG_BE != 0
    }
    pub(crate) fn backed_up(&self) -> bool {
        self.flags & FLAG_BS != 0
    }
}

fn malformed(what: &'static str) -> WebauthnError {
    WebauthnError::MalformedAuthenticatorData(what)
}

/// Splits `n` bytes off the front of `input`.
fn split(input: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    Some((input.get(..n)?, input.get(n..)?))
}

/// Parses authenticator data. Attested credential data is parsed when the AT flag is set (its
/// COSE key must be of a supported algorithm), extensions when ED is set (they must be a CBOR
/// map); any other byte left over is an error.
pub(crate) fn parse(data: &[u8]) -> Result<AuthData<'_>, WebauthnError> {
    let (rp_id_hash, rest) = split(data, 32).ok_or(malformed("shorter than 37 bytes"))?;
    let (&flags, rest) = rest
        .split_first()
        .ok_or(malformed("shorter than 37 bytes"))?;
    let (count, mut rest) = split(rest, 4).ok_or(malformed("shorter than 37 bytes"))?;
    let sign_count = u32::from_be_bytes(count.try_into().map_err(|_| malformed("bad length"))?);

    let attested = if flags & FLAG_AT != 0 {
        let (aaguid, r) = split(rest, 16).ok_or(malformed("truncated aaguid"))?;
        let (len, r) = split(r, 2).ok_or(malformed("truncated credential id length"))?;
        let len = u16::from_be_bytes(len.try_into().map_err(|_| malformed("bad length"))?);
        let len = usize::from(len);
        if len > MAX_CREDENTIAL_ID {
            return Err(WebauthnError::CredentialIdTooLong { len });
        }
        if len == 0 {
            return Err(malformed("empty credential id"));
        }
        let (credential_id, r) = split(r, len).ok_or(malformed("truncated credential id"))?;
        let (key_value, used) = cbor::decode_prefix(r)?;
        let (public_key_bytes, r) = split(r, used).ok_or(malformed("truncated public key"))?;
        let public_key = cose::parse_key(&key_value)?;
        rest = r;
        let mut aaguid_bytes = [0u8; 16];
        aaguid_bytes.copy_from_slice(aaguid);
        Some(AttestedCredential {
            aaguid: aaguid_bytes,
            credential_id,
            public_key_bytes,
            public_key,
        })
    } else {
        None
    };

    if flags & FLAG_ED != 0 {
        let (extensions, used) = cbor::decode_prefix(rest)?;
        if !matches!(extensions, Value::Map(_)) {
            return Err(malformed("extensions are not a map"));
        }
        rest = rest.get(used..).unwrap_or_default();
    }
    if !rest.is_empty() {
        return Err(malformed("trailing bytes"));
    }
    Ok(AuthData {
        rp_id_hash,
        flags,
        sign_count,
        attested,
    })
}
