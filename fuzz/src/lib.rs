//! Helpers shared by the fuzz targets in `fuzz_targets/`: input splitting, a checker that a
//! parsed part lies inside its input, a minimal CBOR writer and the fixed parts of WebAuthn
//! ceremonies (a relying party, its challenge and client data, and real authenticator output
//! taken from kiln-webauthn's known-answer tests) around the part a target fuzzes.

use kiln_webauthn::RelyingParty;

/// The largest input any target looks at; larger ones return at once.
pub const MAX_INPUT: usize = 64 * 1024;

/// Splits `data` into two parts: the first two bytes (big-endian) give the first part's length,
/// clamped to what is there.
pub fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    match data {
        [a, b, rest @ ..] => {
            let n = usize::from(u16::from_be_bytes([*a, *b])).min(rest.len());
            rest.split_at(n)
        }
        _ => (&[], data),
    }
}

/// Whether `part` is a contiguous run of `whole`'s bytes (used for values copied out of an input).
pub fn contains(whole: &[u8], part: &[u8]) -> bool {
    part.is_empty() || whole.windows(part.len()).any(|w| w == part)
}

/// Whether the slice `part` points into `whole` (a parser returned a view of its input, never of
/// memory beyond it).
pub fn within(whole: &[u8], part: &[u8]) -> bool {
    let (start, end) = (
        whole.as_ptr() as usize,
        whole.as_ptr() as usize + whole.len(),
    );
    let p = part.as_ptr() as usize;
    part.is_empty() || (p >= start && p + part.len() <= end)
}

/// Decodes hex text (constants below).
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex constant"))
        .collect()
}

/// A minimal CBOR writer: just what attestation objects need.
pub mod cbor {
    /// An item's head: major type and argument, shortest form.
    pub fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
        let m = major << 5;
        match arg {
            0..=23 => out.push(m | arg as u8),
            24..=0xff => out.extend_from_slice(&[m | 24, arg as u8]),
            0x100..=0xffff => {
                out.push(m | 25);
                out.extend_from_slice(&(arg as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(m | 26);
                out.extend_from_slice(&(arg as u32).to_be_bytes());
            }
            _ => {
                out.push(m | 27);
                out.extend_from_slice(&arg.to_be_bytes());
            }
        }
    }

    /// A signed integer.
    pub fn int(out: &mut Vec<u8>, v: i64) {
        if v >= 0 {
            head(out, 0, v as u64);
        } else {
            head(out, 1, (-1 - v) as u64);
        }
    }

    /// A byte string.
    pub fn bytes(out: &mut Vec<u8>, b: &[u8]) {
        head(out, 2, b.len() as u64);
        out.extend_from_slice(b);
    }

    /// A text string.
    pub fn text(out: &mut Vec<u8>, t: &str) {
        head(out, 3, t.len() as u64);
        out.extend_from_slice(t.as_bytes());
    }
}

/// The relying party of every WebAuthn target (the one kiln-webauthn's known-answer tests use).
pub fn rp() -> RelyingParty {
    RelyingParty {
        id: "localhost".into(),
        origins: vec!["https://foo.bar".into(), ORIGIN.into()],
    }
}

/// The origin of the client data the targets build.
pub const ORIGIN: &str = "http://localhost:5000";

/// The challenge the targets expect.
pub const CHALLENGE: &[u8] = b"kiln-fuzz-challenge-0123456789";

/// [`CHALLENGE`], unpadded base64url.
pub const CHALLENGE_B64: &str = "a2lsbi1mdXp6LWNoYWxsZW5nZS0wMTIzNDU2Nzg5";

/// Valid `clientDataJSON` of a ceremony of type `ty` (`webauthn.create` or `webauthn.get`).
pub fn client_data(ty: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"{ty}","challenge":"{CHALLENGE_B64}","origin":"{ORIGIN}","crossOrigin":false}}"#
    )
    .into_bytes()
}

/// Authenticator data of an assertion for "localhost" (UP, sign count 78).
pub fn assertion_auth_data() -> Vec<u8> {
    hex("49960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d9763010000004e")
}

/// The ES256 COSE key that made [`es256_signature`] (over another client data).
pub fn es256_key() -> Vec<u8> {
    hex("a501020326200121582087834defa037c03ecd07251e846718558df1e84cd5bef202c6bc23c288be6a65225820e271464f9a71f28ea0a4f65984ed35c1dcbd72b0d203f360b64c74bc6a6f3c72")
}

/// A DER ES256 signature (valid only over the known-answer test's own client data).
pub fn es256_signature() -> Vec<u8> {
    hex("3045022068ac5593816a90966e7249be37a5233c298b1c48c248c209be5a08769f42eebc022100f3cbfeda924d340a4f17000a16236e7fcdbeda1071616e641b057079ea310b0a")
}

/// A YubiKey 5's registration authenticator data for "localhost" (UP, UV, AT; AAGUID
/// 6d44ba9b-f6ec-2e49-b930-0c8fe920cb73, as its attestation certificate's extension says).
pub fn yubikey_auth_data() -> Vec<u8> {
    hex("49960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d976345000000346d44ba9bf6ec2e49b9300c8fe920cb730040b321903c365151875be26deb7567b23da20c6256e6c9d1a9d533ffdf7bc4fe5a89dcf1cdc9377488ab272abe568e709c07371eb19ac311f07f4412c5cd4de4e3a5010203262001215820405ff8b73b70ef067906abfb8b364fcf7805f95b03bf308c41a749a15fa2f0ef225820e5bed7e15c87cdbd31c5af4546001d35994f1e48c9c29218408bd54cd468affc")
}

/// A "none" attestation object for "localhost" (py_webauthn's test data), which registers with
/// any valid create client data.
pub fn none_attestation_object() -> Vec<u8> {
    hex("a363666d74646e6f6e656761747453746d74a068617574684461746158c449960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d97634500000017000000000000000000000000000000000040f72d7103c4e6835144993f9ceff7ef599feea13ba88a1dcebd1e39fe800af9cc075a101b5eb976abada22d54e38b2119eceee7f8244e398e3de24ed0df1aecffa50102032620012158204856d4245fb8d94837a5d33cac3445bbf379a22544cac3c307a9faeabffb7590225820d4567077f45946ca92fea80a083bdc561ed272828da37c398797efde28544b0c")
}

/// An attestation object `{"fmt": fmt, "attStmt": att_stmt, "authData": auth_data}`, where
/// `att_stmt` is an already encoded CBOR map.
pub fn attestation_object(fmt: &str, att_stmt: &[u8], auth_data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(att_stmt.len() + auth_data.len() + 32);
    cbor::head(&mut out, 5, 3);
    cbor::text(&mut out, "fmt");
    cbor::text(&mut out, fmt);
    cbor::text(&mut out, "attStmt");
    out.extend_from_slice(att_stmt);
    cbor::text(&mut out, "authData");
    cbor::bytes(&mut out, auth_data);
    out
}
