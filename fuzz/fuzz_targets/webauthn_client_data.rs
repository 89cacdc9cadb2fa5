//! Fuzzes `clientDataJSON` checking in both ceremonies (with a valid "none" attestation object
//! and a valid assertion around it). No input may panic, and a registration may only succeed
//! when the client data is a JSON object whose type, challenge and origin are the expected ones
//! and whose crossOrigin is not true.
//!
//! Run: `scripts/fuzz 60 webauthn_client_data`.

#![no_main]

use kiln_fuzz::{
    assertion_auth_data, es256_key, es256_signature, none_attestation_object, rp, CHALLENGE,
    CHALLENGE_B64,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    let rp = rp();
    if rp
        .verify_registration(data, &none_attestation_object(), CHALLENGE, false)
        .is_ok()
    {
        let json: Value = serde_json::from_slice(data).expect("accepted client data is JSON");
        let object = json.as_object().expect("accepted client data is an object");
        assert_eq!(object["type"], "webauthn.create");
        assert_eq!(object["challenge"], CHALLENGE_B64);
        let origin = object["origin"].as_str().expect("origin is a string");
        assert!(rp.origins.iter().any(|o| o == origin));
        assert!(matches!(
            object.get("crossOrigin"),
            None | Some(Value::Bool(false))
        ));
    }
    let _ = rp.verify_assertion(
        data,
        &assertion_auth_data(),
        &es256_signature(),
        CHALLENGE,
        &es256_key(),
        0,
        false,
    );
});
