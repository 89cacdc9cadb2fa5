//! Fuzzes authenticator data parsing (flags, sign count, attested credential data with its
//! COSE key, extensions) in both ceremonies: as an assertion's `authenticatorData` and inside a
//! "none" attestation object. No input may panic; a registration that succeeds must return a
//! credential id and public key copied from the input, and the input's sign count.
//!
//! Run: `scripts/fuzz 60 webauthn_authdata`.

#![no_main]

use kiln_fuzz::{
    attestation_object, client_data, contains, es256_key, es256_signature, rp, CHALLENGE,
};
use kiln_webauthn::{ALG_EDDSA, ALG_ES256, ALG_RS256, MAX_ATTESTATION_OBJECT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_ATTESTATION_OBJECT {
        return;
    }
    let rp = rp();
    let _ = rp.verify_assertion(
        &client_data("webauthn.get"),
        data,
        &es256_signature(),
        CHALLENGE,
        &es256_key(),
        0,
        false,
    );

    let object = attestation_object("none", &[0xa0], data);
    if let Ok(cred) =
        rp.verify_registration(&client_data("webauthn.create"), &object, CHALLENGE, false)
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
        assert_eq!(
            cred.sign_count,
            u32::from_be_bytes(data[33..37].try_into().unwrap())
        );
        assert_eq!(cred.aaguid, data[37..53]);
    }
});
