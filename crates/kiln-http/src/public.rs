//! Static files from a folder (`pb_public`), as PocketBase serves them under every path the API
//! does not use: a folder answers with its `index.html` (a path without the trailing `/` is
//! redirected to it), `…/index.html` redirects to its folder, and with the index fallback a
//! missing file answers with the root `index.html` (single-page apps). Keys follow kiln-files'
//! rules, so nothing outside the folder can be reached.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use kiln_files::{Storage, StorageError};

use crate::error::ApiError;
use crate::files::download::Preconditions;

const INDEX: &str = "index.html";

/// A folder served as static files.
#[derive(Clone)]
pub struct PublicDir {
    root: PathBuf,
    store: Storage,
    /// Missing paths answer with the root `index.html`.
    index_fallback: bool,
}

impl PublicDir {
    pub fn new(root: impl Into<PathBuf>, index_fallback: bool) -> PublicDir {
        let root = root.into();
        PublicDir {
            store: Storage::local(root.clone()),
            root,
            index_fallback,
        }
    }

    /// Files served from any store (backups, on disk or S3), without an index fallback.
    pub(crate) fn from_store(store: Storage) -> PublicDir {
        PublicDir {
            root: PathBuf::new(),
            store,
            index_fallback: false,
        }
    }

    /// The answer to a GET or HEAD of `uri` that no API route took.
    pub async fn serve(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
        let url_path = uri.path();
        let decoded = percent_decode(url_path);
        let key: String = decoded
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect::<Vec<_>>()
            .join("/");
        if decoded.split('/').any(|s| s == "..") {
            return self.fallback(method, &key, headers).await;
        }
        let is_dir = !key.is_empty()
            && kiln_files::validate_key(&key).is_ok()
            && tokio::fs::metadata(self.root.join(&key))
                .await
                .is_ok_and(|m| m.is_dir());
        if key.is_empty() || is_dir {
            if !url_path.ends_with('/') {
                return moved(&format!("{url_path}/"));
            }
            let index = if key.is_empty() {
                INDEX.to_owned()
            } else {
                format!("{key}/{INDEX}")
            };
            return match self.file(method, &index, headers).await {
                Some(r) => r,
                None => self.fallback(method, &index, headers).await,
            };
        }
        if let Some(stripped) = url_path.strip_suffix('/') {
            if self.exists(&key).await && !stripped.is_empty() {
                return moved(stripped);
            }
        } else if let Some(folder) = url_path.strip_suffix(INDEX) {
            if self.exists(&key).await {
                return moved(folder);
            }
        }
        match self.file(method, &key, headers).await {
            Some(r) => r,
            None => self.fallback(method, &key, headers).await,
        }
    }

    async fn exists(&self, key: &str) -> bool {
        matches!(self.store.head(key).await, Ok(Some(_)))
    }

    /// The root `index.html` for a missing `key` when the fallback is on, else 404.
    async fn fallback(&self, method: &Method, key: &str, headers: &HeaderMap) -> Response {
        if self.index_fallback && key != INDEX {
            if let Some(r) = self.file(method, INDEX, headers).await {
                return r;
            }
        }
        not_found()
    }

    /// The file `key`, streamed (a byte range of it when asked), or `None` if there is no such
    /// file. An unchanged file (`If-None-Match`) is a 304.
    /// The file `key` (a plain name under the root) as a response, ranges and revalidation
    /// included; `None` when it does not exist.
    pub(crate) async fn serve_key(
        &self,
        method: &Method,
        key: &str,
        headers: &HeaderMap,
    ) -> Option<Response> {
        self.file(method, key, headers).await
    }

    async fn file(&self, method: &Method, key: &str, headers: &HeaderMap) -> Option<Response> {
        let meta = match self.store.head(key).await {
            Ok(Some(meta)) => meta,
            Ok(None) | Err(StorageError::NotFound | StorageError::InvalidKey(_)) => return None,
            Err(e) => {
                tracing::warn!(error = %e, key, "cannot read a public file");
                return None;
            }
        };
        let mut res = Response::builder()
            .header(header::CONTENT_TYPE, content_type(key))
            .header(header::ACCEPT_RANGES, "bytes")
            .header(header::ETAG, &meta.etag);
        if let Some(t) = meta.modified {
            res = res.header(header::LAST_MODIFIED, kiln_files::http_date(t));
        }
        let (mut res, range) =
            match crate::files::download::preconditions(res, headers, &meta.etag, meta.size) {
                Preconditions::Serve(res, range) => (res, range),
                Preconditions::Answered(answer) => return Some(*answer),
            };
        let obj = match self.store.get(key, range.map(|(a, b)| (a, Some(b)))).await {
            Ok(obj) => obj,
            Err(_) => return None,
        };
        res = res.header(header::CONTENT_LENGTH, obj.content_length());
        res = match obj.range {
            Some((a, b)) => res.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {a}-{b}/{}", meta.size),
            ),
            None => res.status(StatusCode::OK),
        };
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from_stream(obj.body)
        };
        res.body(body).ok()
    }
}

/// 301 to `path` (PocketBase's redirect), never to another host.
fn moved(path: &str) -> Response {
    let to = HeaderValue::from_str(&safe_redirect(path)).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
}

fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "File not found.").into_response()
}

/// The type of a static file by its extension (a browser runs a script or a style sheet only
/// with the right one), text in UTF-8.
fn content_type(key: &str) -> HeaderValue {
    let guess = mime_guess::from_path(key).first_raw();
    let value = match guess {
        Some(t) if t.starts_with("text/") => format!("{t}; charset=utf-8"),
        Some(t) => t.to_owned(),
        None => "application/octet-stream".to_owned(),
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// `//evil.example` must not become a redirect to another host.
fn safe_redirect(path: &str) -> String {
    let b = path.as_bytes();
    if b.len() > 1 && matches!(b[0], b'/' | b'\\') && matches!(b[1], b'/' | b'\\') {
        format!("/{}", path.trim_start_matches(['/', '\\']))
    } else {
        path.to_owned()
    }
}

/// `%XX` escapes decoded (invalid ones kept as they are); the result is checked as a key later.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_redirects() {
        assert_eq!(percent_decode("/a%20b/%2e%2e/c"), "/a b/../c");
        assert_eq!(percent_decode("/bad%zz%2"), "/bad%zz%2");
        assert_eq!(safe_redirect("//evil.example/"), "/evil.example/");
        assert_eq!(safe_redirect("/\\evil"), "/evil");
        assert_eq!(safe_redirect("/docs/"), "/docs/");
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.wasm"), "application/wasm");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
