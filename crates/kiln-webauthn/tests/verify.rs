//! Registration and assertion verification against responses built by software authenticators.

mod common;

use common::*;
use kiln_webauthn::{Assertion, CborError, RelyingParty, WebauthnError};

const CRED_ID: &[u8] = b"credential-id-0123456789";

fn all_keys() -> Vec<Key> {
    vec![es256(7), eddsa(9), rs256()]
}

// ---------------------------------------------------------------------------------------------
// Registration

#[test]
fn registration_with_none_attestation_yields_the_credential() {
    for key in all_keys() {
        let (cdj, ao, _) = register(&key, UP | UV | BE | BS, CRED_ID);
        let cred = rp()
            .verify_registration(&cdj, &ao, CHALLENGE, true)
            .unwrap_or_else(|e| panic!("alg {}: {e}", key.alg()));
        assert_eq!(cred.credential_id, CRED_ID);
        assert_eq!(cred.public_key, key.cose());
        assert_eq!(cred.algorithm, key.alg());
        assert_eq!(cred.sign_count, 0);
        assert_eq!(cred.aaguid, AAGUID);
        assert!(cred.user_verified && cred.backup_eligible && cred.backed_up);
        assert_eq!(cred.attestation_format, "none");
    }
}

#[test]
fn registration_flags_are_reported_as_set() {
    let (cdj, ao, _) = register(&es256(1), UP, CRED_ID);
    let cred = rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .unwrap();
    assert!(!cred.user_verified && !cred.backup_eligible && !cred.backed_up);
}

#[test]
fn registration_rejects_wrong_challenge() {
    let (cdj, ao, _) = register(&es256(1), UP, CRED_ID);
    let err = rp()
        .verify_registration(&cdj, &ao, b"another challenge", false)
        .unwrap_err();
    assert_eq!(err, WebauthnError::ChallengeMismatch);
}

#[test]
fn registration_rejects_wrong_origin() {
    let key = es256(1);
    let (_, ao, _) = register(&key, UP, CRED_ID);
    let cdj = client_data("webauthn.create", CHALLENGE, "http://localhost:8091");
    let err = rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .unwrap_err();
    assert_eq!(
        err,
        WebauthnError::OriginMismatch {
            origin: "http://localhost:8091".into()
        }
    );
}

#[test]
fn registration_rejects_wrong_type() {
    let (_, ao, _) = register(&es256(1), UP, CRED_ID);
    let cdj = client_data("webauthn.get", CHALLENGE, ORIGIN);
    let err = rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .unwrap_err();
    assert_eq!(
        err,
        WebauthnError::WrongType {
            expected: "webauthn.create",
            found: "webauthn.get".into()
        }
    );
}

#[test]
fn registration_rejects_wrong_rp_id() {
    let key = es256(1);
    let ad = auth_data(
        "evil.example",
        UP | AT,
        0,
        &attested(AAGUID, CRED_ID, &key.cose()),
        &[],
    );
    let ao = attestation_object("none", C::M(vec![]), &ad);
    let err = rp()
        .verify_registration(&create_data(), &ao, CHALLENGE, false)
        .unwrap_err();
    assert_eq!(err, WebauthnError::RpIdHashMismatch);

    // The same response is fine for a relying party whose id is the one signed.
    let other = RelyingParty {
        id: "evil.example".into(),
        origins: vec![ORIGIN.into()],
    };
    assert!(other
        .verify_registration(&create_data(), &ao, CHALLENGE, false)
        .is_ok());
}

#[test]
fn registration_requires_user_presence() {
    let (cdj, ao, _) = register(&es256(1), UV, CRED_ID);
    let err = rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .unwrap_err();
    assert_eq!(err, WebauthnError::UserNotPresent);
}

#[test]
fn registration_requires_user_verification_when_asked() {
    let (cdj, ao, _) = register(&es256(1), UP, CRED_ID);
    assert!(rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .is_ok());
    let err = rp()
        .verify_registration(&cdj, &ao, CHALLENGE, true)
        .unwrap_err();
    assert_eq!(err, WebauthnError::UserNotVerified);
}

#[test]
fn registration_rejects_cross_origin() {
    let (_, ao, _) = register(&es256(1), UP, CRED_ID);
    let cdj = format!(
        r#"{{"type":"webauthn.create","challenge":"{}","origin":"{ORIGIN}","crossOrigin":true,"topOrigin":"https://evil.example"}}"#,
        b64url(CHALLENGE)
    );
    let err = rp()
        .verify_registration(cdj.as_bytes(), &ao, CHALLENGE, false)
        .unwrap_err();
    assert_eq!(err, WebauthnError::CrossOrigin);
}

