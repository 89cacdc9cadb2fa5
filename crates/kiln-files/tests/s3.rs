//! The S3 store against a real S3-compatible server (moto, see `support`), which checks every
//! request's signature. These tests fail, not skip, when moto is missing.

mod support;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{stream, StreamExt, TryStreamExt};
use kiln_files::{S3Config, S3Tuning, Storage, StorageError};
use support::Moto;

const KEY: &str = "pbc_123/abc123def456ghi/photo_k2j3h4g5f6.png";

/// Keys that exercise the canonical URI encoding (spaces, `+`, `$`, `&`, `=`, unicode, …).
const ODD_KEYS: &[&str] = &[
    "pbc_1/rec 1/a b.txt",
    "pbc_1/rec1/plus+and$dollar&amp=eq;semi,comma@at:colon!(paren)'q'*star.txt",
    "pbc_1/rec1/ünïcödé 日本.png",
    "pbc_1/rec1/percent%20literal~tilde.txt",
];

async fn read_all(storage: &Storage, key: &str, range: Option<(u64, Option<u64>)>) -> Bytes {
    storage
        .get(key, range)
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap()
}

async fn exercise(storage: &Storage) {
    // put_bytes, head, get.
    let before = SystemTime::now() - Duration::from_secs(5);
    storage
        .put_bytes(KEY, Bytes::from_static(b"0123456789"), "image/png")
        .await
        .unwrap();
    let meta = storage.head(KEY).await.unwrap().expect("stored");
    assert_eq!(meta.size, 10);
    assert_eq!(meta.content_type, "image/png");
    assert!(
        meta.etag.starts_with('"') && meta.etag.len() > 2,
        "{}",
        meta.etag
    );
    assert!(
        meta.modified.is_some_and(|m| m > before),
        "{:?}",
        meta.modified
    );
    let object = storage.get(KEY, None).await.unwrap();
    assert_eq!(object.range, None);
    assert_eq!(object.meta, meta);
    assert_eq!(object.into_bytes().await.unwrap(), "0123456789");

    // Ranges.
    for (range, served, bytes) in [
        ((0, Some(0)), (0, 0), "0"),
        ((2, Some(5)), (2, 5), "2345"),
        ((7, None), (7, 9), "789"),
        ((9, Some(1000)), (9, 9), "9"),
    ] {
        let part = storage.get(KEY, Some(range)).await.unwrap();
        assert_eq!(part.range, Some(served), "{range:?}");
        assert_eq!(part.meta.size, 10, "total size, not the range's");
        assert_eq!(part.meta.content_type, "image/png");
        assert_eq!(part.into_bytes().await.unwrap(), bytes, "{range:?}");
    }
    for bad in [(10, None), (11, Some(20)), (5, Some(4))] {
        assert_eq!(
            storage.get(KEY, Some(bad)).await.unwrap_err(),
            StorageError::InvalidRange { size: 10 },
            "{bad:?}"
        );
    }

    // Overwrite.
    storage
        .put_bytes(KEY, Bytes::from_static(b"new"), "text/plain")
        .await
        .unwrap();
    let meta2 = storage.head(KEY).await.unwrap().unwrap();
    assert_eq!((meta2.size, meta2.content_type.as_str()), (3, "text/plain"));
    assert_ne!(meta2.etag, meta.etag);
    assert_eq!(read_all(storage, KEY, None).await, "new");

    // An empty content type is sent as application/octet-stream.
    storage
        .put_bytes("pbc_1/x/empty", Bytes::new(), "")
        .await
        .unwrap();
    let empty = storage.head("pbc_1/x/empty").await.unwrap().unwrap();
    assert_eq!(
        (empty.size, empty.content_type.as_str()),
        (0, "application/octet-stream")
    );
    assert_eq!(read_all(storage, "pbc_1/x/empty", None).await, "");

    // Keys that need encoding.
    for key in ODD_KEYS {
        storage
            .put_bytes(key, Bytes::from(key.as_bytes().to_vec()), "text/plain")
            .await
            .unwrap();
        assert_eq!(read_all(storage, key, None).await, key.as_bytes(), "{key}");
        assert_eq!(
            storage.head(key).await.unwrap().unwrap().size,
            key.len() as u64,
            "{key}"
        );
        storage.delete(key).await.unwrap();
        assert_eq!(storage.head(key).await.unwrap(), None, "{key}");
    }

    // put_file streams a file up; the source stays.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("upload.bin");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    storage
        .put_file("pbc_1/rec/file.bin", &src, "application/x-test")
        .await
        .unwrap();
    assert!(src.exists());
    let meta = storage.head("pbc_1/rec/file.bin").await.unwrap().unwrap();
    assert_eq!(
        (meta.size, meta.content_type.as_str()),
        (3_000_000, "application/x-test")
    );
    assert!(
        read_all(storage, "pbc_1/rec/file.bin", None).await == data,
        "file content differs"
    );
    assert!(
        read_all(
            storage,
            "pbc_1/rec/file.bin",
            Some((1_000_000, Some(1_999_999)))
        )
        .await
            == data[1_000_000..2_000_000],
        "file range differs"
    );

    // Delete; a missing key is fine; a missing object is NotFound / None.
    storage.delete(KEY).await.unwrap();
    storage.delete(KEY).await.unwrap();
    assert_eq!(storage.head(KEY).await.unwrap(), None);
    assert_eq!(
        storage.get(KEY, None).await.unwrap_err(),
        StorageError::NotFound
    );
    assert_eq!(
        storage.get(KEY, Some((0, Some(1)))).await.unwrap_err(),
        StorageError::NotFound
    );

    // delete_prefix: a record folder with thumbnails, not its neighbours.
    for key in [
        "pbc_2/rec/a.png",
        "pbc_2/rec/thumbs_a.png/100x100_a.png",
        "pbc_2/rec/thumbs_a.png/0x50_a.png",
        "pbc_2/rec2/keep.png",
        "pbc_2/recX/keep.png",
    ] {
        storage
            .put_bytes(key, Bytes::from_static(b"x"), "image/png")
            .await
            .unwrap();
    }
    storage.delete_prefix("pbc_2/rec/").await.unwrap();
    for gone in [
        "pbc_2/rec/a.png",
        "pbc_2/rec/thumbs_a.png/100x100_a.png",
        "pbc_2/rec/thumbs_a.png/0x50_a.png",
    ] {
        assert_eq!(storage.head(gone).await.unwrap(), None, "{gone}");
    }
    for kept in ["pbc_2/rec2/keep.png", "pbc_2/recX/keep.png"] {
        assert!(storage.head(kept).await.unwrap().is_some(), "{kept}");
    }
    storage.delete_prefix("pbc_nothing/").await.unwrap();

    // check.
    storage.check().await.unwrap();

    // Invalid keys are refused before any request.
    for key in ["../x", "/x", "a//b", "a\\b"] {
        assert!(
            matches!(
                storage.get(key, None).await,
                Err(StorageError::InvalidKey(_))
            ),
            "{key}"
        );
    }
}

