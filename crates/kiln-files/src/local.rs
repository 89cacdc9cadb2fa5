//! Objects as files under a root directory: key `a/b/c.png` is the file `<root>/a/b/c.png`.
//!
//! Writes are atomic (a temporary file in the target directory, fsynced, then renamed over the
//! target), so a reader sees the old or the new file, never half of one; an open reader keeps
//! reading the file it opened. Directories are created on write and pruned when a delete leaves
//! them empty. The content type is not stored (`ObjectMeta::content_type` is `""`): the caller
//! knows it from the record or the file name.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::io::AsyncSeekExt;

use crate::error::io as io_err;
use crate::key::{validate_key, validate_prefix};
use crate::{file_stream, Object, ObjectMeta, StorageError};

/// Files under one root directory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

/// Prefix of the temporary files that writes create next to their target.
const TEMP_PREFIX: &str = ".kiln-tmp-";

impl LocalStore {
    pub(crate) fn new(root: PathBuf) -> LocalStore {
        LocalStore { root }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of `key`: validated, and checked to stay under the root.
    fn path_of(&self, key: &str) -> Result<PathBuf, StorageError> {
        validate_key(key)?;
        let path = self.root.join(key);
        self.ensure_under_root(&path)?;
        Ok(path)
    }

    /// Lexical containment check: every component after the root is a plain name. It holds for
    /// any validated key; it is here so that a mistake in the key rules cannot escape the root.
    fn ensure_under_root(&self, path: &Path) -> Result<(), StorageError> {
        let rest = path
            .strip_prefix(&self.root)
            .map_err(|_| StorageError::InvalidKey("outside the storage root"))?;
        if rest.components().all(|c| matches!(c, Component::Normal(_))) {
            Ok(())
        } else {
            Err(StorageError::InvalidKey("outside the storage root"))
        }
    }

    /// Every file whose key starts with `prefix`, in key order.
    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<crate::Listed>, StorageError> {
        let root = self.root().to_path_buf();
        let prefix = prefix.to_owned();
        blocking(move || {
            let mut out = Vec::new();
            let mut dirs = vec![(root.clone(), String::new())];
            while let Some((dir, rel)) = dirs.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err("list", &dir, &e)),
                };
                for entry in entries {
                    let entry = entry.map_err(|e| io_err("list", &dir, &e))?;
                    let Ok(name) = entry.file_name().into_string() else {
                        continue;
                    };
                    let key = format!("{rel}{name}");
                    let meta = entry
                        .metadata()
                        .map_err(|e| io_err("stat", &entry.path(), &e))?;
                    if meta.is_dir() {
                        dirs.push((entry.path(), format!("{key}/")));
                    } else if meta.is_file() && key.starts_with(&prefix) {
                        out.push(crate::Listed {
                            key,
                            size: meta.len(),
                            modified: meta.modified().ok(),
                        });
                    }
                }
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
    }

    pub(crate) async fn put_bytes(&self, key: &str, data: Bytes) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        blocking(move || {
            write_atomic(&path, |file| {
                file.write_all(&data)
                    .map_err(|e| io_err("write", &path, &e))
            })
        })
        .await
    }

