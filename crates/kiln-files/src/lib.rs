//! Kiln's blob storage: record files and their thumbnails, on local disk or in any
//! S3-compatible bucket.
//!
//! [`Storage`] is one enum over the two backends, with the same async methods and the same
//! key rules ([`validate_key`]). Bodies stream in both directions: an upload is read from its
//! file as it is sent, a download is a [`Stream`] of chunks, so memory use does not grow with
//! file size. This crate knows nothing of HTTP servers, records or the database: the caller
//! builds keys (`<collectionId>/<recordId>/<filename>`) and maps [`StorageError`] to responses.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kiln_files::StorageError> {
//! use kiln_files::Storage;
//! let storage = Storage::local("pb_data/storage");
//! storage.put_bytes("pbc_1/abc/hello_k2j3h4g5f6.txt", "hi".into(), "text/plain").await?;
//! let object = storage.get("pbc_1/abc/hello_k2j3h4g5f6.txt", Some((0, Some(0)))).await?;
//! assert_eq!(object.range, Some((0, 0)));
//! assert_eq!(object.into_bytes().await?, "h");
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod key;
mod local;
mod s3;
mod time;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncReadExt;
use tracing::Instrument;

pub use error::StorageError;
pub use key::{validate_key, MAX_KEY_LEN};
pub use local::LocalStore;
pub use s3::{S3Config, S3Store, S3Tuning};
pub use time::http_date;

/// Size of the chunks read from files, for downloads and uploads alike.
pub const CHUNK_SIZE: usize = 256 * 1024;

/// Where objects live: a directory on local disk, or an S3-compatible bucket.
///
/// Cheap to clone; share one per configuration.
#[derive(Debug, Clone)]
pub enum Storage {
    /// Files under a root directory.
    Local(LocalStore),
    /// Objects in an S3-compatible bucket (shared: the HTTP client and its connection pool).
    S3(Arc<S3Store>),
}

/// What is known of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Total size of the object in bytes (not of a served range).
    pub size: u64,
    /// The content type given when it was stored (S3); `""` for local storage, which does not
    /// keep it (the caller derives it from the record or the file name).
    pub content_type: String,
    /// Last modification time, when the store tells it.
    pub modified: Option<SystemTime>,
    /// A quoted entity tag, ready for an `ETag` header: the server's for S3, size and
    /// modification time for local files.
    pub etag: String,
}

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Last modification time, when the store tells it.
    pub modified: Option<SystemTime>,
}

/// An object being read: its metadata and its streamed body.
pub struct Object {
    /// Metadata; `meta.size` is the whole object's size even when a range is served.
    pub meta: ObjectMeta,
    /// The byte range served, both ends inclusive (for `Content-Range: bytes start-end/size`);
    /// `None` when the whole object is served (no range was asked, or an S3 server ignored it).
    pub range: Option<(u64, u64)>,
    /// The bytes: the range if one is served, else the whole object, in chunks of at most
    /// [`CHUNK_SIZE`] for local files (as they arrive for S3). A read or network failure ends
    /// the stream with an `Err`.
    pub body: Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>,
}

impl Object {
    /// Number of bytes the body will yield.
    pub fn content_length(&self) -> u64 {
        match self.range {
            Some((start, end)) => end - start + 1,
            None => self.meta.size,
        }
    }