#[tokio::test]
async fn path_style_round_trips() {
    let moto = Moto::start("kiln-path").await;
    exercise(&moto.storage(S3Tuning::default())).await;
}

#[tokio::test]
async fn virtual_host_style_round_trips() {
    let moto = Moto::start("kiln-vhost").await;
    let storage = moto.virtual_host_storage();
    exercise(&storage).await;
    // The objects really are in that bucket: a path-style store sees them.
    storage
        .put_bytes("v/1.txt", Bytes::from_static(b"v"), "text/plain")
        .await
        .unwrap();
    let path_style = moto.storage(S3Tuning::default());
    assert_eq!(read_all(&path_style, "v/1.txt", None).await, "v");
}

#[tokio::test]
async fn multipart_upload_above_the_threshold() {
    let moto = Moto::start("kiln-multipart").await;
    let tuning = S3Tuning {
        multipart_threshold: 8 << 20,
        part_size: 5 << 20,
        ..S3Tuning::default()
    };
    let storage = moto.storage(tuning);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    // 3 parts: 5 MiB, 5 MiB, 3 MiB + 3 bytes.
    let data: Vec<u8> = (0..(13 << 20) + 3u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&src, &data).unwrap();
    storage
        .put_file("pbc_1/rec/big.bin", &src, "video/mp4")
        .await
        .unwrap();
    let meta = storage.head("pbc_1/rec/big.bin").await.unwrap().unwrap();
    assert_eq!(
        (meta.size, meta.content_type.as_str()),
        (data.len() as u64, "video/mp4")
    );
    // A multipart ETag is "<md5 of the part md5s>-<parts>".
    assert!(meta.etag.trim_matches('"').ends_with("-3"), "{}", meta.etag);
    assert!(
        read_all(&storage, "pbc_1/rec/big.bin", None).await == data,
        "content differs"
    );
    let tail = read_all(&storage, "pbc_1/rec/big.bin", Some(((10 << 20) - 2, None))).await;
    assert!(tail == data[(10 << 20) - 2..], "range across parts differs");
}

