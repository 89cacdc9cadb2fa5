//! The backups' state kept by the app: the running backup or restore and the blob deletions
//! held back while a backup copies files.

use std::sync::Mutex;

use crate::error::{BackupError, CoreError, Result};

/// Where backups are kept, in the data dir.
pub const BACKUPS_DIR: &str = "backups";
/// Where a restore is prepared, in the data dir.
pub(crate) const RESTORE_DIR: &str = ".restore";

/// The running backup or restore, and the blob deletions held back while one copies files.
#[derive(Default)]
pub(crate) struct Backups {
    pub(super) active: Mutex<Option<String>>,
    /// While a backup copies files: the deletions held back (`None` otherwise). One lock for
    /// both, so that no deletion slips in as the copy ends.
    pub(super) held: Mutex<Option<Vec<String>>>,
    pub(super) reload: tokio::sync::Notify,
}

/// Marks a backup or restore as running until dropped.
pub(super) struct Active<'a>(&'a Backups);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        *self.0.active.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Backups {
    pub(super) fn start(&self, name: &str) -> Result<Active<'_>> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.is_some() {
            return Err(CoreError::Backup(BackupError::Busy));
        }
        *active = Some(name.to_owned());
        Ok(Active(self))
    }

    /// Whether a backup or restore runs.
    pub(crate) fn is_busy(&self) -> bool {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Holds a blob deletion back while a backup copies the stored files (the snapshot it took
    /// may still name the file); true when held.
    pub(crate) fn hold_deletion(&self, key_or_prefix: &str) -> bool {
        match self.held.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some(held) => {
                held.push(key_or_prefix.to_owned());
                true
            }
            None => false,
        }
    }

    /// From now on deletions wait ([`Backups::hold_deletion`]).
    pub(super) fn start_copying(&self) {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(Vec::new());
    }

    /// Deletions go ahead again; returns those held back.
    pub(super) fn end_copying(&self) -> Vec<String> {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default()
    }
}
