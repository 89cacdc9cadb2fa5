//! Image thumbnails with PocketBase's geometry (`filesystem.CreateThumb`, which uses
//! disintegration/imaging 1.6.2 with the linear filter).

use std::fmt;
use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::{self, FilterType};
use image::metadata::Orientation;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageError, ImageFormat,
    ImageReader, Limits, RgbaImage,
};

/// The largest width or height [`ThumbSpec::parse`] accepts. PocketBase accepts any size; a
/// thumb size is part of a URL anyone can request, so Kiln bounds it.
pub const MAX_THUMB_SIDE: u32 = 4096;

/// The most pixels a source image may have (50 megapixels); larger images are refused before
/// any pixel is decoded. The same bound applies to the thumbnail itself.
pub const MAX_SOURCE_PIXELS: u64 = 50_000_000;

/// The most memory a decoder may allocate (the decoded image included).
const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;

/// How a thumbnail is fitted to its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThumbMode {
    /// `WxH`: resize to cover W×H, then crop the middle.
    CropCenter,
    /// `WxHt`: resize to cover W×H, then crop keeping the top.
    CropTop,
    /// `WxHb`: resize to cover W×H, then crop keeping the bottom.
    CropBottom,
    /// `WxHf`: shrink to fit inside W×H keeping the aspect ratio; never enlarged, never cropped.
    Fit,
    /// `0xH` / `Wx0`: resize to the given height or width keeping the aspect ratio (enlarging
    /// if need be). Any suffix is ignored when a side is 0, as in PocketBase.
    Resize,
}

/// A thumb size: `WxH`, `WxHt`, `WxHb`, `WxHf`, `0xH` or `Wx0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThumbSpec {
    width: u32,
    height: u32,
    mode: ThumbMode,
}

impl ThumbSpec {
    /// Parses a thumb size as PocketBase's `^(\d+)x(\d+)(t|b|f)?$`. `None` for anything else,
    /// for `0x0`, and for a side above [`MAX_THUMB_SIDE`].
    pub fn parse(s: &str) -> Option<ThumbSpec> {
        let (w, rest) = s.split_once('x')?;
        let (h, suffix) = match rest.as_bytes().last()? {
            b't' | b'b' | b'f' => rest.split_at(rest.len() - 1),
            _ => (rest, ""),
        };
        let side = |d: &str| -> Option<u32> {
            if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let d = d.trim_start_matches('0');
            if d.len() > 5 {
                return None;
            }
            d.parse::<u32>()
                .ok()
                .or(Some(0))
                .filter(|&v| v <= MAX_THUMB_SIDE)
        };
        let (width, height) = (side(w)?, side(h)?);
        if width == 0 && height == 0 {
            return None;
        }
        let mode = if width == 0 || height == 0 {
            ThumbMode::Resize
        } else {
            match suffix {
                "t" => ThumbMode::CropTop,
                "b" => ThumbMode::CropBottom,
                "f" => ThumbMode::Fit,
                _ => ThumbMode::CropCenter,
            }
        };
        Some(ThumbSpec {
            width,
            height,
            mode,
        })
    }

    /// The requested width (0: follows the aspect ratio).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The requested height (0: follows the aspect ratio).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// How the image is fitted.
    pub fn mode(&self) -> ThumbMode {
        self.mode
    }
}

/// The canonical form, e.g. `100x100`, `100x100t`, `0x50` (a suffix given with a zero side is
/// dropped).
impl fmt::Display for ThumbSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = match self.mode {
            ThumbMode::CropTop => "t",
            ThumbMode::CropBottom => "b",
            ThumbMode::Fit => "f",
            ThumbMode::CropCenter | ThumbMode::Resize => "",
        };
        write!(f, "{}x{}{}", self.width, self.height, suffix)
    }
}

