//! Fuzzes the DER reader (X.509 attestation certificates and their SubjectPublicKeyInfo)
//! through `RelyingParty::verify_registration`: the input is the leaf certificate of a "packed"
//! attestation statement around a real YubiKey registration, checked with each supported
//! algorithm. No input may panic, and every refusal must come from the certificate or the
//! signature, never from the fixed parts.
//!
//! Run: `scripts/fuzz 60 webauthn_der`.

#![no_main]

use kiln_fuzz::{attestation_object, cbor, client_data, rp, yubikey_auth_data, CHALLENGE};
use kiln_webauthn::{WebauthnError, ALG_EDDSA, ALG_ES256, ALG_RS256, MAX_ATTESTATION_OBJECT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_ATTESTATION_OBJECT {
        return;
    }
    let auth_data = yubikey_auth_data();
    let cdj = client_data("webauthn.create");
    for alg in [ALG_ES256, ALG_EDDSA, ALG_RS256] {
        let mut att_stmt = Vec::new();
        cbor::head(&mut att_stmt, 5, 3);
        cbor::text(&mut att_stmt, "alg");
        cbor::int(&mut att_stmt, alg);
        cbor::text(&mut att_stmt, "sig");
        cbor::bytes(&mut att_stmt, &[]);
        cbor::text(&mut att_stmt, "x5c");
        cbor::head(&mut att_stmt, 4, 1);
        cbor::bytes(&mut att_stmt, data);
        let object = attestation_object("packed", &att_stmt, &auth_data);
        if object.len() > MAX_ATTESTATION_OBJECT {
            return;
        }
        match rp().verify_registration(&cdj, &object, CHALLENGE, false) {
            Err(
                WebauthnError::MalformedCertificate(_)
                // the certificate's AAGUID extension differs from the authenticator data's
                | WebauthnError::MalformedAttestationStatement(_)
                | WebauthnError::MalformedSignature
                | WebauthnError::BadSignature,
            ) => {}
            other => panic!("alg {alg}: unexpected outcome {other:?}"),
        }
    }
});