    pub(crate) async fn put_file(&self, key: &str, src: &Path) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        let src = src.to_path_buf();
        blocking(move || {
            let mut source =
                std::fs::File::open(&src).map_err(|e| io_err("open source", &src, &e))?;
            let meta = source
                .metadata()
                .map_err(|e| io_err("stat source", &src, &e))?;
            if !meta.is_file() {
                return Err(StorageError::Io(format!(
                    "{} is not a regular file",
                    src.display()
                )));
            }
            // Same file system: make the data durable, then move it into place (atomic).
            source.sync_all().map_err(|e| io_err("fsync", &src, &e))?;
            let dir = parent(&path);
            for _ in 0..3 {
                std::fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, &e))?;
                match std::fs::rename(&src, &path) {
                    Ok(()) => return Ok(()),
                    // The directory was pruned by a concurrent delete: create it again.
                    Err(e) if e.kind() == io::ErrorKind::NotFound && src.exists() => continue,
                    // Another file system (EXDEV) or anything else: copy instead.
                    Err(_) => break,
                }
            }
            write_atomic(&path, |file| {
                io::copy(&mut source, file).map_err(|e| io_err("copy to", &path, &e))?;
                Ok(())
            })
        })
        .await
    }

    pub(crate) async fn get(
        &self,
        key: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Object, StorageError> {
        let path = self.path_of(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if is_not_found(&e) => return Err(StorageError::NotFound),
            Err(e) => return Err(io_err("open", &path, &e)),
        };
        let md = file
            .metadata()
            .await
            .map_err(|e| io_err("stat", &path, &e))?;
        if !md.is_file() {
            return Err(StorageError::NotFound);
        }
        let meta = meta_of(&md);
        let size = meta.size;
        let (served, len) = match range {
            None => (None, size),
            Some((start, end)) => {
                let (start, end) = crate::resolve_range(start, end, size)?;
                if start > 0 {
                    file.seek(io::SeekFrom::Start(start))
                        .await
                        .map_err(|e| io_err("seek", &path, &e))?;
                }
                (Some((start, end)), end - start + 1)
            }
        };
        Ok(Object {
            meta,
            range: served,
            body: Box::pin(file_stream(file, len)),
        })
    }

    pub(crate) async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(md) if md.is_file() => Ok(Some(meta_of(&md))),
            Ok(_) => Ok(None),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(io_err("stat", &path, &e)),
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        let root = self.root.clone();
        blocking(move || {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                // Missing, or a directory (not an object): nothing to delete.
                Err(e) if is_not_found(&e) || path.is_dir() => return Ok(()),
                Err(e) => return Err(io_err("delete", &path, &e)),
            }
            prune_empty_dirs(&root, parent(&path));
            Ok(())
        })
        .await
    }

    pub(crate) async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        validate_prefix(prefix)?;
        let root = self.root.clone();
        let (dir, name_prefix) = match prefix.strip_suffix('/') {
            Some(dir) => (self.root.join(dir), None),
            None => match prefix.rsplit_once('/') {
                Some((dir, name)) => (self.root.join(dir), Some(name.to_owned())),
                None => (self.root.clone(), Some(prefix.to_owned())),
            },
        };
        if dir != self.root {
            self.ensure_under_root(&dir)?;
        }
        let whole_dir = name_prefix.is_none();
        blocking(move || {
            match name_prefix {
                // "a/b/": the whole directory tree (remove_dir_all never follows symlinks).
                None => match std::fs::remove_dir_all(&dir) {
                    Ok(()) => {}
                    Err(e) if is_not_found(&e) => return Ok(()),
                    Err(e) => return Err(io_err("delete directory", &dir, &e)),
                },
                // "a/b/photo_": the entries of a/b whose name starts with "photo_".
                Some(name_prefix) => {
                    let entries = match std::fs::read_dir(&dir) {
                        Ok(entries) => entries,
                        Err(e) if is_not_found(&e) => return Ok(()),
                        Err(e) => return Err(io_err("list", &dir, &e)),
                    };
                    for entry in entries {
                        let entry = entry.map_err(|e| io_err("list", &dir, &e))?;
                        let name = entry.file_name();
                        if !name.to_string_lossy().starts_with(name_prefix.as_str()) {
                            continue;
                        }
                        let path = entry.path();
                        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                        let done = if is_dir {
                            std::fs::remove_dir_all(&path)
                        } else {
                            std::fs::remove_file(&path)
                        };
                        match done {
                            Ok(()) => {}
                            Err(e) if is_not_found(&e) => {}
                            Err(e) => return Err(io_err("delete", &path, &e)),
                        }
                    }
                }
            }
            // The removed tree's parents, or the filtered directory itself, if now empty.
            let emptied = if whole_dir {
                parent(&dir)
            } else {
                dir.as_path()
            };
            prune_empty_dirs(&root, emptied);
            Ok(())
        })
        .await
    }

    pub(crate) async fn ensure_root(&self) -> Result<(), StorageError> {
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|e| io_err("create directory", &self.root, &e))
    }
}

fn meta_of(md: &std::fs::Metadata) -> ObjectMeta {
    let modified = md.modified().ok();
    let nanos = modified
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    ObjectMeta {
        size: md.len(),
        content_type: String::new(),
        modified,
        etag: format!("\"{:x}-{:x}\"", md.len(), nanos),
    }
}

/// Writes `path` through a temporary file in the same directory: create (the directory too),
/// fill, fsync, rename over `path`. The temporary file is removed on failure.
fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let dir = parent(path);
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        attempt += 1;
        std::fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, &e))?;
        let tmp = dir.join(temp_name());
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            // Pruned by a concurrent delete between create_dir_all and open: try again.
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < 3 => continue,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 3 => continue,
            Err(e) => return Err(io_err("create", &tmp, &e)),
        }
    };
    let result = fill(&mut file)
        .and_then(|()| file.sync_all().map_err(|e| io_err("fsync", &tmp, &e)))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path).map_err(|e| io_err("rename to", path, &e))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{TEMP_PREFIX}{}-{n}-{nanos:x}", std::process::id())
}

/// Removes `dir` and its parents while they are empty, stopping at (and keeping) `root`.
fn prune_empty_dirs(root: &Path, dir: &Path) {
    let mut dir = dir.to_path_buf();
    while dir != root && dir.starts_with(root) {
        if std::fs::remove_dir(&dir).is_err() {
            break;
        }
        if !dir.pop() {
            break;
        }
    }
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// NotFound, or ENOTDIR (a path component is a file): the object does not exist.
fn is_not_found(e: &io::Error) -> bool {
    const ENOTDIR: i32 = 20;
    e.kind() == io::ErrorKind::NotFound || (cfg!(unix) && e.raw_os_error() == Some(ENOTDIR))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Io(format!("storage task failed: {e}")))?
}
