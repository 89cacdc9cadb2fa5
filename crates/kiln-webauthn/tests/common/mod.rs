//! Test helpers: a tiny CBOR encoder, authenticator data / client data / attestation object
//! builders, and software authenticators for ES256, EdDSA and RS256.

#![allow(dead_code)]

use base64::Engine as _;
use kiln_webauthn::RelyingParty;
use sha2::{Digest, Sha256};

pub const RP_ID: &str = "localhost";
pub const ORIGIN: &str = "http://localhost:8090";
pub const CHALLENGE: &[u8] = b"0123456789abcdef-challenge";
pub const AAGUID: [u8; 16] = *b"kiln-test-aaguid";

pub const UP: u8 = 0x01;
pub const UV: u8 = 0x04;
pub const BE: u8 = 0x08;
pub const BS: u8 = 0x10;
pub const AT: u8 = 0x40;
pub const ED: u8 = 0x80;

pub fn rp() -> RelyingParty {
    RelyingParty {
        id: RP_ID.into(),
        origins: vec!["https://example.com".into(), ORIGIN.into()],
    }
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("test vector is base64url")
}

// ---------------------------------------------------------------------------------------------
// CBOR encoding

/// A CBOR item to encode.
#[derive(Clone, Debug)]
pub enum C {
    U(u64),
    N(i64),
    B(Vec<u8>),
    T(&'static str),
    S(String),
    A(Vec<C>),
    M(Vec<(C, C)>),
    Bool(bool),
    Null,
}

fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if arg < 24 {
        out.push(m | arg as u8);
    } else if arg <= 0xff {
        out.extend([m | 24, arg as u8]);
    } else if arg <= 0xffff {
        out.push(m | 25);
        out.extend((arg as u16).to_be_bytes());
    } else if arg <= 0xffff_ffff {
        out.push(m | 26);
        out.extend((arg as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend(arg.to_be_bytes());
    }
}

pub fn cbor(item: &C) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out, item);
    out
}

fn encode(out: &mut Vec<u8>, item: &C) {
    match item {
        C::U(n) => head(out, 0, *n),
        C::N(n) if *n >= 0 => head(out, 0, *n as u64),
        C::N(n) => head(out, 1, (-1 - *n) as u64),
        C::B(b) => {
            head(out, 2, b.len() as u64);
            out.extend(b);
        }
        C::T(t) => {
            head(out, 3, t.len() as u64);
            out.extend(t.as_bytes());
        }
        C::S(t) => {
            head(out, 3, t.len() as u64);
            out.extend(t.as_bytes());
        }
        C::A(items) => {
            head(out, 4, items.len() as u64);
            for i in items {
                encode(out, i);
            }
        }
        C::M(entries) => {
            head(out, 5, entries.len() as u64);
            for (k, v) in entries {
                encode(out, k);
                encode(out, v);
            }
        }
        C::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        C::Null => out.push(0xf6),
    }
}

// ---------------------------------------------------------------------------------------------
// WebAuthn structures

pub fn client_data(ty: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"{ty}","challenge":"{}","origin":"{origin}","crossOrigin":false}}"#,
        b64url(challenge)
    )
    .into_bytes()
}

pub fn create_data() -> Vec<u8> {
    client_data("webauthn.create", CHALLENGE, ORIGIN)
}

pub fn get_data() -> Vec<u8> {
    client_data("webauthn.get", CHALLENGE, ORIGIN)
}

/// Authenticator data: rpIdHash, flags, count, then the given attested credential data and
/// extension bytes verbatim.
pub fn auth_data(
    rp_id: &str,
    flags: u8,
    count: u32,
    attested: &[u8],
    extensions: &[u8],
) -> Vec<u8> {
    let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
    out.push(flags);
    out.extend(count.to_be_bytes());
    out.extend(attested);
    out.extend(extensions);
    out
}

/// Attested credential data: aaguid, credential id length and id, COSE key.
pub fn attested(aaguid: [u8; 16], credential_id: &[u8], cose_key: &[u8]) -> Vec<u8> {
    let mut out = aaguid.to_vec();
    out.extend((credential_id.len() as u16).to_be_bytes());
    out.extend(credential_id);
    out.extend(cose_key);
    out
}

