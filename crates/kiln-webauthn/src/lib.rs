//! WebAuthn (passkey) verification for the relying party.
//!
//! This crate checks the two responses a browser hands back to a relying party:
//!
//! * [`RelyingParty::verify_registration`] for `navigator.credentials.create()`, producing a
//!   [`NewCredential`] to store;
//! * [`RelyingParty::verify_assertion`] for `navigator.credentials.get()`, producing an
//!   [`Assertion`] whose sign count and backup state the caller stores back.
//!
//! It knows nothing of HTTP, JSON request bodies or storage: the caller decodes the base64url
//! fields of the browser's `PublicKeyCredential`, keeps the challenge it issued, and stores the
//! credential. It also issues no challenges; the caller generates at least 16 random bytes.
//!
//! ```no_run
//! use kiln_webauthn::RelyingParty;
//!
//! let rp = RelyingParty {
//!     id: "localhost".into(),
//!     origins: vec!["http://localhost:8090".into()],
//! };
//! # let (client_data_json, attestation_object, challenge) = (Vec::new(), Vec::new(), vec![0u8; 32]);
//! // Registration: the three byte strings come from the browser's response (base64url-decoded)
//! // and from the session that issued the challenge.
//! let credential = rp.verify_registration(&client_data_json, &attestation_object, &challenge, false)?;
//! // Store credential.credential_id, credential.public_key and credential.sign_count.
//! # let (authenticator_data, signature) = (Vec::new(), Vec::new());
//! // Authentication, later:
//! let assertion = rp.verify_assertion(
//!     &client_data_json,
//!     &authenticator_data,
//!     &signature,
//!     &challenge,
//!     &credential.public_key,
//!     credential.sign_count,
//!     false,
//! )?;
//! // Store assertion.sign_count and assertion.backed_up back on the credential.
//! # Ok::<(), kiln_webauthn::WebauthnError>(())
//! ```
//!
//! # Attestation policy
//!
//! Kiln asks for `attestation: "none"` and makes no trust decision from attestation. Statements
//! are handled as follows, and the format is always recorded in
//! [`NewCredential::attestation_format`]:
//!
//! * `"none"`: accepted; `attStmt` must be the empty map.
//! * `"packed"`: the signature over `authenticatorData || SHA-256(clientDataJSON)` is verified —
//!   with the credential's own key when there is no `x5c` (self attestation, `alg` must be the
//!   credential's), otherwise with the leaf certificate's public key, whose FIDO AAGUID extension,
//!   if present, must match the authenticator data. The certificate chain is *not* validated
//!   (no roots, dates, revocation or metadata service): a packed statement with `x5c` proves only
//!   that the holder of that certificate's key signed this registration.
//! * any other format (`"tpm"`, `"android-key"`, `"android-safetynet"`, `"fido-u2f"`, `"apple"`,
//!   …): accepted **without** verifying the statement. Everything else about the registration
//!   (client data, rpIdHash, flags, the credential key) is still verified.
//!
//! # Algorithms
//!
//! ES256 (COSE -7, ECDSA P-256/SHA-256, DER signatures), EdDSA (-8, Ed25519, raw 64-byte
//! signatures, strict verification) and RS256 (-257, RSASSA-PKCS1-v1_5/SHA-256, 2048-4096 bit
//! moduli). Credentials with any other algorithm are refused at registration.
//!
//! # Limits
//!
//! Every input has a size limit (the `MAX_*` constants); larger inputs are refused before any
//! parsing. CBOR is decoded by this crate's own minimal decoder (definite lengths only, depth
//! and entry counts bounded). No input makes this crate panic.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attestation;
mod authdata;
mod cbor;
mod client_data;
mod cose;
mod der;
mod error;

use sha2::{Digest, Sha256};

pub use cose::{ALG_EDDSA, ALG_ES256, ALG_RS256};
pub use error::{CborError, WebauthnError};

/// For the fuzz targets only (not a stable API): one CBOR item from `input`: `Debug` text, length.
#[doc(hidden)]
pub fn fuzz_cbor_decode_prefix(input: &[u8]) -> Result<(String, usize), CborError> {
    cbor::decode_prefix(input).map(|(value, used)| (format!("{value:?}"), used))
}

