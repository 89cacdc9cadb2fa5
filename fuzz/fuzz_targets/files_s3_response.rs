//! Fuzzes kiln-files' reader of S3's XML answers (`src/s3/xml.rs`): ListObjectsV2 pages, error
//! documents, multipart and DeleteObjects answers, read as `src/s3/mod.rs` and
//! `src/s3/response.rs` read them. No input may panic; every element found is a slice of the
//! document; and escaping round-trips through an element.
//!
//! The module is compiled in from the crate's source file (see Cargo.toml for why), so it is
//! exactly the code kiln-files runs. `Content-Range` parsing (`response.rs`, next to the HTTP
//! client code) is not fuzzed: it is `split_once` and `parse` with no indexing.
//!
//! Run: `scripts/fuzz 60 files_s3_response`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/kiln-files/src/time.rs"]
mod time;
#[path = "../../crates/kiln-files/src/s3/xml.rs"]
mod xml;

use time::parse_iso8601;
use xml::{blocks, escape, text, unescape};

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    // As read_text does.
    let doc = String::from_utf8_lossy(data);
    let doc = doc.as_ref();

    // ListObjectsV2, as S3Store::list reads a page.
    for contents in blocks(doc, "Contents") {
        assert!(kiln_fuzz::within(doc.as_bytes(), contents.as_bytes()));
        if text(contents, "Key").is_some() {
            let _: Option<u64> = text(contents, "Size").and_then(|s| s.trim().parse().ok());
            let _ = text(contents, "LastModified").and_then(|t| parse_iso8601(&t));
        }
    }
    let _ = (text(doc, "IsTruncated"), text(doc, "NextContinuationToken"));
    // Errors (error_of, DeleteObjects, CompleteMultipartUpload) and CreateMultipartUpload.
    for block in blocks(doc, "Error") {
        assert!(kiln_fuzz::within(doc.as_bytes(), block.as_bytes()));
        let _ = (
            text(block, "Code"),
            text(block, "Key"),
            text(block, "Message"),
        );
    }
    let _ = (
        text(doc, "Code"),
        text(doc, "Message"),
        text(doc, "UploadId"),
    );

    // Escaping: any text survives an element body.
    let _ = unescape(doc);
    let element = format!("<Key>{}</Key>", escape(doc));
    assert_eq!(
        text(&element, "Key").as_deref(),
        Some(doc),
        "escape/unescape round trip"
    );
});