#[test]
fn registration_rejects_malformed_client_data() {
    let (_, ao, _) = register(&es256(1), UP, CRED_ID);
    let cases: &[&[u8]] = &[
        b"",
        b"[]",
        b"{\"type\":\"webauthn.create\"",
        b"{\"challenge\":\"AAAA\",\"origin\":\"x\"}",
        b"{\"type\":7}",
        b"\xff\xfe",
    ];
    for cdj in cases {
        let err = rp()
            .verify_registration(cdj, &ao, CHALLENGE, false)
            .unwrap_err();
        assert!(
            matches!(err, WebauthnError::MalformedClientData(_)),
            "{cdj:?}: {err:?}"
        );
    }
    // Padded base64 is not the unpadded base64url WebAuthn specifies.
    let cdj = format!(
        r#"{{"type":"webauthn.create","challenge":"{}=","origin":"{ORIGIN}"}}"#,
        b64url(b"12345")
    );
    assert!(matches!(
        rp().verify_registration(cdj.as_bytes(), &ao, b"12345", false),
        Err(WebauthnError::MalformedClientData(_))
    ));
}

#[test]
fn registration_requires_attested_credential_data() {
    let ad = auth_data(RP_ID, UP, 0, &[], &[]);
    let ao = attestation_object("none", C::M(vec![]), &ad);
    let err = rp()
        .verify_registration(&create_data(), &ao, CHALLENGE, false)
        .unwrap_err();
    assert_eq!(err, WebauthnError::MissingAttestedCredentialData);
}

#[test]
fn registration_rejects_backed_up_without_backup_eligible() {
    let (cdj, ao, _) = register(&es256(1), UP | BS, CRED_ID);
    let err = rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .unwrap_err();
    assert_eq!(err, WebauthnError::InvalidBackupFlags);
}

#[test]
fn registration_checks_credential_id_length() {
    let key = es256(1);
    let (cdj, ao, _) = register(&key, UP, &[0xab; 1023]);
    assert_eq!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap()
            .credential_id
            .len(),
        1023
    );
    let (cdj, ao, _) = register(&key, UP, &[0xab; 1024]);
    assert_eq!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::CredentialIdTooLong { len: 1024 }
    );
    let (cdj, ao, _) = register(&key, UP, &[]);
    assert!(matches!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false),
        Err(WebauthnError::MalformedAuthenticatorData(_))
    ));
}

