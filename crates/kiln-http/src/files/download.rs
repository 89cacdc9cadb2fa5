//! `GET|HEAD /api/files/{collection}/{record}/{filename}`: serves a record's file as PocketBase
//! does (`thumb`, `download`, `token`), streamed, with ranges, `ETag` and `Last-Modified`.
//! Only images, audio, video and PDF are shown inline; anything else (HTML, SVG, text) is an
//! attachment, and every file response carries a sandboxing Content-Security-Policy.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;

use kiln_core::{App, CoreError};

use crate::error::{api, ApiError, ApiResult};
use crate::extract::{Ctx, PathParams};

const CSP: &str = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/// Types a browser may render from the API's origin without risk (no script can run in them).
fn inline_safe(mime: &str) -> bool {
    let base = mime.split(';').next().unwrap_or("").trim();
    matches!(
        base,
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/bmp"
            | "image/x-icon"
            | "image/avif"
            | "application/pdf"
    ) || base.starts_with("video/")
        || base.starts_with("audio/")
}

/// A `Range: bytes=…` header against a file of `size` bytes: `Ok(None)` for none or one Kiln
/// ignores (several ranges), `Err` for an unsatisfiable one.
/// What the request's preconditions leave to do for an object (see [`preconditions`]).
pub(crate) enum Preconditions {
    /// Serve it: the response so far, and the byte range (`None`: all of it).
    Serve(axum::http::response::Builder, Option<(u64, u64)>),
    /// Already answered without a body: 304 or 416.
    Answered(Box<Response>),
}

/// The request's preconditions on an object with entity tag `etag` and `size` bytes, as Go's
/// `ServeContent` weighs them: 304 when `If-None-Match` holds, 416 for an unsatisfiable `Range`
/// (with the headers `res` already has), else the range to serve.
pub(crate) fn preconditions(
    res: axum::http::response::Builder,
    headers: &HeaderMap,
    etag: &str,
    size: u64,
) -> Preconditions {
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let answer = |res: axum::http::response::Builder| {
        Preconditions::Answered(Box::new(res.body(Body::empty()).unwrap_or_else(|e| {
            axum::response::IntoResponse::into_response(api(CoreError::Internal(e.to_string())))
        })))
    };
    if unchanged {
        return answer(res.status(StatusCode::NOT_MODIFIED));
    }
    match parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        size,
    ) {
        Ok(range) => Preconditions::Serve(res, range),
        Err(()) => answer(
            res.status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}")),
        ),
    }
}

pub(crate) fn parse_range(value: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| ())?
                .min(size.saturating_sub(1))
        };
        if start >= size || end < start {
            return Err(());
        }
        (start, end)
    };
    Ok(Some(range))
}

fn storage_err(e: kiln_files::StorageError) -> ApiError {
    match e {
        kiln_files::StorageError::NotFound => ApiError::not_found(),
        other => api(CoreError::Storage(other.to_string())),
    }
}

pub async fn handler(
    State(app): State<App>,
    PathParams((collection, record, filename)): PathParams<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
    ctx: Ctx,
) -> ApiResult<Response> {
    let file = app
        .resolve_file(
            &collection,
            &record,
            &filename,
            ctx.query("thumb").unwrap_or(""),
            ctx.query("token").unwrap_or(""),
            ctx.req.ip,
        )
        .await
        .map_err(api)?;
    let download =
        matches!(ctx.query("download"), Some(v) if !v.is_empty() && v != "0" && v != "false");
    let storage = app.storage();
    let meta = storage
        .head(&file.key)
        .await
        .map_err(storage_err)?
        .ok_or_else(ApiError::not_found)?;
    let etag = format!("\"{}\"", meta.etag.trim_matches('"'));
    let cache = if file.protected {
        "private, max-age=2592000"
    } else {
        "max-age=2592000, stale-while-revalidate=86400"
    };
    let mut res = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, cache)
        .header(header::CONTENT_SECURITY_POLICY, CSP)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::ETAG, &etag)
        .extension(crate::headers::Embeddable);
    if let Some(t) = meta.modified {
        res = res.header(header::LAST_MODIFIED, kiln_files::http_date(t));
    }
    let (mut res, range) = match preconditions(res, &headers, &etag, meta.size) {
        Preconditions::Serve(res, range) => (res, range),
        Preconditions::Answered(answer) => return Ok(*answer),
    };
    // The type comes from the content (never from the name the uploader chose): the storage's
    // when it keeps one, else sniffed from the first bytes of the stream.
    let mut obj = storage
        .get(&file.key, range.map(|(a, b)| (a, Some(b))))
        .await
        .map_err(storage_err)?;
    let mut first = None;
    let mime = if !meta.content_type.is_empty() && range.is_none() {
        meta.content_type.clone()
    } else if range.is_none() {
        let chunk = obj
            .body
            .next()
            .await
            .transpose()
            .map_err(|e| api(CoreError::Storage(e.to_string())))?;
        let mime = kiln_media::sniff(chunk.as_deref().unwrap_or(&[]), &file.name);
        first = chunk;
        mime
    } else {
        let last = (kiln_media::READ_LIMIT as u64 - 1).min(meta.size.saturating_sub(1));
        let mut head = storage
            .get(&file.key, Some((0, Some(last))))
            .await
            .map_err(storage_err)?;
        let chunk = head
            .body
            .next()
            .await
            .transpose()
            .map_err(|e| api(CoreError::Storage(e.to_string())))?;
        kiln_media::sniff(chunk.as_deref().unwrap_or(&[]), &file.name)
    };
    let disposition = if download || !inline_safe(&mime) {
        "attachment"
    } else {
        "inline"
    };
    let safe_name: String = file
        .name
        .chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n'))
        .collect();
    res = res
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&mime)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        )
        .header(
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{safe_name}\""),
        );
    let (status, length) = match obj.range {
        Some((a, b)) => {
            res = res.header(
                header::CONTENT_RANGE,
                format!("bytes {a}-{b}/{}", meta.size),
            );
            (StatusCode::PARTIAL_CONTENT, b - a + 1)
        }
        None => (StatusCode::OK, meta.size),
    };
    res = res.status(status).header(header::CONTENT_LENGTH, length);
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        let rest = obj.body;
        Body::from_stream(futures_util::stream::iter(first.map(Ok)).chain(rest))
    };
    res.body(body)
        .map_err(|e| api(CoreError::Internal(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-4"), 10), Ok(Some((0, 4))));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Ok(Some((5, 9))));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), Ok(Some((8, 9))));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=x-"), 10), Err(()));
    }

    proptest::proptest! {
        /// Any header on any size: no panic, and a range is always inside the file.
        #[test]
        fn any_range_header_stays_inside_the_file(
            value in "(bytes=)?[0-9 ,-]{0,24}|\\PC{0,40}",
            size in proptest::prop_oneof![0u64..4, 0u64..u64::MAX],
        ) {
            if let Ok(Some((start, end))) = parse_range(Some(&value), size) {
                proptest::prop_assert!(start <= end && end < size, "{value:?} {size}");
            }
        }
    }

    #[test]
    fn dates_and_inline_types() {
        assert_eq!(
            kiln_files::http_date(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_276_965)
            ),
            "Sat, 21 Nov 2026 16:02:45 GMT"
        );
        assert!(
            inline_safe("image/png") && inline_safe("video/mp4") && inline_safe("application/pdf")
        );
        assert!(
            !inline_safe("image/svg+xml")
                && !inline_safe("text/html; charset=utf-8")
                && !inline_safe("text/plain")
        );
    }
}
