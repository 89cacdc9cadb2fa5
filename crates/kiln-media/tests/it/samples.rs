//! Tiny sample files, made here: images encoded with the `image` crate, everything else
//! written by hand from the formats' headers. `CORPUS` pairs each with the content type the
//! real PocketBase 0.40.6 stored for it (checked by uploading the dump of these samples, see
//! `dump_corpus`).

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// A small RGB gradient.
pub fn rgb(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 128])
    })
}

/// Encodes `img` in `format` with the image crate.
pub fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        // The WebP encoder wants RGBA or RGB; GIF wants RGBA.
        ImageFormat::Gif => image::DynamicImage::ImageRgb8(img.clone())
            .to_rgba8()
            .write_to(&mut out, format),
        _ => img.write_to(&mut out, format),
    }
    .expect("encode sample");
    out.into_inner()
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    encode(&rgb(w, h), ImageFormat::Png)
}

pub fn transparent_png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
    c
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose IHDR claims `w`×`h` pixels, with one tiny IDAT: a decompression bomb header.
pub fn png_header_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// An animated PNG: an acTL chunk after IHDR.
fn apng() -> Vec<u8> {
    let png = png(4, 4);
    let ihdr_end = 8 + 25;
    let mut out = png[..ihdr_end].to_vec();
    out.extend(chunk(b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0]));
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

/// A JPEG whose first APP1 segment carries EXIF orientation `o`.
pub fn jpeg_with_orientation(w: u32, h: u32, o: u16) -> Vec<u8> {
    let jpeg = encode(&rgb(w, h), ImageFormat::Jpeg);
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01".to_vec();
    tiff.extend_from_slice(&o.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A stored (uncompressed) zip with these entries.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        out.extend_from_slice(&crc32(data).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
    }
    out.extend_from_slice(
        b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    );
    out
}

fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x18];
    out.extend_from_slice(b"ftyp");
    out.extend_from_slice(brand);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(brand);
    out.extend_from_slice(b"mp41");
    out.extend_from_slice(&[0, 0, 0, 8]);
    out.extend_from_slice(b"mdat");
    out
}

fn ebml(doctype: &str) -> Vec<u8> {
    let mut out = b"\x1A\x45\xDF\xA3\xA3\x42\x86\x81\x01\x42\xF7\x81\x01\x42\x82".to_vec();
    out.push(0x80 | doctype.len() as u8);
    out.extend_from_slice(doctype.as_bytes());
    out.extend_from_slice(b"\x42\x87\x81\x04\x42\x85\x81\x02");
    out
}

fn riff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn ogg(packet: &[u8]) -> Vec<u8> {
    let mut out = b"OggS\x00\x02".to_vec();
    out.extend_from_slice(&[0; 20]);
    out.extend_from_slice(&[1, packet.len() as u8]);
    out.extend_from_slice(packet);
    out
}

fn mp3_frames(junk: &[u8]) -> Vec<u8> {
    let mut out = junk.to_vec();
    for _ in 0..4 {
        let mut f = vec![0u8; 417];
        f[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        out.extend(f);
    }
    out
}

fn tar() -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..9].copy_from_slice(b"hello.txt");
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(b"00000000005\0");
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h.extend_from_slice(b"hello");
    h.resize(1024, 0);
    h
}

fn bmp() -> Vec<u8> {
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&(54u32 + 4).to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&1i32.to_le_bytes());
    out.extend_from_slice(&1i32.to_le_bytes());
    out.extend_from_slice(&[1, 0, 24, 0]);
    out.extend_from_slice(&[0; 24]);
    out.extend_from_slice(&[0, 0, 255, 0]);
    out
}

fn long_json() -> Vec<u8> {
    let mut s = String::from("{\"items\": [");
    while s.len() < 5000 {
        s.push_str("{\"id\": 12345, \"name\": \"something\"}, ");
    }
    s.push_str("{}]}");
    s.into_bytes()
}