#[test]
fn registration_rejects_trailing_bytes_but_accepts_extensions() {
    let key = es256(1);
    let att = attested(AAGUID, CRED_ID, &key.cose());
    let trailing = auth_data(RP_ID, UP | AT, 0, &att, &[0x00]);
    let ao = attestation_object("none", C::M(vec![]), &trailing);
    assert_eq!(
        rp().verify_registration(&create_data(), &ao, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::MalformedAuthenticatorData("trailing bytes")
    );

    let extensions = cbor(&C::M(vec![(C::T("credProtect"), C::U(2))]));
    let with_ext = auth_data(RP_ID, UP | AT | ED, 0, &att, &extensions);
    let ao = attestation_object("none", C::M(vec![]), &with_ext);
    assert!(rp()
        .verify_registration(&create_data(), &ao, CHALLENGE, false)
        .is_ok());

    // ED set but the extensions are not a map.
    let bad_ext = auth_data(RP_ID, UP | AT | ED, 0, &att, &cbor(&C::U(1)));
    let ao = attestation_object("none", C::M(vec![]), &bad_ext);
    assert!(matches!(
        rp().verify_registration(&create_data(), &ao, CHALLENGE, false),
        Err(WebauthnError::MalformedAuthenticatorData(_))
    ));

    // Extensions followed by more bytes.
    let mut more = extensions.clone();
    more.push(0xa0);
    let ad = auth_data(RP_ID, UP | AT | ED, 0, &att, &more);
    let ao = attestation_object("none", C::M(vec![]), &ad);
    assert!(rp()
        .verify_registration(&create_data(), &ao, CHALLENGE, false)
        .is_err());
}

fn cose_with(entries: Vec<(C, C)>) -> Vec<u8> {
    cbor(&C::M(entries))
}

fn register_cose(cose: &[u8]) -> Result<kiln_webauthn::NewCredential, WebauthnError> {
    let ad = auth_data(RP_ID, UP | AT, 0, &attested(AAGUID, CRED_ID, cose), &[]);
    let ao = attestation_object("none", C::M(vec![]), &ad);
    rp().verify_registration(&create_data(), &ao, CHALLENGE, false)
}

#[test]
fn registration_rejects_unsupported_algorithms() {
    // ES384 on P-384.
    let es384 = cose_with(vec![
        (C::U(1), C::U(2)),
        (C::U(3), C::N(-35)),
        (C::N(-1), C::U(2)),
        (C::N(-2), C::B(vec![1; 48])),
        (C::N(-3), C::B(vec![2; 48])),
    ]);
    assert_eq!(
        register_cose(&es384).unwrap_err(),
        WebauthnError::UnsupportedAlgorithm(-35)
    );
    // PS256.
    let ps256 = cose_with(vec![(C::U(1), C::U(3)), (C::U(3), C::N(-37))]);
    assert_eq!(
        register_cose(&ps256).unwrap_err(),
        WebauthnError::UnsupportedAlgorithm(-37)
    );
    // An algorithm far outside i64.
    let huge = cose_with(vec![(C::U(1), C::U(2)), (C::U(3), C::U(u64::MAX))]);
    assert!(matches!(
        register_cose(&huge).unwrap_err(),
        WebauthnError::UnsupportedAlgorithm(_)
    ));
}

#[test]
fn registration_rejects_malformed_keys() {
    let Key::Es256(sk) = es256(1) else {
        unreachable!()
    };
    let point = sk.verifying_key().to_encoded_point(false);
    let x = point.x().unwrap().to_vec();
    let y = point.y().unwrap().to_vec();
    let mut bad_y = y.clone();
    bad_y[31] ^= 1;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not a map", cbor(&C::A(vec![]))),
        ("no alg", cose_with(vec![(C::U(1), C::U(2))])),
        ("no kty", cose_with(vec![(C::U(3), C::N(-7))])),
        (
            "ES256 on P-384",
            cose_with(vec![
                (C::U(1), C::U(2)),
                (C::U(3), C::N(-7)),
                (C::N(-1), C::U(2)),
                (C::N(-2), C::B(x.clone())),
                (C::N(-3), C::B(y.clone())),
            ]),
        ),
        (
            "ES256 with kty OKP",
            cose_with(vec![
                (C::U(1), C::U(1)),
                (C::U(3), C::N(-7)),
                (C::N(-1), C::U(1)),
                (C::N(-2), C::B(x.clone())),
                (C::N(-3), C::B(y.clone())),
            ]),
        ),
        (
            "point not on curve",
            cose_with(vec![
                (C::U(1), C::U(2)),
                (C::U(3), C::N(-7)),
                (C::N(-1), C::U(1)),
                (C::N(-2), C::B(x.clone())),
                (C::N(-3), C::B(bad_y)),
            ]),
        ),
        (
            "compressed y",
            cose_with(vec![
                (C::U(1), C::U(2)),
                (C::U(3), C::N(-7)),
                (C::N(-1), C::U(1)),
                (C::N(-2), C::B(x.clone())),
                (C::N(-3), C::Bool(true)),
            ]),
        ),
        (
            "short x",
            cose_with(vec![
                (C::U(1), C::U(2)),
                (C::U(3), C::N(-7)),
                (C::N(-1), C::U(1)),
                (C::N(-2), C::B(x[1..].to_vec())),
                (C::N(-3), C::B(y.clone())),
            ]),
        ),
        (
            "EdDSA on Ed448",
            cose_with(vec![
                (C::U(1), C::U(1)),
                (C::U(3), C::N(-8)),
                (C::N(-1), C::U(7)),
                (C::N(-2), C::B(vec![0; 57])),
            ]),
        ),
        (
            "RSA-1024",
            cose_with(vec![
                (C::U(1), C::U(3)),
                (C::U(3), C::N(-257)),
                (C::N(-1), C::B(vec![0xc5; 128])),
                (C::N(-2), C::B(vec![1, 0, 1])),
            ]),
        ),
    ];
    for (name, cose) in cases {
        let err = register_cose(&cose).unwrap_err();
        assert!(
            matches!(err, WebauthnError::MalformedPublicKey(_)),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn none_attestation_with_a_statement_is_rejected() {
    let key = es256(1);
    let ad = auth_data(
        RP_ID,
        UP | AT,
        0,
        &attested(AAGUID, CRED_ID, &key.cose()),
        &[],
    );
    let stmt = C::M(vec![
        (C::T("alg"), C::N(-7)),
        (C::T("sig"), C::B(vec![1, 2, 3])),
    ]);
    let ao = attestation_object("none", stmt, &ad);
    let err = rp()
        .verify_registration(&create_data(), &ao, CHALLENGE, false)
        .unwrap_err();
    assert!(
        matches!(err, WebauthnError::MalformedAttestationStatement(_)),
        "{err:?}"
    );
}

#[test]
fn attestation_object_shape_is_checked() {
    let key = es256(1);
    let ad = auth_data(
        RP_ID,
        UP | AT,
        0,
        &attested(AAGUID, CRED_ID, &key.cose()),
        &[],
    );
    let cases = vec![
        cbor(&C::A(vec![])),
        cbor(&C::M(vec![
            (C::T("attStmt"), C::M(vec![])),
            (C::T("authData"), C::B(ad.clone())),
        ])),
        cbor(&C::M(vec![
            (C::T("fmt"), C::T("none")),
            (C::T("attStmt"), C::A(vec![])),
            (C::T("authData"), C::B(ad.clone())),
        ])),
        cbor(&C::M(vec![
            (C::T("fmt"), C::T("none")),
            (C::T("attStmt"), C::M(vec![])),
            (C::T("authData"), C::S(String::from("not bytes"))),
        ])),
        cbor(&C::M(vec![
            (C::T("fmt"), C::T("")),
            (C::T("attStmt"), C::M(vec![])),
            (C::T("authData"), C::B(ad.clone())),
        ])),
        cbor(&C::M(vec![
            (C::T("fmt"), C::T("has space")),
            (C::T("attStmt"), C::M(vec![])),
            (C::T("authData"), C::B(ad.clone())),
        ])),
    ];
    for ao in cases {
        let err = rp()
            .verify_registration(&create_data(), &ao, CHALLENGE, false)
            .unwrap_err();
        assert!(
            matches!(err, WebauthnError::MalformedAttestationObject(_)),
            "{err:?}"
        );
    }
    // Duplicate keys and trailing bytes are CBOR errors.
    let mut trailing = attestation_object("none", C::M(vec![]), &ad);
    trailing.push(0);
    assert_eq!(
        rp().verify_registration(&create_data(), &trailing, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::Cbor(CborError::TrailingBytes)
    );
    let dup = cbor(&C::M(vec![
        (C::T("fmt"), C::T("none")),
        (C::T("fmt"), C::T("none")),
        (C::T("attStmt"), C::M(vec![])),
        (C::T("authData"), C::B(ad)),
    ]));
    assert_eq!(
        rp().verify_registration(&create_data(), &dup, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::Cbor(CborError::DuplicateMapKey)
    );
}

#[test]
fn packed_self_attestation_is_verified() {
    for key in all_keys() {
        let cdj = create_data();
        let ad = auth_data(
            RP_ID,
            UP | UV | AT,
            1,
            &attested(AAGUID, CRED_ID, &key.cose()),
            &[],
        );
        let sig = key.sign(&signed(&ad, &cdj));
        let stmt =
            |alg: i64, sig: Vec<u8>| C::M(vec![(C::T("alg"), C::N(alg)), (C::T("sig"), C::B(sig))]);

        let ao = attestation_object("packed", stmt(key.alg(), sig.clone()), &ad);
        let cred = rp()
            .verify_registration(&cdj, &ao, CHALLENGE, true)
            .unwrap_or_else(|e| panic!("alg {}: {e}", key.alg()));
        assert_eq!(cred.attestation_format, "packed");
        assert_eq!(cred.sign_count, 1);

        // The signature covers clientDataJSON: another (valid) client data breaks it.
        let other_cdj = format!(
            r#"{{"type":"webauthn.create","challenge":"{}","origin":"{ORIGIN}"}}"#,
            b64url(CHALLENGE)
        );
        assert_eq!(
            rp().verify_registration(other_cdj.as_bytes(), &ao, CHALLENGE, true)
                .unwrap_err(),
            WebauthnError::BadSignature,
            "alg {}",
            key.alg()
        );

        // A signature by another key of the same algorithm.
        let other_key = match key {
            Key::Es256(_) => es256(8),
            Key::EdDsa(_) => eddsa(10),
            Key::Rs256 => continue,
        };
        let ao = attestation_object(
            "packed",
            stmt(key.alg(), other_key.sign(&signed(&ad, &cdj))),
            &ad,
        );
        assert_eq!(
            rp().verify_registration(&cdj, &ao, CHALLENGE, true)
                .unwrap_err(),
            WebauthnError::BadSignature
        );

        // alg must be the credential's own.
        let wrong_alg = if key.alg() == -7 { -8 } else { -7 };
        let ao = attestation_object("packed", stmt(wrong_alg, sig), &ad);
        assert!(matches!(
            rp().verify_registration(&cdj, &ao, CHALLENGE, true)
                .unwrap_err(),
            WebauthnError::MalformedAttestationStatement(_)
        ));
    }
}

#[test]
fn packed_statement_shape_is_checked() {
    let key = es256(1);
    let cdj = create_data();
    let ad = auth_data(
        RP_ID,
        UP | AT,
        0,
        &attested(AAGUID, CRED_ID, &key.cose()),
        &[],
    );
    let sig = key.sign(&signed(&ad, &cdj));
    let cases = vec![
        C::M(vec![]),
        C::M(vec![(C::T("sig"), C::B(sig.clone()))]),
        C::M(vec![(C::T("alg"), C::N(-7))]),
        C::M(vec![
            (C::T("alg"), C::T("ES256")),
            (C::T("sig"), C::B(sig.clone())),
        ]),
        C::M(vec![
            (C::T("alg"), C::N(-7)),
            (C::T("sig"), C::B(sig.clone())),
            (C::T("ecdaaKeyId"), C::B(vec![1])),
        ]),
        C::M(vec![
            (C::T("alg"), C::N(-7)),
            (C::T("sig"), C::B(sig.clone())),
            (C::T("extra"), C::U(1)),
        ]),
        C::M(vec![
            (C::T("alg"), C::N(-7)),
            (C::T("sig"), C::B(sig.clone())),
            (C::T("x5c"), C::A(vec![])),
        ]),
        C::M(vec![
            (C::T("alg"), C::N(-7)),
            (C::T("sig"), C::B(sig.clone())),
            (C::T("x5c"), C::B(vec![])),
        ]),
    ];
    for stmt in cases {
        let ao = attestation_object("packed", stmt.clone(), &ad);
        let err = rp()
            .verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap_err();
        assert!(
            matches!(err, WebauthnError::MalformedAttestationStatement(_)),
            "{stmt:?}: {err:?}"
        );
    }
    let ao = attestation_object(
        "packed",
        C::M(vec![
            (C::T("alg"), C::N(-7)),
            (C::T("sig"), C::B(b"not DER".to_vec())),
        ]),
        &ad,
    );
    assert_eq!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::MalformedSignature
    );
}

#[test]
fn packed_full_attestation_uses_the_certificate_key() {
    // The credential is EdDSA; the attestation key is a separate P-256 key in a certificate.
    let credential = eddsa(3);
    let Key::Es256(attestation_sk) = es256(4) else {
        unreachable!()
    };
    let attestation_key = Key::Es256(attestation_sk.clone());
    let point = attestation_sk.verifying_key().to_encoded_point(false);
    let cdj = create_data();
    let ad = auth_data(
        RP_ID,
        UP | AT,
        0,
        &attested(AAGUID, CRED_ID, &credential.cose()),
        &[],
    );
    let stmt = |sig: Vec<u8>, cert: Vec<u8>| {
        C::M(vec![
            (C::T("alg"), C::N(-7)),
            (C::T("sig"), C::B(sig)),
            (
                C::T("x5c"),
                C::A(vec![C::B(cert), C::B(b"intermediate, not parsed".to_vec())]),
            ),
        ])
    };
    let good_sig = attestation_key.sign(&signed(&ad, &cdj));

    let cert = p256_certificate(point.as_bytes(), Some(AAGUID));
    let ao = attestation_object("packed", stmt(good_sig.clone(), cert.clone()), &ad);
    let cred = rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .unwrap();
    assert_eq!(cred.algorithm, -8);
    assert_eq!(cred.attestation_format, "packed");

    // Without the AAGUID extension it verifies too.
    let plain_cert = p256_certificate(point.as_bytes(), None);
    let ao = attestation_object("packed", stmt(good_sig.clone(), plain_cert), &ad);
    assert!(rp()
        .verify_registration(&cdj, &ao, CHALLENGE, false)
        .is_ok());

    // A signature by the credential key is not one by the certificate's key.
    let ao = attestation_object(
        "packed",
        stmt(es256(5).sign(&signed(&ad, &cdj)), cert.clone()),
        &ad,
    );
    assert_eq!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::BadSignature
    );

    // The certificate names another authenticator model.
    let other_model = p256_certificate(point.as_bytes(), Some(*b"another-aaguid!!"));
    let ao = attestation_object("packed", stmt(good_sig.clone(), other_model), &ad);
    assert!(matches!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::MalformedAttestationStatement(_)
    ));

    // Garbage instead of a certificate.
    let ao = attestation_object(
        "packed",
        stmt(good_sig.clone(), cert[..cert.len() - 1].to_vec()),
        &ad,
    );
    assert!(matches!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::MalformedCertificate(_)
    ));

    // alg says EdDSA but the certificate holds a P-256 key.
    let ao = attestation_object(
        "packed",
        C::M(vec![
            (C::T("alg"), C::N(-8)),
            (C::T("sig"), C::B(good_sig)),
            (C::T("x5c"), C::A(vec![C::B(cert)])),
        ]),
        &ad,
    );
    assert!(matches!(
        rp().verify_registration(&cdj, &ao, CHALLENGE, false)
            .unwrap_err(),
        WebauthnError::MalformedCertificate(_)
    ));
}

#[test]
fn other_attestation_formats_are_recorded_not_verified() {
    let key = es256(1);
    let ad = auth_data(
        RP_ID,
        UP | AT,
        0,
        &attested(AAGUID, CRED_ID, &key.cose()),
        &[],
    );
    let stmt = C::M(vec![
        (C::T("ver"), C::T("2.0")),
        (C::T("sig"), C::B(vec![0; 8])),
    ]);
    let ao = attestation_object("tpm", stmt, &ad);
    let cred = rp()
        .verify_registration(&create_data(), &ao, CHALLENGE, false)
        .unwrap();
    assert_eq!(cred.attestation_format, "tpm");
}

#[test]
fn inputs_over_their_limits_are_refused() {
    let (cdj, ao, _) = register(&es256(1), UP, CRED_ID);
    let big_cdj = vec![b' '; kiln_webauthn::MAX_CLIENT_DATA_JSON + 1];
    assert!(matches!(
        rp().verify_registration(&big_cdj, &ao, CHALLENGE, false),
        Err(WebauthnError::InputTooLarge {
            input: "clientDataJSON",
            ..
        })
    ));
    let big_ao = vec![0u8; kiln_webauthn::MAX_ATTESTATION_OBJECT + 1];
    assert!(matches!(
        rp().verify_registration(&cdj, &big_ao, CHALLENGE, false),
        Err(WebauthnError::InputTooLarge {
            input: "attestationObject",
            ..
        })
    ));
    assert_eq!(
        rp().verify_registration(&cdj, &ao, b"", false).unwrap_err(),
        WebauthnError::InvalidExpectedChallenge
    );
    let key = es256(1);
    let (cdj, ad, sig) = assert_with(&key, get_data(), UP, 1);
    let cose = key.cose();
    let big_sig = vec![0u8; kiln_webauthn::MAX_SIGNATURE + 1];
    assert!(matches!(
        rp().verify_assertion(&cdj, &ad, &big_sig, CHALLENGE, &cose, 0, false),
        Err(WebauthnError::InputTooLarge {
            input: "signature",
            ..
        })
    ));
    let big_ad = vec![0u8; kiln_webauthn::MAX_AUTHENTICATOR_DATA + 1];
    assert!(matches!(
        rp().verify_assertion(&cdj, &big_ad, &sig, CHALLENGE, &cose, 0, false),
        Err(WebauthnError::InputTooLarge {
            input: "authenticatorData",
            ..
        })
    ));
    let big_key = vec![0u8; kiln_webauthn::MAX_PUBLIC_KEY + 1];
    assert!(matches!(
        rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &big_key, 0, false),
        Err(WebauthnError::InputTooLarge {
            input: "publicKey",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Assertion

#[test]
fn registered_credentials_authenticate() {
    for key in all_keys() {
        let (cdj, ao, _) = register(&key, UP | UV | BE, CRED_ID);
        let cred = rp()
            .verify_registration(&cdj, &ao, CHALLENGE, true)
            .unwrap();
        let (cdj, ad, sig) = assert_with(&key, get_data(), UP | UV | BE | BS, 5);
        let got = rp()
            .verify_assertion(
                &cdj,
                &ad,
                &sig,
                CHALLENGE,
                &cred.public_key,
                cred.sign_count,
                true,
            )
            .unwrap_or_else(|e| panic!("alg {}: {e}", key.alg()));
        assert_eq!(
            got,
            Assertion {
                sign_count: 5,
                user_verified: true,
                backed_up: true
            }
        );
    }
}

#[test]
fn assertion_rejects_wrong_challenge_origin_type_and_rp() {
    let key = es256(2);
    let cose = key.cose();
    let check = |cdj: Vec<u8>, ad_rp: &str| {
        let ad = auth_data(ad_rp, UP, 1, &[], &[]);
        let sig = key.sign(&signed(&ad, &cdj));
        rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cose, 0, false)
    };
    assert!(check(get_data(), RP_ID).is_ok());
    assert_eq!(
        check(
            client_data("webauthn.get", b"stale challenge", ORIGIN),
            RP_ID
        )
        .unwrap_err(),
        WebauthnError::ChallengeMismatch
    );
    assert_eq!(
        check(
            client_data("webauthn.get", CHALLENGE, "https://evil.example"),
            RP_ID
        )
        .unwrap_err(),
        WebauthnError::OriginMismatch {
            origin: "https://evil.example".into()
        }
    );
    assert_eq!(
        check(client_data("webauthn.create", CHALLENGE, ORIGIN), RP_ID).unwrap_err(),
        WebauthnError::WrongType {
            expected: "webauthn.get",
            found: "webauthn.create".into()
        }
    );
    assert_eq!(
        check(get_data(), "example.com").unwrap_err(),
        WebauthnError::RpIdHashMismatch
    );
}

#[test]
fn assertion_checks_presence_verification_and_backup_flags() {
    let key = eddsa(2);
    let cose = key.cose();
    let run = |flags: u8, require_uv: bool| {
        let (cdj, ad, sig) = assert_with(&key, get_data(), flags, 0);
        rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cose, 0, require_uv)
    };
    assert_eq!(run(UV, false).unwrap_err(), WebauthnError::UserNotPresent);
    assert_eq!(run(UP, true).unwrap_err(), WebauthnError::UserNotVerified);
    assert!(!run(UP, false).unwrap().user_verified);
    assert!(run(UP | UV, true).unwrap().user_verified);
    assert_eq!(
        run(UP | BS, false).unwrap_err(),
        WebauthnError::InvalidBackupFlags
    );
    assert!(!run(UP | BE, false).unwrap().backed_up);
}

#[test]
fn tampered_assertions_fail() {
    for key in all_keys() {
        let cose = key.cose();
        let (cdj, ad, sig) = assert_with(&key, get_data(), UP, 3);
        assert!(rp()
            .verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cose, 0, false)
            .is_ok());

        // Any flipped signature bit.
        for i in [0, sig.len() / 2, sig.len() - 1] {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            let err = rp()
                .verify_assertion(&cdj, &ad, &bad, CHALLENGE, &cose, 0, false)
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    WebauthnError::BadSignature | WebauthnError::MalformedSignature
                ),
                "alg {} byte {i}: {err:?}",
                key.alg()
            );
        }
        // A raised counter in the authenticator data.
        let mut bad_ad = ad.clone();
        bad_ad[36] = 0x09;
        assert_eq!(
            rp().verify_assertion(&cdj, &bad_ad, &sig, CHALLENGE, &cose, 0, false)
                .unwrap_err(),
            WebauthnError::BadSignature
        );
        // A UV flag added after signing.
        let mut bad_ad = ad.clone();
        bad_ad[32] |= UV;
        assert_eq!(
            rp().verify_assertion(&cdj, &bad_ad, &sig, CHALLENGE, &cose, 0, true)
                .unwrap_err(),
            WebauthnError::BadSignature
        );
        // Other client data with the same challenge and origin.
        let other_cdj = format!(
            r#"{{"type":"webauthn.get","challenge":"{}","origin":"{ORIGIN}"}}"#,
            b64url(CHALLENGE)
        );
        assert_eq!(
            rp().verify_assertion(other_cdj.as_bytes(), &ad, &sig, CHALLENGE, &cose, 0, false)
                .unwrap_err(),
            WebauthnError::BadSignature
        );
        // Another credential's key.
        let other = match key {
            Key::Es256(_) => es256(99),
            Key::EdDsa(_) => eddsa(99),
            Key::Rs256 => es256(99),
        };
        let err = rp()
            .verify_assertion(&cdj, &ad, &sig, CHALLENGE, &other.cose(), 0, false)
            .unwrap_err();
        assert!(
            matches!(
                err,
                WebauthnError::BadSignature | WebauthnError::MalformedSignature
            ),
            "{err:?}"
        );
        // An empty signature.
        assert_eq!(
            rp().verify_assertion(&cdj, &ad, &[], CHALLENGE, &cose, 0, false)
                .unwrap_err(),
            WebauthnError::MalformedSignature
        );
    }
}