/// Whether thumbnails are made for files of this stored content type: PocketBase's list,
/// `image/png`, `image/jpg`, `image/jpeg`, `image/gif` and `image/webp`, compared exactly
/// (so not `image/apng`, `image/svg+xml`, `image/bmp`, ...).
pub fn thumbable(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpg" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// An encoded thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// Its content type: `image/jpeg` for JPEG sources, `image/gif` for GIF, `image/png` for
    /// everything else (PNG and WebP), as PocketBase.
    pub content_type: &'static str,
}

/// Why a thumbnail could not be made. PocketBase serves the original file in every such case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaError {
    /// Thumbnails are not made for this content type (see [`thumbable`]).
    NotThumbable,
    /// The bytes are not a PNG, JPEG, GIF or WebP image, or are corrupt or truncated.
    Decode(String),
    /// An animated WebP: PocketBase's WebP decoder cannot read them, so it makes no thumbnail.
    AnimatedWebp,
    /// The source has more than [`MAX_SOURCE_PIXELS`] pixels or would need more memory to
    /// decode than allowed; refused before decoding any pixel.
    ImageTooLarge,
    /// The thumbnail itself would have more than [`MAX_SOURCE_PIXELS`] pixels (a `0xH` or `Wx0`
    /// size applied to a very elongated image).
    ThumbTooLarge {
        /// The width the thumbnail would have.
        width: u64,
        /// The height the thumbnail would have.
        height: u64,
    },
    /// Encoding the thumbnail failed.
    Encode(String),
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaError::NotThumbable => f.write_str("no thumbnails for this content type"),
            MediaError::Decode(e) => write!(f, "cannot decode the image: {e}"),
            MediaError::AnimatedWebp => f.write_str("animated WebP images have no thumbnails"),
            MediaError::ImageTooLarge => {
                f.write_str("the image is too large to make a thumbnail of")
            }
            MediaError::ThumbTooLarge { width, height } => {
                write!(f, "the thumbnail would be too large ({width}x{height})")
            }
            MediaError::Encode(e) => write!(f, "cannot encode the thumbnail: {e}"),
        }
    }
}

impl std::error::Error for MediaError {}

fn decode_error(e: ImageError) -> MediaError {
    match e {
        ImageError::Limits(_) => MediaError::ImageTooLarge,
        other => MediaError::Decode(other.to_string()),
    }
}

/// Makes a thumbnail of `src`, a file whose stored content type is `mime`, as PocketBase does:
/// the first frame, JPEG EXIF orientation applied, resized with a linear filter to the geometry
/// of `spec`, and encoded as JPEG (quality 95) for `image/jpeg`, GIF for `image/gif` and PNG
/// otherwise (WebP thumbnails are PNGs).
///
/// Synchronous and CPU-heavy: run it on a blocking thread. Decoding is bounded: an image with
/// more than [`MAX_SOURCE_PIXELS`] pixels, or needing more than 256 MiB to decode, is refused
/// from its header, so a decompression bomb costs nothing.
pub fn thumbnail(src: &[u8], mime: &str, spec: &ThumbSpec) -> Result<Thumb, MediaError> {
    if !thumbable(mime) {
        return Err(MediaError::NotThumbable);
    }
    let img = decode(src)?;
    let out = geometry::render(img, spec)?;
    encode(out, mime)
}

/// The size of the thumbnail `spec` makes of a `width`×`height` image (as displayed, i.e. after
/// EXIF orientation), computed as PocketBase does, without touching any pixel.
pub fn thumb_size(width: u32, height: u32, spec: &ThumbSpec) -> Result<(u32, u32), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Decode("empty image".into()));
    }
    let steps = geometry::plan(width, height, spec)?;
    Ok(match steps.last() {
        Some(geometry::Step::Resize(w, h) | geometry::Step::Crop(_, _, w, h)) => (*w, *h),
        None => (width, height),
    })
}

