//! Content type detection. The corpus expectations were checked against PocketBase 0.40.6 by
//! uploading the dumped samples (`KILN_MEDIA_DUMP=dir cargo test -p kiln-media dump_corpus --
//! --ignored`) to a file field and reading back the stored content type.

use kiln_media::{base_type, detect, mime_is, sniff, READ_LIMIT};

use crate::samples::{self, corpus};

#[test]
fn corpus_matches_pocketbase() {
    let mut wrong = Vec::new();
    for (name, bytes, want) in corpus() {
        let got = sniff(&bytes, "upload.bin");
        if got != want {
            wrong.push(format!("{name}: got {got:?}, PocketBase stores {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn only_the_first_bytes_count() {
    // A PNG signature past the read limit is not seen; text up to the limit decides.
    let mut late = vec![b'a'; READ_LIMIT];
    late.extend_from_slice(&samples::png(2, 2));
    assert_eq!(sniff(&late, "x.png"), "text/plain; charset=utf-8");
    // Binary garbage after the limit does not spoil a text file.
    let mut text = b"hello ".repeat(READ_LIMIT);
    text.extend_from_slice(&[0, 1, 2, 3]);
    assert_eq!(sniff(&text, "x.txt"), "text/plain; charset=utf-8");
}

#[test]
fn names_and_client_types_are_never_trusted() {
    let png = samples::png(3, 3);
    assert_eq!(sniff(&png, "notes.txt"), "image/png");
    assert_eq!(sniff(&png, "page.html"), "image/png");
    let html = b"<html><body><script>alert(1)</script></body></html>";
    assert_eq!(sniff(html, "cat.png"), "text/html; charset=utf-8");
    assert_eq!(sniff(html, "cat.jpg"), "text/html; charset=utf-8");
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>fetch('/api/admins')</script></svg>"#;
    assert_eq!(sniff(svg, "avatar.png"), "image/svg+xml");
    assert_eq!(
        sniff(b"body { color: red }", "style.css"),
        "text/plain; charset=utf-8"
    );
}

#[test]
fn extensions_for_nameless_uploads() {
    assert_eq!(detect(&samples::png(2, 2)).extension, ".png");
    assert_eq!(detect(b"%PDF-1.4\n").extension, ".pdf");
    assert_eq!(detect(b"hello").extension, ".txt");
    assert_eq!(detect(&[0, 1, 2, 3]).extension, "");
}

#[test]
fn base_types() {
    assert_eq!(base_type("text/plain; charset=utf-8"), "text/plain");
    assert_eq!(base_type("image/png"), "image/png");
    assert_eq!(base_type(" text/html ;charset=x"), "text/html");
    assert_eq!(base_type(""), "");
}

#[test]
fn field_mime_type_checks_use_aliases_not_parents() {
    let docx = corpus().into_iter().find(|c| c.0 == "docx").unwrap().1;
    let docx = sniff(&docx, "a.docx");
    assert!(mime_is(
        &docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ));
    assert!(!mime_is(&docx, "application/zip"));
    assert!(mime_is("application/zip", "application/x-zip-compressed"));
    assert!(mime_is("audio/mpeg", "audio/mp3"));
    assert!(mime_is("image/apng", "image/vnd.mozilla.apng"));
    assert!(mime_is("video/matroska", "video/x-matroska"));
    assert!(mime_is("text/plain; charset=utf-8", "TEXT/PLAIN"));
    assert!(!mime_is("application/json", "text/plain"));
    assert!(!mime_is("image/svg+xml", "image/*"));
    // Also checked against PocketBase with a field's mimeTypes:
    assert!(!mime_is("image/apng", "image/png"));
    assert!(!mime_is("image/jpeg", "image/jpg"));
    assert!(mime_is(
        "text/plain; charset=utf-8",
        " text/plain; charset=latin1 "
    ));
}

/// Writes the corpus to `$KILN_MEDIA_DUMP` (one file per sample) for checking against
/// PocketBase.
#[test]
#[ignore = "a tool, not a test"]
fn dump_corpus() {
    let dir = std::env::var("KILN_MEDIA_DUMP").expect("KILN_MEDIA_DUMP");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes, want) in corpus() {
        std::fs::write(format!("{dir}/{name}.bin"), bytes).unwrap();
        std::fs::write(format!("{dir}/{name}.expected"), want).unwrap();
    }
}