#[tokio::test]
async fn delete_prefix_follows_list_pages() {
    let moto = Moto::start("kiln-pages").await;
    let storage = moto.storage(S3Tuning {
        list_page_size: 7,
        ..S3Tuning::default()
    });
    let keys: Vec<String> = (0..30)
        .map(|i| {
            format!(
                "pbc_1/rec/{}file_{i:02}.txt",
                if i % 3 == 0 { "thumbs_x/" } else { "" }
            )
        })
        .collect();
    for key in &keys {
        storage
            .put_bytes(key, Bytes::from_static(b"x"), "text/plain")
            .await
            .unwrap();
    }
    storage
        .put_bytes("pbc_1/rec_other/keep.txt", Bytes::from_static(b"k"), "")
        .await
        .unwrap();
    let listed = match &storage {
        Storage::S3(s3) => s3.list_keys("pbc_1/rec/").await.unwrap(),
        Storage::Local(_) => unreachable!(),
    };
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected, "5 pages of 7 (and 2) keys");
    storage.delete_prefix("pbc_1/rec/").await.unwrap();
    for key in &keys {
        assert_eq!(storage.head(key).await.unwrap(), None, "{key}");
    }
    assert!(storage
        .head("pbc_1/rec_other/keep.txt")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn delete_prefix_with_more_than_1000_keys() {
    let moto = Moto::start("kiln-thousand").await;
    let storage = moto.storage(S3Tuning::default());
    let keys: Vec<String> = (0..1010)
        .map(|i| format!("pbc_1/rec/thumbs_x/{i:04}.png"))
        .collect();
    stream::iter(keys.iter())
        .map(|key| storage.put_bytes(key, Bytes::from_static(b"x"), "image/png"))
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
    storage
        .put_bytes("pbc_1/keep.png", Bytes::from_static(b"k"), "")
        .await
        .unwrap();
    let Storage::S3(s3) = &storage else {
        unreachable!()
    };
    assert_eq!(
        s3.list_keys("pbc_1/rec/").await.unwrap().len(),
        1010,
        "two pages of up to 1000"
    );
    storage.delete_prefix("pbc_1/rec/").await.unwrap();
    assert_eq!(s3.list_keys("pbc_1/").await.unwrap(), ["pbc_1/keep.png"]);
}

#[tokio::test]
async fn errors_are_precise() {
    let moto = Moto::start("kiln-errors").await;

    // A wrong secret: moto recomputes the signature and refuses.
    let wrong_secret = Storage::s3(S3Config {
        secret: "not-the-secret".into(),
        ..moto.config()
    })
    .unwrap();
    match wrong_secret
        .put_bytes("a.txt", Bytes::from_static(b"x"), "")
        .await
    {
        Err(StorageError::S3 {
            status: 403, code, ..
        }) => assert_eq!(code, "SignatureDoesNotMatch"),
        other => panic!("expected SignatureDoesNotMatch, got {other:?}"),
    }
    match wrong_secret.check().await {
        Err(StorageError::S3 { status: 403, .. }) => {}
        other => panic!("expected a 403 from check, got {other:?}"),
    }

    // An unknown access key.
    let unknown = Storage::s3(S3Config {
        access_key: "AKIAUNKNOWN000000000".into(),
        ..moto.config()
    })
    .unwrap();
    match unknown.head("a.txt").await {
        Err(StorageError::S3 { status: 403, .. }) => {}
        other => panic!("expected a 403, got {other:?}"),
    }

    // A missing bucket is not a missing object.
    let no_bucket = Storage::s3(S3Config {
        bucket: "no-such-bucket".into(),
        ..moto.config()
    })
    .unwrap();
    match no_bucket.get("a.txt", None).await {
        Err(StorageError::S3 {
            status: 404, code, ..
        }) => assert_eq!(code, "NoSuchBucket"),
        other => panic!("expected NoSuchBucket, got {other:?}"),
    }
    match no_bucket.check().await {
        Err(StorageError::S3 {
            status: 404, code, ..
        }) => assert_eq!(code, "NoSuchBucket"),
        other => panic!("expected NoSuchBucket from check, got {other:?}"),
    }

    // Nothing listens: a network error, quickly.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody = Storage::s3(S3Config {
        endpoint: format!("http://127.0.0.1:{closed_port}"),
        ..moto.config()
    })
    .unwrap();
    assert!(matches!(
        nobody.check().await,
        Err(StorageError::Network(_))
    ));

    // The right credentials work.
    moto.storage(S3Tuning::default()).check().await.unwrap();
}