/// The largest `clientDataJSON` accepted, in bytes.
pub const MAX_CLIENT_DATA_JSON: usize = 4 * 1024;
/// The largest `attestationObject` accepted, in bytes.
pub const MAX_ATTESTATION_OBJECT: usize = 16 * 1024;
/// The largest `authenticatorData` accepted in an assertion, in bytes.
pub const MAX_AUTHENTICATOR_DATA: usize = 8 * 1024;
/// The largest assertion signature accepted, in bytes (an RSA-4096 signature is 512).
pub const MAX_SIGNATURE: usize = 1024;
/// The largest stored COSE public key accepted, in bytes (an RSA-4096 COSE key is about 530).
pub const MAX_PUBLIC_KEY: usize = 2048;
/// The longest expected challenge accepted, in bytes. It must also be non-empty.
pub const MAX_CHALLENGE: usize = 1024;
/// The longest credential id WebAuthn allows, in bytes.
pub const MAX_CREDENTIAL_ID: usize = authdata::MAX_CREDENTIAL_ID;

/// The relying party: the id passkeys are scoped to and the origins its pages are served from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// The RP ID, a registrable domain suffix of the origins' hosts, e.g. `"localhost"` or
    /// `"example.com"`. Authenticator data must carry SHA-256 of it.
    pub id: String,
    /// The exact origins (`scheme://host[:port]`) allowed in client data, e.g.
    /// `"http://localhost:8090"`. Compared byte for byte.
    pub origins: Vec<String>,
}

/// A credential that passed registration verification, ready to be stored with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// The credential id (raw bytes, 1 to 1023 of them). Browsers send it base64url-encoded as
    /// `rawId`; this is the copy from the authenticator data, which is the authoritative one.
    pub credential_id: Vec<u8>,
    /// The credential public key, the COSE_Key bytes exactly as the authenticator encoded them.
    /// Pass them back to [`RelyingParty::verify_assertion`].
    pub public_key: Vec<u8>,
    /// The key's COSE algorithm: [`ALG_ES256`], [`ALG_EDDSA`] or [`ALG_RS256`].
    pub algorithm: i64,
    /// The authenticator's signature counter at registration (0 for most passkeys).
    pub sign_count: u32,
    /// The authenticator model's AAGUID (all zeros when the client hid it).
    pub aaguid: [u8; 16],
    /// Whether the UV flag was set: the user was verified (PIN, biometric) during registration.
    pub user_verified: bool,
    /// Whether the BE flag was set: the credential may be synced (a multi-device passkey).
    pub backup_eligible: bool,
    /// Whether the BS flag was set: the credential is currently backed up.
    pub backed_up: bool,
    /// The attestation statement format (`"none"`, `"packed"`, …). Only "none" and "packed"
    /// statements are verified; see the crate's attestation policy.
    pub attestation_format: String,
}

/// The outcome of a verified assertion; store `sign_count` and `backed_up` back on the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assertion {
    /// The authenticator's new signature counter (0 when it keeps none).
    pub sign_count: u32,
    /// Whether the UV flag was set: the user was verified during this assertion.
    pub user_verified: bool,
    /// Whether the BS flag was set: the credential is currently backed up.
    pub backed_up: bool,
}

fn check_size(input: &'static str, data: &[u8], max: usize) -> Result<(), WebauthnError> {
    if data.len() > max {
        return Err(WebauthnError::InputTooLarge {
            input,
            len: data.len(),
            max,
        });
    }
    Ok(())
}

fn check_expected_challenge(challenge: &[u8]) -> Result<(), WebauthnError> {
    if challenge.is_empty() || challenge.len() > MAX_CHALLENGE {
        return Err(WebauthnError::InvalidExpectedChallenge);
    }
    Ok(())
}

