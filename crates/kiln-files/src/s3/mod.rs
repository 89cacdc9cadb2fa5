//! Objects in an S3-compatible bucket, over HTTP(S) with our own SigV4 signing.
//!
//! Requests are signed in the `Authorization` header. Uploads from files stream from disk with a
//! `Content-Length` and `x-amz-content-sha256: UNSIGNED-PAYLOAD`; files above the multipart
//! threshold (5 GiB by default, S3's single-PUT limit) go up in parts. Downloads stream.
//! Timeouts are idle timeouts (connect, no upload progress, no download progress), never a total
//! one, so a large body may take as long as it needs while it moves.

mod config;
mod limits;
mod multipart;
mod response;
mod sigv4;
mod xml;

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::CONTENT_LENGTH;
use reqwest::{Body, Method, Response, StatusCode, Url};
use tokio::io::AsyncSeekExt;

pub use self::config::{S3Config, S3Tuning};
use self::limits::{DELETE_BATCH, MAX_OBJECT, MAX_SINGLE_PUT, MIN_PART};
use self::response::{
    content_length, describe, error_of, expect_ok, header, meta_of, network, not_found_or,
    parse_content_range, with_idle_timeout,
};
use self::sigv4::{canonical_query, sha256_hex, uri_encode, EMPTY_SHA256, UNSIGNED_PAYLOAD};
use crate::key::{validate_key, validate_prefix};
use crate::{file_stream, resolve_range, Object, ObjectMeta, StorageError};

/// Statuses S3 answers when the request may well succeed a moment later.
const TRANSIENT: [StatusCode; 5] = [
    StatusCode::TOO_MANY_REQUESTS,
    StatusCode::INTERNAL_SERVER_ERROR,
    StatusCode::BAD_GATEWAY,
    StatusCode::SERVICE_UNAVAILABLE,
    StatusCode::GATEWAY_TIMEOUT,
];

/// What a request sends; made anew for each attempt.
pub(super) enum Payload<'a> {
    Empty,
    Bytes(Bytes),
    /// `len` bytes of the file at `path` from `offset`, streamed (opened again for a retry).
    File {
        path: &'a Path,
        offset: u64,
        len: u64,
    },
}

