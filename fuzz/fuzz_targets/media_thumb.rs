//! Fuzzes thumbnail making: image decoding (PNG, JPEG with its EXIF orientation, GIF, WebP),
//! resizing and encoding, and the thumb size parser. The input is a thumb size line
//! (`100x100t\n`: at most 16 letters and digits; without one `100x100` is used) followed by
//! the image.
//! No input may panic; a parsed size prints to a canonical form that parses to the same size;
//! and a thumbnail, decoded, has the size `thumb_size` computes for its source.
//!
//! To keep executions fast, sizes above 256 are replaced with 100x100 and images above one
//! megapixel are skipped (kiln-media itself allows 4096 and 50 megapixels).
//!
//! Run: `scripts/fuzz 60 media_thumb`.

#![no_main]

use std::io::Cursor;

use image::ImageReader;
use kiln_media::{detect, thumb_size, thumbable, thumbnail, ThumbSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    let line = data
        .iter()
        .take(17)
        .position(|&b| !b.is_ascii_alphanumeric());
    let (spec_text, src) = match line {
        Some(i) if data[i] == b'\n' => (&data[..i], &data[i + 1..]),
        _ => (&b""[..], data),
    };
    let default = ThumbSpec::parse("100x100").unwrap();
    let spec = match std::str::from_utf8(spec_text)
        .ok()
        .and_then(ThumbSpec::parse)
    {
        Some(spec) => {
            let canonical = spec.to_string();
            assert_eq!(ThumbSpec::parse(&canonical), Some(spec), "{canonical}");
            if spec.width() > 256 || spec.height() > 256 {
                default
            } else {
                spec
            }
        }
        None => default,
    };

    let size = ImageReader::new(Cursor::new(src))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok());
    if let Some((w, h)) = size {
        if u64::from(w) * u64::from(h) > 1 << 20 {
            return;
        }
    }
    let detected = detect(src).mime;
    let mime = if thumbable(&detected) {
        detected.as_str()
    } else {
        "image/png"
    };
    let Ok(thumb) = thumbnail(src, mime, &spec) else {
        return;
    };
    let expected = match mime {
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        _ => "image/png",
    };
    assert_eq!(thumb.content_type, expected);
    let out = image::load_from_memory(&thumb.bytes).expect("a thumbnail decodes");
    let Some((w, h)) = size else { return };
    // EXIF orientations 5-8 swap the sides.
    let made = (out.width(), out.height());
    assert!(
        [thumb_size(w, h, &spec).ok(), thumb_size(h, w, &spec).ok()].contains(&Some(made)),
        "{w}x{h} with {spec} made {made:?}"
    );
});
