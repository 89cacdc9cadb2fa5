//! The local disk store through the public API.

use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;
use kiln_files::{Storage, StorageError, CHUNK_SIZE};

const KEY: &str = "pbc_123/abc123def456ghi/photo_k2j3h4g5f6.png";
const THUMB: &str =
    "pbc_123/abc123def456ghi/thumbs_photo_k2j3h4g5f6.png/100x100_photo_k2j3h4g5f6.png";

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn round_trip_with_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path().join("storage"));
    storage
        .put_bytes(KEY, Bytes::from_static(b"0123456789"), "image/png")
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("storage").join(KEY)).unwrap(),
        b"0123456789"
    );

    let meta = storage.head(KEY).await.unwrap().unwrap();
    assert_eq!(meta.size, 10);
    assert_eq!(meta.content_type, "");
    assert!(meta.modified.is_some());
    assert!(
        meta.etag.starts_with("\"a-") && meta.etag.ends_with('"'),
        "{}",
        meta.etag
    );

    let whole = storage.get(KEY, None).await.unwrap();
    assert_eq!(whole.range, None);
    assert_eq!(whole.content_length(), 10);
    assert_eq!(whole.meta, meta);
    assert_eq!(whole.into_bytes().await.unwrap(), "0123456789");

    for (range, served, bytes) in [
        ((0, Some(0)), (0, 0), "0"),
        ((2, Some(5)), (2, 5), "2345"),
        ((7, None), (7, 9), "789"),
        ((9, Some(1000)), (9, 9), "9"),
    ] {
        let part = storage.get(KEY, Some(range)).await.unwrap();
        assert_eq!(part.range, Some(served), "{range:?}");
        assert_eq!(part.meta.size, 10);
        assert_eq!(part.content_length(), bytes.len() as u64);
        assert_eq!(part.into_bytes().await.unwrap(), bytes, "{range:?}");
    }
    for bad in [(10, None), (11, Some(20)), (5, Some(4))] {
        assert_eq!(
            storage.get(KEY, Some(bad)).await.unwrap_err(),
            StorageError::InvalidRange { size: 10 },
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn missing_objects() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path());
    assert_eq!(
        storage.get("a/b.txt", None).await.unwrap_err(),
        StorageError::NotFound
    );
    assert_eq!(storage.head("a/b.txt").await.unwrap(), None);
    storage.delete("a/b.txt").await.unwrap();
    storage.delete_prefix("a/").await.unwrap();
    // A directory is not an object; a file used as a directory makes the key missing too.
    storage
        .put_bytes("a/b/c.txt", Bytes::from_static(b"x"), "")
        .await
        .unwrap();
    assert_eq!(
        storage.get("a/b", None).await.unwrap_err(),
        StorageError::NotFound
    );
    assert_eq!(storage.head("a/b").await.unwrap(), None);
    storage.delete("a/b").await.unwrap();
    assert_eq!(
        storage.get("a/b/c.txt/d", None).await.unwrap_err(),
        StorageError::NotFound
    );
    assert_eq!(storage.head("a/b/c.txt/d").await.unwrap(), None);
    assert_eq!(
        storage
            .get("a/b/c.txt", None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap(),
        "x"
    );
}

#[tokio::test]
async fn empty_objects() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path());
    storage.put_bytes("e", Bytes::new(), "").await.unwrap();
    let object = storage.get("e", None).await.unwrap();
    assert_eq!(object.meta.size, 0);
    assert_eq!(object.into_bytes().await.unwrap(), "");
    assert_eq!(
        storage.get("e", Some((0, None))).await.unwrap_err(),
        StorageError::InvalidRange { size: 0 }
    );
}

