//! Hostile input: every prefix of every sample, bit flips and random bytes. Nothing may panic,
//! and detection must be a pure function of the bytes.

use kiln_media::{detect, sniff, thumbnail, ThumbSpec};

use crate::samples::{self, corpus};

/// xorshift64*: deterministic pseudo-random bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn sniffing_never_panics_on_truncations() {
    for (_, bytes, _) in corpus() {
        let step = if bytes.len() > 600 { 13 } else { 1 };
        for end in (0..=bytes.len().min(5000)).step_by(step) {
            let a = sniff(&bytes[..end], "x");
            assert_eq!(a, detect(&bytes[..end]).mime);
        }
    }
}

#[test]
fn sniffing_never_panics_on_random_bytes() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..3000 {
        let len = (rng.next() % 5000) as usize;
        let mut data = rng.bytes(len);
        // Half of the inputs start like a known format, to go deeper into its checks.
        if i % 2 == 0 {
            let c = corpus();
            let prefix = &c[(rng.next() as usize) % c.len()].1;
            let n = prefix.len().min(len).min(64);
            data[..n].copy_from_slice(&prefix[..n]);
        }
        let _ = sniff(&data, "x");
    }
}

#[test]
fn sniffing_handles_pathological_text() {
    for s in [
        "[".repeat(10_000),
        "{\"a\":".repeat(2000),
        "<!--".repeat(2000),
        "<meta ".repeat(2000),
        "\"".repeat(5000),
        "#!".to_string(),
        "1\n".repeat(3000),
        "a,\"".repeat(3000),
        "<?xml ".repeat(1000),
        "<svg ".repeat(1000),
    ] {
        let _ = sniff(s.as_bytes(), "x");
    }
}

#[test]
fn thumbnailing_never_panics_on_damaged_images() {
    let mut rng = Rng(42);
    let spec = ThumbSpec::parse("8x8").unwrap();
    let sources = [
        ("image/png", samples::png(16, 12)),
        (
            "image/jpeg",
            samples::encode(&samples::rgb(16, 12), image::ImageFormat::Jpeg),
        ),
        (
            "image/gif",
            samples::encode(&samples::rgb(16, 12), image::ImageFormat::Gif),
        ),
        (
            "image/webp",
            samples::encode(&samples::rgb(16, 12), image::ImageFormat::WebP),
        ),
    ];
    for (mime, src) in &sources {
        for end in (0..src.len()).step_by(3) {
            let _ = thumbnail(&src[..end], mime, &spec);
        }
        for _ in 0..300 {
            let mut bad = src.clone();
            for _ in 0..(1 + rng.next() % 4) {
                let i = (rng.next() as usize) % bad.len();
                bad[i] ^= 1 << (rng.next() % 8);
            }
            let _ = thumbnail(&bad, mime, &spec);
        }
    }
    for _ in 0..300 {
        let len = (rng.next() % 2000) as usize;
        let data = rng.bytes(len);
        let _ = thumbnail(&data, "image/png", &spec);
    }
}
