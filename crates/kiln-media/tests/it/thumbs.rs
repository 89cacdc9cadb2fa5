//! Thumbnails. Sizes, formats and orientation were checked against PocketBase 0.40.6: the same
//! sources were uploaded to a file field listing every size, and each `?thumb=` response was
//! decoded (`pocketbase_thumb_sizes.txt` holds what it served).

use std::time::{Duration, Instant};

use image::{GenericImageView, ImageFormat};
use kiln_media::{thumb_size, thumbable, thumbnail, MediaError, ThumbSpec, MAX_SOURCE_PIXELS};

use crate::largest_allocation;
use crate::samples::{self, encode, rgb};

fn spec(s: &str) -> ThumbSpec {
    ThumbSpec::parse(s).unwrap_or_else(|| panic!("valid spec {s}"))
}

fn dims(bytes: &[u8]) -> (u32, u32) {
    image::load_from_memory(bytes)
        .expect("thumbnail decodes")
        .dimensions()
}

fn parse_size(s: &str) -> (u32, u32) {
    let (w, h) = s.split_once('x').unwrap();
    (w.parse().unwrap(), h.parse().unwrap())
}

/// A source size, a thumb size, and the size PocketBase served (`None`: enormous).
type Row = ((u32, u32), String, Option<(u32, u32)>);

/// What PocketBase served for 10 sources × 18 thumb sizes.
fn pocketbase_table() -> Vec<Row> {
    include_str!("pocketbase_thumb_sizes.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut parts = line.split_whitespace();
            let (src, size, want) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            (
                parse_size(src),
                size.to_owned(),
                (want != "huge").then(|| parse_size(want)),
            )
        })
        .collect()
}

#[test]
fn sizes_match_pocketbase_for_every_mode() {
    let table = pocketbase_table();
    assert_eq!(table.len(), 180);
    for ((sw, sh), size, want) in table {
        let got = thumb_size(sw, sh, &spec(&size));
        match want {
            Some(want) => assert_eq!(got, Ok(want), "{sw}x{sh} {size}"),
            // PocketBase made a 333333x1000 (or 1000x333333) PNG here; Kiln refuses.
            None => assert!(
                matches!(got, Err(MediaError::ThumbTooLarge { .. })),
                "{sw}x{sh} {size}: {got:?}"
            ),
        }
    }
}

#[test]
fn thumbnails_have_the_planned_size() {
    // The pixels pipeline against the same table, for the outputs of modest size.
    for ((sw, sh), size, want) in pocketbase_table() {
        let Some(want) = want.filter(|(w, h)| w * h <= 40_000) else {
            continue;
        };
        let thumb = thumbnail(&samples::png(sw, sh), "image/png", &spec(&size)).unwrap();
        assert_eq!(dims(&thumb.bytes), want, "{sw}x{sh} {size}");
        assert_eq!(thumb.content_type, "image/png");
    }
}

#[test]
fn the_briefs_examples() {
    let src = samples::png(400, 200);
    for (size, want) in [
        ("100x100", (100, 100)),
        ("100x0", (100, 50)),
        ("100x100f", (100, 50)),
        ("0x50", (100, 50)),
    ] {
        assert_eq!(
            dims(&thumbnail(&src, "image/png", &spec(size)).unwrap().bytes),
            want,
            "{size}"
        );
    }
}

#[test]
fn crops_keep_the_anchor() {
    // Top half white, bottom half black: a top crop is white, a bottom crop black.
    let img = image::RgbImage::from_fn(100, 400, |_, y| {
        if y < 200 {
            image::Rgb([255; 3])
        } else {
            image::Rgb([0; 3])
        }
    });
    let src = encode(&img, ImageFormat::Png);
    let px = |size: &str| {
        let t = image::load_from_memory(&thumbnail(&src, "image/png", &spec(size)).unwrap().bytes)
            .unwrap();
        t.get_pixel(5, 5)[0]
    };
    assert_eq!(px("50x50t"), 255);
    assert_eq!(px("50x50b"), 0);
    // The center crop straddles the edge: its top row is white, its bottom row black.
    let t = image::load_from_memory(&thumbnail(&src, "image/png", &spec("50x50")).unwrap().bytes)
        .unwrap();
    assert_eq!(t.get_pixel(25, 0)[0], 255);
    assert_eq!(t.get_pixel(25, 49)[0], 0);
}

#[test]
fn output_formats_follow_pocketbase() {
    let img = rgb(40, 20);
    for (format, mime, want_type, want_format) in [
        (ImageFormat::Png, "image/png", "image/png", ImageFormat::Png),
        (
            ImageFormat::Jpeg,
            "image/jpeg",
            "image/jpeg",
            ImageFormat::Jpeg,
        ),
        (ImageFormat::Gif, "image/gif", "image/gif", ImageFormat::Gif),
        // No WebP encoding in PocketBase: WebP thumbnails are PNGs.
        (
            ImageFormat::WebP,
            "image/webp",
            "image/png",
            ImageFormat::Png,
        ),
        // "image/jpg" is in PocketBase's list, but only "image/jpeg" is encoded as JPEG.
        (
            ImageFormat::Jpeg,
            "image/jpg",
            "image/png",
            ImageFormat::Png,
        ),
    ] {
        let src = encode(&img, format);
        let t = thumbnail(&src, mime, &spec("10x10")).unwrap();
        assert_eq!(t.content_type, want_type, "{mime}");
        assert_eq!(
            image::guess_format(&t.bytes).unwrap(),
            want_format,
            "{mime}"
        );
        assert_eq!(dims(&t.bytes), (10, 10));
    }
}

