//! File fields: uploads merged into a record's file names (PocketBase's `f`, `f+`, `+f`, `f-`
//! semantics), stored names, size and type checks, and the storage the blobs go to (local disk
//! under the data dir, or S3 per the settings). Blobs are written before the record's
//! transaction and removed again if it fails; blobs a write no longer references are removed
//! after it commits.

pub(crate) mod storage;
pub(crate) mod uploads;

use std::sync::Arc;

use crate::app::App;
use crate::error::FieldError;
use crate::records::model::Record;
use crate::records::values::to_list;
use crate::schema::field::FieldKind;

pub(crate) use storage::build_storage;
pub(crate) use uploads::{apply_uploads, FilePlan};
pub use uploads::{file_key, stored_name, thumbs_prefix, Upload, DEFAULT_MAX_SIZE};

impl App {
    /// The body limit and the largest single file a record write to `collection` may send:
    /// `maxSize` × `maxSelect` over its file fields (plus 1 MiB for the other fields), at least
    /// 32 MiB; the largest `maxSize`.
    pub fn upload_limits(&self, collection: &str) -> (usize, u64) {
        const DEFAULT_BODY: u64 = 32 << 20;
        let Ok(c) = self.records_collection(collection) else {
            return (DEFAULT_BODY as usize, 0);
        };
        let (mut total, mut cap) = (0u64, 0u64);
        for f in &c.fields {
            if let FieldKind::File {
                max_size,
                max_select,
                ..
            } = &f.kind
            {
                let size = if *max_size > 0 {
                    *max_size as u64
                } else {
                    DEFAULT_MAX_SIZE as u64
                };
                cap = cap.max(size);
                total = total.saturating_add(size.saturating_mul((*max_select).max(1) as u64));
            }
        }
        let limit = total.saturating_add(1 << 20).max(DEFAULT_BODY);
        (usize::try_from(limit).unwrap_or(usize::MAX), cap)
    }

    /// The blob storage the settings choose.
    pub fn storage(&self) -> Arc<kiln_files::Storage> {
        self.inner()
            .storage
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Rebuilds the storage from the settings (S3 when `s3.enabled`, else local disk).
    pub(crate) fn reload_storage(&self) {
        let s = self.settings();
        let storage = match build_storage(self.data_dir(), &s.s3) {
            Ok(st) => st,
            Err(e) => {
                tracing::error!(error = %e, "invalid S3 settings: keeping the previous storage");
                return;
            }
        };
        *self
            .inner()
            .storage
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(storage);
    }

    /// Stores the plan's new blobs; on failure removes those already stored.
    pub(crate) async fn store_uploads(
        &self,
        plan: &mut FilePlan,
    ) -> crate::error::Result<Vec<String>> {
        let storage = self.storage();
        let mut stored = Vec::with_capacity(plan.store.len());
        for (key, u) in &plan.store {
            if let Err(e) = storage.put_file(key, &u.path, &u.mime).await {
                self.remove_blobs(stored).await;
                return Err(crate::error::CoreError::Storage(e.to_string()));
            }
            stored.push(key.clone());
        }
        Ok(stored)
    }

    /// Removes blobs (and, for record files, their thumbnails); failures are logged. While a
    /// backup copies the stored files, the removal waits for it.
    pub(crate) async fn remove_blobs(&self, keys: Vec<String>) {
        let keys: Vec<String> = keys
            .into_iter()
            .filter(|k| !self.inner().backups.hold_deletion(k))
            .collect();
        self.remove_blobs_now(keys).await;
    }

    /// [`App::remove_blobs`] without waiting for a backup; a key ending in `/` removes
    /// everything under it.
    pub(crate) async fn remove_blobs_now(&self, keys: Vec<String>) {
        let storage = self.storage();
        for key in keys {
            if key.ends_with('/') {
                if let Err(e) = storage.delete_prefix(&key).await {
                    tracing::warn!(error = %e, key, "cannot delete files");
                }
                continue;
            }
            if let Err(e) = storage.delete(&key).await {
                tracing::warn!(error = %e, key, "cannot delete a file");
            }
            if let Some((dir, name)) = key.rsplit_once('/') {
                if let Err(e) = storage
                    .delete_prefix(&format!("{dir}/thumbs_{name}/"))
                    .await
                {
                    tracing::warn!(error = %e, key, "cannot delete thumbnails");
                }
            }
        }
    }

    /// Removes every blob of deleted records that had file fields.
    pub(crate) async fn remove_record_blobs(&self, records: &[Record]) {
        let storage = self.storage();
        for r in records.iter().filter(|r| {
            r.collection
                .fields
                .iter()
                .any(|f| matches!(f.kind, FieldKind::File { .. }))
        }) {
            let prefix = format!("{}/{}/", r.collection.id, r.id());
            if self.inner().backups.hold_deletion(&prefix) {
                continue;
            }
            if let Err(e) = storage
                .delete_prefix(&format!("{}/{}/", r.collection.id, r.id()))
                .await
            {
                tracing::warn!(error = %e, record = r.id(), "cannot delete a record's files");
            }
        }
    }
}

/// A file the API may serve: where it is and how to present it.
#[derive(Debug, Clone)]
pub struct ServedFile {
    /// The storage key (the original, or a thumbnail).
    pub key: String,
    /// The name for `Content-Disposition`.
    pub name: String,
    /// Whether the field is protected (responses must not be cached by shared caches).
    pub protected: bool,
}

/// Thumbnails are made for these stored types (by extension: the type was checked on upload).
fn thumbable_name(name: &str) -> bool {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "gif" | "webp")
}

