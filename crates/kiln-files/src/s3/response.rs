//! Reading S3 responses: error documents, metadata headers, bodies.

use std::io;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LAST_MODIFIED};
use reqwest::Response;

use super::limits::MAX_XML;
use super::xml;
use crate::{ObjectMeta, StorageError};

/// Reads a 2xx response's body as text, or turns another status into an error.
pub(super) async fn expect_ok(response: Response) -> Result<String, StorageError> {
    if !response.status().is_success() {
        return Err(error_of(response).await);
    }
    read_text(response).await
}

pub(super) async fn read_text(mut response: Response) -> Result<String, StorageError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| network(&e))? {
        if body.len() + chunk.len() > MAX_XML {
            return Err(StorageError::S3 {
                status: response.status().as_u16(),
                code: "InvalidResponse".into(),
                message: "response document too large".into(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The S3 error of a non-2xx response: `<Code>` and `<Message>` of its XML document, or the
/// status's reason phrase when there is none (`HEAD`).
pub(super) async fn error_of(response: Response) -> StorageError {
    let status = response.status();
    let text = read_text(response).await.unwrap_or_default();
    let mut error = s3_error_from_xml(status.as_u16(), &text);
    if let StorageError::S3 { code, .. } = &mut error {
        if code.is_empty() {
            *code = status.canonical_reason().unwrap_or("").replace(' ', "");
        }
    }
    error
}

pub(super) fn s3_error_from_xml(status: u16, text: &str) -> StorageError {
    StorageError::S3 {
        status,
        code: xml::text(text, "Code").unwrap_or_default(),
        message: xml::text(text, "Message").unwrap_or_default(),
    }
}

/// A 404 about the key (not about the bucket) is [`StorageError::NotFound`].
pub(super) fn not_found_or(error: StorageError) -> StorageError {
    match &error {
        StorageError::S3 {
            status: 404, code, ..
        } if code == "NoSuchKey" || code == "NotFound" || code.is_empty() => StorageError::NotFound,
        _ => error,
    }
}

pub(super) fn network(e: &reqwest::Error) -> StorageError {
    StorageError::Network(describe(e))
}

/// An error and its causes, `": "`-joined.
pub(super) fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

pub(super) fn header(headers: &HeaderMap, name: &reqwest::header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

pub(super) fn content_length(headers: &HeaderMap) -> u64 {
    header(headers, &CONTENT_LENGTH).trim().parse().unwrap_or(0)
}

pub(super) fn meta_of(headers: &HeaderMap, size: u64) -> ObjectMeta {
    ObjectMeta {
        size,
        content_type: header(headers, &CONTENT_TYPE),
        modified: crate::time::parse_http_date(&header(headers, &LAST_MODIFIED)),
        etag: header(headers, &ETAG),
    }
}

/// `bytes 0-9/443` → (0, 9, 443).
pub(super) fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end, total) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (start <= end && end < total).then_some((start, end, total))
}

/// A download body that fails with `TimedOut` when no chunk arrives for `idle`.
pub(super) fn with_idle_timeout(
    body: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    idle: Duration,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    let body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>> = Box::pin(body);
    futures_util::stream::unfold(Some(body), move |state| async move {
        let mut body = state?;
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
            Ok(Some(Err(e))) => Some((Err(io::Error::other(describe(&e))), None)),
            Ok(None) => None,
            Err(_) => Some((
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("S3 download stalled for {} s", idle.as_secs()),
                )),
                None,
            )),
        }
    })
}