/// A bucket on an S3-compatible server. Cheap to clone (the HTTP client is shared).
#[derive(Clone)]
pub struct S3Store {
    client: reqwest::Client,
    bucket: String,
    region: String,
    access_key: String,
    secret: String,
    scheme: String,
    /// `host[:port]` of the endpoint, without a default port (as the `Host` header has it).
    endpoint_host: String,
    /// The endpoint's path without a trailing `/` (usually empty).
    base_path: String,
    path_style: bool,
    tuning: S3Tuning,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field(
                "endpoint",
                &format_args!("{}://{}{}", self.scheme, self.endpoint_host, self.base_path),
            )
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// A prepared request target.
struct Target {
    url: Url,
    host: String,
}

/// Shared upload progress clock: milliseconds since `start` of the last chunk handed to hyper.
#[derive(Clone)]
struct Progress {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }
    fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

impl S3Store {
    pub(crate) fn new(cfg: S3Config, tuning: S3Tuning) -> Result<S3Store, StorageError> {
        let config = |msg: &str| StorageError::Config(msg.to_owned());
        let bucket = cfg.bucket.trim().to_owned();
        let region = cfg.region.trim().to_owned();
        if bucket.is_empty() {
            return Err(config("S3 bucket is required"));
        }
        if bucket.len() > 255
            || !bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(config(
                "S3 bucket name may only have letters, digits, '-', '.' and '_'",
            ));
        }
        if !cfg.force_path_style
            && (bucket.bytes().any(|b| b.is_ascii_uppercase() || b == b'_')
                || bucket.starts_with(['-', '.'])
                || bucket.ends_with(['-', '.']))
        {
            return Err(config(
                "S3 bucket name is not a valid host name label: use path-style addressing",
            ));
        }
        if region.is_empty() {
            return Err(config("S3 region is required"));
        }
        if region
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(config(
                "S3 region may only have letters, digits, '-' and '_'",
            ));
        }
        if cfg.access_key.trim().is_empty() || cfg.secret.is_empty() {
            return Err(config("S3 access key and secret are required"));
        }
        let endpoint = cfg.endpoint.trim();
        if endpoint.is_empty() {
            return Err(config("S3 endpoint is required"));
        }
        let with_scheme = if endpoint.contains("://") {
            endpoint.to_owned()
        } else {
            format!("https://{endpoint}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| {
            StorageError::Config(format!("S3 endpoint {endpoint:?} is not a URL: {e}"))
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(config("S3 endpoint must be an http:// or https:// URL"));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(config("S3 endpoint has no host"));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(config("S3 endpoint must not contain credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(config("S3 endpoint must not have a query or fragment"));
        }
        let endpoint_host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let base_path = url.path().trim_end_matches('/').to_owned();

        if !(1..=1000).contains(&tuning.list_page_size) {
            return Err(config("list page size must be between 1 and 1000"));
        }
        if tuning.multipart_threshold > MAX_SINGLE_PUT {
            return Err(config("multipart threshold must be at most 5 GiB"));
        }
        if tuning.part_size < MIN_PART || tuning.part_size > MAX_SINGLE_PUT {
            return Err(config(
                "multipart part size must be between 5 MiB and 5 GiB",
            ));
        }
        if tuning.idle_timeout.is_zero() {
            return Err(config("idle timeout must not be zero"));
        }

        let mut builder = reqwest::Client::builder()
            .connect_timeout(tuning.idle_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kiln-files/", env!("CARGO_PKG_VERSION")));
        for (name, addr) in &tuning.resolve {
            builder = builder.resolve(name, *addr);
        }
        let client = builder.build().map_err(|e| {
            StorageError::Config(format!("cannot build the HTTP client: {}", describe(&e)))
        })?;
        Ok(S3Store {
            client,
            bucket,
            region,
            access_key: cfg.access_key.trim().to_owned(),
            secret: cfg.secret,
            scheme: url.scheme().to_owned(),
            endpoint_host,
            base_path,
            path_style: cfg.force_path_style,
            tuning,
        })
    }

    /// The URL and `Host` of an object (`key`) or of the bucket (`None`).
    fn target(&self, key: Option<&str>, query: &[(&str, &str)]) -> Result<Target, StorageError> {
        let mut path = self.base_path.clone();
        if self.path_style {
            path.push('/');
            path.push_str(&uri_encode(&self.bucket, false));
        }
        if let Some(key) = key {
            path.push('/');
            path.push_str(&uri_encode(key, true));
        } else if !self.path_style {
            path.push('/');
        }
        let host = if self.path_style {
            self.endpoint_host.clone()
        } else {
            format!("{}.{}", self.bucket, self.endpoint_host)
        };
        let mut url = format!("{}://{host}{path}", self.scheme);
        let query = canonical_query(query);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let url = Url::parse(&url)
            .map_err(|e| StorageError::Config(format!("cannot build a request URL: {e}")))?;
        Ok(Target { url, host })
    }

    /// Signs and sends one request, again after a transient failure (see
    /// [`S3Tuning::retries`]). `signed` headers are signed and sent; the response is returned
    /// whatever its status. Waiting is bounded by the idle timeout, measured from the last
    /// upload progress for a file.
    async fn send(
        &self,
        method: Method,
        key: Option<&str>,
        query: &[(&str, &str)],
        signed: &[(&str, String)],
        payload_hash: &str,
        payload: Payload<'_>,
    ) -> Result<Response, StorageError> {
        let mut delay = self.tuning.retry_delay;
        let mut attempt = 0;
        loop {
            let progress = Progress::new();
            let body = match &payload {
                Payload::Empty => None,
                Payload::Bytes(b) => Some((Body::from(b.clone()), b.len() as u64)),
                Payload::File { path, offset, len } => {
                    let mut file = tokio::fs::File::open(path)
                        .await
                        .map_err(|e| crate::error::io("open source", path, &e))?;
                    if *offset > 0 {
                        file.seek(io::SeekFrom::Start(*offset))
                            .await
                            .map_err(|e| crate::error::io("seek", path, &e))?;
                    }
                    let stream = track(file_stream(file, *len), progress.clone());
                    Some((Body::wrap_stream(stream), *len))
                }
            };
            let result = self
                .send_once(&method, key, query, signed, payload_hash, body, &progress)
                .await;
            let transient = match &result {
                Ok(r) => TRANSIENT.contains(&r.status()),
                Err(StorageError::Network(_)) => true,
                Err(_) => false,
            };
            if !transient || attempt >= self.tuning.retries {
                return result;
            }
            attempt += 1;
            tracing::debug!(%method, attempt, "S3 request failed transiently; retrying");
            tokio::time::sleep(delay).await;
            delay *= 4;
        }
    }

    /// One signed request (see [`S3Store::send`]).
    #[allow(clippy::too_many_arguments)]
    async fn send_once(
        &self,
        method: &Method,
        key: Option<&str>,
        query: &[(&str, &str)],
        signed: &[(&str, String)],
        payload_hash: &str,
        body: Option<(Body, u64)>,
        progress: &Progress,
    ) -> Result<Response, StorageError> {
        let target = self.target(key, query)?;
        let amz_date = crate::time::amz_date(SystemTime::now());
        let mut headers: Vec<(&str, &str)> = vec![
            ("host", &target.host),
            ("x-amz-content-sha256", payload_hash),
            ("x-amz-date", &amz_date),
        ];
        headers.extend(signed.iter().map(|(n, v)| (*n, v.as_str())));
        let signature = sigv4::Signer {
            access_key: &self.access_key,
            secret: &self.secret,
            region: &self.region,
            service: "s3",
        }
        .sign(&sigv4::Request {
            method: method.as_str(),
            canonical_uri: target.url.path(),
            canonical_query: target.url.query().unwrap_or(""),
            headers: &headers,
            payload_hash,
            amz_date: &amz_date,
        });
        let what = format!("{method} {}", target.url);
        let mut request = self.client.request(method.clone(), target.url);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        request = request.header(reqwest::header::AUTHORIZATION, signature.authorization);
        if let Some((body, len)) = body {
            request = request.header(CONTENT_LENGTH, len).body(body);
        }

        let idle = self.tuning.idle_timeout;
        let pending = request.send();
        tokio::pin!(pending);
        loop {
            let last = progress.last();
            match tokio::time::timeout_at((last + idle).into(), &mut pending).await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(e)) => return Err(network(&e)),
                Err(_) if progress.last() == last => {
                    return Err(StorageError::Network(format!(
                        "{what}: no progress for {} s",
                        idle.as_secs()
                    )))
                }
                Err(_) => continue,
            }
        }
    }

    pub(crate) async fn put_bytes(
        &self,
        key: &str,
        data: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        validate_key(key)?;
        let hash = sha256_hex(&data);
        let response = self
            .send(
                Method::PUT,
                Some(key),
                &[],
                &[("content-type", content_type_or_default(content_type))],
                &hash,
                Payload::Bytes(data),
            )
            .await?;
        expect_ok(response).await.map(drop)
    }

    pub(crate) async fn put_file(
        &self,
        key: &str,
        src: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        validate_key(key)?;
        let meta = tokio::fs::metadata(src)
            .await
            .map_err(|e| crate::error::io("stat source", src, &e))?;
        if !meta.is_file() {
            return Err(StorageError::Io(format!(
                "{} is not a regular file",
                src.display()
            )));
        }
        let len = meta.len();
        if len > MAX_OBJECT {
            return Err(StorageError::TooLarge {
                size: len,
                max: MAX_OBJECT,
            });
        }
        if len > self.tuning.multipart_threshold {
            return self.put_multipart(key, src, len, content_type).await;
        }
        let response = self
            .send(
                Method::PUT,
                Some(key),
                &[],
                &[("content-type", content_type_or_default(content_type))],
                UNSIGNED_PAYLOAD,
                Payload::File {
                    path: src,
                    offset: 0,
                    len,
                },
            )
            .await?;
        expect_ok(response).await.map(drop)
    }

    pub(crate) async fn get(
        &self,
        key: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Object, StorageError> {
        validate_key(key)?;
        let mut signed = Vec::new();
        if let Some((start, end)) = range {
            if end.is_some_and(|end| end < start) {
                // S3 ignores a malformed range and sends everything: answer as the local store.
                let size = self.head(key).await?.ok_or(StorageError::NotFound)?.size;
                return Err(StorageError::InvalidRange { size });
            }
            let end = end.map(|e| e.to_string()).unwrap_or_default();
            signed.push(("range", format!("bytes={start}-{end}")));
        }
        let response = self
            .send(
                Method::GET,
                Some(key),
                &[],
                &signed,
                EMPTY_SHA256,
                Payload::Empty,
            )
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let (size, served) = match status {
            StatusCode::OK => (content_length(&headers), None),
            StatusCode::PARTIAL_CONTENT => {
                let Some((start, end, total)) =
                    parse_content_range(&header(&headers, &reqwest::header::CONTENT_RANGE))
                else {
                    return Err(StorageError::S3 {
                        status: 206,
                        code: "InvalidResponse".into(),
                        message: "partial content without a usable Content-Range".into(),
                    });
                };
                (total, Some((start, end)))
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                let size = self.head(key).await?.ok_or(StorageError::NotFound)?.size;
                // Re-check: the object may have changed between the two requests.
                if let Some((start, end)) = range {
                    resolve_range(start, end, size)?;
                }
                return Err(StorageError::InvalidRange { size });
            }
            _ => return Err(not_found_or(error_of(response).await)),
        };
        let meta = meta_of(&headers, size);
        let body = with_idle_timeout(response.bytes_stream(), self.tuning.idle_timeout);
        Ok(Object {
            meta,
            range: served,
            body: Box::pin(body),
        })
    }

    pub(crate) async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        validate_key(key)?;
        let response = self
            .send(
                Method::HEAD,
                Some(key),
                &[],
                &[],
                EMPTY_SHA256,
                Payload::Empty,
            )
            .await?;
        match response.status() {
            StatusCode::OK => {
                let headers = response.headers();
                Ok(Some(meta_of(headers, content_length(headers))))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(error_of(response).await),
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        self.delete_any(key).await
    }

    pub(crate) async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        validate_prefix(prefix)?;
        let keys = self.list_keys(prefix).await?;
        let mut batches = keys.chunks(DELETE_BATCH);
        while let Some(batch) = batches.next() {
            if !self.delete_objects(batch).await? {
                // DeleteObjects is not implemented by this server: one by one.
                for key in batch.iter().chain(batches.flatten()) {
                    self.delete_any(key).await?;
                }
                break;
            }
        }
        Ok(())
    }

    /// Every key starting with `prefix` (all of them for `""`), in S3's order.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .list(prefix)
            .await?
            .into_iter()
            .map(|l| l.key)
            .collect())
    }

