//! Fuzzes whole attestation objects (CBOR map, `fmt`, `attStmt`, `authData`, the "none" and
//! "packed" statement checks with their certificates) through
//! `RelyingParty::verify_registration` with valid client data. No input may panic; a
//! registration that succeeds must return a credential id and public key copied from the input
//! and a well-formed format name.
//!
//! Run: `scripts/fuzz 60 webauthn_attestation`.

#![no_main]

use kiln_fuzz::{client_data, contains, rp, CHALLENGE};
use kiln_webauthn::{ALG_EDDSA, ALG_ES256, ALG_RS256};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    if let Ok(cred) =
        rp().verify_registration(&client_data("webauthn.create"), data, CHALLENGE, false)
    {
        assert!(!cred.credential_id.is_empty() && cred.credential_id.len() <= 1023);
        assert!(
            contains(data, &cred.credential_id),
            "credential id not from the input"
        );
        assert!(
            contains(data, &cred.public_key),
            "public key not from the input"
        );
        assert!([ALG_ES256, ALG_EDDSA, ALG_RS256].contains(&cred.algorithm));
        let fmt = &cred.attestation_format;
        assert!(!fmt.is_empty() && fmt.len() <= 32 && fmt.bytes().all(|b| b.is_ascii_graphic()));
    }
});