impl App {
    /// `POST /api/files/token`: a short-lived token for protected files of the signed-in record.
    pub fn file_token(&self, req: &crate::request::RequestInfo) -> crate::error::Result<String> {
        let auth = req
            .auth
            .as_ref()
            .ok_or(crate::error::CoreError::AuthRequired)?;
        self.new_record_token(auth, crate::auth::record_token::TokenKind::File, &[], None)
    }

    /// Resolves `GET /api/files/{collection}/{record}/{name}` for a client at `ip`: the record must
    /// list the file; a protected file needs a file token whose record passes the collection's
    /// viewRule (a superuser's token only from `superuserIPs`, when set). A `thumb` the field
    /// allows (`100x100` always) serves a thumbnail, made once and kept.
    pub async fn resolve_file(
        &self,
        collection: &str,
        record_id: &str,
        name: &str,
        thumb: &str,
        token: &str,
        ip: Option<std::net::IpAddr>,
    ) -> crate::error::Result<ServedFile> {
        use crate::error::CoreError;
        let c = self
            .records_collection(collection)
            .map_err(|_| CoreError::NotFound)?;
        let record = self
            .find_record(&c, record_id)?
            .ok_or(CoreError::NotFound)?;
        let field = c
            .fields
            .iter()
            .find(|f| {
                matches!(f.kind, FieldKind::File { .. })
                    && record
                        .get(&f.name)
                        .map(to_list)
                        .unwrap_or_default()
                        .iter()
                        .any(|n| n == name)
            })
            .ok_or(CoreError::NotFound)?;
        let FieldKind::File {
            thumbs,
            protected,
            max_size,
            ..
        } = &field.kind
        else {
            return Err(CoreError::NotFound);
        };
        if *protected {
            let auth = self
                .verify_record_token(token, crate::auth::record_token::TokenKind::File)
                .map(|v| Arc::new(v.record));
            let mut req = crate::request::RequestInfo {
                auth,
                method: "GET".into(),
                context: "protectedFile",
                ip,
                ..Default::default()
            };
            if req.is_superuser() && !self.superuser_ip_allowed(ip) {
                req.auth = None;
            }
            let allowed = match c.view_rule.as_deref() {
                _ if req.is_superuser() => true,
                None => false,
                Some(rule) if rule.trim().is_empty() => true,
                Some(rule) => self.record_matches(&c, record_id, rule, &req)?,
            };
            if !allowed {
                return Err(CoreError::NotFound);
            }
        }
        let original = ServedFile {
            key: file_key(&c.id, record_id, name),
            name: name.to_owned(),
            protected: *protected,
        };
        if thumb.is_empty()
            || !thumbable_name(name)
            || !(thumb == "100x100" || thumbs.iter().any(|t| t == thumb))
        {
            return Ok(original);
        }
        let Some(spec) = kiln_media::ThumbSpec::parse(thumb) else {
            return Ok(original);
        };
        let thumb_name = format!("{thumb}_{name}");
        let key = format!("{}{thumb_name}", thumbs_prefix(&c.id, record_id, name));
        let served = ServedFile {
            key: key.clone(),
            name: thumb_name,
            protected: *protected,
        };
        let storage = self.storage();
        if storage
            .head(&key)
            .await
            .map_err(|e| CoreError::Storage(e.to_string()))?
            .is_some()
        {
            return Ok(served);
        }
        match self
            .make_thumb(&storage, &original.key, &key, &spec, *max_size)
            .await
        {
            Ok(()) => Ok(served),
            Err(e) => {
                tracing::debug!(error = %e, key = original.key, "no thumbnail: serving the original");
                Ok(original)
            }
        }
    }