    /// Every object whose key starts with `prefix`, in S3's order, following ListObjectsV2
    /// continuation tokens ([`S3Tuning::list_page_size`] keys per request).
    pub async fn list(&self, prefix: &str) -> Result<Vec<crate::Listed>, StorageError> {
        let page_size = self.tuning.list_page_size.to_string();
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![
                ("list-type", "2"),
                ("prefix", prefix),
                ("max-keys", page_size.as_str()),
            ];
            if let Some(token) = &token {
                query.push(("continuation-token", token));
            }
            let response = self
                .send(Method::GET, None, &query, &[], EMPTY_SHA256, Payload::Empty)
                .await?;
            let text = expect_ok(response).await?;
            for contents in xml::blocks(&text, "Contents") {
                if let Some(key) = xml::text(contents, "Key") {
                    if key.starts_with(prefix) {
                        keys.push(crate::Listed {
                            key,
                            size: xml::text(contents, "Size")
                                .and_then(|s| s.trim().parse().ok())
                                .unwrap_or(0),
                            modified: xml::text(contents, "LastModified")
                                .and_then(|t| crate::time::parse_iso8601(&t)),
                        });
                    }
                }
            }
            if !matches!(
                xml::text(&text, "IsTruncated").as_deref().map(str::trim),
                Some("true")
            ) {
                return Ok(keys);
            }
            match xml::text(&text, "NextContinuationToken") {
                Some(next) if !next.is_empty() && token.as_deref() != Some(next.as_str()) => {
                    token = Some(next)
                }
                _ => {
                    return Err(StorageError::S3 {
                        status: 200,
                        code: "InvalidResponse".into(),
                        message: "truncated listing without a new continuation token".into(),
                    })
                }
            }
        }
    }

    /// DeleteObjects for up to 1000 keys. `Ok(false)` when the server does not implement it.
    async fn delete_objects(&self, keys: &[String]) -> Result<bool, StorageError> {
        let mut doc = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>",
        );
        for key in keys {
            doc.push_str("<Object><Key>");
            doc.push_str(&xml::escape(key));
            doc.push_str("</Key></Object>");
        }
        doc.push_str("</Delete>");
        let md5 = {
            use md5::Digest as _;
            base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(doc.as_bytes()))
        };
        let hash = sha256_hex(doc.as_bytes());
        let response = self
            .send(
                Method::POST,
                None,
                &[("delete", "")],
                &[
                    ("content-md5", md5),
                    ("content-type", "application/xml".to_owned()),
                ],
                &hash,
                Payload::Bytes(doc.into()),
            )
            .await?;
        if response.status() == StatusCode::NOT_IMPLEMENTED {
            return Ok(false);
        }
        let text = match expect_ok(response).await {
            Ok(text) => text,
            Err(StorageError::S3 { code, .. }) if code == "NotImplemented" => return Ok(false),
            Err(e) => return Err(e),
        };
        for block in xml::blocks(&text, "Error") {
            let code = xml::text(block, "Code").unwrap_or_default();
            if code != "NoSuchKey" {
                let key = xml::text(block, "Key").unwrap_or_default();
                let message = xml::text(block, "Message").unwrap_or_default();
                return Err(StorageError::S3 {
                    status: 200,
                    code,
                    message: format!("{key}: {message}"),
                });
            }
        }
        Ok(true)
    }

    /// DELETE of a listed key, which need not follow this crate's key rules.
    async fn delete_any(&self, key: &str) -> Result<(), StorageError> {
        let response = self
            .send(
                Method::DELETE,
                Some(key),
                &[],
                &[],
                EMPTY_SHA256,
                Payload::Empty,
            )
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        match not_found_or(error_of(response).await) {
            StorageError::NotFound => Ok(()),
            e => Err(e),
        }
    }
}

fn content_type_or_default(content_type: &str) -> String {
    if content_type.trim().is_empty() {
        "application/octet-stream".to_owned()
    } else {
        content_type.trim().to_owned()
    }
}

/// Records upload progress each time hyper takes a chunk.
fn track(
    stream: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    progress: Progress,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    stream.map(move |chunk| {
        progress.touch();
        chunk
    })
}

#[cfg(test)]
mod tests;
