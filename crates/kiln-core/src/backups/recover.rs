//! Restores that survive a crash. A restore extracts the backup into `.restore/new`, checks
//! it, and commits by writing `.restore/APPLY` (atomically: written aside, then renamed) with
//! the names it brings. Applying moves each current entry of the data dir to `.restore/old` and
//! each new one into place; every step is a rename, decided by which files exist, so applying
//! again after a crash finishes the same work. It runs before the databases open: at start, and
//! when the app reloads after a restore. Without `APPLY` the leftovers of an unfinished restore
//! are deleted, and the data dir keeps its data: it holds the old data or the new, never a mix.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::Path;

use super::archive::EXCLUDED;
use crate::backups::state::RESTORE_DIR;

const MARKER: &str = "APPLY";

/// Commits the restore prepared in `<data dir>/.restore/new`: it will be applied even after a
/// crash.
pub(crate) fn commit(data_dir: &Path) -> io::Result<()> {
    let root = data_dir.join(RESTORE_DIR);
    let mut names: Vec<String> = fs::read_dir(root.join("new"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| !EXCLUDED.contains(&n.as_str()))
        .collect();
    names.sort();
    let tmp = root.join("APPLY.tmp");
    fs::write(&tmp, names.join("\n"))?;
    fs::File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, root.join(MARKER))?;
    sync_dir(&root)
}

/// Applies a committed restore, or discards an unfinished one. Call before opening the data.
pub(crate) fn recover(data_dir: &Path) -> io::Result<()> {
    let root = data_dir.join(RESTORE_DIR);
    if !root.exists() {
        return Ok(());
    }
    let marker = root.join(MARKER);
    if marker.exists() {
        let listed = fs::read_to_string(&marker)?;
        let incoming: BTreeSet<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
        apply(data_dir, &root, &incoming)?;
        fs::remove_file(&marker)?;
        sync_dir(&root)?;
        tracing::info!("a backup was restored into {}", data_dir.display());
    }
    fs::remove_dir_all(&root)
}

fn exists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

fn apply(data_dir: &Path, root: &Path, incoming: &BTreeSet<&str>) -> io::Result<()> {
    let (new, old) = (root.join("new"), root.join("old"));
    fs::create_dir_all(&old)?;
    let current: Vec<String> = fs::read_dir(data_dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| !EXCLUDED.contains(&n.as_str()))
        .collect();
    // What the backup does not bring goes (the databases' journals among it).
    for name in current.iter().filter(|n| !incoming.contains(n.as_str())) {
        let (cur, gone) = (data_dir.join(name), old.join(name));
        if !exists(&gone) {
            fs::rename(&cur, &gone)?;
        } else if cur.is_dir() {
            fs::remove_dir_all(&cur)?;
        } else {
            fs::remove_file(&cur)?;
        }
    }
    // What it brings replaces what is there. While `new/x` exists, `x` is still the old one.
    for name in incoming {
        let (cur, next, gone) = (data_dir.join(name), new.join(name), old.join(name));
        if !exists(&next) {
            continue;
        }
        if exists(&cur) {
            fs::rename(&cur, &gone)?;
        }
        fs::rename(&next, &cur)?;
    }
    sync_dir(data_dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, text: &str) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn read(p: &Path) -> Option<String> {
        fs::read_to_string(p).ok()
    }

    fn prepared() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(&d.join("data.db"), "old db");
        write(&d.join("data.db-wal"), "old wal");
        write(&d.join("storage/a/1.txt"), "old file");
        write(&d.join("backups/b.zip"), "kept");
        let new = d.join(RESTORE_DIR).join("new");
        write(&new.join("data.db"), "new db");
        write(&new.join("auxiliary.db"), "new aux");
        write(&new.join("storage/b/2.txt"), "new file");
        dir
    }

    fn assert_new(d: &Path) {
        assert_eq!(read(&d.join("data.db")).as_deref(), Some("new db"));
        assert_eq!(read(&d.join("auxiliary.db")).as_deref(), Some("new aux"));
        assert_eq!(
            read(&d.join("storage/b/2.txt")).as_deref(),
            Some("new file")
        );
        assert!(!d.join("storage/a").exists());
        assert!(
            !d.join("data.db-wal").exists(),
            "the old journal must not meet the new database"
        );
        assert_eq!(read(&d.join("backups/b.zip")).as_deref(), Some("kept"));
        assert!(!d.join(RESTORE_DIR).exists());
    }

    #[test]
    fn an_uncommitted_restore_is_discarded() {
        let dir = prepared();
        let d = dir.path();
        recover(d).unwrap();
        assert_eq!(read(&d.join("data.db")).as_deref(), Some("old db"));
        assert_eq!(read(&d.join("data.db-wal")).as_deref(), Some("old wal"));
        assert!(d.join("storage/a/1.txt").exists());
        assert!(!d.join("auxiliary.db").exists());
        assert!(!d.join(RESTORE_DIR).exists());
    }

    #[test]
    fn a_committed_restore_is_applied() {
        let dir = prepared();
        commit(dir.path()).unwrap();
        recover(dir.path()).unwrap();
        assert_new(dir.path());
    }

    #[test]
    fn a_restore_interrupted_anywhere_is_finished_by_the_next_recovery() {
        // Replays the renames one by one, "crashing" after each, then recovers.
        for crash_after in 0..8 {
            let dir = prepared();
            let d = dir.path();
            commit(d).unwrap();
            let root = d.join(RESTORE_DIR);
            let (new, old) = (root.join("new"), root.join("old"));
            fs::create_dir_all(&old).unwrap();
            let steps: Vec<(std::path::PathBuf, std::path::PathBuf)> = vec![
                (d.join("data.db-wal"), old.join("data.db-wal")),
                (d.join("data.db"), old.join("data.db")),
                (new.join("data.db"), d.join("data.db")),
                (new.join("auxiliary.db"), d.join("auxiliary.db")),
                (d.join("storage"), old.join("storage")),
                (new.join("storage"), d.join("storage")),
            ];
            for (from, to) in steps.iter().take(crash_after) {
                fs::rename(from, to).unwrap();
            }
            recover(d).unwrap();
            assert_new(d);
        }
    }
}