#[test]
fn png_thumbnails_are_rgb_unless_transparent() {
    let opaque = thumbnail(&samples::png(30, 20), "image/png", &spec("10x0")).unwrap();
    assert_eq!(
        image::load_from_memory(&opaque.bytes).unwrap().color(),
        image::ColorType::Rgb8
    );
    let transparent = thumbnail(
        &samples::transparent_png(30, 20),
        "image/png",
        &spec("10x0"),
    )
    .unwrap();
    let t = image::load_from_memory(&transparent.bytes).unwrap();
    assert_eq!(t.color(), image::ColorType::Rgba8);
    // Alpha-weighted resampling: the red half stays pure red next to the transparent half.
    let p = t.to_rgba8().get_pixel(4, 3).0;
    assert_eq!(&p[..3], &[255, 0, 0], "{p:?}");
    assert_eq!(t.to_rgba8().get_pixel(9, 3).0[3], 0);
}

#[test]
fn jpeg_exif_orientation_is_applied() {
    // PocketBase: a 400x200 JPEG with orientation 6 or 8 gives a 100x200 "100x0" thumbnail.
    for o in [6, 8] {
        let src = samples::jpeg_with_orientation(400, 200, o);
        assert_eq!(
            dims(&thumbnail(&src, "image/jpeg", &spec("100x0")).unwrap().bytes),
            (100, 200),
            "{o}"
        );
        assert_eq!(
            dims(
                &thumbnail(&src, "image/jpeg", &spec("50x50f"))
                    .unwrap()
                    .bytes
            ),
            (25, 50),
            "{o}"
        );
    }
    for o in [1, 2, 3, 4] {
        let src = samples::jpeg_with_orientation(400, 200, o);
        assert_eq!(
            dims(&thumbnail(&src, "image/jpeg", &spec("100x0")).unwrap().bytes),
            (100, 50),
            "{o}"
        );
    }
}

#[test]
fn what_is_thumbable() {
    for yes in [
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/gif",
        "image/webp",
    ] {
        assert!(thumbable(yes), "{yes}");
    }
    for no in [
        "image/apng",
        "image/svg+xml",
        "image/bmp",
        "image/tiff",
        "image/x-icon",
        "text/plain; charset=utf-8",
        "IMAGE/PNG",
        "",
    ] {
        assert!(!thumbable(no), "{no}");
    }
    assert_eq!(
        thumbnail(&samples::png(4, 4), "image/svg+xml", &spec("2x2")),
        Err(MediaError::NotThumbable)
    );
}

#[test]
fn animated_webp_is_refused_like_pocketbase() {
    // PocketBase serves the original for an animated WebP (its decoder cannot read them).
    let mut src =
        b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\x8f\x01\x00\xc7\x00\x00ANIM"
            .to_vec();
    src.extend_from_slice(&[0; 32]);
    assert_eq!(
        thumbnail(&src, "image/webp", &spec("10x10")),
        Err(MediaError::AnimatedWebp)
    );
}

#[test]
fn garbage_with_an_image_type_is_a_decode_error() {
    assert!(matches!(
        thumbnail(b"not an image at all", "image/png", &spec("10x10")),
        Err(MediaError::Decode(_))
    ));
    let png = samples::png(50, 50);
    assert!(matches!(
        thumbnail(&png[..png.len() / 2], "image/png", &spec("10x10")),
        Err(MediaError::Decode(_))
    ));
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    for (w, h) in [
        (100_000, 100_000),
        (10_000, 10_000),
        (1, u32::MAX),
        (65_535, 65_535),
    ] {
        let bomb = samples::png_header_claiming(w, h);
        let start = Instant::now();
        let (res, largest) = largest_allocation(|| thumbnail(&bomb, "image/png", &spec("100x100")));
        assert_eq!(res, Err(MediaError::ImageTooLarge), "{w}x{h}");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{w}x{h} took {:?}",
            start.elapsed()
        );
        assert!(
            largest < 1 << 20,
            "{w}x{h}: allocated {largest} bytes at once"
        );
    }
    // Just over the pixel limit.
    let over = samples::png_header_claiming(10_000, (MAX_SOURCE_PIXELS / 10_000 + 1) as u32);
    assert_eq!(
        thumbnail(&over, "image/png", &spec("1x1")),
        Err(MediaError::ImageTooLarge)
    );

    // A GIF screen of 65535x65535 and a JPEG frame of 65000x65000.
    let gif = b"GIF89a\xff\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02D\x01\x00;".to_vec();
    let (res, largest) = largest_allocation(|| thumbnail(&gif, "image/gif", &spec("10x10")));
    assert_eq!(res, Err(MediaError::ImageTooLarge));
    assert!(largest < 1 << 20, "gif: allocated {largest} bytes at once");
    let mut jpeg = encode(&rgb(8, 8), ImageFormat::Jpeg);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF0");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
    let (res, largest) = largest_allocation(|| thumbnail(&jpeg, "image/jpeg", &spec("10x10")));
    assert_eq!(res, Err(MediaError::ImageTooLarge));
    assert!(largest < 1 << 20, "jpeg: allocated {largest} bytes at once");
}

#[test]
fn spec_parsing() {
    assert_eq!(spec("100x100t").to_string(), "100x100t");
    assert_eq!(ThumbSpec::parse("0x0"), None);
    assert_eq!(ThumbSpec::parse("5000x10"), None);
    assert_eq!(ThumbSpec::parse("100x100 "), None);
    assert_eq!(spec("0x4096").height(), 4096);
}