pub fn attestation_object(fmt: &'static str, att_stmt: C, auth_data: &[u8]) -> Vec<u8> {
    cbor(&C::M(vec![
        (C::T("fmt"), C::T(fmt)),
        (C::T("attStmt"), att_stmt),
        (C::T("authData"), C::B(auth_data.to_vec())),
    ]))
}

/// What both ceremonies sign.
pub fn signed(auth_data: &[u8], client_data_json: &[u8]) -> Vec<u8> {
    let mut out = auth_data.to_vec();
    out.extend(Sha256::digest(client_data_json));
    out
}

// ---------------------------------------------------------------------------------------------
// Software authenticators

/// A signing key of one of the supported algorithms.
pub enum Key {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
    Rs256,
}

pub fn es256(seed: u8) -> Key {
    Key::Es256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("valid scalar"))
}

pub fn eddsa(seed: u8) -> Key {
    Key::EdDsa(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
}

pub fn rs256() -> Key {
    Key::Rs256
}

/// A fixed 2048-bit RSA test key (generated once with openssl for these tests).
const RSA_N: &str = "d3c13254cce769e026f773c844b8b68e0f9b49c75604262fac79f3e32b037721770fd1748a5842e22852720954ad61b4d7ef5f3a300be1329bfe89485c92e1cb2a69d44af3bf6f16332f3dac3c22acd60ebe9241da9881fcac5810df1d541ace70ebe6ec6e161c88d18b5788371c60a899cbde26b9544096549a4d0ed3bf448c85866688cd444e8277d1ebc6535676024f3d3d48c0d09a3ebbffc8f9088730ea4740a761c6e2806c74e1509eb7d5d84c2e6943f1855b876c4fcac1c9e8e74856367417742b48d04bcf56109bf99ef12944da66ccb4cbe31c9ad01ae802a1e66c2111b2893c67db5119238cc69b9c2360ec53731d27439a417d86b19b51204fe3";
const RSA_D: &str = "691ea173c37ca5eca6ab7508d844b22b77c7e92a51a321a9ccff8579226348028eee85564b4f61748ffbcdaca022aa3c726ddc623073d549a0730d87a49d2e06037a21ef4b6d9f21f02ae57cd9258593862248ccf44d7d4a07ec7803aab593d123f197e38b0ae30370b2b1b36758690b89bdd0fc7c483cffe3e3ed990cb908b7aa6ef120a91e13d0c8d7719b50390bc66c5e8c41eb28282059c796da4e8718c9d81dd00613826acd201455019c038ef8968520e3d8a89cb7f4fd13ac37ab913fe74bfef4f99d272a650f76d3c8d7dfdbd5bb61e151df2b011801dde2eafd59bda22dc5767ce144e9805dddb14e40f2da604554757a2498776bf7838bef289b71";

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

impl Key {
    pub fn alg(&self) -> i64 {
        match self {
            Key::Es256(_) => -7,
            Key::EdDsa(_) => -8,
            Key::Rs256 => -257,
        }
    }

    /// The COSE_Key encoding of the public key.
    pub fn cose(&self) -> Vec<u8> {
        match self {
            Key::Es256(sk) => {
                let point = sk.verifying_key().to_encoded_point(false);
                cbor(&C::M(vec![
                    (C::U(1), C::U(2)),
                    (C::U(3), C::N(-7)),
                    (C::N(-1), C::U(1)),
                    (C::N(-2), C::B(point.x().unwrap().to_vec())),
                    (C::N(-3), C::B(point.y().unwrap().to_vec())),
                ]))
            }
            Key::EdDsa(sk) => cbor(&C::M(vec![
                (C::U(1), C::U(1)),
                (C::U(3), C::N(-8)),
                (C::N(-1), C::U(6)),
                (C::N(-2), C::B(sk.verifying_key().to_bytes().to_vec())),
            ])),
            Key::Rs256 => cbor(&C::M(vec![
                (C::U(1), C::U(3)),
                (C::U(3), C::N(-257)),
                (C::N(-1), C::B(hex(RSA_N))),
                (C::N(-2), C::B(vec![1, 0, 1])),
            ])),
        }
    }

    /// Signs as WebAuthn encodes each algorithm's signatures.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Key::Es256(sk) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = sk.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Key::EdDsa(sk) => {
                use ed25519_dalek::Signer;
                sk.sign(message).to_bytes().to_vec()
            }
            Key::Rs256 => {
                // EMSA-PKCS1-v1_5 with SHA-256, then m^d mod n, written out by hand.
                let n = hex(RSA_N);
                let digest_info = hex("3031300d060960864801650304020105000420");
                let mut em = vec![0x00, 0x01];
                em.resize(n.len() - digest_info.len() - 32 - 1, 0xff);
                em.push(0x00);
                em.extend(digest_info);
                em.extend(Sha256::digest(message));
                let m = rsa::BigUint::from_bytes_be(&em);
                let s = m.modpow(
                    &rsa::BigUint::from_bytes_be(&hex(RSA_D)),
                    &rsa::BigUint::from_bytes_be(&n),
                );
                let mut sig = s.to_bytes_be();
                while sig.len() < n.len() {
                    sig.insert(0, 0);
                }
                sig
            }
        }
    }
}