impl RelyingParty {
    /// Checks rpIdHash and the UP, UV, BE and BS flags shared by both ceremonies.
    fn check_auth_data(
        &self,
        auth_data: &authdata::AuthData<'_>,
        require_user_verification: bool,
    ) -> Result<(), WebauthnError> {
        if auth_data.rp_id_hash != Sha256::digest(self.id.as_bytes()).as_slice() {
            return Err(WebauthnError::RpIdHashMismatch);
        }
        if !auth_data.user_present() {
            return Err(WebauthnError::UserNotPresent);
        }
        if require_user_verification && !auth_data.user_verified() {
            return Err(WebauthnError::UserNotVerified);
        }
        if auth_data.backed_up() && !auth_data.backup_eligible() {
            return Err(WebauthnError::InvalidBackupFlags);
        }
        Ok(())
    }

    /// Verifies the response of `navigator.credentials.create()` (WebAuthn §7.1).
    ///
    /// * `client_data_json`: `response.clientDataJSON`, decoded from base64url.
    /// * `attestation_object`: `response.attestationObject`, decoded from base64url.
    /// * `expected_challenge`: the raw challenge bytes issued for this ceremony (1 to
    ///   [`MAX_CHALLENGE`] bytes); the client's base64url challenge must decode to them.
    /// * `require_user_verification`: refuse unless the UV flag is set (use `true` when the
    ///   options said `userVerification: "required"`).
    ///
    /// Checks, in order: input sizes; client data `type` is `"webauthn.create"`, `challenge`
    /// matches, `origin` is one of [`RelyingParty::origins`], `crossOrigin` is not true; the
    /// attestation object is a CBOR map with text `fmt`, map `attStmt` and byte-string `authData`;
    /// authenticator data has rpIdHash = SHA-256([`RelyingParty::id`]), UP set, UV set if
    /// required, not BS without BE, the AT flag with attested credential data (credential id of
    /// at most 1023 bytes, a COSE key of a supported algorithm that parses to a valid public
    /// key), extensions only when ED is set, and no other trailing bytes; finally the attestation
    /// statement per the crate's attestation policy.
    pub fn verify_registration(
        &self,
        client_data_json: &[u8],
        attestation_object: &[u8],
        expected_challenge: &[u8],
        require_user_verification: bool,
    ) -> Result<NewCredential, WebauthnError> {
        check_size("clientDataJSON", client_data_json, MAX_CLIENT_DATA_JSON)?;
        check_size(
            "attestationObject",
            attestation_object,
            MAX_ATTESTATION_OBJECT,
        )?;
        check_expected_challenge(expected_challenge)?;

        client_data::check(
            client_data_json,
            client_data::TYPE_CREATE,
            expected_challenge,
            &self.origins,
        )?;

        let object = cbor::decode(attestation_object)?;
        let object = object
            .as_map()
            .ok_or(WebauthnError::MalformedAttestationObject("not a map"))?;
        let fmt = match cbor::Value::map_get_text(object, "fmt") {
            Some(cbor::Value::Text(fmt)) => fmt.as_str(),
            _ => {
                return Err(WebauthnError::MalformedAttestationObject(
                    "fmt is missing or not a text string",
                ))
            }
        };
        attestation::check_format_name(fmt)?;
        let att_stmt = match cbor::Value::map_get_text(object, "attStmt") {
            Some(cbor::Value::Map(entries)) => entries.as_slice(),
            _ => {
                return Err(WebauthnError::MalformedAttestationObject(
                    "attStmt is missing or not a map",
                ))
            }
        };
        let auth_data_bytes = match cbor::Value::map_get_text(object, "authData") {
            Some(cbor::Value::Bytes(bytes)) => bytes.as_slice(),
            _ => {
                return Err(WebauthnError::MalformedAttestationObject(
                    "authData is missing or not a byte string",
                ))
            }
        };

        let auth_data = authdata::parse(auth_data_bytes)?;
        self.check_auth_data(&auth_data, require_user_verification)?;
        let credential = auth_data
            .attested
            .as_ref()
            .ok_or(WebauthnError::MissingAttestedCredentialData)?;

        match fmt {
            "none" => attestation::verify_none(att_stmt)?,
            "packed" => {
                let signed = signed_data(auth_data_bytes, client_data_json);
                attestation::verify_packed(att_stmt, credential, &signed)?;
            }
            // Kiln makes no trust decision from attestation: other statements are recorded,
            // not verified (see the crate documentation).
            _ => {}
        }

        Ok(NewCredential {
            credential_id: credential.credential_id.to_vec(),
            public_key: credential.public_key_bytes.to_vec(),
            algorithm: credential.public_key.algorithm(),
            sign_count: auth_data.sign_count,
            aaguid: credential.aaguid,
            user_verified: auth_data.user_verified(),
            backup_eligible: auth_data.backup_eligible(),
            backed_up: auth_data.backed_up(),
            attestation_format: fmt.to_owned(),
        })
    }

