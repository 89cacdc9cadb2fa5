//! AWS Signature Version 4, header-based (the `Authorization` header), as S3 wants it.
//!
//! S3 differs from other services in one point that matters here: the canonical URI is the
//! request path encoded once (not twice) and never normalised.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// `x-amz-content-sha256` of a body that is not hashed (streaming uploads).
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` of an empty body.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Who signs and for what scope.
pub(crate) struct Signer<'a> {
    pub access_key: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// One request to sign. Header names may be in any case; values are trimmed and inner runs of
/// spaces folded, as the canonical form requires. Every header given is signed.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    /// Already URI-encoded path (see [`uri_encode`] with `keep_slash`).
    pub canonical_uri: &'a str,
    /// Already canonical query (see [`canonical_query`]).
    pub canonical_query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub payload_hash: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, the same value as the `x-amz-date` header.
    pub amz_date: &'a str,
}

/// The parts of a signature; `authorization` is the header value to send (the other parts are
/// for the tests, which compare them with AWS's published intermediate values).
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
    pub authorization: String,
}

impl Signer<'_> {
    /// Signs `req`.
    pub(crate) fn sign(&self, req: &Request<'_>) -> Signature {
        let mut headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), fold_spaces(value)))
            .collect();
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        // Repeated names are joined with commas, in the order given.
        let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            match merged.last_mut() {
                Some(last) if last.0 == name => {
                    last.1.push(',');
                    last.1.push_str(&value);
                }
                _ => merged.push((name, value)),
            }
        }
        let mut canonical_headers = String::new();
        for (name, value) in &merged {
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(value);
            canonical_headers.push('\n');
        }
        let signed_headers = merged
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical_request = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            req.method,
            req.canonical_uri,
            req.canonical_query,
            canonical_headers,
            signed_headers,
            req.payload_hash
        );
        let date = req.amz_date.get(..8).unwrap_or(req.amz_date);
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
            req.amz_date,
            sha256_hex(canonical_request.as_bytes())
        );
        let mut key = hmac(format!("AWS4{}", self.secret).as_bytes(), date.as_bytes());
        for part in [self.region, self.service, "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.access_key
        );
        Signature {
            canonical_request,
            string_to_sign,
            signed_headers,
            signature,
            authorization,
        }
    }
}

fn fold_spaces(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word.trim_matches(|c: char| c.is_ascii_whitespace()));
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// RFC 3986 percent-encoding as SigV4 defines it: everything but `A-Za-z0-9-._~` becomes `%XX`
/// (upper-case hex, UTF-8 bytes); `/` is kept when `keep_slash` (paths) and encoded otherwise
/// (query names and values).
pub(crate) fn uri_encode(s: &str, keep_slash: bool) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => {
                out.push('%');
                out.push(DIGITS[(b >> 4) as usize] as char);
                out.push(DIGITS[(b & 15) as usize] as char);
            }
        }
    }
    out
}

/// The canonical query string: names and values encoded, sorted by name then value, `&`-joined.
/// It is also sent as the request's query, so the two cannot differ.
pub(crate) fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const S3_EXAMPLE: Signer<'static> = Signer {
        access_key: "AKIAIOSFODNN7EXAMPLE",
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
        service: "s3",
    };

    // The four examples of the S3 API reference, "Signature Calculations for the Authorization
    // Header: Transferring Payload in a Single Chunk (AWS Signature Version 4)".

    #[test]
    fn s3_example_get_object_with_range() {
        let sig = S3_EXAMPLE.sign(&Request {
            method: "GET",
            canonical_uri: &uri_encode("/test.txt", true),
            canonical_query: "",
            headers: &[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
        });
        assert_eq!(
            sha256_hex(sig.canonical_request.as_bytes()),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        assert_eq!(
            sig.signed_headers,
            "host;range;x-amz-content-sha256;x-amz-date"
        );
        assert_eq!(
            sig.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert_eq!(
            sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn s3_example_put_object_encodes_the_key() {
        let body = b"Welcome to Amazon S3.";
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let uri = uri_encode("/test$file.text", true);
        assert_eq!(uri, "/test%24file.text");
        let sig = S3_EXAMPLE.sign(&Request {
            method: "PUT",
            canonical_uri: &uri,
            canonical_query: "",
            headers: &[
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", &hash),
            ],
            payload_hash: &hash,
            amz_date: "20130524T000000Z",
        });
        assert_eq!(
            sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
             9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"
        );
        assert_eq!(
            sig.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn s3_example_get_bucket_lifecycle() {
        let sig = S3_EXAMPLE.sign(&Request {
            method: "GET",
            canonical_uri: "/",
            canonical_query: &canonical_query(&[("lifecycle", "")]),
            headers: &[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", EMPTY_SHA256),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
        });
        assert!(sig
            .canonical_request
            .starts_with("GET\n/\nlifecycle=\nhost:"));
        assert_eq!(
            sig.signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );
    }

    #[test]
    fn s3_example_list_objects_sorts_the_query() {
        let sig = S3_EXAMPLE.sign(&Request {
            method: "GET",
            canonical_uri: "/",
            canonical_query: &canonical_query(&[("prefix", "J"), ("max-keys", "2")]),
            headers: &[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", EMPTY_SHA256),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
        });
        assert!(sig.canonical_request.contains("\nmax-keys=2&prefix=J\n"));
        assert_eq!(
            sha256_hex(sig.canonical_request.as_bytes()),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"
        );
        assert_eq!(
            sig.signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    // The generic SigV4 test suite ("get-vanilla" family): service "service", its own key.
    const SUITE: Signer<'static> = Signer {
        access_key: "AKIDEXAMPLE",
        secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
        service: "service",
    };

    fn suite(query: &[(&str, &str)]) -> Signature {
        SUITE.sign(&Request {
            method: "GET",
            canonical_uri: "/",
            canonical_query: &canonical_query(query),
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20150830T123600Z",
        })
    }

    #[test]
    fn suite_get_vanilla() {
        assert_eq!(
            suite(&[]).authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn suite_get_vanilla_query_order_key_case() {
        assert_eq!(
            suite(&[("Param2", "value2"), ("Param1", "value1")]).signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn a_changed_byte_changes_the_signature() {
        let base = suite(&[]).signature;
        let other = SUITE.sign(&Request {
            method: "GET",
            canonical_uri: "/",
            canonical_query: "",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123601Z"),
            ],
            payload_hash: EMPTY_SHA256,
            amz_date: "20150830T123600Z",
        });
        assert_ne!(base, other.signature);
    }

    #[test]
    fn encodes_like_rfc3986() {
        assert_eq!(uri_encode("a-Z_0.9~", false), "a-Z_0.9~");
        assert_eq!(uri_encode("a b+c/d", true), "a%20b%2Bc/d");
        assert_eq!(uri_encode("a b+c/d", false), "a%20b%2Bc%2Fd");
        assert_eq!(uri_encode("ü*$&=", true), "%C3%BC%2A%24%26%3D");
        assert_eq!(
            canonical_query(&[("b", "2"), ("a", "1"), ("A", "0")]),
            "A=0&a=1&b=2"
        );
        assert_eq!(
            canonical_query(&[("continuation-token", "a/b+c=")]),
            "continuation-token=a%2Fb%2Bc%3D"
        );
    }

    #[test]
    fn folds_header_values() {
        assert_eq!(fold_spaces("  a   b  c "), "a b c");
        assert_eq!(fold_spaces("x"), "x");
    }
}