#[test]
fn high_s_ecdsa_signatures_verify() {
    // WebAuthn does not require low-S ECDSA signatures; authenticators emit both.
    let Key::Es256(sk) = es256(6) else {
        unreachable!()
    };
    let key = Key::Es256(sk.clone());
    let (cdj, ad, _) = assert_with(&key, get_data(), UP, 0);
    use p256::ecdsa::signature::Signer;
    let sig: p256::ecdsa::Signature = sk.sign(&signed(&ad, &cdj));
    let (r, s) = sig.split_scalars();
    let flipped = p256::ecdsa::Signature::from_scalars(r, -s).unwrap();
    assert!(flipped.normalize_s().is_some() != sig.normalize_s().is_some());
    for sig in [sig, flipped] {
        let der = sig.to_der().as_bytes().to_vec();
        assert!(rp()
            .verify_assertion(&cdj, &ad, &der, CHALLENGE, &key.cose(), 0, false)
            .is_ok());
    }
}

#[test]
fn counter_must_increase_when_both_are_nonzero() {
    let key = es256(2);
    let cose = key.cose();
    let run = |stored: u32, new: u32| {
        let (cdj, ad, sig) = assert_with(&key, get_data(), UP, new);
        rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cose, stored, false)
    };
    assert_eq!(run(10, 11).unwrap().sign_count, 11);
    assert_eq!(
        run(10, 10).unwrap_err(),
        WebauthnError::CounterRegression {
            stored: 10,
            received: 10
        }
    );
    assert_eq!(
        run(10, 3).unwrap_err(),
        WebauthnError::CounterRegression {
            stored: 10,
            received: 3
        }
    );
    assert_eq!(run(0, 0).unwrap().sign_count, 0);
    assert_eq!(run(0, 7).unwrap().sign_count, 7);
    assert_eq!(run(7, 0).unwrap().sign_count, 0);
    assert_eq!(run(u32::MAX - 1, u32::MAX).unwrap().sign_count, u32::MAX);
}