/// Every sample: a name, its bytes, and what PocketBase 0.40.6 stored for it.
pub fn corpus() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let t = |s: &str| s.as_bytes().to_vec();
    vec![
        ("png", png(4, 3), "image/png"),
        ("jpeg", encode(&rgb(4, 3), ImageFormat::Jpeg), "image/jpeg"),
        ("gif", encode(&rgb(4, 3), ImageFormat::Gif), "image/gif"),
        ("webp", encode(&rgb(4, 3), ImageFormat::WebP), "image/webp"),
        ("apng", apng(), "image/apng"),
        ("bmp", bmp(), "image/bmp"),
        ("tiff_le", b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00".to_vec(), "image/tiff"),
        ("tiff_be", b"MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00".to_vec(), "image/tiff"),
        ("ico", b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00\x68\x04\x00\x00\x16\x00\x00\x00".to_vec(), "image/x-icon"),
        ("svg", t(r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#), "image/svg+xml"),
        (
            "svg_script",
            t("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(document.cookie)</script></svg>"),
            "image/svg+xml",
        ),
        // A comment then a newline before <svg>: the SVG check does not skip the newline, and
        // "<!--" is an HTML signature, so PocketBase stores text/html.
        ("svg_comment_first", t("<!-- made by hand -->\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"), "text/html; charset=utf-8"),
        ("svg_comment_no_newline", t("<!-- made by hand --><svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"), "image/svg+xml"),
        ("svg_xml_decl", t("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg width=\"1\" height=\"1\"></svg>"), "image/svg+xml"),
        ("svg_no_ns", t("<svg width=\"1\" height=\"1\"></svg>"), "text/plain; charset=utf-8"),
        ("pdf", t("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"), "application/pdf"),
        ("pdf_late_header", t("garbage before the header\n%PDF-1.7\n%%EOF\n"), "application/pdf"),
        ("zip", zip(&[("hello.txt", b"hello")]), "application/zip"),
        (
            "docx",
            zip(&[("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "xlsx",
            zip(&[("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>")]),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "pptx",
            zip(&[("_rels/.rels", b"<Relationships/>"), ("ppt/presentation.xml", b"<p/>")]),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "odt",
            zip(&[("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<office/>")]),
            "application/vnd.oasis.opendocument.text",
        ),
        ("epub", zip(&[("mimetype", b"application/epub+zip")]), "application/epub+zip"),
        ("jar", zip(&[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n")]), "application/java-archive"),
        ("mp4", ftyp(b"isom"), "video/mp4"),
        ("m4a", ftyp(b"M4A "), "audio/x-m4a"),
        ("mov", ftyp(b"qt  "), "video/quicktime"),
        ("heic", ftyp(b"heic"), "image/heic"),
        ("avif", ftyp(b"avif"), "image/avif"),
        ("webm", ebml("webm"), "video/webm"),
        ("mkv", ebml("matroska"), "video/matroska"),
        ("mp3_id3", b"ID3\x04\x00\x00\x00\x00\x00\x0aTIT2\x00\x00\x00\x02\x00\x00\x00x".to_vec(), "audio/mpeg"),
        ("mp3_frames", mp3_frames(&[0; 16]), "audio/mpeg"),
        ("ogg_vorbis", ogg(b"\x01vorbis\x00\x00\x00\x00\x02\x44\xac\x00\x00"), "audio/ogg"),
        ("ogg_opus", ogg(b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00"), "audio/ogg"),
        ("wav", riff(b"WAVE", b"fmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00"), "audio/wav"),
        ("avi", riff(b"AVI ", b"LIST\x04\x00\x00\x00hdrl"), "video/x-msvideo"),
        ("flac", b"fLaC\x00\x00\x00\x22\x10\x00\x10\x00".to_vec(), "audio/flac"),
        ("json_object", t("{\"a\": [1, 2, {\"b\": null}], \"c\": \"d\"}\n"), "application/json"),
        ("json_array", t("[1, 2, 3]"), "application/json"),
        ("json_scalar", t("\"just a string\""), "text/plain; charset=utf-8"),
        ("json_long", long_json(), "application/json"),
        ("ndjson", t("{\"a\": 1}\n{\"a\": 2}\n"), "application/x-ndjson"),
        ("geojson", t("{\"type\": \"Feature\", \"geometry\": null, \"properties\": {}}"), "application/geo+json"),
        ("html", t("<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>"), "text/html; charset=utf-8"),
        ("html_fragment", t("<p>hello</p>"), "text/html; charset=utf-8"),
        ("html_meta_charset", t("<html><head><meta charset=\"ISO-8859-1\"></head></html>"), "text/html; charset=ISO-8859-1"),
        ("xml", t("<?xml version=\"1.0\"?>\n<note><to>x</to></note>"), "text/xml; charset=utf-8"),
        ("xml_encoding", t("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<note/>"), "text/xml; charset=ISO-8859-1"),
        ("rss", t("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel></channel></rss>"), "application/rss+xml"),
        ("csv", t("name,age,city\nann,31,paris\nbob,42,rome\n"), "text/csv"),
        ("tsv", t("name\tage\nann\t31\nbob\t42\n"), "text/tab-separated-values"),
        ("text", t("Hello, world!\nJust some text.\n"), "text/plain; charset=utf-8"),
        ("text_utf8", t("Grüße, 世界!\n"), "text/plain; charset=utf-8"),
        ("text_latin1", b"caf\xe9 cr\xe8me\n".to_vec(), "text/plain; charset=iso-8859-1"),
        ("text_utf16", b"\xff\xfeh\x00i\x00".to_vec(), "text/plain; charset=utf-16le"),
        ("css", t("body { color: red; }\n.a > .b { margin: 0 }\n"), "text/plain; charset=utf-8"),
        ("js_plain", t("function f() { return 1; }\n"), "text/plain; charset=utf-8"),
        ("js_shebang", t("#!/usr/bin/env node\nconsole.log(1)\n"), "text/javascript"),
        ("python", t("#!/usr/bin/env python3\nprint(1)\n"), "text/x-python"),
        ("shell", t("#!/bin/sh\necho hi\n"), "text/x-shellscript"),
        ("php", t("<?php echo 1; ?>\n"), "text/x-php"),
        ("rtf", t("{\\rtf1\\ansi hello}"), "text/rtf"),
        ("srt", t("1\n00:00:01,000 --> 00:00:02,500\nHello\n"), "application/x-subrip"),
        ("vtt", t("WEBVTT\n\n00:01.000 --> 00:02.000\nHello\n"), "text/vtt"),
        ("vcard", t("BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEND:VCARD\n"), "text/vcard"),
        ("ics", t("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"), "text/calendar"),
        ("eml", t("From: a@example.com\nTo: b@example.com\nSubject: hi\n\nbody\n"), "message/rfc822"),
        ("gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(), "application/gzip"),
        ("7z", b"7z\xbc\xaf\x27\x1c\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(), "application/x-7z-compressed"),
        ("rar", b"Rar!\x1a\x07\x01\x00\x00\x00\x00\x00".to_vec(), "application/vnd.rar"),
        ("tar", tar(), "application/x-tar"),
        ("bz2", b"BZh91AY&SY\x00\x00".to_vec(), "application/x-bzip2"),
        ("xz", b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46".to_vec(), "application/x-xz"),
        ("zstd", b"\x28\xb5\x2f\xfd\x00\x00\x00\x00".to_vec(), "application/zstd"),
        ("sqlite", b"SQLite format 3\x00\x10\x00\x01\x01\x00\x40\x20\x20".to_vec(), "application/vnd.sqlite3"),
        ("wasm", b"\x00asm\x01\x00\x00\x00".to_vec(), "application/wasm"),
        ("elf_exe", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00".to_vec(), "application/x-executable"),
        ("exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec(), "application/vnd.microsoft.portable-executable"),
        ("woff2", b"wOF2\x00\x01\x00\x00\x00\x00\x00\x00".to_vec(), "font/woff2"),
        ("ps", t("%!PS-Adobe-3.0\n%%EOF\n"), "application/postscript"),
        ("binary", vec![0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0x10, 0x20, 0x80, 0x90], "application/octet-stream"),
    ]
}