    /// Collects the whole body in memory: for small objects only (thumbnail sources, tests).
    pub async fn into_bytes(mut self) -> Result<Bytes, StorageError> {
        let mut out = Vec::with_capacity(
            usize::try_from(self.content_length())
                .unwrap_or(0)
                .min(1 << 24),
        );
        while let Some(chunk) = self.body.next().await {
            let chunk = chunk.map_err(|e| StorageError::Io(format!("reading the body: {e}")))?;
            out.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(out))
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// Every object whose key starts with `prefix` (all of them for `""`), with its size and time;
    /// in key order for local storage, S3's order otherwise.
    pub async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StorageError> {
        match self {
            Storage::Local(s) => s.list(prefix).await,
            Storage::S3(s) => s.list(prefix).await,
        }
    }

    /// Local storage under `root` (created on first write). Nothing is checked or touched yet.
    pub fn local(root: impl Into<PathBuf>) -> Storage {
        Storage::Local(LocalStore::new(root.into()))
    }

    /// S3 storage with the default [`S3Tuning`]. Checks the configuration (endpoint URL, bucket
    /// name, region, credentials) but makes no request: see [`Storage::check`] for that.
    pub fn s3(cfg: S3Config) -> Result<Storage, StorageError> {
        Storage::s3_tuned(cfg, S3Tuning::default())
    }

    /// S3 storage with explicit [`S3Tuning`] (page size, multipart sizes, timeouts).
    pub fn s3_tuned(cfg: S3Config, tuning: S3Tuning) -> Result<Storage, StorageError> {
        Ok(Storage::S3(Arc::new(S3Store::new(cfg, tuning)?)))
    }

    /// A span for traces around one call (disabled, so nearly free, unless the binary exports
    /// them).
    fn span(&self, operation: &'static str, key: &str) -> tracing::Span {
        let backend = match self {
            Storage::Local(_) => "local",
            Storage::S3(_) => "s3",
        };
        tracing::debug_span!(
            target: "kiln::trace",
            "storage",
            otel.name = operation,
            storage.backend = backend,
            storage.key = key
        )
    }

    /// Stores the file at `src` under `key`, replacing any object there.
    ///
    /// Local: the file is renamed into place when it is on the same file system (so `src` may
    /// no longer exist afterwards: pass a temporary upload file, and remove `src` if it is still
    /// there), else copied to a temporary file beside the target, fsynced and renamed. S3: one
    /// streaming PUT with `Content-Length`, the file never read whole into memory; files over
    /// the multipart threshold (5 GiB by default) go up as a multipart upload, and files over
    /// 5 TiB are refused with [`StorageError::TooLarge`]. `content_type` is kept by S3 only.
    pub async fn put_file(
        &self,
        key: &str,
        src: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let span = self.span("storage.put", key);
        async {
            match self {
                Storage::Local(store) => store.put_file(key, src).await,
                Storage::S3(store) => store.put_file(key, src, content_type).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Stores `data` under `key`, replacing any object there (local: atomically, through a
    /// temporary file). `content_type` is kept by S3 only.
    pub async fn put_bytes(
        &self,
        key: &str,
        data: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let span = self.span("storage.put", key);
        async {
            match self {
                Storage::Local(store) => store.put_bytes(key, data).await,
                Storage::S3(store) => store.put_bytes(key, data, content_type).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Reads an object, or the byte range `(start, end)` of it: `end` inclusive, `None` for
    /// "to the end", clamped to the object's last byte. A range starting at or past the end
    /// (or ending before its start) is [`StorageError::InvalidRange`] with the object's size; a
    /// missing object is [`StorageError::NotFound`].
    pub async fn get(
        &self,
        key: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Object, StorageError> {
        let span = self.span("storage.get", key);
        async {
            match self {
                Storage::Local(store) => store.get(key, range).await,
                Storage::S3(store) => store.get(key, range).await,
            }
        }
        .instrument(span)
        .await
    }

    /// The metadata of an object, `None` if it does not exist.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        let span = self.span("storage.head", key);
        async {
            match self {
                Storage::Local(store) => store.head(key).await,
                Storage::S3(store) => store.head(key).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Deletes an object; deleting a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let span = self.span("storage.delete", key);
        async {
            match self {
                Storage::Local(store) => store.delete(key).await,
                Storage::S3(store) => store.delete(key).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Deletes every object whose key starts with `prefix`, such as `"collId/recordId/"` (a
    /// record's files and their thumbnails). Local: a prefix ending in `/` removes that
    /// directory tree; otherwise the matching entries of its directory. S3: every listed key
    /// (ListObjectsV2, all pages), deleted 1000 at a time with DeleteObjects, or one by one on
    /// servers without it. An empty prefix is refused.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        let span = self.span("storage.delete_prefix", prefix);
        async {
            match self {
                Storage::Local(store) => store.delete_prefix(prefix).await,
                Storage::S3(store) => store.delete_prefix(prefix).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Writes, reads back and deletes a small test object (`.kiln-check/<unique>.txt`), for
    /// the settings screen's "test S3 connection" (POST /api/settings/test/s3). The error tells
    /// which step failed and why (credentials, bucket, endpoint, …).
    pub async fn check(&self) -> Result<(), StorageError> {
        if let Storage::Local(store) = self {
            store.ensure_root().await?;
        }
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let key = format!(".kiln-check/{}-{nanos:x}.txt", std::process::id());
        let payload = Bytes::from(format!("kiln storage check {nanos}"));
        self.put_bytes(&key, payload.clone(), "text/plain").await?;
        let read = match self.get(&key, None).await {
            Ok(object) => object.into_bytes().await,
            Err(e) => Err(e),
        };
        let deleted = self.delete(&key).await;
        let read = read?;
        if read != payload {
            return Err(StorageError::CheckFailed(format!(
                "wrote {} bytes, read back {} different bytes",
                payload.len(),
                read.len()
            )));
        }
        deleted
    }
}

/// Resolves a requested range against an object's size: `(start, end)`, inclusive, clamped.
pub(crate) fn resolve_range(
    start: u64,
    end: Option<u64>,
    size: u64,
) -> Result<(u64, u64), StorageError> {
    if start >= size {
        return Err(StorageError::InvalidRange { size });
    }
    let end = match end {
        Some(end) if end < start => return Err(StorageError::InvalidRange { size }),
        Some(end) => end.min(size - 1),
        None => size - 1,
    };
    Ok((start, end))
}

/// Exactly `len` bytes of `file` from its current position, in chunks of [`CHUNK_SIZE`]. A file
/// that ends early ends the stream with `UnexpectedEof`.
pub(crate) fn file_stream(
    file: tokio::fs::File,
    len: u64,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures_util::stream::try_unfold((file, len), |(mut file, remaining)| async move {
        if remaining == 0 {
            return Ok(None);
        }
        let want = remaining.min(CHUNK_SIZE as u64) as usize;
        let mut buf = vec![0u8; want];
        file.read_exact(&mut buf).await?;
        Ok(Some((Bytes::from(buf), (file, remaining - want as u64))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}

    /// Handlers of a multi-threaded server hold these futures across `.await`s.
    #[test]
    fn storage_and_its_futures_are_send() {
        assert_shareable::<Storage>();
        let storage = Storage::local("unused");
        let path = Path::new("unused");
        assert_send(&storage.put_file("k", path, ""));
        assert_send(&storage.put_bytes("k", Bytes::new(), ""));
        assert_send(&storage.get("k", None));
        assert_send(&storage.head("k"));
        assert_send(&storage.delete("k"));
        assert_send(&storage.delete_prefix("k/"));
        assert_send(&storage.check());
    }

    #[test]
    fn ranges_resolve_like_http() {
        assert_eq!(resolve_range(0, None, 10), Ok((0, 9)));
        assert_eq!(resolve_range(0, Some(0), 10), Ok((0, 0)));
        assert_eq!(resolve_range(5, Some(100), 10), Ok((5, 9)));
        assert_eq!(resolve_range(9, None, 10), Ok((9, 9)));
        assert_eq!(
            resolve_range(10, None, 10),
            Err(StorageError::InvalidRange { size: 10 })
        );
        assert_eq!(
            resolve_range(5, Some(4), 10),
            Err(StorageError::InvalidRange { size: 10 })
        );
        assert_eq!(
            resolve_range(0, None, 0),
            Err(StorageError::InvalidRange { size: 0 })
        );
    }
}
