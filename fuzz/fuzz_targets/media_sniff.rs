//! Fuzzes content type detection (magic numbers, zip/office and OLE documents, text, charsets,
//! JSON, CSV, MP3 frames ...): what Kiln stores as an upload's type. No input may panic; the
//! result is a non-empty type that `mime_is` accepts for itself, with an extension that is empty
//! or starts with a dot; only the first `READ_LIMIT` bytes matter; and `sniff` agrees with
//! `detect`. The input's start also serves as a file name for `served_content_type`.
//!
//! Run: `scripts/fuzz 60 media_sniff`.

#![no_main]

use kiln_media::{
    base_type, detect, mime_is, served_content_type, serves_inline, sniff, READ_LIMIT,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    let found = detect(data);
    assert!(!found.mime.is_empty());
    assert!(found.extension.is_empty() || found.extension.starts_with('.'));
    assert!(
        mime_is(&found.mime, &found.mime),
        "{} does not allow itself",
        found.mime
    );
    assert!(mime_is(&found.mime, base_type(&found.mime)));
    assert_eq!(sniff(data, "upload.bin"), found.mime);
    if data.len() > READ_LIMIT {
        assert_eq!(detect(&data[..READ_LIMIT]), found);
    }
    let name = String::from_utf8_lossy(&data[..data.len().min(64)]);
    let _ = serves_inline(served_content_type(&found.mime, &name));
});