fn decode(src: &[u8]) -> Result<DynamicImage, MediaError> {
    let format = image::guess_format(src).map_err(decode_error)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return Err(MediaError::Decode(format!(
            "unsupported image format {format:?}"
        )));
    }
    if format == ImageFormat::WebP && animated_webp(src) {
        return Err(MediaError::AnimatedWebp);
    }
    let mut reader = ImageReader::with_format(Cursor::new(src), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(decode_error)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(MediaError::Decode("empty image".into()));
    }
    if u64::from(w) * u64::from(h) > MAX_SOURCE_PIXELS {
        return Err(MediaError::ImageTooLarge);
    }
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    if let Some(o) = Orientation::from_exif(exif_orientation(src)) {
        img.apply_orientation(o);
    }
    Ok(img)
}

/// The VP8X header's animation flag.
fn animated_webp(src: &[u8]) -> bool {
    src.len() > 20 && &src[12..16] == b"VP8X" && src[20] & 0x02 != 0
}

/// The EXIF orientation (1-8) of a JPEG, read as imaging's `readOrientation` does: only the
/// first APP1 segment is looked at; 0 when absent or malformed. Other formats give 0.
fn exif_orientation(src: &[u8]) -> u8 {
    struct R<'a>(&'a [u8]);
    impl<'a> R<'a> {
        fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            if self.0.len() < n {
                return None;
            }
            let (h, t) = self.0.split_at(n);
            self.0 = t;
            Some(h)
        }
        fn u16(&mut self, big: bool) -> Option<u16> {
            let b = self.take(2)?;
            Some(if big {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            })
        }
        fn u32(&mut self, big: bool) -> Option<u32> {
            let b = self.take(4)?;
            let a = [b[0], b[1], b[2], b[3]];
            Some(if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        }
    }
    let read = || -> Option<u8> {
        let mut r = R(src);
        if r.u16(true)? != 0xFFD8 {
            return None;
        }
        loop {
            let marker = r.u16(true)?;
            let size = r.u16(true)?;
            if marker >> 8 != 0xFF {
                return None;
            }
            if marker == 0xFFE1 {
                break;
            }
            if size < 2 {
                return None;
            }
            r.take(usize::from(size - 2))?;
        }
        if r.u32(true)? != 0x4578_6966 {
            return None;
        }
        r.take(2)?;
        let big = match r.u16(true)? {
            0x4D4D => true,
            0x4949 => false,
            _ => return None,
        };
        r.take(2)?;
        let offset = r.u32(big)?;
        if offset < 8 {
            return None;
        }
        r.take(usize::try_from(offset - 8).ok()?)?;
        let tags = r.u16(big)?;
        for _ in 0..tags {
            if r.u16(big)? != 0x0112 {
                r.take(10)?;
                continue;
            }
            r.take(6)?;
            let v = r.u16(big)?;
            return u8::try_from(v).ok().filter(|v| (1..=8).contains(v));
        }
        None
    };
    read().unwrap_or(0)
}

fn encode(img: RgbaImage, mime: &str) -> Result<Thumb, MediaError> {
    let (w, h) = img.dimensions();
    let mut bytes = Vec::new();
    let enc_err = |e: ImageError| MediaError::Encode(e.to_string());
    let content_type = match mime {
        "image/jpeg" => {
            let rgb = DynamicImage::ImageRgba8(img).into_rgb8();
            JpegEncoder::new_with_quality(&mut bytes, 95)
                .write_image(rgb.as_raw(), w, h, ExtendedColorType::Rgb8)
                .map_err(enc_err)?;
            "image/jpeg"
        }
        "image/gif" => {
            let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
            enc.encode(img.as_raw(), w, h, ExtendedColorType::Rgba8)
                .map_err(enc_err)?;
            drop(enc);
            "image/gif"
        }
        _ => {
            // Like Go's PNG encoder for an NRGBA image: RGB when fully opaque, RGBA otherwise.
            if img.pixels().all(|p| p[3] == 255) {
                let rgb = DynamicImage::ImageRgba8(img).into_rgb8();
                PngEncoder::new(&mut bytes).write_image(rgb.as_raw(), w, h, ExtendedColorType::Rgb8)
            } else {
                PngEncoder::new(&mut bytes).write_image(
                    img.as_raw(),
                    w,
                    h,
                    ExtendedColorType::Rgba8,
                )
            }
            .map_err(enc_err)?;
            "image/png"
        }
    };
    Ok(Thumb {
        bytes,
        content_type,
    })
}

