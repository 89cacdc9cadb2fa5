//! Fuzzes COSE_Key parsing (and the signature encodings checked with the key) through
//! `RelyingParty::verify_assertion`: the client data and authenticator data are valid, the
//! stored public key and the signature come from the input (two length bytes, then the key,
//! then the signature). No input may panic, and every refusal must be about the key or the
//! signature, never about the fixed parts (which would mean this target stopped reaching them).
//!
//! Run: `scripts/fuzz 60 webauthn_cose`.

#![no_main]

use kiln_fuzz::{assertion_auth_data, client_data, rp, split2, CHALLENGE};
use kiln_webauthn::{WebauthnError, MAX_PUBLIC_KEY, MAX_SIGNATURE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    let (key, signature) = split2(data);
    let result = rp().verify_assertion(
        &client_data("webauthn.get"),
        &assertion_auth_data(),
        signature,
        CHALLENGE,
        key,
        0,
        false,
    );
    if key.len() <= MAX_PUBLIC_KEY && signature.len() <= MAX_SIGNATURE {
        match result {
            Err(
                WebauthnError::Cbor(_)
                | WebauthnError::MalformedPublicKey(_)
                | WebauthnError::UnsupportedAlgorithm(_)
                | WebauthnError::MalformedSignature
                | WebauthnError::BadSignature,
            ) => {}
            // A signature by the fuzzer's own key over this exact message: not a bug.
            Ok(_) => {}
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
});