/// A complete registration made by `key`: (clientDataJSON, attestationObject, authData) with
/// "none" attestation.
pub fn register(key: &Key, flags: u8, credential_id: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let cdj = create_data();
    let ad = auth_data(
        RP_ID,
        flags | AT,
        0,
        &attested(AAGUID, credential_id, &key.cose()),
        &[],
    );
    let ao = attestation_object("none", C::M(vec![]), &ad);
    (cdj, ao, ad)
}

/// A complete assertion made by `key`: (clientDataJSON, authenticatorData, signature).
pub fn assert_with(key: &Key, cdj: Vec<u8>, flags: u8, count: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let ad = auth_data(RP_ID, flags, count, &[], &[]);
    let sig = key.sign(&signed(&ad, &cdj));
    (cdj, ad, sig)
}

// ---------------------------------------------------------------------------------------------
// Minimal DER for a hand-made attestation certificate

pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend(content);
    out
}

pub fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A syntactically valid X.509 certificate for a P-256 public key (SEC1 point), with an
/// id-fido-gen-ce-aaguid extension when `aaguid` is given. Its own signature is a placeholder:
/// the crate does not validate certificate chains.
pub fn p256_certificate(point: &[u8], aaguid: Option<[u8; 16]>) -> Vec<u8> {
    let oid_ecdsa_sha256 = der(0x06, &hex("2a8648ce3d040302"));
    let alg = der(0x30, &oid_ecdsa_sha256);
    let name = der(
        0x30,
        &der(
            0x31,
            &der(
                0x30,
                &cat(&[der(0x06, &hex("550403")), der(0x0c, b"Kiln test")]),
            ),
        ),
    );
    let validity = der(
        0x30,
        &cat(&[der(0x17, b"200101000000Z"), der(0x17, b"400101000000Z")]),
    );
    let mut bits = vec![0u8];
    bits.extend(point);
    let spki = der(
        0x30,
        &cat(&[
            der(
                0x30,
                &cat(&[
                    der(0x06, &hex("2a8648ce3d0201")),
                    der(0x06, &hex("2a8648ce3d030107")),
                ]),
            ),
            der(0x03, &bits),
        ]),
    );
    let mut tbs_parts = vec![
        der(0xa0, &der(0x02, &[2])),
        der(0x02, &[0x01, 0x23]),
        alg.clone(),
        name.clone(),
        validity,
        name,
        spki,
    ];
    let basic_constraints = der(
        0x30,
        &cat(&[
            der(0x06, &hex("551d13")),
            der(0x01, &[0xff]),
            der(0x04, &der(0x30, &[])),
        ]),
    );
    let mut extensions = vec![basic_constraints];
    if let Some(aaguid) = aaguid {
        extensions.push(der(
            0x30,
            &cat(&[
                der(0x06, &hex("2b0601040182e51c010104")),
                der(0x04, &der(0x04, &aaguid)),
            ]),
        ));
    }
    tbs_parts.push(der(0xa3, &der(0x30, &cat(&extensions))));
    let tbs = der(0x30, &cat(&tbs_parts));
    der(0x30, &cat(&[tbs, alg, der(0x03, &[0, 0x30, 0x00])]))
}