    /// Reads the original (bounded by the field's size limit), renders the thumbnail on a
    /// blocking thread, and stores it.
    async fn make_thumb(
        &self,
        storage: &kiln_files::Storage,
        src: &str,
        dst: &str,
        spec: &kiln_media::ThumbSpec,
        max_size: i64,
    ) -> Result<(), String> {
        use futures_util::StreamExt;
        // Decoding is memory-hungry, and so is holding the original: a few at a time.
        let _permit = self
            .inner()
            .thumb_jobs
            .acquire()
            .await
            .map_err(|e| e.to_string())?;
        if storage
            .head(dst)
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Ok(()); // made by a request that held the permit before us
        }
        let limit = if max_size > 0 {
            max_size as usize
        } else {
            DEFAULT_MAX_SIZE as usize
        };
        let mut obj = storage.get(src, None).await.map_err(|e| e.to_string())?;
        let mut bytes = Vec::with_capacity((obj.meta.size as usize).min(limit));
        while let Some(chunk) = obj.body.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            if bytes.len() + chunk.len() > limit {
                return Err("the original is larger than the field allows".into());
            }
            bytes.extend_from_slice(&chunk);
        }
        let mime = kiln_media::sniff(&bytes[..bytes.len().min(kiln_media::READ_LIMIT)], src);
        let spec = *spec;
        let thumb =
            tokio::task::spawn_blocking(move || kiln_media::thumbnail(&bytes, &mime, &spec))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        storage
            .put_bytes(dst, thumb.bytes.into(), thumb.content_type)
            .await
            .map_err(|e| e.to_string())
    }

    /// `POST /api/settings/test/s3`: writes, reads and deletes a test object on the S3 storage
    /// of `filesystem` (`storage` or `backups`).
    pub async fn test_s3(&self, filesystem: &str) -> crate::error::Result<()> {
        use crate::error::{Action, CoreError};
        let s = self.settings();
        let s3 = match filesystem {
            "storage" => &s.s3,
            "backups" => &s.backups.s3,
            "" => {
                return Err(CoreError::validation(
                    Action::TestS3,
                    "filesystem",
                    FieldError::required(),
                ))
            }
            _ => {
                return Err(CoreError::validation(
                    Action::TestS3,
                    "filesystem",
                    FieldError::new("validation_in_invalid", "Must be a valid value."),
                ))
            }
        };
        if !s3.enabled {
            return Err(CoreError::TestS3Failed(format!(
                "S3 {filesystem} filesystem is not enabled"
            )));
        }
        let storage = build_storage(self.data_dir(), s3)
            .map_err(|e| CoreError::TestS3Failed(e.to_string()))?;
        storage
            .check()
            .await
            .map_err(|e| CoreError::TestS3Failed(e.to_string()))
    }
}

impl App {
    /// `bytes` as an upload into the file field of body key `key` (named after `name`), in a
    /// temporary file of the data dir; its type sniffed from the content.
    pub async fn upload_of(&self, key: &str, name: &str, bytes: &[u8]) -> std::io::Result<Upload> {
        let detected = kiln_media::detect(&bytes[..bytes.len().min(kiln_media::READ_LIMIT)]);
        let dir = self.data_dir().join(".tmp");
        tokio::fs::create_dir_all(&dir).await?;
        let upload = Upload {
            key: key.to_owned(),
            original_name: name.to_owned(),
            path: dir.join(format!("upload_{}", crate::ids::new_secret(24))),
            size: bytes.len() as u64,
            mime: detected.mime,
            extension: detected.extension.to_owned(),
        };
        tokio::fs::write(&upload.path, bytes).await?;
        Ok(upload)
    }
}