#[test]
fn assertion_rejects_attested_credential_data_and_bad_stored_keys() {
    let key = es256(2);
    let cose = key.cose();
    let cdj = get_data();
    let ad = auth_data(RP_ID, UP | AT, 1, &attested(AAGUID, CRED_ID, &cose), &[]);
    let sig = key.sign(&signed(&ad, &cdj));
    assert_eq!(
        rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cose, 0, false)
            .unwrap_err(),
        WebauthnError::UnexpectedAttestedCredentialData
    );

    let (cdj, ad, sig) = assert_with(&key, get_data(), UP, 1);
    let mut trailing_key = cose.clone();
    trailing_key.push(0);
    assert_eq!(
        rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &trailing_key, 0, false)
            .unwrap_err(),
        WebauthnError::Cbor(CborError::TrailingBytes)
    );
    assert!(matches!(
        rp().verify_assertion(&cdj, &ad, &sig, CHALLENGE, &cbor(&C::U(3)), 0, false),
        Err(WebauthnError::MalformedPublicKey(_))
    ));
    assert!(rp()
        .verify_assertion(&cdj, &ad[..36], &sig, CHALLENGE, &cose, 0, false)
        .is_err());
}

#[test]
fn errors_display_their_reason() {
    let cases = [
        (WebauthnError::ChallengeMismatch, "challenge"),
        (
            WebauthnError::CounterRegression {
                stored: 4,
                received: 2,
            },
            "cloned",
        ),
        (WebauthnError::UnsupportedAlgorithm(-35), "-35"),
        (WebauthnError::Cbor(CborError::TooDeep), "nesting"),
        (
            WebauthnError::OriginMismatch {
                origin: "https://x".into(),
            },
            "https://x",
        ),
    ];
    for (err, needle) in cases {
        assert!(err.to_string().contains(needle), "{err}");
    }
    let err: Box<dyn std::error::Error> = Box::new(WebauthnError::Cbor(CborError::UnexpectedEnd));
    assert!(err.source().is_some());
}
