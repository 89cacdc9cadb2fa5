//! No input makes verification panic: random bytes, truncations and single-byte corruptions of
//! valid responses all come back as `Err` (or, for harmless corruptions, `Ok`).

mod common;

use common::*;
use proptest::prelude::*;

fn valid_registration() -> (Vec<u8>, Vec<u8>) {
    // Packed self attestation with extensions, so every parser runs.
    let key = es256(1);
    let cdj = create_data();
    let extensions = cbor(&C::M(vec![(C::T("credProtect"), C::U(2))]));
    let ad = auth_data(
        RP_ID,
        UP | UV | AT | ED,
        0,
        &attested(AAGUID, b"credential-id-0123", &key.cose()),
        &extensions,
    );
    let sig = key.sign(&signed(&ad, &cdj));
    let ao = attestation_object(
        "packed",
        C::M(vec![(C::T("alg"), C::N(-7)), (C::T("sig"), C::B(sig))]),
        &ad,
    );
    (cdj, ao)
}

#[test]
fn every_truncation_of_an_attestation_object_is_rejected() {
    let (cdj, ao) = valid_registration();
    assert!(rp().verify_registration(&cdj, &ao, CHALLENGE, true).is_ok());
    for len in 0..ao.len() {
        assert!(
            rp().verify_registration(&cdj, &ao[..len], CHALLENGE, true)
                .is_err(),
            "truncated to {len}"
        );
    }
}

#[test]
fn every_single_byte_corruption_of_an_attestation_object_is_handled() {
    let (cdj, ao) = valid_registration();
    for i in 0..ao.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = ao.clone();
            bad[i] ^= flip;
            let _ = rp().verify_registration(&cdj, &bad, CHALLENGE, true);
        }
    }
}

#[test]
fn every_truncation_and_corruption_of_an_assertion_is_handled() {
    for key in [es256(3), eddsa(3)] {
        let cose = key.cose();
        let (cdj, ad, sig) = assert_with(&key, get_data(), UP, 9);
        assert!(rp()
            .verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cose, 0, false)
            .is_ok());
        for len in 0..ad.len() {
            assert!(rp()
                .verify_assertion(&cdj, &ad[..len], &sig, CHALLENGE, &cose, 0, false)
                .is_err());
        }
        for len in 0..sig.len() {
            assert!(rp()
                .verify_assertion(&cdj, &ad, &sig[..len], CHALLENGE, &cose, 0, false)
                .is_err());
        }
        for len in 0..cose.len() {
            assert!(rp()
                .verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cose[..len], 0, false)
                .is_err());
        }
        for len in 0..cdj.len() {
            assert!(rp()
                .verify_assertion(&cdj[..len], &ad, &sig, CHALLENGE, &cose, 0, false)
                .is_err());
        }
        for i in 0..cose.len() {
            let mut bad = cose.clone();
            bad[i] ^= 0x21;
            assert!(rp()
                .verify_assertion(&cdj, &ad, &sig, CHALLENGE, &bad, 0, false)
                .is_err());
        }
    }
}

#[test]
fn adversarial_cbor_shapes_are_rejected_quickly() {
    let cdj = create_data();
    let cases: Vec<Vec<u8>> = vec![
        vec![0x81; 16 * 1024],                               // deep arrays
        vec![0xa1; 16 * 1024],                               // deep maps
        [vec![0x9b], vec![0xff; 8]].concat(),                // huge array count
        [vec![0x5b], vec![0x7f; 8]].concat(),                // huge byte string
        [vec![0xb9, 0x01, 0x00], vec![0x00; 512]].concat(),  // map of duplicate keys
        [vec![0x99, 0x04, 0x00], vec![0xf6; 1024]].concat(), // wide array
        vec![0x5f, 0x41, 0x00, 0xff],                        // indefinite bytes
        vec![0xc2, 0x41, 0x00],                              // tag
        vec![0xfb, 0, 0, 0, 0, 0, 0, 0, 0],                  // float
    ];
    for ao in cases {
        assert!(rp()
            .verify_registration(&cdj, &ao, CHALLENGE, false)
            .is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_attestation_objects_do_not_panic(ao in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(rp().verify_registration(&create_data(), &ao, CHALLENGE, false).is_err());
    }

    #[test]
    fn random_cbor_inside_a_valid_envelope_does_not_panic(
        auth in proptest::collection::vec(any::<u8>(), 0..512),
        stmt in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        // A well-formed attestation object around random authData bytes and a random attStmt.
        let mut ao = cbor(&C::M(vec![
            (C::T("fmt"), C::T("packed")),
            (C::T("authData"), C::B(auth)),
        ]));
        ao[0] = 0xa3;
        ao.extend(cbor(&C::T("attStmt")));
        ao.extend(stmt);
        let _ = rp().verify_registration(&create_data(), &ao, CHALLENGE, false);
    }

    #[test]
    fn random_authenticator_data_with_attested_prefix_does_not_panic(
        flags in any::<u8>(),
        tail in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let ad = auth_data(RP_ID, flags, 1, &tail, &[]);
        let ao = attestation_object("none", C::M(vec![]), &ad);
        let _ = rp().verify_registration(&create_data(), &ao, CHALLENGE, false);
        let key = es256(1);
        let _ = rp().verify_assertion(&get_data(), &ad, &[0x30, 0x00], CHALLENGE, &key.cose(), 0, false);
    }

    #[test]
    fn random_assertion_inputs_do_not_panic(
        cdj in proptest::collection::vec(any::<u8>(), 0..256),
        ad in proptest::collection::vec(any::<u8>(), 0..256),
        sig in proptest::collection::vec(any::<u8>(), 0..128),
        key in proptest::collection::vec(any::<u8>(), 0..256),
        stored in any::<u32>(),
        uv in any::<bool>(),
    ) {
        let _ = rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &key, stored, uv);
        let _ = rp().verify_assertion(&get_data(), &ad, &sig, CHALLENGE, &key, stored, uv);
        let _ = rp().verify_assertion(&get_data(), &ad, &sig, CHALLENGE, &es256(1).cose(), stored, uv);
    }

    #[test]
    fn random_client_data_does_not_panic(cdj in "\\PC{0,200}") {
        let (_, ao, _) = register(&es256(1), UP, b"credential-id");
        let _ = rp().verify_registration(cdj.as_bytes(), &ao, CHALLENGE, false);
    }
}
