//! PocketBase's backup archive: a zip of the data dir — `data.db` and `auxiliary.db` as
//! consistent snapshots, then every other file (the stored files under `storage/`) — without
//! the backups themselves, temporary files, the lock and the databases' journals.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Entries of the data dir that never go into an archive, nor are replaced by a restore.
pub(crate) const EXCLUDED: &[&str] = &[
    super::state::BACKUPS_DIR,
    super::state::RESTORE_DIR,
    ".tmp",
    "kiln.lock",
    ".kiln_write_test",
    ".pb_temp_to_delete",
    ".autocert_cache",
    "lost+found",
];

/// The databases and their journals: archived as snapshots, never copied as they are.
pub(crate) const DATABASES: &[&str] = &[
    "data.db",
    "data.db-wal",
    "data.db-shm",
    "auxiliary.db",
    "auxiliary.db-wal",
    "auxiliary.db-shm",
];

/// Limits of an archive being extracted: it comes from an upload.
const MAX_ENTRIES: usize = 10_000_000;

fn options() -> SimpleFileOptions {
    // PocketBase's: deflate at its fastest level.
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true)
}

fn zip_err(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

/// Writes an archive at `target` of the database snapshots `snapshots` ((name in the archive,
/// file)) and every other file of `data_dir`.
pub(crate) fn create(
    target: &Path,
    snapshots: &[(&str, PathBuf)],
    data_dir: &Path,
) -> io::Result<()> {
    let mut zip = ZipWriter::new(BufWriter::new(File::create(target)?));
    for (name, path) in snapshots {
        zip.start_file(*name, options()).map_err(zip_err)?;
        io::copy(&mut File::open(path)?, &mut zip)?;
    }
    add_dir(&mut zip, data_dir, "")?;
    let mut out = zip.finish().map_err(zip_err)?;
    io::Write::flush(&mut out)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

fn add_dir(zip: &mut ZipWriter<BufWriter<File>>, dir: &Path, prefix: &str) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if prefix.is_empty()
            && (EXCLUDED.contains(&name.as_str()) || DATABASES.contains(&name.as_str()))
        {
            continue;
        }
        let path = format!("{prefix}{name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            add_dir(zip, &entry.path(), &format!("{path}/"))?;
        } else if kind.is_file() {
            // A file removed since the listing (a temporary one) is simply not archived.
            let Ok(mut f) = File::open(entry.path()) else {
                continue;
            };
            zip.start_file(path, options()).map_err(zip_err)?;
            io::copy(&mut f, zip)?;
        }
    }
    Ok(())
}

/// Extracts the archive `zip` into the new directory `into`. Entries that would land outside
/// it (`../`, absolute paths) and links are refused.
pub(crate) fn extract(zip: &Path, into: &Path) -> io::Result<()> {
    let mut archive = ZipArchive::new(File::open(zip)?).map_err(zip_err)?;
    if archive.len() > MAX_ENTRIES {
        return Err(io::Error::other("the archive has too many entries"));
    }
    std::fs::create_dir_all(into)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(io::Error::other(format!(
                "the archive entry {:?} points outside the data dir",
                entry.name()
            )));
        };
        if entry.is_symlink() {
            return Err(io::Error::other(format!(
                "the archive entry {:?} is a link",
                entry.name()
            )));
        }
        let path = into.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&path)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = File::create(&path)?;
        io::copy(&mut entry, &mut out)?;
        out.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive holding `entries` ((name, content)), as an uploaded backup could.
    fn archive(dir: &Path, entries: &[(&str, &str)]) -> PathBuf {
        let path = dir.join("upload.zip");
        let mut zip = ZipWriter::new(File::create(&path).unwrap());
        for (name, content) in entries {
            zip.start_file(*name, options()).unwrap();
            io::Write::write_all(&mut zip, content.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    #[test]
    fn entries_outside_the_target_are_refused() {
        for evil in ["../escaped.txt", "storage/../../escaped.txt"] {
            let dir = tempfile::tempdir().unwrap();
            let zip = archive(dir.path(), &[("data.db", "x"), (evil, "gotcha")]);
            let into = dir.path().join("out");
            assert!(extract(&zip, &into).is_err(), "{evil} was extracted");
            assert!(!dir.path().join("escaped.txt").exists());
        }
    }

    #[test]
    fn absolute_entries_land_inside_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        let name = outside.to_str().unwrap().to_owned();
        let zip = archive(dir.path(), &[("data.db", "x"), (name.as_str(), "gotcha")]);
        let into = dir.path().join("out");
        extract(&zip, &into).unwrap();
        assert!(
            !outside.exists(),
            "an absolute entry was written where it points"
        );
        let inside = into.join(name.trim_start_matches('/'));
        assert_eq!(std::fs::read_to_string(inside).unwrap(), "gotcha");
    }

    #[test]
    fn an_archive_round_trips_without_the_excluded_entries() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        for (p, c) in [
            ("data.db", "live db"),
            ("data.db-wal", "journal"),
            ("storage/c1/r1/a.txt", "a file"),
            ("backups/old.zip", "an older backup"),
            ("kiln.lock", ""),
            (".tmp/upload_x", "temporary"),
        ] {
            let path = data.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, c).unwrap();
        }
        let snapshot = dir.path().join("snap.db");
        std::fs::write(&snapshot, "snapshot db").unwrap();
        let zip = dir.path().join("b.zip");
        create(&zip, &[("data.db", snapshot)], &data).unwrap();
        let out = dir.path().join("out");
        extract(&zip, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("data.db")).unwrap(),
            "snapshot db"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("storage/c1/r1/a.txt")).unwrap(),
            "a file"
        );
        for gone in ["data.db-wal", "backups", "kiln.lock", ".tmp"] {
            assert!(!out.join(gone).exists(), "{gone} was archived");
        }
    }
}
