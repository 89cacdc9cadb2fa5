//! Fuzzes kiln-webauthn's CBOR decoder (attestation objects, COSE keys, extension maps) through
//! its hidden entry point: no input may panic, an item never claims more bytes than the input
//! has, and the bytes it claims decode, on their own, to the same item.
//!
//! Run: `scripts/fuzz 60 webauthn_cbor`.

#![no_main]

use kiln_webauthn::fuzz_cbor_decode_prefix as decode_prefix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    if let Ok((item, used)) = decode_prefix(data) {
        assert!(
            used >= 1 && used <= data.len(),
            "used {used} of {} bytes",
            data.len()
        );
        assert_eq!(
            decode_prefix(&data[..used]),
            Ok((item, used)),
            "the item's own bytes decode differently"
        );
    }
});
