//! Backups of a SQLite data dir, in PocketBase's archive layout (a PocketBase backup restores
//! into Kiln and the other way round): created online from consistent snapshots, listed,
//! uploaded, downloaded, deleted, restored, and made by the `__pbAutoBackup__` cron job when
//! `backups.cron` is set, keeping the newest `backups.cronMaxKeep`.
//!
//! A restore replaces the data dir's contents through a crash-safe journal ([`recover`]) and
//! reloads the app in the same process: the server closes the app and opens it again when
//! [`App::reload_requested`] fires. A PostgreSQL database is backed up with its own tools.

pub(crate) mod archive;
pub(crate) mod recover;
pub(crate) mod state;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::files::uploads::Upload;

pub use crate::error::BackupError;
pub(crate) use recover::recover;
pub use state::BACKUPS_DIR;
pub(crate) use state::RESTORE_DIR;

/// The auto backup's cron job.
const AUTO_JOB: &str = "__pbAutoBackup__";
const AUTO_PREFIX: &str = "@auto_pb_backup_";

/// A backup as listed.
#[derive(Debug, Clone, Serialize)]
pub struct BackupInfo {
    pub key: String,
    pub size: u64,
    pub modified: String,
}

/// PocketBase's rule for a backup's name.
fn valid_name(name: &str) -> bool {
    (5..=150).contains(&name.len())
        && name.strip_suffix(".zip").is_some_and(|stem| {
            stem.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
}

/// A backup's key: a plain file name (no path may reach outside the backups' place).
fn plain_key(key: &str) -> bool {
    !key.is_empty() && !key.contains(['/', '\\']) && !key.starts_with('.')
}

fn storage_err(e: kiln_files::StorageError) -> CoreError {
    CoreError::Storage(e.to_string())
}

impl App {
    /// Whether a backup could start now (`canBackup` of `/api/health`): not on PostgreSQL, and
    /// not while a backup or restore runs.
    pub fn can_backup(&self) -> bool {
        self.dialect() == kiln_db::Dialect::Sqlite && !self.inner().backups.is_busy()
    }

    fn backups_dir(&self) -> PathBuf {
        self.data_dir().join(BACKUPS_DIR)
    }

    /// Where backups are kept: the `backups.s3` bucket when enabled, else `<data dir>/backups`.
    /// A PostgreSQL database has no data dir to archive.
    fn backups_store(&self) -> Result<kiln_files::Storage> {
        if self.dialect() != kiln_db::Dialect::Sqlite {
            return Err(CoreError::Backup(BackupError::Unsupported));
        }
        let s3 = self.settings().backups.s3.clone();
        if s3.enabled {
            crate::files::storage::build_storage(self.data_dir(), &s3).map_err(storage_err)
        } else {
            Ok(kiln_files::Storage::local(self.backups_dir()))
        }
    }

    /// The store holding backup `key`; [`BackupError::Missing`] when there is no such backup.
    async fn store_with(&self, key: &str) -> Result<kiln_files::Storage> {
        let store = self.backups_store()?;
        if !plain_key(key) || store.head(key).await.map_err(storage_err)?.is_none() {
            return Err(CoreError::Backup(BackupError::Missing));
        }
        Ok(store)
    }

    /// The store holding backup `key`, for a download with a superuser's file `token` (from an
    /// allowed IP, when `superuserIPs` is set).
    pub async fn backup_for_download(
        &self,
        key: &str,
        token: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<kiln_files::Storage> {
        let forbidden = || CoreError::FileTokenRejected;
        let auth = self
            .verify_record_token(token, crate::auth::record_token::TokenKind::File)
            .ok_or_else(forbidden)?;
        if auth.record.collection.name != crate::schema::system::SUPERUSERS
            || !self.superuser_ip_allowed(ip)
        {
            return Err(forbidden());
        }
        self.store_with(key).await
    }

    /// The backups, by name.
    pub async fn list_backups(&self) -> Result<Vec<BackupInfo>> {
        let store = self.backups_store()?;
        let mut out: Vec<BackupInfo> = store
            .list("")
            .await
            .map_err(storage_err)?
            .into_iter()
            .filter(|o| plain_key(&o.key))
            .map(|o| BackupInfo {
                modified: o
                    .modified
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| crate::datetime::format_ms(d.as_millis() as i64))
                    .unwrap_or_default(),
                key: o.key,
                size: o.size,
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Checks a new backup's name: PocketBase's pattern, and not taken.
    async fn check_new_name(
        &self,
        store: &kiln_files::Storage,
        field: &str,
        name: &str,
        taken_message: &'static str,
    ) -> Result<()> {
        let error = if !valid_name(name) {
            Some(FieldError::new(
                "validation_match_invalid",
                "Must be in a valid format.",
            ))
        } else if store.head(name).await.map_err(storage_err)?.is_some() {
            Some(FieldError::new(
                "validation_backup_name_exists",
                taken_message,
            ))
        } else {
            None
        };
        match error {
            None => Ok(()),
            Some(e) => {
                let mut errors = FieldErrors::new();
                errors.insert(field.to_owned(), e);
                Err(CoreError::Validation {
                    action: Action::ValidateForm,
                    errors,
                })
            }
        }
    }

    /// Creates a backup named `name` (or `pb_backup_<app>_<time>.zip`); returns its name.
    pub async fn create_backup(&self, name: Option<String>) -> Result<String> {
        let store = self.backups_store()?;
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                let taken = "The backup file name is invalid or already exists.";
                self.check_new_name(&store, "name", &n, taken).await?;
                n
            }
            None => self.backup_name("pb_backup_"),
        };
        self.create_backup_named(name).await
    }

    /// `<prefix><app name>_<UTC time>.zip`, as PocketBase names backups.
    fn backup_name(&self, prefix: &str) -> String {
        let app_name: String = self
            .settings()
            .meta
            .app_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(50)
            .collect();
        let now = crate::datetime::now_string();
        let stamp: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
        format!("{prefix}{app_name}_{stamp}.zip")
    }

    /// Creates a backup under a name already checked (or chosen by Kiln: auto names start with
    /// `@`, which no client may use).
    async fn create_backup_named(&self, name: String) -> Result<String> {
        let store = self.backups_store()?;
        let backups = &self.inner().backups;
        let _active = backups.start(&name)?;
        let app = self.clone();
        let made = tokio::task::spawn_blocking(move || app.write_backup())
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        // The deletions held back during the copy happen now.
        let held = backups.end_copying();
        self.remove_blobs_now(held).await;
        let zip = made.map_err(|e| CoreError::Backup(BackupError::Create(e)))?;
        // Local: moved into place in one rename; S3: uploaded, then the temporary file goes.
        let stored = store.put_file(&name, &zip, "application/zip").await;
        let _ = tokio::fs::remove_file(&zip).await;
        stored.map_err(|e| CoreError::Backup(BackupError::Create(e.to_string())))?;
        Ok(name)
    }

    /// Writes the archive into a temporary file (blocking) and returns its path: snapshots of
    /// both databases, then the files.
    fn write_backup(&self) -> std::result::Result<PathBuf, String> {
        let tmp = self.data_dir().join(".tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let id = crate::ids::new_secret(12);
        let data = tmp.join(format!("backup_{id}_data.db"));
        let aux = tmp.join(format!("backup_{id}_auxiliary.db"));
        let zip = tmp.join(format!("backup_{id}.zip"));
        let result = (|| {
            // From the data snapshot on, stored files stay until they are copied.
            self.inner().backups.start_copying();
            self.db().snapshot_to(&data).map_err(|e| e.to_string())?;
            self.flush_logs();
            self.aux_db().snapshot_to(&aux).map_err(|e| e.to_string())?;
            let snapshots = [("data.db", data.clone()), ("auxiliary.db", aux.clone())];
            archive::create(&zip, &snapshots, self.data_dir()).map_err(|e| e.to_string())
        })();
        for f in [&data, &aux] {
            let _ = std::fs::remove_file(f);
        }
        match result {
            Ok(()) => Ok(zip),
            Err(e) => {
                let _ = std::fs::remove_file(&zip);
                Err(e)
            }
        }
    }

    /// Stores an uploaded archive as a backup under its own name.
    pub async fn save_uploaded_backup(&self, upload: Option<Upload>) -> Result<()> {
        let store = self.backups_store()?;
        let mut errors = FieldErrors::new();
        let Some(upload) = upload else {
            errors.insert("file".into(), FieldError::required());
            return Err(CoreError::Validation {
                action: Action::ValidateForm,
                errors,
            });
        };
        let name = upload.original_name.clone();
        if upload.mime != "application/zip" {
            errors.insert(
                "file".into(),
                FieldError::new(
                    "validation_invalid_mime_type",
                    format!("\"{name}\" mime type must be one of: application/zip."),
                ),
            );
            return Err(CoreError::Validation {
                action: Action::ValidateForm,
                errors,
            });
        }
        let taken = "Backup file with the specified name already exists.";
        if !valid_name(&name) {
            // PocketBase stores any name; Kiln keeps to the names it can serve back safely.
            errors.insert(
                "file".into(),
                FieldError::new("validation_backup_name_exists", taken),
            );
            return Err(CoreError::Validation {
                action: Action::ValidateForm,
                errors,
            });
        }
        self.check_new_name(&store, "file", &name, taken).await?;
        store
            .put_file(&name, &upload.path, "application/zip")
            .await
            .map_err(storage_err)
    }

    /// Deletes backup `key`, unless a backup or restore is using it.
    pub async fn delete_backup(&self, key: &str) -> Result<()> {
        let store = self.backups_store()?;
        let active = self
            .inner()
            .backups
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if active.as_deref() == Some(key) {
            return Err(CoreError::Backup(BackupError::InUse));
        }
        if !plain_key(key) || store.head(key).await.map_err(storage_err)?.is_none() {
            return Err(CoreError::Backup(BackupError::Delete(format!(
                "{key}: not found"
            ))));
        }
        store
            .delete(key)
            .await
            .map_err(|e| CoreError::Backup(BackupError::Delete(e.to_string())))
    }

    /// Starts restoring backup `key` and returns: the archive is fetched (from S3), extracted
    /// and checked in the background, committed, and the app is reloaded
    /// ([`App::reload_requested`]). A backup that does not extract or holds no database changes
    /// nothing.
    pub async fn restore_backup(&self, key: &str) -> Result<()> {
        let store = self.store_with(key).await?;
        if self
            .inner()
            .backups
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            return Err(CoreError::Backup(BackupError::Busy));
        }
        let app = self.clone();
        let key = key.to_owned();
        tokio::spawn(crate::logs::request::follow_request(async move {
            let backups = &app.inner().backups;
            let Ok(_active) = backups.start(&key) else {
                return;
            };
            let prepared = match app.fetch_backup(&store, &key).await {
                Ok((zip, temporary)) => {
                    let dir = app.data_dir().to_path_buf();
                    let z = zip.clone();
                    let r = tokio::task::spawn_blocking(move || prepare_restore(&dir, &z))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    if temporary {
                        let _ = tokio::fs::remove_file(&zip).await;
                    }
                    r
                }
                Err(e) => Err(e.to_string()),
            };
            match prepared {
                Ok(()) => {
                    tracing::info!(backup = key, "restoring a backup: the app reloads");
                    backups.reload.notify_one();
                }
                Err(e) => {
                    tracing::error!(backup = key, error = %e, "cannot restore the backup")
                }
            }
        }));
        Ok(())
    }

    /// A local file of backup `key`, and whether it is a temporary copy (from S3).
    async fn fetch_backup(
        &self,
        store: &kiln_files::Storage,
        key: &str,
    ) -> Result<(PathBuf, bool)> {
        if let kiln_files::Storage::Local(local) = store {
            return Ok((local.root().join(key), false));
        }
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let tmp = self.data_dir().join(".tmp");
        tokio::fs::create_dir_all(&tmp)
            .await
            .map_err(|e| CoreError::Storage(e.to_string()))?;
        let path = tmp.join(format!("restore_{}.zip", crate::ids::new_secret(12)));
        let mut obj = store.get(key, None).await.map_err(storage_err)?;
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| CoreError::Storage(e.to_string()))?;
        while let Some(chunk) = obj.body.next().await {
            let chunk = chunk.map_err(|e| CoreError::Storage(e.to_string()))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| CoreError::Storage(e.to_string()))?;
        }
        file.flush()
            .await
            .map_err(|e| CoreError::Storage(e.to_string()))?;
        Ok((path, true))
    }

    /// Resolves when a restore is committed: the server then closes this app and opens the data
    /// dir again, which applies it.
    pub async fn reload_requested(&self) {
        self.inner().backups.reload.notified().await;
    }

    /// Registers or removes the auto backup job after the settings changed.
    pub(crate) fn schedule_auto_backup(&self) {
        let (cron, keep) = {
            let s = self.settings();
            (s.backups.cron.clone(), s.backups.cron_max_keep)
        };
        let crons = &self.inner().crons;
        if cron.is_empty() || self.dialect() != kiln_db::Dialect::Sqlite {
            crons.remove(AUTO_JOB);
            return;
        }
        let job = crate::cron::jobs::run(move |app: App| async move {
            if app.is_closed() {
                return;
            }
            let name = app.backup_name(AUTO_PREFIX);
            if let Err(e) = app.create_backup_named(name.clone()).await {
                tracing::error!(backup = name, error = %e, "the auto backup failed");
                return;
            }
            app.prune_auto_backups(keep).await;
        });
        if let Err(e) = crons.add(AUTO_JOB, &cron, job) {
            tracing::warn!(error = %e, "the backups cron does not parse");
        }
    }

    /// Keeps the newest `keep` auto backups.
    async fn prune_auto_backups(&self, keep: i64) {
        let Ok(list) = self.list_backups().await else {
            return;
        };
        let mut auto: Vec<BackupInfo> = list
            .into_iter()
            .filter(|b| b.key.starts_with(AUTO_PREFIX))
            .collect();
        auto.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.key.cmp(&a.key)));
        for old in auto.into_iter().skip(keep.max(1) as usize) {
            if let Err(e) = self.delete_backup(&old.key).await {
                tracing::warn!(backup = old.key, error = %e, "cannot delete an old auto backup");
            }
        }
    }
}

/// Extracts `zip` into `<data dir>/.restore/new`, checks that it holds a database, and commits
/// the restore (blocking).
fn prepare_restore(data_dir: &Path, zip: &Path) -> std::result::Result<(), String> {
    let root = data_dir.join(RESTORE_DIR);
    let _ = std::fs::remove_dir_all(&root);
    let new = root.join("new");
    let result = (|| {
        archive::extract(zip, &new).map_err(|e| format!("cannot extract the backup: {e}"))?;
        let db = new.join("data.db");
        let tables = kiln_db::sqlite_tables(&db)
            .map_err(|e| format!("the backup's data.db is not a database: {e}"))?;
        if !tables.iter().any(|t| t == "_collections") {
            return Err("the backup's data.db holds no collections".to_owned());
        }
        recover::commit(data_dir).map_err(|e| format!("cannot commit the restore: {e}"))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn backup_names_follow_pocketbase() {
        assert!(valid_name("pb_backup_acme_20261206101500.zip"));
        assert!(valid_name("a-b_c.zip"));
        for bad in [
            "",
            ".zip",
            "A.zip",
            "a.tar",
            "a b.zip",
            "../a.zip",
            "@auto.zip",
            "a.zip.zip/",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