#[tokio::test]
async fn traversal_is_impossible() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("storage");
    let storage = Storage::local(&root);
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    let src = dir.path().join("upload.bin");
    for key in [
        "../secret.txt",
        "a/../../secret.txt",
        "/etc/passwd",
        "..\\secret.txt",
        "a/./b",
        "a//b",
        "",
        "a\0b",
        "a/",
        "..",
    ] {
        assert!(
            matches!(
                storage.get(key, None).await,
                Err(StorageError::InvalidKey(_))
            ),
            "get {key:?}"
        );
        assert!(
            matches!(storage.head(key).await, Err(StorageError::InvalidKey(_))),
            "head {key:?}"
        );
        assert!(
            matches!(storage.delete(key).await, Err(StorageError::InvalidKey(_))),
            "delete {key:?}"
        );
        assert!(
            matches!(
                storage.put_bytes(key, Bytes::from_static(b"x"), "").await,
                Err(StorageError::InvalidKey(_))
            ),
            "put_bytes {key:?}"
        );
        std::fs::write(&src, "x").unwrap();
        assert!(
            matches!(
                storage.put_file(key, &src, "").await,
                Err(StorageError::InvalidKey(_))
            ),
            "put_file {key:?}"
        );
    }
    for prefix in ["", "/", "../", "..", "a/../..", "/tmp/"] {
        assert!(
            matches!(
                storage.delete_prefix(prefix).await,
                Err(StorageError::InvalidKey(_))
            ),
            "delete_prefix {prefix:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secret.txt")).unwrap(),
        "secret"
    );
    assert!(!root.exists(), "nothing may have been created");
}

#[tokio::test]
async fn overwrites_are_atomic_and_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let storage = Storage::local(&root);
    storage
        .put_bytes(KEY, Bytes::from(vec![b'a'; 300_000]), "")
        .await
        .unwrap();
    // A reader that opened the old version keeps reading it, whole.
    let old = storage.get(KEY, None).await.unwrap();
    let writers: Vec<_> = (0..8u8)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                storage
                    .put_bytes(
                        KEY,
                        Bytes::from(vec![b'b' + i; 200_000 + usize::from(i)]),
                        "",
                    )
                    .await
            })
        })
        .collect();
    // Meanwhile every read sees one complete version.
    for _ in 0..20 {
        let data = storage
            .get(KEY, None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap();
        let first = data[0];
        assert!(data.iter().all(|&b| b == first), "a torn file");
        let expected = if first == b'a' {
            300_000
        } else {
            200_000 + usize::from(first - b'b')
        };
        assert_eq!(data.len(), expected);
    }
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let old = old.into_bytes().await.unwrap();
    assert!(old.len() == 300_000 && old.iter().all(|&b| b == b'a'));
    let files = files_under(&root);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("photo_k2j3h4g5f6.png"));
}

#[tokio::test]
async fn put_file_renames_on_the_same_file_system() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path().join("s"));
    let src = dir.path().join("upload.tmp");
    std::fs::write(&src, b"uploaded").unwrap();
    storage.put_file(KEY, &src, "image/png").await.unwrap();
    assert!(!src.exists(), "the upload was moved into place");
    assert_eq!(
        storage
            .get(KEY, None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap(),
        "uploaded"
    );
    // Replacing works the same way.
    std::fs::write(&src, b"second").unwrap();
    storage.put_file(KEY, &src, "").await.unwrap();
    assert_eq!(
        storage
            .get(KEY, None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap(),
        "second"
    );
    let missing = storage
        .put_file(KEY, &dir.path().join("nope"), "")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StorageError::Io(ref m) if m.contains("nope")),
        "{missing:?}"
    );
}

#[tokio::test]
async fn put_file_copies_across_file_systems() {
    // /dev/shm is a tmpfs on Linux: a rename from there to the temp dir fails with EXDEV.
    let shm = Path::new("/dev/shm");
    assert!(shm.is_dir(), "this test needs /dev/shm");
    let src_dir = tempfile::tempdir_in(shm).unwrap();
    let src = src_dir.path().join("upload.tmp");
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path().join("s"));
    storage.put_file(KEY, &src, "").await.unwrap();
    assert!(src.exists(), "a copy leaves the source");
    assert!(
        storage
            .get(KEY, None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap()
            == data
    );
    assert_eq!(files_under(&dir.path().join("s")).len(), 1);
}

#[tokio::test]
async fn delete_removes_the_file_and_empty_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let storage = Storage::local(&root);
    storage
        .put_bytes(KEY, Bytes::from_static(b"1"), "")
        .await
        .unwrap();
    storage
        .put_bytes("pbc_123/other/x.txt", Bytes::from_static(b"2"), "")
        .await
        .unwrap();
    storage.delete(KEY).await.unwrap();
    assert_eq!(storage.head(KEY).await.unwrap(), None);
    assert!(
        !root.join("pbc_123/abc123def456ghi").exists(),
        "emptied directory pruned"
    );
    assert!(root.join("pbc_123/other/x.txt").exists());
    storage.delete("pbc_123/other/x.txt").await.unwrap();
    assert!(!root.join("pbc_123").exists());
    assert!(root.exists(), "the root stays");
}

