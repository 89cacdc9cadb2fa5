//! `--hooksWatch`: the server restarts when a file of `pb_hooks` changes (PocketBase's flag of
//! that name, for development). A poll of the folder's listing every half second — names, sizes
//! and modification times — needs no file-system notification API and sees editors that replace
//! files as well as those that write them in place.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What is watched of the folder: each `*.pb.js` file's name, size and modification time.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".pb.js"))
                .filter_map(|e| {
                    let meta = e.metadata().ok()?;
                    Some((e.path(), meta.len(), meta.modified().ok()))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Resolves once a `*.pb.js` file of `dir` is added, changed or removed.
pub(crate) async fn changed(dir: PathBuf) {
    let first = fingerprint(&dir);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let dir = dir.clone();
        let now = tokio::task::spawn_blocking(move || fingerprint(&dir))
            .await
            .unwrap_or_default();
        if now != first {
            return;
        }
    }
}

/// Replaces this process with a new run of the same command line (the data dir's lock and the
/// socket close with the old one); returns only if that fails.
#[cfg(unix)]
pub(crate) fn restart() -> String {
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args_os();
    let exe = std::env::current_exe()
        .map(PathBuf::into_os_string)
        .unwrap_or_else(|_| args.next().unwrap_or_default());
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .exec();
    format!("cannot restart: {err}")
}

#[cfg(not(unix))]
pub(crate) fn restart() -> String {
    "restarting on a change of pb_hooks needs a Unix system".into()
}