/// imaging's Resize / Fit / Fill, reproducing its sizes and crop offsets exactly.
pub(crate) mod geometry {
    use super::*;

    /// Above this many pixels, the resize-then-crop PocketBase does for small sources is done
    /// as crop-then-resize (same size, sub-pixel differences) to bound the work.
    const MAX_INTERMEDIATE_PIXELS: u64 = 1_000_000;

    /// A crop anchor.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub(crate) enum Anchor {
        Center,
        Top,
        Bottom,
    }

    /// One step of the pipeline, in source pixels.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub(crate) enum Step {
        /// Keep this rectangle (x, y, w, h).
        Crop(u32, u32, u32, u32),
        /// Resample to this size.
        Resize(u32, u32),
    }

    /// imaging's `Resize` target size: a 0 side follows the aspect ratio (at least 1).
    fn resize_dims(src_w: u64, src_h: u64, w: u64, h: u64) -> (u64, u64) {
        let mut dw = w;
        let mut dh = h;
        if dw == 0 {
            let t = dh as f64 * src_w as f64 / src_h as f64;
            dw = (t + 0.5).floor().max(1.0) as u64;
        }
        if dh == 0 {
            let t = dw as f64 * src_h as f64 / src_w as f64;
            dh = (t + 0.5).floor().max(1.0) as u64;
        }
        (dw, dh)
    }

    /// imaging's `CropAnchor` rectangle for a `cw`×`ch` crop of a `w`×`h` image, clipped.
    fn crop_anchor(w: u64, h: u64, cw: u64, ch: u64, anchor: Anchor) -> (u64, u64, u64, u64) {
        let (w, h, cw, ch) = (w as i64, h as i64, cw as i64, ch as i64);
        let x = (w - cw) / 2;
        let y = match anchor {
            Anchor::Top => 0,
            Anchor::Bottom => h - ch,
            Anchor::Center => (h - ch) / 2,
        };
        let (x0, y0) = (x.max(0), y.max(0));
        let (x1, y1) = ((x + cw).min(w), (y + ch).min(h));
        (
            x0 as u64,
            y0 as u64,
            (x1 - x0).max(0) as u64,
            (y1 - y0).max(0) as u64,
        )
    }

    fn too_large(w: u64, h: u64) -> Result<(), MediaError> {
        if w.saturating_mul(h) > MAX_SOURCE_PIXELS {
            return Err(MediaError::ThumbTooLarge {
                width: w,
                height: h,
            });
        }
        Ok(())
    }

    fn u(v: u64) -> u32 {
        u32::try_from(v).unwrap_or(u32::MAX)
    }

    /// The steps that turn a `src_w`×`src_h` image into the thumbnail `spec` asks for.
    pub(crate) fn plan(src_w: u32, src_h: u32, spec: &ThumbSpec) -> Result<Vec<Step>, MediaError> {
        let (sw, sh) = (u64::from(src_w), u64::from(src_h));
        let (w, h) = (u64::from(spec.width), u64::from(spec.height));
        let anchor = match spec.mode {
            ThumbMode::Resize => {
                let (dw, dh) = resize_dims(sw, sh, w, h);
                too_large(dw, dh)?;
                return Ok(vec![Step::Resize(u(dw), u(dh))]);
            }
            ThumbMode::Fit => {
                if sw <= w && sh <= h {
                    return Ok(vec![]);
                }
                let src_aspect = sw as f64 / sh as f64;
                let max_aspect = w as f64 / h as f64;
                let (nw, nh) = if src_aspect > max_aspect {
                    (w, (w as f64 / src_aspect) as u64)
                } else {
                    ((h as f64 * src_aspect) as u64, h)
                };
                let (dw, dh) = resize_dims(sw, sh, nw, nh);
                return Ok(vec![Step::Resize(u(dw), u(dh))]);
            }
            ThumbMode::CropCenter => Anchor::Center,
            ThumbMode::CropTop => Anchor::Top,
            ThumbMode::CropBottom => Anchor::Bottom,
        };
        if sw == w && sh == h {
            return Ok(vec![]);
        }
        let src_aspect = sw as f64 / sh as f64;
        let dst_aspect = w as f64 / h as f64;
        let crop_then_resize = || {
            let (cw, ch) = if src_aspect < dst_aspect {
                (
                    sw,
                    ((sw as f64 * h as f64 / w as f64).max(1.0) + 0.5) as u64,
                )
            } else {
                (
                    ((sh as f64 * w as f64 / h as f64).max(1.0) + 0.5) as u64,
                    sh,
                )
            };
            let (x, y, cw, ch) = crop_anchor(sw, sh, cw, ch, anchor);
            vec![
                Step::Crop(u(x), u(y), u(cw), u(ch)),
                Step::Resize(u(w), u(h)),
            ]
        };
        if sw >= 100 && sh >= 100 {
            return Ok(crop_then_resize());
        }
        // Small sources: resize to cover, then crop.
        let (tw, th) = if src_aspect < dst_aspect {
            resize_dims(sw, sh, w, 0)
        } else {
            resize_dims(sw, sh, 0, h)
        };
        if tw.saturating_mul(th) > MAX_INTERMEDIATE_PIXELS {
            // The intermediate image would be big (a tiny, very elongated source): crop first
            // instead, which gives the same size and, to the eye, the same picture.
            return Ok(crop_then_resize());
        }
        let (x, y, cw, ch) = crop_anchor(tw, th, w, h, anchor);
        Ok(vec![
            Step::Resize(u(tw), u(th)),
            Step::Crop(u(x), u(y), u(cw), u(ch)),
        ])
    }

    /// Runs the plan on the decoded image.
    pub(crate) fn render(img: DynamicImage, spec: &ThumbSpec) -> Result<RgbaImage, MediaError> {
        let steps = plan(img.width(), img.height(), spec)?;
        let mut cur: Option<RgbaImage> = None;
        let mut src = Some(img);
        for step in steps {
            cur = Some(match step {
                Step::Crop(x, y, w, h) => match (cur.take(), src.take()) {
                    (Some(c), _) => imageops::crop_imm(&c, x, y, w, h).to_image(),
                    (None, Some(s)) => s.crop_imm(x, y, w, h).into_rgba8(),
                    (None, None) => unreachable!("the source is consumed only once"),
                },
                Step::Resize(w, h) => {
                    let c = match (cur.take(), src.take()) {
                        (Some(c), _) => c,
                        (None, Some(s)) => s.into_rgba8(),
                        (None, None) => unreachable!("the source is consumed only once"),
                    };
                    resize(c, w, h)
                }
            });
        }
        Ok(match (cur, src) {
            (Some(c), _) => c,
            (None, Some(s)) => s.into_rgba8(),
            (None, None) => unreachable!("the source is consumed only once"),
        })
    }

    /// Linear resampling weighted by alpha (as imaging does), so transparent pixels do not
    /// darken the edges of what is visible.
    fn resize(mut img: RgbaImage, w: u32, h: u32) -> RgbaImage {
        if img.dimensions() == (w, h) {
            return img;
        }
        let opaque = img.pixels().all(|p| p[3] == 255);
        if opaque {
            return imageops::resize(&img, w, h, FilterType::Triangle);
        }
        for p in img.pixels_mut() {
            let a = u16::from(p[3]);
            for c in &mut p.0[..3] {
                *c = ((u16::from(*c) * a + 127) / 255) as u8;
            }
        }
        let mut out = imageops::resize(&img, w, h, FilterType::Triangle);
        for p in out.pixels_mut() {
            let a = u16::from(p[3]);
            if a == 0 {
                p.0 = [0, 0, 0, 0];
                continue;
            }
            for c in &mut p.0[..3] {
                *c = ((u16::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::geometry::{plan, Step};
    use super::*;

    fn spec(s: &str) -> ThumbSpec {
        ThumbSpec::parse(s).unwrap()
    }

    #[test]
    fn parse() {
        assert_eq!(spec("100x50").mode(), ThumbMode::CropCenter);
        assert_eq!(spec("100x50t").mode(), ThumbMode::CropTop);
        assert_eq!(spec("100x50b").mode(), ThumbMode::CropBottom);
        assert_eq!(spec("100x50f").mode(), ThumbMode::Fit);
        assert_eq!(spec("0x50").mode(), ThumbMode::Resize);
        assert_eq!(spec("100x0f").mode(), ThumbMode::Resize);
        assert_eq!(spec("0100x050").to_string(), "100x50");
        assert_eq!(spec("100x0t").to_string(), "100x0");
        assert_eq!(spec("4096x4096").width(), 4096);
        for bad in [
            "",
            "x",
            "0x0",
            "100",
            "100x",
            "x100",
            "100X100",
            "100x100c",
            "-1x5",
            "+1x5",
            "1x5 ",
            " 1x5",
            "4097x1",
            "99999999999999999999x1",
            "1x1tf",
            "１x1",
        ] {
            assert_eq!(ThumbSpec::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn plans_follow_imaging() {
        // Large source: crop to the aspect ratio at the anchor, then resize.
        assert_eq!(
            plan(400, 200, &spec("100x100")).unwrap(),
            vec![Step::Crop(100, 0, 200, 200), Step::Resize(100, 100)]
        );
        assert_eq!(
            plan(200, 400, &spec("100x100t")).unwrap(),
            vec![Step::Crop(0, 0, 200, 200), Step::Resize(100, 100)]
        );
        assert_eq!(
            plan(200, 400, &spec("100x100b")).unwrap(),
            vec![Step::Crop(0, 200, 200, 200), Step::Resize(100, 100)]
        );
        // Small source: resize to cover, then crop.
        assert_eq!(
            plan(50, 30, &spec("100x100")).unwrap(),
            vec![Step::Resize(167, 100), Step::Crop(33, 0, 100, 100)]
        );
        // Same size: nothing to do; fit never enlarges.
        assert_eq!(plan(100, 100, &spec("100x100")).unwrap(), vec![]);
        assert_eq!(plan(50, 30, &spec("100x100f")).unwrap(), vec![]);
        // Fit truncates, resize rounds.
        assert_eq!(
            plan(300, 200, &spec("70x70f")).unwrap(),
            vec![Step::Resize(70, 46)]
        );
        assert_eq!(
            plan(300, 200, &spec("100x0")).unwrap(),
            vec![Step::Resize(100, 67)]
        );
        // A tiny elongated source would need a huge intermediate image: crop first.
        assert_eq!(
            plan(1, 50_000, &spec("4096x4096")).unwrap(),
            vec![Step::Crop(0, 24_999, 1, 1), Step::Resize(4096, 4096)]
        );
        assert!(matches!(
            plan(1000, 3, &spec("0x4096")),
            Err(MediaError::ThumbTooLarge { .. })
        ));
    }

    #[test]
    fn orientation_of_non_jpeg_is_zero() {
        assert_eq!(exif_orientation(b"\x89PNG\r\n\x1a\n"), 0);
        assert_eq!(exif_orientation(b""), 0);
        assert_eq!(exif_orientation(b"\xFF\xD8\xFF\xE1\x00\x10Exif\x00\x00MM\x00\x2A\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00"), 6);
    }
}