#[tokio::test]
async fn delete_prefix_removes_a_record_with_its_thumbnails() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let storage = Storage::local(&root);
    for key in [
        KEY,
        THUMB,
        "pbc_123/abc123def456ghi/thumbs_photo_k2j3h4g5f6.png/0x50_photo_k2j3h4g5f6.png",
        "pbc_123/abc123def456ghi/doc_aaaaaaaaaa.pdf",
        "pbc_123/abc123def456ghj/keep.txt",
        "pbc_123/abc123def456ghi-sibling/keep.txt",
        "pbc_999/abc123def456ghi/keep.txt",
    ] {
        storage
            .put_bytes(key, Bytes::from_static(b"x"), "")
            .await
            .unwrap();
    }
    storage
        .delete_prefix("pbc_123/abc123def456ghi/")
        .await
        .unwrap();
    let left: Vec<String> = files_under(&root)
        .into_iter()
        .map(|p| {
            p.strip_prefix(&format!("{}/", root.display()))
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        left,
        [
            "pbc_123/abc123def456ghi-sibling/keep.txt",
            "pbc_123/abc123def456ghj/keep.txt",
            "pbc_999/abc123def456ghi/keep.txt"
        ]
    );
    assert!(!root.join("pbc_123/abc123def456ghi").exists());

    // A prefix that is not a folder: the matching names of its directory, like S3.
    for key in [
        "c/r/photo_1.png",
        "c/r/photo_2.png",
        "c/r/thumbs_photo_1.png/10x10_photo_1.png",
        "c/r/other.png",
    ] {
        storage
            .put_bytes(key, Bytes::from_static(b"x"), "")
            .await
            .unwrap();
    }
    storage.delete_prefix("c/r/photo_").await.unwrap();
    assert_eq!(storage.head("c/r/photo_1.png").await.unwrap(), None);
    assert_eq!(storage.head("c/r/photo_2.png").await.unwrap(), None);
    assert!(storage
        .head("c/r/thumbs_photo_1.png/10x10_photo_1.png")
        .await
        .unwrap()
        .is_some());
    assert!(storage.head("c/r/other.png").await.unwrap().is_some());
    storage.delete_prefix("c/r/thumbs_").await.unwrap();
    assert!(!root.join("c/r/thumbs_photo_1.png").exists());
    storage.delete_prefix("c/r/other").await.unwrap();
    assert!(!root.join("c").exists(), "emptied directories pruned");
}

#[tokio::test]
async fn delete_prefix_does_not_follow_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("precious.txt"), "keep").unwrap();
    let root = dir.path().join("s");
    let storage = Storage::local(&root);
    storage
        .put_bytes("c/r/a.txt", Bytes::from_static(b"x"), "")
        .await
        .unwrap();
    std::os::unix::fs::symlink(&outside, root.join("c/r/link")).unwrap();
    storage.delete_prefix("c/r/").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(outside.join("precious.txt")).unwrap(),
        "keep"
    );
    assert!(!root.join("c/r").exists());
}

#[tokio::test]
async fn bodies_stream_in_bounded_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path());
    let data: Vec<u8> = (0..(3 * CHUNK_SIZE + 123))
        .map(|i| (i % 253) as u8)
        .collect();
    storage
        .put_bytes("big.bin", Bytes::from(data.clone()), "")
        .await
        .unwrap();
    let mut object = storage.get("big.bin", Some((100, None))).await.unwrap();
    let mut sizes = Vec::new();
    let mut got = Vec::new();
    while let Some(chunk) = object.body.next().await {
        let chunk = chunk.unwrap();
        sizes.push(chunk.len());
        got.extend_from_slice(&chunk);
    }
    assert!(got == data[100..], "range content differs");
    assert!(sizes.iter().all(|&s| s <= CHUNK_SIZE), "{sizes:?}");
    assert_eq!(sizes.len(), 4);
}

#[tokio::test]
async fn check_writes_reads_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("not-yet");
    let storage = Storage::local(&root);
    storage.check().await.unwrap();
    assert!(root.is_dir());
    assert_eq!(
        files_under(&root),
        Vec::<String>::new(),
        "the test object is gone"
    );

    // A root that cannot be created fails with the reason.
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let err = Storage::local(file.join("sub")).check().await.unwrap_err();
    assert!(matches!(err, StorageError::Io(_)), "{err:?}");
}