    /// Verifies the response of `navigator.credentials.get()` against a stored credential
    /// (WebAuthn §7.2).
    ///
    /// * `client_data_json`, `authenticator_data`, `signature`: the response fields, decoded from
    ///   base64url. The caller has already looked the credential up by the response's `rawId`
    ///   (and, for discoverable credentials, checked `userHandle` against its owner).
    /// * `expected_challenge`: the raw challenge bytes issued for this ceremony.
    /// * `public_key`, `stored_sign_count`: [`NewCredential::public_key`] and the last stored
    ///   sign count of that credential.
    /// * `require_user_verification`: refuse unless the UV flag is set.
    ///
    /// Checks, in order: input sizes; client data `type` is `"webauthn.get"`, `challenge`,
    /// `origin` and `crossOrigin` as for registration; authenticator data has rpIdHash =
    /// SHA-256([`RelyingParty::id`]), UP set, UV set if required, not BS without BE, no attested
    /// credential data, extensions only when ED is set and no trailing bytes; the signature over
    /// `authenticatorData || SHA-256(clientDataJSON)` verifies with the stored key (ES256: DER
    /// ECDSA; EdDSA: raw 64 bytes; RS256: PKCS#1 v1.5); finally, when both the stored and the
    /// new sign count are non-zero, the new one must be greater, else
    /// [`WebauthnError::CounterRegression`] (a possibly cloned authenticator: the caller decides
    /// whether to lock the credential).
    #[allow(clippy::too_many_arguments)]
    pub fn verify_assertion(
        &self,
        client_data_json: &[u8],
        authenticator_data: &[u8],
        signature: &[u8],
        expected_challenge: &[u8],
        public_key: &[u8],
        stored_sign_count: u32,
        require_user_verification: bool,
    ) -> Result<Assertion, WebauthnError> {
        check_size("clientDataJSON", client_data_json, MAX_CLIENT_DATA_JSON)?;
        check_size(
            "authenticatorData",
            authenticator_data,
            MAX_AUTHENTICATOR_DATA,
        )?;
        check_size("signature", signature, MAX_SIGNATURE)?;
        check_size("publicKey", public_key, MAX_PUBLIC_KEY)?;
        check_expected_challenge(expected_challenge)?;

        client_data::check(
            client_data_json,
            client_data::TYPE_GET,
            expected_challenge,
            &self.origins,
        )?;

        let auth_data = authdata::parse(authenticator_data)?;
        if auth_data.attested.is_some() {
            return Err(WebauthnError::UnexpectedAttestedCredentialData);
        }
        self.check_auth_data(&auth_data, require_user_verification)?;

        let key = cose::parse_key(&cbor::decode(public_key)?)?;
        key.verify(
            &signed_data(authenticator_data, client_data_json),
            signature,
        )?;

        let received = auth_data.sign_count;
        if stored_sign_count != 0 && received != 0 && received <= stored_sign_count {
            return Err(WebauthnError::CounterRegression {
                stored: stored_sign_count,
                received,
            });
        }

        Ok(Assertion {
            sign_count: received,
            user_verified: auth_data.user_verified(),
            backed_up: auth_data.backed_up(),
        })
    }
}

/// `authenticatorData || SHA-256(clientDataJSON)`: what both ceremonies sign.
fn signed_data(auth_data: &[u8], client_data_json: &[u8]) -> Vec<u8> {
    let mut signed = Vec::with_capacity(auth_data.len() + 32);
    signed.extend_from_slice(auth_data);
    signed.extend_from_slice(&Sha256::digest(client_data_json));
    signed
}
