//! Just enough DER to pull the subject public key and the FIDO AAGUID extension out of an X.509
//! attestation certificate. No certificate is validated here: no chain, no dates, no signature.

/// One DER element: its tag byte and its content.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
}

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

/// Reads one element from the start of `input`; returns it and the bytes after it.
/// Only low tag numbers and definite lengths of at most four length bytes are accepted.
pub(crate) fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag number form: never needed here
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None; // indefinite, or absurdly long
        }
        let (len_bytes, after) = (rest.get(..count)?, rest.get(count..)?);
        rest = after;
        len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let content = rest.get(..len)?;
    let after = rest.get(len..)?;
    Some((Tlv { tag, content }, after))
}

/// Reads one element that must have tag `tag`.
pub(crate) fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (tlv, rest) = read(input)?;
    (tlv.tag == tag).then_some((tlv.content, rest))
}

/// The parts of a certificate that packed attestation needs.
pub(crate) struct CertInfo<'a> {
    /// The complete SubjectPublicKeyInfo's content (AlgorithmIdentifier followed by the key).
    pub(crate) spki: &'a [u8],
    /// The value of the id-fido-gen-ce-aaguid extension (1.3.6.1.4.1.45724.1.1.4), if present.
    pub(crate) aaguid_extension: Option<&'a [u8]>,
}

/// DER content of OID 1.3.6.1.4.1.45724.1.1.4 (id-fido-gen-ce-aaguid).
const OID_FIDO_AAGUID: &[u8] = &[
    0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xe5, 0x1c, 0x01, 0x01, 0x04,
];

/// Walks Certificate → tbsCertificate → subjectPublicKeyInfo and the extensions.
pub(crate) fn parse_certificate(cert: &[u8]) -> Option<CertInfo<'_>> {
    let (certificate, trailing) = expect(cert, TAG_SEQUENCE)?;
    if !trailing.is_empty() {
        return None;
    }
    let (tbs, _) = expect(certificate, TAG_SEQUENCE)?;
    let mut rest = tbs;
    // [0] EXPLICIT version, optional.
    let (first, after) = read(rest)?;
    if first.tag == 0xa0 {
        rest = after;
    }
    let (_serial, r) = expect(rest, TAG_INTEGER)?;
    let (_signature_alg, r) = expect(r, TAG_SEQUENCE)?;
    let (_issuer, r) = expect(r, TAG_SEQUENCE)?;
    let (_validity, r) = expect(r, TAG_SEQUENCE)?;
    let (_subject, r) = expect(r, TAG_SEQUENCE)?;
    let (spki, mut r) = expect(r, TAG_SEQUENCE)?;

    let mut aaguid_extension = None;
    while !r.is_empty() {
        let (tlv, after) = read(r)?;
        r = after;
        if tlv.tag != 0xa3 {
            continue; // issuerUniqueID [1] / subjectUniqueID [2]
        }
        let (mut extensions, _) = expect(tlv.content, TAG_SEQUENCE)?;
        while !extensions.is_empty() {
            let (extension, after) = expect(extensions, TAG_SEQUENCE)?;
            extensions = after;
            let (oid, mut e) = expect(extension, TAG_OID)?;
            // critical BOOLEAN DEFAULT FALSE, optional.
            if let Some((tlv, after)) = read(e) {
                if tlv.tag == 0x01 {
                    e = after;
                }
            }
            let (value, _) = expect(e, TAG_OCTET_STRING)?;
            if oid == OID_FIDO_AAGUID {
                aaguid_extension = Some(value);
            }
        }
    }
    Some(CertInfo {
        spki,
        aaguid_extension,
    })
}

/// A public key taken from a SubjectPublicKeyInfo.
pub(crate) enum SpkiKey<'a> {
    /// id-ecPublicKey on prime256v1: the SEC1 point.
    P256(&'a [u8]),
    /// id-Ed25519: the 32-byte key.
    Ed25519(&'a [u8]),
    /// rsaEncryption: big-endian modulus and exponent.
    Rsa { n: &'a [u8], e: &'a [u8] },
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Parses the content of a SubjectPublicKeyInfo SEQUENCE.
pub(crate) fn parse_spki(spki: &[u8]) -> Option<SpkiKey<'_>> {
    let (algorithm, r) = expect(spki, TAG_SEQUENCE)?;
    let (bits, r) = expect(r, TAG_BIT_STRING)?;
    if !r.is_empty() {
        return None;
    }
    let (&unused_bits, key) = bits.split_first()?;
    if unused_bits != 0 {
        return None;
    }
    let (oid, params) = expect(algorithm, TAG_OID)?;
    if oid == OID_EC_PUBLIC_KEY {
        let (curve, _) = expect(params, TAG_OID)?;
        return (curve == OID_PRIME256V1).then_some(SpkiKey::P256(key));
    }
    if oid == OID_ED25519 {
        return Some(SpkiKey::Ed25519(key));
    }
    if oid == OID_RSA_ENCRYPTION {
        let (rsa_key, trailing) = expect(key, TAG_SEQUENCE)?;
        if !trailing.is_empty() {
            return None;
        }
        let (n, r) = expect(rsa_key, TAG_INTEGER)?;
        let (e, _) = expect(r, TAG_INTEGER)?;
        return Some(SpkiKey::Rsa { n, e });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_refuses_bad_ones() {
        let (tlv, rest) = read(&[0x04, 0x02, 0xaa, 0xbb, 0xcc]).unwrap();
        assert_eq!(
            (tlv.tag, tlv.content, rest),
            (0x04, &[0xaa, 0xbb][..], &[0xcc][..])
        );
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.resize(4 + 256, 7);
        assert_eq!(read(&long).unwrap().0.content.len(), 256);
        assert!(read(&[0x04, 0x80]).is_none());
        assert!(read(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read(&[0x04, 0x03, 0x00]).is_none());
        assert!(read(&[0x1f, 0x01, 0x00]).is_none());
        assert!(read(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(read(&[]).is_none());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_certificate(&bytes);
            let _ = parse_spki(&bytes);
        }
    }
}
