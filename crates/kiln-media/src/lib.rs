//! Kiln's media rules, as PocketBase 0.40 applies them to uploaded files: which content type a
//! file has (sniffed from its bytes, never taken from the client), and thumbnails of images.
//!
//! A pure library: it knows nothing of HTTP, storage or databases. Thumbnailing is synchronous
//! and CPU-heavy; run it on a blocking thread.

#![warn(missing_docs)]

mod sniff;
mod thumb;

pub use sniff::{
    base_type, detect, mime_is, served_content_type, serves_inline, sniff, Detected, READ_LIMIT,
};
pub use thumb::{
    thumb_size, thumbable, thumbnail, MediaError, Thumb, ThumbMode, ThumbSpec, MAX_SOURCE_PIXELS,
    MAX_THUMB_SIDE,
};
